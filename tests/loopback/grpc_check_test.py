#!/usr/bin/env python3
"""The grpc check and the http checks' http2, end to end: directord (memory plane) checks a real
gRPC server (Debian's python3-grpcio, started here) serving grpc.health.v1.Health over plaintext
and TLS, a real HTTP/2 server (haproxy, h2c with prior knowledge and TLS with ALPN h2), and hostile
peers (an HTTP/1 server where HTTP/2 is expected, one that accepts and never answers). A real
server's presence in the table says what its check decided; the log says why."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

from dlab import daemon
from dlab.daemon import free_port, wait_for

SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")

# The health service by hand (no generated stubs): requests and responses are raw protobuf bytes.
# The serving status of each service name comes from a JSON file the test rewrites.
GRPC_SERVER = r"""
import json, sys, grpc
from concurrent import futures
status_file, port, tls_port, cert, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def check(request, context):
    service = request[2:2 + request[1]].decode() if request[:1] == b"\x0a" else ""
    with open(status_file) as f:
        states = json.load(f)
    if service not in states:
        context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
    return bytes([0x08, states[service]])
server = grpc.server(futures.ThreadPoolExecutor(4))
server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
    "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)}),))
server.add_insecure_port(f"127.0.0.1:{port}")
creds = grpc.ssl_server_credentials([(open(key, "rb").read(), open(cert, "rb").read())])
server.add_secure_port(f"127.0.0.1:{tls_port}", creds)
server.start()
print("ready", flush=True)
server.wait_for_termination()
"""

HAPROXY = """global
  maxconn 100
defaults
  mode http
  timeout client 5s
  timeout connect 5s
  timeout server 5s
frontend h2c
  bind 127.0.0.1:{h2c} proto h2
  http-request return status 200 content-type text/plain string "h2 healthy"
frontend h2tls
  bind 127.0.0.1:{h2tls} ssl crt {pem} alpn h2
  http-request return status 200 content-type text/plain string "h2 healthy"
"""


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Hostile:
    """A TCP server that answers any request as HTTP/1 (mode "http1") or never answers ("hang")."""

    def __init__(self, mode):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.mode = mode
        self.held = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.mode == "http1":
                try:
                    c.recv(4096)
                    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass
                c.close()
            else:
                self.held.append(c)

    def stop(self):
        self.sock.close()
        for c in self.held:
            c.close()


class GrpcCheckTest(unittest.TestCase):
    def setUp(self):
        if SYSTEM_PYTHON is None or subprocess.run([SYSTEM_PYTHON, "-c", "import grpc"]).returncode != 0:
            self.fail("python3-grpcio is installed (tools/setup-debian.sh)")
        if not shutil.which("haproxy"):
            self.fail("haproxy is installed (tools/setup-debian.sh)")
        self.dir = tempfile.mkdtemp(prefix="grpc-check-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        cert, key = f"{self.dir}/c.pem", f"{self.dir}/k.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=grpc.test"], check=True, capture_output=True)
        with open(f"{self.dir}/both.pem", "w") as f, open(cert) as c, open(key) as k:
            f.write(c.read() + k.read())
        self.states = f"{self.dir}/states.json"
        self.set_states({"": 1, "db": 2})
        self.grpc_port, self.grpc_tls = free_port(), free_port()
        self.server = self.spawn([SYSTEM_PYTHON, "-c", GRPC_SERVER, self.states, str(self.grpc_port),
                                  str(self.grpc_tls), cert, key], stdout=subprocess.PIPE, text=True)
        self.assertEqual(self.server.stdout.readline().strip(), "ready")
        self.h2c, self.h2tls = free_port(), free_port()
        with open(f"{self.dir}/haproxy.cfg", "w") as f:
            f.write(HAPROXY.format(h2c=self.h2c, h2tls=self.h2tls, pem=f"{self.dir}/both.pem"))
        self.spawn(["haproxy", "-db", "-f", f"{self.dir}/haproxy.cfg"], stdout=subprocess.DEVNULL)
        for port in (self.h2c, self.h2tls):
            wait_for(lambda: listening(port), f"haproxy listening on {port}")
        self.http1, self.hang = Hostile("http1"), Hostile("hang")
        self.addCleanup(self.http1.stop)
        self.addCleanup(self.hang.stop)

    def spawn(self, cmd, **kw):
        p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, **kw)

        def stop():
            p.kill()
            p.wait()
        self.addCleanup(stop)
        return p

    def set_states(self, states):
        with open(self.states + ".new", "w") as f:
            json.dump(states, f)
        os.replace(self.states + ".new", self.states)

    def test_grpc_and_http2(self):
        rows = [
            ("1", f'type = "grpc"; connect_port = {self.grpc_port};'),
            ("2", f'type = "grpc"; connect_port = {self.grpc_port}; service = "db";'),
            ("3", f'type = "grpc"; connect_port = {self.grpc_port}; service = "nosuch";'),
            ("4", f'type = "grpc"; connect_port = {self.grpc_tls}; tls = true; verify = true; '
                  f'ca_file = "{self.dir}/c.pem"; virtualhost = "grpc.test";'),
            ("5", f'type = "http"; http2 = true; connect_port = {self.h2c}; regex = "h2 healthy";'),
            ("6", f'type = "https"; http2 = true; connect_port = {self.h2tls}; regex = "h2 healthy"; '
                  f'regex_headers = true; regex_options = [ "multiline" ];'),
            ("7", f'type = "http"; http2 = true; connect_port = {self.http1.port};'),
            ("8", f'type = "grpc"; connect_port = {self.hang.port}; read_timeout = 0.3;'),
        ]
        servers = ",\n".join(f'{{ address = "127.0.2.{n}"; port = 80; checks = ( {{ connect_ip = "127.0.0.1"; {c} }} ); }}'
                             for n, c in rows)
        d = daemon.Daemon(self)
        d.write(text=f"""global = {{ data_plane = "memory"; pid_file = "{d.dir}/directord.pid";
  state_dump_file = "{d.dir}/state.json"; control_socket = "{d.dir}/ctl.sock"; log_level = "info"; }};
