#!/usr/bin/env python3
"""Inside the IPVS VM: directord drives the kernel's IPVS for real traffic.

Network namespaces for a client and three real servers (on a bridge behind the director, which is
the VM's own namespace and their gateway); directord programs a NAT virtual service from its
config file. Checked: the client's connections reach the real servers in the wrr proportions of
the weights; a new weight in the config plus SIGHUP changes the proportions, and a connection open
across the reload keeps working; `ipvsadm -C` behind directord's back is repaired within the
resync period (and a service added by hand is left alone); SIGTERM removes only what directord
created."""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile

from dlab.report import check, failures, wait

VIP = "10.0.1.100"
SERVERS = {"rs1": "10.0.2.11", "rs2": "10.0.2.12", "rs3": "10.0.2.13"}

SERVER = r"""
import socket, sys, threading
name = sys.argv[1].encode()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(256)
def serve(c):
    try:
        c.sendall(name + b"\n")
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(d)
    except OSError: pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def wait_for(pred, timeout=30.0, step=0.2):
    return wait(pred, timeout, step) is not None


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def connect():
    """From the client namespace: one connection, the name of the server that answered."""
    out = subprocess.run(["ip", "netns", "exec", "client", sys.executable, "-c",
                          "import socket,sys\n"
                          "n=int(sys.argv[1]); seen=[]\n"
                          "for i in range(n):\n"
                          " s=socket.create_connection(('%s',80),timeout=5); f=s.makefile(); seen.append(f.readline().strip()); s.close()\n"
                          "print(' '.join(seen))" % VIP, str(COUNT)],
                         capture_output=True, text=True, timeout=120)
    return out.stdout.split()


def counts(names):
    return {n: names.count(n) for n in SERVERS}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    args = ap.parse_args()
    global COUNT
    COUNT = 60

    sh("sysctl -qw net.ipv4.ip_forward=1")
    sh("ip link set lo up")
    sh("ip netns add client && ip link add dc type veth peer name eth0 netns client")
    sh(f"ip addr add 10.0.1.1/24 dev dc && ip link set dc up && ip addr add {VIP}/32 dev dc")
    sh("ip netns exec client sh -c 'ip link set lo up; ip addr add 10.0.1.2/24 dev eth0; ip link set eth0 up'")
    sh("ip link add br0 type bridge && ip addr add 10.0.2.1/24 dev br0 && ip link set br0 up")
    procs = []
    for name, addr in SERVERS.items():
        sh(f"ip netns add {name} && ip link add v{name} type veth peer name eth0 netns {name}")
        sh(f"ip link set v{name} master br0 && ip link set v{name} up")
        sh(f"ip netns exec {name} sh -c 'ip link set lo up; ip addr add {addr}/24 dev eth0; ip link set eth0 up; "
           f"ip route add default via 10.0.2.1'")
        procs.append(subprocess.Popen(["ip", "netns", "exec", name, sys.executable, "-c", SERVER, name]))

    def listening(addr):
        try:
            socket.create_connection((addr, 80), timeout=1).close()
            return True
        except OSError:
            return False

    for addr in SERVERS.values():  # the servers first, so no check fails while they start
        check(wait_for(lambda: listening(addr), 60), f"real server {addr} listening")
    work = tempfile.mkdtemp()
    conf = os.path.join(work, "directord.conf")

    def write(weights):
        rs = ", ".join(f'{{ address = "{addr}"; port = 80; weight = {w}; checks = ( {{ type = "tcp"; }} ); }}'
                       for (name, addr), w in zip(SERVERS.items(), weights))
        with open(conf, "w") as f:
            f.write(f"""global = {{ data_plane = "kernel"; resync_interval = 2.0; log_level = "info";
  pid_file = "{work}/directord.pid"; state_dump_file = "{work}/state.json"; control_socket = "{work}/ctl.sock"; }};
virtual_servers = ( {{ address = "{VIP}"; port = 80; protocol = "tcp"; scheduler = "wrr"; forwarding = "nat";
  delay_loop = 1.0; connect_timeout = 2.0; real_servers = ( {rs} ); }} );
