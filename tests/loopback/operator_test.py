#!/usr/bin/env python3
"""The operator's surface against a running directord (data_plane = "memory", no root):
directorctl's tables and JSON, disable and enable at runtime (held across a reload and a kill -9 of
the lvs worker), directorctl reload with a good and a bad file, a slow start after a recovery and
after an enable, and systemd's notify protocol on a socket this test listens on (READY=1 once the
table is applied, RELOADING=1 / READY=1 around a reload, WATCHDOG=1 pings, a hung worker
restarted, STOPPING=1)."""
import json
import os
import signal
import socket
import subprocess
import time
import unittest

from dlab import daemon
from dlab.daemon import Daemon, free_port, wait_for

VS = "127.0.10.1:80/tcp"


def tool(name):
    return os.path.join(os.path.dirname(daemon.DIRECTORD), name)


def ctl(d, *args):
    return subprocess.run([tool("directorctl"), "-s", os.path.join(d.dir, "ctl.sock"), *args],
                          capture_output=True, text=True, timeout=daemon.DEADLINE)


def weights(d):
    """The plane's table as ipvsctl -Sn prints it: {real server: weight} of every service."""
    r = subprocess.run([tool("ipvsctl"), "-S", "-n"], capture_output=True, text=True, timeout=daemon.DEADLINE,
                       env=dict(os.environ, DIRECTORD_SOCKET=os.path.join(d.dir, "ctl.sock")))
    out = {}
    for line in r.stdout.splitlines():
        w = line.split()
        if w[0] == "-a":
            out[w[w.index("-r") + 1]] = int(w[w.index("-w") + 1])
    return out