virtual_servers = ( {{ address = "127.0.20.1"; port = 80; delay_loop = 0.3; connect_timeout = 1.0; retry = 0; quorum = 0;
  real_servers = ( {servers} ); }} );
""")
        d.start()
        vs = "TCP  127.0.20.1:80"
        up = lambda: {a.split(":")[0] for (s, a) in d.weights() if s == vs}  # noqa: E731
        want = {"127.0.2.1", "127.0.2.4", "127.0.2.5", "127.0.2.6"}
        try:
            wait_for(lambda: up() == want, "grpc SERVING (plain and TLS) and HTTP/2 (h2c and h2) up; the rest down")
        except AssertionError:
            print(up(), "\n".join(line for line in d.log().splitlines() if "check:" in line))
            raise
        log = d.log()
        self.assertIn("rs 127.0.2.2:80: UP -> DOWN (grpc 127.0.0.1:" + str(self.grpc_port) + ": gRPC health NOT_SERVING", log)
        self.assertIn("rs 127.0.2.3:80: UP -> DOWN (grpc 127.0.0.1:" + str(self.grpc_port) + ": gRPC status 5 (NOT_FOUND)",
                      log)
        self.assertIn(f"rs 127.0.2.7:80: UP -> DOWN (http 127.0.0.1:{self.http1.port}: malformed HTTP response", log)
        self.assertIn(f"rs 127.0.2.8:80: UP -> DOWN (grpc 127.0.0.1:{self.hang.port}: timeout", log)

        self.set_states({"": 2, "db": 1})  # the server's health flips: .1 and .4 (plain, TLS) go, .2 comes
        wait_for(lambda: up() == (want - {"127.0.2.1", "127.0.2.4"}) | {"127.0.2.2"}, "the flipped states to show")
        self.set_states({"": 1, "db": 1})
        wait_for(lambda: {"127.0.2.1", "127.0.2.2", "127.0.2.4"} <= up(), "all three back")
        checks = d.state()["checks"]
        self.assertTrue(all(c["attempts"] > 0 for c in checks))


if __name__ == "__main__":
    daemon.main()
