#!/usr/bin/env python3
"""Inside the IPVS VM: active/active directors behind an ECMP router, announced through BIRD.

Namespaces: a client with many source addresses, a router running BIRD (BGP from each director,
multipath merged into the kernel, the 4-tuple hash), three directors each running BIRD (its kernel
protocol learning directord's table, BGP and BFD to the router) and directord (kernel IPVS, DR, mh
with the port flag, global.announce), and three real servers on the directors' LAN (VIP on lo).
Checked: the flows spread over the directors; a real server failure reaches every director's
table; kill -9 of one director (BIRD and directord, as if the host died) withdraws its route
through BFD, new connections go to the others, and the established DR flows the router moves keep
flowing to their real server (mh and sloppy_tcp: no shared state). Printed, as the benchmark: the
withdraw latency at the router with BFD (100 ms x 3) and with the BGP hold time alone (3 s), and
the share of established flows kept, next to an active/backup pair (VRRPv3 at 0.1 s and the sync
daemon) measured the same way; a client opens a new connection every 10 ms throughout."""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from dlab.report import check, failures, sh, wait

VIP = "10.95.9.100"
T0 = time.monotonic()
# logs and configs (ECMP_WORK may point at a directory shared with the host); control sockets
# apart, on the guest's own /tmp (9p cannot hold a unix socket)
WORK = tempfile.mkdtemp(prefix="ecmp-", dir=os.environ.get("ECMP_WORK"))
RUN = tempfile.mkdtemp(prefix="ecmp-run-")
procs = []

SERVER = r"""
import socket, sys, threading
name = sys.argv[1].encode()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(512)
def serve(c):
    try:
        while True:
            d = c.recv(100)
            if not d: break
            c.sendall(name + b"\n")
    except OSError: pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

# Long-lived flows from many source addresses: each asks its server's name now and then (stdin).
CLIENT = r"""
import socket, sys
vip, n = sys.argv[1], int(sys.argv[2])
conns = []
for i in range(n):
    s = socket.socket(); s.settimeout(3)
    s.bind((f"10.94.1.{10 + i % 200}", 0)); s.connect((vip, 80)); conns.append(s)
def ask():
    out = []
    for s in conns:
        try:
            s.sendall(b"who\n"); out.append(s.recv(100).decode().strip() or "EOF")
        except OSError as e:
            out.append("ERR")
    print(" ".join(out), flush=True)
ask()
for line in sys.stdin:
    ask()
"""

# New connections every 10 ms, each from the next of 200 source addresses: "start end ok" per probe.
PROBE = r"""
import itertools, socket, sys, time
for i in itertools.count():
    t = time.monotonic(); ok = 0
    s = socket.socket(); s.settimeout(0.3)
    try:
        s.bind((f"10.94.2.{10 + i % 200}", 0)); s.connect((sys.argv[1], 80)); s.sendall(b"who\n"); ok = int(bool(s.recv(100)))
    except OSError: pass
    s.close()
    print(f"{t:.4f} {time.monotonic():.4f} {ok}", flush=True)
    time.sleep(0.01)
