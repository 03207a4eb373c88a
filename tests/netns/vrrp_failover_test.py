#!/usr/bin/env python3
"""VRRP for real, in network namespaces (root): two directors on a bridge with a client.

Pairs: directord + directord, and directord + Debian's keepalived both ways round, VRRPv3 (0.1 s
adverts) and VRRPv2 (1 s, PASS authentication). In each: the priority 150 peer becomes master and
holds the VIP, the client's pings reach it; kill -9 the master and the backup holds the VIP within
the master down interval (plus a margin for this machine: the precise numbers are the benchmark's),
pings answered from the backup's MAC (its gratuitous ARPs); the old master returns and preempts; a
clean stop hands over within the skew time (plus the margin)."""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

VIP = "10.99.0.10"
MARGIN = 0.3  # seconds on top of the protocol's bounds: scheduling noise of a loaded CI machine
failures = []


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True)


def run_main(run, what):
    """The command line of a netns test built on this lab: --directord PATH; exit 1 on a failure."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    args = ap.parse_args()
    run(os.path.abspath(args.directord))
    if failures:
        print(f"{len(failures)} failure(s): " + "; ".join(failures))
        sys.exit(1)
    print(f"all {what} checks passed")


def check(ok, what, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}{(': ' + detail) if detail else ''}", flush=True)
    if not ok:
        failures.append(what)


def skew(interval, prio=100):
    """RFC 5798's skew time of a backup of priority `prio`."""
    return (256 - prio) / 256 * interval


def master_down(interval, prio=100):
    """RFC 5798's master-down interval: how long a backup waits for a silent master."""
    return 3 * interval + skew(interval, prio)


def wait(pred, timeout, step=0.005):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        time.sleep(step)
    return None


