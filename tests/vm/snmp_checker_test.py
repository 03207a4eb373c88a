#!/usr/bin/env python3
"""Inside the IPVS VM: KEEPALIVED-MIB's checker side (virtualServerTable, realServerTable,
lvsSyncDaemon, lvsTimeouts, the global daemon options) of keepalived 2.2.7 and of directord on the
kernel plane, with the same virtual servers, the same
real servers (one answering its TCP check, one refusing it) and the same checks, walked through
snmpd (AgentX master) and compared object by object. Then the lab state changes under directord
(the dead real server comes up) and the walk follows: realServerStatus, virtualServerRealServersUp,
the applied weight in the kernel table, and a realServerStateChange trap with keepalived's
varbinds."""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile

from dlab.report import check, failures, wait

K = ".1.3.6.1.4.1.9586.100.5"
WORK = tempfile.mkdtemp(prefix="snmp-vm-")
ENV = dict(os.environ, MIBS="", SNMP_PERSISTENT_DIR=f"{WORK}/persist")
VIP = "10.99.7.10"
UP_PORT, DOWN_PORT = 8081, 8082


def sh(cmd, check_rc=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.stderr.strip()}")
    return r


def walk(oid):
    out = sh(f"snmpwalk -v2c -c public -On -t 1 -r 1 udp:127.0.0.1:161 {oid}", check_rc=False).stdout
    return dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line and " = No Such" not in line)


def listener(port):
    return subprocess.Popen([sys.executable, "-c", "import socket,sys\ns=socket.socket()\n"
                             "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                             f"s.bind(('127.0.0.1', {port})); s.listen(64)\n"
                             "while True: s.accept()[0].close()\n"])


KEEPALIVED_CONF = f"""global_defs {{
  router_id lab
  enable_traps
  lvs_timeouts tcp 900 tcpfin 120 udp 300
}}
virtual_server {VIP} 80 {{
  delay_loop 1
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  quorum 1
  real_server 127.0.0.1 {UP_PORT} {{
    weight 3
    TCP_CHECK {{
      connect_timeout 1
    }}
  }}
  real_server 127.0.0.1 {DOWN_PORT} {{
    weight 2
    TCP_CHECK {{
      connect_timeout 1
    }}
  }}
}}
virtual_server fwmark 7 {{
  delay_loop 1
  lb_algo rr
  lb_kind DR
  persistence_timeout 300
  real_server 127.0.0.1 {UP_PORT} {{
    weight 1
    TCP_CHECK {{
      connect_timeout 1
    }}
  }}
}}
"""

CHECK = '{ type = "tcp"; connect_timeout = 1; }'
DIRECTORD_CONF = f"""global = {{ router_id = "lab"; data_plane = "kernel"; pid_file = "{WORK}/d.pid";
  ipvs_timeouts = {{ tcp = 900; tcpfin = 120; udp = 300; }};
  control_socket = "{WORK}/d.sock"; state_dump_file = "{WORK}/d.json";
  snmp = {{ agentx_socket = "unix:{WORK}/agentx"; traps = true; }}; }};
virtual_servers = (
  {{ address = "{VIP}"; port = 80; protocol = "tcp"; scheduler = "wrr"; forwarding = "nat"; quorum = 1;
     delay_loop = 1;
     real_servers = ( {{ address = "127.0.0.1"; port = {UP_PORT}; weight = 3; checks = ( {CHECK} ); }},
                      {{ address = "127.0.0.1"; port = {DOWN_PORT}; weight = 2; checks = ( {CHECK} ); }} ); }},
  {{ fwmark = 7; scheduler = "rr"; forwarding = "dr"; persistence_timeout = 300; delay_loop = 1;
     real_servers = ( {{ address = "127.0.0.1"; port = {UP_PORT}; weight = 1; checks = ( {CHECK} ); }} ); }}
);
"""

