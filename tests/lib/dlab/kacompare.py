"""What a keepalived.conf means, read two ways, in one shape: keepalived's own reading (the data
files keepalived 2.2 writes on SIGUSR1: /tmp/keepalived.data for VRRP, keepalived_check.data for
the checker) and directord's (`--dump-config` of the imported file, read with dlab.libconfig).

The shape (plain dicts, so a difference prints as a path):
  vrrp[name]    = version, interface, vrid, priority, advert, auth, vips, preempt, preempt_delay,
                  unicast_source (where configured), unicast_peers, track_interfaces, track_scripts,
                  sync_group, garp delay / repeat / refresh / refresh repeat / lower priority delay and
                  repeat, accept mode, vmac (its parent and
                  xmit_base; `interface` is then the VMAC's name, where the VIPs go, as keepalived says)
  services[key] = scheduler, protocol, forwarding, persistence, delay_loop, quorum, hysteresis,
                  sorry, alpha, omega, inhibit, one_packet, real[rip:port] = weight, forwarding,
                  inhibit, thresholds, checks (a sorted list of one line per check: type, target,
                  timeout, retry, ...)
A virtual_server_group is expanded to its members, as directord's import does (the group's
settings apply to every member). The initial state (`state MASTER`) is not compared: keepalived's
dump holds only its run-time state and wanted state, which adverts and timers have already moved."""
import ipaddress
import re

CHECK_TYPES = {"TCP_CHECK": "tcp", "HTTP_GET": "http", "SSL_GET": "https", "SMTP_CHECK": "smtp",
               "MISC_CHECK": "script", "PING_CHECK": "ping", "UDP_CHECK": "udp", "DNS_CHECK": "dns",
               "FILE_CHECK": "file", "BFD_CHECK": "bfd"}


def _tree(text):
    """Lines as (indent, text, children), children being the deeper lines that follow."""
    root = (-1, "", [])
    stack = [root]
    for line in text.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        node = (indent, line.strip(), [])
        while stack[-1][0] >= indent:
            stack.pop()
        stack[-1][2].append(node)
        stack.append(node)
    return root[2]


def _kv(node_text):
    k, _, v = node_text.partition(" = ")
    return k.strip(), v.strip()


def _section(nodes, title):
    """The lines under `------< title >------` (dumps put each section at indent 0)."""
    out, inside = [], False
    for n in nodes:
        if n[1].startswith("------<"):
            inside = n[1] == f"------< {title} >------"
            if inside:
                out.extend(n[2])
            continue
        if inside:
            out.append(n)
    return out


def _norm_addr(a):
    a = a.strip("[]")
    try:
        if "/" in a:
            return str(ipaddress.ip_interface(a))
        return str(ipaddress.ip_address(a))
    except ValueError:
        return a


def _secs(us_text):
    return round(int(us_text.split()[0]) / 1e6, 6)


# ---------------------------------------------------------------- keepalived's reading

def _ka_vip(text):
    # "192.168.200.18/25 dev eth0 scope global label eth0:1"; on a VMAC "dev vrrp.1@eth0" (the
    # parent is the instance's `vmac` field)
    words = text.split()
    addr = words[0]
    ip = addr.split("/")[0]
    if "/" not in addr:
        addr = ip + ("/128" if ":" in ip else "/32")
    out = {"address": _norm_addr(addr)}
    for k in ("dev", "scope", "label"):
        if k in words:
            out[k] = words[words.index(k) + 1]
    if "dev" in out:
        out["dev"] = out["dev"].split("@")[0]
    return " ".join(f"{k}={out[k]}" for k in sorted(out))


def _seconds(val):  # "1000 milli-seconds" / "1 seconds"
    num, unit = val.split()
    return float(num) / (1000 if unit.startswith("milli") else 1)


# The instance lines of keepalived's dump that are one value each: key -> (field, reader).
_KA_SCALARS = {
    "VRRP Version": ("version", int),
    "Virtual Router ID": ("vrid", int),
    "Priority": ("priority", int),
    "Advert interval": ("advert", _seconds),
    "Preempt": ("preempt", lambda v: v == "enabled"),
    "Gratuitous ARP delay": ("garp_delay", float),
    "Gratuitous ARP repeat": ("garp_repeat", int),
    "Gratuitous ARP refresh": ("garp_refresh", lambda v: float(v.split()[0])),
    "Gratuitous ARP refresh repeat": ("garp_refresh_repeat", int),
    "Gratuitous ARP lower priority delay": ("garp_lower_delay", float),
    "Gratuitous ARP lower priority repeat": ("garp_lower_repeat", int),
    "Accept": ("accept", lambda v: v == "enabled"),
    "Preempt delay": ("preempt_delay", lambda v: float(v.split()[0])),
    "Sync group": ("sync_group", str),
}


