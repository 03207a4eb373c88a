#!/usr/bin/env python3
"""VRRP in the moments an HA pair exists for, measured as a client sees them (root, network
namespaces, on the lab of tests/lib/dlab: two directors and a client on a bridge). The client
probes the VIP every 2 ms (ICMP echo); director 2 answers with TTL / hop limit 63, director 1 with
64, so every reply says who answered. A "gap" is the longest time without a reply.

- Reload edits on a running pair (add a VIP, replace one, advert_int, priority up and down on
  either node, a notify script, a track script): no state changes and no gap a move could hide in
  (under 50 ms; measured 2-6 ms) where the protocol needs no move; exactly one move where it does (the master's priority below the peer's).
  Also with keepalived as the peer, both ways.
- kill -9 of the master's vrrp worker at 0.1 s and 1 s adverts (twice at 1 s: the second worker resumes
  from what the first reported): the backup never answers, the gap
  stays under one advert interval. A second kill at 0.1 s (restart delayed 1 s): the supervisor
  removes the VIP at once, never both directors hold it, the backup serves meanwhile, and the
  restarted worker resumes as backup and takes the VIP back.
- Ten partition heals with a random phase, IPv4 and IPv6 (and keepalived as the winning peer):
  after each heal the client is without the VIP for at most one advert interval.
- Spoofed adverts (interval 0 at priority 254, and a flood at a lower priority): no transition,
  counted by reason in directorctl status."""
import argparse
import os
import random
import signal
import sys
import time

from dlab import report
from dlab.netns import STILL, Probe, d_instance, directord_conf, fifo_reader, keepalived_conf, lab_for, start_pair, \
    status, transitions
from dlab.report import check, sh, wait

VIP, VIP2, VIP3, VIP6 = "10.99.0.10", "10.99.0.20", "10.99.0.30", "fd00:99::10"


def write(lab, i, text):
    with open(os.path.join(lab.work, f"{lab.ns[i]}.conf"), "w") as f:
        f.write(text)


def settle(lab, probe, i, rewrite, text, edit):
    """Rewrites director i's config, SIGHUPs it, returns (gap, ttls) over the next 1.5 s."""
    write(lab, i, text)
    t0 = time.monotonic()
    lab.procs[i].send_signal(signal.SIGHUP)
    time.sleep(1.5)
    t1 = time.monotonic()
    return probe.gap(t0, t1), probe.ttls(t0, t1)


def reload_edits(directord):
    name = "reload edits, directord (150) + directord (100), v3 0.1 s"
    with lab_for(directord, name) as lab:
        def conf(i, prio, vips, interval=0.1, more="", extra=""):
            return directord_conf(lab, i, [d_instance("VI_1", 51, prio, 3, interval, vips, more)], extra)
        check(start_pair(lab, ("directord", conf(1, 150, [f"{VIP}/24"])), ("directord", conf(2, 100, [f"{VIP}/24"]))),
              f"{name}: director 1 is master")
        probe = Probe(lab, VIP)
        time.sleep(1.5)
        base = (transitions(lab, 1), transitions(lab, 2))
        flag = os.path.join(lab.work, "ok")
        open(flag, "w").close()
        marker = os.path.join(lab.work, "notified")
        notify = f'notify = {{ master = [ "/usr/bin/touch", "{marker}" ]; }};'
        track = 'track_scripts = ( { script = "chk"; } );'
        script = f'vrrp_scripts = ( {{ name = "chk"; script = "/usr/bin/test -e {flag}"; interval = 0.1; weight = 10; }} );'
        edits = [
            ("add a VIP on the master", 1, conf(1, 150, [f"{VIP}/24", f"{VIP2}/24"])),
            ("replace that VIP", 1, conf(1, 150, [f"{VIP}/24", f"{VIP3}/24"])),
            ("advert_int 0.1 -> 0.2 on the master", 1, conf(1, 150, [f"{VIP}/24", f"{VIP3}/24"], 0.2)),
            ("advert_int back to 0.1", 1, conf(1, 150, [f"{VIP}/24", f"{VIP3}/24"])),
            ("priority up on the master", 1, conf(1, 200, [f"{VIP}/24", f"{VIP3}/24"])),
            ("priority up on the backup, still below", 2, conf(2, 180, [f"{VIP}/24"])),
            ("priority down on the backup", 2, conf(2, 120, [f"{VIP}/24"])),
            ("a notify script added on the master", 1, conf(1, 200, [f"{VIP}/24", f"{VIP3}/24"], more=notify)),
            ("a track script added on the master", 1,
             conf(1, 200, [f"{VIP}/24", f"{VIP3}/24"], more=notify + track, extra=script)),
        ]
        for what, i, text in edits:
            gap, ttls = settle(lab, probe, i, "directord", text, what)
            time.sleep(1.0)  # the counters are published every second
            now = (transitions(lab, 1), transitions(lab, 2))
            check(gap < STILL and ttls == {64} and now == base,
                  f"{name}: {what}: no move", f"gap {gap * 1000:.1f} ms, answered by {sorted(ttls)}, transitions {base} -> {now}")
        check(lab.has_vip(1, VIP3) and not lab.has_vip(1, VIP2), f"{name}: the VIPs are the config's")
        # the same config, SIGHUP to the backup again and again (once, a 6.5 s gap was seen here)
        worst = 0
        for _ in range(10):
            t0 = time.monotonic()
            lab.procs[2].send_signal(signal.SIGHUP)
            time.sleep(0.7)
            worst = max(worst, probe.gap(t0, time.monotonic()))
        time.sleep(1.0)
        check(worst < STILL and (transitions(lab, 1), transitions(lab, 2)) == base,
              f"{name}: ten same-config SIGHUPs to the backup: no move", f"worst gap {worst * 1000:.1f} ms")
        check(not os.path.exists(marker), f"{name}: the added notify script did not run (no transition)")
        # the master's priority below the backup's (100 + the track script's 10 < 120): exactly one move
        gap, ttls = settle(lab, probe, 1, "directord", conf(1, 100, [f"{VIP}/24", f"{VIP3}/24"], more=notify + track,
                                                               extra=script), "priority below the peer")
        time.sleep(1.5)
        now = (transitions(lab, 1), transitions(lab, 2))
        check(lab.has_vip(2, VIP) and not lab.has_vip(1, VIP) and now == (base[0] + 1, base[1] + 1),
              f"{name}: the master's priority below the peer's: exactly one move",
              f"transitions {base} -> {now}, gap {gap * 1000:.1f} ms")
        probe.close()


