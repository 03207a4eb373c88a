#!/usr/bin/env python3
"""Mail alerts (keepalived's notification_email / smtp_alert) reach a real SMTP server (root, network
namespaces; aiosmtpd from Debian's python3-aiosmtpd).

directord (memory plane) alone on a veth, so its instance (smtp_alert on) becomes MASTER; one real
server with a TCP check on a listener in a second namespace. The SMTP server (aiosmtpd, offering
STARTTLS with a throwaway certificate) is not there yet when the instance becomes MASTER: the first
attempt fails, the log says it will try again, and the retry 10 s later delivers it (after the
BACKUP mail of the start, which keepalived sends too). Then the
listener stops and the real server's DOWN mail comes. Each message is checked as the server got it:
keepalived's subject and body, the sender and both recipients, and that it came over TLS."""
import json
import os
import shutil
import signal
import subprocess
import sys

from dlab.report import check, run_main, sh, wait
from dlab.solo import solo

SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")

SMTP_SERVER = r"""
import json, signal, ssl, sys
from aiosmtpd.controller import Controller
out, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(out, "a") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": session.ssl is not None,
                                "helo": session.host_name,
                                "data": envelope.content.decode("utf-8", "replace")}) + "\n")
        return "250 OK"
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Handler(), hostname="127.0.0.1", port=2525, tls_context=ctx, require_starttls=False)
c.start()
print("ready", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
c.stop()
"""

LISTENER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], 8080)); s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.close()
"""


def conf(work):
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  log_level = "info"; router_id = "LB1";
  smtp = {{ server = "127.0.0.1:2525"; to = [ "ops@example.com", "noc@example.com" ]; from = "lb1@example.com";
           helo_name = "lb1.example.com"; connect_timeout = 3; }}; }};
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 63; priority = 100; version = 3;
  advert_interval = 0.1; smtp_alert = true; virtual_addresses = ( {{ address = "10.94.0.10/24"; }} ); }} );
virtual_servers = ( {{ address = "10.94.0.10"; port = 80; delay_loop = 0.3; retry = 0; connect_timeout = 0.5;
  real_servers = ( {{ address = "10.94.0.2"; port = 8080; checks = ( {{ type = "tcp"; }} ); }} ); }} );
"""


def messages(path):
    try:
        return [json.loads(line) for line in open(path) if line.strip()]
    except (OSError, ValueError):
        return []


def header(msg, name):
    for line in msg["data"].splitlines():
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def body(msg):
    return msg["data"].split("\n\n", 1)[-1].strip() if "\n\n" in msg["data"] else msg["data"].split("\r\n\r\n", 1)[-1].strip()


def run(directord):
    if SYSTEM_PYTHON is None or subprocess.run([SYSTEM_PYTHON, "-c", "import aiosmtpd"]).returncode != 0:
        check(False, "python3-aiosmtpd is installed (tools/setup-debian.sh)")
        return
    with solo(directord, "ma", "10.94.0.1/24", "10.94.0.2/24") as s:
        work = s.work
        out = f"{work}/mail.jsonl"
        sh(f"openssl req -x509 -newkey rsa:2048 -nodes -keyout {work}/k.pem -out {work}/c.pem -days 1 "
           f"-subj /CN=mail.test 2>/dev/null")
        listener = s.in_ns("p", [sys.executable, "-c", LISTENER, "10.94.0.2"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        check(listener.stdout.readline().strip() == "ready", "the real server listens")
        s.start(conf(work))
        text = s.text
        check(wait(lambda: "VI_1: BACKUP -> MASTER" in text() or "-> MASTER" in text(), 15, 0.1) is not None,
              "the instance becomes MASTER", text()[-400:])
        check(wait(lambda: "trying again in 10 s" in text(), 10, 0.1) is not None,
              "no SMTP server yet: the first attempt fails and the log says it tries again",
              "; ".join(line for line in text().splitlines() if "mail:" in line))
        smtp = s.in_ns("d", [SYSTEM_PYTHON, "-c", SMTP_SERVER, out, f"{work}/c.pem", f"{work}/k.pem"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        check(smtp.stdout.readline().strip() == "ready", "the SMTP server (aiosmtpd, STARTTLS offered) runs")
        master = "[LB1] VRRP Instance VI_1 - Entering MASTER state"
        check(wait(lambda: any(header(x, "Subject") == master for x in messages(out)), 20, 0.2) is not None,
              "the retry delivers the MASTER mail (after the BACKUP one of the start, as keepalived sends it)",
              str([header(x, "Subject") for x in messages(out)]))
        m = next((x for x in messages(out) if header(x, "Subject") == master),
                 {"data": "", "to": [], "from": "", "tls": False})
        check(header(m, "Subject") == "[LB1] VRRP Instance VI_1 - Entering MASTER state",
              "keepalived's subject, with the router id", header(m, "Subject"))
        check(body(m) == "=> VRRP Instance is now owning VRRP VIPs <=", "keepalived's body", body(m))
        check(m["from"] == "lb1@example.com" and m["to"] == ["ops@example.com", "noc@example.com"],
              "the sender and both recipients", f"{m['from']} -> {m['to']}")
        check(header(m, "From") == "lb1@example.com" and header(m, "X-Mailer") == "directord", "the headers")
        check(m["tls"], "sent over STARTTLS (the server offered it)")
        check(m.get("helo") == "lb1.example.com", "EHLO with helo_name", m.get("helo"))

        os.killpg(listener.pid, signal.SIGKILL)
        listener.wait()
        want = "[LB1] Realserver [10.94.0.2]:tcp:8080 of virtual server [10.94.0.10]:tcp:80 - DOWN"
        check(wait(lambda: any(header(x, "Subject") == want for x in messages(out)), 15, 0.2) is not None,
              "the real server's DOWN mail comes when its check fails", str([header(x, "Subject") for x in messages(out)]))
        down = [x for x in messages(out) if header(x, "Subject") == want]
        check(bool(down) and body(down[0]) == "=> TCP CHECK failed on service <=", "... with keepalived's body",
              body(down[0]) if down else None)
        check("mail: sent" in text() and s.proc.poll() is None, "the log says what was sent; directord runs on")


if __name__ == "__main__":
    run_main(run, "mail alerts")
