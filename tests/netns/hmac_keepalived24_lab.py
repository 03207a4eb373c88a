#!/usr/bin/env python3
"""auth_hmac beside keepalived 2.4.3 (root, network namespaces), run by hand: Debian 12 packages
keepalived 2.2.7, which has no auth_hmac, so this needs a keepalived built from its 2.4.3 source
(--keepalived PATH). CI checks the frames this records (tests/fixtures/keepalived-2.4.3-auth-hmac.txt,
tests/unit/vrrp/AuthHmacTest.cpp).

For VRRPv3 over IPv4 (multicast and unicast) and IPv6 and VRRPv2 over IPv4, with one shared key:
  - keepalived (priority 200) is master and directord (100) a backup that hears its signed adverts
    and drops none; keepalived's frames are recorded (--record FILE appends them);
  - keepalived dies: directord takes over within the master-down interval;
  - keepalived comes back at priority 50 and stays a backup: it hears directord's signed adverts
    (its log has no authentication error, it never enters MASTER).
Then one negative case: directord with another key drops keepalived's adverts as invalid HMAC
(counted) and keepalived logs directord's as invalid: both become master, as they must.

    tests/netns/hmac_keepalived24_lab.py --directord build/directord --keepalived /tmp/ka243/bin/keepalived \\
        --record tests/fixtures/keepalived-2.4.3-auth-hmac.txt
"""
import argparse
import os
import subprocess
import sys
import time

from dlab import netns
from dlab.report import check, failures, sh, wait

KEY = "hex:6469726563746f72642d6c61622d686d61632d6b65792d303132333435363738"  # "directord-lab-hmac-key-012345678"
OTHER = "hex:" + "ab" * 32

CAPTURE = r"""
import socket, struct, sys, time
want, n, until = sys.argv[1], int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
s.settimeout(0.2)
got = 0
while got < n and time.monotonic() < until:
    try:
        f = s.recv(4096)
    except socket.timeout:
        continue
    et = struct.unpack("!H", f[12:14])[0]
    ip = f[14:]
    if et == 0x0800 and len(ip) > 20 and ip[9] == 112:
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        src, dst, payload = socket.inet_ntop(socket.AF_INET, ip[12:16]), socket.inet_ntop(socket.AF_INET, ip[16:20]), ip[ihl:tot]
    elif et == 0x86DD and len(ip) > 40 and ip[6] == 112:
        plen = struct.unpack("!H", ip[4:6])[0]
        src, dst, payload = socket.inet_ntop(socket.AF_INET6, ip[8:24]), socket.inet_ntop(socket.AF_INET6, ip[24:40]), ip[40:40 + plen]
    else:
        continue
    if src != want and not (want == "v6" and ":" in src):
        continue
    print(src, dst, payload.hex(), flush=True)
    got += 1
"""


def k_conf(ns, prio, version, interval, vip, key, unicast=None, me=None):
    more = f"  auth_hmac {{\n    key 1 {key}\n    active_key 1\n  }}\n"
    if unicast:
        more += f"  unicast_src_ip {me}\n  unicast_peer {{\n    {unicast}\n  }}\n"
    return netns.keepalived_conf(ns, prio, version, interval, [vip], more=more)


def d_conf(lab, prio, version, interval, vip, key, unicast=None, me=None):
    more = f'auth_hmac = {{ keys = ( {{ id = 1; key = "{key}"; }} ); active_key = 1; }};'
    if ":" in vip:
        more += ' family = "ipv6";'
    if unicast:
        more += f' unicast_source = "{me}"; unicast_peers = [ "{unicast}" ];'
    inst = netns.d_instance("VI_1", 51, prio, version, interval, [vip], more)
    return netns.directord_conf(lab, 2, [inst])


def entered_master(lab):
    path = os.path.join(lab.work, f"{lab.ns[1]}.log")
    return open(path, errors="replace").read().count("Entering MASTER STATE") if os.path.exists(path) else 0


def klog(lab):
    path = os.path.join(lab.work, f"{lab.ns[1]}.log")
    return open(path, errors="replace").read() if os.path.exists(path) else ""


