#!/usr/bin/env python3
"""Connection sync benchmark: connections created on a master director (NAT, persistent rr over two
real servers, clients from many source addresses) while a listener on the backup's side of the
sync link records when each connection's entry and each client's persistence template arrive.
Printed: entries per second on the wire, and the lag from a connection's creation on the master
(the client's connect() returned) to its entry reaching the backup, p50/p99/max, for connections
and for templates; the backup's own table is counted at the end.

- userspace: two directord on the userspace plane in network namespaces on this host (100,000
  connections by default);
- kernel: the same inside the IPVS VM with the kernel's own master daemon (ipvsadm
  --start-daemon) as the reference (20,000 connections by default: the VM runs ~7x slower, so its
  load generator offers fewer per second; the lags are the kernel's batching, not the CPU).
The ratio of the kernel's lag to ours is printed. Goal: every template on the backup within 1 s."""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

VIP = "10.99.0.10"
GROUP = "224.0.0.81"

RS = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7007)); s.listen(4096)
while True:
    c, _ = s.accept()
    try:
        c.recv(1); c.sendall(sys.argv[1].encode() + b"\n")
    except OSError: pass
    c.close()
"""

# argv: vip, first source index, step, count, total sources, out file
LOAD = r"""
import socket, sys, time
vip, first, step, count, nsrc, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
rows = []
for i in range(first, count, step):
    k = i % nsrc
    src = "10.99.%d.%d" % (1 + k // 250, 1 + k % 250)
    try:
        s = socket.socket(); s.settimeout(5); s.bind((src, 0)); s.connect((vip, 7007))
        t = time.monotonic(); port = s.getsockname()[1]
        s.sendall(b"x"); s.recv(16); s.close()
        rows.append("%s %d %.6f" % (src, port, t))
    except OSError:
        pass
open(out, "w").write("\n".join(rows) + "\n")
"""

# argv: group, interface address, out file, stop file. Records the first arrival of every
# connection entry (client address and port) and template (client address).
SNIFF = r"""
import json, os, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind(("", 8848))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(sys.argv[1]) + socket.inet_aton(sys.argv[2]))
s.settimeout(0.5)
conns, tmpl = {}, {}
first = last = None; entries = 0; datagrams = 0
print("ready", flush=True)
while True:
    try:
        d = s.recv(65536)
    except socket.timeout:
        if os.path.exists(sys.argv[4]) and last and time.monotonic() - last > 4: break
        continue
    t = time.monotonic(); datagrams += 1
    first = first or t; last = t
    n = d[4]; p = 8
    for _ in range(n):
        if p + 36 > len(d): break
        size = struct.unpack("!H", d[p + 2:p + 4])[0] & 0xfff
        flags = struct.unpack("!I", d[p + 4:p + 8])[0]
        cport = struct.unpack("!H", d[p + 10:p + 12])[0]
        caddr = socket.inet_ntoa(d[p + 24:p + 28])
        entries += 1
        if flags & 0x1000: tmpl.setdefault(caddr, t)
        else: conns.setdefault("%s:%d" % (caddr, cport), t)
        p += (size + 3) & ~3
json.dump({"conns": conns, "templates": tmpl, "entries": entries, "datagrams": datagrams,
           "first": first, "last": last}, open(sys.argv[3], "w"))
