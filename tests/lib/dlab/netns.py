"""The VRRP lab in network namespaces (root): two directors and a client on a bridge, each in a
namespace of its own with a random tag (so labs never collide), the client's VIP probe, and the
configs and status reads the pair tests share."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from dlab.report import check, failures, sh, wait

VIP = "10.99.0.10"
MARGIN = 0.3  # seconds on top of the protocol's bounds: scheduling noise of a loaded CI machine
# "No move" as the client sees it: no transition and no gap a move could hide in. A takeover costs
# at least the master-down interval (over 300 ms at 0.1 s adverts); the probe's own noise on a
# loaded 2-core CI machine under the sanitizers reaches ~10 ms, so a gap is judged against 50 ms.
STILL = 0.050


def skew(interval, prio=100):
    """RFC 5798's skew time of a backup of priority `prio`."""
    return (256 - prio) / 256 * interval


def master_down(interval, prio=100):
    """RFC 5798's master-down interval: how long a backup waits for a silent master."""
    return 3 * interval + skew(interval, prio)


PROBE = r"""
import os, socket, struct, sys, time, threading
vip = sys.argv[1]; v6 = ":" in vip; every = float(sys.argv[2]) if len(sys.argv) > 2 else 0.002
if v6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xffff
out_lock = threading.Lock()
def say(line):  # one write per line, never two threads' lines run together
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
# each reply's time is the kernel's (SO_TIMESTAMPNS, on CLOCK_REALTIME, brought to CLOCK_MONOTONIC),
# not when this process got to read it: a reader held up (its output pipe full, the machine busy)
# makes no gap that the network did not
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
def arrival(anc):
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == 35 and len(data) >= 16:
            sec, nsec = struct.unpack("qq", data[:16])
            return sec + nsec / 1e9 - (time.time() - time.monotonic())
    return time.monotonic()
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
def reader():
    while True:
        d, anc, _, _ = s.recvmsg(2048, socket.CMSG_SPACE(4) + socket.CMSG_SPACE(16))
        if v6:
            hops = next((struct.unpack("i", c[2])[0] for c in anc if c[0] == socket.IPPROTO_IPV6 and
                         c[1] == socket.IPV6_HOPLIMIT), 0)
            if d[0] == 129 and struct.unpack("!H", d[4:6])[0] == ident:
                say(f"{arrival(anc)} {hops}")
        else:
            ihl = (d[0] & 15) * 4
            if d[ihl] == 0 and struct.unpack("!H", d[ihl + 4:ihl + 6])[0] == ident:
                say(f"{arrival(anc)} {d[8]}")
threading.Thread(target=reader, daemon=True).start()
seq = 0
last = time.monotonic()
while True:
    now = time.monotonic()
    if now - last > 0.02:  # this process did not run: a gap here is the client's, not the network's
        say(f"S {last} {now - last}")
    last = now
    seq = (seq + 1) & 0xffff
    if v6:  # the kernel fills in an ICMPv6 checksum
        s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, seq), (vip, 0))
    else:
        h = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        s.sendto(struct.pack("!BBHHH", 8, 0, csum(h), ident, seq), (vip, 0))
    time.sleep(every)
"""


class Probe:
    """The client probing the VIP every 2 ms (ICMP echo, IPv4 or IPv6); read() returns [(time, TTL or
    hop limit)] of the replies so far. The lab stops it when it closes."""
    def __init__(self, lab, vip=VIP):
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.cl, sys.executable, "-u", "-c", PROBE, vip],
                                  stdout=subprocess.PIPE, text=True)
        self.rows = []
        lab.probes.append(self)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for line in self.p.stdout:
            f = line.split()
            if len(f) == 2:
                self.rows.append((float(f[0]), int(f[1])))

    def read(self):
        return list(self.rows)

    def gap(self, start, end):
        """The longest time in [start, end] without a reply."""
        times = [start] + [t for t, _ in self.read() if start <= t <= end] + [end]
        return max(b - a for a, b in zip(times, times[1:]))

    def ttls(self, start, end):
        return {ttl for t, ttl in self.read() if start <= t <= end}

    def fresh(self, timeout=5):
        """Waits for a reply sent after this call; whether one came."""
        now = time.monotonic()
        return wait(lambda: self.rows and self.rows[-1][0] > now, timeout, 0.01) is not None

    def answered_since(self, t0, what, bound):
        """Once the client is answered again after this call: checks that its longest time without
        a reply since t0 is within `bound` seconds, and prints it."""
        self.fresh()
        gap = self.gap(t0, time.monotonic())
        check(gap <= bound, f"{what}: the client probing the VIP every 2 ms is answered again within {bound:.2f} s",
              f"longest gap {gap * 1000:.0f} ms")
        return gap

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


