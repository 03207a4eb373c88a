#!/usr/bin/env python3
"""FRR's vrrpd (Debian's frr 8.4) as the second, independent VRRP peer: VRRPv3 and VRRPv2, both
roles, with the gap a client probing the VIP every 2 ms sees (root, network namespaces; the lab of
dlab.netns: d1 runs directord, d2 runs FRR's zebra and vrrpd, each started in the foreground in its
namespace).

FRR's vrrpd puts the VIP on a macvlan with the virtual MAC that the operator makes (FRR's way), so
d2 has vrrp4-2-51 (00:00:5e:00:01:33) with the VIP. Per version: FRR at priority 200 is master and
directord (100) stays BACKUP, hearing its adverts (no drops); d2 dies (vrrpd killed, its macvlan
gone) and directord takes over within the master-down interval; FRR comes back at priority 50 and
becomes Backup under directord (no move, no gap); directord stops cleanly (priority 0) and FRR takes
over within its skew time; FRR at priority 200 with preemption takes the VIP from a running
directord, which goes back to BACKUP and releases it. VRRPv2 runs at FRR's 1 s adverts (its v2
interval is whole seconds) without authentication (FRR has none)."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from dlab.netns import MARGIN, VIP, Probe, lab_for, master_down, skew, status
from dlab.report import check, failures, run_main, sh, wait

MAC = "00:00:5e:00:01:33"


class Frr:
    """zebra and vrrpd in director 2's namespace, their sockets and logs in a directory of their own."""
    def __init__(self, lab):
        self.lab, self.ns = lab, lab.ns[2]
        self.dir = tempfile.mkdtemp(prefix="frr-")  # FRR's daemons run as frr: a directory of theirs
        shutil.chown(self.dir, "frr", "frr")
        self.procs = {}

    def macvlan(self):
        ns = self.ns
        sh(f"ip -n {ns} link del vrrp4-2-51", check=False)
        sh(f"ip -n {ns} link add vrrp4-2-51 link eth0 type macvlan mode bridge && "
           f"ip -n {ns} link set dev vrrp4-2-51 address {MAC} && ip -n {ns} addr add {VIP}/24 dev vrrp4-2-51 && "
           f"ip -n {ns} link set dev vrrp4-2-51 up")

    def daemon(self, name, conf):
        path = os.path.join(self.dir, f"{name}.conf")
        with open(path, "w") as f:
            f.write(conf)
        shutil.chown(path, "frr", "frr")
        log = open(os.path.join(self.dir, f"{name}.out"), "a")
        self.procs[name] = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, f"/usr/lib/frr/{name}", "-f", path, "-i", f"{self.dir}/{name}.pid",
             "--vty_socket", self.dir, "-z", f"{self.dir}/zserv.api", "-u", "frr", "-g", "frr",
             "--log", f"file:{self.dir}/{name}.log"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, version, prio, interval_ms):
        if "zebra" not in self.procs or self.procs["zebra"].poll() is not None:
            self.daemon("zebra", "hostname d2\n")
            wait(lambda: os.path.exists(f"{self.dir}/zserv.api"), 10, 0.05)
        self.macvlan()
        self.daemon("vrrpd", f"hostname d2\ninterface eth0\n vrrp 51 version {version}\n vrrp 51 priority {prio}\n"
                             f" vrrp 51 advertisement-interval {interval_ms}\n vrrp 51 ip {VIP}\n")

    def state(self):
        out = sh(f"vtysh --vty_socket {self.dir} -d vrrpd -c 'show vrrp'", check=False).stdout
        for line in out.splitlines():
            if line.strip().startswith("Status (v4)"):
                return line.split()[-1]
        return None

    def kill(self, name):
        p = self.procs.get(name)
        if p and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()

    def die(self):
        """d2 dies as a host does: vrrpd at once, and the VIP with its macvlan."""
        self.kill("vrrpd")
        sh(f"ip -n {self.ns} link del vrrp4-2-51", check=False)

    def close(self):
        for name in list(self.procs):
            self.kill(name)
        shutil.rmtree(self.dir, ignore_errors=True)

    def logs(self):
        return "".join(open(os.path.join(self.dir, f)).read()[-1500:] for f in ("vrrpd.log", "zebra.log")
                       if os.path.exists(os.path.join(self.dir, f)))


