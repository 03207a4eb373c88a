#!/usr/bin/env python3
"""The bfd check against real BFD daemons (root, network namespaces): BIRD 2's BFD, then FRR's bfdd.

directord (memory plane) in one namespace, the peer namespace across a veth runs the BFD daemon on
10.98.0.2 and fd98::2. Three real servers with a bfd check each: one per session with the daemon
(IPv4 and IPv6) and one whose neighbor (10.98.0.3) runs no BFD. For each daemon, both ways:
  - the sessions come up (directord's status and the daemon's own view agree: Up, at the 100 ms
    the two sides agreed by a Poll Sequence, from the 1 s idle rate), the real servers follow, the
    silent neighbor's server is down after its start-up allowance;
  - the daemon killed (-9, no goodbye): directord declares the session down after the detection
    time (3 x 100 ms; bounded loosely here, the log's time is printed), the server leaves the table,
    and both come back when the daemon does;
  - directord's lvs worker stopped (SIGSTOP): the daemon detects it by its own timer; resumed, the
    session comes back; directord stopped cleanly: the daemon hears AdminDown at once.
And hostile datagrams (short, bad version, Your Discriminator 0 while Up, the A bit, an unknown
discriminator, a forged Down with TTL 64) are dropped and counted by reason, the session stays Up.
A VRRP instance tracks the IPv4 session (track_bfds, weight 0): MASTER while it is Up, FAULT (the VIP
gone) within a second of BIRD's death, MASTER again when BIRD is back: the session is the lvs
worker's, its state reaches the vrrp worker as a message.
"""
import contextlib
import datetime
import json
import os
import shutil
import signal
import struct
import time
import types

from dlab.netns import MARGIN, Probe
from dlab.report import check, run_main, sh, wait
from dlab.solo import solo

BIRD_CONF = """router id 10.98.0.2;
log "{work}/bird.log" all;
protocol device {{}}
protocol bfd {{
  interface "eth0" {{ min rx interval 100 ms; min tx interval 100 ms; idle tx interval 1000 ms; multiplier 3; }};
  neighbor 10.98.0.1 dev "eth0";
  neighbor fd98::1 dev "eth0";
}}
"""

FRR_CONF = """bfd
 peer 10.98.0.1 local-address 10.98.0.2
  receive-interval 100
  transmit-interval 100
  detect-multiplier 3
 !
 peer fd98::1 local-address fd98::2
  receive-interval 100
  transmit-interval 100
  detect-multiplier 3
 !
!
"""


