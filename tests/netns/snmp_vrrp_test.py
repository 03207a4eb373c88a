#!/usr/bin/env python3
"""SNMP on a VRRP pair (root, network namespaces, the lab of tests/lib/dlab): each director runs
its own snmpd (AgentX master) and snmptrapd. KEEPALIVED-MIB's vrrpInstanceTable shows MASTER on
one and BACKUP on the other; kill -9 of the master's process group turns the backup's row to
MASTER and it sends vrrpInstanceStateChange (state master, keepalived's varbinds). A client pings
the VIP every 5 ms through the failover (the master dies with its link, as a host does): what it
lost is printed, and SNMP must not slow the
takeover past the master-down interval by more than the machine's noise (2 s bound). Then
The RFC MIBs follow too: vrrpv3OperationsStatus and RFC 2787's vrrpOperState (a second, VRRPv2
instance) on both, vrrpv3NewMaster (reason masterNoResponse) and vrrpTrapNewMaster after the
KEEPALIVED-MIB trap. Then keepalived (-x) takes director 2's place with the same instances, and
the walks of KEEPALIVED-MIB's instance and address tables, VRRP-MIB and VRRPv3-MIB are compared
object by object."""
import os
import re
import signal
import subprocess
import time

from dlab import report
from dlab.netns import lab_for
from dlab.snmp import K, get, start_snmp, walk
from dlab.report import check, sh, wait

VIP = "10.99.0.10"
VIP2 = "10.99.0.20"
R2 = ".1.3.6.1.2.1.68"    # VRRP-MIB (RFC 2787)
R3 = ".1.3.6.1.2.1.207"   # VRRPv3-MIB (RFC 6527)


def conf(lab, i, prio):
    ns = lab.ns[i]
    return f"""global = {{ data_plane = "memory"; pid_file = "{lab.work}/{ns}.pid"; router_id = "{ns}";
  state_dump_file = "{lab.work}/{ns}.json"; control_socket = "{lab.work}/{ns}.sock";
  snmp = {{ agentx_socket = "unix:{lab.work}/{ns}.agentx"; traps = true; }}; script_user = "root"; }};
vrrp_scripts = ( {{ name = "chk"; script = "/bin/true"; interval = 1; timeout = 2; }} );
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 51; priority = {prio};
  version = 3; advert_interval = 0.1; virtual_addresses = ( "{VIP}/24" ); }},
  {{ name = "VI_2"; interface = "eth0"; virtual_router_id = 52; priority = {prio}; version = 2;
  advert_interval = 1; virtual_addresses = ( "{VIP2}/24" ); track_interfaces = ( {{ interface = "lo"; }} );
  track_scripts = ( {{ script = "chk"; }} ); }} );
"""


# The objects both must fill alike: vrrpInstanceTable columns, vrrpAddressTable columns; of the RFC
# MIBs everything but the up times (clocks) and RFC 2787's master address on a master (keepalived
# shows the last master it heard; directord its own, as the RFC says).
COMPARED = [f"{K}.2.3.1.{c}.{i}" for i in (1, 2)
            for c in (2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 19, 20, 21, 27, 28, 29, 30, 33, 34, 35)] + \
           [f"{K}.2.6.1.{c}.{i}.1" for i in (1, 2) for c in (2, 3, 4, 5, 7, 8, 10, 11) if (c, i) != (11, 2)] + \
           [f"{K}.1.{c}.0" for c in (2, 5, 6, 7, 8, 9, 10)] + [f"{K}.2.4.1.{c}.2.1" for c in (1, 2, 3)] + \
           [f"{K}.1.3.{c}.0" for c in (1, 2, 3, 6, 7, 8, 9, 10)] + \
           [f"{K}.2.5.1.{c}.2.1" for c in (2, 3, 4)] + [f"{K}.2.9.1.{c}.1" for c in range(2, 10)]
# Not compared: vrrpAddressAdvertising of the second instance's VIP. keepalived's table walk sets
# "advertised" for the first instance's VIPs only (it is not reset for the next instance), so it
# says 2 where the address is in every advert; directord says 1.


