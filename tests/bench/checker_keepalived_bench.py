#!/usr/bin/env python3
"""bench:checker_keepalived: keepalived's checker beside directord's, in one run, in the IPVS VM
(keepalived's checker programs IPVS and exits without it; the host has none).

The same kind of servers for both (checker_bench --serve: a wildcard TCP acceptor, an HTTP server),
the same targets (N real servers on 127.1.x.y, checked every second), for TCP, HTTP and ping in
turn. keepalived runs its checker alone (-C); its checker process's CPU comes from /proc, the
checks it made from nftables counters in the VM (SYNs to the servers' ports, ICMP echo requests).
directord's numbers come from checker_bench itself (its loop's CPU, attempts). Prints, per type:
checks/s, CPU (% of one core), CPU per check, and directord / keepalived. The VM's CPU is emulated
(several times slower than the host): the ratio is the figure, not the absolute rates."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")


def sh(cmd, **kw):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def target(i):
    return f"127.1.{i // 250}.{i % 250 + 1}"


def keepalived_conf(kind, n, tcp_port, http_port):
    servers = []
    for i in range(n):
        if kind == "tcp":
            body = "TCP_CHECK { connect_timeout 2 }"
            port = tcp_port
        elif kind == "http":
            body = (f"HTTP_GET {{\n      url {{\n        path /health\n        status_code 200\n      }}\n"
                    f"      connect_ip 127.0.0.1\n      connect_port {http_port}\n      connect_timeout 2\n    }}")
            port = 80
        else:
            body = "PING_CHECK { connect_timeout 2 }"
            port = 80
        servers.append(f"  real_server {target(i)} {port} {{\n    {body}\n  }}")
    return ("global_defs {\n  router_id kbench\n}\nvirtual_server 10.250.0.1 80 {\n  delay_loop 1\n"
            "  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n" + "\n".join(servers) + "\n}\n")


def counter(name):
    out = json.loads(sh(f"nft -j list counter inet kbench c{name}").stdout)
    return next(x["counter"]["packets"] for x in out["nftables"] if "counter" in x)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def run_keepalived(work, kind, n, ports, warm, seconds):
    conf = f"{work}/k-{kind}.conf"
    with open(conf, "w") as f:
        f.write(keepalived_conf(kind, n, *ports))
    for p in ("k.pid", "kc.pid"):
        if os.path.exists(f"{work}/{p}"):
            os.unlink(f"{work}/{p}")
    log = open(f"{work}/k-{kind}.log", "w")
    k = subprocess.Popen(["keepalived", "-n", "-l", "-C", "-f", conf, "-p", f"{work}/k.pid", "-c", f"{work}/kc.pid"],
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(f"{work}/kc.pid") and time.monotonic() < deadline:
            time.sleep(0.1)
        checker = int(open(f"{work}/kc.pid").read().strip())
        time.sleep(warm)
        c0, t0, w0 = counter(kind), cpu_ticks(checker), time.monotonic()
        time.sleep(seconds)
        c1, t1, w1 = counter(kind), cpu_ticks(checker), time.monotonic()
        wall = w1 - w0
        return {"checks": (c1 - c0) / wall, "cpu": 100.0 * (t1 - t0) / TICK / wall}
    finally:
        k.terminate()
        try:
            k.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(k.pid, 9)
            k.wait()
        subprocess.run("ipvsadm -C", shell=True)


def run_directord(bench, n, seconds, grain):
    extra = f" --grain-ms {grain}" if grain else ""
    out = sh(f"{bench} --tcp {n} --http {n} --https 0 --ping {n} --seconds {seconds}{extra}").stdout
    rows = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 9 and f[0] in ("tcp", "http", "ping"):
            rows[f[0]] = {"checks": float(f[2]), "cpu": float(f[3]), "p50": float(f[5]), "p99": float(f[6])}
    return rows, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True, help="checker_bench")
    ap.add_argument("-n", type=int, default=1000, help="real servers per type (checks/s)")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--grain-ms", type=int, default=0, help="directord's timer grain (0: the lvs worker's)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kbench-")
    sh("ip link set lo up")
    srv = subprocess.Popen([args.bench, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ports = [int(x) for x in srv.stdout.readline().split()[1:3]]
        sh("nft -f -", input=f"""table inet kbench {{
  counter ctcp {{}}
  counter chttp {{}}
  counter cping {{}}
  chain in {{ type filter hook input priority 0; policy accept;
    tcp dport {ports[0]} tcp flags & (syn | ack) == syn counter name "ctcp"
    tcp dport {ports[1]} tcp flags & (syn | ack) == syn counter name "chttp"
    icmp type echo-request counter name "cping"
  }}
}}
""")
        theirs = {}
        for kind in ("tcp", "http", "ping"):
            theirs[kind] = run_keepalived(work, kind, args.n, ports, 5, args.seconds)
            print(f"keepalived {kind}: {theirs[kind]['checks']:.0f} checks/s, {theirs[kind]['cpu']:.1f}% of a core",
                  flush=True)
    finally:
        srv.stdin.close()
        srv.wait()
        subprocess.run("nft delete table inet kbench", shell=True)
    ours, raw = run_directord(args.bench, args.n, args.seconds, args.grain_ms)
    print(raw, flush=True)
    print(f"checker CPU beside keepalived {sh('keepalived --version 2>&1 | head -1').stdout.strip()} "
          f"(same VM, same servers, {args.n} targets per type, checked every 1 s):")
    print(f"{'type':6} {'directord/s':>11} {'cpu %':>7} {'us/check':>9} {'keepalived/s':>12} {'cpu %':>7} "
          f"{'us/check':>9} {'cpu per check d/k':>18}")
    ok = True
    for kind in ("tcp", "http", "ping"):
        d, k = ours.get(kind), theirs.get(kind)
        if not d or not k or d["checks"] <= 0 or k["checks"] <= 0:
            print(f"{kind:6} missing: directord {d}, keepalived {k}")
            ok = False
            continue
        du = d["cpu"] / 100 / d["checks"] * 1e6
        ku = k["cpu"] / 100 / k["checks"] * 1e6
        print(f"{kind:6} {d['checks']:11.0f} {d['cpu']:7.1f} {du:9.1f} {k['checks']:12.0f} {k['cpu']:7.1f} {ku:9.1f} "
              f"{du / ku:17.2f}x")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