"""


def spawn(ns, *cmd, log=None, **kw):
    p = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=open(log, "a") if log else subprocess.DEVNULL,
                         stderr=subprocess.STDOUT, start_new_session=True, **kw)
    procs.append(p)
    return p


def nexthops():
    out = sh(f"ip -n r route show {VIP}", check=False).stdout
    return {d for d in ("d1", "d2", "d3") if f"via 10.95.0.1{d[1]} " in out}


def mac(ns):
    return sh(f"ip -n {ns} -br link show eth0").stdout.split()[2]


def batch(ns, lines):
    subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n", text=True, check=True)


def lab(mode):
    """mode: "bfd" or "hold" (three directors announcing over BGP), "vrrp" (an active/backup pair:
    VRRPv3 at 0.1 s, the sync daemon following it, the router reaching the VIP on the LAN)."""
    ecmp = mode != "vrrp"
    bfd = mode == "bfd"
    directors = ("d1", "d2", "d3") if ecmp else ("d1", "d2")
    sh("ip netns add lan && ip -n lan link add br0 type bridge && ip -n lan link set br0 up")
    for ns in ("c", "r", "d1", "d2", "d3", "s1", "s2", "s3"):
        sh(f"ip netns add {ns} && ip -n {ns} link set lo up")
    sh("ip -n c link add eth0 type veth peer name eth1 netns r")
    sh("ip -n c addr add 10.94.0.2/16 dev eth0 && ip -n c link set eth0 up && ip -n c route add default via 10.94.0.1")
    batch("c", [f"addr add 10.94.{n}.{i}/16 dev eth0" for n in (1, 2) for i in range(10, 210)])
    sh("ip -n r addr add 10.94.0.1/16 dev eth1 && ip -n r link set eth1 up")
    for ns, addr in [("r", "10.95.0.1"), ("d1", "10.95.0.11"), ("d2", "10.95.0.12"), ("d3", "10.95.0.13"),
                     ("s1", "10.95.0.21"), ("s2", "10.95.0.22"), ("s3", "10.95.0.23")]:
        sh(f"ip -n lan link add v{ns} type veth peer name eth0 netns {ns} && ip -n lan link set v{ns} master br0 up")
        sh(f"ip -n {ns} addr add {addr}/24 dev eth0 && ip -n {ns} link set eth0 up")
    sh("ip netns exec r sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1")
    for d in directors:
        sh(f"ip -n {d} route add default via 10.95.0.1")
        if ecmp:
            sh(f"ip -n {d} addr add {VIP}/32 dev lo")
    for s in ("s1", "s2", "s3"):
        sh(f"ip -n {s} addr add {VIP}/32 dev lo && ip -n {s} route add default via 10.95.0.1")
        sh(f"ip netns exec {s} sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2")
        spawn(s, sys.executable, "-c", SERVER, s)
    reals = ", ".join(f'{{ address = "10.95.0.2{i}"; checks = ( {{ type = "tcp"; }} ); }}' for i in (1, 2, 3))
    service = (f'virtual_servers = ( {{ address = "{VIP}"; port = 80; scheduler = "mh"; scheduler_flags = [ "port" ];'
               f' forwarding = "dr"; delay_loop = 0.5; connect_timeout = 1; retry = 0; real_servers = ( {reals} ); }} );\n')
    if not ecmp:
        sh(f"ip -n r route add {VIP}/32 dev eth0")
        for d, prio in (("d1", 150), ("d2", 100)):
            with open(f"{WORK}/{d}.conf", "w") as f:
                f.write(f"""global = {{ data_plane = "kernel"; pid_file = "{WORK}/{d}.pid"; control_socket = "{RUN}/{d}.sock";
  state_dump_file = "{WORK}/{d}.json"; sync_daemon = {{ interface = "eth0"; vrrp_instance = "VI_1"; sync_id = 52; }}; }};
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 52; priority = {prio}; version = 3;
  advert_interval = 0.1; virtual_addresses = ( {{ address = "{VIP}/32"; }} ); }} );
""" + service)
            spawn(d, args.directord, "-f", f"{WORK}/{d}.conf", log=f"{WORK}/{d}.log")
        return
    bfdc = "protocol bfd { interface \"eth0\" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }\n"
    with open(f"{WORK}/r.bird", "w") as f:
        f.write("router id 10.95.0.1;\nprotocol device {}\n"
                "protocol kernel { ipv4 { import none; export all; }; merge paths on; }\n" + (bfdc if bfd else "") +
                "template bgp dir { local 10.95.0.1 as 65000; hold time 3; keepalive time 1; connect retry time 1;"
                f" {'bfd on;' if bfd else ''} ipv4 {{ import all; export none; }}; }}\n" +
                "".join(f"protocol bgp d{i} from dir {{ neighbor 10.95.0.1{i} as 65100; }}\n" for i in (1, 2, 3)))
    spawn("r", "bird", "-f", "-c", f"{WORK}/r.bird", "-s", f"{RUN}/r.ctl", log=f"{WORK}/r.log")
    for i in (1, 2, 3):
        d = f"d{i}"
        with open(f"{WORK}/{d}.bird", "w") as f:
            f.write(f"router id 10.95.0.1{i};\nprotocol device {{}}\n"
                    "protocol kernel directord { ipv4 { import all; export none; }; kernel table 100; learn; }\n" +
                    (bfdc if bfd else "") +
                    f"protocol bgp uplink {{ local 10.95.0.1{i} as 65100; neighbor 10.95.0.1 as 65000; hold time 3;"
                    f" keepalive time 1; connect retry time 1; {'bfd on;' if bfd else ''}"
                    " ipv4 { import none; export where proto = \"directord\"; }; }\n")
        with open(f"{WORK}/{d}.conf", "w") as f:
            f.write(f"""global = {{ data_plane = "kernel"; pid_file = "{WORK}/{d}.pid"; control_socket = "{RUN}/{d}.sock";
  state_dump_file = "{WORK}/{d}.json"; announce = {{ table = 100; }}; }};
