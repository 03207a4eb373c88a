#!/usr/bin/env python3
"""The userspace data plane across real network namespaces (root): a client, a director and two
real servers, on their own veths and a bridge. directord starts before the director holds the
virtual address (as a VRRP backup would); once the address arrives, the client's requests reach
both real servers through it, and a stopped real server drops out after its check fails.
Everything this test creates (namespaces, processes, files) it removes, by name and by PID."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

DIRECTORD = None
TAG = f"dt{os.getpid() % 100000}"
NS = {k: f"{TAG}-{k}" for k in ("cli", "dir", "rs1", "rs2")}
VIP = "10.231.0.100"


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def nsexec(ns, *args, **kw):
    return subprocess.Popen(["ip", "netns", "exec", NS[ns], *args], **kw)


def wait_for(pred, what, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


ECHO_SERVER = r"""
import socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], 7007)); srv.listen(64)
def serve(c):
    with c:
        while True:
            d = c.recv(4096)
            if not d: return
            c.sendall(d)
while True:
    c, _ = srv.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

# One established connection through the VIP, a line every 20 ms for `seconds`; prints how many
# round trips worked and the longest wait for an answer.
ECHO_CLIENT = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7007), timeout=5)
end = time.monotonic() + float(sys.argv[2]); n = 0; worst = 0.0
while time.monotonic() < end:
    t = time.monotonic(); s.sendall(b"ping\n"); got = b""
    while not got.endswith(b"\n"):
        d = s.recv(64)
        if not d: print("closed", n, worst); sys.exit(1)
        got += d
    worst = max(worst, time.monotonic() - t); n += 1; time.sleep(0.02)
