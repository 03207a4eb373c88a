#!/usr/bin/env python3
"""The udp and dns checks end to end against real peers on loopback: dnsmasq (Debian's DNS server,
started here) for dns, and a UDP service of this test's that answers, stays silent, or turns
hostile (garbage, truncated, oversized, wrong ids, slow). directord runs on the memory plane; a
real server's presence in the table says what its check decided, the log says why."""
import os
import random
import shutil
import socket
import subprocess
import threading
import time
import unittest

from dlab import daemon
from dlab.daemon import wait_for


def udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class UdpPeer:
    """A UDP service whose behaviour the test switches: echo, silent, dns (a correct NOERROR
    answer to a DNS query), wrong-id, garbage, truncated, oversized, slow (answers after 1.5 s)."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.seen = 0
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def answer(self, data):
        mode = self.mode
        if mode == "echo":
            return data
        if mode == "dns" or mode == "wrong-id":
            flags = bytes([data[2] | 0x80, 0x80])
            ident = data[:2] if mode == "dns" else bytes([data[0] ^ 0xff, data[1]])
            return ident + flags + data[4:]
        if mode == "garbage":
            return os.urandom(random.randint(1, 600))
        if mode == "truncated":
            return data[:5]
        if mode == "oversized":
            return b"\xca\xfe" + os.urandom(60000)
        if mode == "slow":
            time.sleep(1.5)
            return data
        return None  # silent

    def serve(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.seen += 1
            out = self.answer(data)
            if out is not None:
                try:
                    self.sock.sendto(out, peer)
                except OSError:
                    pass

    def stop(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


CONFIG = """
global = {{ data_plane = "memory"; pid_file = "{dir}/directord.pid"; state_dump_file = "{dir}/state.json";
           control_socket = "{dir}/ctl.sock"; log_level = "info"; }};
