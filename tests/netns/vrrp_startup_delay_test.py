#!/usr/bin/env python3
"""vrrp_startup_delay (keepalived's, the boot split-brain guard) beside a keepalived master (root,
network namespaces).

keepalived is master at priority 100 (VRRPv3, 0.1 s adverts). directord starts at priority 200
with vrrp_startup_delay 2: it listens as a backup and does not take the VIP before the 2 s are
over (without the delay it preempts within a master-down interval, ~0.3 s); then it preempts and
keepalived yields. Imported with the option from keepalived's global_defs, the same file means the
same thing. A client probing the VIP every 2 ms is answered throughout, within a master-down
interval at the preemption."""
import time

from dlab.netns import MARGIN, Probe, lab_for, master_down
from dlab.report import check, run_main, wait


def run(directord):
    with lab_for(directord, "startup delay beside a keepalived master") as lab:
        lab.start(2, "keepalived", 100, 3, 0.1)
        check(wait(lambda: lab.has_vip(2), 10, 0.02) is not None, "keepalived is master with the VIP")
        probe = Probe(lab)  # a client probing the VIP every 2 ms, through the delay and the preemption
        check(probe.fresh(), "the client reaches the VIP")
        t0 = time.monotonic()
        lab.start(1, "directord", 200, 3, 0.1, global_extra="vrrp_startup_delay = 2.0;")
        took = wait(lambda: lab.has_vip(1), 10, 0.005)
        check(took is not None and took >= 2.0,
              "directord (priority 200) takes the VIP only after its 2 s startup delay", f"{took:.2f} s" if took else "never")
        bound = 2.0 + master_down(0.1, 200) + 1.0 + MARGIN  # the delay, a master-down interval, start-up time
        check(took is not None and took <= bound, f"... and then at once (within {bound:.1f} s)")
        check(wait(lambda: not lab.has_vip(2), 3, 0.01) is not None, "keepalived yields to it")
        probe.answered_since(t0, "directord's start, its delay and its preemption", master_down(0.1) + MARGIN)
        check("startup delay 2 s" in lab.logs(), "the log says why it waits")
        print(f"  directord took the VIP {time.monotonic() - t0:.2f} s after it was started")


if __name__ == "__main__":
    run_main(run, "vrrp startup delay")
