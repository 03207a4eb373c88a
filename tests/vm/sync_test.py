#!/usr/bin/env python3
"""Inside the IPVS VM: connection sync with the kernel's own sync daemons, and between the kernel
and directord's userspace plane (network namespaces: each director its own IPVS; the VM's root
namespace is the switch: a front bridge for clients and directors, a back one for NAT real servers).

1. Two directord on the kernel plane, DR, VRRP, sync_daemon following the instance: the master
   runs the master daemon and the backup the backup one (ipvsadm -L --daemon); kill -9 of the
   backup's lvs worker adopts its daemon (no stop, no second start); an established TCP stream
   (data both ways every 20 ms) survives kill -9 of the master (and its link going down): the
   backup's connection table has it and forwards it to the same real server.
2. A kernel master (ipvsadm) feeds a userspace backup (directord), then a userspace master feeds a
   kernel backup: `ipvsadm -Lnc` on the kernel side and `ipvsctl -Lnc` on ours agree entry by entry
   (protocol, addresses, ports, state, templates; expiry within a second, plus the kernel master's
   own delay for a partial datagram, up to 3 s, when the kernel sends), and clients placed by the
   kernel reach the same real servers through the userspace director."""
import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from dlab.report import check, failures, wait

VIP = "10.99.0.10"
SOURCES = [f"10.99.0.{101 + i}" for i in range(20)]
DIRECTORD = IPVSCTL = DIRECTORCTL = None
WORK = tempfile.mkdtemp(prefix="sync-vm-")

ECHO = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7007)); s.listen(256)
def serve(c):
    try:
        c.sendall(sys.argv[1].encode() + b"\n")
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(d)
    except OSError: pass
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

# One connection, a line every 20 ms for argv[2] seconds; prints its real server, then "ok n worst".
STREAM = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7007), timeout=15); f = s.makefile("rwb")
print(f.readline().decode().strip(), s.getsockname()[1], flush=True)
end = time.monotonic() + float(sys.argv[2]); n = 0; worst = 0.0
while time.monotonic() < end:
    t = time.monotonic(); f.write(b"ping\n"); f.flush()
    if f.readline() != b"ping\n": print("closed", n, round(worst, 3), flush=True); sys.exit(1)
    worst = max(worst, time.monotonic() - t); n += 1; time.sleep(0.02)
print("ok", n, round(worst, 3), flush=True)
"""

# One connection from each source, held open until stdin closes; prints {source: [real server, port]}.
HOLD = r"""
import json, socket, sys
held = []; out = {}
for src in sys.argv[2].split(","):
    try:
        s = socket.socket(); s.settimeout(5); s.bind((src, 0)); s.connect((sys.argv[1], 7007))
        out[src] = [s.makefile().readline().strip(), s.getsockname()[1]]; held.append(s)
    except OSError:
        out[src] = [None, 0]
print(json.dumps(out), flush=True)
sys.stdin.read()
"""


def wait_for(pred, timeout=30.0, step=0.2):
    return wait(pred, timeout, step) is not None


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.stderr.strip()}")
    return r.stdout


def node(name, front=None, back=None, gw=None):
    sh(f"ip netns add {name} && ip -n {name} link set lo up")
    for dev, br, addr in (("eth0", "brf", front), ("eth1", "brb", back)):
        if addr:
            sh(f"ip link add {name}{dev[-1]} type veth peer name {dev} netns {name}")
            sh(f"ip link set {name}{dev[-1]} master {br} up")
            sh(f"ip -n {name} addr add {addr}/24 dev {dev} && ip -n {name} link set {dev} up")
    if gw:
        sh(f"ip -n {name} route add default via {gw}")


def lab():
    sh("ip link set lo up")
    for br in ("brf", "brb"):
        sh(f"ip link add {br} type bridge && ip link set {br} up")
    node("cl", front="10.99.0.100")
    for src in SOURCES:
        sh(f"ip -n cl addr add {src}/24 dev eth0")
    node("d1", front="10.99.0.11", back="10.98.0.11")
    node("d2", front="10.99.0.12", back="10.98.0.12")
    for i in (1, 2):
        # DR real servers on the front: the VIP on lo, never answering ARP for it
        node(f"rf{i}", front=f"10.99.0.5{i}")
        sh(f"ip -n rf{i} addr add {VIP}/32 dev lo")
        sh(f"ip netns exec rf{i} sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2")
        # NAT real servers on the back, routed through the director that holds 10.98.0.1
        node(f"rb{i}", back=f"10.98.0.5{i}", gw="10.98.0.1")
    procs = []
    for name in ("rf1", "rf2", "rb1", "rb2"):
        procs.append(subprocess.Popen(["ip", "netns", "exec", name, sys.executable, "-c", ECHO, name]))
    return procs


def directord(ns, text):
    conf = os.path.join(WORK, f"{ns}.conf")
    with open(conf, "w") as f:
        f.write(text)
    log = open(os.path.join(WORK, f"{ns}.log"), "a")
    return subprocess.Popen(["ip", "netns", "exec", ns, DIRECTORD, "-f", conf], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def log(ns):
    path = os.path.join(WORK, f"{ns}.log")
    return open(path).read() if os.path.exists(path) else ""


def status(ns):
    out = sh(f"ip netns exec {ns} {DIRECTORCTL} -s {WORK}/{ns}.sock status --json", check=False)
    try:
        return json.loads(out)
    except ValueError:
        return {}


def global_conf(ns, plane, sync):
    return (f'global = {{ data_plane = "{plane}"; pid_file = "{WORK}/{ns}.pid"; script_user = "root";\n'
            f'  control_socket = "{WORK}/{ns}.sock"; state_dump_file = "{WORK}/{ns}.json"; resync_interval = 2.0;\n'
            f'  sync_daemon = {{ {sync} }}; }};\n')


def has_vip(ns):
    return f" {VIP}/" in sh(f"ip -n {ns} -o addr show dev eth0", check=False)


def daemons(ns):
    return sh(f"ip netns exec {ns} ipvsadm -L --daemon", check=False)


def conns(text):
    """ipvsadm -Lnc / ipvsctl -Lnc: {(pro, source, virtual, destination): (state, seconds)}."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 6 and re.match(r"^\d+:\d\d$", f[1]):
            m, s = f[1].split(":")
            out[(f[0], f[3], f[4], f[5])] = (f[2], int(m) * 60 + int(s))
    return out