def keepalived_vrrp(text):
    nodes = _tree(text)
    instances, groups = {}, {}
    for n in _section(nodes, "VRRP Topology"):
        k, name = _kv(n[1])
        if k != "VRRP Instance":
            continue
        inst = {"vips": [], "unicast_peers": [], "track_interfaces": {}, "track_scripts": {},
                "preempt_delay": 0.0, "auth": "none", "sync_group": ""}
        for c in n[2]:
            key, val = _kv(c[1])
            if key in _KA_SCALARS:
                field, read = _KA_SCALARS[key]
                inst[field] = read(val)
            elif key == "Interface":  # "vrrp.51, vmac on eth0, xmit base i/f" with use_vmac
                parts = val.split(", ")
                inst["interface"] = parts[0]
                if len(parts) > 1 and parts[1].startswith("vmac on "):
                    inst["vmac"] = parts[1][len("vmac on "):] + (" xmit_base" if "xmit base i/f" in parts else "")
            elif key == "Using src_ip" and val.endswith("(from configuration)"):
                inst["unicast_source"] = _norm_addr(val.split()[0])
            elif key == "Authentication type":
                inst["auth"] = {"SIMPLE_PASSWORD": "PASS", "IPSEC_AH": "AH"}.get(val, val)
            elif key == "Password" and inst["auth"] == "PASS":  # (2.2 prints no AH key)
                inst["auth"] += ":" + val
            elif c[1].startswith("Virtual IP ("):
                # keepalived 2.2 keeps a VIP listed twice; the kernel then has it once, as first
                # listed (the second add is refused): that is the meaning compared
                seen, vips = set(), []
                for v in c[2]:
                    vip = _ka_vip(v[1])
                    where = (v[1].split()[0].split("/")[0], v[1].split()[2] if len(v[1].split()) > 2 else "")
                    if where not in seen:
                        seen.add(where)
                        vips.append(vip)
                inst["vips"] = sorted(vips)
            elif c[1].startswith("Unicast Peer"):
                inst["unicast_peers"] = sorted(_norm_addr(p[1].split()[0]) for p in c[2])
            elif c[1].startswith("Tracked interfaces"):
                for t in c[2]:  # "eth0 weight 10" or "eth0 weight -10 reverse"
                    w = t[1].split()
                    inst["track_interfaces"][w[0]] = int(w[2]) if len(w) > 2 and w[1] == "weight" else 0
            elif c[1].startswith("Tracked scripts"):
                for t in c[2]:  # "chk_x weight 10" (or "chk_x weight -10 reverse")
                    w = t[1].split()
                    weight = int(w[2]) if len(w) > 2 and w[1] == "weight" else 0
                    inst["track_scripts"][w[0]] = -weight if "reverse" in w else weight
        instances[name] = inst
    for n in _section(nodes, "VRRP Sync groups"):
        k, val = _kv(n[1])
        if k == "VRRP Sync Group":
            members = []
            for c in n[2]:
                if c[1].startswith("VRRP member instances"):
                    members = sorted(m[1] for m in c[2])
            groups[val.split(",")[0]] = members
    return instances, groups


def _expand_range(text):
    # "192.168.200.3-192.168.200.10" (keepalived prints the range's both ends)
    first, last = text.split("-")
    a, b = ipaddress.ip_address(first), ipaddress.ip_address(last)
    return [str(ipaddress.ip_address(int(a) + i)) for i in range(int(b) - int(a) + 1)]


