#!/usr/bin/env python3
"""keepalived.conf imported, next to keepalived itself (root, network namespaces).

One keepalived.conf for both directors, as operators keep it: VRRPv3 at 0.1 s with a tracked
script and notify scripts, the priorities chosen by `@d1` / `@d2` lines, and a virtual server with
TCP checks. Director 1 runs keepalived on it (-i d1, VRRP only: this kernel has no IPVS); director 2
runs directord on `directord --import-keepalived --config-id d2` of the same file. They form one
virtual router: keepalived is master, directord backup and hearing it; kill -9 keepalived (and remove its
VIP, as if its host died) and directord takes the VIP within the master down interval (a client
probing the VIP every 2 ms measures the gap); keepalived returns and preempts, the client's gap is printed. The imported
checks run: the real server with a listener is UP, the one without is DOWN. A VRRPv2 PASS pair
imported the same way agrees on one master."""
import os
import subprocess
import sys
import time

from dlab import report
from dlab.netns import MARGIN, lab_for, master_down, Probe, status
from dlab.report import check, sh, wait

VIP = "10.99.0.10"

KEEPALIVED = """! one file for both directors
global_defs {{
  router_id LB_{version}
  script_user root
  enable_script_security
  vrrp_version {version}
  vrrp_garp_master_repeat 2
}}
vrrp_script chk_ok {{
  script "/usr/bin/test -e {work}/ok"
  interval 1
  weight 10
  fall 2
  rise 2
}}
vrrp_instance VI_1 {{
  state BACKUP
  interface eth0
  virtual_router_id 61
@d1 priority 150
@d2 priority 100
  advert_int {interval}
{auth}  virtual_ipaddress {{
    {vip}/24 dev eth0
  }}
  track_script {{
    chk_ok
  }}
  notify_master "/usr/bin/touch {work}/master.@ID"
}}
virtual_server {vip} 8080 {{
  delay_loop 0.5
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.99.0.100 8080 {{
    TCP_CHECK {{
      connect_timeout 1
    }}
  }}
  real_server 10.99.0.100 8081 {{
    TCP_CHECK {{
      connect_timeout 1
      retry 0
    }}
  }}
}}
"""


def imported(lab, text, config_id):
    """directord --import-keepalived of `text` for director 2, with its own files (the netns share /run)."""
    path = os.path.join(lab.work, f"keepalived-{config_id}.conf")
    with open(path, "w") as f:
        f.write(text.replace("@ID", config_id))
    r = subprocess.run([lab.directord, "--import-keepalived", path, "--config-id", config_id],
                       capture_output=True, text=True)
    ns = lab.ns[2]
    own = (f'global = {{\n  data_plane = "memory"; pid_file = "{lab.work}/{ns}.pid"; '
           f'control_socket = "{lab.work}/{ns}.sock"; state_dump_file = "{lab.work}/{ns}.json";')
    return r, r.stdout.replace("global = {", own, 1)


