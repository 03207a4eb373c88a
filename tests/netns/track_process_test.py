#!/usr/bin/env python3
"""Tracked processes (keepalived's vrrp_track_process) on a running director (root, a network
namespace for its VRRP instance; processes in the host's PID namespace, which it shares).

directord (memory plane) alone on a veth, started in the host's namespace with global.net_namespace
naming the test's (the kernel's process events exist in the initial namespace only: directord opens
them before entering it, as keepalived does), so its instance is MASTER at priority 100. It tracks three
kinds, each a copy of /bin/sleep under a name of the test's own (no other process can match):
`web` by process name with quorum 2 and weight -20 (priority 80 until two run); `db` by name with
weight 0 (none running is FAULT: the VIP goes); `job` by its command line, argv[0] and the argument
`600` exactly, weight +7 (a `job 601` does not count). Each start and kill shows at once (the status shows it within its 1 s publishing):
the kernel's process events say it, nothing polls. A `terminate_delay` on `db` rides over a restart
inside it with no transition; a reload that keeps the definitions keeps the counts.

keepalived 2.2.7 runs beside it on the peer's end of the link (its own VRID, the same kinds written
as vrrp_track_process, net_namespace the peer's), and after every step its effective priority (its
SIGUSR1 data file) must equal directord's: the same processes mean the same thing to both."""
import os
import re
import shutil
import signal
import subprocess
import time

from dlab.report import check, run_main, sh, wait
from dlab.solo import solo


def conf(work, ns, names, db_delay="0.0"):
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  log_level = "info"; net_namespace = "{ns}"; }};
track_processes = (
  {{ name = "web"; process = "{names['web']}"; quorum = 2; weight = -20; }},
  {{ name = "db"; process = "{names['db']}"; terminate_delay = {db_delay}; }},
  {{ name = "job"; process = "{work}/{names['job']}"; params = [ "600" ]; weight = 7; }}
);
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 63; priority = 100; version = 3;
  advert_interval = 0.1;
  track_processes = ( {{ track_process = "web"; }}, {{ track_process = "db"; }}, {{ track_process = "job"; }} );
  virtual_addresses = ( {{ address = "10.96.0.10/24"; }} ); }} );
"""


def ka_conf(peer, work, names, tag):
    return f"""global_defs {{
  router_id kp{tag}
  net_namespace {peer}
}}
vrrp_track_process web {{
  process {names['web']}
  quorum 2
  weight -20
}}
vrrp_track_process db {{
  process {names['db']}
}}
vrrp_track_process job {{
  process {work}/{names['job']} 600
  weight 7
}}
vrrp_instance VI_K {{
  interface eth0
  state BACKUP
  virtual_router_id 65
  priority 100
  advert_int 1
  virtual_ipaddress {{
    10.96.0.20/24
  }}
  track_process {{
    web
    db
    job
  }}
}}
"""


DATA = "/tmp/keepalived.data"


def ka_state(pid):
    """keepalived's VI_K as its SIGUSR1 data file says: (effective priority, state)."""
    if os.path.exists(DATA):
        os.unlink(DATA)
    os.kill(pid, signal.SIGUSR1)
    wait(lambda: os.path.exists(DATA) and "VRRP Track process" in open(DATA).read(), 5, 0.05)
    time.sleep(0.05)  # written in one go by its vrrp process; let it finish
    text = open(DATA).read() if os.path.exists(DATA) else ""
    inst = text.split("VRRP Instance = VI_K", 1)[-1]
    prio = re.search(r"Effective priority = (\d+)", inst)
    state = re.search(r"State = (\w+)", inst)
    return (int(prio.group(1)) if prio else None, state.group(1) if state else None)