""" + service)
        spawn(d, "bird", "-f", "-c", f"{WORK}/{d}.bird", "-s", f"{RUN}/{d}.ctl", log=f"{WORK}/{d}.bird.log")
        spawn(d, args.directord, "-f", f"{WORK}/{d}.conf", log=f"{WORK}/{d}.log")


def teardown():
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                p.kill()
            p.wait(timeout=10)
    procs.clear()
    for ns in ("c", "r", "d1", "d2", "d3", "s1", "s2", "s3", "lan"):
        sh(f"ip netns del {ns}", check=False)


def kill_director(d):
    """The host dies: its BIRD and its directord at once, and it forwards nothing more (its kernel
    IPVS would go on forwarding after a crash of directord alone). The link goes first: a process
    killed with a live link has its BGP session closed by the kernel, a faster withdraw than a
    dead host ever gets."""
    sh(f"ip -n {d} link set eth0 down")
    for p in procs:
        if p.args[3] == d and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)


def real_server_failure():
    """A real server dies and comes back: every director's table follows (each checks for itself)."""
    in_all = lambda: all("10.95.0.22:80" in sh(f"ip netns exec {d} ipvsadm -Ln", check=False).stdout  # noqa: E731
                         for d in ("d1", "d2", "d3"))
    check(wait(in_all, 20, 0.2) is not None, "every director has the three real servers")
    for p in procs:
        if p.args[3] == "s2" and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    gone = lambda: all("10.95.0.22:80" not in sh(f"ip netns exec {d} ipvsadm -Ln", check=False).stdout  # noqa: E731
                       for d in ("d1", "d2", "d3"))
    check(wait(gone, 20, 0.2) is not None, "a dead real server leaves every director's table")
    spawn("s2", sys.executable, "-c", SERVER, "s2")
    check(wait(in_all, 20, 0.2) is not None, "the real server back: every director adds it again")


def outage(path, t0, took):
    """The prober's record: (failed before the kill, failed after it, probes after it, the end of the
    last failed probe after the kill, in seconds after it, probes started before the router moved)."""
    rows = [tuple(map(float, l.split())) for l in open(path) if len(l.split()) == 3]
    after = [r for r in rows if r[0] >= t0]
    failed = [r for r in after if r[2] == 0]
    return (sum(1 for r in rows if r[0] < t0 and r[2] == 0), len(failed), len(after),
            max((r[1] - t0 for r in failed), default=0.0), sum(1 for r in after if r[0] - t0 < (took or 0)))


