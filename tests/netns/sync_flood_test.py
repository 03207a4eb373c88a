#!/usr/bin/env python3
"""A host on the sync link cannot grow a backup's synced state (root, network namespaces).

One directord on the userspace plane runs the backup sync daemon (small caps: 5,000 connections,
2,000 templates, 2,000 of each from one sender) in front of two real servers, a persistent virtual
service on its own address. A host on the LAN floods the sync group with spoofed datagrams from
four forged senders: 9,600 connections and 3,200 templates bound to the real service, each stating
a timeout of 2^32-1 s. Checked: the synced connections and templates stay under their caps (and
each sender under its share), every refusal is counted by cap, each synced entry's expiry is the
plane's own timeout, the daemon's memory grows by no more than the caps account for, and a client
connecting through the plane every 10 ms meanwhile is always served. Then `peers` lists the one
real master: a second flood is dropped as not_a_peer and installs nothing."""
import os
import signal
import subprocess
import sys
import time

from dlab import report
from dlab.netns import lab_for, start_whoami, status
from dlab.report import check, sh, wait

VS = "10.99.0.12"  # director 2's own address: no VRRP needed to serve on it
RS = {"rs1": "10.99.0.51", "rs2": "10.99.0.52"}
SPOOFED = ["10.99.0.201", "10.99.0.202", "10.99.0.203", "10.99.0.204"]
CAPS = (5000, 2000, 2000)  # connections, templates, per sender

# Spoofed sync datagrams (IP_HDRINCL: the source is forged), 40 entries each, to the group.
FLOOD = r"""
import socket, struct, sys, time
srcs, vs, rs, kind, per = sys.argv[1].split(","), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, struct.pack("4s4si", b"\0" * 4, b"\0" * 4,
             socket.if_nametoindex("eth0")))
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
n = 0
for si, src in enumerate(srcs):
    for d in range(per):
        body = b""
        for e in range(40):
            n += 1
            client = socket.inet_aton("198.18.%d.%d" % (n >> 8 & 255, n & 255))
            if kind == "conn":  # TCP ESTABLISHED, NAT, timeout 2^32-1
                body += struct.pack("!BBHIHHHHII4s4s4s", 0, 6, 36, 0, 1, 1024 + n % 60000, 7007, 7007, 0,
                                    0xffffffff, client, socket.inet_aton(vs), socket.inet_aton(rs))
            else:  # a persistence template (cport 0), timeout 2^32-1
                body += struct.pack("!BBHIHHHHII4s4s4s", 0, 6, 36, 0x1000, 1, 0, 7007, 7007, 0,
                                    0xffffffff, client, socket.inet_aton(vs), socket.inet_aton(rs))
        msg = struct.pack("!BBHBbH", 0, 51, 8 + len(body), 40, 1, 0) + body
        udp = struct.pack("!HHHH", 8848, 8848, 8 + len(msg), 0) + msg
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xffff, 0, 1, 17, 0,
                         socket.inet_aton(src), socket.inet_aton("224.0.0.81"))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s.sendto(ip + udp, ("224.0.0.81", 0))
        time.sleep(0.005)  # paced: a backup slowed by the sanitizers reads them all (none lost in its socket)
"""

# A connection through the plane every 10 ms; prints "ok" or "fail" with the time.
CLIENT = r"""
import socket, sys, time
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    t = time.monotonic()
    try:
        s = socket.socket(); s.settimeout(1); s.connect((sys.argv[1], 7007)); ok = bool(s.recv(64)); s.close()
    except OSError:
        ok = False
    print("ok" if ok else "fail", t, flush=True)
    time.sleep(max(0, 0.01 - (time.monotonic() - t)))
"""


def conf(lab, peers=""):
    ns = lab.ns[2]
    reals = ", ".join(f'{{ address = "{a}"; port = 7007; checks = ( {{ type = "tcp"; }} ); }}' for a in RS.values())
    return f"""global = {{ data_plane = "userspace"; pid_file = "{lab.work}/{ns}.pid"; script_user = "root";
  control_socket = "{lab.work}/{ns}.sock";
  sync_daemon = {{ interface = "eth0"; sync_id = 51; max_connections = {CAPS[0]}; max_templates = {CAPS[1]};
    max_per_source = {CAPS[2]}; {peers} }}; }};
virtual_servers = ( {{ address = "{VS}"; port = 7007; scheduler = "rr"; persistence_timeout = 300;
  delay_loop = 0.5; connect_timeout = 1.0; retry = 0; real_servers = ( {reals} ); }} );
"""


def counters(lab):
    return (status(lab, 2).get("sync") or {}).get("counters") or {}


def ipvsctl(lab, *args):
    tool = os.path.join(os.path.dirname(lab.directord), "ipvsctl")
    return sh(f"DIRECTORD_SOCKET={lab.work}/{lab.ns[2]}.sock {tool} {' '.join(args)}", check=False).stdout


def rss_kb(root_pid):
    """Resident memory of a process and all its descendants (the supervisor and its workers), kB."""
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo += [int(x) for x in f.read().split()]
        except (OSError, StopIteration):
            pass
    return total


