#!/usr/bin/env python3
"""vm:keepalived_side_by_side: three keepalived.conf files of the migration corpus run as keepalived
and, imported, as directord, each in a network namespace of its own against identical real servers,
inside the IPVS VM; the kernel IPVS tables they program and the VIPs they hold must be the same.

Each director's namespace has the file's interfaces: the one its instance (or, without one, the
first named) runs on is a veth to a namespace holding every real server address (the servers of
both sides are two identical namespaces, so each side's replies route back to it), the others are
dummies. In the servers' namespace some servers answer (a TCP listener; an HTTP one answering 404)
and some refuse (nftables rejects their SYNs). The files:
- 05-pihole (public): TCP_CHECK, one server up, one refusing: the table keeps the one;
- keepalived.conf.quorum (keepalived's sample): ten servers from alpha (down until checked), eight
  answering on the check port: quorum 7 holds, the eight with their weights, wrr, persistence;
- keepalived.conf.inhibit (keepalived's sample): an HTTP_GET whose url answers 404, with
  inhibit_on_failure: the server stays in the table at weight 0.
The tables are read with ipvsadm -Ln in each namespace and compared until they agree (both sides
check on their own schedules) or a minute has passed."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

from dlab.report import check, failures, sh, wait

SAMPLES = "/usr/share/doc/keepalived/samples"

SERVER = r"""
import socket, sys, threading
def serve(port, http):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64)
    while True:
        c, _ = s.accept()
        if http:
            try:
                c.settimeout(2); c.recv(4096)
                c.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass
        c.close()
for spec in sys.argv[1:]:
    port, kind = spec.split(":")
    threading.Thread(target=serve, args=(int(port), kind == "http"), daemon=True).start()