def vrrp_v3(directord):
    interval = 0.1
    down = master_down(interval)
    with lab_for(directord, "keepalived on d1, its import on d2 (v3, 0.1 s adverts)") as lab:
        open(os.path.join(lab.work, "ok"), "w").close()
        text = KEEPALIVED.format(version=3, work=lab.work, interval=interval, vip=VIP, auth="")
        r, conf = imported(lab, text, "d2")
        check(r.returncode == 0, "the import of the shared file is complete (exit 0)", r.stderr.strip())
        check(conf.count("priority = 150") == 0 and "notify" in conf, "the import took d2's lines (@d2), not d1's")
        # a listener for the real server that is up; 10.99.0.100:8081 has none
        listener = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-c",
                                     "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,"
                                     "socket.SO_REUSEADDR,1)\ns.bind(('10.99.0.100',8080))\ns.listen(64)\n"
                                     "while True: c,_=s.accept(); c.close()"])
        try:
            kconf = os.path.join(lab.work, "keepalived-d1.conf")
            with open(kconf, "w") as f:
                f.write(text.replace("@ID", "d1"))
            lab.start_raw(2, "directord", conf)
            time.sleep(0.3)
            log = open(os.path.join(lab.work, f"{lab.ns[1]}.log"), "a")
            kcmd = ["ip", "netns", "exec", lab.ns[1], "keepalived", "-n", "-l", "-D", "-P", "-i", "d1", "-f", kconf,
                    "-p", f"{lab.work}/k.pid", "-r", f"{lab.work}/kv.pid"]
            lab.procs[1] = subprocess.Popen(kcmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 15) is not None,
                  "keepalived (priority 150) is master, the imported directord (priority 100) backup")
            master = lambda: status(lab, 2).get("vrrp", {}).get("VI_1", {})  # noqa: E731
            check(wait(lambda: master().get("master") == "10.99.0.11" and master().get("state") == "BACKUP", 5)
                  is not None, "directord is BACKUP and hears keepalived (10.99.0.11) as master", str(master()))
            # the imported checks
            servers = lambda: {s["real_server"]: s["state"]  # noqa: E731
                               for v in status(lab, 2).get("servers", []) for s in v["real_servers"]}
            want = {"10.99.0.100:8080": "UP", "10.99.0.100:8081": "DOWN"}
            check(wait(lambda: servers() == want, 10) is not None, "the imported TCP checks: one UP, one DOWN",
                  str(servers()))

            probe = Probe(lab, VIP)
            check(probe.fresh(), "the probe is answered")
            # the director dies as a host does: keepalived killed and its VIP gone with it
            t0 = time.monotonic()
            lab.die(1)
            took = wait(lambda: lab.has_vip(2), down + 5, 0.002)
            check(took is not None and took <= down + MARGIN,
                  f"kill -9 keepalived: the imported directord holds the VIP (bound {down + MARGIN:.3f} s)",
                  f"{took:.3f} s" if took is not None else "never")
            probe.fresh()  # a reply after the takeover closes the gap
            gap = probe.gap(t0, time.monotonic())
            check(gap <= down + MARGIN, "the client's longest gap through the takeover", f"{gap * 1000:.0f} ms")
            check(wait(lambda: os.path.exists(os.path.join(lab.work, "master.d2")), 3) is not None,
                  "directord ran the imported notify_master")
            # the returning keepalived preempts
            sh(f"rm -f {lab.work}/k.pid {lab.work}/kv.pid", check=False)
            t1 = time.monotonic()
            lab.procs[1] = subprocess.Popen(kcmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 15) is not None,
                  "keepalived returns and preempts; directord releases the VIP")
            probe.fresh()
            gap = probe.gap(t1, time.monotonic())
            check(gap <= down + MARGIN, "the client's longest gap through the preemption", f"{gap * 1000:.0f} ms")
            probe.close()
        finally:
            listener.kill()
            listener.wait()


def vrrp_v2_pass(directord):
    auth = "  authentication {\n    auth_type PASS\n    auth_pass s3cretPW\n  }\n"
    with lab_for(directord, "keepalived on d1, its import on d2 (v2 PASS, 1 s adverts)") as lab:
        open(os.path.join(lab.work, "ok"), "w").close()
        text = KEEPALIVED.format(version=2, work=lab.work, interval=1, vip=VIP, auth=auth)
        r, conf = imported(lab, text, "d2")
        check(r.returncode == 0, "v2: the import is complete", r.stderr.strip())
        check('type = "PASS"' in conf and 'password = "s3cretPW"' in conf, "v2: the PASS authentication imported")
        kconf = os.path.join(lab.work, "keepalived-d1.conf")
        with open(kconf, "w") as f:
            f.write(text.replace("@ID", "d1"))
        lab.start_raw(2, "directord", conf)
        lab.procs[1] = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns[1], "keepalived", "-n", "-l", "-D", "-P", "-i", "d1", "-f", kconf,
             "-p", f"{lab.work}/k.pid", "-r", f"{lab.work}/kv.pid"],
            stdout=open(os.path.join(lab.work, f"{lab.ns[1]}.log"), "a"), stderr=subprocess.STDOUT,
            start_new_session=True)
        check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 15) is not None,
              "v2: keepalived master, directord backup: one virtual router")
        vi = lambda: status(lab, 2).get("vrrp", {}).get("VI_1", {})  # noqa: E731
        check(wait(lambda: vi().get("master") == "10.99.0.11", 5) is not None and
              vi().get("dropped", {}).get("total") == 0, "v2: directord accepts keepalived's adverts (none dropped)",
              str(vi()))


def main(directord):
    vrrp_v3(directord)
    vrrp_v2_pass(directord)


if __name__ == "__main__":
    report.run_main(main, "import")
