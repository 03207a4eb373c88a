#!/usr/bin/env python3
"""Scale-out through BIRD (root, network namespaces; Debian's bird2): a router running BIRD with
BGP multipath and two directors, each running BIRD (kernel protocol learning table 100, BGP to the
router) and directord (userspace plane, global.announce). The router's ECMP route to the VIP
follows what directord decides: both directors while both serve; one when a director's real server
fails (its quorum is lost), is withdrawn (directorctl withdraw), loses its lvs worker (withdrawn until
the restarted one announces again: visible at the router when the worker dies twice and restarts
after its back-off), stops; and after the whole daemon is killed, `directord
--withdraw` (the unit's ExecStopPost) takes the route back. Each change is timed, from the event to
the router's kernel route."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

from dlab import report
from dlab.report import check, sh, wait

VIP = "10.96.9.100"
SERVER = "import socket,threading\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n" \
         "s.bind(('127.0.0.1',8080));s.listen(64)\nwhile True:\n c,_=s.accept();c.close()"


class Lab:
    def __init__(self, directord):
        tag = uuid.uuid4().hex[:5]
        self.directord = directord
        self.lan, self.r = f"al{tag}", f"ar{tag}"
        self.d = {1: f"a1{tag}", 2: f"a2{tag}"}
        self.work = tempfile.mkdtemp(prefix="announce-")
        self.procs = []
        self.daemons = {}
        self.servers = {}
        sh(f"ip netns add {self.lan} && ip -n {self.lan} link add br0 type bridge && ip -n {self.lan} link set br0 up")
        for ns, addr in [(self.r, "10.96.0.1"), (self.d[1], "10.96.0.11"), (self.d[2], "10.96.0.12")]:
            sh(f"ip netns add {ns} && ip -n {ns} link set lo up")
            sh(f"ip -n {self.lan} link add v{ns} type veth peer name eth0 netns {ns}")
            sh(f"ip -n {self.lan} link set v{ns} master br0 up")
            sh(f"ip -n {ns} addr add {addr}/24 dev eth0 && ip -n {ns} link set eth0 up")

    def bird(self, ns, conf):
        path = os.path.join(self.work, f"{ns}.bird")
        with open(path, "w") as f:
            f.write(conf)
        p = subprocess.Popen(["ip", "netns", "exec", ns, "bird", "-f", "-c", path, "-s",
                              os.path.join(self.work, f"{ns}.ctl")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.procs.append(p)

    def serve(self, i):
        self.servers[i] = subprocess.Popen(["ip", "netns", "exec", self.d[i], sys.executable, "-c", SERVER])

    def conf(self, i):
        ns = self.d[i]
        return f"""global = {{ data_plane = "userspace"; pid_file = "{self.work}/{ns}.pid";
  control_socket = "{self.work}/{ns}.sock"; state_dump_file = "{self.work}/{ns}.json"; resync_interval = 1;
  announce = {{ table = 100; }}; }};
virtual_servers = ( {{ address = "{VIP}"; port = 80; scheduler = "rr"; delay_loop = 0.2; connect_timeout = 0.5;
  retry = 0; real_servers = ( {{ address = "127.0.0.1"; port = 8080; checks = ( {{ type = "tcp"; }} ); }} ); }} );
"""

    def start(self, i):
        ns = self.d[i]
        path = os.path.join(self.work, f"{ns}.conf")
        with open(path, "w") as f:
            f.write(self.conf(i))
        log = open(os.path.join(self.work, f"{ns}.log"), "a")
        self.daemons[i] = subprocess.Popen(["ip", "netns", "exec", ns, self.directord, "-f", path], stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        return path

    def ctl(self, i, *args):
        tool = os.path.join(os.path.dirname(self.directord), "directorctl")
        return sh(f"ip netns exec {self.d[i]} {tool} -s {self.work}/{self.d[i]}.sock " + " ".join(args), check=False)

    def nexthops(self):
        out = sh(f"ip -n {self.r} route show {VIP}", check=False).stdout
        return {n for n, a in (("d1", "10.96.0.11"), ("d2", "10.96.0.12")) if f"via {a} " in out}

    def close(self):
        for p in self.procs + list(self.servers.values()):
            if p.poll() is None:
                p.kill()
                p.wait()
        for p in self.daemons.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for ns in (self.r, *self.d.values(), self.lan):
            sh(f"ip netns del {ns}", check=False)
        shutil.rmtree(self.work, True)

    def logs(self):
        return "".join(open(os.path.join(self.work, f"{ns}.log")).read()[-2000:]
                       for ns in self.d.values() if os.path.exists(os.path.join(self.work, f"{ns}.log")))


ROUTER = """router id 10.96.0.1;
protocol device {}
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
template bgp director { local 10.96.0.1 as 65000; hold time 3; keepalive time 1; connect retry time 1;
  ipv4 { import all; export none; }; }
protocol bgp d1 from director { neighbor 10.96.0.11 as 65100; }
protocol bgp d2 from director { neighbor 10.96.0.12 as 65100; }
"""


def director_bird(i):
    return f"""router id 10.96.0.1{i};
