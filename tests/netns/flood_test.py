#!/usr/bin/env python3
"""Floods against the userspace plane at 512 file descriptors (root, network namespaces, on
the lab of tests/lib/dlab: a director and a client on a bridge, real servers on the bridge's own
namespace). directord runs with RLIMIT_NOFILE 512 (soft and hard), one TCP and one UDP virtual
service. Three attacks, one after the other:

- 600 one-datagram UDP "clients" with spoofed source addresses, to a real server that never
  answers them;
- 10,000 half-open TCP connections from one client (connected, never sending);
- slowloris: 50 connections from one client, each sending a byte a second;
- 1,000 IPv4 sources each holding a connection open and silent: the budget fills, refusing the
  rest, and while it is crowded the idle ones are closed after tcp_progress_timeout (4 s here),
  so another client is served within it; and one host rotating through 300 addresses of its
  IPv6 /64 (one source: its share and no more; a client in another /64 is served);
- a trickle: five connections to a real server that stays silent, each sending a byte a second,
  are closed after tcp_progress_timeout, whatever they trickle.

After each: the real servers' checks are still UP, directorctl status answers, another client
gets through the TCP service, what was refused is counted in status (`forwarding`), and the
refusal is logged once. The spoofed UDP flows end after udp_unanswered_timeout, and a real UDP
client gets through again."""
import json
import os
import resource
import signal
import subprocess
import sys
import time

from dlab import report
from dlab.netns import lab_for, status
from dlab.report import check, sh, wait

VIP, VIP6 = "10.99.0.10", "fd00:98::10"

# A real server that reads and never answers (for the trickle).
SILENT = r"""
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.51", 7008)); s.listen(64)
def drain(c):
    while c.recv(4096): pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
"""

WHOAMI6 = r"""
import socket
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("fd00:98::51", 7007)); s.listen(1024)
while True:
    c, _ = s.accept()
    try: c.sendall(b"rs6\n")
    except OSError: pass
    c.close()
"""

# Opens argv[3] (default 1) connections to argv[1]:7007 from each source in argv[2] (comma-
# separated) and holds them, never sending; prints how many connected, then waits for stdin to close.
HOLD = r"""
import resource, socket, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
srcs = sys.argv[2].split(",") * (int(sys.argv[3]) if len(sys.argv) > 3 else 1)
held = []
for src in srcs:
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM); s.setblocking(False); s.bind((src, 0))
    try: s.connect((sys.argv[1], 7007))
    except BlockingIOError: pass
    except OSError: s.close(); continue
    held.append(s)
print(len(held), flush=True)
sys.stdin.read()
"""

# Trickles a byte a second on argv[2] connections from argv[3]; prints when each was closed by
# the far end (seconds after it connected), or "open" for those still open after argv[4] s.
TRICKLE = r"""
import socket, sys, time
conns = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(); s.bind((sys.argv[3], 0)); s.settimeout(2); s.connect((sys.argv[1], 7007))
    conns.append([s, time.monotonic(), None])
end = time.monotonic() + float(sys.argv[4])
while time.monotonic() < end and any(c[2] is None for c in conns):
    for c in conns:
        if c[2] is not None: continue
        try:
            c[0].send(b"x")
            c[0].settimeout(0.01)
            if c[0].recv(64) == b"": c[2] = time.monotonic() - c[1]
        except socket.timeout: pass
        except OSError: c[2] = time.monotonic() - c[1]
    time.sleep(1)
print(" ".join("open" if c[2] is None else "%.1f" % c[2] for c in conns))
"""

WHOAMI = r"""
import socket, sys, threading
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], 7007)); s.listen(1024)
    while True:
        c, _ = s.accept()
        try: c.sendall(sys.argv[2].encode() + b"\n")
        except OSError: pass
        c.close()
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 5353))
    while True:
        d, peer = s.recvfrom(2048)
        if d.startswith(b"hello"): s.sendto(b"answer " + d, peer)  # the flood gets no answer
threading.Thread(target=udp, daemon=True).start()
tcp()
"""