threading.Event().wait()
"""

CASES = [
    # file, the interface that reaches the servers, listeners (port:kind), refused server addresses,
    # what the table must show once both sides have checked (besides being the same on both)
    ("{source}/tests/corpus/keepalived/05-pihole-dns-tcp-check.conf", "eth0", ["53:tcp"], ["192.168.0.102"],
     "the answering server in, the refusing one out",
     lambda t: any("192.168.0.101:53" in v and "192.168.0.102:53" not in v for v in t.values())),
    (f"{SAMPLES}/keepalived.conf.quorum", "eth0", ["80:tcp"], ["10.0.0.9", "10.0.0.10"],
     "the eight answering servers in (quorum 7 holds)", lambda t: any(len(v) == 8 for v in t.values())),
    (f"{SAMPLES}/keepalived.conf.inhibit", "eth0", ["1358:http"], [],
     "the failing server kept at weight 0 (inhibit_on_failure)",
     lambda t: any(v.get("192.168.200.2:1358", ("", -1))[1] == 0 for v in t.values())),
]

def servers_of(text):
    return sorted(set(re.findall(r"^\s*real_server\s+(\S+)\s+\d+", text, re.M)) |
                  set(re.findall(r"^\s*sorry_server\s+(\S+)\s+\d+", text, re.M)))


def links_of(text, uplink):
    names = set(re.findall(r"\b(?:interface|dev)\s+([A-Za-z][\w.-]*)", text)) - {uplink}
    return sorted(n for n in names if len(n) < 16)


def table(ns):
    """The IPVS table as {service: {real server: (forward, weight)}, scheduler and flags}."""
    out = sh(f"ip netns exec {ns} ipvsadm -Ln").stdout
    services, cur = {}, None
    for line in out.splitlines():
        w = line.split()
        if w and w[0] in ("TCP", "UDP", "SCTP", "FWM"):
            cur = " ".join(w)
            services[cur] = {}
        elif w and w[0] == "->" and cur and w[1] != "RemoteAddress:Port":
            services[cur][w[1]] = (w[2], int(w[3]))
    return services


def vips(ns, dev):
    """The addresses on the link (its link-local one, from a random MAC, left out)."""
    return sorted(a for a in re.findall(r"inet6? (\S+)", sh(f"ip -n {ns} addr show dev {dev}").stdout)
                  if not a.startswith("fe80:"))


def side(name, i, conf_text, uplink, listeners, refused, work):
    """A director's namespace and its servers' namespace; returns the servers' process."""
    d, s = f"sbs{i}{name}", f"sbs{i}{name}srv"
    for n in (d, s):
        sh(f"ip netns add {n}")
        sh(f"ip -n {n} link set lo up")
    sh(f"ip -n {d} link add {uplink} type veth peer name srv0 netns {s}")
    sh(f"ip -n {d} addr add 10.200.0.1/24 dev {uplink}; ip -n {d} link set {uplink} up")
    sh(f"ip -n {d} route add default via 10.200.0.2")
    sh(f"ip -n {s} addr add 10.200.0.2/24 dev srv0; ip -n {s} link set srv0 up")
    sh(f"ip -n {s} route add default via 10.200.0.1")
    for a in servers_of(conf_text):
        sh(f"ip -n {s} addr add {a}/32 dev srv0")
    for n, link in enumerate(links_of(conf_text, uplink)):
        sh(f"ip -n {d} link add {link} type dummy; ip -n {d} link set {link} multicast on up")
        sh(f"ip -n {d} addr add 10.201.{n}.1/24 dev {link}")
    rules = "".join(f"ip daddr {a} tcp flags syn reject with tcp reset\n" for a in refused)
    sh(f"ip netns exec {s} nft -f - <<'X'\ntable inet sbs {{ chain refuse {{ type filter hook input priority 0;\n{rules}}}\n}}\nX")
    return d, subprocess.Popen(["ip", "netns", "exec", s, sys.executable, "-c", SERVER, *listeners],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_case(directord, path, uplink, listeners, refused, what, expect, work):
    name = os.path.basename(path).replace("keepalived.conf.", "")[:6].replace(".", "").replace("-", "")
    text = open(path).read()
    print(f"== {os.path.basename(path)}", flush=True)
    procs, namespaces = [], []
    try:
        ka, srv_ka = side(name, 1, text, uplink, listeners, refused, work)
        dd, srv_dd = side(name, 2, text, uplink, listeners, refused, work)
        procs += [srv_ka, srv_dd]
        namespaces += [ka, dd, ka + "srv", dd + "srv"]
        imported = os.path.join(work, f"{name}.directord.conf")
        with open(imported, "w") as f:
            f.write(subprocess.run([directord, "--import-keepalived", path], capture_output=True, text=True).stdout)
        # its own files, in the work directory
        conf = open(imported).read()
        conf = re.sub(r"^global = \{", f'global = {{\n  pid_file = "{work}/{name}.pid"; control_socket = "{work}/{name}.sock";\n'
                      f'  state_dump_file = "{work}/{name}.json";', conf, count=1, flags=re.M)
        if "global = {" not in conf:
            conf = (f'global = {{ pid_file = "{work}/{name}.pid"; control_socket = "{work}/{name}.sock"; '
                    f'state_dump_file = "{work}/{name}.json"; }};\n') + conf
        with open(imported, "w") as f:
            f.write(conf)
        klog = open(os.path.join(work, f"{name}.keepalived.log"), "w")
        dlog = open(os.path.join(work, f"{name}.directord.log"), "w")
        procs.append(subprocess.Popen(["ip", "netns", "exec", ka, "keepalived", "-n", "-l", "-D", "-f", path,
                                       f"--pid={work}/{name}.k.pid", f"--vrrp_pid={work}/{name}.kv.pid",
                                       f"--checkers_pid={work}/{name}.kc.pid"], stdout=klog, stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen(["ip", "netns", "exec", dd, directord, "-f", imported],
                                      stdout=dlog, stderr=subprocess.STDOUT))
        t0 = time.monotonic()
        seen = {}

        def agree():
            seen["a"], seen["b"] = table(ka), table(dd)
            return bool(seen["a"]) and seen["a"] == seen["b"] and vips(ka, uplink) == vips(dd, uplink)

        def settled():
            if not (agree() and expect(seen["a"])):
                return False
            time.sleep(8)  # stable: the same once both sides' checks ran again
            return agree()

        same = wait(settled, 60, 2) is not None
        a, b = seen.get("a", {}), seen.get("b", {})
        rows = sum(len(v) for v in a.values())
        check(same, f"{os.path.basename(path)}: the same IPVS table under keepalived and directord "
                     f"({len(a)} service(s), {rows} real server(s); {what}) and the same addresses on {uplink}",
               f"after {time.monotonic() - t0:.0f} s" if same else f"keepalived {a} {vips(ka, uplink)} / "
               f"directord {b} {vips(dd, uplink)}")
        return a
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for n in namespaces:
            sh(f"ip netns del {n}", check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    if os.environ.get("IPVS_VM") != "1":
        print("run inside ../shared/ipvs-vm (kernel IPVS)", file=sys.stderr)
        return 2
    sh("modprobe ip_vs", check=False)
    work = tempfile.mkdtemp(prefix="sbs.")
    for path, uplink, listeners, refused, what, expect in CASES:
        run_case(a.directord, path.format(source=a.source), uplink, listeners, refused, what, expect, work)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
