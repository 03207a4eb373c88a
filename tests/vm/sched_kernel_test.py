#!/usr/bin/env python3
"""Inside the IPVS VM: the userspace plane's schedulers choose what the kernel's choose.

For each scenario, the kernel gets a UDP virtual service with the scheduler, its flags and real
servers (NAT to addresses on a dummy interface, so nothing needs to answer), and one
datagram from each of many client addresses (sent from IP_TRANSPARENT sockets, so the clients need
no local address). The kernel's choice for each client is read back from its connection table, and
sched_probe, fed the same destinations in the kernel's list order, must choose the same for every
client. This is the test that our mh lookup table equals ip_vs_mh's.
"""
import argparse
import ipaddress
import socket
import subprocess
import sys

IP_TRANSPARENT = 19
IPV6_TRANSPARENT = 75


def sh(*cmd):
    subprocess.run(cmd, check=True)


def kernel_conns():
    """(client address, client port, vport) -> 'rs:port' from the kernel's connection table."""
    out = subprocess.run(["ipvsadm", "-Lnc"], check=True, capture_output=True, text=True).stdout
    conns = {}
    for line in out.splitlines()[2:]:
        f = line.split()
        if len(f) < 6 or f[0] != "UDP":
            continue
        src, vip, rs = f[3], f[4], f[5]
        saddr, sport = src.rsplit(":", 1)
        conns[(saddr.strip("[]"), int(sport), int(vip.rsplit(":", 1)[1]))] = rs
    return conns


def send_from(client, sport, vip, vport):
    v6 = ":" in client
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6 if v6 else socket.SOL_IP, IPV6_TRANSPARENT if v6 else IP_TRANSPARENT, 1)
    s.bind((client, sport))
    try:
        s.sendto(b"x", (vip, vport))
    except PermissionError:
        pass  # IPVS found no destination and dropped the datagram
    s.close()


