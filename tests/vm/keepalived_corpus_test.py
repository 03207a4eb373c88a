#!/usr/bin/env python3
"""vm:keepalived_corpus: every keepalived.conf of the corpus, read by keepalived itself and by
directord's import, field by field (inside the IPVS VM: keepalived's checker stops without IPVS
before it would tell what it read).

The corpus: keepalived's own samples as Debian ships them (/usr/share/doc/keepalived/samples, read
where they are installed: they are keepalived's, GPL) and the real public configs committed under
tests/corpus/keepalived/ (their sources and licences in SOURCES.md there).

For each file: keepalived 2.2.7 runs it (in a network and mount namespace of its own, with a dummy
link for every interface the file names and private /tmp) until its VRRP and checker processes
have written what they read (SIGUSR1's data files); directord imports the same file, the result
must load (`--dump-config`), and dlab.kacompare puts both readings in one shape: VRRP instances
(version, interface, VRID, priority, advert, preemption, authentication, VIPs with their device,
scope and label, unicast peers, tracked interfaces and scripts with weights, sync groups) and
virtual servers (scheduler, protocol, forwarding, persistence, delay_loop, quorum, hysteresis,
sorry server, alpha/omega, inhibit, and each real server's weight, forwarding and checks with
their targets, timeouts, retries, urls, digests and status codes). Any difference fails the test,
except those listed in KNOWN below and the deliberate ones as_here() and dlab.kacompare name
(each printed with its reason; the README lists them).

Prints, per file: what the import said and the differences; then a per-keyword table of the
corpus: files using each keyword, and whether directord carries it over."""
import argparse
import collections
import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

from dlab import kacompare, libconfig

SAMPLES = "/usr/share/doc/keepalived/samples"

# (file pattern, difference pattern, why): differences known and named (README: migration).
KNOWN = []

LINK_WORDS = re.compile(r"\b(?:interface|dev|lvs_sync_daemon_interface|bind_if|default_interface|bind_dev)\s+"
                        r"([A-Za-z][\w.@-]*)")
LINK_NAMES = re.compile(r"\b((?:eth|bond|ens|eno|em|br|vlan|veth|team)\d+[\w.]*)\b")


def links_named(text):
    names = set(LINK_WORDS.findall(text)) | set(LINK_NAMES.findall(text))
    in_block = False
    for line in text.splitlines():  # track_interface { NAME [weight N] ... }
        w = line.split("#")[0].split("!")[0].split()
        if not w:
            continue
        if w[0] == "track_interface":
            in_block = True
            continue
        if in_block:
            if w[0] == "}":
                in_block = False
            elif w[0] != "{":
                names.add(w[0])
    return sorted(n.split(":")[0] for n in names if len(n.split(":")[0]) < 16 and n != "lo")


KEEPALIVED_RUN = r"""
set -e
mount -t tmpfs none /tmp
ip link set lo up
n=0
for l in $LINKS; do
  n=$((n+1))
  ip link add "$l" type dummy 2>/dev/null || true
  ip link set "$l" multicast on up
  ip addr add 10.199.$n.1/24 dev "$l"
done
keepalived -n -l -D -f "$CONF" --pid=/tmp/k.pid --vrrp_pid=/tmp/kv.pid --checkers_pid=/tmp/kc.pid \
  > /tmp/log 2>&1 &
p=$!
# USR1 only once each child that started has its handlers (its own first log line): earlier, it
# would kill the child. Each then writes what it read; wait for the files to stop growing.
want() { grep -q "Starting $1 child process" /tmp/log; }
up() { grep -q "$1" /tmp/log; }
i=0
while [ $i -lt 100 ]; do
  sleep 0.2; i=$((i+1))
  grep -q "child process" /tmp/log || continue
  want VRRP && ! up "Registering Kernel netlink reflector" && continue
  want Healthcheck && ! up "Initializing ipvs" && continue
  break
done
sleep 0.5
kill -USR1 $p 2>/dev/null || true
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
i=0; last=""
while [ $i -lt 100 ]; do
  now="$(size /tmp/keepalived.data) $(size /tmp/keepalived_check.data)"
  ok=1
  want VRRP && ! grep -q "VRRP Topology" /tmp/keepalived.data 2>/dev/null && ok=0
  want Healthcheck && ! grep -q "LVS Topology" /tmp/keepalived_check.data 2>/dev/null && ok=0
  [ $ok = 1 ] && [ "$now" = "$last" ] && break
  [ $ok = 0 ] && [ $((i % 15)) = 14 ] && kill -USR1 $p 2>/dev/null  # (not yet looping: again)
  last=$now
  sleep 0.2; i=$((i+1))
done
kill $p 2>/dev/null || true
i=0; while [ $i -lt 30 ] && kill -0 $p 2>/dev/null; do sleep 0.1; i=$((i+1)); done
for f in log keepalived.data keepalived_check.data; do
  echo "=====> $f"
  cat /tmp/$f 2>/dev/null || true
done
"""


