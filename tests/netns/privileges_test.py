#!/usr/bin/env python3
"""Each worker keeps only the privileges it needs, and still does its job (root, a network namespace).

directord on the userspace plane in a namespace of its own, with a VRRP instance, a tracked
vrrp_script (as the default script_user, nobody), a virtual service on port 80 with a TCP check.
Read from /proc: every worker's effective, permitted and bounding capability sets are exactly its
plan (fwd: NET_BIND_SERVICE; vrrp: NET_RAW, NET_ADMIN, SETUID, SETGID; lvs: NET_ADMIN,
SETUID, SETGID; status: NET_BIND_SERVICE), with no_new_privs and a seccomp filter; the
supervisor keeps its own. The status worker serves /status on port 81 (a low port) and /metrics. And the work gets done: the instance is MASTER with its VIP (raw socket, address),
its script runs, the check passes and a client is forwarded on port 80. A reload that would run a
vrrp_script as root is refused (the worker cannot take capabilities back); started that way, the
vrrp worker keeps every capability and says why."""
import subprocess
import sys

from dlab.report import check, run_main, sh, wait
from dlab.solo import solo

CAP = {"NET_BIND_SERVICE": 10, "NET_ADMIN": 12, "NET_RAW": 13, "SETGID": 6, "SETUID": 7}
WANT = {"fwd": {"NET_BIND_SERVICE"}, "vrrp": {"NET_RAW", "NET_ADMIN", "SETUID", "SETGID"},
        "lvs": {"NET_ADMIN", "SETUID", "SETGID"}, "status": {"NET_BIND_SERVICE"}}

SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], 8080)); s.listen(64)
while True:
    c, _ = s.accept()
    try: c.sendall(b"served\n")
    except OSError: pass
    c.close()
"""


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def names_by_log(log_path):
    """{pid: worker} from lines like 'lvs[1234] info: lvs: privileges: ...'."""
    out = {}
    for line in open(log_path, errors="replace"):
        if ": privileges: " in line:
            ident = line.split()[1]
            name, _, pid = ident.partition("[")
            out[pid.rstrip("]")] = name
    return out


def mask(names):
    m = 0
    for n in names:
        m |= 1 << CAP[n]
    return m


def conf(work, root_script=False):
    user = 'user = "root";' if root_script else ""
    return f"""global = {{ data_plane = "userspace"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  state_dump_file = "{work}/d.json"; status = {{ listen = "10.97.0.1:81"; }}; }};
vrrp_scripts = ( {{ name = "chk"; script = "/usr/bin/test -d /"; interval = 0.2; weight = 0; {user} }} );
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 61; priority = 150; version = 3;
  advert_interval = 0.1; track_scripts = ( {{ script = "chk"; }} );
  virtual_addresses = ( {{ address = "10.97.0.10/24"; }} ); }} );
virtual_servers = ( {{ address = "10.97.0.10"; port = 80; scheduler = "rr"; delay_loop = 0.3;
  real_servers = ( {{ address = "10.97.0.2"; port = 8080; checks = ( {{ type = "tcp"; }} ); }} ); }} );
"""


def run(directord):
    with solo(directord, "pv", "10.97.0.1/24", "10.97.0.2/24") as s:
        ns, peer, work, ctl = s.ns, s.peer, s.work, s.ctl
        s.in_ns("p", [sys.executable, "-c", SERVER, "10.97.0.2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for root_script in (False, True):
            what = "a vrrp_script as root" if root_script else "scripts as nobody"
            s.start(conf(work, root_script), log=f"d{int(root_script)}.log")
            log, d = s.log, s.proc
            names = {}
            check(wait(lambda: len(names_by_log(log)) == 4, 15) is not None, f"{what}: the four workers start")
            names = names_by_log(log)
            sup = proc_status(d.pid)
            # `ip netns exec` execs directord in place: d.pid is the supervisor
            check(int(sup.get("CapEff", "0"), 16) & mask(CAP) == mask(CAP) and sup.get("NoNewPrivs") == "0",
                  f"{what}: the supervisor keeps its own capabilities", sup.get("CapEff", "?"))
            for pid, name in sorted(names.items(), key=lambda x: x[1]):
                st = proc_status(pid)
                want = sup.get("CapEff") if (root_script and name == "vrrp") else f"{mask(WANT[name]):016x}"
                got = {k: st.get(k) for k in ("CapEff", "CapPrm", "CapBnd")}
                check(all(v == want for v in got.values()),
                      f"{what}: {name} worker's capabilities are exactly {'every one' if want == sup.get('CapEff') else ', '.join(sorted(WANT[name]))}",
                      str(got))
                check(st.get("NoNewPrivs") == "1" and st.get("Seccomp") == "2",
                      f"{what}: {name} worker has no_new_privs and a seccomp filter",
                      f"NoNewPrivs {st.get('NoNewPrivs')}, Seccomp {st.get('Seccomp')}")
            has_vip = lambda: " 10.97.0.10/" in sh(f"ip -n {ns} -o addr show dev eth0", check=False).stdout  # noqa: E731
            check(wait(has_vip, 15) is not None, f"{what}: the instance is MASTER with its VIP (its script ran)")
            served = lambda: "served" in sh(f"ip netns exec {peer} {sys.executable} -c \"import socket; s=socket.create_connection(('10.97.0.10', 80), 1); print(s.recv(64).decode())\"", check=False).stdout  # noqa: E501,E731
            check(wait(served, 15, 0.2) is not None, f"{what}: the check passes and a client is forwarded on port 80")
            curl = lambda path: sh(f"ip netns exec {peer} curl -sf -m 5 http://10.97.0.1:81{path}", check=False)  # noqa: E731
            check(wait(lambda: '"VI_1"' in curl("/status").stdout, 10) is not None,
                  f"{what}: the status worker serves /status on port 81 from the lvs worker's state")
            check("directord_" in curl("/metrics").stdout, f"{what}: ... and /metrics")
            if root_script:
                check("vrrp_script chk (/usr/bin/test -d /) runs as root" in open(log).read(),
                      f"{what}: the log says why the vrrp worker keeps everything")
            else:
                with open(f"{work}/d.conf", "w") as f:
                    f.write(conf(work, True))
                r = sh(f"ip netns exec {ns} {ctl} -s {work}/d.sock reload", check=False)
                check(r.returncode != 0 and "restart directord to apply it" in r.stdout + r.stderr,
                      f"{what}: a reload that would run a script as root is refused, and says why",
                      (r.stdout + r.stderr).strip()[-300:])
                check(d.poll() is None and has_vip(), f"{what}: ... and the running config stays")
            s.stop(timeout=30)
            sh(f"ip -n {ns} addr del 10.97.0.10/24 dev eth0", check=False)


if __name__ == "__main__":
    run_main(run, "privileges")
