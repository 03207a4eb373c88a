"""SNMP in the netns lab: snmpd (AgentX master) and snmptrapd in a director's namespace, and the
reads the tests compare (numeric OIDs, no MIB files needed)."""
import os
import re
import subprocess

from dlab.report import check, sh, wait

K = ".1.3.6.1.4.1.9586.100.5"  # KEEPALIVED-MIB
ENV = dict(os.environ, MIBS="")


def start_snmp(lab, i):
    ns, work = lab.ns[i], lab.work
    with open(f"{work}/{ns}.snmpd.conf", "w") as f:
        f.write(f"master agentx\nagentXSocket unix:{work}/{ns}.agentx\nrocommunity public 127.0.0.1\n"
                f"trap2sink 127.0.0.1:1162 public\n")
    with open(f"{work}/{ns}.trapd.conf", "w") as f:
        f.write("disableAuthorization yes\n")
    env = dict(ENV, SNMP_PERSISTENT_DIR=f"{work}/{ns}.persist")
    procs = [subprocess.Popen(["ip", "netns", "exec", ns, "snmptrapd", "-f", "-C", "-c", f"{work}/{ns}.trapd.conf",
                               "-On", "-F", "TRAP %v\n", "-Lf", f"{work}/{ns}.traps", "udp:127.0.0.1:1162"], env=env),
             subprocess.Popen(["ip", "netns", "exec", ns, "snmpd", "-f", "-C", "-c", f"{work}/{ns}.snmpd.conf", "-Lf",
                               f"{work}/{ns}.snmpd.log", "udp:127.0.0.1:161"], env=env)]
    check(wait(lambda: os.path.exists(f"{work}/{ns}.agentx"), 10) is not None, f"snmpd {i}: AgentX socket")
    return procs


def get(lab, i, oid):
    out = sh(f"ip netns exec {lab.ns[i]} snmpget -v2c -c public -On -t 1 -r 0 udp:127.0.0.1:161 {oid}",
             check=False).stdout
    m = re.search(r"= (?:INTEGER|STRING|Counter32|Counter64|Gauge32): \"?([^\"\n]*)", out)
    return m.group(1) if m else None


def walk(lab, i, oid):
    out = sh(f"ip netns exec {lab.ns[i]} snmpwalk -v2c -c public -On -t 1 -r 1 udp:127.0.0.1:161 {oid}",
             check=False).stdout
    return dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)
