#!/usr/bin/env python3
"""The quickstart, for real: directord on conf/examples/quickstart.conf (its ports moved to free
ones) with the userspace data plane in front of two web servers; requests through the virtual
service reach both, a stopped server stops getting requests once its check fails, and it gets
them again when it is back."""
import os
import re
import subprocess
import time
import unittest
import urllib.request

from dlab import daemon
from dlab.daemon import Backend, free_port, wait_for


def fetch(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            return r.read().decode()
    except OSError:
        return None


class QuickstartTest(unittest.TestCase):
    def test_requests_reach_both_backends_and_follow_health(self):
        b1, b2 = Backend(body=b"backend 1\n"), Backend(body=b"backend 2\n")
        self.addCleanup(b2.stop)
        vport = free_port()
        with open(os.path.join(daemon.SOURCE, "conf/examples/quickstart.conf")) as f:
            text = f.read()
        text = text.replace("port = 8080;", f"port = {vport};")
        text = text.replace("port = 8081;", f"port = {b1.port};").replace("port = 8082;", f"port = {b2.port};")
        text = text.replace("delay_loop = 5.0;", "delay_loop = 0.3;")
        d = daemon.Daemon(self)
        text = re.sub(r"global = \{", f'global = {{ pid_file = "{d.dir}/directord.pid"; '
                                      f'state_dump_file = "{d.dir}/state.json"; control_socket = "{d.dir}/ctl.sock";', text, count=1)
        d.write(text=text)
        d.logf = open(d.log_path, "w")
        d.proc = subprocess.Popen([daemon.DIRECTORD, "-f", d.conf], stdout=d.logf, stderr=subprocess.STDOUT)
        wait_for(lambda: "lvs: started on the userspace table" in d.log(), "directord on the userspace plane")

        wait_for(lambda: fetch(vport) is not None, "the virtual service to answer")
        seen = {fetch(vport) for _ in range(20)}
        self.assertEqual(seen, {"backend 1\n", "backend 2\n"})
        # the closed connections are in the plane's connection table, as ipvsadm -Lnc shows the kernel's
        ipvsctl = os.path.join(os.path.dirname(daemon.DIRECTORD), "ipvsctl")
        r = subprocess.run([ipvsctl, "-Lnc"], capture_output=True, text=True, timeout=10,
                           env=dict(os.environ, DIRECTORD_SOCKET=os.path.join(d.dir, "ctl.sock")))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[1], "pro expire state       source             virtual            destination")
        closed = [l for l in lines[2:] if re.match(rf"TCP 0[01]:\d\d  FIN_WAIT    127\.0\.0\.1:\d+ +127\.0\.0\.1:{vport} +"
                                                   rf"127\.0\.0\.1:({b1.port}|{b2.port})$", l)]
        self.assertGreaterEqual(len(closed), 20, r.stdout)

        b1.stop()
        wait_for(lambda: "rs 127.0.0.1:%d: UP -> DOWN" % b1.port in d.log(), "the check to take backend 1 out")
        time.sleep(0.2)
        self.assertEqual({fetch(vport) for _ in range(10)}, {"backend 2\n"})

        b1.start()
        wait_for(lambda: "rs 127.0.0.1:%d: DOWN -> UP" % b1.port in d.log(), "backend 1 back")
        wait_for(lambda: "backend 1\n" in {fetch(vport) for _ in range(10)}, "requests to reach backend 1 again")
        b1.stop()
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    daemon.main()
