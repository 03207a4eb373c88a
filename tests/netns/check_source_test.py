#!/usr/bin/env python3
"""Where checks come from and what they match (root, network namespaces): keepalived's bind_port,
bind_if, fwmark, log_all_failures and its PCRE2 regex options, on a running director.

directord (memory plane) on a veth; the peer namespace runs an HTTP server on port 80 (dual-stack)
that records each client's address and port and answers "HTTP/1.0 200 OK", a header
"X-Health: green" and the body "status: healthy". Real servers, each with its own check:
- .2: http with bind_port 40123 and fwmark 42, regex "X-Health: green" with regex_headers: up, the
  server saw port 40123, and an nftables counter in the director's namespace saw mark 42 on that
  check's packets and on no other;
- .5: tcp to the peer's link-local address with bind_interface eth0 (no scope in the address): up;
- .6: http, regex "healthy" with regex_max_offset 3 (it starts at 8), log_all_failures: down, and
  every failed attempt is logged, not only the transition;
- .7: http, regex "STATUS: HEALTHY" with regex_options caseless: up;
- .8: http, regex "^status" with regex_headers (the subject starts "HTTP/1.0"): down, and with
  multiline (a line starts "status") on .9: up."""
import re
import subprocess

from dlab.report import check, run_main, sh, wait
from dlab.solo import solo

SERVER = r"""
import http.server, socket, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        with open(sys.argv[1], "a") as f:
            f.write("%s %d %s\n" % (self.client_address[0], self.client_address[1], self.path))
        body = b"status: healthy\n"
        self.send_response(200); self.send_header("X-Health", "green")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
S(("::", 80), H).serve_forever()
"""


def conf(work, ll):
    def rs(last, check):
        return f'{{ address = "10.96.0.{last}"; port = 80; checks = ( {{ connect_ip = "10.96.0.2"; {check} }} ); }}'
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  log_level = "info"; }};
virtual_servers = ( {{ address = "10.96.0.10"; port = 80; delay_loop = 0.5; retry = 0;
  real_servers = (
    {rs(2, 'type = "http"; path = "/marked"; bind_port = 40123; fwmark = 42; regex = "X-Health: green"; regex_headers = true;')},
    {{ address = "10.96.0.5"; port = 80; checks = ( {{ type = "tcp"; connect_ip = "{ll}"; bind_interface = "eth0"; }} ); }},
    {rs(6, 'type = "http"; path = "/six"; regex = "healthy"; regex_max_offset = 3; log_all_failures = true;')},
    {rs(7, 'type = "http"; path = "/seven"; regex = "STATUS: HEALTHY"; regex_options = [ "caseless" ];')},
    {rs(8, 'type = "http"; path = "/eight"; regex = "^status"; regex_headers = true;')},
    {rs(9, 'type = "http"; path = "/nine"; regex = "^status"; regex_headers = true; regex_options = [ "multiline" ];')}
  ); }} );
"""


def run(directord):
    with solo(directord, "cs", "10.96.0.1/24", "10.96.0.2/24") as s:
        seen = f"{s.work}/seen"
        open(seen, "w").close()
        s.in_ns("p", ["python3", "-c", SERVER, seen], stderr=subprocess.DEVNULL)
        ll = wait(lambda: sh(f"ip -n {s.peer} -6 -o addr show dev eth0 scope link -tentative").stdout, 10, 0.05)
        check(ll is not None, "the peer's link-local address is ready")
        ll = sh(f"ip -n {s.peer} -6 -o addr show dev eth0 scope link").stdout.split("inet6 ")[1].split("/")[0]
        check(wait(lambda: ":80 " in sh(f"ip netns exec {s.peer} ss -Hltn").stdout, 10, 0.05) is not None,
              "the HTTP server listens")
        sh(f"""ip netns exec {s.ns} nft -f - <<'X'
table inet cs {{ chain out {{ type filter hook output priority 0;
  tcp flags & (syn | ack) == syn tcp dport 80 meta mark 42 tcp sport 40123 counter
  tcp flags & (syn | ack) == syn tcp dport 80 meta mark != 42 tcp sport 40123 counter
  tcp flags & (syn | ack) == syn tcp dport 80 meta mark 42 tcp sport != 40123 counter
}}
}}
X""")
        s.start(conf(s.work, ll))
        s.wait_started()
        want = {"10.96.0.2:80", "10.96.0.5:80", "10.96.0.7:80", "10.96.0.9:80"}
        check(wait(lambda: set(s.weights()) == want, 10, 0.1) is not None,
              "in the table: the marked check's server, the link-local one, caseless, multiline; "
              "out: max_offset 3 and ^ against the status line", str(sorted(s.weights())))
        # a few rounds (delay_loop 0.5): the marked check seen three times, .6's failures logged twice
        wait(lambda: sum("/marked" in line for line in open(seen)) >= 3
             and s.text().count("rs 10.96.0.6:80: http 10.96.0.2:80 failed: ") >= 2, 10, 0.1)
        rows = [line.split() for line in open(seen)]
        marked = [r for r in rows if r[2] == "/marked"]
        check(marked and all(r[1] == "40123" for r in marked),
              f"bind_port: the server saw the marked check come from port 40123 ({len(marked)} times)",
              str(marked[:3]))
        check(all(r[1] != "40123" for r in rows if r[2] != "/marked"), "... and no other check from that port")
        counters = [int(x) for x in re.findall(r"packets (\d+)", sh(f"ip netns exec {s.ns} nft list table inet cs").stdout)]
        check(len(counters) == 3 and counters[0] > 0 and counters[1] == 0 and counters[2] == 0,
              "fwmark: the marked check's connections (SYNs) carry mark 42, no other does", str(counters))
        log = s.text()
        fails = log.count("rs 10.96.0.6:80: http 10.96.0.2:80 failed: ")
        check(fails >= 2, f"log_all_failures: every failed attempt of .6 is logged ({fails} lines)",
              "\n".join(line for line in log.splitlines() if "10.96.0.6" in line)[-600:])
        check(log.count("rs 10.96.0.8:80: http 10.96.0.2:80 failed: ") == 0,
              "... and not those of a check without it (.8 is down too)")
        check(s.proc.poll() is None, "directord runs on")


if __name__ == "__main__":
    run_main(run, "check source")