def reload_with_keepalived(directord):
    """keepalived as the peer, both ways: edits on directord's side (not the VIP list: keepalived
    drops adverts whose address list differs from its own, so that edit belongs to both sides)."""
    for master in ("directord", "keepalived"):
        name = f"reload edits with keepalived as the peer, {master} (150) master, v3 0.1 s"
        with lab_for(directord, name) as lab:
            dprio = 150 if master == "directord" else 100
            d = 1 if master == "directord" else 2
            k = 3 - d

            def dconf(prio, vips, more="", interval=0.1):
                return directord_conf(lab, d, [d_instance("VI_1", 51, prio, 3, interval, vips, more)])

            def kconf(vips):
                return keepalived_conf(f"k{k}", 250 - dprio, 3, 0.1, vips)
            confs = {d: ("directord", dconf(dprio, [f"{VIP}/24"])), k: ("keepalived", kconf([f"{VIP}/24"]))}
            check(start_pair(lab, confs[1], confs[2]), f"{name}: director 1 is master")
            probe = Probe(lab, VIP)
            time.sleep(1.5)
            base = transitions(lab, d)
            edits = [("priority up" + ("" if master == "directord" else " (still below)"), dconf(dprio + 20, [f"{VIP}/24"])),
                     ("a notify script added", dconf(dprio + 20, [f"{VIP}/24"], 'notify = { master = "/bin/true"; };'))]
            if master == "directord":  # keepalived as the backup takes the master's interval (v3)
                edits.append(("advert_int 0.1 -> 0.2", dconf(dprio + 20, [f"{VIP}/24"], 'notify = { master = "/bin/true"; };',
                                                             0.2)))
            for what, text in edits:
                gap, ttls = settle(lab, probe, d, "directord", text, what)
                time.sleep(1.0)
                check(gap < STILL and ttls == {64} and transitions(lab, d) == base,
                      f"{name}: {what} on directord: no move", f"gap {gap * 1000:.1f} ms, answered by {sorted(ttls)}")
            probe.close()


