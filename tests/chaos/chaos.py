#!/usr/bin/env python3
"""The pair under random faults (root, network namespaces): a seeded chaos run with invariants.

Two directord (VRRPv3 at 0.1 s adverts, priorities 150 and 100, preempt_delay 3 s; connection
sync on the userspace plane, which the nftables plane does not have) between a client LAN (br0)
and a server LAN (br1) with three real servers (tests/chaos/server.py) whose default route is the
second VIP. The client keeps (tests/chaos/client.py and dlab's ICMP probe): a VIP probe every 2 ms,
a request every 20 ms, four long-lived streams, and 50 persistent clients asking once a second.

From the seed, a schedule of faults with random timing and overlap (FAULTS below: kills of the
whole process group, the supervisor and each worker; SIGSTOP shorter and longer than the
master-down interval; link down and flapping; a partition; loss and delay of VRRP and of sync;
SIGHUP with a valid edit, a broken file, a truncated file, two at once; real servers dying and
hanging; off-link VRRP floods; director 2 replaced by keepalived (VRRP) and a directord without
VRRP (data plane) for a while). The same seed draws the same schedule: `--seed S` replays it.

Invariants, judged on what was recorded (each violation printed with its time from the start):
- never two directors holding a VIP with their links up for longer than one advert interval
  (+ NOISE), except while a fault that partitions the pair is in force (partition, VRRP loss,
  a stop longer than the master-down interval, a group killed with its VIP until it restarted);
- every client-visible outage (a gap in the ICMP probe's replies, a failed request, a gap between
  answered requests) falls within the bound of the faults in force: each fault's bound is what the
  design promises (the master-down interval for a death, the skew for a clean stop, ~0 for a
  reload or a worker restart, plus MARGIN); overlapping faults add their bounds;
- a persistent client keeps its real server across every move unless its server failed, or (no
  sync on the nftables plane) the server set changed, or sync could not carry it (sync loss,
  a partition, keepalived in the pair, both directors restarted); counted apart, not violations:
  the director serving it had lost its state and took the VIP before the master's template refresh
  could teach it (persistent_moves_state_lost), or its server failed and each director placed it
  afresh while one could not hear the other (persistent_moves_placed_twice);
- a stream ends only in a fault that ends streams by design (its director died, stopped, lost
  its link or the VIP, the forwarding worker was killed, its server failed);
- a hanging real server receives no client connection after fall x delay_loop + timeout + MARGIN
  (from when a director stopped or restarted meanwhile runs its checks again: a stopped nftables
  director's kernel still forwards by its last rules); every real server gets a share of the requests while no server fault is in force;
- no process dies that the run did not kill (the supervisors' exits, the workers' deaths logged);
  every kill, refused reload and server failure the run caused is in the logs, and no worker death
  or server DOWN it did not cause (a DOWN while the test's server itself stalled, which it
  reports, is counted apart: down_after_server_stall);
- descriptors, RSS and threads of each process: slopes after warm-up printed (judged in runs of 15
  minutes and more).

Usage: chaos.py --directord PATH [--plane userspace|nftables] [--minutes M] [--seed S] [--no-keepalived]
       [--kinds KIND,...]"""
import argparse
import collections
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from dlab.netns import PROBE, master_down, skew  # noqa: E402
from dlab.report import sh  # noqa: E402

VIP, VIP2 = "10.99.0.10", "10.98.0.1"
ADDR = {1: ("10.99.0.11", "10.98.0.11"), 2: ("10.99.0.12", "10.98.0.12")}
SERVERS = {"rs1": "10.98.0.51", "rs2": "10.98.0.52", "rs3": "10.98.0.53"}
SOURCES = [f"10.99.0.{101 + i}" for i in range(50)]
STREAMS_FROM, REQUESTS_FROM = "10.99.0.97", "10.99.0.98"   # the connects come from 10.99.0.100
PRIO = {1: 150, 2: 100}
INTERVAL = 0.1
MD = master_down(INTERVAL, PRIO[2])     # the backup's master-down interval: 0.361 s
SKEW = skew(INTERVAL, PRIO[2])
MARGIN = 0.3     # scheduling noise of a loaded 2-core machine, on top of each promise
NOISE = 0.1      # an outage this short needs no explaining (the probe's own hiccups)
DELAY_LOOP, TIMEOUT, RESTART_SEC = 0.5, 0.5, 1.0
SERVER_DOWN = DELAY_LOOP + TIMEOUT + MARGIN + 0.2   # a failed server is out of the schedule by then
REQUEST_TIMEOUT = 0.5
WORKERS = {"userspace": ["lvs", "vrrp", "fwd", "status"], "nftables": ["lvs", "vrrp", "status"]}


def now():
    return time.monotonic()


class Fault:
    """One injected fault: what, where, from `start` to `end` (monotonic), and what the design
    promises about it: `bound` (longest client outage it may cause, counted after its end too),
    `partitions` (the pair cannot see each other: two masters allowed), `disables` (a director
    that cannot serve meanwhile), `breaks_streams`, `loses_sync`, `moves_servers`."""
    def __init__(self, kind, target, bound, partitions=False, disables=None, breaks_streams=False,
                 loses_sync=False, moves_servers=False, detail=""):
        self.kind, self.target, self.bound = kind, target, bound
        self.partitions, self.disables, self.breaks_streams = partitions, disables, breaks_streams
        self.loses_sync, self.moves_servers, self.detail = loses_sync, moves_servers, detail
        self.start = now()
        self.end = None
        self.lost_state = False  # a director's processes died (their memory with them)

    def name(self):
        return f"{self.kind}({self.target})" if self.target is not None else self.kind


