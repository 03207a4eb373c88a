#!/usr/bin/env python3
"""The Debian package (debian/): built as Debian builds it, checked by lintian, then installed,
run, removed and purged inside the IPVS VM, whose root is this host's own under a throwaway
overlay (nothing the install writes reaches the host).

On the host: the source tree (the files git knows) is copied to a fixed place (so ccache hits from
one run to the next) and `dpkg-buildpackage -us -uc -b` builds it with Debian's default flags
(hardening, _FORTIFY_SOURCE, -Werror kept); `lintian` must report no error (its warnings are
printed); the .deb holds the programs, the unit, the man pages, the examples, the monitoring files,
the MIBs and the default config as a conffile.

In the VM (--inside): `dpkg -i` installs it; the unit is enabled and nothing started; `directord -t`
passes on the installed default config; directord started on it answers on 127.0.0.1:9101 with the
status page and /status; `dpkg -r` removes the programs and keeps the conffile; `dpkg -P` removes
the conffile, the enablement and /etc/directord."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from dlab.report import check, failures

PKG = "directord"
EXPECTED = ["usr/sbin/directord", "usr/sbin/directorctl", "usr/sbin/ipvsctl", "lib/systemd/system/directord.service",
            "usr/share/man/man8/directord.8.gz", "usr/share/man/man8/directorctl.8.gz",
            "usr/share/man/man8/ipvsctl.8.gz", "usr/share/man/man5/directord.conf.5.gz",
            "usr/share/doc/directord/examples/quickstart.conf", "usr/share/doc/directord/copyright",
            "usr/share/doc/directord/monitoring/directord-alerts.yml",
            "usr/share/doc/directord/monitoring/grafana-dashboard.json",
            "usr/share/snmp/mibs/directord-KEEPALIVED-MIB.txt", "usr/share/snmp/mibs/directord-VRRP-MIB.txt",
            "usr/share/snmp/mibs/directord-VRRPV3-MIB.txt", "etc/directord/directord.conf"]


def run(cmd, **kw):
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def host(args):
    src = os.path.abspath(args.source)
    # a fixed place: the compiler's command lines (-ffile-prefix-map names the tree) stay the same
    # from one run to the next, so ccache serves them
    top = os.path.join(tempfile.gettempdir(), "directord-package")
    tree = os.path.join(top, PKG)
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(tree)
    files = subprocess.run(["git", "-C", src, "ls-files", "-co", "--exclude-standard", "-z"],
                           capture_output=True, check=True).stdout.split(b"\0")
    copied = 0
    for f in files:
        if not f:
            continue
        rel = f.decode()
        if not os.path.isfile(os.path.join(src, rel)):
            continue  # deleted in the work tree
        os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
        shutil.copy2(os.path.join(src, rel), os.path.join(tree, rel))
        copied += 1
    print(f"package: {copied} source files copied to {tree}", flush=True)

    t0 = time.monotonic()
    env = dict(os.environ, CCACHE_BASEDIR=tree, CCACHE_NOHASHDIR="1", DEB_BUILD_OPTIONS="nocheck")
    # debhelper (compat 13) gives the build a HOME of its own: name the cache, or it starts cold
    if shutil.which("ccache"):
        cache = subprocess.run(["ccache", "-k", "cache_dir"], capture_output=True, text=True).stdout.strip()
        if cache:
            env["CCACHE_DIR"] = cache
    with open(os.path.join(top, "build.log"), "w") as log:
        # niced: beside it run tests that judge timing
        r = subprocess.run(["nice", "-n", "15", "dpkg-buildpackage", "-us", "-uc", "-b", f"-j{args.jobs}"], cwd=tree, env=env,
                           stdout=log, stderr=subprocess.STDOUT)
    print(f"package: dpkg-buildpackage took {time.monotonic() - t0:.0f} s (log: {top}/build.log)", flush=True)
    if r.returncode != 0:
        print(open(os.path.join(top, "build.log"), errors="replace").read()[-6000:])
    check(r.returncode == 0, "dpkg-buildpackage -us -uc -b builds the package")
    debs = [f for f in os.listdir(top) if f.endswith(".deb") and f.startswith(PKG + "_")]
    check(len(debs) == 1, "one binary package", str(debs))
    if r.returncode != 0 or len(debs) != 1:
        return
    deb = os.path.join(top, debs[0])
    with open(os.path.join(top, "build.log"), errors="replace") as f:
        build_log = f.read()
    check("-D_FORTIFY_SOURCE=2" in build_log and "-Werror" in build_log,
          "built with Debian's flags (_FORTIFY_SOURCE) and -Werror")

    r = run(["lintian", "--fail-on", "error", "--tag-display-limit", "0", deb])
    tags = [line for line in r.stdout.splitlines() if line[:2] in ("E:", "W:", "I:", "N:")]
    for t in tags:
        print("lintian: " + t)
    check(r.returncode == 0 and not any(t.startswith("E:") for t in tags), "lintian: no error",
          r.stderr.strip()[-500:])

    r = run(["dpkg-deb", "-c", deb])
    listed = {line.split()[-1].lstrip("./") for line in r.stdout.splitlines() if line.split()}
    # a symlink line ends "a -> b": take the link's name
    listed |= {line.split()[-3].lstrip("./") for line in r.stdout.splitlines() if " -> " in line}
    for p in EXPECTED:
        check(p in listed, f"the package holds /{p}")
    r = run(["dpkg-deb", "-f", deb, "Depends"])
    check("libnl-3-200" in r.stdout and "libconfig++9v5" in r.stdout, "its dependencies come from the libraries",
          r.stdout.strip())
    r = run(["dpkg-deb", "--info", deb, "conffiles"])
    check(r.stdout.strip() == "/etc/directord/directord.conf", "the default config is a conffile", r.stdout.strip())

    vm = [args.vm_run, "--share", top, "--share", src, "--mem", "1G", "--timeout", "300", "-e",
          f"PYTHONPATH={os.environ.get('PYTHONPATH', '')}", "--", "/usr/bin/python3", os.path.abspath(__file__),
          "--inside", "--deb", deb]
    print("$ " + " ".join(vm), flush=True)
    r = subprocess.run(vm)
    check(r.returncode == 0, "installed, run, removed and purged in the VM")


def status(code_only=False, path=""):
    try:
        with urllib.request.urlopen("http://127.0.0.1:9101/" + path, timeout=2) as r:
            return r.status if code_only else r.read().decode()
    except OSError:
        return None


def inside(args):
    check(os.environ.get("IPVS_VM") == "1", "running inside the VM (the host's root under an overlay)")
    if os.environ.get("IPVS_VM") != "1":
        return
    r = run(["dpkg-query", "-W", "-f", "${Status}", "keepalived"])
    check("install ok installed" in r.stdout, "keepalived's own package is installed here (the MIB names must not clash)",
          r.stdout + r.stderr)
    r = run(["dpkg", "-i", args.deb])
    check(r.returncode == 0, "dpkg -i installs it (beside keepalived's package)", (r.stdout + r.stderr)[-1500:])
    if r.returncode != 0:
        return
    for p in ("/usr/sbin/directord", "/usr/sbin/directorctl", "/usr/sbin/ipvsctl"):
        check(os.access(p, os.X_OK), f"{p} is installed")
    check(os.path.islink("/etc/systemd/system/multi-user.target.wants/directord.service"),
          "the unit is enabled (multi-user.target wants it)")
    r = run(["pgrep", "-x", "directord"])
    check(r.returncode == 1, "... and nothing was started", r.stdout)
    unit = open("/lib/systemd/system/directord.service").read()
    check("ExecStart=/usr/sbin/directord -f /etc/directord/directord.conf" in unit, "the unit runs /usr/sbin/directord")
    r = run(["directord", "-t", "-f", "/etc/directord/directord.conf"])
    check(r.returncode == 0 and "configuration OK" in r.stdout, "directord -t passes on the installed default",
          (r.stdout + r.stderr).strip())
    r = run(["man", "-w", "directord.conf"])
    check(r.stdout.strip() == "/usr/share/man/man5/directord.conf.5.gz", "man finds directord.conf(5)", r.stdout.strip())

    proc = subprocess.Popen(["/usr/sbin/directord", "-f", "/etc/directord/directord.conf"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and status(True) != 200:
            time.sleep(0.2)
        page = status() or ""
        check("<title>directord</title>" in page, "the installed directord serves its status page on 127.0.0.1:9101")
        st = status(path="status") or ""
        check('"config_file":"/etc/directord/directord.conf"' in st.replace(" ", ""), "... and /status", st[:200])
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, _ = proc.communicate()
    check(proc.returncode == 0, "it stops cleanly on SIGTERM", out[-1500:] if proc.returncode else "")

    r = run(["dpkg", "-r", PKG])
    check(r.returncode == 0, "dpkg -r removes it", (r.stdout + r.stderr)[-1500:])
    check(not os.path.exists("/usr/sbin/directord"), "... the programs are gone")
    check(os.path.exists("/etc/directord/directord.conf"), "... the conffile stays until purge")
    r = run(["dpkg", "-P", PKG])
    check(r.returncode == 0, "dpkg -P purges it", (r.stdout + r.stderr)[-1500:])
    check(not os.path.exists("/etc/directord"), "... /etc/directord is gone")
    check(not os.path.lexists("/etc/systemd/system/multi-user.target.wants/directord.service"),
          "... and so is the unit's enablement")
    r = run(["dpkg-query", "-W", "-f", "${Status}", PKG])
    check(PKG not in r.stdout and "installed" not in r.stdout, "dpkg no longer knows it", (r.stdout + r.stderr).strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source")
    ap.add_argument("--vm-run")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--inside", action="store_true")
    ap.add_argument("--deb")
    args = ap.parse_args()
    if args.inside:
        inside(args)
    else:
        host(args)
    if failures:
        print(f"{len(failures)} failure(s): " + "; ".join(failures))
        sys.exit(1)
    print("all package checks passed")


if __name__ == "__main__":
    main()