def worker_kill(directord):
    for interval in (0.1, 1):
        name = f"kill -9 of the master's vrrp worker, v3 {interval} s adverts"
        with lab_for(directord, name) as lab:
            def conf(i, prio):
                return directord_conf(lab, i, [d_instance("VI_1", 51, prio, 3, interval, [f"{VIP}/24"])])
            check(start_pair(lab, ("directord", conf(1, 150)), ("directord", conf(2, 100))), f"{name}: d1 is master")
            probe = Probe(lab, VIP)
            time.sleep(2 * interval + 1)
            base = transitions(lab, 2)
            log = lambda: open(os.path.join(lab.work, f"{lab.ns[1]}.log")).read()  # noqa: E731
            import re
            # At 1 s adverts twice: the second worker resumes from what the first one reported (it
            # restarts after the supervisor's 1 s back-off, inside the 3.6 s master-down interval).
            # At 0.1 s a second death within a minute lets the backup take over, by design.
            for kill in (1, 2) if interval >= 1 else (1,):
                pid = int(re.findall(r"started the vrrp worker \(pid (\d+)\)", log())[-1])
                t0 = time.monotonic()
                os.kill(pid, signal.SIGKILL)
                held = False
                end = t0 + 3 * interval + 2
                while time.monotonic() < end:
                    held |= lab.has_vip(2)
                    time.sleep(0.005)
                gap, ttls = probe.gap(t0, end), probe.ttls(t0, end)
                check(log().count("resuming as MASTER") == kill,
                      f"{name}: kill {kill}: the new worker resumed the instance as master")
                state = status(lab, 1).get("vrrp", {}).get("VI_1", {}).get("state")
                check(state == "MASTER", f"{name}: kill {kill}: ... and reports it MASTER", str(state))
                check(not held and ttls == {64} and transitions(lab, 2) == base,
                      f"{name}: kill {kill}: the backup never took the VIP nor answered", f"answered by {sorted(ttls)}")
                check(gap < interval, f"{name}: kill {kill}: the client's longest gap is under one advert interval",
                      f"{gap * 1000:.1f} ms")
            if interval < 1:
                # A second death within a minute: the restart waits 1 s, longer than master-down, so
                # the backup takes over; the dead worker's VIP must not stay on director 1 meanwhile
                # (it did: both held it for ~0.7 s, found by tests/chaos).
                pid = int(re.findall(r"started the vrrp worker \(pid (\d+)\)", log())[-1])
                t0 = time.monotonic()
                os.kill(pid, signal.SIGKILL)
                both, d2_held, end = 0, False, t0 + 2.5
                while time.monotonic() < end:
                    h1, h2 = lab.has_vip(1), lab.has_vip(2)
                    both += h1 and h2
                    d2_held |= h2
                    time.sleep(0.005)
                ttls = probe.ttls(t0, t0 + 1)
                check("restarting it in 1 s" in log() and "removed 1 of their addresses" in log(),
                      f"{name}: kill 2: the restart is delayed and the supervisor removed the VIP")
                check(d2_held and 63 in ttls, f"{name}: kill 2: the backup took over meanwhile",
                      f"answered by {sorted(ttls)}")
                check(both == 0, f"{name}: kill 2: never both directors holding the VIP", f"{both} samples with both")
                gap = probe.gap(t0, t0 + 1)
                check(gap < 3 * interval + 0.3, f"{name}: kill 2: the client's gap is the master-down interval",
                      f"{gap * 1000:.1f} ms")
                check("resuming as BACKUP" in log(), f"{name}: kill 2: the new worker resumed as backup")
                check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 3) is not None,
                      f"{name}: kill 2: director 1 took the VIP back by preemption")
            probe.close()


NFT_PARTITION = ("add table bridge vrrp_cut; add chain bridge vrrp_cut cut { type filter hook forward priority 0; }; "
                 "add rule bridge vrrp_cut cut ether type ip ip protocol 112 drop; "
                 "add rule bridge vrrp_cut cut ether type ip6 ip6 nexthdr 112 drop")


