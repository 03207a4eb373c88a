#!/usr/bin/env python3
"""conf/monitoring/ against the real thing: promtool checks the alerting rules and runs their unit
tests (synthetic series: each alert fires when it should and not before), and every metric the
rules and the Grafana dashboard name is one a running directord exports on /metrics (a panel or an
alert over a metric that does not exist would be silently empty). directord runs on the userspace
plane (sync on lo) with what makes each family appear: a VRRP instance, a virtual server with a real
server that passes its check and one that fails it, connection sync."""
import json
import os
import re
import shutil
import subprocess
import unittest

from dlab import daemon
from dlab.daemon import Backend, free_port, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
MONITORING = os.path.join(HERE, "..", "..", "conf", "monitoring")

CONFIG = """
global = {{ data_plane = "userspace"; pid_file = "{dir}/directord.pid"; control_socket = "{dir}/ctl.sock";
           status = {{ listen = "127.0.0.1:{port}"; }}; sync_daemon = {{ interface = "lo"; }}; }};
vrrp_instances = ( {{ name = "VI_1"; interface = "vrrp-none0"; virtual_router_id = 51;
                     virtual_addresses = [ "127.0.10.1/32" ]; }} );
virtual_servers = (
  {{ address = "127.0.10.1"; port = 80; delay_loop = 0.3; quorum = 1;
     real_servers = ( {{ address = "127.0.0.1"; port = {a}; checks = ( {{ type = "tcp"; }} ); }},
                      {{ address = "127.0.0.1"; port = {closed}; checks = ( {{ type = "tcp"; }} ); }} ); }}
);
"""

NAME = re.compile(r"\b((?:directord|process)_[a-z_]+)\b")


def referenced():
    """{metric name: where} for every metric the rules and the dashboard use."""
    out = {}
    with open(os.path.join(MONITORING, "directord-alerts.yml")) as f:
        for line in f:
            if line.strip().startswith("expr:"):
                for n in NAME.findall(line):
                    out.setdefault(n, "directord-alerts.yml")
    with open(os.path.join(MONITORING, "grafana-dashboard.json")) as f:
        dash = json.load(f)
    for p in dash["panels"]:
        for t in p["targets"]:
            for n in NAME.findall(t["expr"]):
                out.setdefault(n, f"dashboard panel '{p['title']}'")
    for v in dash["templating"]["list"]:
        for n in NAME.findall(v.get("query", "")):
            out.setdefault(n, "dashboard variable " + v["name"])
    return out


class MonitoringTest(unittest.TestCase):
    def setUp(self):
        self.promtool = shutil.which("promtool")
        self.assertIsNotNone(self.promtool, "promtool (Debian's prometheus package) is needed")

    def test_rules_check_and_their_unit_tests_pass(self):
        r = subprocess.run([self.promtool, "check", "rules", "directord-alerts.yml"], cwd=MONITORING,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS: 7 rules found", r.stdout)
        r = subprocess.run([self.promtool, "test", "rules", "directord-alerts.test.yml"], cwd=MONITORING,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_every_metric_the_rules_and_dashboard_name_exists(self):
        a = Backend()
        self.addCleanup(a.stop)
        port = free_port()
        d = daemon.Daemon(self)
        d.write(text=CONFIG.format(dir=d.dir, port=port, a=a.port, closed=free_port()))
        d.start()

        def metrics():
            r = subprocess.run(["curl", "-s", "-m", "5", f"http://127.0.0.1:{port}/metrics"], capture_output=True,
                               text=True)
            return r.stdout if r.returncode == 0 else ""
        wait_for(lambda: all(f in metrics() for f in ("directord_real_server_up{", "directord_sync_",
                                                        "directord_check_failures_total{")),
                 "the exposition with real servers, a failed check and sync")
        text = metrics()
        exported = set()
        for m in re.finditer(r"^# TYPE (\S+) (\S+)$", text, re.M):
            name, kind = m.groups()
            exported.add(name)
            if kind == "histogram":
                exported.update({name + "_bucket", name + "_sum", name + "_count"})
        used = referenced()
        self.assertGreater(len(used), 15, used)
        missing = {n: where for n, where in used.items() if n not in exported}
        self.assertEqual(missing, {}, "named but not exported by directord")
        # and the dashboard's variable finds its job: directord_build_info exists with a sample
        self.assertRegex(text, r"(?m)^directord_build_info\{version=\"[^\"]+\"\} 1$")


if __name__ == "__main__":
    daemon.main()
