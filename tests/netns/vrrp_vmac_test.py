#!/usr/bin/env python3
"""VMAC (keepalived's use_vmac): the VIPs on a macvlan with the VRRP virtual MAC (root, network
namespaces; the lab of dlab.netns: two directors and a client on a bridge).

A pair of directord, each with an IPv4 instance (VRID 51) and an IPv6 one (VRID 52) that use
`vmac`: both directors have the macvlans (private mode, 00:00:5e:00:01:33 and 00:00:5e:00:02:34, on
eth0, up) with keepalived's sysctls on them and on eth0; the master's VIPs are on them, not on
eth0; every frame the client sees from a virtual MAC is the master's (adverts from the virtual MAC
with eth0's address as source; the backup's macvlans send nothing, not even an IGMP or MLD report a
switch would learn the MAC from); the client's neighbour entries for the VIPs are the virtual MACs.
Then: the master dies (killed, its link cut); the backup takes over within the master-down bound
and the client's neighbour entry is the same MAC (nothing to relearn). A kill -9 of the new master's
vrrp worker keeps the macvlan (same index, not made again) and the VIP without a gap. The macvlan
deleted by hand is made again with its VIP; eth0 down is FAULT (the VIP goes, the macvlan stays),
up is MASTER again. A clean stop removes the macvlans and puts eth0's ARP settings back.
Last, keepalived with use_vmac as the master and directord as its backup: the same MAC on both,
keepalived's adverts from it, and directord takes over when keepalived's director dies."""
import json
import os
import re
import signal
import subprocess
import sys
import time

from dlab.netns import VIP, Probe, directord_conf, keepalived_conf, lab_for, master_down, start_pair, status
from dlab.report import check, run_main, sh, wait

VIP6 = "fd00:99::10"
MAC4, MAC6 = "00:00:5e:00:01:33", "00:00:5e:00:02:34"
INTERVAL = 0.1

# What the client hears for `secs` seconds: each frame's source MAC, and for IPv4/IPv6 its protocol
# (ICMPv6 with its type) and source address.
CAPTURE = r"""
import json, socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0)); s.settimeout(0.1)
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
def groups(b, off, step, alen, fam):  # the group records of an IGMPv3 / MLDv2 report
    out = []
    for _ in range(struct.unpack("!H", b[off - 2:off])[0]):
        aux, ns = b[off + 1], struct.unpack("!H", b[off + 2:off + 4])[0]
        out.append(socket.inet_ntop(fam, b[off + 4:off + 4 + alen])); off += 4 + alen + ns * alen + aux * 4
    return out
if len(sys.argv) > 2:  # a querier: IGMPv3 and MLDv2 general queries (no report suppression), 0.5 s to answer
    ifx = socket.if_nametoindex("eth0")
    q = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    q.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    q.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, struct.pack("4s4si", bytes(4), bytes(4), ifx))
    m = struct.pack("!BBH4sBBH", 0x11, 5, 0, bytes(4), 2, 10, 0)
    q.sendto(m[:2] + struct.pack("!H", csum(m)) + m[4:], ("224.0.0.1", 0))
    q6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    q6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
    q6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifx)
    q6.setsockopt(socket.IPPROTO_IPV6, 54, bytes([0, 0, 5, 2, 0, 0, 1, 0]))  # IPV6_HOPOPTS: Router Alert (MLD), RFC 3810 6.2
    q6.sendto(struct.pack("!BBHHH16sBBH", 130, 0, 0, 500, 0, bytes(16), 2, 10, 0), ("ff02::1", 0, 0, ifx))
end = time.monotonic() + float(sys.argv[1]); out = []
while time.monotonic() < end:
    try: f = s.recv(2048)
    except socket.timeout: continue
    src = ":".join("%02x" % b for b in f[6:12]); et = struct.unpack("!H", f[12:14])[0]
    if et == 0x0800:
        ihl = (f[14] & 15) * 4; p = 14 + ihl
        g = groups(f, p + 8, 0, 4, socket.AF_INET) if f[23] == 2 and f[p] == 0x22 else []
        out.append([src, "ip", f[23], socket.inet_ntop(socket.AF_INET, f[26:30]), g])
    elif et == 0x86dd:
        nh = f[20]; p = 54 if nh == 58 else (62 if nh == 0 else 0); t = f[p] if p else 0
        g = groups(f, p + 8, 0, 16, socket.AF_INET6) if t == 143 else []
        out.append([src, "ip6", nh, socket.inet_ntop(socket.AF_INET6, f[22:38]), t, g])
    else: out.append([src, hex(et)])
print(json.dumps(out))
"""