# argv: count, first source octet. Spoofed sources 10.99.<200+i//250>.<i%250+1>.
SPOOF = r"""
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
dst = socket.inet_aton(sys.argv[1])
for i in range(int(sys.argv[2])):
    src = socket.inet_aton("10.99.%d.%d" % (200 + i // 250, i % 250 + 1))
    payload = b"flood"
    udp = struct.pack("!HHHH", 40000 + i % 20000, 5353, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, src, dst)
    s.sendto(ip + udp, (sys.argv[1], 0))
"""

SLOWLORIS = r"""
import socket, sys, time
held = []
for _ in range(int(sys.argv[2])):
    try:
        s = socket.socket(); s.bind((sys.argv[3], 0)); s.settimeout(2); s.connect((sys.argv[1], 7007)); held.append(s)
    except OSError: pass
print(len(held), flush=True)
for _ in range(int(sys.argv[4])):
    for s in held:
        try: s.send(b"x")
        except OSError: pass
    time.sleep(1)
"""

ASK_TCP = r"""
import socket, sys
ok = 0
for _ in range(int(sys.argv[3])):
    try:
        s = socket.socket(); s.settimeout(2); s.bind((sys.argv[2], 0)); s.connect((sys.argv[1], 7007))
        ok += s.recv(64).startswith(b"rs"); s.close()
    except OSError: pass
print(ok)
"""

ASK_UDP = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); s.bind((sys.argv[2], 0))
s.sendto(b"hello", (sys.argv[1], 5353))
try: print(s.recv(64).decode())
except OSError: print("no answer")
"""


def conf(lab):
    ns = lab.ns[1]
    return f"""global = {{ data_plane = "userspace"; pid_file = "{lab.work}/{ns}.pid"; script_user = "root";
  control_socket = "{lab.work}/{ns}.sock"; state_dump_file = "{lab.work}/{ns}.json";
  userspace = {{ udp_unanswered_timeout = 3; tcp_progress_timeout = 4; }}; }};
virtual_servers = (
  {{ address = "{VIP}"; port = 7007; scheduler = "rr"; delay_loop = 0.5; connect_timeout = 1.0; retry = 0;
     real_servers = ( {{ address = "10.99.0.51"; port = 7007; checks = ( {{ type = "tcp"; }} ); }},
                      {{ address = "10.99.0.52"; port = 7007; checks = ( {{ type = "tcp"; }} ); }} ); }},
  {{ address = "{VIP6}"; port = 7007; scheduler = "rr"; delay_loop = 0.5; connect_timeout = 1.0; retry = 0;
     real_servers = ( {{ address = "fd00:98::51"; port = 7007; checks = ( {{ type = "tcp"; }} ); }} ); }},
  {{ address = "{VIP}"; port = 7008; scheduler = "rr"; delay_loop = 0.5; connect_timeout = 1.0; retry = 0;
     real_servers = ( {{ address = "10.99.0.51"; port = 7008; checks = ( {{ type = "tcp"; }} ); }} ); }},
  {{ address = "{VIP}"; port = 5353; protocol = "udp"; scheduler = "rr";
     real_servers = ( {{ address = "10.99.0.51"; port = 5353; checks = ( {{ type = "tcp"; connect_port = 7007; }} ); }} ); }} );
