#!/usr/bin/env python3
"""Connection sync between two directord on the userspace plane, end to end (root, network
namespaces, on the lab of tests/lib/dlab: two directors and a client on a bridge, two real servers
on the bridge's own namespace). A persistent virtual service (rr, persistence_timeout 600) and
VRRP with sync_daemon following the instance, as keepalived's lvs_sync_daemon.

- A client with 20 source addresses learns its real servers through the master; the backup has
  all 20 templates (ipvsctl -Lnc) and counts them in directorctl status.
- kill -9 of the master's whole process group: the backup takes the VIP, and every client
  reaches the same real server through it.
- The old master returns (preempt_delay 3 s, clients still connecting meanwhile), learns the
  templates as the new master sends them, preempts: still the same real servers.
- Malformed and foreign sync datagrams sent to the backup are counted by reason and dropped.
- A client probing the VIP every 10 ms measures each failover as it sees it (printed)."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from dlab import report
from dlab.netns import lab_for, start_whoami, status
from dlab.report import check, sh, wait

VIP = "10.99.0.10"
RS = {"rs1": "10.99.0.51", "rs2": "10.99.0.52"}
SOURCES = [f"10.99.0.{101 + i}" for i in range(20)]

# One connection from each source address; prints {source: real server or null}.
ASK = r"""
import json, socket, sys
out = {}
for src in sys.argv[2].split(","):
    try:
        s = socket.socket(); s.settimeout(2); s.bind((src, 0)); s.connect((sys.argv[1], 7007))
        out[src] = s.recv(64).decode().strip() or None; s.close()
    except OSError:
        out[src] = None
print(json.dumps(out))
"""

# Connects from every source in turn, for ever (the clients keep coming during the return).
KEEP = r"""
import socket, sys, time
while True:
    for src in sys.argv[2].split(","):
        try:
            s = socket.socket(); s.settimeout(1); s.bind((src, 0)); s.connect((sys.argv[1], 7007)); s.recv(64); s.close()
        except OSError:
            pass
    time.sleep(0.05)
"""

# A connection attempt every 10 ms; prints the time of each one answered.
PROBE = r"""
import socket, sys, time
while True:
    t = time.monotonic()
    try:
        s = socket.socket(); s.settimeout(0.2); s.connect((sys.argv[1], 7007)); s.recv(64); s.close()
        print(t, flush=True)
    except OSError:
        pass
    time.sleep(max(0, 0.01 - (time.monotonic() - t)))
"""


class Probe:
    def __init__(self, lab):
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-u", "-c", PROBE, VIP],
                                  stdout=subprocess.PIPE, text=True)
        self.times = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for line in self.p.stdout:
            try:
                self.times.append(float(line))
            except ValueError:
                pass

    def gap(self, start, end):
        times = [start] + [t for t in list(self.times) if start <= t <= end] + [end]
        return max(b - a for a, b in zip(times, times[1:]))

    def close(self):
        self.p.kill()
        self.p.wait()


def conf(lab, i, prio):
    ns = lab.ns[i]
    reals = ", ".join(f'{{ address = "{a}"; port = 7007; checks = ( {{ type = "tcp"; }} ); }}' for a in RS.values())
    return f"""global = {{ data_plane = "userspace"; pid_file = "{lab.work}/{ns}.pid"; script_user = "root";
  control_socket = "{lab.work}/{ns}.sock"; state_dump_file = "{lab.work}/{ns}.json";
  sync_daemon = {{ interface = "eth0"; vrrp_instance = "VI_1"; sync_id = 51; }}; }};
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 51; priority = {prio}; version = 3;
  advert_interval = 0.1; preempt_delay = 3; virtual_addresses = ( {{ address = "{VIP}/24"; }} ); }} );
virtual_servers = ( {{ address = "{VIP}"; port = 7007; scheduler = "rr"; persistence_timeout = 600;
  delay_loop = 0.5; connect_timeout = 1.0; retry = 0; real_servers = ( {reals} ); }} );
"""


def ask(lab):
    out = sh(f"ip netns exec {lab.cl} {sys.executable} -c '{ASK}' {VIP} {','.join(SOURCES)}", check=False).stdout
    try:
        return json.loads(out)
    except ValueError:
        return {}


def ipvsctl(lab, i, *args):
    tool = os.path.join(os.path.dirname(lab.directord), "ipvsctl")
    return sh(f"DIRECTORD_SOCKET={lab.work}/{lab.ns[i]}.sock {tool} {' '.join(args)}", check=False).stdout


def templates(lab, i):
    """The persistence templates in director i's connection table: {client: real server}."""
    out = {}
    for line in ipvsctl(lab, i, "-Lnc").splitlines():
        f = line.split()
        if len(f) == 6 and f[0] == "TCP" and f[2] in ("NONE", "ASSURED") and f[3].endswith(":0"):
            out[f[3].rsplit(":", 1)[0]] = f[5].rsplit(":", 1)[0]
    return out


def sync_counters(lab, i):
    return (status(lab, i).get("sync") or {}).get("counters") or {}


def datagram(sync_id, entries=1, version=1, bad_size=False, option=None):
    """A hand-made sync message: TCP templates from SOURCES[0] to a real server nobody has."""
    body = b""
    for _ in range(entries):
        opt = bytes(option) if option else b""
        e = struct.pack("!BBHIHHHHII4s4s4s", 0, 6, 36 + len(opt), 0x1000, 0, 0, 7007, 7007, 0, 600,
                        socket.inet_aton("192.0.2.1"), socket.inet_aton(VIP), socket.inet_aton("10.99.0.99")) + opt
        body += e + b"\0" * ((4 - len(e) % 4) % 4)
    size = 8 + len(body) + (1 if bad_size else 0)
    return struct.pack("!BBHBbH", 0, sync_id, size, entries, version, 0) + body


SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[2]))
s.sendto(bytes.fromhex(sys.argv[3]), (sys.argv[1], 8848))
"""


def hostile(lab, backup):
    """Bad datagrams to the backup, from the client's namespace on the same LAN."""
    before = sync_counters(lab, backup).get("dropped", {})
    cases = [("wrong_sync_id", datagram(52)), ("not_version_1", datagram(51, version=2)),
             ("bad_size", datagram(51, bad_size=True)), ("unknown_option", datagram(51, option=[9, 2, 0, 0])),
             ("bad_option", datagram(51, option=[1, 0, 0, 0]))]
    for _, d in cases:
        sh(f"ip netns exec {lab.cl} {sys.executable} -c '{SENDER}' 224.0.0.81 10.99.0.100 {d.hex()}")
    # to the backup's own address, not the group: foreign
    sh(f"ip netns exec {lab.cl} {sys.executable} -c '{SENDER}' 10.99.0.1{backup} 10.99.0.100 {datagram(51).hex()}")
    time.sleep(0.5)
    after = sync_counters(lab, backup).get("dropped", {})
    for key, _ in cases + [("foreign", None)]:
        check(after.get(key, 0) > before.get(key, 0), f"hostile sync datagram counted: {key}",
              f"{before.get(key, 0)} -> {after.get(key, 0)}")
    check(lab.procs[backup].poll() is None, "the backup is still running after the hostile datagrams")


def run(directord):
    name = "sync: userspace pair, persistent rr, 20 clients"
    with lab_for(directord, name) as lab:
        start_whoami(lab, RS)
        for src in SOURCES:
            sh(f"ip -n {lab.cl} addr add {src}/24 dev eth0")
        lab.start_raw(1, "directord", conf(lab, 1, 150))
        lab.start_raw(2, "directord", conf(lab, 2, 100))
        check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 20) is not None, f"{name}: director 1 is master")
        check(wait(lambda: len(set(ask(lab).values()) - {None}) == 2, 15) is not None,
              f"{name}: both real servers answer through the master")
        first = ask(lab)
        check(None not in first.values() and set(first.values()) == set(RS), f"{name}: 20 clients placed",
              json.dumps(first))
        again = ask(lab)
        check(again == first, f"{name}: persistence on the master")
        want = {src: RS[rs] for src, rs in first.items()}
        t = wait(lambda: templates(lab, 2) == want, 5, 0.05)
        check(t is not None, f"{name}: the backup has all 20 templates", f"after {t:.2f} s" if t else
              json.dumps(templates(lab, 2)))
        c = sync_counters(lab, 2)
        check(c.get("templates_installed", 0) >= 20 and c.get("messages_received", 0) >= 1,
              f"{name}: the backup's sync counters", json.dumps(c))
        m = sync_counters(lab, 1)
        check(m.get("entries_sent", 0) >= 20, f"{name}: the master's sync counters", json.dumps(m))
        daemons = ipvsctl(lab, 1, "-L", "--daemon") + ipvsctl(lab, 2, "-L", "--daemon")
        check("master sync daemon (mcast=eth0, syncid=51" in daemons and
              "backup sync daemon (mcast=eth0, syncid=51" in daemons, f"{name}: ipvsctl -L --daemon", daemons)

        hostile(lab, 2)

        probe = Probe(lab)
        time.sleep(0.5)
        t0 = time.monotonic()
        lab.kill(1, signal.SIGKILL)
        lab.procs[1].wait()
        check(wait(lambda: lab.has_vip(2), 5) is not None, f"{name}: the backup takes the VIP")
        check(wait(lambda: ask(lab) == first, 5, 0.2) is not None, f"{name}: every client reaches its real server "
              "through the backup", json.dumps(ask(lab)))
        print(f"     failover as a client sees it: {probe.gap(t0, time.monotonic()) * 1000:.0f} ms without an answer")
        c = sync_counters(lab, 2)
        daemons = ipvsctl(lab, 2, "-L", "--daemon")
        check("master sync daemon" in daemons and "backup sync daemon" not in daemons,
              f"{name}: the new master's daemon switched", daemons)

        # The old master returns while clients keep connecting; it preempts after 3 s.
        keep = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-c", KEEP, VIP, ",".join(SOURCES)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        lab.procs["keep"] = keep
        sh(f"ip -n {lab.ns[1]} addr del {VIP}/24 dev eth0", check=False)
        t0 = time.monotonic()
        lab.start_raw(1, "directord", conf(lab, 1, 150))
        check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 15) is not None, f"{name}: the old master preempts")
        print(f"     preempt as a client sees it: {probe.gap(t0, time.monotonic()) * 1000:.0f} ms without an answer")
        os.killpg(keep.pid, signal.SIGKILL)
        keep.wait()
        time.sleep(0.3)
        after = ask(lab)
        check(after == first, f"{name}: after the preempt, still the same real servers", json.dumps(after))
        probe.close()
        for i in (1, 2):
            lab.procs[i].send_signal(signal.SIGTERM)
            check(lab.procs[i].wait(timeout=30) == 0, f"{name}: director {i} stops cleanly")


if __name__ == "__main__":
    report.run_main(run, "sync pair")
