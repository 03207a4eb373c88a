"""The loopback tier's daemon: one directord on a config in a fresh temp dir (data_plane "memory",
so no root and no kernel IPVS), driven by signals, read through its state dump and log; an HTTP
backend whose body a test sets; the unittest command line every loopback test shares
(--directord PATH --source DIR). Waits poll with generous deadlines, never tight timing."""
import argparse
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

DIRECTORD = None
SOURCE = None
DEADLINE = 20.0


def wait_for(pred, what, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


CONFIG = """
global = {{
  data_plane = "memory";
  pid_file = "{dir}/directord.pid";
  state_dump_file = "{dir}/state.json";
  control_socket = "{dir}/ctl.sock";
  resync_interval = 1.0;
  log_level = "debug";
}};
vrrp_instances = ( {{ name = "VI_1"; interface = "vrrp-none0"; virtual_router_id = 51;  # no such link: stays INIT
                     virtual_addresses = [ "127.0.10.1/32" ]; }} );
virtual_servers = (
  {{ address = "127.0.10.1"; port = 80; scheduler = "wrr";
     real_servers = ( {{ address = "127.0.0.2"; port = 8080; weight = {w1}; }},
                      {{ address = "127.0.0.3"; port = 8080; weight = 1; }} {extra_rs} ); }}
  {extra_vs}
);
"""


class Daemon:
    def __init__(self, test, single=False, **fmt):
        self.dir = tempfile.mkdtemp(prefix="directord-test-")
        self.conf = os.path.join(self.dir, "directord.conf")
        self.log_path = os.path.join(self.dir, "log")
        self.state_path = os.path.join(self.dir, "state.json")
        self.single = single
        self.write(**fmt)
        self.proc = None
        test.addCleanup(shutil.rmtree, self.dir, True)
        test.addCleanup(self.kill)

    def write(self, text=None, w1=3, extra_rs="", extra_vs=""):
        if text is None:
            text = CONFIG.format(dir=self.dir, w1=w1, extra_rs=extra_rs, extra_vs=extra_vs)
        with open(self.conf + ".new", "w") as f:
            f.write(text)
        os.replace(self.conf + ".new", self.conf)

    def start(self):
        args = [DIRECTORD, "-f", self.conf] + (["--single-process"] if self.single else [])
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT)
        wait_for(lambda: "lvs: started on the " in self.log(), "the lvs worker to start")
        return self

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def children(self):
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return []

    def state(self):
        """Asks for a state dump (SIGUSR1) and returns it once a fresh one is written."""
        marker = self.log().count("state: written to")
        self.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: self.log().count("state: written to") > marker, "a state dump")
        with open(self.state_path) as f:
            return json.load(f)

    def weights(self):
        out = {}
        for svc in self.state()["table"]:
            for d in svc["dests"]:
                out[(svc["service"], d["address"])] = d["weight"]
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=DEADLINE)

    def kill(self):
        if getattr(self, "logf", None):
            self.logf.close()
        if self.proc and self.proc.poll() is None:
            kids = self.children()
            self.proc.kill()
            self.proc.wait()
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass


class Backend:
    """An HTTP server on 127.0.0.1 whose body the test sets; stop() closes the port, start() reopens it."""

    def __init__(self, body=b"ok\n", port=0):
        self.body = body
        self.port = port
        self.server = None
        self.start()

    def start(self):
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(backend.body)))
                self.end_headers()
                self.wfile.write(backend.body)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # TCP checks close with RST: expected, not worth a traceback

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    """The loopback tests' command line: --directord PATH --source DIR, then unittest's own options;
    runs the tests of the script that calls it."""
    global DIRECTORD, SOURCE
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    ap.add_argument("--source", required=True)
    args, rest = ap.parse_known_args()
    DIRECTORD = os.path.abspath(args.directord)
    SOURCE = os.path.abspath(args.source)
    unittest.main(module="__main__", argv=[sys.argv[0], "-v"] + rest)