def rfc_compared(ifindex):
    i3 = [f"{ifindex}.51.1", f"{ifindex}.52.1"]
    return ([f"{R2}.1.1.0", f"{R2}.1.2.0", f"{R2}.2.1.0", f"{R2}.2.2.0", f"{R2}.2.3.0"] +
            [f"{R2}.1.3.1.{c}.{ifindex}.52" for c in (2, 3, 4, 5, 6, 8, 9, 11, 12, 14, 15)] +
            [f"{R2}.1.4.1.2.{ifindex}.52.{VIP2}"] +
            [f"{R2}.2.4.1.{c}.{ifindex}.52" for c in range(1, 13)] +
            [f"{R3}.1.2.{c}.0" for c in (1, 2, 3, 4)] +
            [f"{R3}.1.1.1.1.{c}.{i}" for i in i3 for c in (3, 4, 5, 6, 7, 8, 9, 10, 11, 13)] +
            [f"{R3}.1.1.2.1.2.{i3[0]}.{VIP}", f"{R3}.1.1.2.1.2.{i3[1]}.{VIP2}"] +
            [f"{R3}.1.2.5.1.{c}.{i}" for i in i3 for c in range(1, 14)])


def ifindex_of(lab, i):
    return int(sh(f"ip -n {lab.ns[i]} -o link show eth0").stdout.split(":", 1)[0])