def fmt(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


class Scenario:
    def __init__(self, name, sched, flags, vip, vport, dests, clients, edits=()):
        self.name, self.sched, self.flags = name, sched, flags
        self.vip, self.vport, self.dests, self.clients, self.edits = vip, vport, dests, clients, edits

    def run(self, probe):
        svc = ["-u", fmt(self.vip, self.vport)]
        opts = ["-s", self.sched]
        names = {1: "flag-1", 2: "flag-2", 3: "flag-1,flag-2"}
        if self.flags:
            opts += ["-b", names[self.flags]]
        sh("ipvsadm", "-A", *svc, *opts)
        for addr, port, weight in self.dests:  # added in this order: the kernel lists them newest first
            sh("ipvsadm", "-a", *svc, "-r", fmt(addr, port), "-m", "-w", str(weight))
        for addr, port, weight in self.edits:
            sh("ipvsadm", "-e", *svc, "-r", fmt(addr, port), "-m", "-w", str(weight))
        for client, sport in self.clients:
            send_from(client, sport, self.vip, self.vport)
        conns = kernel_conns()

        # the scheduler hook runs once per ipvsadm -a / -e, with the list as it is then
        script, listed = [], []
        weights, lasts = {}, {}

        def hook():
            for a, p in listed:
                script.append(f"dest {a} {p} {weights[(a, p)]} {lasts[(a, p)]}")
            script.append("update")

        for addr, port, weight in self.dests:
            listed.insert(0, (addr, port))
            weights[(addr, port)] = lasts[(addr, port)] = weight
            hook()
        for addr, port, weight in self.edits:
            weights[(addr, port)] = weight
            if weight != 0:
                lasts[(addr, port)] = weight
            hook()
        for client, sport in self.clients:
            script.append(f"pick {client} {sport} {self.vip}")
        word = (8 if self.flags & 1 else 0) | (16 if self.flags & 2 else 0)  # IP_VS_SVC_F_SCHED1/2
        ours = subprocess.run([probe, self.sched, str(word)], input="\n".join(script) + "\n",
                              check=True, capture_output=True, text=True).stdout.split()
        mismatches = []
        for (client, sport), mine in zip(self.clients, ours):
            theirs = conns.get((client, sport, self.vport), "-")
            if theirs != mine:
                mismatches.append(f"{client}:{sport} kernel {theirs} ours {mine}")
        seen = {conns.get((c, p, self.vport), "-") for c, p in self.clients}
        ok = not mismatches and len(ours) == len(self.clients)
        print(f"{'ok  ' if ok else 'FAIL'} {self.name}: {len(self.clients)} clients over {len(seen)} servers")
        for m in mismatches[:10]:
            print("     " + m)
        return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    args = ap.parse_args()

    sh("ip", "link", "add", "dummy0", "type", "dummy")
    sh("ip", "link", "set", "dummy0", "up")
    sh("ip", "addr", "add", "10.10.0.1/32", "dev", "dummy0")
    sh("ip", "addr", "add", "10.20.0.254/16", "dev", "dummy0")
    sh("ip", "-6", "addr", "add", "fd00:10::1/128", "dev", "dummy0", "nodad")
    sh("ip", "-6", "addr", "add", "fd00:20::fe/64", "dev", "dummy0", "nodad")

    v4 = [(str(ipaddress.IPv4Address("10.30.0.0") + i), 5000) for i in range(1, 1501)]
    v6 = [(str(ipaddress.IPv6Address("fd00:30::") + i * 7919), 5000) for i in range(1, 601)]
    ports = [("10.31.0.1", 1024 + 37 * i) for i in range(400)]
    rs4 = lambda n, port=53: [(f"10.20.0.{i}", port) for i in range(1, n + 1)]

    scenarios = [
        Scenario("mh, five servers, weights 1 2 3 1 5", "mh", 0, "10.10.0.1", 53,
                 [(a, p, w) for (a, p), w in zip(rs4(5), [1, 2, 3, 1, 5])], v4),
        Scenario("mh, large weights (the kernel's shift of weight/gcd)", "mh", 0, "10.10.0.1", 54,
                 [("10.20.0.1", 54, 1), ("10.20.0.2", 54, 65535), ("10.20.0.3", 54, 300)], v4),
        Scenario("mh, servers with different ports", "mh", 0, "10.10.0.1", 55,
                 [("10.20.0.1", 8001, 1), ("10.20.0.1", 8002, 1), ("10.20.0.2", 8001, 2)], v4),
        Scenario("mh-fallback with one server quiesced (last weight kept)", "mh", 1, "10.10.0.1", 56,
                 [(a, p, 1) for a, p in rs4(4, 56)], v4, edits=[("10.20.0.2", 56, 0)]),
        Scenario("mh without fallback, one server quiesced: its clients are refused", "mh", 0, "10.10.0.1", 57,
                 [(a, p, 1) for a, p in rs4(4, 57)], v4, edits=[("10.20.0.3", 57, 0)]),
        Scenario("mh-port: one client address, many source ports", "mh", 2, "10.10.0.1", 58,
                 [(a, p, 1) for a, p in rs4(6, 58)], ports),
        Scenario("mh over IPv6", "mh", 0, "fd00:10::1", 59,
                 [(f"fd00:20::{i}", 59, i) for i in range(1, 5)], v6),
        Scenario("sh, weights 1 2 3", "sh", 0, "10.10.0.1", 60,
                 [(a, p, w) for (a, p), w in zip(rs4(3, 60), [1, 2, 3])], v4),
        Scenario("sh-port", "sh", 2, "10.10.0.1", 61, [(a, p, 1) for a, p in rs4(5, 61)], ports),
        Scenario("sh-fallback, one server quiesced", "sh", 1, "10.10.0.1", 62,
                 [(a, p, 1) for a, p in rs4(4, 62)], v4, edits=[("10.20.0.1", 62, 0)]),
        Scenario("wrr, weights 4 3 2 (the interleaved sequence)", "wrr", 0, "10.10.0.1", 63,
                 [(a, p, w) for (a, p), w in zip(rs4(3, 63), [4, 3, 2])], v4[:90]),
        Scenario("rr", "rr", 0, "10.10.0.1", 64, [(a, p, 1) for a, p in rs4(4, 64)], v4[:40]),
    ]
    results = [s.run(args.probe) for s in scenarios]
    print(f"{sum(results)}/{len(results)} scenarios agree with the kernel")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
