"""A reader for libconfig text as `directord --dump-config` prints it (groups, lists, arrays,
strings, numbers, booleans), so a test can look at the configuration directord resolved without a
libconfig binding for Python."""
import re

_TOKEN = re.compile(r'''\s*(?:
    (?P<comment>(\#|//)[^\n]*|/\*.*?\*/) |
    (?P<string>"(?:[^"\\]|\\.)*") |
    (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)L{0,2}) |
    (?P<bool>true|false|TRUE|FALSE|True|False)\b |
    (?P<name>[A-Za-z*][-A-Za-z0-9_*]*) |
    (?P<punct>[{}()\[\]=:;,])
)''', re.VERBOSE | re.DOTALL)


def _tokens(text):
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                return
            raise ValueError(f"libconfig: cannot read at offset {pos}: {text[pos:pos + 30]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "comment":
            continue
        yield kind, m.group(kind)


class _Reader:
    def __init__(self, text):
        self.toks = list(_tokens(text))
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise ValueError(f"libconfig: expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def settings(self, end):
        out = {}
        while self.peek()[1] != end:
            kind, name = self.take()
            if kind != "name":
                raise ValueError(f"libconfig: expected a setting name, got {name!r}")
            self.take() if self.peek()[1] in ("=", ":") else None
            out[name] = self.value()
            while self.peek()[1] in (";", ","):
                self.take()
        return out

    def value(self):
        kind, tok = self.take()
        if kind == "string":
            s = bytes(tok[1:-1], "utf-8").decode("unicode_escape")
            while self.peek()[0] == "string":  # adjacent strings join
                s += bytes(self.take()[1][1:-1], "utf-8").decode("unicode_escape")
            return s
        if kind == "number":
            t = tok.rstrip("L")
            if t.lower().startswith(("0x", "-0x", "+0x")):
                return int(t, 16)
            return float(t) if any(c in t for c in ".eE") else int(t)
        if kind == "bool":
            return tok.lower() == "true"
        if tok == "{":
            g = self.settings("}")
            self.take("}")
            return g
        if tok in ("(", "["):
            end = ")" if tok == "(" else "]"
            items = []
            while self.peek()[1] != end:
                items.append(self.value())
                if self.peek()[1] == ",":
                    self.take()
            self.take(end)
            return items
        raise ValueError(f"libconfig: unexpected {tok!r}")


def loads(text):
    """The settings of a libconfig document as nested dicts and lists."""
    r = _Reader(text)
    out = r.settings(None)
    return out
