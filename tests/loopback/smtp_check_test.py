#!/usr/bin/env python3
"""The smtp check end to end: against a real SMTP server (aiosmtpd, Debian's python3-aiosmtpd,
started here), and against a server of this test's that greets wrongly, answers HELO with an
error, sends garbage or an endless reply, hangs, or greets over several lines. directord runs on
the memory plane; a real server's presence in the table says what its check decided."""
import os
import shutil
import socket
import subprocess
import threading
import time
import unittest

from dlab import daemon
from dlab.daemon import free_port, wait_for

SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")


class SmtpPeer:
    """One connection at a time; `mode` decides the dialogue."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.helos = []
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def dialogue(self, c):
        mode = self.mode
        f = c.makefile("rb")
        if mode == "hang":
            time.sleep(1.5)
            return
        if mode == "garbage":
            c.sendall(os.urandom(300) + b"\r\n")
            return
        if mode == "endless":
            for _ in range(200):
                c.sendall(b"220-" + b"x" * 70 + b"\r\n")
            return
        greeting = {"bad-greeting": b"554 no service here\r\n",
                    "multiline": b"220-mail.test ESMTP\r\n220-second line\r\n220 ready\r\n"}.get(mode, b"220 mail.test\r\n")
        c.sendall(greeting)
        if mode == "bad-greeting":
            return
        line = f.readline()
        self.helos.append(line)
        c.sendall(b"501 go away\r\n" if mode == "bad-helo" else b"250-mail.test\r\n250 hello\r\n")
        if f.readline().startswith(b"QUIT"):
            c.sendall(b"221 bye\r\n")

    def serve(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(3)
            try:
                self.dialogue(c)
            except OSError:
                pass
            finally:
                c.close()

    def stop(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


CONFIG = """
global = {{ data_plane = "memory"; pid_file = "{dir}/directord.pid"; state_dump_file = "{dir}/state.json";
           control_socket = "{dir}/ctl.sock"; log_level = "info"; }};
virtual_servers = (
  {{ address = "127.0.10.9"; port = 25; delay_loop = 0.3; connect_timeout = 0.5; retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {real}; checks = ( {{ type = "smtp"; helo_name = "lb1.test"; }} ); }} ); }},
  {{ address = "127.0.10.10"; port = 25; delay_loop = 0.3; connect_timeout = 0.5; retry = 0;
     real_servers = ( {{ address = "127.0.0.1"; port = {peer}; checks = ( {{ type = "smtp"; }} ); }} ); }}
);
"""


class SmtpCheckTest(unittest.TestCase):
    def test_against_real_and_hostile_servers(self):
        self.assertIsNotNone(SYSTEM_PYTHON)
        real = free_port()
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import aiosmtpd"], capture_output=True)
        self.assertEqual(probe.returncode, 0, "aiosmtpd is missing: run tools/setup-debian.sh")
        server = subprocess.Popen([SYSTEM_PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{real}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (server.terminate(), server.wait(timeout=10)))
        peer = SmtpPeer("ok")
        self.addCleanup(peer.stop)
        d = daemon.Daemon(self)
        d.write(text=CONFIG.format(dir=d.dir, real=real, peer=peer.port))
        d.start()
        up = lambda vs, port: (f"TCP  {vs}", f"127.0.0.1:{port}") in d.weights()  # noqa: E731

        wait_for(lambda: up("127.0.10.9:25", real), "the check against aiosmtpd to pass")
        wait_for(lambda: up("127.0.10.10:25", peer.port), "the check against the test's server to pass")
        self.assertIn(b"HELO smtpchecker.directord\r\n", peer.helos)

        server.terminate()
        server.wait(timeout=10)
        wait_for(lambda: not up("127.0.10.9:25", real), "the stopped SMTP server to leave the table")
        self.assertIn(f"smtp 127.0.0.1:{real}: refused", d.log())

        for mode, why in (("bad-greeting", "SMTP reply 554"), ("bad-helo", "SMTP reply 501"),
                          ("garbage", "SMTP reply: malformed"), ("endless", "SMTP reply: malformed"),
                          ("hang", "timeout")):
            peer.mode = "ok"
            wait_for(lambda: up("127.0.10.10:25", peer.port), f"the check to pass before {mode}")
            mark = len(d.log())
            peer.mode = mode
            wait_for(lambda: not up("127.0.10.10:25", peer.port), f"the check to fail on {mode}")
            self.assertIn(f"smtp 127.0.0.1:{peer.port}: {why}", d.log()[mark:], mode)
        # keepalived fails a multi-line greeting (it reads one line); directord reads the reply
        peer.mode = "multiline"
        wait_for(lambda: up("127.0.10.10:25", peer.port), "a multi-line greeting to pass")
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    daemon.main()
