#!/usr/bin/env python3
"""A VMAC that cannot be made is a FAULT with its reason, never a silent fallback to the interface
(root, a network namespace).

directord alone on a veth with an instance that uses `vmac`, started while an interface of the
VMAC's name already exists and is no macvlan (a veth): the instance is FAULT (not INIT, not MASTER
on eth0), the log says which interface is in the way and what to do, and no VIP is anywhere. The
veth deleted, the VMAC is made at the next try (every 5 s) and the instance becomes MASTER with
its VIP on the macvlan. Then the macvlan is replaced by a veth again behind its back: FAULT, the
VIP gone, and back to MASTER when the name is free."""
from dlab.report import check, run_main, sh, wait
from dlab.solo import solo


def conf(work):
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  log_level = "info"; }};
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 66; priority = 100; version = 3;
  advert_interval = 0.1; vmac = {{ }};
  virtual_addresses = ( {{ address = "10.99.0.10/24"; }} ); }} );
"""


def run(directord):
    with solo(directord, "vf", "10.99.0.1/24") as s:
        ns, work = s.ns, s.work
        sh(f"ip -n {ns} link add vrrp.66 type veth peer name vfx66 && ip -n {ns} link set vrrp.66 up")

        def instance():
            return s.status().get("vrrp", {}).get("VI_1", {})

        def vip_on():
            out = sh(f"ip -n {ns} -o addr show", check=False).stdout
            return [line.split()[1] for line in out.splitlines() if " 10.99.0.10/" in line]

        def link_type():
            return sh(f"ip -n {ns} -d -o link show vrrp.66", check=False).stdout

        s.start(conf(work))
        s.wait_started()
        check(wait(lambda: instance().get("state") == "FAULT", 5, 0.1) is not None,
              "an interface of the VMAC's name in the way: FAULT", str(instance()))
        check("vrrp.66 exists and is not a macvlan; name the VMAC otherwise (vmac.name)" in s.text(),
              "the log says what is in the way and what to do", s.text()[-600:])
        check("cannot be made: FAULT until it can" in s.text(), "... and that it is FAULT until then")
        check(not vip_on(), "no VIP anywhere (not on eth0 instead)", str(vip_on()))
        sh(f"ip -n {ns} link del vrrp.66")
        check(wait(lambda: instance().get("state") == "MASTER", 10, 0.1) is not None,
              "the name free: the VMAC is made at the next try and the instance is MASTER", str(instance()))
        check(wait(lambda: vip_on() == ["vrrp.66"], 3, 0.1) is not None, "... with its VIP on the macvlan",
              str(vip_on()))
        check("macvlan" in link_type(), "... which is a macvlan", link_type()[:200])
        # replaced behind its back by something it cannot take over
        # (directord makes its VMAC again as soon as it sees it gone: the veth may lose that race, so
        # delete and add until the veth holds the name)
        for _ in range(50):
            sh(f"ip -n {ns} link del vrrp.66", check=False)
            if sh(f"ip -n {ns} link add vrrp.66 type veth peer name vfx66", check=False).returncode == 0:
                break
        sh(f"ip -n {ns} link set vrrp.66 up")
        check(wait(lambda: instance().get("state") == "FAULT", 3, 0.05) is not None,
              "the macvlan replaced by a veth: FAULT", str(instance()))
        check("was removed and cannot be made again: FAULT until it can" in s.text(), "... and the log says so")
        check(wait(lambda: not vip_on(), 3, 0.05) is not None, "... and the VIP is gone", str(vip_on()))
        sh(f"ip -n {ns} link del vrrp.66")
        check(wait(lambda: instance().get("state") == "MASTER", 10, 0.1) is not None, "the name free again: MASTER",
              str(instance()))
        check(wait(lambda: vip_on() == ["vrrp.66"], 3, 0.1) is not None, "... with its VIP on a new macvlan",
              str(vip_on()))
        check(s.proc.poll() is None, "directord runs on")


if __name__ == "__main__":
    run_main(run, "vmac fault")