"""


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"sync bench: {cmd}: {r.stderr.strip()}")
    return r.stdout


class Lab:
    """A switch namespace with a front and a back bridge; nodes hang off them by veth."""

    def __init__(self, tag):
        self.tag = tag
        self.names = []
        self.procs = []
        self.sw = self.ns("sw")
        for br in ("brf", "brb"):
            sh(f"ip -n {self.sw} link add {br} type bridge && ip -n {self.sw} link set {br} up")

    def ns(self, name):
        full = f"{self.tag}{name}"
        sh(f"ip netns add {full} && ip -n {full} link set lo up")
        self.names.append(full)
        return full

    def node(self, name, front=None, back=None, gw=None):
        n = self.ns(name)
        for dev, br, addr in (("eth0", "brf", front), ("eth1", "brb", back)):
            if addr:
                peer = f"{name}{dev[-1]}"
                sh(f"ip -n {self.sw} link add {peer} type veth peer name {dev} netns {n}")
                sh(f"ip -n {self.sw} link set {peer} master {br} up")
                sh(f"ip -n {n} addr add {addr} dev {dev} && ip -n {n} link set {dev} up")
        if gw:
            sh(f"ip -n {n} route add default via {gw}")
        return n

    def run(self, ns, *args, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns, *args], start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for n in reversed(self.names):
            sh(f"ip netns del {n}", check=False)


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def measure(lab, cl, d2, work, conns, sources, procs):
    """Runs the load and the listener; returns the summary."""
    sniff_out, stop = os.path.join(work, "sniff.json"), os.path.join(work, "stop")
    sniffer = lab.run(d2, sys.executable, "-u", "-c", SNIFF, GROUP, "10.99.0.12", sniff_out, stop,
                      stdout=subprocess.PIPE, text=True)
    assert sniffer.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    loads = [lab.run(cl, sys.executable, "-c", LOAD, VIP, str(i), str(procs), str(conns), str(sources),
                     os.path.join(work, f"load{i}")) for i in range(procs)]
    for p in loads:
        p.wait()
    elapsed = time.monotonic() - t0
    open(stop, "w").close()
    sniffer.wait(timeout=120)
    seen = json.load(open(sniff_out))
    created, first_use = {}, {}
    for i in range(procs):
        for line in open(os.path.join(work, f"load{i}")):
            f = line.split()
            if len(f) == 3:
                t = float(f[2])
                created[f"{f[0]}:{f[1]}"] = t
                first_use[f[0]] = min(first_use.get(f[0], t), t)
    clag = [seen["conns"][k] - t for k, t in created.items() if k in seen["conns"]]
    tlag = [seen["templates"][k] - t for k, t in first_use.items() if k in seen["templates"]]
    wire = (seen["last"] - seen["first"]) if seen["first"] else 0
    return {
        "connections": len(created), "offered_per_s": len(created) / elapsed if elapsed else 0,
        "entries": seen["entries"], "datagrams": seen["datagrams"],
        "entries_per_s": seen["entries"] / wire if wire else 0,
        "conns_seen": len(clag), "templates": len(first_use), "templates_seen": len(tlag),
        "conn_lag": [percentile(clag, 0.5), percentile(clag, 0.99), max(clag, default=float("nan"))],
        "template_lag": [percentile(tlag, 0.5), percentile(tlag, 0.99), max(tlag, default=float("nan"))],
    }


def build(tag, sources):
    lab = Lab(tag)
    cl = lab.node("cl", front="10.99.0.100/16")
    sh(f"ip -n {cl} link set eth0 txqueuelen 10000")
    batch = "".join(f"addr add 10.99.{1 + k // 250}.{1 + k % 250}/16 dev eth0\n" for k in range(sources))
    subprocess.run(["ip", "-n", cl, "-b", "-"], input=batch, text=True, check=True)
    d1 = lab.node("d1", front="10.99.0.11/16", back="10.98.0.11/24")
    d2 = lab.node("d2", front="10.99.0.12/16", back="10.98.0.12/24")
    for i in (1, 2):
        rb = lab.node(f"rb{i}", back=f"10.98.0.5{i}/24", gw="10.98.0.1")
        lab.run(rb, sys.executable, "-c", RS, f"rb{i}", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for n in (cl, d1, d2):
        sh(f"ip netns exec {n} sysctl -qw net.ipv4.ip_local_port_range='10000 65000' net.ipv4.tcp_tw_reuse=1")
    return lab, cl, d1, d2


def userspace_part(directord, conns, sources, procs):
    work = tempfile.mkdtemp(prefix="sync-bench-")
    lab, cl, d1, d2 = build(f"sb{os.getpid() % 1000}", sources)
    try:
        reals = ", ".join(f'{{ address = "10.98.0.5{i}"; port = 7007; }}' for i in (1, 2))
        for name, ns in (("d1", d1), ("d2", d2)):
            with open(os.path.join(work, f"{name}.conf"), "w") as f:
                f.write(f"""global = {{ data_plane = "userspace"; pid_file = "{work}/{name}.pid";
  control_socket = "{work}/{name}.sock"; state_dump_file = "{work}/{name}.json";
  sync_daemon = {{ interface = "eth0"; sync_id = 51; }}; }};
virtual_servers = ( {{ address = "{VIP}"; port = 7007; scheduler = "rr"; persistence_timeout = 600;
  real_servers = ( {reals} ); }} );
