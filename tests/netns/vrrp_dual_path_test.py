#!/usr/bin/env python3
"""advert_paths: no split brain from one lost link (root, network namespaces). Two directord on a
LAN (eth0, with the client probing the VIP every 2 ms) and joined by a second link of their own
(eth1, a direct veth); VRRPv3 at 0.1 s adverts, the master at priority 200, the backup at 100.

  - baseline, without advert_paths: VRRP cut on eth0 between the directors (nftables drops protocol
    112 there, the LAN itself stays up) makes the backup master too: split brain, as expected (the
    test's cut is real);
  - with advert_paths on eth1 (unicast to the peer's eth1 address): the same cut moves nothing: no
    transition on either director, no gap for the client;
  - eth1 down alone (the second link cut; eth0 fine): nothing moves either;
  - both cut: one transition, the backup takes over within the usual master-down interval.
"""
import time

from dlab import netns
from dlab.report import check, run_main, sh, wait

INTERVAL = 0.1
PATH_ADDR = {1: "10.98.0.11", 2: "10.98.0.12"}


def second_link(lab):
    sh(f"ip -n {lab.ns[1]} link add eth1 type veth peer name eth1 netns {lab.ns[2]}")
    for i in (1, 2):
        sh(f"ip -n {lab.ns[i]} addr add {PATH_ADDR[i]}/24 dev eth1 && ip -n {lab.ns[i]} link set eth1 up")


def conf(lab, i, prio, paths):
    more = ""
    if paths:
        peer = PATH_ADDR[3 - i]
        more = f'advert_paths = ( {{ interface = "eth1"; unicast_peers = [ "{peer}" ]; }} );'
    return ("directord", netns.directord_conf(lab, i, [netns.d_instance("VI_1", 51, prio, 3, INTERVAL,
                                                                        [netns.VIP + "/24"], more)]))


def cut_vrrp_on_eth0(lab, on):
    for i in (1, 2):
        ns = lab.ns[i]
        if on:
            sh(f"ip netns exec {ns} nft add table inet cut")
            sh(f"ip netns exec {ns} nft 'add chain inet cut in {{ type filter hook input priority 0; }}'")
            sh(f"ip netns exec {ns} nft 'add chain inet cut out {{ type filter hook output priority 0; }}'")
            sh(f"ip netns exec {ns} nft add rule inet cut in iifname eth0 meta l4proto 112 drop")
            sh(f"ip netns exec {ns} nft add rule inet cut out oifname eth0 meta l4proto 112 drop")
        else:
            sh(f"ip netns exec {ns} nft delete table inet cut", check=False)


def state(lab, i):
    return netns.status(lab, i).get("vrrp", {}).get("VI_1", {}).get("state")


def still(lab, probe, what, seconds=2.0):
    """Nothing moves for `seconds`: no transition on either director, the client answered."""
    before = (netns.transitions(lab, 1), netns.transitions(lab, 2))
    t0 = time.monotonic()
    time.sleep(seconds)
    after = (netns.transitions(lab, 1), netns.transitions(lab, 2))
    check(after == before and state(lab, 1) == "MASTER" and state(lab, 2) == "BACKUP",
          f"{what}: no transition on either director", f"transitions {before} -> {after}, "
                                                       f"states {state(lab, 1)} / {state(lab, 2)}")
    gap = probe.gap(t0, time.monotonic())
    check(gap <= netns.STILL, f"{what}: the client sees no gap", f"longest {gap * 1000:.0f} ms")


def run(directord):
    with netns.lab_for(directord, "baseline: one path") as lab:
        second_link(lab)
        check(netns.start_pair(lab, conf(lab, 1, 200, False), conf(lab, 2, 100, False)), "a master and a backup")
        time.sleep(1)
        cut_vrrp_on_eth0(lab, True)
        split = wait(lambda: state(lab, 2) == "MASTER", 5, 0.02)
        check(split is not None and state(lab, 1) == "MASTER",
              "without advert_paths the cut makes two masters (split brain): the cut is real",
              f"{state(lab, 1)} / {state(lab, 2)}")

    with netns.lab_for(directord, "advert_paths on a second link") as lab:
        second_link(lab)
        check(netns.start_pair(lab, conf(lab, 1, 200, True), conf(lab, 2, 100, True)), "a master and a backup")
        probe = netns.Probe(lab)
        check(probe.fresh(), "the client is answered")
        time.sleep(1)
        cut_vrrp_on_eth0(lab, True)
        still(lab, probe, "VRRP cut on eth0")
        cut_vrrp_on_eth0(lab, False)
        sh(f"ip -n {lab.ns[2]} link set eth1 down")
        still(lab, probe, "eth1 down")
        # both: one transition, the usual failover time
        t0 = time.monotonic()
        cut_vrrp_on_eth0(lab, True)
        took = wait(lambda: state(lab, 2) == "MASTER", 5, 0.01)
        bound = netns.master_down(INTERVAL, 100) + netns.MARGIN
        check(took is not None and took <= bound, "both cut: the backup takes over within the master-down interval",
              f"{took:.3f} s (bound {bound:.2f} s)" if took is not None else "never")
        del t0
        # healed: the higher priority master is heard again on eth0, the backup yields
        cut_vrrp_on_eth0(lab, False)
        back = wait(lambda: state(lab, 2) == "BACKUP", 5, 0.02)
        check(back is not None and state(lab, 1) == "MASTER", "healed: one master again")


if __name__ == "__main__":
    run_main(run, "advert paths")
