#!/usr/bin/env python3
"""md2man: the man pages from the markdown they are written in (docs/man/*.md, and conf/README.md
for directord.conf(5), whose tables the unit tests hold equal to the config schema), so a page
cannot drift from its source. Handles the markdown those files use: headings, paragraphs, lists,
pipe tables (each row becomes a tagged paragraph: the first cell is the tag, the others follow
with their column names), fenced code, `code`, **bold**, *emphasis* and [links](url).

    md2man.py SOURCE.md OUT NAME SECTION "one-line description"
"""
import re
import sys

DATE = "2026-12"
SOURCE = "directord"


def escape(text):
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    return text


def inline(text):
    """Markdown inline markup to roff font changes, everything else escaped."""
    out = []
    pos = 0
    pattern = re.compile(r"\*\*([^*]+)\*\*|`([^`]+)`|(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])|\[([^\]]+)\]\(([^)]+)\)")
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + escape(m.group(1).replace("`", "")) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + escape(m.group(2)) + "\\fR")
        elif m.group(3) is not None:
            out.append("\\fI" + escape(m.group(3)) + "\\fR")
        else:
            out.append(escape(m.group(4)) + " (" + escape(m.group(5)) + ")")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def line_safe(roff):
    """A line of text must not start with a control character."""
    return "\\&" + roff if roff.startswith((".", "'")) else roff


def cells(row):
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|"):
        row = row[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)]


def convert(lines, name, section, description):
    out = [f'.TH {name.upper()} {section} "{DATE}" "{SOURCE}" "{SOURCE} manual"', ".SH NAME",
           f"{escape(name)} \\- {escape(description)}"]
    i = 0
    para = []

    def flush():
        if para:
            out.append(".PP")
            out.append(line_safe(inline(" ".join(para))))
            para.clear()

    while i < len(lines):
        line = lines[i].rstrip("\n")
        if line.startswith("```"):
            flush()
            out.append(".PP")
            out.append(".nf")
            out.append(".RS 4")
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line_safe(escape(lines[i].rstrip("\n"))))
                i += 1
            out.append(".RE")
            out.append(".fi")
        elif m := re.match(r"^(#+)\s+(.*)$", line):
            flush()
            level, text = len(m.group(1)), m.group(2)
            if level == 1:
                # the page's own text before its first section is its description
                j = i + 1
                while j < len(lines) and not lines[j].strip():
                    j += 1
                if j < len(lines) and not lines[j].startswith("#"):
                    out.append(".SH DESCRIPTION")
            elif level == 2:
                out.append(".SH " + inline(text.upper() if not text.startswith("`") else text))
            else:
                out.append(".SS " + inline(text))
        elif line.startswith("|"):
            flush()
            header = cells(line)
            i += 1
            if i < len(lines) and re.match(r"^\|[\s:|-]+\|?$", lines[i].strip()):
                i += 1
            while i < len(lines) and lines[i].startswith("|"):
                row = cells(lines[i])
                out.append(".TP")
                out.append(line_safe(inline(row[0]) or "\\&"))
                rest = []
                for h, c in zip(header[1:], row[1:]):
                    if c and h.lower() not in ("meaning", "from"):
                        rest.append(f"{h}: {c}")
                if rest:
                    out.append(line_safe(inline("; ".join(rest))))
                for h, c in zip(header[1:], row[1:]):
                    if c and h.lower() in ("meaning", "from"):
                        if rest:
                            out.append(".br")
                        out.append(line_safe(inline(c)))
                        rest = [c]
                if not rest:
                    out.append("\\&")
                i += 1
            continue
        elif m := re.match(r"^(\s*)[-*]\s+(.*)$", line):
            flush()
            text = [m.group(2)]
            i += 1
            while i < len(lines) and lines[i].strip() and not re.match(r"^\s*[-*]\s+", lines[i]) \
                    and lines[i].startswith("  "):
                text.append(lines[i].strip())
                i += 1
            item = " ".join(text)
            if t := re.match(r"^(`[^`]+`[^:]{0,40}?):\s+(.*)$", item):
                # "`-s`, `--socket PATH`: what it does": an option list, tagged
                out.append(".TP")
                out.append(line_safe(inline(t.group(1))))
                out.append(line_safe(inline(t.group(2))))
            else:
                out.append(".IP \\(bu 2")
                out.append(line_safe(inline(item)))
            continue
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return "\n".join(out) + "\n"


def main():
    src, dst, name, section, description = sys.argv[1:]
    with open(src) as f:
        lines = f.readlines()
    text = convert(lines, name, section, description)
    with open(dst, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
