"""The chaos run's invariants, judged on what it recorded (tests/chaos/chaos.py says which and why).
Each violation is a line with its time from the run's start; the figures are the summary's."""
import calendar
import collections
import re
import time
from bisect import bisect_left

from chaos import (DELAY_LOOP, INTERVAL, MD, MARGIN, NOISE, REQUEST_TIMEOUT, SERVER_DOWN, SERVERS, VIP)

PREEMPT_DELAY = 3.0
# faults that stop a director's own clock for a while (its checks' timers fire late on resume)
FREEZES = ("stop_short", "stop_long", "kill_group", "kill_supervisor", "kill_worker", "keepalived_peer")
# after a director is back, it takes the VIP back preempt_delay later: effects show until then
RETURN_TAIL = PREEMPT_DELAY + MD + MARGIN
# the rightful master announces three intervals after a second master's last advert or claim, and
# a stream that went to the second one is reset when the clients move back
SETTLE = 4 * INTERVAL + MARGIN
LEARN = 1.0 + 1.0 + 0.5  # template refresh + a persistent client's ask period + margin


def tail(f):
    return f.bound + (RETURN_TAIL if f.disables else 0)


def window(f, end):
    return f.start, (f.end if f.end is not None else end) + tail(f)


def intervals(events, start, end):
    """[(a, b)] where a recorded boolean [(t, value)] was true within [start, end]."""
    out, since = [], None
    for t, v in sorted(events):
        if v and since is None:
            since = t
        elif not v and since is not None:
            out.append((since, t))
            since = None
    if since is not None:
        out.append((since, end))
    return [(max(a, start), min(b, end)) for a, b in out if b > start and a < end]


def intersect(xs, ys):
    out = []
    for a, b in xs:
        for c, d in ys:
            lo, hi = max(a, c), min(b, d)
            if hi > lo:
                out.append((lo, hi))
    return out


def covered(a, b, windows):
    """Whether [a, b] lies within the union of windows."""
    t = a
    for lo, hi in sorted(windows):
        if lo <= t < hi:
            t = hi
        if t >= b:
            return True
    return t >= b


def slope(points):
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    return 0.0 if den == 0 else sum((t - mt) * (v - mv) for t, v in points) / den


