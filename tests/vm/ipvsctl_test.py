#!/usr/bin/env python3
"""Inside the IPVS VM: ipvsctl and Debian's ipvsadm side by side on the same kernel tables. Every
list format byte for byte, -S/-R round trips both ways, the same errors and exit codes."""
import argparse
import socket
import subprocess
import sys
import time

failures = []


def run(*cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True)


def same(what, *args, stdin=None):
    a = run("ipvsadm", *args, stdin=stdin)
    b = run(IPVSCTL, *args, stdin=stdin)
    ok = (a.stdout, a.stderr, a.returncode) == (b.stdout, b.stderr, b.returncode)
    print(f"{'ok  ' if ok else 'FAIL'} {what}: ipvsadm {' '.join(args)}")
    if not ok:
        failures.append(what)
        print(f"     ipvsadm ({a.returncode}): {a.stdout!r} {a.stderr!r}")
        print(f"     ipvsctl ({b.returncode}): {b.stdout!r} {b.stderr!r}")
    return ok


def sh(*cmd):
    subprocess.run(cmd, check=True)


TABLE = """-A -t 192.0.2.10:80 -s wlc
-a -t 192.0.2.10:80 -r 198.51.100.11:8080 -m -w 100
-a -t 192.0.2.10:80 -r 198.51.100.12:8080 -m -w 50 -x 1000 -y 800
-A -t 192.0.2.10:443 -s sh -b sh-fallback,sh-port -p 600 -M 255.255.255.0
-a -t 192.0.2.10:443 -r 198.51.100.21:443 -g -w 1
-a -t 192.0.2.10:443 -r 198.51.100.22:443 -g -w 0
-A -u 192.0.2.10:53 -s rr -o
-a -u 192.0.2.10:53 -r 198.51.100.31:53 -m
-A -f 80 -s lc -p 300
-a -f 80 -r 198.51.100.41:0 -i -w 3
-a -f 80 -r 198.51.100.42:0 -i --tun-type gue --tun-port 6080 --tun-csum -w 2
-A -f 81 -6 -s rr
-A -t [2001:db8::10]:8443 -s mh -b mh-port -p 60 -M 64
-a -t [2001:db8::10]:8443 -r [2001:db8:1::1]:443 -m -w 7
-a -t [2001:db8::10]:8443 -r [2001:db8:1::2]:443 -m -w 7
-A --sctp-service 192.0.2.10:3868 -s fo
-a --sctp-service 192.0.2.10:3868 -r 198.51.100.51:3868 -m -w 10
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipvsctl", required=True)
    global IPVSCTL
    IPVSCTL = ap.parse_args().ipvsctl

    sh("ip", "link", "add", "dummy0", "type", "dummy")
    sh("ip", "link", "set", "dummy0", "up")
    sh("ip", "addr", "add", "192.0.2.10/32", "dev", "dummy0")
    sh("ip", "addr", "add", "198.51.100.254/24", "dev", "dummy0")

    # built with ipvsctl, read with both
    r = run(IPVSCTL, "-R", stdin=TABLE)
    if r.returncode != 0:
        failures.append("ipvsctl -R")
        print("FAIL ipvsctl -R:", r.stderr)
    sh("ipvsadm", "--set", "3600", "60", "30")
    # some traffic for the counters: datagrams from many clients, then quiet
    for i in range(1, 200):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_IP, 19, 1)
        s.bind((f"203.0.113.{i}", 5000))
        s.sendto(b"x" * (i * 7), ("192.0.2.10", 53))
        s.close()
    time.sleep(2.5)  # the kernel folds its per-CPU counters into what it reports every 2 s
    for flags in [["-Ln"], ["-Ln", "--stats"], ["-Ln", "--exact", "--stats"], ["-Ln", "--thresholds"],
                  ["-Ln", "--persistent-conn"], ["-Ln", "--tun-info"], ["-Ln", "-t", "192.0.2.10:80"],
                  ["-Ln", "-f", "80"], ["-Ln", "-f", "81", "-6"], ["-Ln", "--sctp-service", "192.0.2.10:3868", "--stats"],
                  ["-L", "--timeout"], ["-Sn"], ["-Ln", "-t", "192.0.2.10:81"], ["-Lnc"], ["-L", "-n", "-c"],
                  ["-Ln", "--daemon"], ["-Ln", "--nosort"], ["-Sn", "--nosort"], ["-Ln", "--nosort", "--stats"]]:
        same("list", *flags)
    # rates move every 2 s: compare only when ipvsadm says the same before and after
    for _ in range(5):
        a1 = run("ipvsadm", "-Ln", "--rate").stdout
        b = run(IPVSCTL, "-Ln", "--rate").stdout
        a2 = run("ipvsadm", "-Ln", "--rate").stdout
        if a1 == a2:
            print(f"{'ok  ' if a1 == b else 'FAIL'} list: ipvsadm -Ln --rate")
            if a1 != b:
                failures.append("--rate")
                print(a1, b)
            break

    # -S | -R round trips, both ways
    saved = run("ipvsadm", "-Sn").stdout
    sh("ipvsadm", "-C")
    r = run(IPVSCTL, "-R", stdin=saved)
    ok = r.returncode == 0 and run("ipvsadm", "-Sn").stdout == saved
    print(f"{'ok  ' if ok else 'FAIL'} ipvsadm -Sn | ipvsctl -R")
    if not ok:
        failures.append("ipvsadm -S | ipvsctl -R")
    ours = run(IPVSCTL, "-S").stdout
    run(IPVSCTL, "-C")
    r = run("ipvsadm", "-R", stdin=ours)
    ok = r.returncode == 0 and run(IPVSCTL, "-S").stdout == ours == saved
    print(f"{'ok  ' if ok else 'FAIL'} ipvsctl -S | ipvsadm -R")
    if not ok:
        failures.append("ipvsctl -S | ipvsadm -R")

    # errors: the same text and exit code
    same("error", "-A", "-t", "192.0.2.10:80", "-s", "rr")
    same("error", "-A", "-t", "192.0.2.10:82", "-s", "nosuch")
    same("error", "-E", "-t", "192.0.2.10:82", "-s", "rr")
    same("error", "-D", "-t", "192.0.2.10:82")
    same("error", "-a", "-t", "192.0.2.10:82", "-r", "198.51.100.11")
    same("error", "-a", "-t", "192.0.2.10:80", "-r", "198.51.100.11:8080", "-m")
    same("error", "-e", "-t", "192.0.2.10:80", "-r", "198.51.100.99:8080", "-m")
    same("error", "-d", "-t", "192.0.2.10:80", "-r", "198.51.100.99:8080")
    same("error", "-Z", "-t", "192.0.2.10:82")
    same("error", "--stop-daemon", "master")

    # changes made with ipvsctl, as ipvsadm sees them (and the other way)
    for args in [["-E", "-t", "192.0.2.10:80", "-s", "wrr", "-p", "30"], ["-e", "-t", "192.0.2.10:80", "-r", "198.51.100.11:8080", "-m", "-w", "3"],
                 ["-d", "-t", "192.0.2.10:80", "-r", "198.51.100.12:8080"], ["-D", "-u", "192.0.2.10:53"], ["-Z"],
                 ["--set", "900", "0", "300"]]:
        r = run(IPVSCTL, *args)
        if r.returncode != 0:
            failures.append(" ".join(args))
            print("FAIL ipvsctl", *args, r.stderr)
    same("after edits", "-Ln")
    same("after edits", "-Ln", "--stats")
    same("after edits", "-L", "--timeout")
    sh("ip", "link", "add", "sync0", "type", "dummy")
    sh("ip", "link", "set", "sync0", "up", "multicast", "on")
    r = run(IPVSCTL, "--start-daemon", "master", "--mcast-interface", "sync0", "--syncid", "5", "--mcast-port", "8849")
    if r.returncode != 0:
        failures.append("--start-daemon")
    same("daemon", "-L", "--daemon")
    same("daemon error", "--start-daemon", "master", "--mcast-interface", "sync0")
    time.sleep(0.3)
    run(IPVSCTL, "--stop-daemon", "master")
    same("daemon stopped", "-L", "--daemon")
    same("clear", "-C")

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
