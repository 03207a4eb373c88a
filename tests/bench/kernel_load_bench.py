#!/usr/bin/env python3
"""Kernel table load benchmark: 10,000 virtual services x 8 real servers loaded into the kernel by
directord (from its config file) and by `ipvsadm -R` (from the equivalent rules), in one run; then a
reload of that config with one real server's weight changed: the netlink operations sent and the
time. Goal: directord at most half of ipvsadm's time; the reload 1 op.

Each loader gets a freshly booted IPVS VM: after a flush the kernel keeps deleted destinations in
its trash list for two minutes and walks that list on every add, so whoever loads second into the
same kernel pays for the first (seen here: 5x slower)."""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

SERVICES, SERVERS = 10000, 8


def vip(i):
    return f"10.{100 + i // 65536}.{(i // 256) % 256}.{i % 256}"


def rs(j):
    return f"172.16.0.{j + 1}"


def wait_log(path, pattern, after=0, timeout=600):
    end = time.time() + timeout
    rx = re.compile(pattern)
    while time.time() < end:
        text = open(path).read()
        for m in rx.finditer(text, after):
            return m, text
        time.sleep(0.02)
    raise SystemExit(f"kernel load bench: timed out waiting for /{pattern}/ in {path}:\n{open(path).read()[-2000:]}")


def count_dests():
    out = subprocess.run(["ipvsadm", "-Sn"], capture_output=True, text=True).stdout
    return out.count("\n-A "), out.count("\n-a ") + out.startswith("-a ")


def main():
    global SERVICES
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    ap.add_argument("--vm", help="the IPVS VM runner: run each loader in its own VM and compare")
    ap.add_argument("--inside", choices=["ipvsadm", "directord"])
    ap.add_argument("--services", type=int, default=SERVICES, help="virtual services (CI's short run: fewer)")
    args = ap.parse_args()
    SERVICES = args.services
    if args.vm:
        return outside(args)
    work = tempfile.mkdtemp(prefix="kload-")
    rules = os.path.join(work, "rules")
    with open(rules, "w") as f:
        for i in range(SERVICES):
            f.write(f"-A -t {vip(i)}:80 -s wlc\n")
            for j in range(SERVERS):
                f.write(f"-a -t {vip(i)}:80 -r {rs(j)}:8080 -m -w 1\n")
    conf = os.path.join(work, "directord.conf")

    def write_conf(weight_first):
        with open(conf, "w") as f:
            f.write(f'global = {{ data_plane = "kernel"; resync_interval = 3600.0; log_level = "info"; '
                    f'pid_file = "{work}/d.pid"; state_dump_file = "{work}/state.json"; control_socket = "{work}/ctl.sock"; }};\n'
                    "virtual_servers = (\n")
            for i in range(SERVICES):
                servers = ", ".join(f'{{ address = "{rs(j)}"; port = 8080; weight = {weight_first if (i, j) == (0, 0) else 1}; }}'
                                    for j in range(SERVERS))
                f.write(f'{"," if i else ""}{{ address = "{vip(i)}"; port = 80; scheduler = "wlc"; forwarding = "nat"; '
                        f"real_servers = ( {servers} ); }}\n")
            f.write(");\n")

    write_conf(1)
    if args.inside == "ipvsadm":
        t0 = time.monotonic()
        with open(rules) as f:
            subprocess.run(["ipvsadm", "-R"], stdin=f, check=True)
        t_ipvsadm = time.monotonic() - t0
        loaded = count_dests()
        print(f"RESULT ipvsadm {t_ipvsadm:.3f} {loaded[0]} {loaded[1]}", flush=True)
        return 0

    log = os.path.join(work, "directord.log")
    t0 = time.monotonic()
    d = subprocess.Popen([args.directord, "-f", conf], stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        m, text = wait_log(log, r"ipvs: apply: (\d+) ops applied to the kernel table in (\d+) ms")
        t_directord = time.monotonic() - t0
        apply_ms = int(m.group(2))
        loaded = count_dests()
        print(f"RESULT directord {t_directord:.3f} {loaded[0]} {loaded[1]} {apply_ms / 1000:.3f} {m.group(1)}", flush=True)

        after = len(open(log).read())
        write_conf(5)
        t0 = time.monotonic()
        d.send_signal(signal.SIGHUP)
        m, text = wait_log(log, r"reload: .* applied: .*; (\d+) table ops", after)
        t_reload = time.monotonic() - t0
        weight = subprocess.run(["ipvsadm", "-Ln", "-t", f"{vip(0)}:80"], capture_output=True, text=True).stdout
        ok = bool(re.search(rf"{re.escape(rs(0))}:8080\s+Masq\s+5\s", weight))
        print(f"RESULT reload {m.group(1)} {t_reload:.3f} {'yes' if ok else 'no'}", flush=True)
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=600)
    return 0


def outside(args):
    print(f"kernel load benchmark: {SERVICES} virtual services x {SERVERS} real servers, each loader in a fresh IPVS VM",
          flush=True)
    results = {}
    for who in ("ipvsadm", "directord"):
        here = os.path.dirname(os.path.abspath(__file__))
        shares = ["--share", here, "--share", os.path.dirname(os.path.abspath(args.directord))]
        out = subprocess.run([args.vm, *shares, "--mem", "2G", "--timeout", "900", "--", sys.executable, os.path.abspath(__file__),
                              "--directord", args.directord, "--inside", who, "--services", str(SERVICES)],
                             capture_output=True, text=True)
        for line in out.stdout.splitlines():
            if line.startswith("RESULT "):
                f = line.split()
                results[f[1]] = f[2:]
        if out.returncode != 0:
            print(out.stdout[-3000:], out.stderr[-3000:])
            return 1
    ti, si, di = float(results["ipvsadm"][0]), results["ipvsadm"][1], results["ipvsadm"][2]
    td, sd, dd, apply_s, ops = float(results["directord"][0]), *results["directord"][1:]
    print(f"  ipvsadm -R          {ti:8.2f} s   ({si} services, {di} real servers)")
    print(f"  directord           {td:8.2f} s   ({sd} services, {dd} real servers; netlink apply {float(apply_s):.2f} s"
          f" for {ops} ops, the rest reading and checking the config)")
    print(f"  directord / ipvsadm {td / ti:8.2f}x  (goal <= 0.50x; the netlink apply alone {float(apply_s) / ti:.2f}x)")
    rops, rtime, rok = results["reload"]
    print(f"  reload, one weight changed: {rops} netlink op(s) (goal 1), {float(rtime):.2f} s from SIGHUP to applied"
          f" (re-reading the {SERVICES:,}-service config included); the kernel has the new weight: {rok}")
    return 0 if rok == "yes" and si == sd and di == dd else 1


if __name__ == "__main__":
    sys.exit(main())
