#!/usr/bin/env python3
"""VRRP failover benchmark (root, network namespaces): directord pairs against keepalived pairs with
the same settings, in one run. Failover time = from the master's death to the first echo reply from
the VIP seen by the client (which pings it every millisecond). "kill -9" kills the master's processes
and takes its link down at the same instant (a dead machine answers nothing); "clean stop" is SIGTERM.
The backup answers with another TTL, so the first reply from the backup is told apart from late replies
of the old master. VRRPv2 with 1 s adverts and VRRPv3 with 10 ms (the smallest both accept). Goal: within
3 x interval + skew + 5 ms on kill, within skew + 5 ms on clean stop, never slower than keepalived.
For VRRPv3 the directord pair runs a second time with SNMP on (snmpd as AgentX master and
snmptrapd in each namespace, traps on, the backup's KEEPALIVED-MIB instance table read every 20 ms
through the failover): the ratio to the same pair without SNMP shows what SNMP costs the takeover."""
import argparse
import os
import signal
import subprocess
import sys
import time

from dlab import netns, report
from dlab import snmp as snmp_mod

def measure(directord, kind, version, interval, how):
    lab = netns.Lab(directord)
    snmp = []
    reader = None
    try:
        report.sh(f"ip netns exec {lab.ns[2]} sysctl -qw net.ipv4.ip_default_ttl=63")  # the backup's replies
        extra = ["", ""]
        if kind == "directord+snmp":
            kind = "directord"
            for i in (1, 2):
                snmp += snmp_mod.start_snmp(lab, i)
                extra[i - 1] = f'snmp = {{ agentx_socket = "unix:{lab.work}/{lab.ns[i]}.agentx"; traps = true; }};'
            # an eager NMS on the backup: its instance table every 20 ms
            reader = subprocess.Popen(["ip", "netns", "exec", lab.ns[2], "sh", "-c",
                                       f"while :; do snmpwalk -v2c -c public -On -t 1 -r 0 udp:127.0.0.1:161 "
                                       f"{snmp_mod.K}.2.3.1 >/dev/null 2>&1; sleep 0.02; done"],
                                      env=snmp_mod.ENV, start_new_session=True)
        lab.start(1, kind, 150, version, interval, global_extra=extra[0])
        lab.start(2, kind, 100, version, interval, global_extra=extra[1])
        if report.wait(lambda: lab.has_vip(1), 10 + 4 * interval) is None:
            return None
        time.sleep(3 * interval + 0.5)
        pinger = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-c", netns.PROBE, netns.VIP, "0.001"],
                                  stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        t0 = time.monotonic()
        if how == "kill":
            os.killpg(lab.procs[1].pid, signal.SIGKILL)
            report.sh(f"ip -n {lab.ns[1]} link set eth0 down")
        else:
            lab.procs[1].send_signal(signal.SIGTERM)
        report.wait(lambda: lab.has_vip(2), 10)
        time.sleep(0.3)
        pinger.kill()
        out = pinger.communicate()[0]
        # the pinger is killed mid-line: a last partial line is not a reply
        rows = [line.split() for line in out.splitlines()]
        replies = [float(r[0]) for r in rows if len(r) == 2 and int(r[1]) == 63 and float(r[0]) > t0]
        return (replies[0] - t0) if replies else None
    finally:
        if reader:
            os.killpg(reader.pid, signal.SIGKILL)
            reader.wait()
        for p in snmp:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
        lab.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print("vrrp failover benchmark: the master dies, the client's first echo reply from the VIP (median of "
          f"{args.rounds})", flush=True)
    print(f"{'case':34} {'directord ms':>13} {'keepalived ms':>14} {'ratio':>7} {'goal ms':>8}")
    ok = True
    for version, interval in ((3, 0.01), (2, 1)):
        for how in ("kill", "stop"):
            goal = (netns.master_down(interval) if how == "kill" else netns.skew(interval)) + 0.005
            res = {}
            for kind in ("directord", "keepalived"):
                times = sorted(t for t in (measure(args.directord, kind, version, interval, how) for _ in range(args.rounds))
                               if t is not None)
                res[kind] = times[len(times) // 2] if times else None
            d, k = res["directord"], res["keepalived"]
            case = f"v{version} {interval * 1000:g} ms adverts, {'kill -9' if how == 'kill' else 'clean stop'}"
            fmt = lambda v: f"{v * 1000:.1f}" if v is not None else "none"
            ratio = f"{k / d:.2f}x" if d and k else "-"
            print(f"{case:34} {fmt(d):>13} {fmt(k):>14} {ratio:>7} {goal * 1000:>8.1f}", flush=True)
            ok = ok and d is not None
            if version == 3:
                times = sorted(t for t in (measure(args.directord, "directord+snmp", version, interval, how)
                                           for _ in range(args.rounds)) if t is not None)
                s = times[len(times) // 2] if times else None
                sratio = f"{s / d:.2f}x" if s and d else "-"
                print(f"{'  the same, directord with SNMP on':34} {fmt(s):>13} {'':>14} {sratio:>7} "
                      f"{goal * 1000:>8.1f}   (ratio: with SNMP / without)", flush=True)
                ok = ok and s is not None
    print("(ratio = keepalived / directord: >1 means directord fails over faster)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
