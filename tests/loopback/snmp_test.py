#!/usr/bin/env python3
"""SNMP end to end: snmpd (started here, AgentX master on a unix socket, SNMP on a loopback port)
and snmptrapd receive directord's subagent. Walks of KEEPALIVED-MIB follow health (a real server
that stops is dead, the up count and quorum change, it comes back), traps arrive in order for each
transition with keepalived's varbinds, and after snmpd restarts the subagent reconnects by itself.
Numeric OIDs only (Debian ships no IETF MIBs)."""
import os
import re
import signal
import socket
import subprocess
import unittest

from dlab import daemon
from dlab.daemon import Backend, wait_for

K = ".1.3.6.1.4.1.9586.100.5"

CONFIG = """
global = {{ data_plane = "memory"; pid_file = "{dir}/directord.pid"; state_dump_file = "{dir}/state.json";
           control_socket = "{dir}/ctl.sock"; router_id = "lb-snmp-test"; log_level = "info";
           snmp = {{ agentx_socket = "unix:{dir}/agentx"; traps = true; mibs = [ "keepalived" ]; }}; }};
virtual_servers = (
  {{ address = "127.0.10.1"; port = 80; scheduler = "wrr"; delay_loop = 0.3; connect_timeout = 1.0; retry = 0;
     quorum = 4;
     real_servers = (
       {{ address = "127.0.0.1"; port = {a}; weight = 2; checks = ( {{ type = "tcp"; }} ); }},
       {{ address = "127.0.0.1"; port = {b}; weight = 3; checks = ( {{ type = "tcp"; }} ); }}
     ); }},
  {{ fwmark = 7; scheduler = "rr"; real_servers = ( {{ address = "127.0.0.2"; port = 80; }} ); }}
);
"""


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_value(text):
    """'STRING: "x"' -> b'x'; 'Hex-STRING: 7F 00' -> bytes; 'INTEGER: 2' / 'Gauge32: 2' -> 2."""
    kind, _, v = text.partition(": ")
    if kind == "STRING":
        return v.strip('"').encode()
    if kind == "Hex-STRING":
        return bytes.fromhex(v.replace(" ", ""))
    if kind == "OID":
        return v
    m = re.match(r"-?\d+", v)
    return int(m.group(0)) if m else v


class Snmpd:
    def __init__(self, test, d):
        self.dir = d.dir
        self.port = free_udp_port()
        self.trap_port = free_udp_port()
        self.traps = os.path.join(self.dir, "traps.log")
        with open(os.path.join(self.dir, "snmpd.conf"), "w") as f:
            f.write(f"master agentx\nagentXSocket unix:{self.dir}/agentx\nagentXPerms 0600 0700\n"
                    f"rocommunity public 127.0.0.1\ntrap2sink 127.0.0.1:{self.trap_port} public\n")
        with open(os.path.join(self.dir, "snmptrapd.conf"), "w") as f:
            f.write("disableAuthorization yes\n")
        self.env = dict(os.environ, MIBS="", SNMP_PERSISTENT_DIR=os.path.join(self.dir, "persist"))
        self.trapd = subprocess.Popen(
            ["snmptrapd", "-f", "-C", "-c", os.path.join(self.dir, "snmptrapd.conf"), "-On", "-F", "TRAP %v\n",
             "-Lf", self.traps,
             f"udp:127.0.0.1:{self.trap_port}"], env=self.env)
        test.addCleanup(self.kill_trapd)
        self.proc = None
        self.start()
        test.addCleanup(self.stop)

    def start(self):
        self.proc = subprocess.Popen(["snmpd", "-f", "-C", "-c", os.path.join(self.dir, "snmpd.conf"), "-Lf",
                                      os.path.join(self.dir, "snmpd.log"), f"udp:127.0.0.1:{self.port}"],
                                     env=self.env)
        wait_for(lambda: os.path.exists(f"{self.dir}/agentx"), "snmpd's AgentX socket")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)

    def kill_trapd(self):
        if self.trapd.poll() is None:
            self.trapd.send_signal(signal.SIGTERM)
            self.trapd.wait(timeout=20)

    def walk(self, oid=K):
        r = subprocess.run(["snmpwalk", "-v2c", "-c", "public", "-On", "-t", "2", "-r", "1",
                            f"udp:127.0.0.1:{self.port}", oid], capture_output=True, text=True, env=self.env)
        out = {}
        for line in r.stdout.splitlines():
            name, sep, value = line.partition(" = ")
            if sep:
                out[name] = parse_value(value)
        return out

    def trap_list(self):
        """Each trap as [(oid, value)...] after sysUpTime and snmpTrapOID, with its trap OID first."""
        if not os.path.exists(self.traps):
            return []
        traps = []
        with open(self.traps) as f:
            for line in f:
                if not line.startswith("TRAP "):
                    continue
                binds = []
                for vb in line[5:].rstrip("\n").split("\t"):
                    name, sep, value = vb.partition(" = ")
                    if sep:
                        binds.append((name.strip(), parse_value(value.strip())))
                trap_oid = next((v for n, v in binds if n == ".1.3.6.1.6.3.1.1.4.1.0"), None)
                rest = [(n, v) for n, v in binds if n not in (".1.3.6.1.2.1.1.3.0", ".1.3.6.1.6.3.1.1.4.1.0")]
                if trap_oid and trap_oid.startswith(K):  # not snmpd's own coldStart and the like
                    traps.append((trap_oid, rest))
        return traps


