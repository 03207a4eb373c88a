#!/usr/bin/env python3
"""Data plane benchmark: in one run, on loopback inside a network namespace of its own, the same wrk
load against (a) nginx directly, (b) haproxy (mode tcp) in front of it, (c) directord's userspace
plane in front of it, (d) directord's nftables plane (the kernel DNATs), (e) one hand-written nft
dnat rule (the floor for any plane built on nftables). Measures the
short-connection rate (connections/s, one request per connection), bulk throughput (Gbit/s, 10 MB
responses) and the p50/p99 latency of small keep-alive exchanges; prints absolute numbers and the
ratios to haproxy and to direct. With --client-link, wrk runs in a namespace of its own and reaches
the targets over a veth link, as clients reach a director (the kernel's DNAT then happens in
prerouting; on loopback it happens in the output path, where every packet is routed again). It also measures what each request costs the whole machine (CPU
time of every process and of the kernel, from /proc/stat), and so what a proxy adds over direct:
with wrk, nginx and the proxy sharing the cores, throughput ratios understate the difference between
two proxies, the added CPU does not. Every process it starts it stops, by PID; the namespace goes with
it."""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(host, port, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def units(value, unit, table):
    return float(value) * table.get(unit, 1)


def fresh():
    """Forgets the connections of the run before (conntrack's table, which the nftables plane makes
    every target pay for, as a director on that plane would)."""
    subprocess.run(["conntrack", "-F"], capture_output=True)


def busy_ticks():
    """CPU time the whole machine spent busy (user, system, irq, softirq, steal), in clock ticks."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


CLIENT = []  # the command prefix that runs wrk in the client's namespace (--client-link)


def wrk(url, seconds, conns, extra=()):
    fresh()
    t0 = busy_ticks()
    out = subprocess.run(CLIENT + ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", *extra, url],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    ticks = busy_ticks() - t0
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    bps = units(m.group(1), m.group(2), {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}) * 8
    lat = {}
    for q in ("50", "99"):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        lat[q] = units(m.group(1), m.group(2), {"us": 1e-3, "ms": 1, "s": 1000}) if m else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {"rps": rps, "gbps": bps / 1e9, "p50": lat["50"], "p99": lat["99"], "errors": errors.group(0) if errors else "",
            "cpu": ticks * 1e6 / os.sysconf("SC_CLK_TCK") / max(requests, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="rounds over every target, alternating the order")
    ap.add_argument("--compare", help="another directord binary, run as a fifth target on the userspace plane"
                    " (an A/B of a change to the relays, in the same run)")
    ap.add_argument("--client-link", action="store_true",
                    help="wrk in a namespace of its own behind a veth link: clients arrive over an interface, as at a"
                    " director (the kernel's DNAT then happens in prerouting, not in the output path of loopback)")
    ap.add_argument("--inside", action="store_true", help="(internal) already in the benchmark's namespace")
    ap.add_argument("--client-ns", help="(internal) the client's namespace")
    args = ap.parse_args()
    if not args.inside:  # everything runs in namespaces of its own: the host's ruleset is never touched
        ns, cli = f"dpbench{os.getpid()}", f"dpcli{os.getpid()}"
        made = []
        try:
            for n in (ns, cli) if args.client_link else (ns,):
                subprocess.run(["ip", "netns", "add", n], check=True)
                made.append(n)
                subprocess.run(["ip", "-n", n, "link", "set", "lo", "up"], check=True)
                # every run starts from the same kernel state: short connections leave thousands of
                # TIME_WAIT sockets and conntrack entries behind, which slow whichever target runs next
                subprocess.run(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1",
                                "net.ipv4.ip_local_port_range=1024 65535"], check=True)
            if args.client_link:
                for cmd in (["link", "add", "c0", "netns", cli, "type", "veth", "peer", "name", "b0", "netns", ns],
                            ["-n", cli, "addr", "add", "10.99.0.1/24", "dev", "c0"],
                            ["-n", ns, "addr", "add", "10.99.0.254/24", "dev", "b0"],
                            ["-n", cli, "link", "set", "c0", "up"], ["-n", ns, "link", "set", "b0", "up"],
                            ["-n", cli, "route", "add", "10.99.1.0/24", "via", "10.99.0.254"]):
                    subprocess.run(["ip"] + cmd, check=True)
                for i in range(2, 7):  # the real servers' addresses (nginx), on the director's lo
                    subprocess.run(["ip", "-n", ns, "addr", "add", f"10.99.1.{i}/32", "dev", "lo"], check=True)
            return subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "--inside",
                                   "--directord", args.directord, "--seconds", str(args.seconds),
                                   "--rounds", str(args.rounds)] +
                                  (["--client-ns", cli] if args.client_link else []) +
                                  (["--compare", os.path.abspath(args.compare)] if args.compare else [])).returncode
        finally:
            for n in made:
                subprocess.run(["ip", "netns", "del", n])
    if args.client_ns:
        CLIENT[:] = ["ip", "netns", "exec", args.client_ns]
    for tool in ("nginx", "haproxy", "wrk"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"dataplane bench: {tool} is missing (tools/setup-debian.sh installs it)")

    work = tempfile.mkdtemp(prefix="dataplane-bench-")
    os.chmod(work, 0o755)
    procs = []
    try:
        www = os.path.join(work, "www")
        os.makedirs(www)
        with open(os.path.join(www, "small"), "w") as f:
            f.write("x" * 64)
        with open(os.path.join(www, "big"), "wb") as f:
            f.write(os.urandom(10 << 20))
        os.chmod(www, 0o755)
        for n in ("small", "big"):
            os.chmod(os.path.join(www, n), 0o644)
        pn, ph, pd, pf, pb, pr = free_port(), free_port(), free_port(), free_port(), free_port(), free_port()
        # nginx on one address per target: the connections of one target never meet another's
        # TIME_WAIT sockets at nginx (with the same addresses and ports, a SYN through the kernel's
        # DNAT met sockets the proxies' connections had left, and PAWS turned a quarter of them
        # away for a one-second retransmit)
        vip = "10.99.0.254" if args.client_ns else "127.0.0.1"  # every target's address, as clients see it
        net = "10.99.1" if args.client_ns else "127.0.0"
        rs = {"direct": vip, "haproxy": f"{net}.2", "userspace": f"{net}.3", "nftables": f"{net}.4",
              "compare": f"{net}.5", "nft-rule": f"{net}.6"}
        listens = " ".join(f"listen {a}:{pn} reuseport backlog=4096;" for a in rs.values())
        with open(os.path.join(work, "nginx.conf"), "w") as f:
            f.write(f"""worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx.err;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 100000;
  server {{ {listens} root {www}; }} }}