def instances(prio, more=""):
    return [f'{{ name = "VI_4"; interface = "eth0"; virtual_router_id = 51; priority = {prio}; version = 3; '
            f'advert_interval = {INTERVAL}; vmac = {{ }}; virtual_addresses = ( {{ address = "{VIP}/24"; }} ); {more} }}',
            f'{{ name = "VI_6"; interface = "eth0"; virtual_router_id = 52; priority = {prio}; version = 3; '
            f'family = "ipv6"; advert_interval = {INTERVAL}; vmac = {{ }}; '
            f'virtual_addresses = ( {{ address = "{VIP6}/64"; }} ); {more} }}']


def link(lab, i, name):
    """`ip -d link show` of `name` in director i's namespace, as one line ('' when there is none)."""
    return sh(f"ip -n {lab.ns[i]} -d -o link show dev {name}", check=False).stdout


def ifindex(lab, i, name):
    m = re.match(r"(\d+):", link(lab, i, name))
    return int(m.group(1)) if m else 0


def addrs(lab, i, dev):
    return sh(f"ip -n {lab.ns[i]} -o addr show dev {dev}", check=False).stdout


def sysctl(lab, i, key):
    return sh(f"ip netns exec {lab.ns[i]} sysctl -n {key}", check=False).stdout.strip()


def neigh(lab, addr):
    out = sh(f"ip -n {lab.cl} neigh show {addr}", check=False).stdout
    m = re.search(r"lladdr (\S+)", out)
    return m.group(1) if m else ""


def capture(lab, secs, query=False):
    r = subprocess.run(["ip", "netns", "exec", lab.cl, sys.executable, "-c", CAPTURE, str(secs)] + (["q"] if query else []),
                       capture_output=True, text=True, timeout=secs + 10)
    return json.loads(r.stdout or "[]")


