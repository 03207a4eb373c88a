#!/usr/bin/env python3
"""Nothing off the link moves a VIP (RFC 5798 7.1), in network namespaces (root).

Two directord directors (VRRPv3, 0.1 s adverts) on a bridge with a client, and a router between
that LAN and an attacker's subnet. The attacker sends priority-255 adverts with a 10 s interval to
the master's own unicast address (not the group), as an off-link host can: sent with TTL 2 (1 on
arrival) and with TTL 255 (254 on arrival), IPv4 and IPv6. The master stays master (no transition
on either director), the client probing the VIP every 2 ms sees no gap, and every advert is counted
as dropped for its TTL. With unicast peers and unicast_ttl 255, adverts forged from the peer's own
address but sent from off the link are dropped the same way, and a stranger's on the link as
address_mismatch."""
import sys
import time

from dlab.netns import STILL, d_instance, directord_conf, lab_for, Probe, start_pair, status, transitions
from dlab.report import check, run_main, sh

VIP, VIP6 = "10.99.0.10", "fd00:99::10"
COUNT = 30  # adverts per kind: 3 s of the attacker's claimed master at 0.1 s pacing

# The attacker's sender: VRRPv3 priority 255, interval 10 s (1000 cs), one address. IPv4 is built
# whole (IP_HDRINCL: its TTL and source are the attacker's to choose); IPv6 takes its hop limit
# from the socket and its checksum from the kernel (IPV6_CHECKSUM at offset 6).
ATTACK = r"""
import socket, struct, sys, time
v6 = sys.argv[1] == "6"; src, dst, vip = sys.argv[2], sys.argv[3], sys.argv[4]
ttl, count = int(sys.argv[5]), int(sys.argv[6])
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
if v6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 6)
    body = struct.pack("!BBBBHH", 0x31, 51, 255, 1, 1000, 0) + socket.inet_pton(socket.AF_INET6, vip)
    for _ in range(count):
        s.sendto(body, (dst, 0)); time.sleep(0.02)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    body = struct.pack("!BBBBHH", 0x31, 51, 255, 1, 1000, 0) + socket.inet_aton(vip)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 112, len(body))
    body = body[:6] + struct.pack("!H", csum(pseudo + body)) + body[8:]
    for i in range(count):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xc0, 20 + len(body), i + 1, 0, ttl, 112, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s.sendto(ip + body, (dst, 0)); time.sleep(0.02)
"""


def add_router(lab):
    """A router on the LAN (10.99.0.1, fd00:99::1) to the attacker's subnet (10.98.0.0/24, fd00:98::/64)."""
    rt, at = f"rt{lab.lan[2:]}", f"at{lab.lan[2:]}"
    lab.extra_ns = [rt, at]
    for ns in (rt, at):
        sh(f"ip netns add {ns} && ip -n {ns} link set lo up")
    sh(f"ip -n {lab.lan} link add v{rt} type veth peer name eth0 netns {rt}")
    sh(f"ip -n {lab.lan} link set v{rt} master br0 up")
    sh(f"ip -n {rt} link add eth1 type veth peer name eth0 netns {at}")
    sh(f"ip netns exec {rt} sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 "
       f"net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0")
    sh(f"ip -n {rt} addr add 10.99.0.1/24 dev eth0 && ip -n {rt} addr add fd00:99::1/64 dev eth0 nodad")
    sh(f"ip -n {rt} addr add 10.98.0.1/24 dev eth1 && ip -n {rt} addr add fd00:98::1/64 dev eth1 nodad")
    sh(f"ip -n {rt} link set eth0 up && ip -n {rt} link set eth1 up")
    sh(f"ip -n {at} addr add 10.98.0.66/24 dev eth0 && ip -n {at} addr add fd00:98::66/64 dev eth0 nodad")
    sh(f"ip -n {at} link set eth0 up && ip -n {at} route add default via 10.98.0.1 && "
       f"ip -n {at} -6 route add default via fd00:98::1")
    return at


def attack(lab, ns, v6, src, dst, vip, ttl):
    sh(f"ip netns exec {ns} {sys.executable} -c '{ATTACK}' {6 if v6 else 4} {src} {dst} {vip} {ttl} {COUNT}")


def drops(lab, i):
    return status(lab, i).get("vrrp", {}).get("VI_1", {}).get("dropped", {})


def case(directord, name, v6, unicast):
    vip = VIP6 if v6 else VIP
    with lab_for(directord, name) as lab:
        at = add_router(lab)
        try:
            def conf(i, prio):
                more = 'family = "ipv6";' if v6 else ""
                if unicast:
                    peer = "10.99.0.12" if i == 1 else "10.99.0.11"
                    more += f'unicast_peers = [ "{peer}" ]; unicast_ttl = 255;'
                return directord_conf(lab, i, [d_instance("VI_1", 51, prio, 3, 0.1,
                                                          [f"{vip}/{64 if v6 else 24}"], more)])
            check(start_pair(lab, ("directord", conf(1, 150)), ("directord", conf(2, 100)), vip),
                  f"{name}: director 1 is master")
            probe = Probe(lab, vip)
            check(probe.fresh(), f"{name}: the client is answered")
            time.sleep(1.0)
            base = (transitions(lab, 1), transitions(lab, 2))
            before = drops(lab, 1)
            master = "fd00:99::11" if v6 else "10.99.0.11"
            t0 = time.monotonic()
            kinds = []
            if unicast:  # forged from the peer's address off the link; a stranger on the link
                attack(lab, at, False, "10.99.0.12", master, vip, 255)
                attack(lab, lab.cl, False, "10.99.0.100", master, vip, 255)
                kinds = [("bad_ttl", COUNT), ("address_mismatch", COUNT)]
            else:
                src = "fd00:98::66" if v6 else "10.98.0.66"
                attack(lab, at, v6, src, master, vip, 2)    # TTL 1 on arrival
                attack(lab, at, v6, src, master, vip, 255)  # 254 on arrival
                kinds = [("bad_ttl", 2 * COUNT)]
            time.sleep(1.0)
            gap = probe.gap(t0, time.monotonic())
            now = (transitions(lab, 1), transitions(lab, 2))
            after = drops(lab, 1)
            check(now == base, f"{name}: no transition on either director", f"{base} -> {now}")
            check(lab.has_vip(1, vip) and not lab.has_vip(2, vip), f"{name}: director 1 still holds the VIP")
            check(gap < STILL, f"{name}: the client probing every 2 ms saw no gap", f"{gap * 1000:.1f} ms")
            for key, n in kinds:
                got = after.get(key, 0) - before.get(key, 0)
                check(got == n, f"{name}: {n} adverts dropped and counted as {key}", f"{got}; all: {after}")
        finally:
            for ns in getattr(lab, "extra_ns", []):
                sh(f"ip netns del {ns}", check=False)


def run(directord):
    case(directord, "IPv4: priority 255 to the master's address from behind a router", False, False)
    case(directord, "IPv6: priority 255 to the master's address from behind a router", True, False)
    case(directord, "IPv4 unicast, unicast_ttl 255: forged peer and stranger from behind a router", False, True)


if __name__ == "__main__":
    run_main(run, "off-link VRRP")
