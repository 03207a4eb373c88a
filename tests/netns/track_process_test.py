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
inside it with no transition; a reload that keeps the definitions keeps the counts."""
import os
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


def run(directord):
    tag = str(os.getpid() % 100000)
    names = {"web": "dtpweb" + tag, "db": "dtpdb" + tag, "job": "dtpjob" + tag}
    procs = []
    with solo(directord, "tp", "10.96.0.1/24") as s:
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

            def instance():
                return s.status().get("vrrp", {}).get("VI_1", {})

            has_vip = lambda: " 10.96.0.10/" in sh(f"ip -n {ns} -o addr show dev eth0", check=False).stdout  # noqa
            check(wait(lambda: instance().get("state") == "MASTER", 10, 0.1) is not None, "the instance is MASTER",
                  str(instance()))
            check(wait(lambda: instance().get("effective_priority") == 80, 2, 0.05) is not None,
                  "no web running (quorum 2, weight -20): priority 80", str(instance()))
            web1 = start("web")
            time.sleep(0.5)
            check(instance().get("effective_priority") == 80, "one web: still 80 (quorum 2)", str(instance()))
            web2 = start("web")
            check(wait(lambda: instance().get("effective_priority") == 100, 2, 0.02) is not None,
                  "two web: priority 100 at once (the status shows it within its 1 s publishing)", str(instance()))
            job = start("job")
            check(wait(lambda: instance().get("effective_priority") == 107, 2, 0.02) is not None,
                  "job 600 (command line, exact argument): +7 at once (the status shows it within its 1 s publishing)", str(instance()))
            stop(job)
            start("job", "601")
            check(wait(lambda: instance().get("effective_priority") == 100, 2, 0.02) is not None,
                  "job 600 gone and job 601 does not count: 100", str(instance()))
            stop(web1)
            check(wait(lambda: instance().get("effective_priority") == 80, 2, 0.02) is not None,
                  "one web killed: 80 at once (the status shows it within its 1 s publishing)", str(instance()))
            check("track_process web: 1 '" + names["web"] + "' process(es) running, down" in s.text(),
                  "... and the log says what runs against what is wanted")
            stop(db)
            check(wait(lambda: instance().get("state") == "FAULT", 2, 0.02) is not None,
                  "db (weight 0) gone: FAULT at once (the status shows it within its 1 s publishing)", str(instance()))
            check(wait(lambda: not has_vip(), 2, 0.05) is not None, "... and the VIP is removed")
            db = start("db")
            check(wait(lambda: instance().get("state") == "MASTER", 5, 0.05) is not None, "db back: MASTER again",
                  str(instance()))
            check(wait(has_vip, 2, 0.05) is not None, "... with its VIP")

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
                    p.kill()
                    p.wait()


if __name__ == "__main__":
    run_main(run, "track process")