def pair(directord):
    with lab_for(directord, "a directord pair with VMACs, IPv4 and IPv6") as lab:
        log = lambda i: open(os.path.join(lab.work, f"{lab.ns[i]}.log")).read()  # noqa: E731
        for i in (1, 2):  # the settings a clean stop must put back; d2 filters reverse paths strictly
            sh(f"ip netns exec {lab.ns[i]} sysctl -qw net.ipv4.conf.eth0.arp_ignore=0 net.ipv4.conf.eth0.arp_filter=0")
        sh(f"ip netns exec {lab.ns[2]} sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=0")
        ok = start_pair(lab, ("directord", directord_conf(lab, 1, instances(150))),
                        ("directord", directord_conf(lab, 2, instances(100))))
        check(ok or wait(lambda: f" {VIP}/" in addrs(lab, 1, "vrrp.51"), 15) is not None,
              "d1 (priority 150) becomes master", lab.logs()[-600:])
        for i in (1, 2):
            for name, mac in (("vrrp.51", MAC4), ("vrrp.52", MAC6)):
                line = link(lab, i, name)
                check(f"link/ether {mac}" in line and "@eth0" in line and "macvlan mode private" in line and
                      ",UP" in line, f"d{i}: {name} is a private macvlan of eth0 with {mac}, up", line[:300])
        check(wait(lambda: f" {VIP}/24 " in addrs(lab, 1, "vrrp.51") and f" {VIP6}/64 " in addrs(lab, 1, "vrrp.52"),
                   5) is not None, "d1's VIPs are on its macvlans", addrs(lab, 1, "vrrp.51") + addrs(lab, 1, "vrrp.52"))
        check(f" {VIP}/" not in addrs(lab, 1, "eth0") and f" {VIP}/" not in addrs(lab, 2, "vrrp.51") and
              f" {VIP6}/" not in addrs(lab, 2, "vrrp.52"), "... and nowhere else")
        want = {"net.ipv4.conf.vrrp/51.arp_ignore": "1", "net.ipv4.conf.vrrp/51.accept_local": "1",
                "net.ipv4.conf.vrrp/51.rp_filter": "0", "net.ipv6.conf.vrrp/51.disable_ipv6": "1",
                "net.ipv4.conf.eth0.arp_ignore": "1", "net.ipv4.conf.eth0.arp_filter": "1",
                "net.ipv6.conf.vrrp/52.addr_gen_mode": "1",
                # keepalived's clear_rp_filter: each link raised to all's 1, all to 0
                "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.eth0.rp_filter": "1"}
        got = {k: sysctl(lab, 2, k) for k in want}
        check(got == want, "d2: keepalived's settings on the macvlans and on eth0", str(got))
        ll = re.search(r"inet6 (fe80::\S+)/64", addrs(lab, 1, "eth0")).group(1)
        v6 = addrs(lab, 1, "vrrp.52")
        check(f"inet6 {ll}/64" in v6 and v6.count("inet6 fe80") == 1,
              "the IPv6 macvlan carries eth0's link-local address, and no address of its own", v6)

        sh(f"ip netns exec {lab.cl} ping -c1 -W1 {VIP}", check=False)
        sh(f"ip netns exec {lab.cl} ping -c1 -W1 {VIP6}", check=False)
        check(neigh(lab, VIP) == MAC4 and neigh(lab, VIP6) == MAC6,
              "the client reaches the VIPs at the virtual MACs", f"{neigh(lab, VIP)} {neigh(lab, VIP6)}")
        frames = capture(lab, 1.5, query=True)
        from_vmac = [f for f in frames if f[0] in (MAC4, MAC6)]
        adverts4 = [f for f in from_vmac if f[0] == MAC4 and f[1:3] == ["ip", 112]]
        adverts6 = [f for f in from_vmac if f[0] == MAC6 and f[1:3] == ["ip6", 112]]
        check(len(adverts4) >= 10 and {f[3] for f in adverts4} == {"10.99.0.11"},
              "IPv4 adverts come from the virtual MAC with d1's eth0 address", f"{len(adverts4)} adverts")
        check(len(adverts6) >= 10 and {f[3] for f in adverts6} == {ll},
              "IPv6 adverts come from the virtual MAC with d1's link-local address", f"{len(adverts6)} adverts")
        ll2 = re.search(r"inet6 (fe80::\S+)/64", addrs(lab, 2, "eth0")).group(1)
        backup = [f for f in from_vmac if len(f) > 3 and f[3] in ("10.99.0.12", ll2, "0.0.0.0", "::")]
        check(not backup, "asked by a querier, the backup sends nothing with a virtual MAC (no IGMP or MLD report)",
              str(backup[:5]))
        mac2 = sh(f"ip -n {lab.ns[2]} -o link show dev eth0").stdout.split("link/ether ")[1].split()[0]
        reports = [f for f in frames if f[0] == mac2 and len(f) > 4 and isinstance(f[-1], list)]
        moved4 = [f for f in reports if "224.0.0.18" in f[-1]]
        moved6 = [f for f in reports if "ff02::12" in f[-1]]
        check(moved4 and moved6, "... its macvlans' reports for 224.0.0.18 and ff02::12 leave from eth0 instead "
              "(keepalived's nftables rules)", str([f for f in frames if len(f) > 4 and f[-1]][:8]))

        probe = Probe(lab, VIP)
        probe.fresh()
        t0 = time.monotonic()
        lab.kill(1, signal.SIGKILL)  # the host dies: its processes, and its link
        sh(f"ip -n {lab.ns[1]} link set eth0 down")
        check(wait(lambda: f" {VIP}/24 " in addrs(lab, 2, "vrrp.51"), 5) is not None, "d1 dies: d2 takes the VIP")
        probe.answered_since(t0, "failover (d2 filters reverse paths strictly: its macvlan's 0 counts)",
                             master_down(INTERVAL) + 0.3)
        check(neigh(lab, VIP) == MAC4, "... and the client's neighbour entry is the same virtual MAC", neigh(lab, VIP))

        idx = ifindex(lab, 2, "vrrp.51")
        pid = int(re.findall(r"started the vrrp worker \(pid (\d+)\)", log(2))[-1])
        t1 = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        check(wait(lambda: log(2).count("resuming as MASTER") >= 2, 10) is not None,
              "kill -9 of d2's vrrp worker: the new worker resumes both instances as master", log(2)[-400:])
        probe.fresh()
        gap = probe.gap(t1, time.monotonic())
        check(ifindex(lab, 2, "vrrp.51") == idx and log(2).count(f"VMAC vrrp.51 ({MAC4}) created") == 1,
              "... with the same macvlan (not made again)",
              f"index {idx} -> {ifindex(lab, 2, 'vrrp.51')}; " + " | ".join(x for x in log(2).splitlines() if "VMAC" in x))
        check(gap < 0.2 and f" {VIP}/24 " in addrs(lab, 2, "vrrp.51"), "... and the VIP stays: no gap",
              f"{gap * 1000:.0f} ms")

        sh(f"ip -n {lab.ns[2]} link del vrrp.51")
        check(wait(lambda: f" {VIP}/24 " in addrs(lab, 2, "vrrp.51"), 5) is not None,
              "the macvlan deleted by hand is made again, with the VIP", log(2)[-400:])
        check("VMAC vrrp.51 was removed; made again and its addresses added back" in log(2), "... and the log says so")
        idx = ifindex(lab, 2, "vrrp.51")
        sh(f"ip -n {lab.ns[2]} link set eth0 down")
        check(wait(lambda: status(lab, 2).get("vrrp", {}).get("VI_4", {}).get("state") == "FAULT", 5) is not None,
              "eth0 down: FAULT")
        check(wait(lambda: f" {VIP}/" not in addrs(lab, 2, "vrrp.51"), 5) is not None and
              ifindex(lab, 2, "vrrp.51") == idx, "... the VIP goes, the macvlan stays")
        sh(f"ip -n {lab.ns[2]} link set eth0 up")
        check(wait(lambda: f" {VIP}/24 " in addrs(lab, 2, "vrrp.51"), 10) is not None, "eth0 up: master again")
        probe.close()
        lab.kill(2, signal.SIGTERM)
        lab.procs[2].wait(timeout=30)
        check(not link(lab, 2, "vrrp.51") and not link(lab, 2, "vrrp.52"), "a clean stop removes the macvlans")
        back = tuple(sysctl(lab, 2, f"net.ipv4.conf.{k}") for k in ("eth0.arp_ignore", "eth0.arp_filter",
                                                                    "eth0.arp_announce", "all.rp_filter", "eth0.rp_filter"))
        check(back == ("0", "0", "0", "1", "0"), "... and puts eth0's ARP settings and the rp_filters back "
              "(after a worker restart: from the macvlan's alias)", str(back))