def apart(t0):
    """Whole seconds that passed since t0 (the first of two listings): the second listing's
    countdowns ran that much further. Under a sanitizer in the VM, one listing takes a second or
    more."""
    return math.ceil(time.monotonic() - t0)


def compare(name, sender, receiver, slack, clients):
    """Every entry the sender has in a synced state for these clients ({source: [server, port]}:
    their connections and templates), the receiver has too."""
    mine = {f"{src}:{port}" for src, (_, port) in clients.items()} | {f"{src}:0" for src in clients}
    sender = {k: v for k, v in sender.items() if k[1] in mine}
    missing, off = [], []
    for key, (state, left) in sender.items():
        if state not in ("ESTABLISHED", "NONE", "ASSURED"):
            continue
        got = receiver.get(key)
        if not got or got[0] != state:
            missing.append(f"{key} {state} -> {got}")
        elif abs(got[1] - left) > slack:
            off.append(f"{key} {state} {left} s vs {got[1]} s")
    n = sum(1 for s, _ in sender.values() if s in ("ESTABLISHED", "NONE", "ASSURED"))
    check(n >= 40 and not missing, f"{name}: {n} entries (connections and templates) on both sides",
          "; ".join(missing[:5]))
    worst = max((abs(receiver[k][1] - v[1]) for k, v in sender.items() if k in receiver), default=0)
    check(not off, f"{name}: expiry within {slack} s", "; ".join(off[:5]) or f"worst difference {worst} s")