virtual_servers = (
  {{ address = "127.0.10.2"; port = 53; protocol = "udp"; delay_loop = 0.3; connect_timeout = 0.5; retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {dns};
                        checks = ( {{ type = "dns"; query_name = "up.test"; query_type = "A"; }} ); }} ); }},
  {{ address = "127.0.10.3"; port = 53; protocol = "udp"; delay_loop = 0.3; connect_timeout = 0.5; retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {dns};
                        checks = ( {{ type = "dns"; query_name = "nothere.test"; query_type = "A"; }} ); }} ); }},
  {{ address = "127.0.10.4"; port = 53; protocol = "udp"; delay_loop = 0.3; connect_timeout = 0.5; retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {hostile};
                        checks = ( {{ type = "dns"; query_name = "x.test"; }} ); }} ); }},
  {{ address = "127.0.10.5"; port = 5000; protocol = "udp"; delay_loop = 0.3; connect_timeout = 0.5; retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {echo};
                        checks = ( {{ type = "udp"; payload = "ca fe 00 01"; reply = "ca fX"; min_reply_length = 4;
                                      max_reply_length = 64; }} ); }} ); }},
  {{ address = "127.0.10.6"; port = 5000; protocol = "udp"; delay_loop = 0.3; connect_timeout = 0.5; retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {closed}; checks = ( {{ type = "udp"; }} ); }} ); }},
  {{ address = "127.0.10.7"; port = 5000; protocol = "udp"; delay_loop = 0.3; connect_timeout = 0.5; retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {silent}; checks = ( {{ type = "udp"; }} ); }} ); }},
  {{ address = "127.0.10.8"; port = 53; protocol = "udp"; delay_loop = 0.3; connect_timeout = 0.5; retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {dns};
                        checks = ( {{ type = "udp"; payload = "{query}"; reply = "ab cd 8X 80"; }} ); }} ); }}
);
"""

# A DNS query for up.test A with id abcd, as hex octets: the udp check speaks DNS to dnsmasq too.
QUERY = "ab cd 01 00 00 01 00 00 00 00 00 00 02 75 70 04 74 65 73 74 00 00 01 00 01"


class UdpDnsChecksTest(unittest.TestCase):
    def start_dnsmasq(self, port):
        exe = shutil.which("dnsmasq")
        self.assertIsNotNone(exe, "dnsmasq is missing: run tools/setup-debian.sh")
        proc = subprocess.Popen(
            [exe, "--keep-in-foreground", "--conf-file=/dev/null", f"--port={port}", "--listen-address=127.0.0.1",
             "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/test/", "--address=/up.test/10.9.9.9",
             "--pid-file=", "--user=root", "--log-facility=-"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (proc.terminate(), proc.wait(timeout=10)))
        return proc

    def test_against_real_peers(self):
        dns_port, closed = udp_port(), udp_port()
        self.start_dnsmasq(dns_port)
        hostile, echo, silent = UdpPeer("wrong-id"), UdpPeer("echo"), UdpPeer("silent")
        for p in (hostile, echo, silent):
            self.addCleanup(p.stop)
        d = daemon.Daemon(self)
        d.write(text=CONFIG.format(dir=d.dir, dns=dns_port, hostile=hostile.port, echo=echo.port, closed=closed,
                                   silent=silent.port, query=QUERY))
        d.start()
        up = lambda vs, port: (f"UDP  {vs}", f"127.0.0.1:{port}") in d.weights()  # noqa: E731

        # dnsmasq: a name it has is up, one it does not (NXDOMAIN) down, and a udp check that sends
        # a DNS query and masks the answer's flags is up too.
        wait_for(lambda: up("127.0.10.2:53", dns_port), "the dns check of up.test to pass")
        wait_for(lambda: up("127.0.10.8:53", dns_port), "the udp check speaking DNS to dnsmasq to pass")
        wait_for(lambda: "DNS rcode 3 (NXDOMAIN)" in d.log(), "NXDOMAIN to fail its check")
        self.assertFalse(up("127.0.10.3:53", dns_port))
        # no listener: the ICMP port unreachable fails the check at once; a silent service is up
        wait_for(lambda: f"udp 127.0.0.1:{closed}: refused" in d.log(), "the closed port to be refused")
        self.assertFalse(up("127.0.10.6:5000", closed))
        wait_for(lambda: up("127.0.10.7:5000", silent.port), "the silent udp service to be up")
        self.assertGreater(silent.seen, 0)
        # the echo service answers the payload, whose first bytes match "ca fX"
        wait_for(lambda: up("127.0.10.5:5000", echo.port), "the echoing service to be up")

        # hostile answers to the dns check: wrong ids, garbage, truncated and oversized datagrams are
        # not answers (the check times out), a slow one is late; then a correct one is up
        for mode in ("wrong-id", "garbage", "truncated", "oversized", "slow"):
            hostile.mode = "dns"
            wait_for(lambda: up("127.0.10.4:53", hostile.port), f"the dns check to pass before {mode}")
            mark = len(d.log())
            hostile.mode = mode
            wait_for(lambda: not up("127.0.10.4:53", hostile.port), f"the dns check to fail on {mode}")
            self.assertIn(f"dns 127.0.0.1:{hostile.port}: timeout", d.log()[mark:], mode)
        hostile.mode = "dns"
        wait_for(lambda: up("127.0.10.4:53", hostile.port), "the dns check to pass again")

        # the echo service turns to garbage (mismatch), then oversized (longer than 64), then silent
        for mode, why in (("garbage", "reply mismatch"), ("oversized", "reply mismatch"), ("silent", "timeout")):
            echo.mode = "echo"
            wait_for(lambda: up("127.0.10.5:5000", echo.port), f"the udp check to pass before {mode}")
            mark = len(d.log())
            echo.mode = mode
            wait_for(lambda: not up("127.0.10.5:5000", echo.port), f"the udp check to fail on {mode}")
            self.assertIn(f"udp 127.0.0.1:{echo.port}: {why}", d.log()[mark:], mode)

        # failures by reason, as the status and /metrics count them
        checks = {c["target"]: c for c in d.state()["checks"]}
        self.assertTrue(any(c["failures"] > 0 for c in checks.values()))
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    daemon.main()
