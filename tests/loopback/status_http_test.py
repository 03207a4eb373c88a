#!/usr/bin/env python3
"""The HTTP status listener (global.status.listen) end to end, with curl and promtool: /status is
the JSON state, /metrics the Prometheus exposition and follows health (a real server that stops
reads 0, its applied weight goes, the up count drops); bad requests get 400/404/405/431; a client
that sends nothing is closed after 5 s; 64 idle clients cannot hold the listener (the next one gets
503, and it answers again once they time out); the listener lives in the status worker and the
bodies come from the lvs worker (stopped, it leaves a 503); a reload that moves the listener rebinds
it."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest

from dlab import daemon
from dlab.daemon import Backend, free_port, wait_for

CONFIG = """
global = {{ data_plane = "memory"; pid_file = "{dir}/directord.pid"; state_dump_file = "{dir}/state.json";
           control_socket = "{dir}/ctl.sock"; status = {{ listen = "127.0.0.1:{port}"; }}; }};
vrrp_instances = ( {{ name = "VI_1"; interface = "vrrp-none0"; virtual_router_id = 51;
                     virtual_addresses = [ "127.0.10.1/32" ]; }} );
virtual_servers = (
  {{ address = "127.0.10.1"; port = 80; scheduler = "wrr"; delay_loop = 0.3; connect_timeout = 1.0; retry = 0;
     real_servers = (
       {{ address = "127.0.0.1"; port = {a}; weight = 2; checks = ( {{ type = "tcp"; }} ); }},
       {{ address = "127.0.0.1"; port = {b}; weight = 3; checks = ( {{ type = "tcp"; }} ); }}
     ); }},
  {{ fwmark = 7; scheduler = "rr"; real_servers = ( {{ address = "127.0.0.2"; port = 80; }} ); }}
);
"""


def curl(port, path, *extra):
    r = subprocess.run(["curl", "-s", "-S", "-m", "10", "-o", "-", "-w", "\n%{http_code}", *extra,
                        f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def raw(port, data, timeout=10):
    """Sends `data` as is; returns what the server answered before closing."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def metric(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search(rf"^{re.escape(name)}{re.escape('{' + want + '}') if want else ''} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


class StatusHttpTest(unittest.TestCase):
    def test_status_metrics_and_bad_clients(self):
        a, b = Backend(), Backend()
        self.addCleanup(a.stop)
        self.addCleanup(b.stop)
        port = free_port()
        d = daemon.Daemon(self)
        d.write(text=CONFIG.format(dir=d.dir, port=port, a=a.port, b=b.port))
        d.start()
        wait_for(lambda: curl(port, "/status")[0] == 200, "the listener")
        code, body = curl(port, "/status")
        state = json.loads(body)
        self.assertEqual(state["data_plane"], "memory")
        self.assertIn("VI_1", state["vrrp_roles"])
        vs = "tcp/127.0.10.1:80"
        ra, rb = f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"
        text = wait_for(lambda: (t := curl(port, "/metrics")[1]) and
                        metric(t, "directord_virtual_server_real_servers_up", virtual_server=vs) == 2 and t,
                        "both real servers up in /metrics")
        self.assertEqual(metric(text, "directord_real_server_up", virtual_server=vs, real_server=ra), 1)
        self.assertEqual(metric(text, "directord_real_server_weight", virtual_server=vs, real_server=rb), 3)
        self.assertEqual(metric(text, "directord_virtual_server_quorum_up", virtual_server=vs), 1)
        self.assertEqual(metric(text, "directord_vrrp_state", instance="VI_1", state="INIT"), 1)
        self.assertEqual(metric(text, "directord_vrrp_state", instance="VI_1", state="MASTER"), 0)
        self.assertIsNotNone(metric(text, "directord_real_server_up", virtual_server="fwmark/7",
                                    real_server="127.0.0.2:80"))
        self.assertIsNotNone(re.search(r'^directord_build_info\{version="[^"]+"\} 1$', text, re.M))
        # promtool: the exposition follows the format and the naming conventions
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool (Debian's prometheus package) is needed")
        lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)

        # health moves the metrics
        a.stop()
        text = wait_for(lambda: (t := curl(port, "/metrics")[1]) and
                        metric(t, "directord_real_server_up", virtual_server=vs, real_server=ra) == 0 and t,
                        "the stopped server down in /metrics")
        self.assertEqual(metric(text, "directord_virtual_server_real_servers_up", virtual_server=vs), 1)
        self.assertEqual(metric(text, "directord_real_server_failed_checks", virtual_server=vs, real_server=ra), 1)
        self.assertIsNone(metric(text, "directord_real_server_weight", virtual_server=vs, real_server=ra))
        check = dict(virtual_server=vs, real_server=ra, check="1", type="tcp")
        # the first failed attempt can be a reset (a check connection still in the stopped listener's
        # backlog); the ones after it find nothing listening
        text = wait_for(lambda: (t := curl(port, "/metrics")[1]) and
                        (metric(t, "directord_check_failures_total", **check, reason="refused") or 0) >= 1 and t,
                        "a refused check counted in /metrics")
        self.assertGreater(metric(text, "directord_check_latency_seconds_count", **check), 1)
        self.assertEqual(metric(text, "directord_check_latency_seconds_bucket", **check, le="+Inf"),
                         metric(text, "directord_check_latency_seconds_count", **check))
        self.assertGreaterEqual(metric(text, "directord_check_attempts_total", **check),
                                metric(text, "directord_check_latency_seconds_count", **check))
        lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)

        # bad requests are answered and closed
        self.assertEqual(curl(port, "/nope")[0], 404)
        self.assertEqual(curl(port, "/metrics", "-X", "POST")[0], 405)
        code, body = curl(port, "/metrics", "-I")
        self.assertEqual(code, 200)
        self.assertTrue(raw(port, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400 "))
        self.assertTrue(raw(port, b"GET /status HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n")
                        .startswith(b"HTTP/1.1 431 "))
        # a client that sends nothing is closed after 5 s
        t0 = time.monotonic()
        self.assertEqual(raw(port, b"", timeout=30), b"")
        took = time.monotonic() - t0
        self.assertGreater(took, 4)
        self.assertLess(took, 20)
        # idle clients cannot hold it: the 65th is told 503 at once; they time out and it answers again
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
        time.sleep(0.5)
        self.assertTrue(raw(port, b"GET /status HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 503 "))
        wait_for(lambda: curl(port, "/status")[0] == 200, "the listener to answer once the idle clients time out")
        for s in held:
            s.close()

        # the listener is the status worker's; the body the lvs worker's: with the lvs worker stopped,
        # a request is answered 503 after the front's 4 s, and served again once it runs
        lvs = state["pid"]
        os.kill(lvs, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            code, _ = curl(port, "/status")
            took = time.monotonic() - t0
        finally:
            os.kill(lvs, signal.SIGCONT)
        self.assertEqual(code, 503)
        self.assertGreater(took, 3)
        self.assertEqual(curl(port, "/status")[0], 200)

        # a reload that moves the listener rebinds it
        port2 = free_port()
        d.write(text=CONFIG.format(dir=d.dir, port=port2, a=a.port, b=b.port))
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: curl(port2, "/status")[0] == 200, "the listener on its new port")
        self.assertEqual(curl(port, "/status")[0], 0)  # refused: nothing listens there any more
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    daemon.main()