def conf(work):
    rs = lambda a, b: f'{{ address = "{a}"; port = 80; checks = ( {{ type = "bfd"; bfd = "{b}"; }} ); }}'  # noqa: E731
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  log_level = "info"; }};
bfd_instances = (
  {{ name = "b4"; neighbor_ip = "10.98.0.2"; source_ip = "10.98.0.1"; min_rx = 0.1; min_tx = 0.1; multiplier = 3; }},
  {{ name = "b6"; neighbor_ip = "fd98::2"; min_rx = 0.1; min_tx = 0.1; multiplier = 3; }},
  {{ name = "silent"; neighbor_ip = "10.98.0.3"; min_rx = 0.1; min_tx = 0.1; multiplier = 3; }}
);
vrrp_instances = (
  {{ name = "VI"; interface = "eth0"; virtual_router_id = 51; priority = 100; version = 3; advert_interval = 0.1;
     virtual_addresses = ( "10.98.0.100/24" ); track_bfds = ( {{ bfd = "b4"; }} ); }}
);
virtual_servers = (
  {{ address = "10.98.0.1"; port = 80; delay_loop = 1; real_servers = ( {rs("10.98.0.2", "b4")}, {rs("10.98.0.3", "silent")} ); }},
  {{ address = "fd98::1"; port = 80; delay_loop = 1; real_servers = ( {rs("fd98::2", "b6")} ); }}
);
"""


def log_time(line):
    ts = line.split()[0]
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def packet(state, your, my=0x51525354, flags=0, length=24, version=1, mult=3):
    return struct.pack("!BBBBIIIII", (version << 5), (state << 6) | flags, mult, length, my, your, 100000, 100000, 0)


def run(directord):
    if not shutil.which("bird") or not os.path.exists("/usr/lib/frr/bfdd"):
        check(False, "bird and FRR's bfdd are installed (tools/setup-debian.sh)")
        return
    with solo(directord, "bf", ["10.98.0.1/24", "fd98::1/64"], ["10.98.0.2/24", "10.98.0.3/24", "fd98::2/64"]) as s:
        work = s.work
        os.chmod(work, 0o755)
        text = s.text

        def bfd():
            return {b["name"]: b for b in s.status().get("bfd", {}).get("sessions", [])}

        def dropped():
            return s.status().get("bfd", {}).get("dropped", {})

        def up(addr):
            return addr in s.weights()

        def role():
            return s.status().get("vrrp_roles", {}).get("VI")

        def down_after(name, since):
            """The log time of session `name`'s first Down line after `since` (Unix time), or None."""
            for line in text().splitlines():
                if f"BFD {name} with " in line and ": Down" in line and log_time(line) >= since:
                    return log_time(line)
            return None

        def detection(name, kill):
            t0 = time.time()
            kill()
            wait(lambda: down_after(name, t0) is not None, 10, 0.02)
            at = down_after(name, t0)
            return None if at is None else at - t0

        s.start(conf(work))
        s.wait_started()

        # ---- BIRD 2
        with open(f"{work}/bird.conf", "w") as f:
            f.write(BIRD_CONF.format(work=work))

        def bird_start():
            s.in_ns("p", ["bird", "-f", "-c", f"{work}/bird.conf", "-s", f"{work}/bird.ctl", "-P", f"{work}/bird.pid"])

        def bird_sessions():
            r = sh(f"birdc -s {work}/bird.ctl show bfd sessions", check=False).stdout
            return {ln.split()[0]: ln.split() for ln in r.splitlines() if ln[:1].isdigit() or ln.startswith("fd98")}

        bird_start()
        check(wait(lambda: bfd().get("b4", {}).get("state") == "Up" and bfd().get("b6", {}).get("state") == "Up",
                   15, 0.1) is not None, "BIRD: both sessions come up (IPv4, IPv6)", json.dumps(bfd()))
        check(wait(lambda: all(bird_sessions().get(a, ["", "", "?"])[2] == "Up" for a in ("10.98.0.1", "fd98::1")),
                   10, 0.1) is not None, "BIRD sees both sessions Up", str(bird_sessions()))
        # BIRD's Interval column: the rate it sends at, the slower of its min tx and our min_rx
        check(all(bird_sessions().get(a, ["", "", "", "", "0"])[4] == "0.100" for a in ("10.98.0.1", "fd98::1")),
              "BIRD transmits at the 100 ms directord asked for", str(bird_sessions()))
        b4 = bfd().get("b4", {})
        check(b4.get("tx_interval_ms") == 100 and b4.get("detect_time_ms") == 300,
              "directord sends every 100 ms and detects after 300 ms (3 x 100)", json.dumps(b4))
        check(wait(lambda: up("10.98.0.2:80") and up("[fd98::2]:80"), 10, 0.1) is not None,
              "the real servers of the Up sessions are in the table", str(s.weights()))
        check(wait(lambda: role() == "MASTER", 10, 0.05) is not None,
              "the instance tracking b4 is MASTER while the session is Up", str(role()))
        check(wait(lambda: bfd().get("silent", {}).get("state") == "Down" and not up("10.98.0.3:80")
                   and "rs 10.98.0.3:80: UP -> DOWN" in text(), 10, 0.1) is not None,
              "the server whose neighbor runs no BFD is down after the start-up allowance")

        # hostile datagrams from the peer's namespace, TTL 255 unless said
        local = bfd().get("b4", {}).get("local_discriminator", 0)
        before = dropped()
        hostile = [
            (b"\x20\x40\x03", 255),                                   # short
            (packet(1, 0, version=2), 255),                           # version 2
            (packet(3, 0), 255),                                      # Up with Your Discriminator 0
            (packet(3, local, flags=0x04, length=26) + b"\x01\x02", 255),  # A bit: no auth configured
            (packet(3, 0x0badcafe), 255),                             # nobody's discriminator
            (packet(1, local, my=bfd()["b4"]["remote_discriminator"]), 64),  # a forged Down, TTL 64
        ]
        sender = ("import socket,sys\n"
                  "for ttl, hexp in [(int(a.split(':')[0]), a.split(':')[1]) for a in sys.argv[1:]]:\n"
                  "    so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                  "    so.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)\n"
                  "    so.bind(('10.98.0.2', 0))\n"
                  "    so.sendto(bytes.fromhex(hexp), ('10.98.0.1', 3784))\n")
        s.in_ns("p", ["python3", "-c", sender] + [f"{ttl}:{p.hex()}" for p, ttl in hostile]).wait()
        want = ["short", "version", "your_disc_zero", "auth", "no_session", "ttl"]
        check(wait(lambda: all(dropped().get(k, 0) > before.get(k, 0) for k in want), 5, 0.1) is not None,
              "hostile datagrams are dropped and counted by reason", json.dumps(dropped()))
        check(bfd().get("b4", {}).get("state") == "Up" and s.proc.poll() is None,
              "the session stays Up (a forged Down with TTL 64 is not believed) and directord runs")

        # BIRD killed: directord detects it. A client on the link probes the VIP every 2 ms (what
        # clients see of the instance tracking the session)
        with contextlib.closing(Probe(types.SimpleNamespace(cl=s.peer, probes=[]), "10.98.0.100")) as probe:
            check(probe.fresh(), "a client on the link reaches the VIP while the instance is MASTER")
            dt = detection("b4", lambda: os.kill(int(open(f"{work}/bird.pid").read()), signal.SIGKILL))
            check(dt is not None and 0.1 <= dt <= 1.5,
                  "BIRD killed: directord declares b4 down after about its 300 ms detection time",
                  f"{dt:.3f} s" if dt is not None else "never")
            check("Down (control detection time expired)" in text(), "... with diagnostic 'control detection time expired'")
            check(wait(lambda: not up("10.98.0.2:80") and not up("[fd98::2]:80"), 5, 0.05) is not None,
                  "... and its real servers leave the table")
            check(wait(lambda: role() == "FAULT", 5, 0.02) is not None, "... and the instance tracking it is in FAULT",
                  str(role()))
            vip = sh(f"ip -n {s.ns} -4 addr show dev eth0").stdout
            check("10.98.0.100" not in vip, "... without its VIP")
            check(not probe.fresh(1), "... and the client's probes go unanswered")
            bird_start()
            check(wait(lambda: up("10.98.0.2:80") and up("[fd98::2]:80"), 15, 0.1) is not None,
                  "BIRD back: the sessions and the real servers come back")
            check(wait(lambda: role() == "MASTER", 10, 0.05) is not None, "... and the instance is MASTER again",
                  str(role()))
            t_master = time.monotonic()
            answered = probe.fresh()
            check(answered, "... and the client reaches the VIP again",
                  f"{probe.rows[-1][0] - t_master:.3f} s after MASTER" if answered else "never")
            # a restarted vrrp worker hears the session's last state from the supervisor (the lvs
            # worker reports changes only): without it the instance would sit in FAULT. The client
            # sees no gap beyond its probing's noise.
            vrrps = [ln.split()[1] for ln in text().splitlines() if "vrrp: privileges: " in ln]
            t0 = time.monotonic()
            os.kill(int(vrrps[-1].partition("[")[2].rstrip("]")), signal.SIGKILL)
            check(wait(lambda: text().count("vrrp: privileges: ") > len(vrrps), 10, 0.05) is not None,
                  "the vrrp worker killed is restarted")
            new = [ln.split()[1] for ln in text().splitlines() if "vrrp: privileges: " in ln][-1]  # "vrrp[PID]"
            check(wait(lambda: role() == "MASTER" and f"{new} info: vrrp: tracked BFD session b4 is Up" in text(), 10,
                       0.05) is not None,
                  "... and the new one has the tracked session Up from its start: MASTER", str(role()))
            probe.fresh()
            gap = probe.gap(t0, time.monotonic())
            check(gap <= MARGIN, "... and the client's probes of the VIP are answered throughout", f"longest gap {gap:.3f} s")

        # directord's lvs worker stopped: BIRD detects it by its own timer, then it comes back
        lvs = [ln.split()[1] for ln in text().splitlines() if "lvs: privileges: " in ln]
        pid = int(lvs[-1].partition("[")[2].rstrip("]")) if lvs else 0
        os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        gone = wait(lambda: bird_sessions().get("10.98.0.1", ["", "", ""])[2] != "Up", 5, 0.02)
        os.kill(pid, signal.SIGCONT)
        check(gone is not None and gone < 2, "lvs worker stopped: BIRD declares the session down by its timer",
              f"{gone:.3f} s" if gone is not None else "never")
        check(wait(lambda: bird_sessions().get("10.98.0.1", ["", "", ""])[2] == "Up", 10, 0.1) is not None,
              "resumed: BIRD has the session Up again", f"{time.monotonic() - t0:.1f} s")
        os.kill(int(open(f"{work}/bird.pid").read()), signal.SIGTERM)
        wait(lambda: not up("10.98.0.2:80"), 10, 0.05)

        # ---- FRR's bfdd
        frr = f"{work}/frr"
        os.mkdir(frr)
        with open(f"{frr}/bfdd.conf", "w") as f:
            f.write(FRR_CONF)
        sh(f"chown -R frr:frr {frr}")

        def bfdd_start():
            s.in_ns("p", ["/usr/lib/frr/bfdd", "-f", f"{frr}/bfdd.conf", "-i", f"{frr}/bfdd.pid", "--vty_socket", frr,
                          "-z", f"{frr}/zserv.api", "-u", "frr", "-g", "frr", "--log", f"file:{frr}/bfdd.log"],
                    stdout=open(f"{frr}/out", "a"), stderr=open(f"{frr}/out", "a"))

        def frr_peers():
            r = sh(f"vtysh --vty_socket {frr} -d bfdd -c 'show bfd peers json'", check=False).stdout
            try:
                return {p["peer"]: p for p in json.loads(r)}
            except (ValueError, KeyError, TypeError):
                return {}

        bfdd_start()
        check(wait(lambda: all(frr_peers().get(a, {}).get("status") == "up" for a in ("10.98.0.1", "fd98::1")),
                   15, 0.1) is not None, "FRR: bfdd has both sessions up (IPv4, IPv6)", json.dumps(frr_peers())[:600])
        p4 = frr_peers().get("10.98.0.1", {})
        check(p4.get("remote-receive-interval") == 100 and p4.get("remote-transmit-interval") == 100
              and p4.get("remote-detect-multiplier") == 3,
              "bfdd sees directord's 100 ms intervals (after the Poll Sequence) and multiplier 3",
              json.dumps({k: v for k, v in p4.items() if k.startswith("remote")}))
        check(wait(lambda: up("10.98.0.2:80") and up("[fd98::2]:80"), 10, 0.1) is not None,
              "the real servers come back with bfdd's sessions")
        dt = detection("b6", lambda: os.kill(int(open(f"{frr}/bfdd.pid").read()), signal.SIGKILL))
        check(dt is not None and 0.1 <= dt <= 1.5, "bfdd killed: directord declares b6 down after its detection time",
              f"{dt:.3f} s" if dt is not None else "never")
        check(wait(lambda: not up("10.98.0.2:80") and not up("[fd98::2]:80"), 5, 0.05) is not None,
              "... and its real servers leave the table")
        bfdd_start()
        check(wait(lambda: up("10.98.0.2:80") and up("[fd98::2]:80"), 15, 0.1) is not None,
              "bfdd back: the sessions and the real servers come back")
        # directord stops: it says AdminDown, and bfdd takes the session down at once
        t0 = time.monotonic()
        s.stop()
        gone = wait(lambda: frr_peers().get("10.98.0.1", {}).get("status") == "down", 5, 0.02)
        peer = frr_peers().get("10.98.0.1", {})
        check(gone is not None and peer.get("remote-diagnostic") == "administratively down",
              "directord stopped: bfdd hears AdminDown (remote diagnostic 'administratively down')",
              json.dumps({k: v for k, v in peer.items() if "diag" in k or k == "status"}) + f" {time.monotonic() - t0:.2f} s")


if __name__ == "__main__":
    run_main(run, "bfd check")
