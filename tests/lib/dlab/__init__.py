"""The tests' lab, shared by every Python test tier (loopback, netns, vm, bench).

CTest puts tests/lib on PYTHONPATH (inside the IPVS VM too); by hand:
    PYTHONPATH=tests/lib python3 tests/netns/vrrp_failover_test.py --directord build/directord

- dlab.report: check()/failures/run_main (the ok/FAIL reporting of the netns and vm tiers), sh, wait
- dlab.netns: Lab (namespaces, bridge, directors, keepalived), Probe (the client's VIP probe),
  VRRP timing (skew, master_down), configs for pairs, status over the control socket, a real server that names itself
- dlab.solo: one director on a veth with a peer namespace (the single-director netns tests)
- dlab.snmp: snmpd and snmptrapd in a namespace, numeric get and walk
- dlab.daemon: Daemon, one directord on loopback for the unittest-based loopback tier
"""