# Counters and rates move with time and traffic; everything else is compared, but for these,
# where directord says what is in force and keepalived what was configured:
SKIPPED_COLUMNS = {("3.3.1", c) for c in range(27, 51)} | {("3.4.1", c) for c in range(14, 40)}
EXCUSED = {
    (f"{K}.3.3.1.57.", "virtualServerRetry: directord the default in force (1), keepalived 0 when unset"),
    (f"{K}.3.3.1.58.", "virtualServerDelayBeforeRetry: the same (1 s against 0)"),
    (f"{K}.3.3.1.65.", "virtualServerDelayBeforeRetryUsec: the same"),
    (f"{K}.3.3.1.51.2", "virtualServerPersistGranularity6 of an IPv4 fwmark service: keepalived 2^32-1 "
     "(its fwmark services have no family)"),
    (f"{K}.3.4.1.5.2.1", "realServerPort of a fwmark DR real server: keepalived 0 (it zeroes a port IPVS "
     "ignores), directord the configured one, as in its table"),
}


def excused(oid):
    return next((why for prefix, why in EXCUSED if oid.startswith(prefix)), None)


def compared(oid):
    if re.match(rf"{re.escape(K)}\.(3\.[67]\.\d+\.0|1\.([2-9]|10)\.0)$", oid):
        return True  # lvsSyncDaemon, lvsTimeouts; router id, traps and the daemon options (not the
        # version, nor lvsFlushOnStop, whose defaults differ: keepalived leaves the table, directord
        # removes what it created)
    m = re.match(rf"{re.escape(K)}\.(3\.[34]\.1)\.(\d+)\.", oid)
    return bool(m) and (m.group(1), int(m.group(2))) not in SKIPPED_COLUMNS and not excused(oid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    args = ap.parse_args()
    sh("ip link set lo up")
    with open(f"{WORK}/snmpd.conf", "w") as f:
        f.write(f"master agentx\nagentXSocket unix:{WORK}/agentx\nrocommunity public 127.0.0.1\n"
                f"trap2sink 127.0.0.1:1162 public\n")
    with open(f"{WORK}/trapd.conf", "w") as f:
        f.write("disableAuthorization yes\n")
    procs = [subprocess.Popen(["snmptrapd", "-f", "-C", "-c", f"{WORK}/trapd.conf", "-On", "-F", "TRAP %v\n",
                               "-Lf", f"{WORK}/traps", "udp:127.0.0.1:1162"], env=ENV),
             subprocess.Popen(["snmpd", "-f", "-C", "-c", f"{WORK}/snmpd.conf", "-Lf", f"{WORK}/snmpd.log",
                               "udp:127.0.0.1:161"], env=ENV),
             listener(UP_PORT)]
    daemon = None
    try:
        check(wait(lambda: os.path.exists(f"{WORK}/agentx"), 20) is not None, "snmpd's AgentX socket")
        status = f"{K}.3.4.1.6"
        both = lambda w: w.get(f"{status}.1.1") == "INTEGER: 1" and w.get(f"{status}.1.2") == "INTEGER: 2"
        # keepalived: the checker only (-C), SNMP on (-x)
        with open(f"{WORK}/keepalived.conf", "w") as f:
            f.write(KEEPALIVED_CONF)
        log = open(f"{WORK}/keepalived.log", "w")
        daemon = subprocess.Popen(["keepalived", "-n", "-l", "-D", "-C", "-x", "-A", f"{WORK}/agentx", "-f",
                                   f"{WORK}/keepalived.conf", "-p", f"{WORK}/k.pid", "-c", f"{WORK}/kc.pid"],
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        check(wait(lambda: both(walk(f"{K}.3.4.1.6")), 30) is not None, "keepalived: one real server up, one down")
        theirs = walk(f"{K}.3") | walk(f"{K}.1")
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        sh("ipvsadm -C")
        check(wait(lambda: not walk(f"{K}.3"), 20) is not None, "keepalived's subagent gone")
        with open(f"{WORK}/d.conf", "w") as f:
            f.write(DIRECTORD_CONF)
        log = open(f"{WORK}/directord.log", "w")
        daemon = subprocess.Popen([args.directord, "-f", f"{WORK}/d.conf"], stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        check(wait(lambda: both(walk(f"{K}.3.4.1.6")), 30) is not None, "directord: one real server up, one down")
        ours = walk(f"{K}.3") | walk(f"{K}.1")
        both_fill = sorted(o for o in theirs if compared(o) and o in ours)
        differ = [f"{o}: ours {ours[o]!r}, keepalived {theirs[o]!r}" for o in both_fill if ours[o] != theirs[o]]
        table = lambda o: re.match(rf"{re.escape(K)}\.3\.([34]\.1\.|[67]\.)", o) and not excused(o)
        only_theirs = sorted(o for o in theirs if table(o) and o not in ours)
        only_ours = sorted(o for o in ours if table(o) and o not in theirs)
        print(f"  KEEPALIVED-MIB's checker side (tables, sync daemon, timeouts, globals) against keepalived 2.2.7: "
              f"{len(both_fill) - len(differ)} of {len(both_fill)} objects equal; keepalived only: {only_theirs}; "
              f"directord only: {only_ours}")
        for why in sorted({excused(o) for o in theirs if excused(o)}):
            print(f"  not compared: {why}")
        check(len(both_fill) >= 100, "most objects compared", str(len(both_fill)))
        check(not differ, "the checker tables as keepalived fills them", "; ".join(differ))
        check(not only_theirs, "every object keepalived fills, directord fills", " ".join(only_theirs))

        # the lab changes under directord: the dead real server comes up
        procs.append(listener(DOWN_PORT))
        check(wait(lambda: walk(f"{status}.1.2").get(f"{status}.1.2") == "INTEGER: 1", 15) is not None,
              "realServerStatus follows the real server coming up")
        check(walk(f"{K}.3.3.1.21.1").get(f"{K}.3.3.1.21.1") == "Gauge32: 2"
              or walk(f"{K}.3.3.1.21.1").get(f"{K}.3.3.1.21.1") == "Gauge32: 2",
              "virtualServerRealServersUp 2", str(walk(f"{K}.3.3.1.21.1")))
        ipvs = sh("ipvsadm -Ln").stdout
        check(re.search(rf"127\.0\.0\.1:{DOWN_PORT}\s+\S+\s+2\s", ipvs) is not None,
              "the kernel table has it at its weight", ipvs)
        traps = lambda: open(f"{WORK}/traps").read() if os.path.exists(f"{WORK}/traps") else ""
        pattern = (rf"{K}\.3\.5\.0\.1\t{K}\.3\.4\.1\.3 = INTEGER: 1\t{K}\.3\.4\.1\.4 = Hex-STRING: 7F 00 00 01 \t"
                   rf"{K}\.3\.4\.1\.5 = Gauge32: {DOWN_PORT}\t{K}\.3\.4\.1\.6 = INTEGER: 1\t{K}\.3\.3\.1\.2 = INTEGER: 2\t"
                   rf"{K}\.3\.3\.1\.5 = INTEGER: 1\t{K}\.3\.3\.1\.6 = Hex-STRING: 0A 63 07 0A \t"
                   rf"{K}\.3\.3\.1\.7 = Gauge32: 80\t{K}\.3\.3\.1\.8 = INTEGER: 1\t{K}\.3\.3\.1\.21 = Gauge32: 2\t"
                   rf"{K}\.3\.3\.1\.20 = Gauge32: 2\t{K}\.1\.2\.0 = STRING: \"lab\"")
        check(wait(lambda: re.search(pattern, traps()), 10) is not None,
              "realServerStateChange (up) with keepalived's varbinds", traps())
    finally:
        if daemon and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
        for p in procs:
            p.kill()
            p.wait()
        for name in ("keepalived.log", "directord.log"):
            if failures and os.path.exists(f"{WORK}/{name}"):
                print(f"--- {name}\n" + open(f"{WORK}/{name}").read()[-3000:])
    print(f"\n{len(failures)} failure(s)" + (": " + "; ".join(failures) if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