def scenario(args, name, version, family, interval, unicast):
    vip = "10.99.0.10/24" if family == 4 else "fd00:99::10/64"
    with netns.lab_for(args.directord, name) as lab:
        lab.keepalived = args.keepalived
        lab.keepalived_only = []  # built with --disable-lvs: VRRP only, no -P
        peers = {}
        if unicast:
            peers = dict(k=("10.99.0.12", "10.99.0.11"), d=("10.99.0.11", "10.99.0.12"))
        lab.start_raw(1, "keepalived", k_conf(lab.ns[1], 200, version, interval, vip, KEY, *peers.get("k", (None, None))))
        time.sleep(3 * interval + 0.5)
        # keepalived's frames, as directord's namespace receives them
        want = "10.99.0.11" if family == 4 else "v6"
        cap = subprocess.run(["ip", "netns", "exec", lab.ns[2], sys.executable, "-c", CAPTURE, want, "4",
                              str(6 * interval + 2)], capture_output=True, text=True, timeout=60)
        frames = [line.split() for line in cap.stdout.splitlines() if line.strip()]
        check(len(frames) == 4, f"{name}: four of keepalived's adverts captured", cap.stderr[-300:])
        check(all(len(bytes.fromhex(f[2])) % 4 == 0 and len(bytes.fromhex(f[2])) >= 8 + 28 for f in frames),
              f"{name}: each carries a 28-byte trailer")
        if args.record and frames:
            with open(args.record, "a") as out:
                for src, dst, payload in frames:
                    out.write(f"{name} v{version} {src} {dst} {payload}\n")
        lab.start_raw(2, "directord", d_conf(lab, 100, version, interval, vip, KEY, *peers.get("d", (None, None))))
        time.sleep(3 * interval + 2)
        st = netns.status(lab, 2).get("vrrp", {}).get("VI_1", {})
        check(st.get("state") == "BACKUP", f"{name}: directord is a backup under keepalived's signed adverts", str(st))
        check(st.get("adverts_received", 0) > 0 and st.get("dropped", {}).get("total") == 0,
              f"{name}: ... hearing them, none dropped", str(st.get("dropped")))
        t0 = time.monotonic()
        lab.die(1, vip.split("/")[0])
        took = wait(lambda: netns.status(lab, 2).get("vrrp", {}).get("VI_1", {}).get("state") == "MASTER", 10, 0.02)
        bound = netns.master_down(interval, 100) + netns.MARGIN + 0.3
        check(took is not None and took <= bound, f"{name}: keepalived dies, directord takes over",
              f"{took:.2f} s (bound {bound:.2f} s)" if took is not None else "never")
        del t0
        masters = entered_master(lab)
        lab.start_raw(1, "keepalived", k_conf(lab.ns[1], 50, version, interval, vip, KEY, *peers.get("k", (None, None))))
        time.sleep(3 * interval + 2)
        log = klog(lab)
        check(entered_master(lab) == masters and "Entering BACKUP STATE" in log,
              f"{name}: keepalived back at priority 50 stays a backup under directord's signed adverts")
        bad = [line for line in log.splitlines() if "authentication" in line.lower() and "HMAC" in line]
        check(not bad, f"{name}: keepalived logs no authentication error", "; ".join(bad[-3:]))
        check(netns.status(lab, 2).get("vrrp", {}).get("VI_1", {}).get("state") == "MASTER",
              f"{name}: directord is still master")


def negative(args):
    with netns.lab_for(args.directord, "v3 ipv4, different keys") as lab:
        lab.keepalived = args.keepalived
        lab.keepalived_only = []  # built with --disable-lvs: VRRP only, no -P
        lab.start_raw(1, "keepalived", k_conf(lab.ns[1], 200, 3, 0.1, "10.99.0.10/24", KEY))
        lab.start_raw(2, "directord", d_conf(lab, 100, 3, 0.1, "10.99.0.10/24", OTHER))
        time.sleep(3)
        st = netns.status(lab, 2).get("vrrp", {}).get("VI_1", {})
        dropped = st.get("dropped", {})
        check(dropped.get("auth_ext_invalid_hmac", 0) > 0, "another key: directord drops keepalived's adverts as "
                                                           "invalid HMAC", str(dropped))
        check(st.get("state") == "MASTER", "... and, hearing no valid master, is master", str(st.get("state")))
        check("invalid authentication HMAC" in klog(lab), "keepalived drops directord's the same way")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--directord", required=True)
    ap.add_argument("--keepalived", required=True)
    ap.add_argument("--record", default="")
    args = ap.parse_args()
    args.directord = os.path.abspath(args.directord)
    out = sh(f"{args.keepalived} --version", check=False)
    check("v2.4" in out.stdout + out.stderr, "keepalived 2.4 is given", (out.stdout + out.stderr).splitlines()[0])
    for name, version, family, interval, unicast in (("v3 ipv4 multicast", 3, 4, 0.1, False),
                                                     ("v3 ipv4 unicast", 3, 4, 0.1, True),
                                                     ("v3 ipv6 multicast", 3, 6, 0.1, False),
                                                     ("v2 ipv4 multicast", 2, 4, 1, False)):
        scenario(args, name, version, family, interval, unicast)
    negative(args)
    if failures:
        print(f"{len(failures)} failure(s): " + "; ".join(failures))
        sys.exit(1)
    print("all auth_hmac interop checks passed")


if __name__ == "__main__":
    main()