def keepalived_lvs(text, fixups=None):
    """`fixups` collects what is changed from keepalived's reading on purpose (a keepalived bug
    directord does not carry over), one line each."""
    fixups = [] if fixups is None else fixups
    nodes = _tree(text)
    groups = {}
    topology = _section(nodes, "LVS Topology")
    in_groups = False
    for n in topology:  # " ------< Virtual server group >------", then its groups as siblings
        if n[1].startswith("------<"):
            in_groups = n[1] == "------< Virtual server group >------"
            continue
        k, val = _kv(n[1])
        if not in_groups or k != "Virtual Server Group":
            continue
        members = []
        for c in n[2]:
            if c[1].startswith("VIP Range = ") or c[1].startswith("VIP = "):
                vip_part, _, port_part = c[1].partition(", VPORT = ")
                vip = vip_part.split(" = ", 1)[1]
                addrs = _expand_range(vip) if c[1].startswith("VIP Range") else [vip]
                members += [("addr", _norm_addr(a), int(port_part)) for a in addrs]
            elif c[1].startswith("FWMARK = "):
                members.append(("fwmark", int(c[1].split(" = ")[1].split()[0]), 0))
        groups[val.split(",")[0]] = members

    services = {}
    by_vs_header = {}
    rs_timeout = {}  # id(real) -> its connect timeout (the virtual server's where it sets none)
    for idx, n in enumerate(topology):
        if n[1] != "------< Virtual server >------" or idx + 1 >= len(topology):
            continue
        head = topology[idx + 1]
        fields = {"real": {}, "sorry": "", "persistence": 0}  # (keepalived prints no persistence 0)
        protocol, family = "tcp", "inet"
        real = None  # the real server whose lines these are (they follow its marker, same indent)
        for c in head[2]:
            key, val = _kv(c[1])
            if c[1] == "------< Real server >------":
                real = {}
                continue
            if real is not None:
                m = re.match(r"RIP = (\S+), RPORT = (\d+), WEIGHT = (-?\d+)", c[1])
                if m:
                    real.update(weight=int(m.group(3)), checks=[])
                    fields["real"][f"{_norm_addr(m.group(1))}:{m.group(2)}"] = real
                elif key == "forwarding method":
                    real["forwarding"] = val.lower()
                elif key == "connection limit range":  # "lower -> upper"
                    lo, _, hi = val.partition(" -> ")
                    real["thresholds"] = f"{int(lo)}-{int(hi)}"
                elif key == "connection timeout":
                    rs_timeout[id(real)] = float(val)
                elif c[1].startswith("Inhibit on failure is"):
                    real["inhibit"] = c[1].endswith("ON")
                continue
            if key == "protocol":
                protocol = val.lower()
            elif key == "Address family":
                family = val
            elif key == "lvs_sched":
                fields["scheduler"] = val
            elif key == "One packet scheduling":
                fields["one_packet"] = val == "enabled"
            elif key == "delay_loop":
                fields["delay_loop"] = float(val)
            elif key == "persistence timeout":
                fields["persistence"] = int(val)
            elif c[1].startswith("quorum = "):
                q, h = c[1].split(",")
                fields["quorum"] = int(q.split("=")[1])
                fields["hysteresis"] = int(h.split("=")[1])
            elif key == "default forwarding method":
                fields["forwarding"] = val.lower()
            elif key == "sorry server":
                fields["sorry"] = val
            elif c[1].startswith("alpha is"):
                fields["alpha"] = c[1].endswith("ON")
            elif c[1].startswith("omega is"):
                fields["omega"] = c[1].endswith("ON")
            elif c[1].startswith("Inhibit on failure is"):
                fields["inhibit"] = c[1].endswith("ON")
        fields["protocol"] = protocol
        # "VS VIP = a, VPORT = p" | "VS FWMARK = n" | "VS GROUP = [name]:0"
        h = head[1]
        if h.startswith("VS FWMARK = "):
            del fields["protocol"]  # IPVS matches a fwmark service by its mark alone (keepalived drops it)
        if h.startswith("VS VIP = "):
            m = re.match(r"VS VIP = (\S+), VPORT = (\d+)", h)
            keys = [f"{_norm_addr(m.group(1))}:{m.group(2)}/{protocol}"]
            header = f"[{_norm_addr(m.group(1))}]:{protocol}:{m.group(2)}"
        elif h.startswith("VS FWMARK = "):
            mark = int(h.split(" = ")[1].split()[0])
            keys = [f"fwmark:{mark}/{'ipv6' if family == 'inet6' else 'ipv4'}"]
            header = f"FWM {mark}"
        else:
            name = re.match(r"VS GROUP = \[?([^\]]+)\]?", h).group(1)
            keys = []
            for kind, a, port in groups.get(name, []):
                if kind == "addr":
                    keys.append(f"{a}:{port}/{protocol}")
                else:  # (IPVS matches a fwmark service by its mark alone: no protocol compared)
                    keys.append(f"fwmark:{a}/{'ipv6' if family == 'inet6' else 'ipv4'}")
            header = f"[{name}]:0"
        by_vs_header.setdefault(header, []).append(fields)
        for key in keys:
            services[key] = fields if not key.startswith("fwmark:") else \
                {k: v for k, v in fields.items() if k != "protocol"}

    for n in _section(nodes, "Health checkers"):
        m = re.match(r"(.*) -> \[([^\]]+)\]:\w+:(\d+)", n[1])
        if not m:
            continue
        check = {}
        urls = []
        for c in n[2]:
            key, val = _kv(c[1])
            if key == "Retries":
                check["retry"] = int(val)
            elif key == "Delay before retry":
                check["delay_before_retry"] = _secs(val)
            elif c[1] == "Connection":
                for cc in c[2]:
                    ck, cv = _kv(cc[1])
                    if ck == "Dest":
                        check["target"] = _norm_addr(cv.rsplit(":", 1)[0]) + ":" + cv.rsplit(":", 1)[1]
                    elif ck == "Timeout":
                        check["timeout"] = float(cv)
                    elif ck == "Bind to":
                        check["bind"] = _norm_addr(cv.rsplit(":", 1)[0])
            elif key == "Keepalive method":
                check["type"] = CHECK_TYPES.get(val.split(",")[0], val)
            elif key == "helo":
                check["helo"] = val
            elif key == "Checked url":
                url = {"path": val}
                for uc in c[2]:
                    uk, uv = _kv(uc[1])
                    if uk == "digest":
                        url["digest"] = uv
                    elif uc[1].startswith("HTTP Status Code"):
                        url["status"] = _codes(s[1] for s in uc[2])
                urls.append(url)
        if "type" not in check:
            continue
        check["urls"] = urls
        rkey = f"{_norm_addr(m.group(2))}:{m.group(3)}"
        for fields in by_vs_header.get(m.group(1), []):
            if rkey in fields["real"]:
                real = fields["real"][rkey]
                if check["type"] == "smtp" and check.get("timeout") == 0.0 and id(real) in rs_timeout:
                    # an SMTP_CHECK host block without connect_timeout: keepalived 2.2 zero-fills host
                    # blocks, so the real server's timeout it means to apply is never applied
                    check = dict(check, timeout=rs_timeout[id(real)])
                    fixups.append(f"{m.group(1)} -> {rkey}: smtp host {check.get('target')}: keepalived reads "
                                  f"timeout 0 (a keepalived bug); compared with the real server's {check['timeout']}")
                real["checks"].append(check)
    for reals in {id(s["real"]): s["real"] for s in services.values()}.values():  # a group's share them
        for r in reals.values():
            r["checks"] = _check_lines(r["checks"])
    return services


