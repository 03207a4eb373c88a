#!/usr/bin/env python3
"""VRRP for real, in network namespaces (root): two directors on a bridge with a client.

Pairs: directord + directord, and directord + Debian's keepalived both ways round, VRRPv3 (0.1 s
adverts) and VRRPv2 (1 s, PASS authentication). In each: the priority 150 peer becomes master and
holds the VIP, the client's pings reach it; kill -9 the master and the backup holds the VIP within
the master down interval (plus a margin for this machine: the precise numbers are the benchmark's),
pings answered from the backup's MAC (its gratuitous ARPs); the old master returns and preempts; a
clean stop hands over within the skew time (plus the margin)."""
import argparse
import os
import signal
import sys
import time

from dlab.netns import MARGIN, VIP, Lab, Probe, fifo_reader, master_down, skew, status
from dlab.report import check, failures, sh, wait


def link_down_case(lab, probe, name, version, interval):
    # the interface of the master goes down: FAULT, the backup takes over; up again: preemption.
    # The backup reports every transition on its notify fifo, in keepalived's format. The client
    # probing the VIP is answered again within the takeover's bound after each move.
    fifo = os.path.join(lab.work, "notify.fifo")
    lines = fifo_reader(fifo)
    lab.kill(2, signal.SIGTERM)
    lab.procs[2].wait(timeout=20)
    sh(f"ip -n {lab.ns[1]} addr del {VIP}/24 dev eth0; ip -n {lab.ns[2]} addr del {VIP}/24 dev eth0", check=False)
    lab.start(1, "directord", 150, version, interval)
    lab.start(2, "directord", 100, version, interval, fifo=fifo)
    down = master_down(interval)
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10) is not None, f"{name}: a fresh pair, d1 master again")
    time.sleep(0.5)
    t0 = time.monotonic()
    sh(f"ip -n {lab.ns[1]} link set eth0 down")
    took = wait(lambda: lab.has_vip(2), down + 5, 0.002)
    check(took is not None and took <= down + 0.2 + MARGIN, f"{name}: the master's link goes down: the backup takes over",
          f"{took:.3f} s" if took is not None else "never")
    probe.answered_since(t0, f"{name}: link down", down + 0.2 + MARGIN)
    check(wait(lambda: not lab.has_vip(1), 2) is not None, f"{name}: the faulted master released the VIP")
    t0 = time.monotonic()
    sh(f"ip -n {lab.ns[1]} link set eth0 up")
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10) is not None, f"{name}: the link back up, d1 preempts")
    probe.answered_since(t0, f"{name}: link up, preemption", down + MARGIN)
    time.sleep(0.3)
    want = ['INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100', 'INSTANCE "VI_1" BACKUP 100']
    check(lines[-3:] == want, f"{name}: the notify fifo has each transition", str(lines))

    # a virtual address deleted by hand on the master comes back
    sh(f"ip -n {lab.ns[1]} addr del {VIP}/24 dev eth0")
    check(wait(lambda: lab.has_vip(1), 3) is not None, f"{name}: a VIP removed by hand on the master is restored")

    # a tracked script (weight 0) that fails puts the master in FAULT; when it succeeds again, it preempts
    lab.kill(1, signal.SIGTERM)
    lab.procs[1].wait(timeout=20)
    flag = os.path.join(lab.work, "healthy")
    open(flag, "w").close()
    lab.start(1, "directord", 150, version, interval, track=flag)
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10) is not None, f"{name}: d1 with a passing track script is master")
    probe.fresh()  # answered by d1 before the move is timed
    t0 = time.monotonic()
    os.unlink(flag)
    check(wait(lambda: lab.has_vip(2) and not lab.has_vip(1), 5) is not None, f"{name}: its script fails: FAULT, d2 takes over")
    # (the script runs every 0.1 s and fails twice before FAULT)
    probe.answered_since(t0, f"{name}: the tracked script fails", 0.2 + down + MARGIN)
    t0 = time.monotonic()
    open(flag, "w").close()
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 5) is not None, f"{name}: the script passes again: d1 preempts")
    probe.answered_since(t0, f"{name}: the script passes, preemption", 0.2 + down + MARGIN)
    log1 = open(os.path.join(lab.work, f"{lab.ns[1]}.log")).read()
    check("a tracked script fails: FAULT" in log1 and "removed from the interface while this director is master" in log1,
          f"{name}: both are logged")

    # dont_track_primary (keepalived's, for directors cabled to each other): the own link going down
    # is no FAULT: d1 stays master with its VIP (d2, hearing nothing, becomes master too, as under
    # keepalived); the link back, d2 hears the higher priority and is backup again
    lab.kill(1, signal.SIGTERM)
    lab.procs[1].wait(timeout=20)
    lab.start(1, "directord", 150, version, interval, instance_extra="dont_track_primary = true;")
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10) is not None, f"{name}: d1 with dont_track_primary is master")
    sh(f"ip -n {lab.ns[1]} link set eth0 down")
    time.sleep(down + 0.5)
    vi = status(lab, 1).get("vrrp", {}).get("VI_1", {})
    check(vi.get("state") == "MASTER" and lab.has_vip(1), f"{name}: dont_track_primary: the own link down, d1 stays master",
          str(vi.get("state")))
    sh(f"ip -n {lab.ns[1]} link set eth0 up")
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10) is not None,
          f"{name}: dont_track_primary: the link back, one master (d1)")


