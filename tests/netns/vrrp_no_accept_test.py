#!/usr/bin/env python3
"""accept_mode = false (keepalived's no_accept, RFC 5798 Accept_Mode) with real nftables (root, a
network namespace; dlab.solo: one director on a veth, the peer namespace as the client).

One director, three instances, all MASTER (alone on the link): VI_4 (IPv4) and VI_6 (IPv6) with
accept_mode = false, OWN (priority 255, the address owner) with it too. The client reaches the
director's own addresses and the owner's VIP; the non-owner VIPs are held (on eth0) but answer
nothing, IPv4 or IPv6, while the client still resolves the IPv6 VIP's MAC (neighbour discovery is
let through, as keepalived's rules do). The rules are in tables `ip directord_vrrp` and
`ip6 directord_vrrp`, keepalived's shape. A track_file takes VI_4 to FAULT: its VIP leaves the
set with it; back to MASTER, it is in again. A reload to accept_mode = true while master lifts the
rule at once (the VIP answers, no state change). A clean stop removes the tables."""
import os

from dlab.report import check, run_main, sh, wait
from dlab.solo import solo

VIP4, VIP6, OWN = "10.94.0.10", "fd94::10", "10.94.0.20"


def conf(work, accept4="false"):
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  log_level = "info"; }};
track_files = ( {{ name = "down"; file = "{work}/down"; weight = 0; }} );
vrrp_instances = (
  {{ name = "VI_4"; interface = "eth0"; virtual_router_id = 61; version = 3; advert_interval = 0.1;
     accept_mode = {accept4}; track_files = ( {{ track_file = "down"; }} );
     virtual_addresses = ( "{VIP4}/24" ); }},
  {{ name = "VI_6"; interface = "eth0"; virtual_router_id = 62; version = 3; family = "ipv6"; advert_interval = 0.1;
     accept_mode = false; virtual_addresses = ( "{VIP6}/64" ); }},
  {{ name = "OWN"; interface = "eth0"; virtual_router_id = 63; version = 3; priority = 255; advert_interval = 0.1;
     accept_mode = false; virtual_addresses = ( "{OWN}/24" ); }} );
"""


def run(directord):
    with solo(directord, "na", ["10.94.0.1/24", "fd94::1/64"], ["10.94.0.100/24", "fd94::100/64"]) as s:
        ns, peer, work = s.ns, s.peer, s.work
        s.start(conf(work))
        text = s.text

        def ping(addr):
            return sh(f"ip netns exec {peer} ping -c1 -W1 {addr}", check=False).returncode == 0

        def addrs():
            return sh(f"ip -n {ns} -o addr show dev eth0", check=False).stdout

        def vips_set(fam):
            out = sh(f"ip netns exec {ns} nft list set {fam} directord_vrrp vips", check=False).stdout
            return out.split("elements = {")[1].split("}")[0].replace(" ", "").replace("\n", "").split(",") \
                if "elements" in out else []

        check(wait(lambda: text().count("-> MASTER") == 3, 15, 0.05) is not None, "the three instances become MASTER",
              text()[-400:])
        check(wait(lambda: f" {VIP4}/24 " in addrs() and f" {VIP6}/64 " in addrs(), 5) is not None,
              "the VIPs are on eth0", addrs())
        check(ping("10.94.0.1") and ping("fd94::1"), "the client reaches the director's own addresses")
        check(ping(OWN), "... and the owner's VIP (priority 255 always accepts)")
        check(not ping(VIP4), "the non-owner IPv4 VIP, held, answers nothing")
        check(not ping(VIP6), "... nor the IPv6 one")
        neigh = sh(f"ip -n {peer} neigh show {VIP6}", check=False).stdout
        check("lladdr" in neigh, "... whose MAC the client still resolves (neighbour discovery let through)", neigh)
        rules = sh(f"ip netns exec {ns} nft list table ip directord_vrrp", check=False).stdout
        check("ip daddr @vips drop" in rules and "ip saddr @vips drop" in rules and "hook input priority filter - 1"
              in rules, "keepalived's rules: input and output, priority -1", rules)
        check(vips_set("ip") == [VIP4] and vips_set("ip6") == [VIP6], "the sets hold the non-owner VIPs",
              f"{vips_set('ip')} {vips_set('ip6')}")

        with open(f"{work}/down", "w") as f:
            f.write("1\n")
        check(wait(lambda: vips_set("ip") == [], 5) is not None and "VI_4: MASTER -> FAULT" in text(),
              "VI_4 to FAULT: its VIP leaves the set with the address", str(vips_set("ip")))
        os.unlink(f"{work}/down")
        check(wait(lambda: vips_set("ip") == [VIP4], 5) is not None, "back to MASTER: in again")

        with open(f"{work}/d.conf", "w") as f:
            f.write(conf(work, accept4="true"))
        r = sh(f"ip netns exec {ns} {s.ctl} -s {work}/d.sock reload", check=False)
        check(r.returncode == 0, "a reload to accept_mode = true", (r.stdout + r.stderr)[-200:])
        check(wait(lambda: ping(VIP4), 5, 0.1) is not None and vips_set("ip") == [],
              "... lifts the rule while master: the VIP answers", str(vips_set("ip")))
        check("VI_4: reconfigured in place (still MASTER)" in text(), "... in place, no state change")
        s.stop(timeout=30)
        left = sh(f"ip netns exec {ns} nft list tables", check=False).stdout
        check("directord_vrrp" not in left, "a clean stop removes the tables", left)


if __name__ == "__main__":
    run_main(run, "vrrp no_accept")