class Run:
    def __init__(self, args):
        self.args = args
        self.plane = args.plane
        self.rng = random.Random(args.seed)
        tag = uuid.uuid4().hex[:5]
        self.ns = {1: f"cd1{tag}", 2: f"cd2{tag}"}
        self.lan, self.cl, self.sv = f"cl{tag}", f"cc{tag}", f"cs{tag}"
        self.work = tempfile.mkdtemp(prefix="chaos-")
        self.procs = {}           # director -> Popen of its directord (or keepalived pair)
        self.kind = {1: "directord", 2: "directord"}
        self.servers = {}         # name -> Popen
        self.faults = []
        self.lock = threading.Lock()
        self.busy = set()         # resources in use by a fault in force
        self.holders = {1: [], 2: []}   # [(t, holds VIP)]
        self.links = {1: [], 2: []}     # [(t, up)]
        self.client_lines = []
        self.server_lines = {}
        self.probe_times = []
        self.client_stalls = []   # [(from, to)] when a probe process itself did not run
        self.samples = []         # (t, director, worker, pid, rss KiB, fds, threads)
        # (monotonic, wall) every sample: the logs' wall clock may be stepped during a run (NTP)
        self.clocks = []
        self.killed_pids = set()
        self.expected_exits = set()
        self.log_seen = {}        # director log -> (bytes read, facts): Run.log_facts
        self.refused_reloads = {1: 0, 2: 0}
        self.side = []            # helper processes (monitors, clients, queues)
        self.all_procs = []       # every directord started
        self.stop_flag = threading.Event()
        self.t0 = None

    # ---- the lab ----------------------------------------------------------------------------
    def setup(self):
        sh(f"ip netns add {self.lan}")
        for br in ("br0", "br1"):
            sh(f"ip -n {self.lan} link add {br} type bridge && ip -n {self.lan} link set {br} up")
        for i in (1, 2):
            ns = self.ns[i]
            sh(f"ip netns add {ns} && ip -n {ns} link set lo up")
            for n, br in ((0, "br0"), (1, "br1")):
                sh(f"ip -n {self.lan} link add v{n}{ns} type veth peer name eth{n} netns {ns}")
                sh(f"ip -n {self.lan} link set v{n}{ns} master {br} up")
                sh(f"ip -n {ns} addr add {ADDR[i][n]}/24 dev eth{n} && ip -n {ns} link set eth{n} up")
            sh(f"ip netns exec {ns} sysctl -qw net.ipv4.ip_forward=1")
            if i == 2:  # tells the directors' ICMP replies apart
                sh(f"ip netns exec {ns} sysctl -qw net.ipv4.ip_default_ttl=63")
            self.links[i].append((now(), True))
        for ns, br, addr in ((self.cl, "br0", "10.99.0.100"), (self.sv, "br1", "10.98.0.50")):
            sh(f"ip netns add {ns} && ip -n {ns} link set lo up")
            sh(f"ip -n {self.lan} link add v{ns} type veth peer name eth0 netns {ns}")
            sh(f"ip -n {self.lan} link set v{ns} master {br} up")
            sh(f"ip -n {ns} addr add {addr}/24 dev eth0 && ip -n {ns} link set eth0 up")
        for src in SOURCES + [STREAMS_FROM, REQUESTS_FROM]:
            sh(f"ip -n {self.cl} addr add {src}/24 dev eth0")
        sh(f"ip -n {self.cl} route add 10.98.0.0/24 via {VIP}")
        for name, addr in SERVERS.items():
            sh(f"ip -n {self.sv} addr add {addr}/24 dev eth0")
        sh(f"ip -n {self.sv} route add default via {VIP2}")

    def conf(self, i, vrrp=True):
        ns = self.ns[i]
        sync = ('sync_daemon = { interface = "eth0"; vrrp_instance = "VI_1"; sync_id = 51; };'
                if self.plane == "userspace" and vrrp else "")
        weight = getattr(self, "weights", {}).get(i, 1)
        reals = lambda port: ", ".join(  # noqa: E731
            f'{{ address = "{a}"; port = {port}; weight = {weight if n == "rs1" and port == 80 else 1}; '
            f'checks = ( {{ type = "http"; path = "/health"; }} ); }}' for n, a in SERVERS.items())
        persistent = "mh" if self.plane == "nftables" else "rr"
        instance = (f'vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 51; '
                    f'priority = {PRIO[i]}; version = 3; advert_interval = {INTERVAL}; preempt_delay = 3; '
                    f'virtual_addresses = ( {{ address = "{VIP}/24"; }}, {{ address = "{VIP2}/24"; dev = "eth1"; }} ); }} );'
                    if vrrp else "")
        return f"""# chaos run: director {i}{'' if vrrp else ' (data plane only; keepalived does VRRP)'}
global = {{ data_plane = "{self.plane}"; pid_file = "{self.work}/{ns}.pid"; script_user = "root";
  control_socket = "{self.work}/{ns}.sock"; state_dump_file = "{self.work}/{ns}.json"; {sync} }};
{instance}
virtual_servers = (
  {{ address = "{VIP}"; port = 80; scheduler = "rr"; delay_loop = {DELAY_LOOP}; connect_timeout = {TIMEOUT};
     retry = 0; real_servers = ( {reals(80)} ); }},
  {{ address = "{VIP}"; port = 81; scheduler = "{persistent}"; persistence_timeout = 600; delay_loop = {DELAY_LOOP};
     connect_timeout = {TIMEOUT}; retry = 0; real_servers = ( {reals(81)} ); }} );
"""

    def keepalived_conf(self, i):
        return (f"global_defs {{\n  router_id chaos{i}\n  vrrp_version 3\n}}\n"
                f"vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n"
                f"  priority {PRIO[i]}\n  advert_int {INTERVAL}\n  preempt_delay 3\n"
                f"  virtual_ipaddress {{\n    {VIP}/24 dev eth0\n    {VIP2}/24 dev eth1\n  }}\n}}\n")

    def write_conf(self, i, text):
        path = f"{self.work}/{self.ns[i]}.conf"
        with open(path + ".new", "w") as f:
            f.write(text)
        os.replace(path + ".new", path)
        return path

    def start_director(self, i, vrrp=True):
        ns = self.ns[i]
        log = open(f"{self.work}/{ns}.log", "a")
        conf = self.write_conf(i, self.conf(i, vrrp))
        self.procs[i] = subprocess.Popen(["ip", "netns", "exec", ns, self.args.directord, "-f", conf],
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.all_procs.append(self.procs[i])
        self.kind[i] = "directord"

    def start_keepalived(self, i):
        ns = self.ns[i]
        kconf = f"{self.work}/{ns}.keepalived.conf"
        with open(kconf, "w") as f:
            f.write(self.keepalived_conf(i))
        log = open(f"{self.work}/{ns}.keepalived.log", "a")
        sh(f"rm -f {self.work}/{ns}.k*pid", check=False)
        self.ka = subprocess.Popen(["ip", "netns", "exec", ns, "keepalived", "-n", "-l", "-D", "-P", "-f", kconf,
                                    "-p", f"{self.work}/{ns}.kpid", "-r", f"{self.work}/{ns}.kvpid"],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.kind[i] = "keepalived"

    def start_server(self, name):
        log = open(f"{self.work}/{name}.log", "a")
        p = subprocess.Popen(["ip", "netns", "exec", self.sv, sys.executable, "-u", os.path.join(HERE, "server.py"),
                              SERVERS[name], name], stdout=subprocess.PIPE, stderr=log, text=True,
                             start_new_session=True)
        self.servers[name] = p
        lines = self.server_lines.setdefault(name, [])
        mark = len(lines)  # this process's "listening", not its predecessor's
        threading.Thread(target=self._collect, args=(p, lines), daemon=True).start()
        deadline = now() + 10
        while now() < deadline and not any(line.startswith("L ") for line in lines[mark:]):
            time.sleep(0.02)
        if not any(line.startswith("L ") for line in lines[mark:]):
            raise RuntimeError(f"{name} did not start listening within 10 s")

    def _collect(self, p, out, stamp=False):
        for line in p.stdout:
            out.append((now(), line.rstrip("\n")) if stamp else line.rstrip("\n"))

    def monitor_vip(self, i):
        """Records when director i's namespace gains or loses the VIP (ip monitor: netlink events,
        stamped on arrival)."""
        p = subprocess.Popen(["ip", "-n", self.ns[i], "monitor", "address"], stdout=subprocess.PIPE, text=True)
        self.side.append(p)
        held = f" {VIP}/" in sh(f"ip -n {self.ns[i]} -o addr show dev eth0").stdout
        self.holders[i].append((now(), held))

        def follow():
            for line in p.stdout:
                if f" inet {VIP}/" in line:
                    self.holders[i].append((now(), not line.startswith("Deleted")))
        threading.Thread(target=follow, daemon=True).start()

    def monitor_neigh(self):
        """Records which director's MAC the client sends VIP traffic to (its neighbour entry)."""
        self.macs = {sh(f"ip -n {self.ns[i]} -o link show dev eth0").stdout.split("link/ether ")[1].split()[0]: i
                     for i in (1, 2)}
        self.neigh = []   # [(t, director or None)]
        p = subprocess.Popen(["ip", "-n", self.cl, "monitor", "neigh"], stdout=subprocess.PIPE, text=True)
        self.side.append(p)

        def follow():
            for line in p.stdout:
                if line.startswith(f"{VIP} ") or line.startswith(f"Deleted {VIP} "):
                    f = line.split()
                    mac = f[f.index("lladdr") + 1] if "lladdr" in f else None
                    self.neigh.append((now(), self.macs.get(mac) if not line.startswith("Deleted") else None))
        threading.Thread(target=follow, daemon=True).start()

    def start_clients(self):
        p = subprocess.Popen(["ip", "netns", "exec", self.cl, sys.executable, "-u", os.path.join(HERE, "client.py"),
                              VIP, ",".join(SOURCES), "4", STREAMS_FROM, REQUESTS_FROM], stdout=subprocess.PIPE,
                             text=True)
        self.side.append(p)
        threading.Thread(target=self._collect, args=(p, self.client_lines), daemon=True).start()
        probe = subprocess.Popen(["ip", "netns", "exec", self.cl, sys.executable, "-u", "-c", PROBE, VIP],
                                 stdout=subprocess.PIPE, text=True)
        self.side.append(probe)

        def follow():
            for line in probe.stdout:
                f = line.split()
                try:
                    if len(f) == 2:
                        self.probe_times.append(float(f[0]))
                    elif len(f) == 3 and f[0] == "S":  # the probe itself did not run for a while
                        self.client_stalls.append((float(f[1]), float(f[1]) + float(f[2])))
                except ValueError:
                    self.harness_errors.append(f"the probe wrote a line it should not: {line!r}")
        threading.Thread(target=follow, daemon=True).start()

    # ---- processes ----------------------------------------------------------------------------
    def workers(self, i):
        """{worker name: pid} of director i's running directord, from /proc and its log."""
        p = self.procs.get(i)
        if p is None or p.poll() is not None:
            return {}
        sup = p.pid  # ip netns exec execs directord: the supervisor
        out = {"supervisor": sup}
        try:
            kids = [int(k) for k in open(f"/proc/{sup}/task/{sup}/children").read().split()]
        except OSError:
            return out
        names = self.log_facts(i)["workers"]
        for k in kids:
            if k in names:
                out[names[k]] = k
        return out

    def log_facts(self, i):
        """What director i's log has said so far, read once (only what was appended since the last
        call): {"workers": {pid: worker name}, "applied": reloads applied}."""
        path = f"{self.work}/{self.ns[i]}.log"
        with self.lock:
            off, facts = self.log_seen.get(path, (0, {"workers": {}, "applied": 0}))
            with open(path, "rb") as fh:
                fh.seek(off)
                chunk = fh.read()
            whole = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits for the next call
            for line in whole.decode(errors="replace").splitlines():
                m = re.search(r"supervisor: started the (\w+) worker \(pid (\d+)\)", line)
                if m:
                    facts["workers"][int(m.group(2))] = m.group(1)
                elif "reload: " in line and " applied: " in line:
                    facts["applied"] += 1
            self.log_seen[path] = (off + len(whole), facts)
            return facts

    def sample(self):
        t = now()
        self.clocks.append((t, time.time()))
        for i in (1, 2):
            if self.kind[i] != "directord":
                continue
            for name, pid in self.workers(i).items():
                try:
                    status = open(f"/proc/{pid}/status").read()
                    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
                    threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
                    fds = len(os.listdir(f"/proc/{pid}/fd"))
                except (OSError, AttributeError):
                    continue
                self.samples.append((t, i, name, pid, rss, fds, threads))

    # ---- faults -------------------------------------------------------------------------------
    def claim(self, *resources):
        with self.lock:
            if any(r in self.busy for r in resources):
                return False
            self.busy.update(resources)
            return True

    def release(self, *resources):
        with self.lock:
            self.busy.difference_update(resources)

    def record(self, fault):
        with self.lock:
            self.faults.append(fault)
        self.log(f"fault {fault.name()} {fault.detail}".rstrip())
        return fault

    def log(self, what):
        print(f"[{now() - self.t0:7.2f}] {what}", flush=True)

    def restart(self, i):
        """As systemd's Restart=on-failure with RestartSec=1 would."""
        time.sleep(RESTART_SEC)
        self.start_director(i)

    def expect_exit(self, i):
        """Director i's process is about to be stopped by the run: its exit is expected, unless it has
        already exited (then the judge reports it: the run did not stop it)."""
        if self.procs[i].poll() is None:
            self.expected_exits.add(self.procs[i].pid)
        else:
            self.log(f"director {i} (pid {self.procs[i].pid}) had already exited with {self.procs[i].returncode}")

    def kill_group(self, i, p):
        f = self.record(Fault("kill_group", i, MD + MARGIN, partitions=True, disables=i, breaks_streams=True))
        f.lost_state = True
        self.expect_exit(i)
        try:
            os.killpg(self.procs[i].pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.procs[i].wait()
        self.restart(i)
        f.end = now()

    def kill_supervisor(self, i, p):
        w = self.workers(i)
        if "supervisor" not in w:
            return
        # its workers stop as at SIGTERM (PDEATHSIG): the VIP goes with them, a clean stop
        f = self.record(Fault("kill_supervisor", i, SKEW + MARGIN, disables=i, breaks_streams=True))
        f.lost_state = True
        self.expect_exit(i)
        try:
            os.kill(w["supervisor"], signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.procs[i].wait()
        deadline = now() + 20
        while now() < deadline and any(os.path.exists(f"/proc/{pid}") for n, pid in w.items() if n != "supervisor"):
            time.sleep(0.05)
        self.restart(i)
        f.end = now()

    def kill_worker(self, i, p):
        name = p["worker"]
        pid = self.workers(i).get(name)
        if pid is None:
            return
        # the first death restarts at once; a repeated one backs off (judged from the log's delay)
        f = self.record(Fault("kill_worker", i, MARGIN, breaks_streams=name == "fwd", detail=name))
        f.worker, f.pid = name, pid
        # the fwd worker's templates survive it (the supervisor's copy, at most 1 s old; the
        # persistent clients here are bound long before): its death loses no persistence
        self.killed_pids.add(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = now() + 35
        while now() < deadline and self.workers(i).get(name) in (None, pid):
            time.sleep(0.02)
        f.end = now()

    def stop(self, i, p):
        long = p["seconds"] > MD
        f = self.record(Fault("stop_long" if long else "stop_short", i, (MD if long else p["seconds"]) + MARGIN,
                              partitions=long, disables=i, breaks_streams=long, detail=f"{p['seconds']:.2f} s"))
        os.killpg(self.procs[i].pid, signal.SIGSTOP)
        time.sleep(p["seconds"])
        os.killpg(self.procs[i].pid, signal.SIGCONT)
        f.end = now()

    def link_down(self, i, p):
        f = self.record(Fault("link_down", i, MD + MARGIN, disables=i, breaks_streams=True,
                              detail=f"{p['seconds']:.2f} s"))
        self.set_link(i, False)
        time.sleep(p["seconds"])
        self.set_link(i, True)
        f.end = now()

    def set_link(self, i, up):
        sh(f"ip -n {self.ns[i]} link set eth0 {'up' if up else 'down'}")
        self.links[i].append((now(), up))

    def flap(self, i, p):
        f = self.record(Fault("link_flap", i, MD + MARGIN, disables=i, breaks_streams=True,
                              detail=f"{p['seconds']:.2f} s"))
        end = now() + p["seconds"]
        rng = random.Random(p["seed"])
        while now() < end:
            self.set_link(i, False)
            time.sleep(rng.uniform(0.05, 0.4))
            self.set_link(i, True)
            time.sleep(rng.uniform(0.05, 0.4))
        f.end = now()

    def nft(self, i, rules):
        proc = subprocess.run(["ip", "netns", "exec", self.ns[i], "nft", "-f", "-"], input=rules, text=True,
                              capture_output=True)
        if proc.returncode:
            raise RuntimeError(f"nft in director {i}: {proc.stderr}")

    @staticmethod
    def filter_table(name, rule):
        return (f"table ip {name} {{\n chain input {{\n  type filter hook input priority -300; policy accept;\n"
                f"  {rule}\n }}\n}}\n")

    def partition(self, i, p):
        f = self.record(Fault("partition", None, MARGIN, partitions=True, breaks_streams=True, loses_sync=True,
                              detail=f"{p['seconds']:.2f} s"))
        for j in (1, 2):
            peer = ADDR[3 - j]
            self.nft(j, self.filter_table("chaos_part", f"ip saddr {{ {peer[0]}, {peer[1]} }} drop"))
        time.sleep(p["seconds"])
        for j in (1, 2):
            self.nft(j, "delete table ip chaos_part")
        f.end = now()

    def loss(self, i, p):
        what = p["what"]
        match = "ip protocol vrrp" if what == "vrrp" else "udp dport 8848"
        f = self.record(Fault(f"{what}_loss", i, MARGIN, partitions=what == "vrrp", breaks_streams=what == "vrrp",
                              loses_sync=True, detail=f"{p['percent']}% for {p['seconds']:.2f} s"))
        self.nft(i, self.filter_table(f"chaos_{what}_loss", f"{match} numgen random mod 100 < {p['percent']} drop"))
        time.sleep(p["seconds"])
        self.nft(i, f"delete table ip chaos_{what}_loss")
        f.end = now()

    def delay(self, i, p):
        what = p["what"]
        queue = 1 if what == "vrrp" else 2
        match = "-p vrrp" if what == "vrrp" else "-p udp --dport 8848"
        f = self.record(Fault(f"{what}_delay", i, MARGIN, loses_sync=what == "sync",
                              detail=f"{p['ms']} ms for {p['seconds']:.2f} s"))
        q = subprocess.Popen(["ip", "netns", "exec", self.ns[i], sys.executable, "-u",
                              os.path.join(HERE, "nfqdelay.py"), str(queue), str(p["ms"])],
                             stdout=subprocess.PIPE, text=True)
        q.stdout.readline()  # bound
        rule = f"INPUT {match} -j NFQUEUE --queue-num {queue} --queue-bypass"  # no reader: let it pass
        sh(f"ip netns exec {self.ns[i]} iptables -I {rule}")
        time.sleep(p["seconds"])
        sh(f"ip netns exec {self.ns[i]} iptables -D {rule}")
        time.sleep(p["ms"] / 1000 + 0.05)  # what is queued goes through before the queue closes
        if q.poll() is not None:
            raise RuntimeError(f"nfqdelay ended early ({q.returncode}): the delay was not applied throughout")
        q.kill()
        q.wait()
        f.end = now()

    def reload(self, i, p):
        how = p["how"]
        pid = self.workers(i).get("supervisor")
        if pid is None:
            return
        good = self.conf(i)
        f = self.record(Fault(f"reload_{how}", i, MARGIN, moves_servers=how in ("valid", "double")))
        if how in ("valid", "double"):
            self.weights = getattr(self, "weights", {})
            self.weights[i] = 3 - self.weights.get(i, 1) if self.weights.get(i, 1) in (1, 2) else 1
            applied = self.log_facts(i)["applied"]
            self.write_conf(i, self.conf(i))
            os.kill(pid, signal.SIGHUP)
            if how == "double":
                time.sleep(0.05)
                self.weights[i] = 3 - self.weights[i]
                self.write_conf(i, self.conf(i))
                os.kill(pid, signal.SIGHUP)
            # until the log says it applied both (a reload read while another is: both are applied)
            deadline = now() + 5
            while now() < deadline and self.log_facts(i)["applied"] < applied + (2 if how == "double" else 1):
                time.sleep(0.02)
        else:
            bad = good + "virtual_servers = ( broken\n" if how == "broken" else good[: len(good) // 2]
            self.write_conf(i, bad)
            os.kill(pid, signal.SIGHUP)
            self.refused_reloads[i] += 1
            time.sleep(p["seconds"])
            self.write_conf(i, good)  # the next restart finds a good file; the running one never changed
        f.end = now()

    def server_die(self, i, p):
        name = p["server"]
        f = self.record(Fault("server_die", name, SERVER_DOWN, breaks_streams=True, moves_servers=True,
                              detail=f"{p['seconds']:.2f} s"))
        os.killpg(self.servers[name].pid, signal.SIGKILL)
        self.servers[name].wait()
        time.sleep(p["seconds"])
        self.start_server(name)
        f.end = now()

    def server_hang(self, i, p):
        name = p["server"]
        f = self.record(Fault("server_hang", name, SERVER_DOWN + REQUEST_TIMEOUT, breaks_streams=True,
                              moves_servers=True, detail=f"{p['seconds']:.2f} s"))
        self.set_hang(name, True)
        time.sleep(p["seconds"])
        self.set_hang(name, False)
        f.end = now()

    def set_hang(self, name, hung):
        """Signals the server and waits for it to say it changed (a harness error if it does not)."""
        lines = self.server_lines[name]
        mark = len(lines)
        self.servers[name].send_signal(signal.SIGUSR1 if hung else signal.SIGUSR2)
        deadline = now() + 2
        while now() < deadline:
            if any(line.startswith("M ") and line.endswith(f" {int(hung)}") for line in lines[mark:]):
                return
            time.sleep(0.005)
        raise RuntimeError(f"{name} did not say it {'hangs' if hung else 'answers again'} within 2 s")

    def flood(self, i, p):
        """Forged adverts at priority 254 from the client's LAN, sent with TTL 64 (not from the
        link, RFC 5798 7.1): about 2,000 a second."""
        # keepalived 2.2.7 logs every dropped advert and, behind that, misses its master's under such
        # a flood: with it in the pair the flood is a partition (measured: a 0.5 s second master)
        keepalived = "keepalived" in self.kind.values()
        f = self.record(Fault("vrrp_flood", None, MARGIN, partitions=keepalived,
                              detail=f"{p['seconds']:.2f} s{' (keepalived in the pair)' if keepalived else ''}"))
        sh(f"ip netns exec {self.cl} timeout {p['seconds']:.2f} {sys.executable} -c '{FLOOD}' {VIP}", check=False)
        f.end = now()

    def keepalived(self, i, p):
        """Director i runs keepalived for VRRP (and a directord without VRRP for the data plane)."""
        f = self.record(Fault("keepalived_peer", i, SKEW + MARGIN, disables=i, breaks_streams=True, loses_sync=True,
                              detail=f"{p['seconds']:.2f} s"))
        f.lost_state = True
        self.expect_exit(i)
        self.procs[i].send_signal(signal.SIGTERM)
        self.procs[i].wait()
        self.start_keepalived(i)
        self.start_director(i, vrrp=False)
        self.kind[i] = "keepalived"
        time.sleep(p["seconds"])
        # VRRP first, as a unit ordered after the data plane stops before it: the data plane stays
        # while keepalived, if it is master, still holds the VIP (it takes ~1 s to stop)
        self.expect_exit(i)
        self.ka.send_signal(signal.SIGTERM)
        self.ka.wait()
        self.procs[i].send_signal(signal.SIGTERM)
        self.procs[i].wait()
        self.start_director(i)
        f.end = now()

    def schedule(self, seconds):
        """The faults, drawn from the seed alone: [(offset, kind, director, params)]."""
        rng = self.rng
        kinds = [(k, w) for k, w in KINDS.items() if k != "keepalived"]
        if self.args.keepalived:
            kinds.append(("keepalived", KINDS["keepalived"]))
        if self.args.kinds:
            kinds = [(k, w) for k, w in kinds if k in self.args.kinds]
        total = sum(w for _, w in kinds)
        out, t = [], 10.0
        while True:
            t += rng.expovariate(1 / self.args.mean_gap)
            if t > seconds - 15:
                return out
            r = rng.uniform(0, total)
            for kind, w in kinds:
                r -= w
                if r <= 0:
                    break
            d = rng.choice((1, 2))
            p = {"seconds": rng.uniform(0.5, 4.0), "seed": rng.randrange(1 << 30)}
            if kind == "kill_worker":
                p["worker"] = rng.choice(WORKERS[self.plane])
            elif kind == "stop":
                p["seconds"] = rng.choice((rng.uniform(0.05, 0.25), rng.uniform(0.5, 3.0)))
            elif kind in ("loss", "delay"):
                p["what"] = "vrrp" if self.plane == "nftables" else rng.choice(("vrrp", "sync"))
                p["percent"] = rng.randrange(20, 70)
                p["ms"] = rng.randrange(20, 200)
                p["seconds"] = rng.uniform(2, 8)
            elif kind == "reload":
                p["how"] = rng.choice(("valid", "broken", "truncated", "double"))
            elif kind in ("server_die", "server_hang"):
                p["server"] = rng.choice(sorted(SERVERS))
                p["seconds"] = rng.uniform(1, 6)
            elif kind == "keepalived":
                d = 2
                p["seconds"] = rng.uniform(10, 25)
            out.append((t, kind, d, p))

    RESOURCES = {
        # a director's life (its processes, its file): one at a time
        "kill_group": lambda d, p: [f"life{d}"], "kill_supervisor": lambda d, p: [f"life{d}"],
        "stop": lambda d, p: [f"life{d}"], "reload": lambda d, p: [f"life{d}"],
        "keepalived": lambda d, p: [f"life{d}", "keepalived"],
        "kill_worker": lambda d, p: [f"life{d}", f"worker{d}"],
        "link_down": lambda d, p: [f"link{d}"], "flap": lambda d, p: [f"link{d}"],
        "partition": lambda d, p: ["net"], "loss": lambda d, p: ["net", f"loss{d}"],
        "delay": lambda d, p: [f"queue{d}"], "flood": lambda d, p: ["flood"],
        "server_die": lambda d, p: [p["server"]], "server_hang": lambda d, p: [p["server"]],
    }

    def inject(self, kind, d, p):
        res = self.RESOURCES[kind](d, p)
        if kind != "kill_worker" and not self.claim(*res):
            self.log(f"skipped {kind}({d}): {', '.join(res)} busy")
            return
        if kind == "kill_worker":
            if f"life{d}" in self.busy or not self.claim(f"worker{d}"):
                self.log(f"skipped {kind}({d}): director {d} is busy")
                return
            res = [f"worker{d}"]
        if self.kind[d] != "directord" and kind in ("kill_group", "kill_supervisor", "kill_worker", "stop", "reload"):
            self.release(*res)
            return
        try:
            getattr(self, {"loss": "loss", "delay": "delay", "flap": "flap"}.get(kind, kind))(d, p)
        except Exception as e:  # a harness failure, not the product's: stop the run loudly
            self.log(f"HARNESS ERROR in {kind}({d}): {e!r}")
            self.harness_errors.append(f"{kind}: {e!r}")
        finally:
            self.release(*res)

    # ---- the run ------------------------------------------------------------------------------
    def run(self):
        self.harness_errors = []
        self.t0 = now()
        self.setup()
        for name in SERVERS:
            self.start_server(name)
        for i in (1, 2):
            self.monitor_vip(i)
        self.start_director(1)
        self.start_director(2)
        deadline = now() + 20
        while now() < deadline and not (self.holders[1][-1][1] and not self.holders[2][-1][1]):
            time.sleep(0.05)
        if not self.holders[1][-1][1]:
            raise SystemExit("chaos: director 1 never became master; see " + self.work)
        time.sleep(2)  # checks up, sync running
        self.monitor_neigh()
        self.start_clients()
        self.clients_start = now()
        seconds = self.args.minutes * 60
        plan = self.schedule(seconds)
        self.log(f"seed {self.args.seed}, plane {self.plane}, {seconds:.0f} s, {len(plan)} faults drawn; work {self.work}; "
                 f"t0 = monotonic {self.t0:.3f} = {time.strftime('%H:%M:%S', time.gmtime(time.time() - (now() - self.t0)))} UTC")
        start = now()
        threads = []
        next_sample = start
        for offset, kind, d, p in plan + [(seconds, None, None, None)]:
            while now() < start + offset:
                if now() >= next_sample:
                    self.sample()
                    next_sample += 10
                time.sleep(min(0.05, max(0.0, start + offset - now())))
            if kind is None:
                break
            t = threading.Thread(target=self.inject, args=(kind, d, p), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join(timeout=60)
        time.sleep(5)  # the last bounds run out
        self.end = now()
        self.sample()

    def close(self):
        with open(f"{self.work}/client.lines", "w") as f:
            f.write("\n".join(self.client_lines) + "\n")
        # the directors' conntrack entries of each failed request's port (nftables plane: for reading
        # a violation; entries linger 120 s after a close)
        if self.plane == "nftables":
            ports = {line.split()[4] for line in self.client_lines if line.startswith("R ") and " fail " in line
                     and len(line.split()) > 4}
            with open(f"{self.work}/conntrack.failed", "w") as f:
                for port in sorted(ports)[:50]:
                    for i in (1, 2):
                        f.write(f"== port {port} director {i}\n" + sh(
                            f"ip netns exec {self.ns[i]} conntrack -L -p tcp --sport {port} 2>&1", check=False).stdout)
        for name, lines in self.server_lines.items():
            with open(f"{self.work}/{name}.accepts", "w") as f:
                f.write("\n".join(lines) + "\n")
        for p in self.side:
            if p.poll() is None:
                p.kill()
            p.wait()
        for p in list(self.procs.values()) + list(self.servers.values()) + [getattr(self, "ka", None)]:
            if p is not None and p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGCONT)
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for ns in (*self.ns.values(), self.cl, self.sv, self.lan):
            sh(f"ip netns del {ns}", check=False)


# Forged VRRPv3 adverts, priority 254, from the client with TTL 64 (IP_HDRINCL).
FLOOD = r"""
import socket, struct, sys, time
vip = socket.inet_aton(sys.argv[1])
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
src, dst = socket.inet_aton("10.99.0.100"), socket.inet_aton("224.0.0.18")
body = struct.pack("!BBBBH2s", 0x31, 51, 254, 1, 10, b"\0\0") + vip
pseudo = src + dst + struct.pack("!BBH", 0, 112, len(body))
body = body[:6] + struct.pack("!H", csum(pseudo + body)) + body[8:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xc0, 20 + len(body), 0, 0, 64, 112, 0, src, dst)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, src)
while True:
    s.sendto(ip + body, ("224.0.0.18", 0))
    time.sleep(0.0005)
"""


CI_SEED = 20261207
# the kinds a schedule draws from and their weights (keepalived: unless --no-keepalived)
KINDS = {"kill_group": 3, "kill_supervisor": 2, "kill_worker": 5, "stop": 4, "link_down": 3, "flap": 2,
         "partition": 2, "loss": 3, "delay": 3, "reload": 6, "server_die": 4, "server_hang": 4, "flood": 2,
         "keepalived": 1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--directord", required=True)
    ap.add_argument("--plane", choices=("userspace", "nftables"), default="userspace")
    ap.add_argument("--minutes", type=float, default=2)
    ap.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    ap.add_argument("--mean-gap", type=float, default=2.5, help="mean seconds between two faults' starts")
    ap.add_argument("--no-keepalived", dest="keepalived", action="store_false")
    ap.add_argument("--kinds", type=lambda v: [k for k in v.split(",") if k], default=None,
                    help=f"draw only these kinds of fault (comma-separated: {','.join(KINDS)}); a run without "
                         "kills and keepalived measures the processes' slopes over its whole length")
    ap.add_argument("--report", help="also write the figures as JSON here")
    ap.add_argument("--ci", action="store_true",
                    help="CI's two minutes: one on the userspace plane with a fixed seed, one on the nftables "
                         "plane with a random seed (printed)")
    args = ap.parse_args()
    args.directord = os.path.abspath(args.directord)
    if args.kinds is not None and (not args.kinds or set(args.kinds) - set(KINDS)):
        ap.error(f"--kinds: choose among {','.join(KINDS)}")
    if os.geteuid() != 0:
        print("chaos: needs root (network namespaces)")
        sys.exit(77)
    if args.ci:
        runs = [dict(plane="userspace", seed=CI_SEED, minutes=1),
                dict(plane="nftables", seed=random.SystemRandom().randrange(1 << 31), minutes=1)]
    else:
        runs = [dict(plane=args.plane, seed=args.seed if args.seed is not None else
                     random.SystemRandom().randrange(1 << 31), minutes=args.minutes)]
    def stop(signum, _frame):  # the run's namespaces and processes are cleaned up on the way out
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ok = True
    for r in runs:
        ok = one(argparse.Namespace(**{**vars(args), **r})) and ok
    sys.exit(0 if ok else 1)


def one(args):
    from judge import Judge
    run = Run(args)
    replay = f"tests/chaos/run --plane {args.plane} --minutes {args.minutes:g} --seed {args.seed}" + (
        f" --kinds {','.join(args.kinds)}" if args.kinds else "") + ("" if args.keepalived else " --no-keepalived")
    print(f"chaos: seed {args.seed} (replay: {replay})", flush=True)
    try:
        run.run()
        j = Judge(run).judge()
    finally:
        run.close()
    kinds = collections.Counter(f.kind for f in run.faults)
    print("\nfaults injected by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print("worst client gap per fault kind, one fault of it alone in force (its bound): " + (", ".join(
        f"{k} {1000 * j.alone[k]:.0f} ms ({1000 * j.bounds[k]:.0f})" for k in sorted(j.alone)) or "none over "
        f"{1000 * NOISE:.0f} ms"))
    print("worst client gap per fault kind, overlapping others too: " + ", ".join(
        f"{k} {1000 * j.worst[k]:.0f} ms" for k in sorted(j.worst)))
    print("streams ended by cause: " + ", ".join(f"{k} {n}" for k, n in sorted(j.streams_ended.items())))
    print("figures: " + json.dumps(j.figures))
    for length, at, what, names in sorted(j.outage_list, reverse=True)[:8]:
        print(f"outage {1000 * length:.0f} ms at {at:.2f} s: {what} ({names})")
    for t, what in sorted(j.violations)[:50]:
        print(f"VIOLATION at {t:.2f} s: {what}")
    if len(j.violations) > 50:
        print(f"... and {len(j.violations) - 50} more violations")
    for e in run.harness_errors:
        print(f"HARNESS ERROR: {e}")
    slopes = j.figures.get("slopes", {})
    worst_rss = max((abs(v["rss_kib_per_min"]) for v in slopes.values()), default=0)
    worst_fds = max((abs(v["fds_per_min"]) for v in slopes.values()), default=0)
    print(f"chaos summary: plane {args.plane}, seed {args.seed}, {args.minutes:g} min, {len(run.faults)} faults "
          f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}), {len(j.violations)} violations, "
          f"worst gaps alone {', '.join(f'{k} {1000 * v:.0f} ms' for k, v in sorted(j.alone.items()))}, "
          f"slopes max {worst_rss:.0f} KiB/min {worst_fds:.2f} fds/min", flush=True)
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"seed": args.seed, "plane": args.plane, "minutes": args.minutes, "faults": dict(kinds),
                       "violations": j.violations, "worst_gaps": dict(j.worst), "worst_gaps_alone": dict(j.alone),
                       "bounds": dict(j.bounds), "outages": sorted(j.outage_list, reverse=True)[:100],
                       "streams_ended": dict(j.streams_ended), "figures": j.figures}, f, indent=1)
    if j.violations or run.harness_errors:
        print(f"replay: {replay}")
        return False
    return True




if __name__ == "__main__":
    main()