def run_case(mode, flows):
    name = {"bfd": "ECMP, BFD 100 ms x 3", "hold": "ECMP, BGP hold time 3 s",
            "vrrp": "active/backup, VRRPv3 0.1 s + sync"}[mode]
    print(f"== {name} ({time.monotonic() - T0:.0f} s into the test)", flush=True)
    lab(mode)
    try:
        if mode == "vrrp":
            d2mac = mac("d2")
            ready = lambda: (VIP in sh("ip -n d1 -o addr show dev eth0").stdout and  # noqa: E731
                             "master sync daemon" in sh("ip netns exec d1 ipvsadm -L --daemon", check=False).stdout and
                             "backup sync daemon" in sh("ip netns exec d2 ipvsadm -L --daemon", check=False).stdout and
                             sh(f"ip netns exec d1 ipvsadm -Ln -t {VIP}:80", check=False).stdout.count("Route") == 3)
            check(wait(ready, 120, 0.2) is not None, f"{name}: director 1 is master, the sync daemons run")
            moved = lambda: d2mac in sh(f"ip -n r neigh show {VIP}", check=False).stdout  # noqa: E731
        else:
            up = wait(lambda: nexthops() == {"d1", "d2", "d3"}, 120, 0.2)
            check(up is not None, f"{name}: the router has three next hops for the VIP", str(nexthops()))
            moved = lambda: nexthops() == {"d2", "d3"}  # noqa: E731
        if mode == "bfd":
            real_server_failure()
        client = subprocess.Popen(["ip", "netns", "exec", "c", sys.executable, "-u", "-c", CLIENT, VIP, str(flows)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
        procs.append(client)
        before = client.stdout.readline().split()
        check(len(before) == flows and all(n in ("s1", "s2", "s3") for n in before),
              f"{name}: {flows} flows reach the real servers", " ".join(sorted(set(before))))
        # which director carries what: the connection counts of each director's IPVS
        per = {}
        for d in ("d1", "d2", "d3"):
            out = sh(f"ip netns exec {d} ipvsadm -Ln", check=False).stdout
            per[d] = sum(int(l.split()[4]) for l in out.splitlines() if l.strip().startswith("->") and "Route" in l)
        if mode != "vrrp":
            check(sum(1 for v in per.values() if v > 0) >= 2, f"{name}: the flows spread over the directors", str(per))
        else:
            time.sleep(1.5)  # the master daemon sends what it has at least once a second
        probe_log = f"{WORK}/probe-{mode}.log"
        prober = spawn("c", sys.executable, "-u", "-c", PROBE, VIP, log=probe_log)
        # the prober runs before the kill: a few dozen probes logged (the VM's first Python can take
        # seconds to start on a loaded host; a fixed sleep let the kill come before any probe)
        probes = lambda: sum(1 for _ in open(probe_log)) if os.path.exists(probe_log) else 0  # noqa: E731
        check(wait(lambda: probes() >= 40, 60, 0.1) is not None, f"{name}: the prober runs before the kill",
              f"{probes()} probes logged")
        t0 = time.monotonic()
        kill_director("d1")
        took = wait(moved, 20, 0.02)
        check(took is not None, f"{name}: d1 dies: the router moves the VIP's traffic to the others",
              f"{took:.2f} s" if took is not None else sh(f"ip -n r route show {VIP}; ip -n r neigh", check=False).stdout)
        time.sleep(1.5)
        os.killpg(prober.pid, signal.SIGKILL)
        prober.wait()
        early, failed, total, last, during = outage(probe_log, t0, took)
        check(early == 0 and total > 0, f"{name}: the prober's new connections succeed before the kill",
              f"{early} failed")
        client.stdin.write("ask\n")
        client.stdin.flush()
        after = client.stdout.readline().split()
        kept = sum(1 for a, b in zip(before, after) if a == b)
        print(f"   router moved after {took if took is not None else float('nan'):.2f} s ({during} probes started"
              f" meanwhile); new connections failed until {last:.2f} s ({failed} of {total} probes);"
              f" established flows kept: {kept} of {flows}"
              f" (d1 carried {per.get('d1', 0)})", flush=True)
        check(kept == flows, f"{name}: every established flow keeps flowing to its real server", f"{kept}/{flows}")
        return took if took is not None else float("nan"), last, kept
    finally:
        teardown()


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    ap.add_argument("--flows", type=int, default=60)
    args = ap.parse_args()
    if not shutil.which("bird"):
        check(False, "bird is installed (tools/setup-debian.sh installs bird2)")
        return 1
    res = {mode: run_case(mode, args.flows) for mode in ("bfd", "hold", "vrrp")}
    print("ecmp benchmark: one director of three killed (ECMP) vs the master of a pair (VRRP):", flush=True)
    for mode, label in (("bfd", "ECMP + BFD 100 ms x 3"), ("hold", "ECMP + BGP hold 3 s"),
                        ("vrrp", "pair, VRRPv3 0.1 s + sync")):
        took, last, kept = res[mode]
        print(f"  {label:28} router moved {took:5.2f} s   new connections failing until {last:5.2f} s"
              f"   established flows kept {kept}/{args.flows} ({kept / args.flows:.0%})", flush=True)
    shutil.rmtree(WORK, True)
    shutil.rmtree(RUN, True)
    if failures:
        print(f"{len(failures)} failure(s): " + "; ".join(failures))
        return 1
    print("all ecmp checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