protocol device {{}}
protocol kernel directord {{ ipv4 {{ import all; export none; }}; kernel table 100; learn; scan time 10; }}
protocol bgp uplink {{ local 10.96.0.1{i} as 65100; neighbor 10.96.0.1 as 65000; hold time 3; keepalive time 1;
  connect retry time 1; ipv4 {{ import none; export where proto = "directord"; }}; }}
"""


def timed(lab, want, what, timeout=15):
    """Waits for the router's route to go through `want` directors; prints and checks how long."""
    took = wait(lambda: lab.nexthops() == want, timeout, 0.02)
    check(took is not None, what, f"{took:.2f} s" if took is not None else f"never: {lab.nexthops()}")
    return took


def run(directord):
    if not shutil.which("bird"):
        check(False, "bird is installed (tools/setup-debian.sh installs bird2)")
        return
    lab = Lab(directord)
    try:
        lab.bird(lab.r, ROUTER)
        for i in (1, 2):
            lab.bird(lab.d[i], director_bird(i))
            lab.serve(i)
        time.sleep(0.5)
        conf1 = lab.start(1)
        lab.start(2)
        timed(lab, {"d1", "d2"}, "both directors announce the VIP: the router has two next hops")
        st = json.loads(lab.ctl(1, "status", "--json").stdout or "{}")
        vips = st.get("announce", {}).get("vips", [])
        check(vips == [{"vip": VIP, "announced": True, "why": "announced"}], "directorctl status says why", str(vips))
        check("announced in routing table 100" in lab.ctl(1, "status").stdout, "and its table says so")

        # quorum: d1's only real server fails
        lab.servers[1].kill()
        lab.servers[1].wait()
        timed(lab, {"d2"}, "d1's real server fails: d1's quorum is lost, its route withdrawn")
        why = json.loads(lab.ctl(1, "status", "--json").stdout)["announce"]["vips"][0]["why"]
        check(why.startswith("quorum lost on 10.96.9.100:80/tcp"), "the reason shows", why)
        lab.serve(1)
        timed(lab, {"d1", "d2"}, "it comes back: announced again")

        # withdraw
        r = lab.ctl(2, "withdraw")
        check(r.returncode == 0 and "withdrawn" in r.stdout, "directorctl withdraw", r.stdout + r.stderr)
        timed(lab, {"d1"}, "d2 withdrawn by the operator: withdrawn")
        lab.ctl(2, "rejoin")
        timed(lab, {"d1", "d2"}, "d2 rejoins: announced again")

        # the lvs worker dies: withdrawn at once (ip monitor sees it in d1's table), back when its
        # successor decides; a worker that dies again restarts after a back-off, and meanwhile the
        # router sends d1 nothing new
        mon = subprocess.Popen(["ip", "-n", lab.d[1], "monitor", "route"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.2)
        lvs = json.loads(lab.ctl(1, "status", "--json").stdout)["pid"]
        os.kill(lvs, signal.SIGKILL)
        pid2 = wait(lambda: (json.loads(lab.ctl(1, "status", "--json").stdout or "{}").get("pid", lvs) != lvs), 10)
        check(pid2 is not None, "kill -9 of d1's lvs worker: a new one starts")
        lvs2 = json.loads(lab.ctl(1, "status", "--json").stdout)["pid"]
        os.kill(lvs2, signal.SIGKILL)  # a second death within a minute: restarted after 1 s
        timed(lab, {"d2"}, "it dies again: withdrawn from the router while it waits to restart", 5)
        timed(lab, {"d1", "d2"}, "the restarted worker announces again")
        time.sleep(0.3)
        mon.terminate()
        events = mon.communicate(timeout=5)[0]
        deleted = [e for e in events.splitlines() if e.startswith("Deleted") and VIP in e and "table 100" in e]
        check(len(deleted) >= 2, "each death withdrew the route in d1's table (ip monitor)", str(deleted))

        # stop: withdrawn
        lab.daemons[2].send_signal(signal.SIGTERM)
        timed(lab, {"d1"}, "d2 stops: withdrawn")
        lab.daemons[2].wait(timeout=20)

        # the whole daemon killed: the route stays until directord --withdraw (ExecStopPost)
        os.killpg(lab.daemons[1].pid, signal.SIGKILL)
        lab.daemons[1].wait()
        time.sleep(1.5)
        check(lab.nexthops() == {"d1"}, "kill -9 of all of d1: nothing withdrew yet", str(lab.nexthops()))
        r = sh(f"ip netns exec {lab.d[1]} {directord} --withdraw -f {conf1}", check=False)
        check(r.returncode == 0 and "withdrew 1 VIP route(s)" in r.stderr, "directord --withdraw", r.stderr.strip())
        timed(lab, set(), "after --withdraw the router has no route")
    finally:
        if report.failures:
            print(lab.logs())
        lab.close()


if __name__ == "__main__":
    report.run_main(run, "announce")