class Lab:
    def __init__(self, directord):
        self.directord = directord
        tag = uuid.uuid4().hex[:6]
        self.lan, self.cl = f"vl{tag}", f"cl{tag}"
        self.ns = {1: f"d1{tag}", 2: f"d2{tag}"}
        self.work = tempfile.mkdtemp(prefix="vrrp-")
        self.procs = {}
        self.probes = []
        self.keepalived = "keepalived"  # another build (keepalived 2.4 from source): its path
        self.keepalived_only = ["-P"]   # VRRP only (a build without LVS has no -P)
        sh(f"ip netns add {self.lan} && ip -n {self.lan} link add br0 type bridge && ip -n {self.lan} link set br0 up")
        for ns, addr, addr6 in [(self.ns[1], "10.99.0.11", "fd00:99::11"), (self.ns[2], "10.99.0.12", "fd00:99::12"),
                                (self.cl, "10.99.0.100", "fd00:99::100")]:
            sh(f"ip netns add {ns} && ip -n {ns} link set lo up")
            sh(f"ip -n {self.lan} link add v{ns} type veth peer name eth0 netns {ns}")
            sh(f"ip -n {self.lan} link set v{ns} master br0 up")
            sh(f"ip -n {ns} addr add {addr}/24 dev eth0 && ip -n {ns} addr add {addr6}/64 dev eth0 nodad && "
               f"ip -n {ns} link set eth0 up")

    def has_vip(self, i, vip=VIP):
        return f" {vip}/" in sh(f"ip -n {self.ns[i]} -o addr show dev eth0", check=False).stdout

    def start_raw(self, i, kind, conf_text):
        """Starts directord or keepalived in director i's namespace on the given configuration."""
        ns = self.ns[i]
        log = open(os.path.join(self.work, f"{ns}.log"), "a")
        conf = os.path.join(self.work, f"{ns}.conf")
        with open(conf, "w") as f:
            f.write(conf_text)
        if kind == "directord":
            cmd = [self.directord, "-f", conf]
        else:
            sh(f"rm -f {self.work}/{ns}.k*pid", check=False)
            cmd = [self.keepalived, "-n", "-l", "-D", *self.keepalived_only, "-f", conf, "-p", f"{self.work}/{ns}.kpid",
                   "-r", f"{self.work}/{ns}.kvpid"]
        self.procs[i] = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def mac(self, i):
        return sh(f"ip -n {self.ns[i]} -o link show dev eth0").stdout.split("link/ether ")[1].split()[0]

    def start(self, i, kind, prio, version, interval, fifo="", track="", global_extra="", instance_extra=""):
        ns = self.ns[i]
        log = open(os.path.join(self.work, f"{ns}.log"), "a")
        conf = os.path.join(self.work, f"{ns}.conf")
        if kind == "directord":
            auth = 'authentication = { type = "PASS"; password = "s3cretPW"; };' if version == 2 else ""
            with open(conf, "w") as f:
                scripts = (f'vrrp_scripts = ( {{ name = "chk"; script = "/usr/bin/test -e {track}"; interval = 0.1; '
                           f'weight = 0; fall = 2; rise = 2; }} );') if track else ""
                tracked = 'track_scripts = ( { script = "chk"; } );' if track else ""
                f.write(f"""global = {{ data_plane = "memory"; pid_file = "{self.work}/{ns}.pid"; notify_fifo = "{fifo}";
  script_user = "root"; state_dump_file = "{self.work}/{ns}.json"; control_socket = "{self.work}/{ns}.sock";
  {global_extra} }};
{scripts}
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 51; priority = {prio};
  version = {version}; advert_interval = {interval}; {auth} {tracked} {instance_extra}
  virtual_addresses = ( {{ address = "{VIP}/24"; }} ); }} );
""")
            cmd = [self.directord, "-f", conf]
        else:
            auth = "  authentication {\n    auth_type PASS\n    auth_pass s3cretPW\n  }\n" if version == 2 else ""
            with open(conf, "w") as f:  # keepalived reads one keyword per line
                f.write(f"global_defs {{\n  router_id {ns}\n  vrrp_version {version}\n}}\n"
                        f"vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n"
                        f"  priority {prio}\n  advert_int {interval}\n{auth}"
                        f"  virtual_ipaddress {{\n    {VIP}/24 dev eth0\n  }}\n}}\n")
            cmd = ["keepalived", "-n", "-l", "-D", "-P", "-f", conf, "-p", f"{self.work}/{ns}.kpid",
                   "-r", f"{self.work}/{ns}.kvpid"]
        self.procs[i] = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def kill(self, i, sig):  # returns at once: the handover is timed from the signal
        p = self.procs[i]
        if sig == signal.SIGKILL:
            os.killpg(p.pid, signal.SIGKILL)
        else:
            p.send_signal(sig)

    def die(self, i, vip=VIP):
        """Director i dies as a host does: its processes at once, and its VIP with them (a killed
        keepalived or directord leaves the address, and its kernel would go on answering)."""
        self.kill(i, signal.SIGKILL)
        sh(f"ip -n {self.ns[i]} addr del {vip}/{64 if ':' in vip else 24} dev eth0", check=False)

    def ping(self):
        return sh(f"ip netns exec {self.cl} ping -c1 -W1 {VIP}", check=False).returncode == 0

    def close(self):
        for probe in self.probes:
            probe.close()
        for p in self.procs.values():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
                except ProcessLookupError:
                    pass
        for ns in (*self.ns.values(), self.cl, self.lan):
            sh(f"ip netns del {ns}", check=False)

    def logs(self):
        out = ""
        for ns in self.ns.values():
            path = os.path.join(self.work, f"{ns}.log")
            if os.path.exists(path):
                out += f"--- {ns}.log\n" + open(path).read()[-2500:]
        return out