""")

    write([1, 2, 3])
    log = open(os.path.join(work, "directord.log"), "w")
    d = subprocess.Popen([args.directord, "-f", conf], stdout=log, stderr=subprocess.STDOUT)
    logtext = lambda: open(os.path.join(work, "directord.log")).read()
    try:
        ok = wait_for(lambda: subprocess.run(["ipvsadm", "-Ln"], capture_output=True, text=True).stdout.count("Masq") == 3, 60)
        check(ok, "directord programmed the kernel with three NAT real servers", "" if ok else logtext()[-2000:])
        check("kernel IPVS 1.2.1 over generic netlink" in logtext(), "directord says it drives the kernel")
        wait_for(lambda: len(connect()) == COUNT, 30)
        c = counts(connect())
        check(c == {"rs1": 10, "rs2": 20, "rs3": 30}, "wrr 1:2:3 over 60 connections", str(c))

        # a connection open across the reload
        held = subprocess.Popen(["ip", "netns", "exec", "client", sys.executable, "-u", "-c",
                                 "import socket,sys\n"
                                 f"s=socket.create_connection(('{VIP}',80),timeout=20); f=s.makefile('rw')\n"
                                 "print(f.readline().strip(), flush=True)\n"
                                 "sys.stdin.readline()\n"
                                 "f.write('still here\\n'); f.flush(); print(f.readline().strip(), flush=True)\n"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = held.stdout.readline().strip()
        check(first in SERVERS, "a connection is held open", first)
        write([3, 2, 1])
        d.send_signal(signal.SIGHUP)
        ok = wait_for(lambda: "applied" in logtext() and "1 changed" in logtext(), 30)
        check(ok, "SIGHUP applied the new weights")
        ops_line = [l for l in logtext().splitlines() if "table ops" in l]
        check(bool(ops_line) and "; 2 table ops" in ops_line[-1], "the reload sent only the two weights that changed",
              ops_line[-1] if ops_line else "")
        c = counts(connect())
        check(c == {"rs1": 30, "rs2": 20, "rs3": 10}, "wrr 3:2:1 after the reload", str(c))
        held.stdin.write("\n")
        held.stdin.flush()
        echoed = held.stdout.readline().strip()
        check(echoed == "still here", "the held connection survived the reload", echoed)
        held.wait(timeout=20)

        # drift: the table flushed behind directord's back comes back; a hand-made service stays
        sh("ipvsadm -C && ipvsadm -A -t 10.0.1.200:8080 -s rr")
        ok = wait_for(lambda: subprocess.run(["ipvsadm", "-Ln"], capture_output=True, text=True).stdout.count("Masq") == 3, 15)
        check(ok, "ipvsadm -C repaired within the resync period")
        check("repairing drift: add-service TCP  10.0.1.100:80" in logtext(), "the repair is logged",
              next((l for l in logtext().splitlines() if "repair" in l), ""))
        listing = subprocess.run(["ipvsadm", "-Ln"], capture_output=True, text=True).stdout
        check("10.0.1.200:8080" in listing, "the hand-made service is left alone")
        c = counts(connect())
        check(c == {"rs1": 30, "rs2": 20, "rs3": 10}, "traffic flows again after the repair", str(c))

        # a real server down: its check fails and it leaves the table
        procs[0].kill()
        procs[0].wait()
        ok = wait_for(lambda: "10.0.2.11:80" not in subprocess.run(["ipvsadm", "-Ln"], capture_output=True, text=True).stdout, 30)
        check(ok, "a dead real server is removed from the kernel table")
        c = counts(connect())
        check(c["rs1"] == 0 and c["rs2"] + c["rs3"] == COUNT, "its traffic goes to the others", str(c))
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(timeout=30)
        except subprocess.TimeoutExpired:
            d.kill()
    listing = subprocess.run(["ipvsadm", "-Ln"], capture_output=True, text=True).stdout
    check(VIP + ":80" not in listing and "10.0.1.200:8080" in listing, "SIGTERM removed only directord's service")
    for p in procs:
        p.kill()
    print(f"{len(failures)} failure(s)")
    if failures:
        print(logtext()[-3000:])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