def _codes(codes):
    """Status codes as "200-299,503": a range of one code is written as the code."""
    out = []
    for c in codes:
        lo, _, hi = str(c).partition("-")
        out.append(lo if not hi or hi == lo else f"{lo}-{hi}")
    return ",".join(out)


def _check_lines(checks):
    """One comparable line per check; an http/https check with several urls is one line per url
    (directord's import makes one check per url, which fails the server the same way: any url
    failing takes it down)."""
    lines = []
    for c in checks:
        base = [c["type"], "target=" + c.get("target", "")]
        for k in ("timeout", "retry", "delay_before_retry", "helo", "bind"):
            if k in c:
                base.append(f"{k}={c[k]}")
        if c["urls"]:
            for u in c["urls"]:
                lines.append(" ".join(base + [f"{k}={u[k]}" for k in sorted(u)]))
        else:
            lines.append(" ".join(base))
    return sorted(lines)


# ---------------------------------------------------------------- directord's reading

def _d_vip(v, interface):
    out = {"address": _norm_addr(v["address"]), "dev": v.get("dev") or interface,
           "scope": v.get("scope", "global")}
    if v.get("label"):
        out["label"] = v["label"]
    return " ".join(f"{k}={out[k]}" for k in sorted(out))


def directord_vrrp(cfg):
    script_weight = {s["name"]: s.get("weight", 0) for s in cfg.get("vrrp_scripts", [])}
    instances = {}
    for i in cfg.get("vrrp_instances", []):
        auth = i.get("authentication", {}) or {}
        atype = auth.get("type", "none") if isinstance(auth, dict) else "none"
        garp = i.get("garp", {})
        vmac = i.get("vmac") if "vmac" in i else None
        link = vmac["name"] if vmac is not None else i["interface"]  # the VIPs and keepalived's "Interface"
        inst = {
            "garp_delay": float(garp.get("master_delay", 5)), "garp_repeat": garp.get("master_repeat", 5),
            "garp_refresh": float(garp.get("master_refresh", 0)),
            "garp_refresh_repeat": garp.get("master_refresh_repeat", 1),
            "garp_lower_delay": float(garp.get("lower_prio_delay", garp.get("master_delay", 5))),
            "garp_lower_repeat": garp.get("lower_prio_repeat", garp.get("master_repeat", 5)),
            "accept": i.get("accept_mode", True),
            "version": i["version"], "interface": link, "vrid": i["virtual_router_id"],
            "priority": i["priority"], "advert": float(i["advert_interval"]),
            "preempt": not i.get("nopreempt", False), "preempt_delay": float(i.get("preempt_delay", 0)),
            "vips": sorted(_d_vip(v, link) for v in i.get("virtual_addresses", [])),
            "unicast_peers": sorted(_norm_addr(p) for p in i.get("unicast_peers", [])),
            "auth": "none" if atype in ("none", "") else atype + (":" + auth["password"] if atype == "PASS" else ""),
            "track_interfaces": {t["interface"]: t.get("weight", 0) for t in i.get("track_interfaces", [])},
            "track_scripts": {t["script"]: t.get("weight", script_weight.get(t["script"], 0))
                              for t in i.get("track_scripts", [])},
            "sync_group": "",
        }
        if i.get("unicast_source"):
            inst["unicast_source"] = _norm_addr(i["unicast_source"])
        if vmac is not None:
            inst["vmac"] = i["interface"] + (" xmit_base" if vmac.get("xmit_base") else "")
        instances[i["name"]] = inst
    groups = {}
    for g in cfg.get("vrrp_sync_groups", []):
        groups[g["name"]] = sorted(g.get("members", []))
        for m in g.get("members", []):
            if m in instances:
                instances[m]["sync_group"] = g["name"]
    return instances, groups