class DisableTest(unittest.TestCase):
    def test_tables_disable_enable_reload(self):
        d = Daemon(self).start()
        r = ctl(d)  # no command: status
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("memory data plane", r.stdout)
        self.assertRegex(r.stdout, r"VRRP INSTANCE +STATE +PRIORITY +INTERFACE +VRID +MASTER\n")
        self.assertRegex(r.stdout, r"\n127\.0\.10\.1:80/tcp +wrr +nat +2 of 2 up +ok +0 +0 +0\n")
        r = ctl(d, "vrrp")
        self.assertRegex(r.stdout, r"^INSTANCE +STATE +PRIORITY .*\nVI_1 +")
        servers = ctl(d, "servers").stdout
        self.assertRegex(servers, r"\n127\.0\.10\.1:80/tcp +127\.0\.0\.2:8080 +UP +3/3 +0 +0 +\d{4}-\d\d-\d\d "
                                  r"\d\d:\d\d:\d\d \(\d+s\) +no checks: always up\n")
        self.assertIsInstance(json.loads(ctl(d, "vrrp", "--json").stdout), dict)

        # usage and unknown names: exit statuses 2 and 1, each with a line that says why
        r = ctl(d, "disable", VS)
        self.assertEqual((r.returncode, r.stderr.splitlines()[0]),
                         (2, "directorctl: disable takes 2 argument(s), got 1 (VIRTUAL-SERVER REAL-SERVER)"))
        self.assertEqual(ctl(d, "frobnicate").returncode, 2)
        r = ctl(d, "disable", VS, "127.0.0.9:8080")
        self.assertEqual((r.returncode, r.stderr),
                         (1, f"no real server 127.0.0.9:8080 in {VS} (it has: 127.0.0.2:8080, 127.0.0.3:8080)\n"))

        # disable: weight 0 in the table, DISABLED in the tables and the JSON, logged
        r = ctl(d, "disable", VS, "127.0.0.2:8080")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("disabled (weight 0", r.stdout)
        self.assertEqual(weights(d), {"127.0.0.2:8080": 0, "127.0.0.3:8080": 1})
        self.assertIn("already disabled", ctl(d, "disable", VS, "127.0.0.2").stdout)
        self.assertRegex(ctl(d, "servers").stdout, r"127\.0\.0\.2:8080 +DISABLED +0/3 .* disabled by directorctl disable")
        self.assertIn("1 of 2 up, 1 disabled", ctl(d, "status").stdout)
        rows = json.loads(ctl(d, "servers", "--json").stdout)[0]["real_servers"]
        self.assertEqual([(s["real_server"], s["state"], s["applied_weight"]) for s in rows],
                         [("127.0.0.2:8080", "DISABLED", 0), ("127.0.0.3:8080", "UP", 1)])
        self.assertIn("rs 127.0.0.2:8080: disabled by directorctl", d.log())

        # held across a reload that changes that server's weight, and across a kill -9 of the lvs worker
        d.write(w1=5)
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload: " in d.log() and "applied:" in d.log(), "the reload")
        self.assertEqual(weights(d), {"127.0.0.2:8080": 0, "127.0.0.3:8080": 1})
        lvs = json.loads(ctl(d, "status", "--json").stdout)["pid"]
        os.kill(lvs, signal.SIGKILL)
        wait_for(lambda: ctl(d, "status", "--json").returncode == 0 and
                 json.loads(ctl(d, "status", "--json").stdout)["pid"] != lvs, "a new lvs worker")
        self.assertEqual(weights(d), {"127.0.0.2:8080": 0, "127.0.0.3:8080": 1})
        self.assertRegex(ctl(d, "servers").stdout, r"127\.0\.0\.2:8080 +DISABLED +0/5")

        # enable: the configured weight again (no slow start here)
        r = ctl(d, "enable", VS, "127.0.0.2:8080")
        self.assertEqual((r.returncode, r.stdout), (0, f"vs {VS} rs 127.0.0.2:8080: enabled\n"))
        self.assertEqual(weights(d), {"127.0.0.2:8080": 5, "127.0.0.3:8080": 1})
        self.assertRegex(ctl(d, "servers").stdout, r"127\.0\.0\.2:8080 +UP +5/5 .* enabled by directorctl")

        # directorctl reload: a bad file is refused with every error and exit 1; a good one applies
        good = open(d.conf).read()
        d.write(text=good.replace("weight = 5;", "weight = -5; wieght = 2;"))
        r = ctl(d, "reload")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stderr, rf"^{d.conf}:\d+: virtual_servers\[0\]\.real_servers\[0\]\.weight: -5 is out of range")
        self.assertRegex(r.stderr, r"\nkeeping|2 error\(s\) in .*keeping the running configuration")
        self.assertEqual(weights(d), {"127.0.0.2:8080": 5, "127.0.0.3:8080": 1})
        d.write(text=good.replace("weight = 5;", "weight = 6;"))
        r = ctl(d, "reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("reloaded: virtual servers: 0 added, 0 removed, 1 changed", r.stdout)
        self.assertEqual(weights(d), {"127.0.0.2:8080": 6, "127.0.0.3:8080": 1})
        self.assertEqual(d.stop(), 0)

    def test_metrics_show_what_the_operator_did(self):
        """A disabled real server shows in /metrics (served by the status worker, or in one process
        by the status front on the same loop), as in directorctl's tables."""
        import urllib.request
        for single in (False, True):
            port = free_port()
            d = Daemon(self, single=single)
            d.write(text=daemon.CONFIG.format(dir=d.dir, w1=3, extra_rs="", extra_vs="").replace(
                "resync_interval = 1.0;", f'resync_interval = 1.0; status = {{ listen = "127.0.0.1:{port}"; }};'))
            d.start()

            def disabled(rs):
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
                line = f'directord_real_server_disabled{{virtual_server="tcp/127.0.10.1:80",real_server="{rs}"}} '
                return next((ln[len(line):] for ln in text.splitlines() if ln.startswith(line)), None)
            wait_for(lambda: disabled("127.0.0.2:8080") == "0", "/metrics")
            self.assertEqual(ctl(d, "disable", VS, "127.0.0.2:8080").returncode, 0)
            self.assertEqual(disabled("127.0.0.2:8080"), "1")
            self.assertEqual(disabled("127.0.0.3:8080"), "0")
            self.assertEqual(ctl(d, "enable", VS, "127.0.0.2:8080").returncode, 0)
            self.assertEqual(disabled("127.0.0.2:8080"), "0")
            self.assertEqual(d.stop(), 0)

    def test_reload_single_process(self):
        d = Daemon(self, single=True).start()
        d.write(w1=4)
        r = ctl(d, "reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(weights(d), {"127.0.0.2:8080": 4, "127.0.0.3:8080": 1})
        self.assertEqual(ctl(d, "disable", VS, "127.0.0.3:8080").returncode, 0)
        self.assertEqual(weights(d), {"127.0.0.2:8080": 4, "127.0.0.3:8080": 0})
        self.assertEqual(d.stop(), 0)


SLOW = """
global = {{ data_plane = "memory"; pid_file = "{dir}/directord.pid"; control_socket = "{dir}/ctl.sock";
           state_dump_file = "{dir}/state.json"; }};
virtual_servers = (
  {{ address = "127.0.10.1"; port = 80; scheduler = "wrr"; slow_start = 3; delay_loop = 0.2; connect_timeout = 0.5;
     retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {port}; weight = 20; checks = ( {{ type = "tcp"; }} ); }},
                      {{ address = "127.0.0.3"; port = 8080; weight = 10; }} ); }} );
"""


class SlowStartTest(unittest.TestCase):
    def ramp(self, d, rs, full):
        """Reads the weight every 0.1 s until it is `full`: the values seen, in order."""
        seen = []
        end = time.monotonic() + 15
        while time.monotonic() < end:
            w = weights(d).get(rs)
            if w is not None and (not seen or seen[-1] != w):
                seen.append(w)
            if w == full:
                return seen
            time.sleep(0.1)
        self.fail(f"{rs} never reached weight {full}: {seen}")

    def test_recovery_and_enable_ramp_up(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        rs = f"127.0.0.1:{port}"
        d = Daemon(self)
        d.write(text=SLOW.format(dir=d.dir, port=port))
        d.start()
        self.assertEqual(weights(d), {rs: 20, "127.0.0.3:8080": 10})  # at start: no slow start
        listener.close()
        wait_for(lambda: rs not in weights(d), "the real server to go down")
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        self.addCleanup(listener.close)
        seen = self.ramp(d, rs, 20)
        # it came back low and climbed in steps to its weight
        self.assertLessEqual(seen[0], 10, seen)
        self.assertEqual(seen, sorted(seen), seen)
        self.assertGreaterEqual(len(seen), 3, seen)
        self.assertIn(f"check: vs {VS} rs {rs}: DOWN -> UP", d.log())
        # an enabled server ramps too
        self.assertEqual(ctl(d, "disable", VS, "127.0.0.3:8080").returncode, 0)
        self.assertEqual(weights(d)["127.0.0.3:8080"], 0)
        self.assertEqual(ctl(d, "enable", VS, "127.0.0.3:8080").returncode, 0)
        self.assertIn("(slow start over 3", d.log())
        self.assertRegex(ctl(d, "servers").stdout, r"127\.0\.0\.3:8080 +UP,SLOW-START +\d+/10")
        seen = self.ramp(d, "127.0.0.3:8080", 10)
        self.assertLessEqual(seen[0], 5, seen)
        self.assertEqual(seen, sorted(seen), seen)
        self.assertEqual(d.stop(), 0)


class SystemdTest(unittest.TestCase):
    def test_notify_reload_watchdog(self):
        d = Daemon(self)
        sock_path = os.path.join(d.dir, "notify.sock")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(sock_path)
        self.addCleanup(notify.close)
        notify.settimeout(0.2)
        got = []

        def drain(until=None, timeout=daemon.DEADLINE):
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                try:
                    got.append(notify.recv(4096).decode())
                except socket.timeout:
                    pass
                if until and until():
                    return True
            return False

        env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="3000000")
        d.logf = open(d.log_path, "w")
        d.proc = subprocess.Popen([daemon.DIRECTORD, "-f", d.conf], stdout=d.logf, stderr=subprocess.STDOUT,
                                  env=env)
        self.assertTrue(drain(lambda: any("READY=1" in m for m in got)), got)
        ready = next(m for m in got if "READY=1" in m)
        self.assertIn("STATUS=running: 1 virtual servers, 2 real servers, 1 VRRP instances", ready)
        # READY=1 comes once the table is applied: the services are there
        self.assertEqual(weights(d), {"127.0.0.2:8080": 3, "127.0.0.3:8080": 1})
        # WATCHDOG=1 every half WatchdogSec (1.5 s here)
        got.clear()
        drain(timeout=3.5)
        self.assertGreaterEqual(sum(m == "WATCHDOG=1" for m in got), 2, got)
        # a reload: RELOADING=1, then READY=1 once the lvs worker applied it
        got.clear()
        d.write(w1=8)
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(drain(lambda: any("READY=1" in m for m in got)), got)
        states = [m.split("\n")[0] for m in got if m != "WATCHDOG=1"]
        self.assertEqual(states, ["RELOADING=1", "READY=1"], got)
        self.assertIn("MONOTONIC_USEC=", next(m for m in got if m.startswith("RELOADING=1")))
        self.assertIn("STATUS=reloaded: virtual servers: 0 added, 0 removed, 1 changed",
                      next(m for m in got if m.startswith("READY=1")))
        self.assertEqual(weights(d)["127.0.0.2:8080"], 8)
        # a refused reload: READY=1 again, saying so
        got.clear()
        d.write(text=open(d.conf).read().replace("weight = 8;", "weight = -8;"))
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(drain(lambda: any("READY=1" in m for m in got)), got)
        self.assertIn("STATUS=reload refused: 1 error(s) in " + d.conf + "; keeping the running configuration",
                      next(m for m in got if m.startswith("READY=1")))
        # a hung worker (stopped): the supervisor kills it after WatchdogSec and starts another;
        # its own pings to systemd go on meanwhile
        lvs = json.loads(ctl(d, "status", "--json").stdout)["pid"]
        got.clear()
        os.kill(lvs, signal.SIGSTOP)
        wait_for(lambda: f"worker (pid {lvs}) has said nothing for" in d.log(), "the hung worker to be found", 10)
        wait_for(lambda: ctl(d, "status", "--json").returncode == 0 and
                 json.loads(ctl(d, "status", "--json").stdout)["pid"] != lvs, "a new lvs worker")
        drain(timeout=0.5)
        self.assertGreaterEqual(sum(m == "WATCHDOG=1" for m in got), 2, got)
        got.clear()
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=daemon.DEADLINE), 0)
        drain(timeout=0.3)
        self.assertIn("STOPPING=1\nSTATUS=stopping", got)