PROBE = r"""
import os, socket, struct, sys, time, threading
vip = sys.argv[1]; v6 = ":" in vip; every = float(sys.argv[2]) if len(sys.argv) > 2 else 0.002
if v6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xffff
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
def reader():
    while True:
        if v6:
            d, anc, _, _ = s.recvmsg(2048, socket.CMSG_SPACE(4))
            hops = next((struct.unpack("i", c[2])[0] for c in anc if c[1] == socket.IPV6_HOPLIMIT), 0)
            if d[0] == 129 and struct.unpack("!H", d[4:6])[0] == ident:
                print(time.monotonic(), hops, flush=True)
        else:
            d = s.recv(2048)
            ihl = (d[0] & 15) * 4
            if d[ihl] == 0 and struct.unpack("!H", d[ihl + 4:ihl + 6])[0] == ident:
                print(time.monotonic(), d[8], flush=True)
threading.Thread(target=reader, daemon=True).start()
seq = 0
while True:
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
            cmd = ["keepalived", "-n", "-l", "-D", "-P", "-f", conf, "-p", f"{self.work}/{ns}.kpid",
                   "-r", f"{self.work}/{ns}.kvpid"]
        self.procs[i] = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def mac(self, i):
        return sh(f"ip -n {self.ns[i]} -o link show dev eth0").stdout.split("link/ether ")[1].split()[0]

    def start(self, i, kind, prio, version, interval, fifo="", track="", global_extra=""):
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
  version = {version}; advert_interval = {interval}; {auth} {tracked}
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


def link_down_case(lab, probe, name, version, interval):
    # the interface of the master goes down: FAULT, the backup takes over; up again: preemption.
    # The backup reports every transition on its notify fifo, in keepalived's format. The client
    # probing the VIP is answered again within the takeover's bound after each move.
    fifo = os.path.join(lab.work, "notify.fifo")
    lines = fifo_reader(fifo)
    lab.kill(2, signal.SIGTERM)
    lab.procs[2].wait(timeout=20)
    sh(f"ip -n {lab.ns[1]} addr del {VIP}/24 dev eth0; ip -n {lab.ns[2]} addr del {VIP}/24 dev eth0", check=False)
    lab.start(1, "directord", 150, version, interval)
    lab.start(2, "directord", 100, version, interval, fifo=fifo)
    down = master_down(interval)
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10) is not None, f"{name}: a fresh pair, d1 master again")
    time.sleep(0.5)
    t0 = time.monotonic()
    sh(f"ip -n {lab.ns[1]} link set eth0 down")
    took = wait(lambda: lab.has_vip(2), down + 5, 0.002)
    check(took is not None and took <= down + 0.2 + MARGIN, f"{name}: the master's link goes down: the backup takes over",
          f"{took:.3f} s" if took is not None else "never")
    probe.answered_since(t0, f"{name}: link down", down + 0.2 + MARGIN)
    check(wait(lambda: not lab.has_vip(1), 2) is not None, f"{name}: the faulted master released the VIP")
    t0 = time.monotonic()
    sh(f"ip -n {lab.ns[1]} link set eth0 up")
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10) is not None, f"{name}: the link back up, d1 preempts")
    probe.answered_since(t0, f"{name}: link up, preemption", down + MARGIN)
    time.sleep(0.3)
    want = ['INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100', 'INSTANCE "VI_1" BACKUP 100']
    check(lines[-3:] == want, f"{name}: the notify fifo has each transition", str(lines))

    # a virtual address deleted by hand on the master comes back
    sh(f"ip -n {lab.ns[1]} addr del {VIP}/24 dev eth0")
    check(wait(lambda: lab.has_vip(1), 3) is not None, f"{name}: a VIP removed by hand on the master is restored")

    # a tracked script (weight 0) that fails puts the master in FAULT; when it succeeds again, it preempts
    lab.kill(1, signal.SIGTERM)
    lab.procs[1].wait(timeout=20)
    flag = os.path.join(lab.work, "healthy")
    open(flag, "w").close()
    lab.start(1, "directord", 150, version, interval, track=flag)
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10) is not None, f"{name}: d1 with a passing track script is master")
    probe.fresh()  # answered by d1 before the move is timed
    t0 = time.monotonic()
    os.unlink(flag)
    check(wait(lambda: lab.has_vip(2) and not lab.has_vip(1), 5) is not None, f"{name}: its script fails: FAULT, d2 takes over")
    # (the script runs every 0.1 s and fails twice before FAULT)
    probe.answered_since(t0, f"{name}: the tracked script fails", 0.2 + down + MARGIN)
    t0 = time.monotonic()
    open(flag, "w").close()
    check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 5) is not None, f"{name}: the script passes again: d1 preempts")
    probe.answered_since(t0, f"{name}: the script passes, preemption", 0.2 + down + MARGIN)
    log1 = open(os.path.join(lab.work, f"{lab.ns[1]}.log")).read()
    check("a tracked script fails: FAULT" in log1 and "removed from the interface while this director is master" in log1,
          f"{name}: both are logged")


def scenario(directord, master_kind, backup_kind, version, interval):
    name = f"v{version} {master_kind} (150) + {backup_kind} (100)"
    print(f"== {name}", flush=True)
    before = len(failures)
    lab = Lab(directord)
    try:
        lab.start(1, master_kind, 150, version, interval)
        lab.start(2, backup_kind, 100, version, interval)
        down = master_down(interval)
        check(wait(lambda: lab.has_vip(1), 10 + 4 * interval) is not None, f"{name}: the priority 150 peer holds the VIP")
        time.sleep(2 * interval + 0.2)
        check(lab.has_vip(1) and not lab.has_vip(2), f"{name}: one master, the backup has no VIP")
        check(wait(lab.ping, 5) is not None, f"{name}: the client reaches the VIP")

        # from here a client probes the VIP every 2 ms; the master dies as a host does
        probe = Probe(lab)
        check(probe.fresh(), f"{name}: the probe is answered")
        t0 = time.monotonic()
        lab.die(1)
        took = wait(lambda: lab.has_vip(2), down + 5, 0.002)
        check(took is not None and took <= down + MARGIN, f"{name}: kill -9, the backup holds the VIP (bound {down:.3f} s)",
              f"{took:.3f} s" if took is not None else "never")
        probe.answered_since(t0, f"{name}: kill -9", down + MARGIN)
        check(wait(lab.ping, 5) is not None, f"{name}: the client's pings are answered after the failover")
        neigh = sh(f"ip -n {lab.cl} neigh show {VIP}").stdout
        check(lab.mac(2) in neigh, f"{name}: ... from the backup's MAC", neigh.strip())

        # what its reboot would have cleared: the VIP, keepalived's pid files
        lab.procs[1].wait(timeout=20)
        sh(f"ip -n {lab.ns[1]} addr del {VIP}/24 dev eth0; rm -f {lab.work}/{lab.ns[1]}.k*pid", check=False)
        t0 = time.monotonic()
        lab.start(1, master_kind, 150, version, interval)
        check(wait(lambda: lab.has_vip(1) and not lab.has_vip(2), 10 + 6 * interval) is not None,
              f"{name}: the old master returns and preempts")
        probe.answered_since(t0, f"{name}: preemption", down + MARGIN)

        t0 = time.monotonic()
        lab.kill(1, signal.SIGTERM)
        took = wait(lambda: lab.has_vip(2), 5 + down, 0.002)
        check(took is not None and took <= skew(interval) + MARGIN,
              f"{name}: clean stop, the backup takes over (skew {skew(interval):.3f} s)",
              f"{took:.3f} s" if took is not None else "never")
        probe.answered_since(t0, f"{name}: clean stop", skew(interval) + MARGIN)
        lab.procs[1].wait(timeout=20)
        check(not lab.has_vip(1), f"{name}: the stopped peer released the VIP")
        if master_kind == backup_kind == "directord":
            link_down_case(lab, probe, name, version, interval)
    finally:
        if len(failures) > before:
            print(lab.logs())
        lab.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    args = ap.parse_args()
    d = args.directord
    scenario(d, "directord", "directord", 3, 0.1)
    scenario(d, "directord", "keepalived", 3, 0.1)
    scenario(d, "keepalived", "directord", 3, 0.1)
    scenario(d, "directord", "keepalived", 2, 1)
    scenario(d, "keepalived", "directord", 2, 1)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