print("ok", n, round(worst, 3))
"""


class NetnsUserspacePlane(unittest.TestCase):
    def setUp(self):
        self.assertEqual(os.geteuid(), 0, "the netns tier needs root (CI runs as root)")
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="directord-netns-")
        self.addCleanup(self.teardown_all)
        for ns in NS.values():
            sh("ip", "netns", "add", ns)
        d = NS["dir"]
        # client <-> director
        sh("ip", "link", "add", f"{TAG}c", "netns", NS["cli"], "type", "veth", "peer", "name", f"{TAG}d", "netns", d)
        # director's bridge to the real servers
        sh("ip", "-n", d, "link", "add", "br0", "type", "bridge")
        for i in (1, 2):
            sh("ip", "link", "add", f"{TAG}r{i}", "netns", NS[f"rs{i}"], "type", "veth", "peer", "name", f"{TAG}b{i}", "netns", d)
            sh("ip", "-n", d, "link", "set", f"{TAG}b{i}", "master", "br0", "up")
            sh("ip", "-n", NS[f"rs{i}"], "addr", "add", f"10.231.1.1{i}/24", "dev", f"{TAG}r{i}")
            sh("ip", "-n", NS[f"rs{i}"], "link", "set", f"{TAG}r{i}", "up")
            sh("ip", "-n", NS[f"rs{i}"], "link", "set", "lo", "up")
        sh("ip", "-n", d, "addr", "add", "10.231.1.1/24", "dev", "br0")
        sh("ip", "-n", d, "link", "set", "br0", "up")
        sh("ip", "-n", d, "addr", "add", "10.231.0.1/24", "dev", f"{TAG}d")
        sh("ip", "-n", d, "link", "set", f"{TAG}d", "up")
        sh("ip", "-n", d, "link", "set", "lo", "up")
        sh("ip", "-n", NS["cli"], "addr", "add", "10.231.0.2/24", "dev", f"{TAG}c")
        sh("ip", "-n", NS["cli"], "link", "set", f"{TAG}c", "up")
        sh("ip", "-n", NS["cli"], "link", "set", "lo", "up")

    def teardown_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for ns in NS.values():
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_backend(self, i):
        root = os.path.join(self.dir, f"rs{i}")
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "index.html"), "w") as f:
            f.write(f"real server {i}\n")
        p = nsexec(f"rs{i}", sys.executable, "-m", "http.server", "8000", "--bind", f"10.231.1.1{i}",
                   "--directory", root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def http_pair_conf(self, more):
        """A config for VIP:80 (rr, and `more`) over the two real servers' HTTP on port 8000."""
        conf = os.path.join(self.dir, "directord.conf")
        with open(conf, "w") as f:
            f.write(f"""
global = {{ data_plane = "userspace"; pid_file = "{self.dir}/pid"; state_dump_file = "{self.dir}/state.json";
           control_socket = "{self.dir}/ctl.sock"; }};
virtual_servers = ( {{
  address = "{VIP}"; port = 80; scheduler = "rr"; delay_loop = 0.5; connect_timeout = 1.0; retry = 0; {more}
  real_servers = (
    {{ address = "10.231.1.11"; port = 8000; checks = ( {{ type = "http"; path = "/"; }} ); }},
    {{ address = "10.231.1.12"; port = 8000; checks = ( {{ type = "http"; path = "/"; }} ); }}
  ); }} );
""")
        return conf

    def fetch(self):
        r = subprocess.run(["ip", "netns", "exec", NS["cli"], "curl", "-s", "--max-time", "3", f"http://{VIP}/"],
                           capture_output=True, text=True)
        return r.stdout if r.returncode == 0 else None

    def test_client_reaches_real_servers_through_the_director(self):
        backends = {i: self.start_backend(i) for i in (1, 2)}
        conf = self.http_pair_conf("quorum = 0;")
        log = open(os.path.join(self.dir, "log"), "w")
        self.addCleanup(log.close)
        directord = nsexec("dir", DIRECTORD, "-f", conf, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(directord)
        read_log = lambda: open(os.path.join(self.dir, "log")).read()
        wait_for(lambda: "lvs: started on the userspace table" in read_log(), "directord to start")
        # The director does not hold the VIP yet (freebind let it listen anyway): nothing answers.
        self.assertIsNone(self.fetch())
        sh("ip", "-n", NS["dir"], "addr", "add", f"{VIP}/24", "dev", f"{TAG}d")
        wait_for(lambda: self.fetch() is not None, "the VIP to answer")
        seen = {self.fetch() for _ in range(10)}
        self.assertEqual(seen, {"real server 1\n", "real server 2\n"})

        backends[2].kill()
        backends[2].wait()
        wait_for(lambda: "rs 10.231.1.12:8000: UP -> DOWN" in read_log(), "the check to take real server 2 out")
        # the table change reaches the forwarding threads a moment after the log line
        wait_for(lambda: {self.fetch() for _ in range(6)} == {"real server 1\n"}, "only real server 1 to answer", 10)

        directord.send_signal(signal.SIGTERM)
        self.assertEqual(directord.wait(timeout=30), 0)

    def test_forwarding_survives_the_lvs_worker(self):
        """Forwarding runs in its own worker: kill -9 of the lvs worker (checks, IPVS programming)
        leaves an established client connection open and new connections accepted; kill -9 of the
        forwarding worker is repaired at once (its own connections end with it)."""
        for i in (1, 2):
            self.procs.append(nsexec(f"rs{i}", sys.executable, "-c", ECHO_SERVER, f"10.231.1.1{i}",
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        conf = os.path.join(self.dir, "directord.conf")
        sock = os.path.join(self.dir, "ctl.sock")
        with open(conf, "w") as f:
            f.write(f"""
global = {{ data_plane = "userspace"; pid_file = "{self.dir}/pid"; state_dump_file = "{self.dir}/state.json";
           control_socket = "{sock}"; }};
virtual_servers = ( {{
  address = "{VIP}"; port = 7007; scheduler = "rr"; delay_loop = 0.5; connect_timeout = 1.0; retry = 0;
  real_servers = (
    {{ address = "10.231.1.11"; port = 7007; checks = ( {{ type = "tcp"; }} ); }},
    {{ address = "10.231.1.12"; port = 7007; checks = ( {{ type = "tcp"; }} ); }}
  ); }} );
""")
        sh("ip", "-n", NS["dir"], "addr", "add", f"{VIP}/24", "dev", f"{TAG}d")
        log = open(os.path.join(self.dir, "log"), "w")
        self.addCleanup(log.close)
        directord = nsexec("dir", DIRECTORD, "-f", conf, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(directord)
        read_log = lambda: open(os.path.join(self.dir, "log")).read()
        ctl = os.path.join(os.path.dirname(DIRECTORD), "directorctl")
        status = lambda: json.loads(sh(ctl, "-s", sock, "status", "--json").stdout)

        def connect_once():
            r = subprocess.run(["ip", "netns", "exec", NS["cli"], sys.executable, "-c", ECHO_CLIENT, VIP, "0.05"],
                               capture_output=True, text=True, timeout=10)
            return r.stdout.startswith("ok")
        wait_for(lambda: "lvs: started on the userspace table" in read_log(), "directord to start")
        wait_for(connect_once, "the VIP to answer")

        client = subprocess.Popen(["ip", "netns", "exec", NS["cli"], sys.executable, "-c", ECHO_CLIENT, VIP, "4"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.procs.append(client)
        time.sleep(0.5)
        lvs = status()["pid"]
        os.kill(lvs, signal.SIGKILL)
        # while the lvs worker is dead or restarting, new connections are still accepted
        fresh = [connect_once() for _ in range(5)]
        self.assertEqual(fresh, [True] * 5)
        wait_for(lambda: read_log().count("lvs: started on the userspace table") == 2, "the new lvs worker")
        self.assertIn("lvs: took over the forwarding worker's table (1 services)", read_log())
        out, _ = client.communicate(timeout=20)
        self.assertTrue(out.startswith("ok"), f"the established connection through the plane: {out}")
        self.assertLess(float(out.split()[2]), 1.0, out)  # no round trip waited behind the restart
        self.assertNotEqual(status()["pid"], lvs)
        self.assertEqual(len(status()["table"][0]["dests"]), 2)  # the restarted worker changed nothing

        # The forwarding worker itself: restarted at once, with the last table.
        fwd = int(re.search(r"started the fwd worker \(pid (\d+)\)", read_log()).group(1))
        os.kill(fwd, signal.SIGKILL)
        wait_for(lambda: "fwd: forwarding the last table again (1 services)" in read_log(), "the new forwarding worker")
        wait_for(connect_once, "the VIP to answer again", 5)

        directord.send_signal(signal.SIGTERM)
        self.assertEqual(directord.wait(timeout=30), 0)

    def test_persistence_survives_the_fwd_worker(self):
        """The persistence templates live in the forwarding worker; the supervisor keeps a copy of
        their bindings, so the worker that replaces a killed one sends each persistent client where
        it went before (without the copy, a fresh rr would spread them over both servers)."""
        backends = {i: self.start_backend(i) for i in (1, 2)}
        clients = [f"10.231.0.{i}" for i in range(101, 106)]
        for a in clients:
            sh("ip", "-n", NS["cli"], "addr", "add", f"{a}/24", "dev", f"{TAG}c")
        conf = self.http_pair_conf("persistence_timeout = 600;")
        sh("ip", "-n", NS["dir"], "addr", "add", f"{VIP}/24", "dev", f"{TAG}d")
        log = open(os.path.join(self.dir, "log"), "w")
        self.addCleanup(log.close)
        directord = nsexec("dir", DIRECTORD, "-f", conf, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(directord)
        def read_log():
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()

        def fetch_from(src):
            r = subprocess.run(["ip", "netns", "exec", NS["cli"], "curl", "-s", "--max-time", "3", "--interface", src,
                                f"http://{VIP}/"], capture_output=True, text=True)
            return r.stdout.strip() if r.returncode == 0 else None
        wait_for(lambda: "lvs: started on the userspace table" in read_log(), "directord to start")
        wait_for(lambda: "rs 10.231.1.12:8000: DOWN -> UP" in read_log() or fetch_from("10.231.0.2"), "the VIP")
        # real server 2 out for a while: the five clients are all bound to real server 1
        backends[2].kill()
        backends[2].wait()
        wait_for(lambda: "rs 10.231.1.12:8000: UP -> DOWN" in read_log(), "the check to take real server 2 out")
        # (until the table reaches the forwarding threads, a client may still be sent to server 2 and
        # fail; its template then points at a server that left and it is placed afresh)
        wait_for(lambda: [fetch_from(a) for a in clients] == ["real server 1"] * 5, "the clients bound to server 1", 10)
        self.start_backend(2)
        wait_for(lambda: "rs 10.231.1.12:8000: DOWN -> UP" in read_log(), "real server 2 back")
        time.sleep(1.5)  # the table reaches the threads; the worker's copy goes to the supervisor each second

        fwd = int(re.search(r"started the fwd worker \(pid (\d+)\)", read_log()).group(1))
        os.kill(fwd, signal.SIGKILL)
        wait_for(lambda: "fwd: forwarding the last table again (1 services)" in read_log(), "the new forwarding worker")
        wait_for(lambda: fetch_from("10.231.0.2") is not None, "the VIP to answer again", 5)
        self.assertEqual([fetch_from(a) for a in clients], ["real server 1"] * 5,
                         "each persistent client went back to its real server")
        m = re.search(r"fwd: restored (\d+) of (\d+) persistence templates", read_log())
        self.assertTrue(m, "the new worker says it restored the templates")
        self.assertGreaterEqual(int(m.group(1)), 5, m.group(0))
        self.assertEqual(m.group(1), m.group(2), m.group(0))

        directord.send_signal(signal.SIGTERM)
        self.assertEqual(directord.wait(timeout=30), 0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    args, rest = ap.parse_known_args()
    DIRECTORD = os.path.abspath(args.directord)
    unittest.main(argv=[sys.argv[0], "-v"] + rest)