""")
        with open(os.path.join(work, "haproxy.cfg"), "w") as f:
            f.write(f"""global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend fe
  bind {vip}:{ph}
  default_backend be
backend be
  server nginx {rs["haproxy"]}:{pn}
""")
        with open(os.path.join(work, "directord.conf"), "w") as f:
            f.write(f"""global = {{ data_plane = "userspace"; pid_file = "{work}/directord.pid";
  state_dump_file = "{work}/state.json"; control_socket = "{work}/ctl.sock"; log_level = "warning"; }};
virtual_servers = ( {{ address = "{vip}"; port = {pd}; scheduler = "rr";
  real_servers = ( {{ address = "{rs["userspace"]}"; port = {pn}; }} ); }} );
""")
        with open(os.path.join(work, "nftables.conf"), "w") as f:
            f.write(f"""global = {{ data_plane = "nftables"; pid_file = "{work}/nft.pid";
  state_dump_file = "{work}/nft.json"; control_socket = "{work}/nft.sock"; log_level = "warning"; }};
virtual_servers = ( {{ address = "{vip}"; port = {pf}; scheduler = "rr";
  real_servers = ( {{ address = "{rs["nftables"]}"; port = {pn}; }} ); }} );
""")
        if args.compare:
            with open(os.path.join(work, "directord.conf")) as f, open(os.path.join(work, "compare.conf"), "w") as g:
                g.write(f.read().replace(f"port = {pd};", f"port = {pb};")
                        .replace(f'"{rs["userspace"]}"', f'"{rs["compare"]}"').replace(f"{work}/directord.pid", f"{work}/b.pid")
                        .replace(f"{work}/state.json", f"{work}/b.json").replace(f"{work}/ctl.sock", f"{work}/b.sock"))
            procs.append(subprocess.Popen([args.compare, "-f", f"{work}/compare.conf"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        procs.append(subprocess.Popen([nginx, "-c", f"{work}/nginx.conf", "-p", work, "-g", "daemon off;"],
                                      stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([shutil.which("haproxy") or "/usr/sbin/haproxy", "-f", f"{work}/haproxy.cfg", "-db"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([args.directord, "-f", f"{work}/directord.conf"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([args.directord, "-f", f"{work}/nftables.conf"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # the floor for any nftables plane: one hand-written DNAT rule, in a table of its own
        hook = "prerouting priority dstnat" if args.client_ns else "output priority -100"
        subprocess.run(["nft", "-f", "-"], check=True, text=True, input=f"""table ip dpbench_rule {{
  chain nat {{ type nat hook {hook}; policy accept;
    ip daddr {vip} tcp dport {pr} dnat to {rs["nft-rule"]}:{pn}
  }}
}}
""")
        for p in (pn, ph, pd, pf) + ((pb,) if args.compare else ()):
            wait_port(vip, p)
        time.sleep(0.5)

        targets = [("direct", pn), ("haproxy", ph), ("userspace", pd), ("nftables", pf), ("nft-rule", pr)]
        if args.compare:
            targets.append(("compare", pb))
        results = {}
        where = ("from a client namespace over a veth link" if args.client_ns else "on loopback in a namespace")
        print(f"data plane benchmark: wrk -t1 against nginx {where}, {args.seconds} s per run, best of "
              f"{args.rounds} rounds, {os.cpu_count()} cores shared by all")
        # rounds in alternating order; each figure is the best of them (the machine's noise is
        # one-sided: a run is slowed, never sped up)
        for rnd in range(args.rounds):
            order = targets if rnd % 2 == 0 else targets[::-1]
            for name, port in order:
                base = f"http://{vip}:{port}"
                short = wrk(f"{base}/small", args.seconds, 32, ["-H", "Connection: close"])
                small = wrk(f"{base}/small", args.seconds, 8)
                bulk = wrk(f"{base}/big", args.seconds, 4)
                r = {"conn/s": short["rps"], "Gbit/s": bulk["gbps"], "p50 ms": small["p50"], "p99 ms": small["p99"],
                     "req/s": small["rps"], "us short": short["cpu"], "us keep-alive": small["cpu"],
                     "us bulk": bulk["cpu"]}
                if rnd == 0:
                    results[name] = r
                else:
                    for c, v in r.items():
                        better = min if "ms" in c or c.startswith("us ") else max
                        results[name][c] = better(results[name][c], v)
                for x in (short, small, bulk):
                    if x["errors"]:
                        print(f"  {name}: {x['errors']}")
        cols = ["conn/s", "req/s", "Gbit/s", "p50 ms", "p99 ms"]
        print(f"{'target':<10}" + "".join(f"{c:>12}" for c in cols))
        for name, _ in targets:
            print(f"{name:<10}" + "".join(f"{results[name][c]:>12.3f}" if "ms" in c or "Gbit" in c else f"{results[name][c]:>12.0f}" for c in cols))
        d, h = results["direct"], results["haproxy"]
        for plane in ("userspace", "nftables", "nft-rule") + (("compare",) if args.compare else ()):
            o = results[plane]
            for label, ref in (("vs haproxy", h), ("vs direct", d)):
                ratios = []
                for c in cols:
                    # latency: lower is better, so the ratio is ref / ours (>1 = ours is faster)
                    ratios.append(ref[c] / o[c] if "ms" in c else o[c] / ref[c])
                print(f"{plane + ' ' + label:<22}" + "  ".join(f"{c} {r:.2f}x" for c, r in zip(cols, ratios)))
        o, b = results["nftables"], results["nft-rule"]
        print(f"{'nftables vs nft-rule':<22}" +
              "  ".join(f"{c} {(b[c] / o[c] if 'ms' in c else o[c] / b[c]):.2f}x" for c in cols))
        if args.compare:
            o, b = results["userspace"], results["compare"]
            print(f"{'userspace vs compare':<22}" +
                  "  ".join(f"{c} {(b[c] / o[c] if 'ms' in c else o[c] / b[c]):.2f}x" for c in cols))
        print("(ratios: >1 means directord's plane is ahead; for latency, ref/ours)")
        cpu = ["us short", "us keep-alive", "us bulk"]
        print("machine CPU per request, us (every process and the kernel; bulk: one 10 MB response)")
        print(f"{'target':<10}" + "".join(f"{c[3:]:>14}" for c in cpu))
        for name, _ in targets:
            print(f"{name:<10}" + "".join(f"{results[name][c]:>14.1f}" for c in cpu))
        # what the proxy adds to a request over going direct: haproxy's added CPU / ours
        for plane in ("userspace", "nftables", "nft-rule") + (("compare",) if args.compare else ()):
            parts = []
            for c in cpu:
                ours, theirs = results[plane][c] - d[c], h[c] - d[c]
                parts.append(f"{c[3:]} {theirs / ours:.2f}x" if ours > 0 else f"{c[3:]} (no cost measured)")
            print(f"{plane + ' added cost vs haproxy':<32}" + "  ".join(parts))
        print("(added cost: haproxy's CPU per request over direct / the plane's; >1 means the plane costs less)")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
