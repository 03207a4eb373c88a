#!/usr/bin/env python3
"""virtual_routes (keepalived's) follow the MASTER state (root, a network namespace).

directord alone on a veth, so its instance becomes MASTER; four routes: one via a gateway, a
blackhole, a default route in table 100 and one with the VIP as its source. Each is in the kernel
(protocol 18, keepalived's) while MASTER; a track_file takes the instance to FAULT and every route
goes with the VIP; back to MASTER, they come back; a reload that changes one route while master
removes the old one and adds the new one, the others untouched. A static route (keepalived's
static_routes) is there from the start whatever the state, FAULT included, and goes at stop; so
are two static addresses (keepalived's static_ipaddress), one of them deleted by hand and added
back, the other dropped by a reload. Rules the same way (keepalived's virtual_rules and
static_rules): two with the instance, present while MASTER only (once each, however many times it
comes back), one static rule from start to stop."""
import os

from dlab.report import check, run_main, sh, wait
from dlab.solo import solo

STATIC = "10.93.9.0/24 via 10.93.0.252 dev eth0 table 200"
ROUTES = ["""{ to = "10.93.5.0/24"; via = "10.93.0.254"; metric = 30; }""",
          """{ to = "10.93.6.0/24"; type = "blackhole"; }""",
          """{ to = "default"; via = "10.93.0.254"; table = 100; }""",
          """{ to = "10.93.7.0/24"; src = "10.93.0.10"; dev = "eth0"; }"""]


def conf(work, routes, statics=("10.93.0.20/24", "fd93::20/64")):
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  log_level = "info"; }};
track_files = ( {{ name = "down"; file = "{work}/down"; weight = 0; }} );
static_routes = ( {{ to = "10.93.9.0/24"; via = "10.93.0.252"; table = 200; }} );
static_rules = ( {{ from = "10.93.9.0/24"; table = 200; priority = 2000; }} );
static_addresses = ( {", ".join(f'{{ address = "{a}"; dev = "eth0"; }}' for a in statics)} );
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 64; priority = 100; version = 3;
  advert_interval = 0.1; track_files = ( {{ track_file = "down"; }} );
  virtual_addresses = ( {{ address = "10.93.0.10/24"; }} );
  virtual_routes = ( {", ".join(routes)} );
  virtual_rules = ( {{ from = "10.93.0.10"; table = 100; priority = 1000; }},
                    {{ to = "10.93.66.0/24"; fwmark = 5; action = "prohibit"; priority = 1001; }} ); }} );