def d_conf(lab, version, interval):
    ns = lab.ns[1]
    return f"""global = {{ data_plane = "memory"; pid_file = "{lab.work}/{ns}.pid"; control_socket = "{lab.work}/{ns}.sock";
  log_level = "info"; }};
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 51; priority = 100;
  version = {version}; advert_interval = {interval}; virtual_addresses = ( {{ address = "{VIP}/24"; }} ); }} );
"""


def scenario(directord, version):
    interval = 0.1 if version == 3 else 1.0
    ms = int(interval * 1000)
    before = len(failures)
    with lab_for(directord, f"FRR vrrpd and directord, VRRPv{version}, {ms} ms adverts") as lab:
        frr = Frr(lab)
        try:
            mine = lambda: status(lab, 1).get("vrrp", {}).get("VI_1", {})  # noqa: E731
            frr.start(version, 200, ms)
            check(wait(lambda: frr.state() == "Master", 10, 0.1) is not None, f"v{version}: FRR becomes master",
                  frr.logs()[-600:])
            lab.start_raw(1, "directord", d_conf(lab, version, interval))
            probe = Probe(lab)
            check(probe.fresh(10), f"v{version}: the client reaches the VIP at FRR's macvlan")
            time.sleep(5 * interval)
            st = mine()
            check(st.get("state") == "BACKUP", f"v{version}: directord (100) is BACKUP under FRR (200)", str(st))
            heard = lambda: mine().get("adverts_received", 0) > 0 and mine().get("master") == "10.99.0.12"  # noqa
            check(wait(heard, 3, 0.1) is not None and mine().get("dropped", {}).get("total", 1) == 0,
                  f"v{version}: ... hearing FRR's adverts (its master is 10.99.0.12), none dropped", str(mine()))
            check(not lab.has_vip(1), f"v{version}: ... without the VIP")

            t0 = time.monotonic()
            frr.die()
            bound = master_down(interval, 100) + MARGIN
            check(wait(lambda: lab.has_vip(1), bound + 2, 0.01) is not None, f"v{version}: FRR dead: directord takes over")
            probe.answered_since(t0, f"v{version}: FRR's director dies", bound + interval)

            frr.start(version, 50, ms)
            t1 = time.monotonic()
            check(wait(lambda: frr.state() == "Backup", 10, 0.1) is not None,
                  f"v{version}: FRR back at priority 50 becomes Backup under directord", str(frr.state()))
            time.sleep(5 * interval)
            check(mine().get("state") == "MASTER" and lab.has_vip(1), f"v{version}: ... directord stays MASTER")
            gap = probe.gap(t1, time.monotonic())
            check(gap < 0.05 + interval / 10, f"v{version}: ... with no gap for the client", f"{gap * 1000:.0f} ms")

            t2 = time.monotonic()
            lab.kill(1, signal.SIGTERM)  # a clean stop: priority 0, FRR takes over at once (its skew time)
            check(wait(lambda: frr.state() == "Master", skew(interval, 50) + 2, 0.02) is not None,
                  f"v{version}: directord stops cleanly: FRR takes over", str(frr.state()))
            probe.answered_since(t2, f"v{version}: directord's clean stop", skew(interval, 50) + MARGIN + interval)
            lab.procs[1].wait(timeout=20)

            # FRR preempts a running directord
            frr.kill("vrrpd")
            sh(f"ip -n {lab.ns[2]} link del vrrp4-2-51", check=False)
            lab.start_raw(1, "directord", d_conf(lab, version, interval))
            check(wait(lambda: mine().get("state") == "MASTER", master_down(interval) + 10, 0.1) is not None,
                  f"v{version}: directord alone is MASTER")
            t3 = time.monotonic()
            frr.start(version, 200, ms)
            check(wait(lambda: frr.state() == "Master", 10, 0.05) is not None and
                  wait(lambda: mine().get("state") == "BACKUP", 5, 0.05) is not None,
                  f"v{version}: FRR at 200 preempts: directord goes back to BACKUP", str(mine()))
            check(wait(lambda: not lab.has_vip(1), 3, 0.05) is not None, f"v{version}: ... and releases the VIP")
            probe.answered_since(t3, f"v{version}: FRR preempts", 3 * interval + MARGIN + 1)
        finally:
            if len(failures) > before:
                print("--- FRR's logs (tail)\n" + frr.logs()[-1500:])
            frr.close()


def run(directord):
    if not os.path.exists("/usr/lib/frr/vrrpd"):
        check(False, "FRR's vrrpd is installed (tools/setup-debian.sh)")
        return
    scenario(directord, 3)
    scenario(directord, 2)


if __name__ == "__main__":
    run_main(run, "vrrp frr")