def scenario(directord, master_kind, backup_kind, version, interval):
    name = f"v{version} {master_kind} (150) + {backup_kind} (100)"
    print(f"== {name}", flush=True)
    before = len(failures)
    lab = Lab(directord)
    try:
        lab.start(1, master_kind, 150, version, interval)
        lab.start(2, backup_kind, 100, version, interval)
        down = master_down(interval)
        check(wait(lambda: lab.has_vip(1), 10 + 4 * interval) is not None, f"{name}: the priority 150 peer holds the VIP")
        time.sleep(2 * interval + 0.2)
        check(lab.has_vip(1) and not lab.has_vip(2), f"{name}: one master, the backup has no VIP")
        check(wait(lab.ping, 5) is not None, f"{name}: the client reaches the VIP")

        # from here a client probes the VIP every 2 ms; the master dies as a host does
        probe = Probe(lab)
        check(probe.fresh(), f"{name}: the probe is answered")
        t0 = time.monotonic()
        lab.die(1)
        took = wait(lambda: lab.has_vip(2), down + 5, 0.002)
        check(took is not None and took <= down + MARGIN, f"{name}: kill -9, the backup holds the VIP (bound {down:.3f} s)",
              f"{took:.3f} s" if took is not None else "never")
        probe.answered_since(t0, f"{name}: kill -9", down + MARGIN)
        check(wait(lab.ping, 5) is not None, f"{name}: the client's pings are answered after the failover")
        neigh = sh(f"ip -n {lab.cl} neigh show {VIP}").stdout
        check(lab.mac(2) in neigh, f"{name}: ... from the backup's MAC", neigh.strip())

        # what its reboot would have cleared: the VIP, keepalived's pid files
        lab.procs[1].wait(timeout=20)
        sh(f"ip -n {lab.ns[1]} addr del {VIP}/24 dev eth0; rm -f {lab.work}/{lab.ns[1]}.k*pid", check=False)
        t0 = time.monotonic()
        lab.start(1, master_kind, 150, version, interval)
        check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10 + 6 * interval) is not None,
              f"{name}: the old master returns and preempts")
        probe.answered_since(t0, f"{name}: preemption", down + MARGIN)

        t0 = time.monotonic()
        lab.kill(1, signal.SIGTERM)
        took = wait(lambda: lab.has_vip(2), 5 + down, 0.002)
        check(took is not None and took <= skew(interval) + MARGIN,
              f"{name}: clean stop, the backup takes over (skew {skew(interval):.3f} s)",
              f"{took:.3f} s" if took is not None else "never")
        probe.answered_since(t0, f"{name}: clean stop", skew(interval) + MARGIN)
        lab.procs[1].wait(timeout=20)
        check(not lab.has_vip(1), f"{name}: the stopped peer released the VIP")
        if master_kind == backup_kind == "directord":
            link_down_case(lab, probe, name, version, interval)
    finally:
        if len(failures) > before:
            print(lab.logs())
        lab.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    args = ap.parse_args()
    d = args.directord
    scenario(d, "directord", "directord", 3, 0.1)
    scenario(d, "directord", "keepalived", 3, 0.1)
    scenario(d, "keepalived", "directord", 3, 0.1)
    scenario(d, "directord", "keepalived", 2, 1)
    scenario(d, "keepalived", "directord", 2, 1)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