def keepalived_reading(conf, out, again):
    text = open(conf, errors="replace").read()
    if again:  # the readings an earlier --keep run left (developing the comparison on the host)
        log, vrrp, check = (open(out + s, errors="replace").read() for s in (".log", ".vrrp", ".check"))
        return reading(vrrp, check), log
    env = dict(os.environ, LINKS=" ".join(links_named(text)), CONF=conf, PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    # its own PID namespace too: whatever keepalived leaves running dies with the shell
    r = subprocess.run(["unshare", "-mnpf", "--mount-proc", "sh", "-c", KEEPALIVED_RUN], env=env, check=True,
                       capture_output=True, text=True, errors="replace", timeout=120)
    parts, name = {}, None
    for line in r.stdout.splitlines(keepends=True):
        if line.startswith("=====> "):
            name = line.split()[1]
            parts[name] = ""
        elif name:
            parts[name] += line
    log, vrrp, check = parts.get("log", ""), parts.get("keepalived.data", ""), parts.get("keepalived_check.data", "")
    for suffix, body in ((".log", log), (".vrrp", vrrp), (".check", check)):
        with open(out + suffix, "w") as f:
            f.write(body)
    return reading(vrrp, check), log


def reading(vrrp, check):
    fixups = []
    instances, groups = kacompare.keepalived_vrrp(vrrp)
    services = kacompare.keepalived_lvs(check, fixups)
    return {"vrrp": instances, "sync_groups": groups, "services": services, "fixups": fixups}


# keepalived removes, when it loads, a check or tracked script whose program it cannot find or may
# not run (script security) on this machine: the real server is then unchecked (up), the instance
# tracks nothing. directord keeps it, and a program that cannot run fails the check (`directorctl
# -t` and `directord -t` warn about it): a deliberate difference, compared as keepalived's.
DISABLED_SCRIPT = re.compile(r"Disabling track script (\S+) since not found")
DISABLED_MISC = re.compile(r"Disabling misc script '([^']+)'.* since not found")


def as_here(ka, d, log, cfg_scripts):
    """directord's reading with what keepalived disabled on this machine taken out, and why."""
    out = []
    for name in sorted(set(DISABLED_SCRIPT.findall(log))):
        for iname, inst in d["vrrp"].items():
            if inst["track_scripts"].pop(name, None) is not None:
                out.append(f"vrrp.{iname}: track_script {name}: keepalived disabled it here (its program is not "
                           "found or may not run on this machine); directord keeps it")
    for path in sorted(set(DISABLED_MISC.findall(log))):
        for skey, svc in d["services"].items():
            for rkey, real in svc["real"].items():
                kept = [c for c in real["checks"] if not (c.startswith("script ") and path in cfg_scripts.get((skey, rkey), ""))]
                if len(kept) != len(real["checks"]):
                    out.append(f"services.{skey}.real.{rkey}: MISC_CHECK {path}: keepalived disabled it here (not "
                               "found), leaving the server unchecked; directord keeps the check, which fails")
                    real["checks"] = kept
    return out


def directord_reading(directord, conf, out):
    imp = subprocess.run([directord, "--import-keepalived", conf], capture_output=True, text=True, timeout=30)
    with open(out + ".directord.conf", "w") as f:
        f.write(imp.stdout)
    notes = [ln for ln in imp.stderr.splitlines() if not ln.startswith("directord: ")]
    dump = subprocess.run([directord, "--dump-config", "-f", out + ".directord.conf"], capture_output=True,
                          text=True, timeout=30)
    if dump.returncode != 0:
        return None, notes, dump.stderr.strip()
    cfg = libconfig.loads(dump.stdout)
    instances, groups = kacompare.directord_vrrp(cfg)
    scripts = {}
    for key, vs in zip(kacompare.directord_lvs(cfg), cfg.get("virtual_servers", [])):
        for r in vs.get("real_servers", []):
            scripts[(key, f"{kacompare._norm_addr(r['address'])}:{r['port']}")] = " ".join(
                " ".join(c["script"]) if isinstance(c.get("script"), list) else c.get("script", "")
                for c in r.get("checks", []))
    return {"vrrp": instances, "sync_groups": groups, "services": kacompare.directord_lvs(cfg),
            "scripts": scripts}, notes, ""


def keepalived_keywords(source):
    text = open(os.path.join(source, "conf/KeepalivedKeywords.cpp")).read()
    block = text[text.index("kKeywords[] = {"):]
    block = block[:block.index("};")]
    return set(re.findall(r'"([^"]+)"', block))


def keywords_used(text, known):
    used = set()
    for line in text.splitlines():
        w = line.split("#")[0].split("!")[0].split()
        if w and w[0] in known:
            used.add(w[0])
    return used


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--keep", help="keep the readings in this directory")
    ap.add_argument("--again", action="store_true",
                    help="compare again the keepalived readings kept in --keep (no keepalived run, no VM)")
    ap.add_argument("files", nargs="*", help="only these corpus files")
    a = ap.parse_args()
    if os.environ.get("IPVS_VM") != "1" and not (a.again and a.keep):
        print("run inside ../shared/ipvs-vm (keepalived's checker needs IPVS)", file=sys.stderr)
        return 2
    corpus = a.files or (sorted(glob.glob(f"{SAMPLES}/keepalived.conf.*")) +
                         sorted(glob.glob(os.path.join(a.source, "tests/corpus/keepalived/*.conf"))))
    if not a.again:  # the users the files run scripts as (the VM's root is a throwaway overlay)
        users = {"keepalived_script"}
        for conf in corpus:
            users |= set(re.findall(r"^\s*(?:script_user|user)\s+([a-z_][a-z0-9_-]*)", open(conf, errors="replace").read(), re.M))
        for u in sorted(users):
            subprocess.run(["useradd", "-r", "-U", "-s", "/usr/sbin/nologin", u], capture_output=True)
    work = a.keep or tempfile.mkdtemp(prefix="kacorpus.")
    os.makedirs(work, exist_ok=True)
    known = keepalived_keywords(a.source)
    t0 = time.monotonic()

    def one(conf):
        out = os.path.join(work, os.path.basename(conf))
        try:
            ka, log = keepalived_reading(conf, out, a.again)
        except subprocess.TimeoutExpired:
            return conf, None, "", None, [], "keepalived did not write what it read within 120 s"
        d, notes, load_error = directord_reading(a.directord, conf, out)
        return conf, ka, log, d, notes, load_error

    failures = 0
    used_by = collections.defaultdict(set)
    dropped = collections.defaultdict(set)
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(one, corpus))
    print(f"corpus: {len(corpus)} files, read by keepalived and directord in {time.monotonic() - t0:.1f} s\n")
    for conf, ka, log, d, notes, load_error in results:
        name = os.path.relpath(conf, a.source) if conf.startswith(a.source) else conf
        text = open(conf, errors="replace").read()
        for kw in keywords_used(text, known):
            used_by[kw].add(name)
        for n in notes:
            m = re.match(r"[^:]+:\d+: ([^:]+): (.*)", n)
            if m:
                dropped[m.group(1)].add(name)
        if ka is None or load_error:
            print(f"FAIL {name}: {load_error if ka is None else 'the imported config does not load: ' + load_error}")
            failures += 1
            continue
        fixups = ka.pop("fixups") + as_here(ka, d, log, d.pop("scripts"))
        diffs = kacompare.diff(ka, d)
        named = [x for x in diffs if any(re.search(f, name) and re.search(p, x) for f, p, _ in KNOWN)]
        deliberate = fixups + [f"{x}: {why}" for f, p, why in KNOWN for x in named if re.search(f, name) and re.search(p, x)]
        diffs = [x for x in diffs if x not in named]
        wrong = diffs
        nv, ns = len(ka["vrrp"]), len(ka["services"])
        nr = sum(len(s["real"]) for s in ka["services"].values())
        status = "ok  " if not wrong else "FAIL"
        print(f"{status} {name}: {nv} VRRP instance(s), {ns} virtual server(s), {nr} real server(s); "
              f"import notes {len(notes)}, differences {len(wrong)}, deliberate {len(deliberate)}")
        for n in notes:
            print(f"       import: {n}")
        for x in deliberate:
            print(f"       deliberate: {x}")
        for x in wrong:
            print(f"       DIFF {x}")
        if wrong:
            failures += 1
            kept = [ln for ln in log.splitlines() if "Line " in ln or "WARNING" in ln.upper()]
            for ln in kept[:8]:
                print(f"       keepalived said: {ln[25:].strip()}")

    print(f"\nper keyword ({len(used_by)} keepalived keywords used by the corpus):")
    print(f"  {'keyword':36} {'files':>5}  carried over")
    for kw in sorted(used_by, key=lambda k: (-len(used_by[k]), k)):
        n = len(used_by[kw])
        lost = dropped.get(kw, set())
        carried = "yes" if not lost else f"NO in {len(lost)} file(s)"
        print(f"  {kw:36} {n:>5}  {carried}")
    print(f"\n{len(corpus) - failures}/{len(corpus)} files mean the same to directord as to keepalived")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