def synced_table(lab):
    """The flood's synced entries (clients in 198.18.0.0/16, not the real client's) in ipvsctl -Lnc:
    (connections, templates, longest expiry of each in seconds)."""
    conns = tmpls = 0
    longest = [0, 0]
    for line in ipvsctl(lab, "-Lnc").splitlines():
        f = line.split()
        if len(f) != 6 or f[0] != "TCP" or not f[3].startswith("198.18."):
            continue
        mm, ss = f[1].split(":")
        secs = int(mm) * 60 + int(ss)
        is_tmpl = f[3].endswith(":0")
        if is_tmpl:
            tmpls += 1
        else:
            conns += 1
        longest[is_tmpl] = max(longest[is_tmpl], secs)
    return conns, tmpls, longest


def flood(lab, kind, per):
    sh(f"ip netns exec {lab.cl} {sys.executable} -c '{FLOOD}' {','.join(SPOOFED)} {VS} {RS['rs1']} {kind} {per}")


def run(directord):
    name = "sync flood"
    with lab_for(directord, name) as lab:
        start_whoami(lab, RS)
        lab.start_raw(2, "directord", conf(lab))
        served = lambda: "rs" in sh(f"ip netns exec {lab.cl} {sys.executable} -c \"import socket; s=socket.create_connection(('{VS}', 7007), 1); print(s.recv(64).decode())\"", check=False).stdout  # noqa: E501,E731
        check(wait(served, 20, 0.2) is not None, f"{name}: the plane serves a client")
        check(wait(lambda: "backup sync daemon" in ipvsctl(lab, "-L", "--daemon"), 10) is not None,
              f"{name}: the backup sync daemon runs")
        time.sleep(1)
        rss0 = rss_kb(lab.procs[2].pid)
        client = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-u", "-c", CLIENT, VS, "6"],
                                  stdout=subprocess.PIPE, text=True)
        lab.procs["client"] = client
        time.sleep(0.5)
        t0 = time.monotonic()
        flood(lab, "conn", 60)   # 4 x 60 x 40 = 9,600 connections
        flood(lab, "tmpl", 20)   # 4 x 20 x 40 = 3,200 templates
        print(f"     flood sent in {time.monotonic() - t0:.2f} s", flush=True)
        wait(lambda: counters(lab).get("entries_received", 0) >= 12800, 10, 0.2)
        c = counters(lab)
        dropped = c.get("dropped", {})
        conns, tmpls, longest = synced_table(lab)
        rss1 = rss_kb(lab.procs[2].pid)
        check(c.get("entries_received", 0) >= 12800, f"{name}: the backup read the flood",
              f"{c.get('entries_received')} entries")
        check(c.get("synced_connections", 0) == CAPS[0] and conns == CAPS[0],
              f"{name}: synced connections held at the cap ({CAPS[0]})", f"status {c.get('synced_connections')}, "
              f"table {conns}")
        check(tmpls == CAPS[1], f"{name}: templates installed by sync held at the cap ({CAPS[1]})", str(tmpls))
        check(dropped.get("connections_over_source_cap", 0) > 0 and dropped.get("connections_over_cap", 0) > 0 and
              dropped.get("templates_over_cap", 0) > 0, f"{name}: every refusal counted by cap", str(dropped))
        check(dropped.get("connections_over_cap", 0) + dropped.get("connections_over_source_cap", 0) == 9600 - CAPS[0],
              f"{name}: each refused connection counted once", str(dropped))
        # 2,400 a sender: the first two keep 2,000 each (their share), the third 1,000 (the total)
        check(dropped.get("connections_over_source_cap", 0) == 800, f"{name}: two senders held at their share",
              str(dropped))
        check(0 < longest[0] <= 900 and 0 < longest[1] <= 300,
              f"{name}: expiry is the plane's own (TCP 900 s, the service's persistence 300 s), not 2^32 s",
              f"longest connection {longest[0]} s, template {longest[1]} s")
        grew = (rss1 - rss0) / 1024
        if os.environ.get("ASAN_OPTIONS"):  # the sanitizer's allocator and quarantine, not ours: printed only
            print(f"     the daemon's memory grew by {grew:.1f} MB (under AddressSanitizer: not judged)")
        else:
            check(grew < 40, f"{name}: the daemon's memory grew by {grew:.1f} MB (bounded by the caps)")
        rows = [line.split() for line in client.communicate(timeout=30)[0].splitlines()]
        fails = [r for r in rows if r[0] != "ok"]
        check(len(rows) > 100 and not fails, f"{name}: a client through the plane every 10 ms is always served",
              f"{len(rows)} connections, {len(fails)} failed")

        # only the real master is heard now
        with open(os.path.join(lab.work, f"{lab.ns[2]}.conf"), "w") as f:
            f.write(conf(lab, 'peers = [ "10.99.0.11" ];'))
        lab.procs[2].send_signal(signal.SIGHUP)
        check(wait(lambda: "backup sync daemon" in ipvsctl(lab, "-L", "--daemon") and
                   counters(lab).get("synced_connections") is not None, 10) is not None, f"{name}: reloaded with peers")
        time.sleep(1)
        before = counters(lab)
        flood(lab, "conn", 10)
        time.sleep(1)
        after = counters(lab)
        got = after.get("dropped", {}).get("not_a_peer", 0) - before.get("dropped", {}).get("not_a_peer", 0)
        check(got == 40, f"{name}: with peers, every forged datagram is dropped as not_a_peer", f"{got} of 40")
        check(after.get("entries_received") == before.get("entries_received"),
              f"{name}: ... and none of its entries is read", f"{before.get('entries_received')} -> "
              f"{after.get('entries_received')}")
        check(lab.procs[2].poll() is None, f"{name}: the daemon is still running")


if __name__ == "__main__":
    report.run_main(run, "sync flood")