def run(directord):
    tag = str(os.getpid() % 100000)
    names = {"web": "dtpweb" + tag, "db": "dtpdb" + tag, "job": "dtpjob" + tag}
    procs = []
    with solo(directord, "tp", "10.96.0.1/24", "10.96.0.2/24") as s:
        ns, work = s.ns, s.work
        for n in names.values():
            shutil.copy("/bin/sleep", f"{work}/{n}")

        def start(kind, arg="600"):
            p = subprocess.Popen([f"{work}/{names[kind]}", arg])
            procs.append(p)
            return p

        def stop(p):
            p.kill()
            p.wait()

        try:
            db = start("db")
            s.start(conf(work, ns, names), host=True)
            s.wait_started()
            with open(f"{work}/k.conf", "w") as f:
                f.write(ka_conf(s.peer, work, names, tag))
            ka = subprocess.Popen(["keepalived", "-n", "-l", "-D", "-P", "-f", f"{work}/k.conf", "-p", f"{work}/k.pid",
                                   "-r", f"{work}/kv.pid"], stdout=open(f"{work}/k.log", "w"),
                                  stderr=subprocess.STDOUT, start_new_session=True)
            procs.append(ka)
            check(wait(lambda: os.path.exists(f"{work}/kv.pid"), 10, 0.1) is not None, "keepalived runs beside it")

            def same(step):
                """directord's effective priority (or FAULT) and keepalived's, after `step`."""
                seen = {}

                def agree():
                    ours = instance()
                    seen["mine"] = "FAULT" if ours.get("state") == "FAULT" else ours.get("effective_priority")
                    kp, kstate = ka_state(ka.pid)
                    seen["theirs"] = "FAULT" if kstate == "FAULT" else kp
                    return seen["mine"] == seen["theirs"] or None
                check(wait(agree, 3, 0.1) is not None, f"{step}: keepalived says the same ({seen.get('theirs')})",
                      f"directord {seen.get('mine')}")

            def instance():
                return s.status().get("vrrp", {}).get("VI_1", {})

            has_vip = lambda: " 10.96.0.10/" in sh(f"ip -n {ns} -o addr show dev eth0", check=False).stdout  # noqa
            check(wait(lambda: instance().get("state") == "MASTER", 10, 0.1) is not None, "the instance is MASTER",
                  str(instance()))
            check(wait(lambda: instance().get("effective_priority") == 80, 2, 0.05) is not None,
                  "no web running (quorum 2, weight -20): priority 80", str(instance()))
            same("no web")
            web1 = start("web")
            time.sleep(0.5)
            check(instance().get("effective_priority") == 80, "one web: still 80 (quorum 2)", str(instance()))
            web2 = start("web")
            check(wait(lambda: instance().get("effective_priority") == 100, 2, 0.02) is not None,
                  "two web: priority 100 at once (the status shows it within its 1 s publishing)", str(instance()))
            same("two web")
            job = start("job")
            check(wait(lambda: instance().get("effective_priority") == 107, 2, 0.02) is not None,
                  "job 600 (command line, exact argument): +7 at once (the status shows it within its 1 s publishing)", str(instance()))
            same("job 600")
            stop(job)
            start("job", "601")
            check(wait(lambda: instance().get("effective_priority") == 100, 2, 0.02) is not None,
                  "job 600 gone and job 601 does not count: 100", str(instance()))
            same("job 601")
            stop(web1)
            check(wait(lambda: instance().get("effective_priority") == 80, 2, 0.02) is not None,
                  "one web killed: 80 at once (the status shows it within its 1 s publishing)", str(instance()))
            check("track_process web: 1 '" + names["web"] + "' process(es) running, down" in s.text(),
                  "... and the log says what runs against what is wanted")
            same("one web")
            stop(db)
            check(wait(lambda: instance().get("state") == "FAULT", 2, 0.02) is not None,
                  "db (weight 0) gone: FAULT at once (the status shows it within its 1 s publishing)", str(instance()))
            check(wait(lambda: not has_vip(), 2, 0.05) is not None, "... and the VIP is removed")
            same("no db")
            db = start("db")
            check(wait(lambda: instance().get("state") == "MASTER", 5, 0.05) is not None, "db back: MASTER again",
                  str(instance()))
            check(wait(has_vip, 2, 0.05) is not None, "... with its VIP")
            same("db back")

            # a reload with terminate_delay on db: the same web and db processes are still counted
            with open(f"{work}/d.conf", "w") as f:
                f.write(conf(work, ns, names, db_delay="1.5"))
            os.kill(s.proc.pid, signal.SIGHUP)
            check(wait(lambda: "reload: vrrp:" in s.text(), 10, 0.1) is not None, "reloaded")
            time.sleep(0.5)
            check(instance().get("state") == "MASTER" and instance().get("effective_priority") == 80,
                  "after the reload: MASTER at 80 (one web counted still)", str(instance()))
            transitions = s.text().count("FAULT")
            stop(db)
            time.sleep(0.6)
            db = start("db")
            time.sleep(1.5)
            check(instance().get("state") == "MASTER", "db restarted within terminate_delay 1.5 s: no FAULT",
                  str(instance()))
            check(s.text().count("FAULT") == transitions, "... and no transition logged")
            stop(web2)
            check(s.proc.poll() is None, "directord runs on")
        finally:
            for p in procs:
                if p.poll() is None:
                    if p.args[0] == "keepalived":  # its session: the parent and its VRRP child
                        os.killpg(p.pid, signal.SIGKILL)
                    else:
                        p.kill()
                    p.wait()
            for f in (DATA, "/tmp/keepalived_parent.data"):
                if os.path.exists(f):
                    os.unlink(f)


if __name__ == "__main__":
    run_main(run, "track process")