def compare_with_keepalived(lab):
    """Director 2 alone, as keepalived then as directord, the same instance: the same objects."""
    ns = lab.ns[2]
    state = f"{K}.2.3.1.4.1"
    lab.kill(2, signal.SIGTERM)
    lab.procs[2].wait(timeout=20)
    kconf = (f"global_defs {{\n  router_id {ns}\n  enable_traps\n  script_user root\n}}\n"
             f"vrrp_script chk {{\n  script \"/bin/true\"\n  interval 1\n  timeout 2\n}}\n"
             f"vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 100\n"
             f"  version 3\n  advert_int 0.1\n  virtual_ipaddress {{\n    {VIP}/24 dev eth0\n  }}\n}}\n"
             f"vrrp_instance VI_2 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 52\n  priority 100\n"
             f"  version 2\n  advert_int 1\n  virtual_ipaddress {{\n    {VIP2}/24 dev eth0\n  }}\n"
             f"  track_interface {{\n    lo\n  }}\n  track_script {{\n    chk\n  }}\n}}\n")
    state2 = f"{K}.2.3.1.4.2"
    sh(f"rm -f {lab.work}/{ns}.k*pid", check=False)
    kpath = f"{lab.work}/{ns}.keepalived.conf"
    with open(kpath, "w") as f:
        f.write(kconf)
    log = open(f"{lab.work}/{ns}.log", "a")
    lab.procs[2] = subprocess.Popen(["ip", "netns", "exec", ns, "keepalived", "-n", "-l", "-D", "-P", "-x", "-A",
                                     f"{lab.work}/{ns}.agentx", "-f", kpath, "-p", f"{lab.work}/{ns}.kpid", "-r",
                                     f"{lab.work}/{ns}.kvpid"], stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
    check(wait(lambda: get(lab, 2, state) == "2" and get(lab, 2, state2) == "2", 20) is not None,
          "keepalived answers over SNMP, master")
    theirs = walk(lab, 2, K) | walk(lab, 2, R2) | walk(lab, 2, R3)
    lab.kill(2, signal.SIGTERM)
    lab.procs[2].wait(timeout=20)
    check(wait(lambda: get(lab, 2, state) is None, 20) is not None, "keepalived's subagent gone")
    lab.start_raw(2, "directord", conf(lab, 2, 100))
    check(wait(lambda: get(lab, 2, state) == "2" and get(lab, 2, state2) == "2", 20) is not None,
          "directord master again")
    ours = walk(lab, 2, K) | walk(lab, 2, R2) | walk(lab, 2, R3)
    compared = COMPARED + rfc_compared(ifindex_of(lab, 2))
    for o in compared:
        check(o in theirs, f"keepalived fills {o}", "")
    same = [o for o in compared if ours.get(o) == theirs.get(o)]
    differ = [f"{o}: ours {ours.get(o)!r}, keepalived {theirs.get(o)!r}" for o in compared if o not in same]
    print(f"  compared with keepalived 2.2.7: {len(same)} of {len(compared)} objects equal "
          f"(KEEPALIVED-MIB {len(COMPARED)}, VRRP-MIB and VRRPv3-MIB {len(compared) - len(COMPARED)})")
    extra = sorted(set(ours) - set(theirs), key=lambda o: [int(x) for x in o.strip(".").split(".")])
    missing = sorted(set(theirs) - set(ours), key=lambda o: [int(x) for x in o.strip(".").split(".")])
    print(f"  objects keepalived serves and directord does not: {len(missing)} {missing}; "
          f"the reverse: {len(extra)} {extra[:12]}")
    check(not differ, "the instance, address and RFC VRRP tables as keepalived fills them", "; ".join(differ))


def traps(lab, i):
    path = f"{lab.work}/{lab.ns[i]}.traps"
    return open(path).read() if os.path.exists(path) else ""


def run(directord):
    with lab_for(directord, "snmp on a VRRP pair") as lab:
        snmp = start_snmp(lab, 1) + start_snmp(lab, 2)
        try:
            state = f"{K}.2.3.1.4.1"
            # director 1 first, and master of both instances before director 2 starts: started
            # together, their master-down timers differ by 20 ms, and when director 2 won that race
            # it was master for a moment, which its transition counter rightly keeps
            lab.start_raw(1, "directord", conf(lab, 1, 150))
            check(wait(lambda: get(lab, 1, state) == "2" and get(lab, 1, f"{K}.2.3.1.4.2") == "2", 20) is not None,
                  "director 1 alone: master of both instances")
            lab.start_raw(2, "directord", conf(lab, 2, 100))
            check(wait(lambda: get(lab, 1, state) == "2" and get(lab, 2, state) == "1", 20) is not None,
                  "director 1 master and director 2 backup in vrrpInstanceState", f"{get(lab, 1, state)} {get(lab, 2, state)}")
            check(get(lab, 1, f"{K}.2.3.1.2.1") == "VI_1", "vrrpInstanceName")
            check(get(lab, 2, f"{K}.2.3.1.7.1") == "100", "vrrpInstanceBasePriority on the backup")
            check(get(lab, 1, f"{K}.2.3.1.9.1") == "1" and get(lab, 2, f"{K}.2.3.1.9.1") == "2",
                  "vrrpInstanceVipsStatus: all set on the master only")
            check(get(lab, 2, f"{K}.1.2.0") == lab.ns[2], "routerId")
            ix1, ix2 = ifindex_of(lab, 1), ifindex_of(lab, 2)
            check(get(lab, 1, f"{R3}.1.1.1.1.6.{ix1}.51.1") == "3" and get(lab, 2, f"{R3}.1.1.1.1.6.{ix2}.51.1") == "2",
                  "vrrpv3OperationsStatus: master on director 1, backup on director 2")
            check(wait(lambda: get(lab, 1, f"{R2}.1.3.1.3.{ix1}.52") == "3" and
                       get(lab, 2, f"{R2}.1.3.1.3.{ix2}.52") == "2", 20) is not None,
                  "vrrpOperState (RFC 2787, the v2 instance): master on director 1, backup on director 2")
            # the backup hears both VRIDs' adverts on one link: each instance's are not the other's
            # errors (RFC 2787 counts VRIDs configured on no virtual router of this router; so does
            # keepalived): 2 s of adverts, 0.1 s and 1 s apart
            time.sleep(2)
            errs = (get(lab, 2, f"{R2}.2.3.0"), get(lab, 2, f"{R3}.1.2.3.0"))
            check(errs == ("0", "0"), "on the backup, vrrpRouterVrIdErrors and vrrpv3RouterVrIdErrors stay 0 "
                  "(the sibling instance's adverts are not errors)", str(errs))
            master_trap = f"{K}.2.10.0.2"
            check(wait(lambda: master_trap in traps(lab, 1) and f'{K}.2.3.1.4 = INTEGER: 2' in traps(lab, 1), 10)
                  is not None, "director 1 sent vrrpInstanceStateChange (master)", traps(lab, 1))
            # a client pings the VIP every 5 ms through the failover
            pinger = subprocess.Popen(["ip", "netns", "exec", lab.cl, "ping", "-n", "-i", "0.005", "-W", "0.05",
                                       "-w", "4", VIP], stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            # the master dies as a host does: its process and its link (else its kernel keeps answering for the VIP)
            lab.kill(1, signal.SIGKILL)
            sh(f"ip -n {lab.ns[1]} link set eth0 down")
            took = wait(lambda: get(lab, 2, state) == "2", 10)
            check(took is not None, "director 2's vrrpInstanceState turns master after kill -9 of director 1")
            out = pinger.communicate(timeout=20)[0]
            m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
            if m:
                sent, got = int(m.group(1)), int(m.group(2))
                print(f"  client pinging every 5 ms: {sent - got} of {sent} lost during the failover "
                      f"(~{(sent - got) * 5} ms; master down interval 0.3 s + skew)")
                check(sent - got < 400, "the takeover with SNMP on stays within 2 s of client loss")
            check(wait(lambda: traps(lab, 2).count(master_trap) >= 1 and
                       re.search(rf"{K}\.2\.3\.1\.2 = STRING: \"VI_1\"\t{K}\.2\.3\.1\.4 = INTEGER: 2\t"
                                 rf"{K}\.2\.3\.1\.5 = INTEGER: 1\t{K}\.1\.2\.0 = STRING: \"{lab.ns[2]}\"",
                                 traps(lab, 2)), 10) is not None,
                  "director 2 sent vrrpInstanceStateChange with keepalived's varbinds", traps(lab, 2))
            # RFC 6527's and RFC 2787's new-master notifications, after KEEPALIVED-MIB's, as keepalived
            # sends them: the v3 one with masterNoResponse (3: the master fell silent)
            v3_new = (rf"{R3}\.0\.1\t{R3}\.1\.1\.1\.1\.3\.{ix2}\.51\.1 = Hex-STRING: [0-9A-F ]+\t"
                      rf"{R3}\.1\.2\.5\.1\.2\.{ix2}\.51\.1 = INTEGER: 3")
            v2_new = rf"{R2}\.0\.1\t{R2}\.1\.3\.1\.7\.{ix2}\.52 = IpAddress: [0-9.]+"
            check(wait(lambda: re.search(v3_new, traps(lab, 2)) and re.search(v2_new, traps(lab, 2)), 15) is not None,
                  "director 2 sent vrrpv3NewMaster (reason masterNoResponse) and vrrpTrapNewMaster", traps(lab, 2))
            t2 = traps(lab, 2)
            first_state = t2.find(f"{K}.2.3.1.2 = STRING: \"VI_1\"\t{K}.2.3.1.4 = INTEGER: 2")
            check(0 <= first_state < t2.find(f"{R3}.0.1"), "vrrpInstanceStateChange before vrrpv3NewMaster")
            check(wait(lambda: get(lab, 2, f"{R3}.1.2.5.1.1.{ix2}.51.1") == "1" and
                       get(lab, 2, f"{R3}.1.2.5.1.2.{ix2}.51.1") == "3", 5) is not None,
                  "vrrpv3StatisticsMasterTransitions 1 and NewMasterReason masterNoResponse on director 2")
            if took is not None:
                print(f"  vrrpInstanceState on director 2 read master {took:.2f} s after the kill "
                      f"(the snapshot follows a transition within 1 s)")
                check(took < 3, "the snapshot follows the takeover within a second (3 s bound: 0.3 s master "
                      "down interval, 1 s, the machine's noise)", f"{took:.2f} s")
            compare_with_keepalived(lab)
        finally:
            for p in snmp:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    p.wait(timeout=10)


if __name__ == "__main__":
    report.run_main(run, "snmp vrrp")
