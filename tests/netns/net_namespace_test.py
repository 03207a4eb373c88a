#!/usr/bin/env python3
"""global.net_namespace (keepalived's net_namespace): directord started in the host's namespace runs
in /run/netns/NAME (root; namespaces of the test's own).

A namespace with a veth `nsv0` (its peer in a second namespace); directord is started outside it,
with net_namespace naming it, and an instance on nsv0: the instance becomes MASTER and its VIP is on
nsv0 in that namespace (the host has no nsv0); the control socket answers; a reload that changes
net_namespace is refused (the running config kept); `-t` warns about a namespace that does not
exist, and a start with one stops at once with the reason. The import carries keepalived's
net_namespace over."""
import os
import signal
import subprocess
import tempfile
import uuid

from dlab.report import check, run_main, sh, wait


def conf(work, ns):
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  net_namespace = "{ns}"; }};
vrrp_instances = ( {{ name = "VI_1"; interface = "nsv0"; virtual_router_id = 71; version = 3; advert_interval = 0.1;
  virtual_addresses = ( "10.97.0.10/24" ); }} );
"""


def run(directord):
    ctl = os.path.join(os.path.dirname(directord), "directorctl")
    tag = uuid.uuid4().hex[:6]
    ns, peer = f"nsd{tag}", f"nsp{tag}"
    work = tempfile.mkdtemp(prefix="netns-")
    proc = None
    try:
        for n in (ns, peer):
            sh(f"ip netns add {n}")
        sh(f"ip -n {ns} link add nsv0 type veth peer name nsv0 netns {peer}")
        sh(f"ip -n {ns} addr add 10.97.0.1/24 dev nsv0 && ip -n {ns} link set nsv0 up && ip -n {peer} link set nsv0 up")
        path = os.path.join(work, "d.conf")
        with open(path, "w") as f:
            f.write(conf(work, ns))
        log = open(os.path.join(work, "d.log"), "w")
        proc = subprocess.Popen([directord, "-f", path], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        text = lambda: open(os.path.join(work, "d.log")).read()  # noqa: E731
        addrs = lambda: sh(f"ip -n {ns} -o addr show dev nsv0", check=False).stdout  # noqa: E731
        check(wait(lambda: " 10.97.0.10/24 " in addrs(), 15) is not None,
              "started in the host's namespace, the instance's VIP is on nsv0 in the named one", text()[-400:])
        check("nsv0" not in sh("ip -o link show", check=False).stdout, "... (the host has no nsv0)")
        r = sh(f"{ctl} -s {work}/d.sock status --json", check=False)
        check('"MASTER"' in r.stdout, "the control socket answers: MASTER", r.stdout[:200])
        with open(path, "w") as f:
            f.write(conf(work, peer))
        r = sh(f"{ctl} -s {work}/d.sock reload", check=False)
        check(r.returncode != 0 and "net_namespace changed" in r.stdout + r.stderr,
              "a reload that changes net_namespace is refused", (r.stdout + r.stderr)[-300:])
        check(" 10.97.0.10/24 " in addrs(), "... and the running config is kept")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        check(" 10.97.0.10/" not in addrs(), "a clean stop releases the VIP in that namespace")
        with open(path, "w") as f:
            f.write(conf(work, f"nosuch{tag}"))
        r = subprocess.run([directord, "-t", "-f", path], capture_output=True, text=True)
        check(r.returncode == 0 and f"no network namespace nosuch{tag} in /run/netns" in r.stderr,
              "-t warns about a namespace that does not exist", r.stderr[-300:])
        r = subprocess.run([directord, "-f", path], capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and f"ip netns add nosuch{tag}" in r.stderr,
              "a start with it stops at once, saying how to make it", r.stderr[-300:])
        kconf = os.path.join(work, "k.conf")
        with open(kconf, "w") as f:
            f.write(f"global_defs {{\n  net_namespace {ns}\n}}\n")
        r = subprocess.run([directord, "--import-keepalived", kconf], capture_output=True, text=True)
        check(f'net_namespace = "{ns}";' in r.stdout, "the import carries keepalived's net_namespace",
              r.stdout[-300:] + r.stderr[-300:])
    finally:
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for n in (ns, peer):
            sh(f"ip netns del {n}", check=False)


if __name__ == "__main__":
    run_main(run, "net_namespace")