def dr_pair():
    name = "kernel pair, DR"
    reals = ", ".join(f'{{ address = "10.99.0.5{i}"; port = 7007; checks = ( {{ type = "tcp"; }} ); }}' for i in (1, 2))

    def text(ns, prio):
        return global_conf(ns, "kernel", 'interface = "eth0"; vrrp_instance = "VI_1"; sync_id = 51;') + f"""
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 51; priority = {prio}; version = 3;
  advert_interval = 0.5; virtual_addresses = ( {{ address = "{VIP}/24"; }} ); }} );
virtual_servers = ( {{ address = "{VIP}"; port = 7007; scheduler = "rr"; forwarding = "dr"; delay_loop = 1.0;
  connect_timeout = 2.0; real_servers = ( {reals} ); }} );
"""
    p1 = directord("d1", text("d1", 150))
    p2 = directord("d2", text("d2", 100))
    check(wait_for(lambda: has_vip("d1") and not has_vip("d2"), 60), f"{name}: director 1 is master")
    check(wait_for(lambda: "master sync daemon (mcast=eth0, syncid=51" in daemons("d1") and
                   "backup sync daemon (mcast=eth0, syncid=51" in daemons("d2"), 20),
          f"{name}: the master runs the kernel's master daemon, the backup its backup one",
          daemons("d1") + daemons("d2"))
    check(re.search(r"vrrp instance VI_1 is MASTER: started the master sync daemon on eth0", log("d1")) is not None,
          f"{name}: the switch is logged")
    st = status("d2").get("sync", {})
    check([d["state"] for d in st.get("daemons", [])] == ["backup"], f"{name}: directorctl status shows the daemon",
          json.dumps(st)[:300])

    # the backup's lvs worker killed: the new one adopts the running daemon (only what it logs from
    # here on counts: in the slow VM director 2 may have been master for a moment at start)
    lvs = status("d2")["pid"]
    before = len(log("d2"))
    os.kill(lvs, signal.SIGKILL)
    check(wait_for(lambda: status("d2").get("pid") not in (None, lvs), 30), f"{name}: the lvs worker restarts")
    check(wait_for(lambda: "adopted the running backup sync daemon" in log("d2"), 10),
          f"{name}: the restarted lvs worker adopts the backup daemon")
    after = log("d2")[before:]
    check("started the backup sync daemon" not in after and "stopped the backup sync daemon" not in after,
          f"{name}: and does not flap it", after[-600:])

    stream = subprocess.Popen(["ip", "netns", "exec", "cl", sys.executable, "-u", "-c", STREAM, VIP, "25"],
                              stdout=subprocess.PIPE, text=True)
    first = stream.stdout.readline().split()
    check(len(first) == 2 and first[0] in ("rf1", "rf2"), f"{name}: a stream through the master", " ".join(first))
    cport = first[1] if len(first) == 2 else "?"
    key = lambda t: [v for k, v in conns(t).items() if k[1] == f"10.99.0.100:{cport}"]  # noqa: E731
    check(wait_for(lambda: key(sh("ip netns exec d2 ipvsadm -Lnc")) != [], 15),
          f"{name}: the backup's kernel has the established connection", str(key(sh("ip netns exec d2 ipvsadm -Lnc"))))
    counters = lambda: status("d2").get("sync", {}).get("counters") or {}  # noqa: E731
    check(wait_for(lambda: counters().get("messages_received", 0) > 0 and counters().get("synced_connections", 0) >= 1,
                   10), f"{name}: the kernel backup's counters (this worker's listener, the kernel's table)",
          json.dumps(counters()))
    t0 = time.monotonic()
    os.killpg(p1.pid, signal.SIGKILL)
    p1.wait()
    sh("ip -n d1 link set eth0 down")  # the master is gone (its kernel would go on forwarding otherwise)
    check(wait_for(lambda: has_vip("d2"), 20), f"{name}: the backup takes the VIP")
    print(f"     the backup holds the VIP {time.monotonic() - t0:.1f} s after the kill", flush=True)
    time.sleep(3)
    before = sh("ip netns exec d2 ipvsadm -Ln --stats")
    time.sleep(2)
    entry = key(sh("ip netns exec d2 ipvsadm -Lnc"))
    check(bool(entry) and entry[0][0] == "ESTABLISHED", f"{name}: the new master's connection entry", str(entry))
    pkts = lambda t: int(re.search(r"TCP\s+\S+\s+\d+\s+(\d+)", t).group(1))  # noqa: E731
    after = sh("ip netns exec d2 ipvsadm -Ln --stats")
    check(pkts(after) > pkts(before) + 50, f"{name}: the new master forwards the stream",
          f"InPkts {pkts(before)} -> {pkts(after)}")
    out = stream.stdout.readline().split()
    stream.wait(timeout=60)
    check(out[:1] == ["ok"], f"{name}: the established stream survived the failover",
          f"{' '.join(out)} (round trips, longest wait in s)")
    check(wait_for(lambda: "master sync daemon" in daemons("d2") and "backup sync daemon" not in daemons("d2"), 10),
          f"{name}: the new master switched its daemon", daemons("d2"))
    p2.send_signal(signal.SIGTERM)
    check(p2.wait(timeout=60) == 0, f"{name}: director 2 stops cleanly")
    check(daemons("d2").strip() == "", f"{name}: and stops its sync daemon", daemons("d2"))
    sh("ip -n d1 link set eth0 up")