"""


def run(directord):
    with solo(directord, "vr", "10.93.0.1/24") as s:
        ns, work = s.ns, s.work
        s.start(conf(work, ROUTES))
        text = s.text

        def routes():
            out = sh(f"ip -n {ns} route show table all proto 18", check=False).stdout
            return {" ".join(line.split()) for line in out.splitlines() if line.strip()}

        want = {STATIC, "10.93.5.0/24 via 10.93.0.254 dev eth0 metric 30", "blackhole 10.93.6.0/24",
                "default via 10.93.0.254 dev eth0 table 100", "10.93.7.0/24 dev eth0 scope link src 10.93.0.10"}
        has = lambda wanted: all(any(r.startswith(w) for r in routes()) for w in wanted)  # noqa: E731
        none = lambda: not routes()  # noqa: E731
        check(wait(lambda: "-> MASTER" in text(), 15, 0.1) is not None, "the instance becomes MASTER", text()[-300:])
        addrs = lambda: sh(f"ip -n {ns} -o addr show dev eth0", check=False).stdout  # noqa: E731
        check(" 10.93.0.20/24 " in addrs() and " fd93::20/64 " in addrs(), "the static addresses are on eth0", addrs())
        sh(f"ip -n {ns} addr del 10.93.0.20/24 dev eth0")
        check(wait(lambda: " 10.93.0.20/24 " in addrs(), 5, 0.05) is not None,
              "a static address deleted by hand is added back")
        check("static address 10.93.0.20/24 on eth0 was missing" in text(), "... and the log says so")
        check(wait(lambda: has(want), 5, 0.05) is not None, "its four routes and the static one are in the kernel, proto 18",
              str(sorted(routes())))

        def rules():
            out = sh(f"ip -n {ns} rule show", check=False).stdout
            return [" ".join(line.split()) for line in out.splitlines()]

        def count(prefix):
            return sum(1 for r in rules() if r.startswith(prefix))

        virtual_rules = ["1000: from 10.93.0.10 lookup 100", "1001: from all to 10.93.66.0/24 fwmark 0x5 prohibit"]
        static_rule = "2000: from 10.93.9.0/24 lookup 200"
        check(wait(lambda: all(count(r) == 1 for r in virtual_rules + [static_rule]), 5, 0.05) is not None,
              "MASTER: its two rules and the static one are there, once each", str(rules()))
        # deleted by hand (another tool, an operator): each comes back, as the VIPs do
        sh(f"ip -n {ns} route del 10.93.5.0/24 via 10.93.0.254 dev eth0 metric 30")
        sh(f"ip -n {ns} route del 10.93.9.0/24 via 10.93.0.252 dev eth0 table 200")
        sh(f"ip -n {ns} rule del pref 1000")
        sh(f"ip -n {ns} rule del pref 2000")
        check(wait(lambda: has(want) and all(count(r) == 1 for r in virtual_rules + [static_rule]), 5, 0.05)
              is not None, "a virtual route and rule, a static route and rule deleted by hand come back",
              f"{sorted(routes())} {rules()}")
        check(all(w in text() for w in ("the route to 10.93.5.0/24 was deleted while this director is master",
                                         "the rule pref 1000", "static route to 10.93.9.0/24 was deleted: added again",
                                         "static rule")), "... and the log names each", text()[-600:])
        with open(f"{work}/down", "w") as f:
            f.write("1\n")
        check(wait(lambda: "-> FAULT" in text(), 5, 0.05) is not None, "a track_file takes it to FAULT")
        check(wait(lambda: len(routes()) == 1 and next(iter(routes())).startswith(STATIC), 5, 0.05) is not None, "... and every virtual route goes, the static "
              "one stays", str(sorted(routes())))
        check(wait(lambda: not any(count(r) for r in virtual_rules), 5, 0.05) is not None and count(static_rule) == 1,
              "... its rules go too, the static rule stays", str(rules()))
        os.unlink(f"{work}/down")
        check(wait(lambda: has(want), 10, 0.05) is not None, "back to MASTER: the routes come back",
              str(sorted(routes())))
        check(wait(lambda: all(count(r) == 1 for r in virtual_rules + [static_rule]), 5, 0.05) is not None,
              "... and the rules, once each", str(rules()))
        changed = ROUTES[:3] + ["""{ to = "10.93.8.0/24"; via = "10.93.0.253"; }"""]
        with open(f"{work}/d.conf", "w") as f:
            f.write(conf(work, changed, statics=("10.93.0.20/24",)))
        r = sh(f"ip netns exec {ns} {s.ctl} -s {work}/d.sock reload", check=False)
        check(r.returncode == 0, "a reload that changes one route", (r.stdout + r.stderr).strip()[-200:])
        want2 = (want - {"10.93.7.0/24 dev eth0 scope link src 10.93.0.10"}) | {"10.93.8.0/24 via 10.93.0.253 dev eth0"}
        check(wait(lambda: has(want2) and not any(x.startswith("10.93.7.0/24") for x in routes()), 5, 0.05) is not None,
              "... while master: the old route goes, the new one comes, the others stay", str(sorted(routes())))
        check("reconfigured in place (still MASTER)" in text(), "... in place, no state change")
        check(wait(lambda: " fd93::20/64 " not in addrs(), 5, 0.05) is not None and " 10.93.0.20/24 " in addrs(),
              "the static address the reload dropped goes, the other stays", addrs())
        s.stop(timeout=30)
        check(none(), "at stop the routes go with the VIPs, the static one too", str(sorted(routes())))
        check(" 10.93.0.20/" not in addrs(), "... and the static address", addrs())
        check(not any(count(r) for r in virtual_rules + [static_rule]), "... and every rule, the static one too",
              str(rules()))


if __name__ == "__main__":
    run_main(run, "vrrp routes")
