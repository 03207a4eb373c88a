"""How the netns and vm tests report: each check prints one `ok`/`FAIL` line, failures are
collected, and the script's exit status says whether any failed. Also the shell and polling helpers
every tier uses."""
import argparse
import os
import subprocess
import sys
import time

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


def wait(pred, timeout, step=0.005):
    """Polls pred until it is true: the seconds it took, or None after `timeout` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        time.sleep(step)
    return None
