#!/usr/bin/env python3
"""Tracked files (keepalived's track_file and FILE_CHECK) on a running director (root, a network
namespace).

directord (memory plane) alone on a veth, so its VRRP instance becomes MASTER; three track files
in a directory of the test's own. Real server 10.95.0.2 (weight 5) has a file check on `load`
(weight 2): its weight in the table is 5 + 2 x the file's number. Real server 10.95.0.3 has one on
`maint` (weight 0): any non-zero number takes it out, 0 brings it back. The instance tracks `prio`
(weight 1): its effective priority is 100 + the number; -254 or less is FAULT (its VIP goes), and a
file that disappears counts as 0. Every change is written the way operators do it (echo >, a
rename over the file, rm), and each shows within a second: the file is watched, not polled (the
checks' delay_loop is an hour). `init_file` writes the missing `maint` file at start."""
import os

from dlab.report import check, run_main, sh, wait
from dlab.solo import solo


def conf(work):
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  log_level = "info"; }};
track_files = (
  {{ name = "load"; file = "{work}/files/load"; }},
  {{ name = "maint"; file = "{work}/files/maint"; weight = 0; init_file = 0; }},
  {{ name = "prio"; file = "{work}/files/prio"; weight = 1; }}
);
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 62; priority = 100; version = 3;
  advert_interval = 0.1; track_files = ( {{ track_file = "prio"; }} );
  virtual_addresses = ( {{ address = "10.95.0.10/24"; }} ); }} );
virtual_servers = ( {{ address = "10.95.0.10"; port = 80; delay_loop = 3600;
  real_servers = (
    {{ address = "10.95.0.2"; port = 80; weight = 5; checks = ( {{ type = "file"; track_file = "load"; weight = 2; }} ); }},
    {{ address = "10.95.0.3"; port = 80; checks = ( {{ type = "file"; track_file = "maint"; }} ); }} ); }} );
"""


def run(directord):
    with solo(directord, "tf", "10.95.0.1/24") as s:
        ns, work = s.ns, s.work
        files = f"{work}/files"
        os.mkdir(files)
        with open(f"{files}/load", "w") as f:
            f.write("3\n")
        s.start(conf(work))
        weights = s.weights

        def instance():
            return s.status().get("vrrp", {}).get("VI_1", {})

        def put(name, text, how="write"):
            path = f"{files}/{name}"
            if how == "rename":
                with open(path + ".new", "w") as f:
                    f.write(text)
                os.rename(path + ".new", path)
            elif how == "rm":
                os.unlink(path)
            else:
                with open(path, "w") as f:
                    f.write(text)

        text = s.text
        s.wait_started()
        check(os.path.exists(f"{files}/maint") and open(f"{files}/maint").read().strip() == "0",
              "init_file wrote the missing file at start")
        check(wait(lambda: weights().get("10.95.0.2:80") == 11, 10, 0.1) is not None,
              "load = 3: the real server's weight is 5 + 2 x 3", str(weights()))
        check(wait(lambda: "10.95.0.3:80" in weights(), 10, 0.1) is not None, "maint = 0: the other real server is in")
        check(wait(lambda: instance().get("state") == "MASTER", 10, 0.1) is not None, "the instance is MASTER",
              str(instance()))
        check(instance().get("effective_priority") == 100, "prio missing: priority 100", str(instance()))

        for value, how, want in (("10", "write", 25), ("-2", "rename", 1), ("0x4", "write", 13)):
            put("load", value, how)
            check(wait(lambda: weights().get("10.95.0.2:80") == want, 1.5, 0.05) is not None,
                  f"load = {value} ({how}): weight {want} within a second", str(weights()))
        put("maint", "1\n")
        check(wait(lambda: "10.95.0.3:80" not in weights(), 1.5, 0.05) is not None,
              "maint = 1: that real server goes within a second", str(weights()))
        check("file value 1" in text(), "... and the log says why")
        put("maint", "0\n", "rename")
        check(wait(lambda: "10.95.0.3:80" in weights(), 1.5, 0.05) is not None, "maint = 0: it comes back")

        has_vip = lambda: " 10.95.0.10/" in sh(f"ip -n {ns} -o addr show dev eth0", check=False).stdout  # noqa: E731
        put("prio", "20")
        check(wait(lambda: instance().get("effective_priority") == 120, 1.5, 0.05) is not None,
              "prio = 20: effective priority 120", str(instance()))
        put("prio", "-254")
        check(wait(lambda: instance().get("state") == "FAULT", 1.5, 0.05) is not None, "prio = -254: FAULT",
              str(instance()))
        check(wait(lambda: not has_vip(), 2, 0.05) is not None, "... and the VIP is removed")
        put("prio", "", "rm")
        check(wait(lambda: instance().get("state") == "MASTER", 5, 0.05) is not None,
              "prio removed (0): MASTER again", str(instance()))
        check(wait(has_vip, 2, 0.05) is not None, "... with its VIP")
        check(instance().get("effective_priority") == 100, "... at priority 100", str(instance()))
        put("load", "99999999999")
        check(wait(lambda: "not a number from" in text(), 2, 0.05) is not None,
              "an out-of-range number is logged ...")
        check(weights().get("10.95.0.2:80") == 13, "... and ignored: the weight stays", str(weights()))
        check(s.proc.poll() is None, "directord runs on")


if __name__ == "__main__":
    run_main(run, "track file")