def heals(directord, family, peer="directord", rounds=10):
    interval = 0.5
    vip = VIP if family == 4 else VIP6
    name = f"{rounds} heals, IPv{family}, directord (100) + {peer} (150) winning, v3 {interval} s"
    with lab_for(directord, name) as lab:
        plen = "/24" if family == 4 else "/64"
        more = 'family = "ipv6";' if family == 6 else ""
        d2 = directord_conf(lab, 2, [d_instance("VI_1", 51, 100, 3, interval, [vip + plen], more)])
        fifo = []
        if peer == "directord":  # its notify_master_rx_lower_pri (a touch) and fifo see each heal
            fifo = fifo_reader(os.path.join(lab.work, "d1.fifo"))
            rx = f'notify_master_rx_lower_pri = "/usr/bin/touch {lab.work}/rxlower";'
            c1 = ("directord", directord_conf(lab, 1, [d_instance("VI_1", 51, 150, 3, interval, [vip + plen],
                                                                  more + rx)], fifo=os.path.join(lab.work, "d1.fifo")))
        else:
            c1 = ("keepalived", keepalived_conf("k1", 150, 3, interval, [vip + plen]))
        check(start_pair(lab, c1, ("directord", d2), vip), f"{name}: director 1 is master")
        probe = Probe(lab, vip)
        worst = 0
        for n in range(rounds):
            sh(f"ip netns exec {lab.lan} nft '{NFT_PARTITION}'")
            both = wait(lambda: lab.has_vip(1, vip) and lab.has_vip(2, vip), 10)
            # the client follows the second master (its announcements), as clients do in a partition
            time.sleep(0.6 + random.uniform(0, interval))
            t0 = time.monotonic()
            sh(f"ip netns exec {lab.lan} nft delete table bridge vrrp_cut")
            ok = wait(lambda: lab.has_vip(1, vip) and not lab.has_vip(2, vip), 10) is not None
            time.sleep(1.5)
            gap = probe.gap(t0, time.monotonic())
            worst = max(worst, gap)
            check(both is not None and ok and gap <= interval,
                  f"{name}: heal {n + 1}: the client lost the VIP for at most one advert interval",
                  f"gap {gap * 1000:.1f} ms")
        print(f"   worst gap after a heal: {worst * 1000:.1f} ms (bound {interval * 1000:.0f} ms)", flush=True)
        if peer == "directord":
            heard = [x for x in fifo if x == 'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 150']
            check(len(heard) >= rounds and os.path.exists(os.path.join(lab.work, "rxlower")),
                  f"{name}: each heal is a MASTER_RX_LOWER_PRI event on the winner (fifo line, "
                  f"notify_master_rx_lower_pri run)", f"{len(heard)} fifo lines")
        probe.close()


def hostile(directord):
    name = "spoofed adverts: interval 0 at priority 254, and a lower-priority flood"
    with lab_for(directord, name) as lab:
        def conf(i, prio):
            return directord_conf(lab, i, [d_instance("VI_1", 51, prio, 3, 0.1, [f"{VIP}/24"])])
        check(start_pair(lab, ("directord", conf(1, 150)), ("directord", conf(2, 100))), f"{name}: d1 is master")
        probe = Probe(lab, VIP)
        time.sleep(1.5)
        base = (transitions(lab, 1), transitions(lab, 2))
        spoof = r"""
import socket, struct, sys
src, count, prio, cs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
for _ in range(count):
    body = struct.pack("!BBBBH", 0x31, 51, prio, 1, cs) + socket.inet_aton("10.99.0.10")
    pseudo = socket.inet_aton(src) + socket.inet_aton("224.0.0.18") + struct.pack("!BBH", 0, 112, len(body) + 2)
    c = csum(pseudo + body[:6] + b"\0\0" + body[6:])
    s.sendto(body[:6] + struct.pack("!H", c) + body[6:], ("224.0.0.18", 0))
"""
        t0 = time.monotonic()
        sh(f"ip netns exec {lab.cl} {sys.executable} -c '{spoof}' 10.99.0.100 50 254 0")     # interval 0
        sh(f"ip netns exec {lab.cl} {sys.executable} -c '{spoof}' 10.99.0.100 2000 10 10")   # 100 ms, priority 10
        time.sleep(1.5)
        gap = probe.gap(t0, time.monotonic())
        now = (transitions(lab, 1), transitions(lab, 2))
        dropped = status(lab, 1)["vrrp"]["VI_1"]["dropped"]
        check(now == base, f"{name}: no transition on either director", f"{base} -> {now}")
        check(dropped.get("bad_interval", 0) >= 50, f"{name}: the interval-0 adverts are counted", str(dropped))
        check(gap < STILL, f"{name}: the client saw no gap", f"{gap * 1000:.1f} ms")
        probe.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    ap.add_argument("--only", help="run the scenarios whose function name contains this")
    args = ap.parse_args()
    d = args.directord
    random.seed(int(time.time()))
    runs = [(reload_edits, ()), (reload_with_keepalived, ()), (worker_kill, ()), (heals, (4, "directord", 6)),
            (heals, (6, "directord", 6)), (heals, (4, "keepalived", 4)), (hostile, ())]
    for fn, extra in runs:
        if not args.only or args.only in fn.__name__:
            fn(d, *extra)
    print(f"{len(report.failures)} failure(s)")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