class Judge:
    def __init__(self, run):
        self.r = run
        self.violations = []
        self.worst = collections.defaultdict(float)   # fault kind -> worst client gap attributed
        self.bounds = collections.defaultdict(float)
        self.alone = collections.defaultdict(float)   # fault kind -> worst gap while only it was in force
        self.streams_ended = collections.Counter()
        self.outage_list = []   # (seconds, at, what, faults) of every outage over NOISE
        self.figures = {}

    def at(self, t):
        return t - self.r.t0

    def violation(self, t, what):
        self.violations.append((self.at(t), what))

    def faults_in(self, a, b, pred=lambda f: True, after=lambda f: 0.0):
        out = []
        for f in self.r.faults:
            lo, hi = window(f, self.r.end)
            if lo < b and hi + after(f) > a and pred(f):
                out.append(f)
        return out

    def judge(self):
        self.logs()
        self.two_masters()
        self.outages()
        self.failures()
        self.streams()
        self.persistence()
        self.hung_servers()
        self.shares()
        self.processes()
        self.slopes()
        return self

    # ---- the logs: worker deaths, their restart delays, refused reloads, servers' DOWN -------------
    def logs(self):
        # the logs' wall clock on the run's monotonic one, by the pair sampled nearest in wall time
        # (the wall clock may be stepped during a run: one offset taken at the end mapped the
        # first 11 minutes of a run 20 s off)
        clocks = sorted((w, w - m) for m, w in self.r.clocks) or [(time.time(), time.time() - time.monotonic())]
        walls = [w for w, _ in clocks]

        def monotonic(wall):
            k = bisect_left(walls, wall)
            near = min((j for j in (k - 1, k) if 0 <= j < len(clocks)), key=lambda j: abs(walls[j] - wall))
            return wall - clocks[near][1]
        self.deaths = {}          # pid -> (director, worker, delay)
        self.refused = collections.Counter()
        self.downs = collections.defaultdict(list)   # director -> [server address]
        for i, ns in self.r.ns.items():
            try:
                text = open(f"{self.r.work}/{ns}.log", errors="replace").read()
            except OSError:
                continue
            for m in re.finditer(r"supervisor: the (\w+) worker \(pid (\d+)\) (?:killed by signal|exited with)[^;\n]*;"
                                 r" restarting it (?:now|in ([\d.]+) s)", text):
                self.deaths[int(m.group(2))] = (i, m.group(1), float(m.group(3) or 0))
            self.refused[i] = len(re.findall(r"reload: .*keeping the running configuration", text))
            # "2026-12-07T15:31:05.576Z lvs[..] notice: check: vs VIP:80/tcp rs 10.98.0.52:80: UP -> DOWN (...)"
            for m in re.finditer(r"^(\S+)Z lvs\[\d+\] \w+: check: vs \S+ rs ([\d.]+):\d+: UP -> DOWN", text, re.M):
                wall = calendar.timegm(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) + float(m.group(1)[19:] or 0)
                self.downs[i].append((monotonic(wall), m.group(2)))
        for f in self.r.faults:
            if f.kind == "kill_worker" and f.pid in self.deaths:
                delay = self.deaths[f.pid][2]
                if delay:  # a repeated death backs off: the VIP or the plane waits for it
                    f.bound += delay + (MD if f.worker == "vrrp" else 0)
                    f.disables = f.target if f.worker in ("vrrp", "fwd") else None

    # ---- never two directors answering ------------------------------------------------------------
    def two_masters(self):
        r, start, end = self.r, self.r.clients_start, self.r.end
        answering = {}
        for i in (1, 2):
            answering[i] = intersect(intervals(r.holders[i], start, end), intervals(r.links[i], start, end))
        partitions = [window(f, end) for f in r.faults if f.partitions]
        longest = 0.0
        for a, b in intersect(answering[1], answering[2]):
            if b - a <= INTERVAL + NOISE:
                continue
            if covered(a, b, partitions):
                longest = max(longest, b - a)
                continue
            self.violation(a, f"two directors held {VIP} with their links up for {b - a:.3f} s "
                              f"(faults then: {self.names(a, b)})")
        self.figures["two_masters_in_partitions_s"] = round(longest, 3)

    def where(self, t):
        """Who held the VIP at t, and whose MAC the client was sending to: for reading a violation."""
        held = [i for i in (1, 2) if any(v for _, v in [e for e in self.r.holders[i] if e[0] <= t][-1:])]
        neigh = [d for s, d in getattr(self.r, "neigh", []) if s <= t][-1:]
        return (f"VIP on director {'+'.join(map(str, held)) or 'none'}, the client sending to "
                f"{('director ' + str(neigh[0])) if neigh and neigh[0] else 'unknown'}")

    def names(self, a, b):
        return ", ".join(f.name() for f in self.faults_in(a, b)) or "none"

    # ---- what the client saw ----------------------------------------------------------------------
    def outage(self, a, b, what):
        if b - a <= NOISE:
            return
        fs = self.faults_in(a, b)
        self.outage_list.append((b - a, self.at(a), what, self.names(a, b)))
        if not fs:
            self.violation(a, f"{what}: {1000 * (b - a):.0f} ms with no fault in force ({self.where(a)})")
            return
        for f in fs:
            self.worst[f.kind] = max(self.worst[f.kind], b - a)
            self.bounds[f.kind] = max(self.bounds[f.kind], f.bound)
        if len(fs) == 1:  # that fault alone in force (one director, one fault): its kind's own figure
            self.alone[fs[0].kind] = max(self.alone[fs[0].kind], b - a)
        disabled = {f.disables for f in fs if f.disables}
        if disabled >= {1, 2}:   # both directors out at once: only the union of their windows holds
            # (a gap starts at the last answer before it, up to one client period before the fault:
            # NOISE of it may precede the windows, as it may exceed the bounds below)
            if not covered(a + NOISE, b, [window(f, self.r.end) for f in fs]):
                self.violation(a, f"{what}: {1000 * (b - a):.0f} ms outlasts the faults in force ({self.names(a, b)})")
            return
        allowed = sum(f.bound for f in fs) + NOISE
        if b - a > allowed:
            self.violation(a, f"{what}: {1000 * (b - a):.0f} ms, more than the {1000 * allowed:.0f} ms its faults "
                              f"allow ({self.names(a, b)})")

    def outages(self):
        start, end = self.r.clients_start + 1, self.r.end
        # a gap that the probe's own stall explains is the client's, not the pair's (the machine
        # did not run it): what is left of the gap counts
        stalls = sorted(getattr(self.r, "client_stalls", []))
        self.figures["client_stall_worst_ms"] = round(1000 * max((b - a for a, b in stalls), default=0))
        probes = [t for t in sorted(self.r.probe_times) if start <= t <= end]
        for a, b in zip([start] + probes, probes + [end]):
            if b - a > NOISE:
                stalled = sum(max(0.0, min(b, hi) - max(a, lo)) for lo, hi in stalls)
                if b - a - stalled > NOISE:
                    self.outage(a, b, "ICMP probe of the VIP unanswered")
        # the data plane: connections to VIP:80 every 10 ms (requests wait on hung servers; these do
        # not); a gap with no failed attempt in it is the client not running, not an outage
        ok, failed = [], []
        for line in self.r.client_lines:
            if line.startswith("C ") or line.startswith("c "):
                t = float(line.split()[1])
                if start <= t <= end:
                    (ok if line[0] == "C" else failed).append(t)
        ok.sort()
        failed.sort()
        for a, b in zip([start] + ok, ok + [end]):
            if b - a > NOISE:
                k = bisect_left(failed, a)
                if k < len(failed) and failed[k] < b:
                    self.outage(a, b, "no TCP connection to the VIP")
                else:
                    self.figures["client_stall_worst_ms"] = max(self.figures["client_stall_worst_ms"],
                                                                round(1000 * (b - a)))
        self.figures["connects"] = len(ok)
        self.figures["requests"] = sum(1 for line in self.r.client_lines if line.startswith("R ") and " ok " in line)
        self.figures["probes"] = len(probes)

    def failures(self):
        start = self.r.clients_start + 1
        n = 0
        for line in self.r.client_lines:
            f = line.split()
            if f[0] != "R" or f[2] != "fail":
                continue
            t = float(f[1])
            if t < start:
                continue
            n += 1
            if not self.faults_in(t, t + REQUEST_TIMEOUT):
                self.violation(t, f"a request failed ({f[3]}) with no fault in force ({self.where(t)})")
        self.figures["requests_failed"] = n

    def streams(self):
        moves = []
        for i in (1, 2):
            moves += [t for t, _ in self.r.holders[i]]
        moves.sort()
        for line in self.r.client_lines:
            f = line.split()
            if f[0] != "S" or f[3] != "end":
                continue
            t, why, age, server = float(f[1]), f[4], float(f[5]), f[6]
            if t < self.r.clients_start + 1:
                continue
            born = t - age
            # a fault that made two masters ends when the clients are back at one: the rightful
            # master's announcements three intervals after the other's last (SETTLE)
            breakers = self.faults_in(born, t, lambda x: x.breaks_streams and
                                      (x.kind not in ("server_die", "server_hang") or x.target == server or server == "-"),
                                      lambda x: SETTLE if x.partitions else 0.0)
            k = bisect_left(moves, born)
            moved = k < len(moves) and moves[k] <= t + 0.1
            if breakers or moved:
                self.streams_ended[breakers[0].kind if breakers else "vip_moved"] += 1
            else:
                self.streams_ended["unexplained"] += 1
                self.violation(t, f"a stream to {server} ended ({why}, after {age:.1f} s) with nothing that ends "
                                  f"streams in force ({self.names(born, t)})")

    def unlearned(self, t):
        """Whether the VIP's holder at t lost its state (its processes or its fwd worker died) in a
        fault that ended less than LEARN s before it took the VIP, or since: a backup relearns each
        template within the master's template refresh (1 s) after the client's next request."""
        for i in (1, 2):
            events = [e for e in self.r.holders[i] if e[0] <= t]
            if not events or not events[-1][1]:
                continue
            took = events[-1][0]
            for e in reversed(events):
                if not e[1]:
                    break
                took = e[0]
            if any(x.lost_state and x.target == i and x.start <= t and (x.end or t) >= took - LEARN
                   for x in self.r.faults):
                return True
        return False

    def persistence(self):
        self.nft_moved = 0
        self.moved_unlearned = 0
        self.moved_split = 0
        seen = {}
        changes = 0
        nft = self.r.plane == "nftables"
        for line in self.r.client_lines:
            f = line.split()
            if f[0] != "P" or f[3] == "fail":
                continue
            t, src, server = float(f[1]), f[2], f[3]
            prev = seen.get(src)
            if prev is None or prev[1] == server:
                seen[src] = (prev[0] if prev else t, server, t, prev[3] if prev else None)
                continue
            placed, old, _, failed_from = prev
            seen[src] = (t, server, t, None)
            changes += 1

            def excuses(x):
                if x.kind in ("server_die", "server_hang"):
                    return x.target == old or nft
                return x.loses_sync or (nft and x.moves_servers)
            fs = self.faults_in(placed, t)
            lost = {x.target for x in fs if x.lost_state}
            if any(excuses(x) for x in fs) or lost >= {1, 2}:
                if any(x.kind in ("server_die", "server_hang") and x.target == old for x in fs):
                    seen[src] = (t, server, t, placed)  # rescheduled away from its failed server
                continue
            if failed_from is not None and self.faults_in(failed_from, t, lambda x: x.kind in FREEZES or x.partitions
                                                          or x.disables or x.loses_sync):
                # its server failed and each director placed it afresh on its own while one of them
                # could not hear the other's sync (frozen, cut off, restarted): the later master's
                # choice wins (IPVS sync goes from master to backup only, so nothing merges them)
                self.moved_split += 1
                continue
            if self.unlearned(t):
                # the director serving it had lost its templates (a restart; the userspace plane's
                # fwd worker, which holds them) and not yet relearned them from the other's sync
                self.moved_unlearned += 1
                continue
            if nft and any(placed <= e <= t for i in (1, 2) for e, _ in self.r.holders[i]):
                # by design: the nftables plane has no sync (conntrackd's job); the new master has
                # no template and schedules the client afresh (mh: the same server where both
                # directors see the same servers up; their checks may disagree for a while)
                self.nft_moved += 1
                continue
            self.violation(t, f"persistent client {src} moved from {old} to {server} ({self.names(placed, t)})")
        self.figures["persistent_moves"] = changes
        self.figures["persistent_moves_state_lost"] = self.moved_unlearned
        self.figures["persistent_moves_placed_twice"] = self.moved_split
        if nft:
            self.figures["persistent_moves_with_the_vip_no_sync"] = self.nft_moved

    def hung_servers(self):
        for f in self.r.faults:
            if f.kind != "server_hang":
                continue
            lo, hi = f.start + SERVER_DOWN, (f.end or self.r.end)
            # a director whose checks (re)started meanwhile starts with the server up, as keepalived
            # does: its own SERVER_DOWN runs from then
            restarts = [x.end for x in self.r.faults if x.kind in FREEZES and x.end and x.end < hi]
            # keepalived_peer also starts a directord (the data plane under keepalived) as it begins
            restarts += [x.start for x in self.r.faults if x.kind == "keepalived_peer" and x.start < hi]
            # a director stopped (SIGSTOP) before it could see the hang checks nothing while it is
            # stopped, but its kernel (the nftables plane) forwards by the rules it last wrote: the
            # server stays in them until its checks, running again, find the hang
            frozen = [(f.start, x.end) for x in self.r.faults if x.kind in ("stop_short", "stop_long")
                      and x.start < lo and x.end and x.end > f.start]
            late = [line for line in self.r.server_lines.get(f.target, [])
                    if line.startswith("A ") and lo < float(line.split()[1]) < hi and
                    not any(0 <= float(line.split()[1]) - e < SERVER_DOWN for e in restarts) and
                    not any(a <= float(line.split()[1]) < b for a, b in frozen)]
            if late:
                self.violation(lo, f"{f.target} hung since {self.at(f.start):.2f} s and still received "
                                   f"{len(late)} client connection(s) after {SERVER_DOWN:.1f} s")

    def shares(self):
        quiet = collections.Counter()
        # the times some server fault was in force (its window, and SERVER_DOWN before it ends)
        spans = sorted(window(f, self.r.end) for f in self.r.faults if f.kind in ("server_die", "server_hang"))
        merged = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1] + SERVER_DOWN:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        starts = [lo for lo, _ in merged]
        for line in self.r.client_lines:
            f = line.split()
            if f[0] == "R" and f[2] == "ok":
                t = float(f[1])
                k = bisect_left(starts, t + SERVER_DOWN) - 1  # the last span starting before t + SERVER_DOWN
                if k < 0 or merged[k][1] < t - SERVER_DOWN:
                    quiet[f[3]] += 1
        total = sum(quiet.values())
        self.figures["shares"] = {k: round(v / total, 3) for k, v in sorted(quiet.items())} if total else {}
        for name in SERVERS:
            if total >= 100 and quiet[name] < 0.15 * total:
                self.violation(self.r.end, f"{name} got {quiet[name]} of {total} requests while every server was up")

    # ---- processes ----------------------------------------------------------------------------------
    def processes(self):
        for p in self.r.all_procs:
            if p.poll() is not None and p.pid not in self.r.expected_exits:
                self.violation(self.r.end, f"a directord (pid {p.pid}) exited with {p.returncode}: the run did not stop it")
        for pid, (i, worker, _) in self.deaths.items():
            if pid not in self.r.killed_pids:
                self.violation(self.r.end, f"director {i}'s {worker} worker (pid {pid}) died: the run did not kill it")
        for f in self.r.faults:
            if f.kind == "kill_worker" and f.pid not in self.deaths:
                self.violation(f.start, f"director {f.target}'s log does not name the killed {f.worker} worker (pid {f.pid})")
        for i in (1, 2):
            if self.refused[i] < self.r.refused_reloads[i]:
                self.violation(self.r.end, f"director {i} refused {self.refused[i]} reloads in its log, "
                                           f"{self.r.refused_reloads[i]} bad files were given")
        self.figures["worker_deaths_logged"] = len(self.deaths)
        # every server failure is seen (a DOWN in some director's log within its bound), and every
        # DOWN has a cause: that server's failure, or this director itself frozen or cut off then
        by_addr = {addr: name for name, addr in SERVERS.items()}
        frozen = server_stalled = 0
        for i, downs in self.downs.items():
            for t, addr in downs:
                if t < self.r.clients_start:
                    continue
                name = by_addr.get(addr)
                if self.faults_in(t - SERVER_DOWN, t, lambda x: x.target == name):
                    continue
                if self.faults_in(t - SERVER_DOWN, t, lambda x: x.target == i and x.kind in FREEZES):
                    frozen += 1  # its check's timer fired before its answer was read: counted, not a violation
                    continue
                if any(a < t and a + d > t - SERVER_DOWN for a, d in self.server_stalls(name)):
                    server_stalled += 1  # the test's server itself did not run: counted, not a violation
                    continue
                self.violation(t, f"director {i} marked {name} DOWN with no fault on it or on the director")
        self.figures["down_after_own_freeze"] = frozen
        self.figures["down_after_server_stall"] = server_stalled
        for f in self.r.faults:
            if f.kind in ("server_die", "server_hang") and (f.end or self.r.end) - f.start > SERVER_DOWN:
                lo, hi = f.start, f.start + SERVER_DOWN + 1
                if all(self.faults_in(lo, hi, lambda x, i=i: x.target == i and x.kind in FREEZES) for i in (1, 2)):
                    continue  # neither director ran its checks throughout
                if any(x is not f and x.target == f.target and x.kind in ("server_die", "server_hang") and
                       x.start < f.start < (x.end or self.r.end) + DELAY_LOOP + MARGIN for x in self.r.faults):
                    continue  # back from an earlier failure too briefly for a check to see it up: no new DOWN
                if not any(lo <= t <= hi and by_addr.get(a) == f.target for d in self.downs.values() for t, a in d):
                    self.violation(f.start, f"no director logged {f.target} DOWN within {SERVER_DOWN + 1:.1f} s "
                                            f"of its {f.kind}")

    def server_stalls(self, name):
        """[(start, seconds)] when the test's server `name` itself did not run (its T lines)."""
        out = []
        for line in self.r.server_lines.get(name, []):
            if line.startswith("T "):
                f = line.split()
                out.append((float(f[1]), float(f[2])))
        return out

    def slopes(self):
        series = collections.defaultdict(list)
        warm = self.r.clients_start + 60
        for t, i, name, pid, rss, fds, threads in self.r.samples:
            if t >= warm:
                series[(i, name, pid)].append((t, rss, fds, threads))
        best = {}
        for (i, name, pid), pts in series.items():
            if len(pts) >= 5 and (pts[-1][0] - pts[0][0]) > best.get((i, name), (0, None))[0]:
                best[(i, name)] = (pts[-1][0] - pts[0][0], pts)
        out = {}
        long_run = self.r.args.minutes >= 15
        for (i, name), (span, pts) in sorted(best.items()):
            rss = slope([(p[0] / 60, p[1]) for p in pts])
            fds = slope([(p[0] / 60, p[2]) for p in pts])
            thr = slope([(p[0] / 60, p[3]) for p in pts])
            out[f"d{i}.{name}"] = {"minutes": round(span / 60, 1), "rss_kib_per_min": round(rss, 1),
                                   "fds_per_min": round(fds, 3), "threads_per_min": round(thr, 3)}
            if long_run and span >= 600 and (fds > 0.2 or rss > 200 or thr > 0.05):
                self.violation(self.r.end, f"d{i} {name}: grows over {span / 60:.0f} min: {rss:.0f} KiB/min, "
                                           f"{fds:.2f} fds/min, {thr:.2f} threads/min")
        self.figures["slopes"] = out