def fifo_reader(path):
    """Makes a fifo at `path` and collects its lines (a notify fifo's reader) in the returned list."""
    lines = []
    os.mkfifo(path)

    def reader():
        with open(path) as f:
            for line in f:
                lines.append(line.strip())
    threading.Thread(target=reader, daemon=True).start()
    return lines


def directord_conf(lab, i, instances, extra="", fifo=""):
    ns = lab.ns[i]
    return (f'global = {{ data_plane = "memory"; pid_file = "{lab.work}/{ns}.pid"; notify_fifo = "{fifo}"; '
            f'script_user = "root"; control_socket = "{lab.work}/{ns}.sock"; }};\n{extra}\n'
            f'vrrp_instances = ( {", ".join(instances)} );\n')


def d_instance(name, vrid, prio, version, interval, vips, more=""):
    addrs = ", ".join(f'{{ address = "{v}"; }}' for v in vips)
    return (f'{{ name = "{name}"; interface = "eth0"; virtual_router_id = {vrid}; priority = {prio}; version = {version}; '
            f'advert_interval = {interval}; virtual_addresses = ( {addrs} ); {more} }}')


def keepalived_conf(ns, prio, version, interval, vips, vrid=51, more=""):
    lines = "\n".join(f"    {v} dev eth0" for v in vips)
    return (f"global_defs {{\n  router_id {ns}\n  vrrp_version {version}\n}}\n"
            f"vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {vrid}\n"
            f"  priority {prio}\n  advert_int {interval}\n{more}"
            f"  virtual_ipaddress {{\n{lines}\n  }}\n}}\n")


def status(lab, i):
    out = sh(f"{os.path.dirname(lab.directord)}/directorctl -s {lab.work}/{lab.ns[i]}.sock status --json", check=False).stdout
    try:
        return json.loads(out)
    except ValueError:
        return {}


@contextlib.contextmanager
def lab_for(directord, name):
    """A fresh lab for one scenario; the daemons' logs are printed when it had a failure."""
    print(f"== {name}", flush=True)
    before = len(failures)
    lab = Lab(directord)
    try:
        yield lab
    finally:
        if len(failures) > before:
            print(lab.logs())
        lab.close()


def transitions(lab, i):
    return status(lab, i).get("vrrp", {}).get("VI_1", {}).get("transitions")


def start_pair(lab, conf1, conf2, vip=VIP):
    sh(f"ip netns exec {lab.ns[2]} sysctl -qw net.ipv4.ip_default_ttl=63 net.ipv6.conf.all.hop_limit=63 "
       f"net.ipv6.conf.eth0.hop_limit=63")
    if ":" in vip:
        ready = lambda i: "fe80" in sh(f"ip -n {lab.ns[i]} -6 addr show dev eth0 scope link -tentative").stdout  # noqa: E731
        check(wait(lambda: ready(1) and ready(2), 10) is not None, "link-local addresses ready")
    lab.start_raw(1, *conf1)
    lab.start_raw(2, *conf2)
    return wait(lambda: lab.has_vip(1, vip) and not lab.has_vip(2, vip), 15) is not None


# A real server on port 7007 that answers each connection with its name: WHOAMI address name.
WHOAMI = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7007)); s.listen(256)
while True:
    c, _ = s.accept()
    try: c.sendall(sys.argv[2].encode() + b"\n")
    except OSError: pass
    c.close()
"""


def start_whoami(lab, servers):
    """Starts a WHOAMI real server for each {name: address} on the lab's bridge (the address added
    to it) and returns once every one listens: a check or a client that came first would find a
    server down and, with persistence, stay away from it."""
    for name, addr in servers.items():
        sh(f"ip -n {lab.lan} addr add {addr}/24 dev br0")
        lab.procs[name] = subprocess.Popen(["ip", "netns", "exec", lab.lan, sys.executable, "-c", WHOAMI, addr, name],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    listening = lambda: all(f"{a}:7007" in sh(f"ip netns exec {lab.lan} ss -Hltn", check=False).stdout  # noqa: E731
                            for a in servers.values())
    check(wait(listening, 10, 0.02) is not None, f"real servers listening: {', '.join(servers)}")