class ReloadParseTest(unittest.TestCase):
    def test_supervisor_keeps_serving_while_a_reload_is_read(self):
        """A reload's parse runs beside the supervisor's loop: a worker that dies meanwhile is
        restarted at once (a VRRP master must be back within its advert interval), not after the
        parse. 30,000 virtual servers (4.5 MB) to read; the vrrp worker is killed right after the
        SIGHUP and its restart is timed against the parse's own time, from the log."""
        d = Daemon(self)
        self.addCleanup(d.kill)
        vs = ",\n".join(
            f'{{ address = "10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"; port = 80; '
            f'real_servers = ( {{ address = "127.0.0.2"; port = {1024 + i % 60000}; }} ); }}' for i in range(30000))
        d.write(text=f'global = {{ data_plane = "memory"; pid_file = "{d.dir}/directord.pid"; '
                     f'control_socket = "{d.dir}/ctl.sock"; state_dump_file = "{d.dir}/state.json"; }};\n'
                     f"virtual_servers = (\n{vs}\n);\n")
        d.start()
        wait_for(lambda: "lvs: started on the memory table: 30000 virtual servers" in d.log(), "the big config")
        vrrp = next(int(line.split("(pid ")[1].split(")")[0]) for line in d.log().splitlines()
                    if "started the vrrp worker" in line)
        t0 = time.monotonic()
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.02)  # the parse is under way
        os.kill(vrrp, signal.SIGKILL)
        wait_for(lambda: d.log().count("started the vrrp worker") == 2, "the vrrp worker's restart")
        restarted = time.monotonic() - t0
        wait_for(lambda: "read and checked in" in d.log(), "the reload")
        parse_ms = int(d.log().split("read and checked in ")[1].split(" ms")[0])
        print(f"reload parse {parse_ms} ms; the killed vrrp worker restarted {restarted * 1000:.0f} ms after the SIGHUP")
        self.assertGreater(parse_ms, 150, "the parse must take long enough to tell")
        self.assertLess(restarted * 1000, parse_ms, "the worker waited for the parse")
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    daemon.main()