""")
            log = open(os.path.join(work, f"{name}.log"), "w")
            lab.run(ns, directord, "-f", f"{work}/{name}.conf", stdout=log, stderr=subprocess.STDOUT)
        sh(f"ip -n {d1} addr add {VIP}/16 dev eth0")
        ipvsctl = os.path.join(os.path.dirname(directord), "ipvsctl")
        ctl = lambda i, *a: subprocess.run([ipvsctl, *a], capture_output=True, text=True,  # noqa: E731
                                           env=dict(os.environ, DIRECTORD_SOCKET=f"{work}/d{i}.sock")).stdout
        end = time.time() + 30
        while time.time() < end and "backup sync daemon" not in ctl(2, "-L", "--daemon"):
            time.sleep(0.2)
        time.sleep(1)
        r = measure(lab, cl, d2, work, conns, sources, procs)
        listing = ctl(2, "-Lnc")
        r["backup_templates"] = sum(1 for l in listing.splitlines() if ":0 " in l and ("NONE" in l or "ASSURED" in l))
        return r
    finally:
        lab.close()


def kernel_part(conns, sources, procs):
    work = tempfile.mkdtemp(prefix="sync-bench-")
    sh("ip link set lo up")
    lab, cl, d1, d2 = build("kb", sources)
    try:
        sh(f"ip netns exec {d1} sysctl -qw net.ipv4.ip_forward=1")
        sh(f"ip -n {d1} addr add {VIP}/16 dev eth0 && ip -n {d1} addr add 10.98.0.1/24 dev eth1")
        sh(f"ip netns exec {d1} sh -c 'ipvsadm -A -t {VIP}:7007 -s rr -p 600 && "
           f"ipvsadm -a -t {VIP}:7007 -r 10.98.0.51:7007 -m && ipvsadm -a -t {VIP}:7007 -r 10.98.0.52:7007 -m && "
           f"ipvsadm --start-daemon master --mcast-interface eth0 --syncid 51'")
        sh(f"ip netns exec {d2} sh -c 'ipvsadm -A -t {VIP}:7007 -s rr -p 600 && "
           f"ipvsadm -a -t {VIP}:7007 -r 10.98.0.51:7007 -m && ipvsadm -a -t {VIP}:7007 -r 10.98.0.52:7007 -m && "
           f"ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 51'")
        r = measure(lab, cl, d2, work, conns, sources, procs)
        listing = sh(f"ip netns exec {d2} ipvsadm -Lnc")
        r["backup_templates"] = sum(1 for l in listing.splitlines() if ":0 " in l and ("NONE" in l or "ASSURED" in l))
        return r
    finally:
        lab.close()


def show(name, r):
    ms = lambda v: f"{v * 1000:.0f} ms"  # noqa: E731
    print(f"{name}: {r['connections']} connections ({r['offered_per_s']:.0f}/s offered), {r['entries']} entries in "
          f"{r['datagrams']} datagrams, {r['entries_per_s']:.0f} entries/s on the wire")
    print(f"{name}:   connection lag p50 {ms(r['conn_lag'][0])}  p99 {ms(r['conn_lag'][1])}  max {ms(r['conn_lag'][2])}"
          f"  ({r['conns_seen']} of {r['connections']} seen)")
    print(f"{name}:   template lag   p50 {ms(r['template_lag'][0])}  p99 {ms(r['template_lag'][1])}  "
          f"max {ms(r['template_lag'][2])}  ({r['templates_seen']} of {r['templates']} seen; "
          f"{r['backup_templates']} in the backup's table)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord")
    ap.add_argument("--vm", help="the IPVS VM runner, for the kernel's part")
    ap.add_argument("--part", choices=["userspace", "kernel"])
    ap.add_argument("--conns", type=int, default=100000)
    ap.add_argument("--kernel-conns", type=int, default=20000)
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--procs", type=int, default=4)
    args = ap.parse_args()
    if args.part == "kernel":  # inside the VM
        print("RESULT " + json.dumps(kernel_part(args.conns, args.sources, args.procs)), flush=True)
        return 0
    ours = userspace_part(os.path.abspath(args.directord), args.conns, args.sources, args.procs)
    show("userspace", ours)
    ok = ours["templates_seen"] == ours["templates"] and ours["template_lag"][2] <= 1.0 and \
        ours["backup_templates"] == ours["templates"]
    print(f"goal: every template on the backup within 1 s: {'yes' if ok else 'NO'}")
    if args.vm:
        out = subprocess.run([args.vm, "--share", os.path.dirname(os.path.abspath(__file__)), "--mem", "2G", "--timeout",
                              "900", "--", sys.executable, os.path.abspath(__file__), "--part", "kernel", "--conns",
                              str(args.kernel_conns), "--sources", str(args.sources), "--procs", str(args.procs)],
                             capture_output=True, text=True)
        line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
        if not line:
            print(out.stdout[-2000:] + out.stderr[-2000:])
            return 1
        kernel = json.loads(line[7:])
        show("kernel   ", kernel)
        for what, i in (("p50", 0), ("p99", 1), ("max", 2)):
            k, u = kernel["conn_lag"][i], ours["conn_lag"][i]
            kt, ut = kernel["template_lag"][i], ours["template_lag"][i]
            print(f"ratio kernel/userspace lag {what}: connections {k / u:.1f}x, templates {kt / ut:.1f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