"""


def healthy(lab):
    st = status(lab, 1)
    if not st:
        return False, "no answer from directorctl"
    states = [c.get("health") for c in st.get("checks", [])]
    return bool(states) and all(h == "UP" for h in states), json.dumps(states)


def tcp_ok(lab, source, n=10):
    out = sh(f"ip netns exec {lab.cl} {sys.executable} -c '{ASK_TCP}' {VIP} {source} {n}", check=False).stdout.strip()
    return int(out or 0)


def forwarding(lab):
    return status(lab, 1).get("forwarding", {})


def after(lab, name):
    ok, detail = healthy(lab)
    check(ok, f"{name}: the real servers' checks are still UP, directorctl answers", detail)
    got = tcp_ok(lab, "10.99.0.101")
    check(got == 10, f"{name}: another client gets through the TCP service", f"{got} of 10")


def run(directord):
    name = "flood at 512 descriptors"
    with lab_for(directord, name) as lab:
        for n, addr in ((1, "10.99.0.51"), (2, "10.99.0.52")):
            sh(f"ip -n {lab.lan} addr add {addr}/16 dev br0")
            lab.procs[f"rs{n}"] = subprocess.Popen(["ip", "netns", "exec", lab.lan, sys.executable, "-c", WHOAMI, addr,
                                                    f"rs{n}"], start_new_session=True)
        for a in ("10.99.0.101", "10.99.0.102"):
            sh(f"ip -n {lab.cl} addr add {a}/24 dev eth0")
        # IPv6: the VIP's /64 on the director, a real server in it on the bridge
        sh(f"ip -n {lab.ns[1]} addr add {VIP6}/64 dev eth0 nodad")
        sh(f"ip -n {lab.lan} addr add fd00:98::51/64 dev br0 nodad")
        lab.procs["rs6"] = subprocess.Popen(["ip", "netns", "exec", lab.lan, sys.executable, "-c", WHOAMI6],
                                            start_new_session=True)
        lab.procs["silent"] = subprocess.Popen(["ip", "netns", "exec", lab.lan, sys.executable, "-c", SILENT],
                                               start_new_session=True)
        sh(f"ip -n {lab.ns[1]} addr add {VIP}/24 dev eth0")
        ns = lab.ns[1]
        with open(os.path.join(lab.work, f"{ns}.conf"), "w") as f:
            f.write(conf(lab))
        log = open(os.path.join(lab.work, f"{ns}.log"), "a")
        limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512))  # noqa: E731
        lab.procs[1] = subprocess.Popen(["ip", "netns", "exec", ns, directord, "-f", f"{lab.work}/{ns}.conf"],
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=limit)
        check(wait(lambda: healthy(lab)[0], 20) is not None, f"{name}: directord up, checks UP", healthy(lab)[1])
        check(wait(lambda: tcp_ok(lab, "10.99.0.100", 2) == 2, 10) is not None, f"{name}: the TCP service answers")
        udp = lambda: sh(f"ip netns exec {lab.cl} {sys.executable} -c '{ASK_UDP}' {VIP} 10.99.0.100").stdout  # noqa: E731
        check("answer hello" in udp(), f"{name}: the UDP service answers")
        f0 = forwarding(lab)
        check(f0.get("udp_flows_limit", 0) > 0 and f0.get("tcp_connections_limit", 0) > 0,
              f"{name}: the budget from 512 descriptors", json.dumps(f0))

        # 1. spoofed UDP sources
        what = "600 spoofed UDP sources"
        sh(f"ip netns exec {lab.cl} {sys.executable} -c '{SPOOF}' {VIP} 600")
        time.sleep(1)
        f1 = forwarding(lab)
        check(f1.get("udp_flows_refused", 0) > 0 and f1.get("udp_flows", 0) <= f1.get("udp_flows_limit", 0),
              f"{name}: {what}: refused past the limit and counted", json.dumps(f1))
        after(lab, f"{name}: {what}")
        check(wait(lambda: forwarding(lab).get("udp_flows", 1) <= 1, 15) is not None,
              f"{name}: {what}: the unanswered flows end after udp_unanswered_timeout", json.dumps(forwarding(lab)))
        check("answer hello" in udp(), f"{name}: {what}: a real UDP client gets through again")

        # 2. half-open TCP connections from one client
        what = "10,000 half-open TCP connections"
        half = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-u", "-c", HOLD, VIP, "10.99.0.102",
                                 "10000"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        print(f"     {half.stdout.readline().strip()} connections opened", flush=True)
        time.sleep(2)
        f2 = forwarding(lab)
        check(f2.get("tcp_connections_refused", 0) > 0, f"{name}: {what}: refused past the per-source limit",
              json.dumps(f2))
        after(lab, f"{name}: {what}")
        half.stdin.close()
        half.wait(timeout=30)

        # 3. slowloris
        what = "slowloris"
        slow = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-u", "-c", SLOWLORIS, VIP, "50",
                                 "10.99.0.102", "5"], stdout=subprocess.PIPE, text=True)
        print(f"     {slow.stdout.readline().strip()} slow connections", flush=True)
        time.sleep(1)
        after(lab, f"{name}: {what}")
        slow.wait(timeout=30)

        # 4. a thousand IPv4 sources, then one IPv6 /64 rotating its addresses
        what = "1,000 IPv4 sources"
        srcs = [f"10.99.{4 + i // 250}.{i % 250 + 1}" for i in range(1000)]
        batch = "\n".join(f"addr add {s}/16 dev eth0" for s in srcs)
        subprocess.run(["ip", "-n", lab.cl, "-batch", "-"], input=batch, text=True, check=True)
        sh(f"ip -n {ns} route add 10.99.0.0/16 dev eth0")
        before = forwarding(lab)
        many = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-u", "-c", HOLD, VIP,
                                 ",".join(srcs)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        print(f"     {many.stdout.readline().strip()} connections opened", flush=True)
        time.sleep(2)
        f4 = forwarding(lab)
        check(f4.get("tcp_connections", 0) <= f4.get("tcp_connections_limit", 0) and
              f4.get("tcp_connections_refused", 0) > before.get("tcp_connections_refused", 0),
              f"{name}: {what}: the budget holds, the rest refused and counted", json.dumps(f4))
        # the flood's connections still queued in the listener's backlog take the freed slots too
        # (each from a prefix holding nothing), so the client is served as they go, not all at once
        t = wait(lambda: tcp_ok(lab, "10.99.0.101", 1) == 1, 15, 0.2)
        check(t is not None and t <= 4 + 3, f"{name}: {what}: idle under crowding, they go after "
              "tcp_progress_timeout (4 s): another client is served", f"after {t:.1f} s" if t else "never")
        many.stdin.close()
        many.wait(timeout=30)
        after(lab, f"{name}: {what}: once they stop")
        check(wait(lambda: forwarding(lab).get("tcp_connections", 99) <= 2, 15) is not None,
              f"{name}: {what}: their slots come back", json.dumps(forwarding(lab)))

        what = "one IPv6 /64 rotating 300 addresses"
        rot = [f"fd00:98::{0x1000 + i:x}" for i in range(300)]
        batch = "\n".join(f"addr add {a}/64 dev eth0 nodad" for a in rot + ["fd00:97::5"])
        subprocess.run(["ip", "-n", lab.cl, "-batch", "-"], input=batch, text=True, check=True)
        sh(f"ip -n {ns} route add fd00:97::/64 dev eth0")
        rotate = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-u", "-c", HOLD, VIP6,
                                   ",".join(rot)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        print(f"     {rotate.stdout.readline().strip()} connections opened", flush=True)
        time.sleep(2)
        f5 = forwarding(lab)
        check(f5.get("tcp_connections", 0) <= f5.get("tcp_connections_per_source", 0),
              f"{name}: {what}: one source, held at its share", json.dumps(f5))
        ask6 = ASK_TCP.replace("socket.socket()", "socket.socket(socket.AF_INET6)")
        got = sh(f"ip netns exec {lab.cl} {sys.executable} -c '{ask6}' {VIP6} fd00:97::5 10", check=False).stdout
        check(got.strip() == "10", f"{name}: {what}: a client in another /64 gets through", got.strip())
        after(lab, f"{name}: {what}")
        rotate.stdin.close()
        rotate.wait(timeout=30)

        # 5. a trickle: closed after tcp_progress_timeout (4 s), whatever it trickles
        what = "five connections trickling a byte a second"
        out = sh(f"ip netns exec {lab.cl} {sys.executable} -c '{TRICKLE.replace('7007', '7008')}' {VIP} 5 10.99.0.102 15").stdout.split()
        closed = [float(x) for x in out if x != "open"]
        check(len(closed) == 5 and all(3.5 <= t <= 9 for t in closed),
              f"{name}: {what}: each closed after tcp_progress_timeout (4 s; a tick of 1 s)", " ".join(out))
        after(lab, f"{name}: {what}")

        text = open(os.path.join(lab.work, f"{ns}.log")).read()
        check(text.count("UDP flow limit reached") == 1 and text.count("TCP connection limit reached") == 1,
              f"{name}: each limit logged once", f"{text.count('UDP flow limit reached')}, "
                                                  f"{text.count('TCP connection limit reached')}")
        check("Too many open files" not in text, f"{name}: no worker ran out of descriptors")
        lab.procs[1].send_signal(signal.SIGTERM)
        check(lab.procs[1].wait(timeout=30) == 0, f"{name}: directord stops cleanly")


if __name__ == "__main__":
    report.run_main(run, "flood")