def interop():
    name = "kernel master -> userspace backup"
    sh(f"ip -n d1 addr del {VIP}/24 dev eth0", check=False)
    sh(f"ip -n d2 addr del {VIP}/24 dev eth0", check=False)
    # what the killed director 1 left in its kernel: its service and its master daemon
    sh("ip netns exec d1 sh -c 'ipvsadm -C; ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup'", check=False)
    sh("ip netns exec d1 sysctl -qw net.ipv4.ip_forward=1")
    sh(f"ip -n d1 addr add {VIP}/24 dev eth0 && ip -n d1 addr add 10.98.0.1/24 dev eth1")
    sh(f"ip netns exec d1 sh -c 'ipvsadm -A -t {VIP}:7007 -s rr -p 600 && ipvsadm -a -t {VIP}:7007 -r 10.98.0.51:7007 -m"
       f" && ipvsadm -a -t {VIP}:7007 -r 10.98.0.52:7007 -m && ipvsadm --start-daemon master --mcast-interface eth0"
       f" --syncid 51'")
    reals = ", ".join(f'{{ address = "10.98.0.5{i}"; port = 7007; checks = ( {{ type = "tcp"; }} ); }}' for i in (1, 2))
    p2 = directord("d2", global_conf("d2", "userspace", 'interface = "eth0"; sync_id = 51;') + f"""
virtual_servers = ( {{ address = "{VIP}"; port = 7007; scheduler = "rr"; persistence_timeout = 600; delay_loop = 1.0;
  connect_timeout = 2.0; real_servers = ( {reals} ); }} );
""")
    env = dict(os.environ, DIRECTORD_SOCKET=f"{WORK}/d2.sock")
    ours = lambda *a: subprocess.run(["ip", "netns", "exec", "d2", IPVSCTL, *a], capture_output=True,  # noqa: E731
                                     text=True, env=env).stdout
    check(wait_for(lambda: ours("-Ln").count("Masq") == 2 and "backup sync daemon" in ours("-L", "--daemon"), 60),
          f"{name}: the userspace director is up with both daemons", ours("-L", "--daemon"))
    sh("ip netns exec cl ip neigh flush all")  # the VIP was director 2's a moment ago
    hold = subprocess.Popen(["ip", "netns", "exec", "cl", sys.executable, "-u", "-c", HOLD, VIP, ",".join(SOURCES)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    first = json.loads(hold.stdout.readline())
    placed = {src: rs for src, (rs, _) in first.items()}
    check(None not in placed.values() and set(placed.values()) == {"rb1", "rb2"},
          f"{name}: 20 clients through the kernel master", json.dumps(placed))
    time.sleep(4)  # the kernel sends a partial datagram 2-3 s after its first entry
    t0 = time.monotonic()
    kernel = conns(sh("ip netns exec d1 ipvsadm -Lnc"))
    mine = conns(ours("-Lnc"))
    compare(name, kernel, mine, 1 + 3 + apart(t0), first)
    active = lambda t: sorted(re.findall(r"Masq\s+\d+\s+(\d+)", t))  # noqa: E731
    check(active(ours("-Ln")) == active(sh("ip netns exec d1 ipvsadm -Ln")),
          f"{name}: the same active connections per real server", f"{active(ours('-Ln'))}")
    st = status("d2").get("sync", {}).get("counters", {})
    check(st.get("templates_installed", 0) >= 20 and st.get("dropped", {}).get("total", 1) == 0,
          f"{name}: the userspace backup's counters", json.dumps(st))
    hold.stdin.close()
    hold.wait(timeout=30)

    name = "userspace master -> kernel backup"
    sh("ip netns exec d1 sh -c 'ipvsadm --stop-daemon master; ipvsadm --start-daemon backup --mcast-interface eth0"
       " --syncid 51'")
    sh(f"ip -n d1 addr del {VIP}/24 dev eth0 && ip -n d2 addr add {VIP}/24 dev eth0")
    sh("ip netns exec cl ip neigh flush all")
    hold = subprocess.Popen(["ip", "netns", "exec", "cl", sys.executable, "-u", "-c", HOLD, VIP, ",".join(SOURCES)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    second = json.loads(hold.stdout.readline())
    again = {src: rs for src, (rs, _) in second.items()}
    check(again == placed, f"{name}: every client reaches the real server the kernel gave it", json.dumps(again))
    time.sleep(1.5)
    t0 = time.monotonic()
    mine = conns(ours("-Lnc"))
    kernel = conns(sh("ip netns exec d1 ipvsadm -Lnc"))
    compare(name, mine, kernel, 1 + apart(t0), second)
    hold.stdin.close()
    hold.wait(timeout=30)
    p2.send_signal(signal.SIGTERM)
    check(p2.wait(timeout=60) == 0, f"{name}: the userspace director stops cleanly")


def main():
    global DIRECTORD, IPVSCTL, DIRECTORCTL
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    args = ap.parse_args()
    DIRECTORD = os.path.abspath(args.directord)
    IPVSCTL = os.path.join(os.path.dirname(DIRECTORD), "ipvsctl")
    DIRECTORCTL = os.path.join(os.path.dirname(DIRECTORD), "directorctl")
    procs = lab()
    try:
        dr_pair()
        interop()
    finally:
        for p in procs:
            p.kill()
    print(f"{len(failures)} failure(s)")
    if failures:
        for ns in ("d1", "d2"):
            print(f"--- {ns}.log\n" + log(ns)[-4000:])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