class SnmpTest(unittest.TestCase):
    def test_walks_traps_and_reconnect(self):
        a, b = Backend(), Backend()
        self.addCleanup(b.stop)
        d = daemon.Daemon(self)
        d.write(text=CONFIG.format(dir=d.dir, a=a.port, b=b.port))
        snmpd = Snmpd(self, d)
        d.start()
        vs = f"{K}.3.3.1"
        rs = f"{K}.3.4.1"
        # a walk is many requests: it may span two snapshots, so each wait asks for a whole consistent one
        walk = wait_for(lambda: (w := snmpd.walk()).get(f"{vs}.21.1") == 2 and w.get(f"{rs}.6.1.1") == 1 and
                        w.get(f"{rs}.6.1.2") == 1 and w, "a walk with both servers up")
        self.assertEqual(walk[f"{K}.1.2.0"], b"lb-snmp-test")
        self.assertTrue(walk[f"{K}.1.1.0"].startswith(b"directord "))
        self.assertEqual(walk[f"{vs}.2.1"], 2)                 # ip
        self.assertEqual(walk[f"{vs}.6.1"], bytes([127, 0, 10, 1]))
        self.assertEqual(walk[f"{vs}.7.1"], 80)
        self.assertEqual(walk[f"{vs}.9.1"], 2)                 # wrr
        self.assertEqual(walk[f"{vs}.20.1"], 2)
        self.assertEqual(walk[f"{vs}.23.1"], 1)                # quorum met
        self.assertEqual(walk[f"{vs}.2.2"], 1)                 # fwmark
        self.assertEqual(walk[f"{vs}.4.2"], 7)
        self.assertNotIn(f"{vs}.6.2", walk)                    # a fwmark service has no address
        self.assertEqual(walk[f"{rs}.5.1.1"], a.port)
        self.assertEqual(walk[f"{rs}.6.1.1"], 1)               # alive
        self.assertEqual(walk[f"{rs}.7.1.1"], 2)
        self.assertEqual(walk[f"{rs}.7.1.2"], 3)
        self.assertEqual(walk[f"{rs}.4.2.1"], bytes([127, 0, 0, 2]))
        # the walk is in order and ends where the MIB does
        names = [tuple(int(x) for x in n.strip(".").split(".")) for n in walk]
        self.assertEqual(names, sorted(names))
        got = subprocess.run(["snmpget", "-v2c", "-c", "public", "-On", f"udp:127.0.0.1:{snmpd.port}",
                              f"{K}.1.2.0", f"{K}.1.99.0"], capture_output=True, text=True, env=snmpd.env).stdout
        self.assertIn('STRING: "lb-snmp-test"', got)
        self.assertIn("No Such", got)

        a.stop()
        walk = wait_for(lambda: (w := snmpd.walk()).get(f"{rs}.6.1.1") == 2 and w.get(f"{vs}.21.1") == 1 and
                        w.get(f"{vs}.23.1") == 2 and w, "the stopped server dead, one up, quorum lost")
        self.assertEqual(walk[f"{vs}.21.1"], 1)
        self.assertEqual(walk[f"{vs}.23.1"], 2)                # live weight 3 < quorum 4
        self.assertEqual(walk[f"{rs}.13.1.1"], 1)
        traps = wait_for(lambda: len(t := snmpd.trap_list()) >= 2 and t, "a real server trap and a quorum trap")
        self.assertEqual(traps[0][0], f"{K}.3.5.0.1")
        self.assertEqual([n for n, _ in traps[0][1]],
                         [f"{rs}.3", f"{rs}.4", f"{rs}.5", f"{rs}.6", f"{vs}.2", f"{vs}.5", f"{vs}.6", f"{vs}.7",
                          f"{vs}.8", f"{vs}.21", f"{vs}.20", f"{K}.1.2.0"])
        binds = dict(traps[0][1])
        self.assertEqual(binds[f"{rs}.5"], a.port)
        self.assertEqual(binds[f"{rs}.6"], 2)
        self.assertEqual(binds[f"{vs}.21"], 1)
        self.assertEqual(traps[1][0], f"{K}.3.5.0.2")
        self.assertEqual(dict(traps[1][1])[f"{vs}.23"], 2)

        a.start()
        wait_for(lambda: (w := snmpd.walk()).get(f"{rs}.6.1.1") == 1 and w.get(f"{vs}.21.1") == 2, "the server alive again")
        traps = wait_for(lambda: len(t := snmpd.trap_list()) >= 4 and t, "the traps of the recovery")
        self.assertEqual([t[0] for t in traps[2:4]], [f"{K}.3.5.0.1", f"{K}.3.5.0.2"])
        self.assertEqual(dict(traps[2][1])[f"{rs}.6"], 1)
        self.assertEqual(dict(traps[3][1])[f"{vs}.23"], 1)

        # snmpd restarts: the subagent notices, says so once, and comes back on its own
        snmpd.stop()
        wait_for(lambda: "snmp: no AgentX master" in d.log(), "the subagent to notice snmpd left")
        snmpd.start()
        wait_for(lambda: snmpd.walk().get(f"{K}.1.2.0") == b"lb-snmp-test", "the subagent to reconnect", 40)
        self.assertEqual(d.log().count("snmp: AgentX subagent connected"), 2)
        self.assertEqual(d.log().count("snmp: no AgentX master"), 1)
        a.stop()
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    daemon.main()
