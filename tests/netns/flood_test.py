#!/usr/bin/env python3
"""Floods against the userspace plane at 512 file descriptors (root, network namespaces, on
vrrp_failover_test's lab: a director and a client on a bridge, real servers on the bridge's own
namespace). directord runs with RLIMIT_NOFILE 512 (soft and hard), one TCP and one UDP virtual
service. Three attacks, one after the other:

- 600 one-datagram UDP "clients" with spoofed source addresses, to a real server that never
  answers them;
- 10,000 half-open TCP connections from one client (connected, never sending);
- slowloris: 50 connections from one client, each sending a byte a second.

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vrrp_failover_test as lab_mod  # noqa: E402
from vrrp_failover_test import check, sh, wait  # noqa: E402
from vrrp_features_test import lab_for, status  # noqa: E402

VIP = "10.99.0.10"

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

# Opens argv[2] connections to the VIP from argv[3] and holds them; prints how many connected.
HALF_OPEN = r"""
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
held = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(); s.setblocking(False); s.bind((sys.argv[3], 0))
    try: s.connect((sys.argv[1], 7007))
    except BlockingIOError: pass
    except OSError: s.close(); continue
    held.append(s)
print(len(held), flush=True)
sys.stdin.read()
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
  userspace = {{ udp_unanswered_timeout = 3; }}; }};
virtual_servers = (
  {{ address = "{VIP}"; port = 7007; scheduler = "rr"; delay_loop = 0.5; connect_timeout = 1.0; retry = 0;
     real_servers = ( {{ address = "10.99.0.51"; port = 7007; checks = ( {{ type = "tcp"; }} ); }},
                      {{ address = "10.99.0.52"; port = 7007; checks = ( {{ type = "tcp"; }} ); }} ); }},
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
        half = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-u", "-c", HALF_OPEN, VIP, "10000",
                                 "10.99.0.102"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
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

        text = open(os.path.join(lab.work, f"{ns}.log")).read()
        check(text.count("UDP flow limit reached") == 1 and text.count("TCP connection limit reached") == 1,
              f"{name}: each limit logged once", f"{text.count('UDP flow limit reached')}, "
                                                  f"{text.count('TCP connection limit reached')}")
        check("Too many open files" not in text, f"{name}: no worker ran out of descriptors")
        lab.procs[1].send_signal(signal.SIGTERM)
        check(lab.procs[1].wait(timeout=30) == 0, f"{name}: directord stops cleanly")


if __name__ == "__main__":
    lab_mod.run_main(run, "flood")
