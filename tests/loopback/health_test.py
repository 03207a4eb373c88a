#!/usr/bin/env python3
"""Health checks end to end: directord (in-memory table) checks real servers that this test runs
on loopback; a server that stops leaves the table, one that comes back returns, a body change
breaks a digest; and `directord --genhash` agrees with keepalived's genhash."""
import shutil
import subprocess
import time
import unittest

from dlab import daemon
from dlab.daemon import Backend, wait_for


CONFIG = """
global = {{ data_plane = "memory"; pid_file = "{dir}/directord.pid"; state_dump_file = "{dir}/state.json";
           control_socket = "{dir}/ctl.sock";
           log_level = "info"; }};
virtual_servers = (
  {{ address = "127.0.10.1"; port = 80; delay_loop = 0.3; connect_timeout = 1.0; retry = 0; quorum = 0;
     real_servers = (
       {{ address = "127.0.0.1"; port = {a}; weight = 2; checks = ( {{ type = "tcp"; }} ); }},
       {{ address = "127.0.0.1"; port = {b}; weight = 3; inhibit_on_failure = true;
          checks = ( {{ type = "http"; path = "/health"; digest = "{digest}"; }} ); }}
     ); }}
);
"""


class HealthTest(unittest.TestCase):
    def test_servers_leave_and_return(self):
        a, b = Backend(), Backend(body=b"all good\n")
        self.addCleanup(b.stop)
        digest = subprocess.run([daemon.DIRECTORD, "--genhash", f"http://127.0.0.1:{b.port}/health"],
                                capture_output=True, text=True, check=True).stdout.strip()
        d = daemon.Daemon(self)
        d.write(text=CONFIG.format(dir=d.dir, a=a.port, b=b.port, digest=digest))
        d.start()
        ra, rb = f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"
        vs = "TCP  127.0.10.1:80"
        wait_for(lambda: d.weights() == {(vs, ra): 2, (vs, rb): 3}, "both servers up")

        a.stop()
        t0 = time.monotonic()
        wait_for(lambda: (vs, ra) not in d.weights(), "the stopped server to leave the table")
        left = time.monotonic() - t0
        # refused, or reset when the check raced the listener's close
        self.assertRegex(d.log(), rf"check: vs 127.0.10.1:80/tcp rs {ra}: UP -> DOWN \(tcp {ra}: (refused|reset), 1/1\)")
        print(f"\n  stopped server left the table after {left:.2f} s (bound: fall 1 x 0.3 s + timeout 1 s)")

        a.start()
        wait_for(lambda: d.weights().get((vs, ra)) == 2, "the restarted server to return")
        self.assertIn(f"rs {ra}: DOWN -> UP", d.log())

        b.body = b"something else\n"
        wait_for(lambda: d.weights().get((vs, rb)) == 0, "the digest mismatch to inhibit the server")
        self.assertIn(f"rs {rb}: UP -> DOWN (http {rb}: digest mismatch, 1/1)", d.log())
        checks = d.state()["checks"]
        self.assertEqual(len(checks), 2)
        self.assertTrue(all(c["attempts"] > 0 for c in checks))
        a.stop()
        self.assertEqual(d.stop(), 0)

    def test_genhash_agrees_with_keepalived(self):
        genhash = shutil.which("genhash")
        self.assertIsNotNone(genhash, "keepalived's genhash is missing: run tools/setup-debian.sh")
        b = Backend(body=b"<html><body>" + b"x" * 5000 + b"</body></html>\n")
        self.addCleanup(b.stop)
        ours = subprocess.run([daemon.DIRECTORD, "--genhash", f"http://127.0.0.1:{b.port}/index.html"],
                              capture_output=True, text=True, check=True).stdout.strip()
        theirs = subprocess.run([genhash, "-s", "127.0.0.1", "-p", str(b.port), "-u", "/index.html"],
                                capture_output=True, text=True, timeout=30).stdout.strip()
        self.assertEqual(ours, theirs)
        self.assertRegex(ours, r"^[0-9a-f]{32}$")


if __name__ == "__main__":
    daemon.main()