def _d_check_lines(real, vs):
    lines = []
    for c in real.get("checks", []):
        t = c["type"]
        ip = c.get("connect_ip") or real["address"]
        port = c.get("connect_port") or real["port"]
        base = [t, "target=" + f"{_norm_addr(ip)}:{port}"]
        # unset on the check: the virtual server's
        base.append(f"timeout={float(c.get('connect_timeout', vs['connect_timeout']))}")
        base.append(f"retry={c.get('retry', vs['retry'])}")
        base.append(f"delay_before_retry={round(float(c.get('delay_before_retry', vs['delay_before_retry'])), 6)}")
        if c.get("helo_name"):
            base.append(f"helo={c['helo_name']}")
        if c.get("bind_ip"):
            base.append(f"bind={_norm_addr(c['bind_ip'])}")
        if t in ("http", "https"):
            u = {"path": c.get("path", "/")}
            if c.get("digest"):
                u["digest"] = c["digest"]
            u["status"] = _codes(c.get("status_codes", []))
            base += [f"{k}={u[k]}" for k in sorted(u)]
        lines.append(" ".join(base))
    return sorted(lines)


def directord_lvs(cfg):
    services = {}
    for vs in cfg.get("virtual_servers", []):
        proto = vs.get("protocol", "tcp")
        if vs.get("fwmark"):
            key = f"fwmark:{vs['fwmark']}/{vs.get('family', 'ipv4')}"
        else:
            key = f"{_norm_addr(vs['address'])}:{vs['port']}/{proto}"
        sorry = vs.get("sorry_server") or {}
        fields = {
            "scheduler": vs["scheduler"], "protocol": proto, "forwarding": vs["forwarding"],
            "persistence": vs.get("persistence_timeout", 0), "delay_loop": float(vs["delay_loop"]),
            "quorum": vs.get("quorum", 1), "hysteresis": vs.get("hysteresis", 0),
            "alpha": vs.get("alpha", False), "omega": vs.get("omega", False),
            "inhibit": vs.get("inhibit_on_failure", False), "one_packet": vs.get("one_packet", False),
            "sorry": (f"[{_norm_addr(sorry['address'])}]:{proto}:{sorry.get('port', vs.get('port', 0))}"
                      if isinstance(sorry, dict) and sorry.get("address") else ""),
            "real": {},
        }
        if vs.get("fwmark"):
            del fields["protocol"]  # (as on keepalived's side)
        for r in vs.get("real_servers", []):
            fields["real"][f"{_norm_addr(r['address'])}:{r['port']}"] = {
                "weight": r.get("weight", 1), "forwarding": r.get("forwarding") or vs["forwarding"],
                "thresholds": f"{r.get('lower_threshold', 0)}-{r.get('upper_threshold', 0)}",
                "inhibit": r.get("inhibit_on_failure", fields["inhibit"]),
                "checks": _d_check_lines(r, vs),
            }
        services[key] = fields
    return services


def diff(a, b, path=""):
    """Differences between keepalived's reading `a` and directord's `b`, as 'path: a != b'."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in b:
                out.append(f"{p}: only keepalived has it ({_short(a[k])})")
            elif k not in a:
                out.append(f"{p}: only directord has it ({_short(b[k])})")
            else:
                out += diff(a[k], b[k], p)
    elif a != b:
        out.append(f"{path}: keepalived {_short(a)} != directord {_short(b)}")
    return out


def _short(v):
    s = repr(v)
    return s if len(s) < 160 else s[:157] + "..."