def with_keepalived(directord):
    with lab_for(directord, "keepalived with use_vmac as master, directord with vmac as backup") as lab:
        kconf = keepalived_conf(lab.ns[1], 150, 3, 1, [f"{VIP}/24"], more="  use_vmac\n")
        dconf = directord_conf(lab, 2, [f'{{ name = "VI_1"; interface = "eth0"; virtual_router_id = 51; priority = 100; '
                                        f'version = 3; advert_interval = 1; vmac = {{ }}; '
                                        f'virtual_addresses = ( {{ address = "{VIP}/24"; }} ); }}'])
        lab.start_raw(1, "keepalived", kconf)
        check(wait(lambda: f" {VIP}/24 " in addrs(lab, 1, "vrrp.51"), 15) is not None,
              "keepalived becomes master with the VIP on its vrrp.51", lab.logs()[-600:])
        lab.start_raw(2, "directord", dconf)
        check(wait(lambda: status(lab, 2).get("vrrp", {}).get("VI_1", {}).get("state") == "BACKUP", 10) is not None,
              "directord is its backup", lab.logs()[-600:])
        check(f"link/ether {MAC4}" in link(lab, 1, "vrrp.51") and f"link/ether {MAC4}" in link(lab, 2, "vrrp.51"),
              "both have vrrp.51 with the same virtual MAC")
        adverts = [f for f in capture(lab, 2.5) if f[0] == MAC4 and f[1:3] == ["ip", 112]]
        check(adverts and {f[3] for f in adverts} == {"10.99.0.11"},
              "keepalived's adverts come from the virtual MAC, none from directord's", str(adverts[:3]))
        probe = Probe(lab, VIP)
        probe.fresh()
        t0 = time.monotonic()
        lab.kill(1, signal.SIGKILL)
        sh(f"ip -n {lab.ns[1]} link set eth0 down")
        check(wait(lambda: f" {VIP}/24 " in addrs(lab, 2, "vrrp.51"), 10) is not None,
              "keepalived's director dies: directord takes the VIP on its vrrp.51")
        probe.answered_since(t0, "failover from keepalived", master_down(1) + 0.3)
        check(wait(lambda: neigh(lab, VIP) == MAC4, 3) is not None,
              "... and the client reaches it at the virtual MAC (keepalived's own ARP requests, sent with the VIP "
              "from its parent link, had taught the client the parent's MAC)", neigh(lab, VIP))
        probe.close()


def run(directord):
    pair(directord)
    with_keepalived(directord)


if __name__ == "__main__":
    run_main(run, "vrrp vmac")
