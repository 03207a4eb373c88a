#!/usr/bin/env python3
"""auth_hmac between two directord (root, network namespaces; keepalived 2.4.3 as the peer is
tests/netns/hmac_keepalived24_lab.py, by hand, and its recorded frames are checked in the unit
tests): VRRPv3 over IPv4 and IPv6 at 0.1 s adverts.
  - the same key: one master, the backup hears every advert and drops none;
  - a key rotation by reload (add key 2 on both, make it active on both, drop key 1): no
    transition, no drop;
  - the backup on a key the master does not have: it drops the master's adverts as unknown key
    (counted) and takes over, as it must (it cannot tell a forger from a peer);
  - a master without auth_hmac: a backup in enforce mode drops its adverts as missing the trailer,
    one in permissive mode (a pair being migrated) accepts them."""
import time

from dlab import netns
from dlab.report import check, run_main, wait

K1 = "hex:" + "11" * 32
K2 = "hex:" + "22" * 32


def hmac(keys, active, mode="enforce"):
    ks = ", ".join(f'{{ id = {i}; key = "{k}"; }}' for i, k in keys)
    return f'auth_hmac = {{ keys = ( {ks} ); active_key = {active}; mode = "{mode}"; }};'


def conf(lab, i, prio, vip, more):
    family = ' family = "ipv6";' if ":" in vip else ""
    return netns.directord_conf(lab, i, [netns.d_instance("VI_1", 51, prio, 3, 0.1, [vip], more + family)])


def inst(lab, i):
    return netns.status(lab, i).get("vrrp", {}).get("VI_1", {})


def reload(lab, i, text):
    with open(f"{lab.work}/{lab.ns[i]}.conf", "w") as f:
        f.write(text)
    lab.procs[i].send_signal(1)  # SIGHUP


def pair(directord, name, vip):
    with netns.lab_for(directord, name) as lab:
        lab.start_raw(1, "directord", conf(lab, 1, 200, vip, hmac([(1, K1)], 1)))
        lab.start_raw(2, "directord", conf(lab, 2, 100, vip, hmac([(1, K1)], 1)))
        ok = wait(lambda: inst(lab, 1).get("state") == "MASTER" and inst(lab, 2).get("state") == "BACKUP", 10, 0.05)
        check(ok is not None, f"{name}: the same key: one master, one backup",
              f"{inst(lab, 1).get('state')} / {inst(lab, 2).get('state')}")
        heard = wait(lambda: inst(lab, 2).get("adverts_received", 0) >= 5, 5, 0.1)
        b = inst(lab, 2)
        check(heard is not None and b.get("dropped", {}).get("total") == 0,
              f"{name}: the backup hears the master's signed adverts, drops none",
              f"{b.get('adverts_received')} heard, {b.get('dropped', {}).get('total')} dropped")
        t1, t2 = inst(lab, 1).get("transitions"), inst(lab, 2).get("transitions")
        # rotation: add key 2 everywhere, make it active everywhere, then drop key 1
        for step in ([(1, K1), (2, K2)], 1), ([(1, K1), (2, K2)], 2), ([(2, K2)], 2):
            for i, prio in ((1, 200), (2, 100)):
                reload(lab, i, conf(lab, i, prio, vip, hmac(*step)))
            time.sleep(1.0)
        b = inst(lab, 2)
        check((inst(lab, 1).get("transitions"), b.get("transitions")) == (t1, t2) and inst(lab, 1).get("state") == "MASTER",
              f"{name}: a key rotation by reload moves nothing")
        check(b.get("dropped", {}).get("total") == 0, f"{name}: ... and drops nothing", str(b.get("dropped")))
        if ":" in vip:
            return
        # the backup on another key: unknown key id, counted; it takes over
        reload(lab, 2, conf(lab, 2, 100, vip, hmac([(3, K1)], 3)))
        took = wait(lambda: inst(lab, 2).get("state") == "MASTER", 5, 0.05)
        d = inst(lab, 2).get("dropped", {})
        check(took is not None and d.get("auth_ext_unknown_key", 0) > 0,
              f"{name}: a backup without the master's key drops its adverts (unknown key) and takes over", str(d))
        # a master that signs nothing: enforce drops, permissive accepts
        reload(lab, 1, conf(lab, 1, 200, vip, ""))
        reload(lab, 2, conf(lab, 2, 100, vip, hmac([(1, K1)], 1)))
        time.sleep(1.5)
        d = inst(lab, 2).get("dropped", {})
        check(d.get("auth_ext_missing", 0) > 0 and inst(lab, 2).get("state") == "MASTER",
              f"{name}: enforce: adverts without the trailer are dropped", str(d.get("auth_ext_missing")))
        reload(lab, 2, conf(lab, 2, 100, vip, hmac([(1, K1)], 1, "permissive")))
        back = wait(lambda: inst(lab, 2).get("state") == "BACKUP", 5, 0.05)
        check(back is not None, f"{name}: permissive: they are accepted (the unsigned master is heard again)",
              str(inst(lab, 2).get("state")))


def run(directord):
    pair(directord, "v3 ipv4", "10.99.0.10/24")
    pair(directord, "v3 ipv6", "fd00:99::10/64")


if __name__ == "__main__":
    run_main(run, "auth_hmac")
