#!/usr/bin/env python3
"""The ping check against real hosts (root, network namespaces).

directord (memory plane) in a namespace of its own, one veth to a "hosts" namespace that answers
pings on 10.96.0.2 and fd96::2 and drops ICMP echoes to 10.96.0.3 (an nftables rule there), and a
route to 10.96.9.0/24 via the hosts namespace, which has no route onward: its kernel answers
"unreachable". Four real servers, one ping check each: the two answering hosts are up, the dropping
one is down by timeout, the unroutable one down at once as unreachable. Then the answering IPv4 host
starts dropping (down) and stops (up again). All the checks share one raw socket per family: the lvs
worker holds at most two, and it has CAP_NET_RAW only because the config has ping checks."""
import json
import os
import signal

from dlab.report import check, run_main, sh, wait
from dlab.solo import solo


def conf(work):
    rs = lambda a: f'{{ address = "{a}"; port = 0; checks = ( {{ type = "ping"; }} ); }}'  # noqa: E731
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  state_dump_file = "{work}/d.json"; log_level = "info"; }};
virtual_servers = (
  {{ fwmark = 1; delay_loop = 0.2; connect_timeout = 0.5; retry = 0;
     real_servers = ( {rs("10.96.0.2")}, {rs("10.96.0.3")}, {rs("10.96.9.9")} ); }},
  {{ fwmark = 2; family = "ipv6"; delay_loop = 0.2; connect_timeout = 0.5; retry = 0;
     real_servers = ( {rs("fd96::2")} ); }}
);
"""


def run(directord):
    with solo(directord, "pg", ["10.96.0.1/24", "fd96::1/64"], ["10.96.0.2/24", "10.96.0.3/24", "fd96::2/64"]) as s:
        ns, hosts, work = s.ns, s.peer, s.work
        sh(f"ip -n {ns} route add 10.96.9.0/24 via 10.96.0.2")
        sh(f"ip netns exec {hosts} sysctl -qw net.ipv4.ip_forward=1")
        sh(f"ip netns exec {hosts} nft add table inet t")
        sh(f"ip netns exec {hosts} nft 'add chain inet t in {{ type filter hook input priority 0; }}'")
        sh(f"ip netns exec {hosts} nft add rule inet t in ip daddr 10.96.0.3 icmp type echo-request drop")
        s.start(conf(work))
        log, d = s.log, s.proc

        def table():
            """The table as a fresh state dump has it (SIGUSR1, then the dump's log line)."""
            marker = open(log, errors="replace").read().count("state: written to")
            d.send_signal(signal.SIGUSR1)
            wait(lambda: open(log, errors="replace").read().count("state: written to") > marker, 5, 0.01)
            try:
                with open(f"{work}/d.json") as f:
                    return {(s["service"], x["address"]) for s in json.load(f)["table"] for x in s["dests"]}
            except (OSError, ValueError, KeyError):
                return set()

        up = lambda svc, addr: any(s.startswith(svc) and a.startswith(addr) for s, a in table())  # noqa: E731
        text = lambda: open(log, errors="replace").read()  # noqa: E731
        # SIGUSR1 before the handlers are in place would end the daemon: wait until it runs
        check(wait(lambda: "lvs: started" in text(), 15, 0.05) is not None, "directord starts", text()[-300:])
        check(wait(lambda: up("FWM  1", "10.96.0.2:"), 15, 0.2) is not None, "the answering IPv4 host is up")
        check(wait(lambda: up("FWM  2", "[fd96::2]"), 15, 0.2) is not None, "the answering IPv6 host is up")
        check(wait(lambda: "ping 10.96.0.3: timeout" in text(), 15, 0.2) is not None,
              "the host that drops echoes is down by timeout")
        check(not up("FWM  1", "10.96.0.3:"), "... and not in the table")
        check(wait(lambda: "ping 10.96.9.9: unreachable" in text(), 15, 0.2) is not None,
              "the unroutable host is down as unreachable (the router's ICMP error)")

        handle = sh(f"ip netns exec {hosts} nft -a list chain inet t in").stdout
        sh(f"ip netns exec {hosts} nft add rule inet t in ip daddr 10.96.0.2 icmp type echo-request drop")
        check(wait(lambda: not up("FWM  1", "10.96.0.2:"), 15, 0.2) is not None, "the IPv4 host that starts dropping goes down")
        rules = sh(f"ip netns exec {hosts} nft -a list chain inet t in").stdout.splitlines()
        for line in rules:
            if "10.96.0.2" in line and "handle" in line and line not in handle:
                sh(f"ip netns exec {hosts} nft delete rule inet t in handle {line.split('handle')[-1].strip()}")
        check(wait(lambda: up("FWM  1", "10.96.0.2:"), 15, 0.2) is not None, "... and comes back when it answers again")

        lvs = [line.split()[1] for line in text().splitlines() if "lvs: privileges: " in line]
        check(len(lvs) == 1, "the lvs worker logs its privileges", str(lvs))
        if lvs:
            pid = lvs[0].partition("[")[2].rstrip("]")
            with open(f"/proc/{pid}/status") as f:
                eff = int(next(x for x in f if x.startswith("CapEff:")).split()[1], 16)
            check(eff & (1 << 13) != 0, "the lvs worker has CAP_NET_RAW with ping checks")
            inodes = set()
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
            raw = 0
            for table_file in ("raw", "raw6"):
                out = sh(f"ip netns exec {ns} cat /proc/net/{table_file}").stdout.splitlines()[1:]
                raw += sum(1 for line in out if line.split()[9] in inodes)
            check(raw == 2, "four ping checks share one raw socket per family", f"{raw} raw sockets")


if __name__ == "__main__":
    run_main(run, "ping check")
