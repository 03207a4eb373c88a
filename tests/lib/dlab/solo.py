"""One director on a veth (root): the director's namespace and a peer namespace joined by one veth
pair (eth0 on both sides), a work directory, and directord started there with its log. What the
single-director netns tests share: each writes its own config and asserts its own behaviour.

    with solo(directord, "tf", "10.95.0.1/24") as s:
        s.start(conf_text)          # directord -f work/d.conf in s.ns, log in s.log
        s.wait_started()
        s.weights(), s.status(), s.text()
"""
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import uuid

from dlab.report import check, failures, sh, wait


class Solo:
    def __init__(self, directord, prefix, addrs, peer_addrs=()):
        self.directord = directord
        self.ctl = os.path.join(os.path.dirname(directord), "directorctl")
        tag = uuid.uuid4().hex[:6]
        self.ns, self.peer = f"{prefix}d{tag}", f"{prefix}p{tag}"
        self.work = tempfile.mkdtemp(prefix=f"{prefix}-")
        self.log = os.path.join(self.work, "d.log")
        self.proc = None
        self.extra = []
        try:
            for n in (self.ns, self.peer):
                sh(f"ip netns add {n} && ip -n {n} link set lo up")
            sh(f"ip -n {self.ns} link add eth0 type veth peer name eth0 netns {self.peer}")
            for n, want in ((self.ns, [addrs] if isinstance(addrs, str) else addrs),
                            (self.peer, [peer_addrs] if isinstance(peer_addrs, str) else peer_addrs)):
                for a in want:
                    sh(f"ip -n {n} addr add {a} dev eth0" + (" nodad" if ":" in a else ""))
                sh(f"ip -n {n} link set eth0 up")
        except Exception:
            self.close()
            raise

    def start(self, conf_text, args=(), log="d.log", host=False):
        """Writes the config to work/d.conf and starts directord on it in the director's namespace,
        its output in work/<log> (a test that starts it again can keep the runs' logs apart). With
        `host`, directord starts in the host's namespace and the config's global.net_namespace
        (s.ns) takes it there (what needs the initial namespace first: the process events)."""
        self.log = os.path.join(self.work, log)
        conf = os.path.join(self.work, "d.conf")
        with open(conf, "w") as f:
            f.write(conf_text)
        where = [] if host else ["ip", "netns", "exec", self.ns]
        self.proc = subprocess.Popen([*where, self.directord, "-f", conf, *args],
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT, start_new_session=True)

    def text(self):
        return open(self.log, errors="replace").read() if os.path.exists(self.log) else ""

    def wait_started(self, timeout=15):
        ok = wait(lambda: "lvs: started" in self.text(), timeout, 0.05) is not None
        check(ok, "directord starts", "" if ok else self.text()[-400:])
        return ok

    def status(self):
        r = sh(f"{self.ctl} -s {self.work}/d.sock status --json", check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {}

    def weights(self):
        """{"address:port": weight} of every real server in the table."""
        return {x["address"]: x["weight"] for s in self.status().get("table", []) for x in s["dests"]}

    def in_ns(self, which, cmd, **kw):
        """Popen of cmd (a list) in the director's ("d") or the peer's ("p") namespace, in a session
        of its own, stopped when the lab closes."""
        p = subprocess.Popen(["ip", "netns", "exec", self.ns if which == "d" else self.peer, *cmd],
                             start_new_session=True, **kw)
        self.extra.append(p)
        return p

    def stop(self, timeout=20):
        """SIGTERM to directord (its supervisor stops the workers), then SIGKILL to its whole
        process group after `timeout` seconds or when it is gone (no worker outlives the test)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def close(self):
        self.stop()
        for p in self.extra:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for n in (self.ns, self.peer):
            sh(f"ip netns del {n}", check=False)


@contextlib.contextmanager
def solo(directord, prefix, addrs, peer_addrs=()):
    """A Solo lab, closed (directord and every process started with in_ns() stopped, namespaces
    deleted) however the test ends; the log's tail is printed when the test had a failure."""
    before = len(failures)
    lab = Solo(directord, prefix, addrs, peer_addrs)
    try:
        yield lab
    finally:
        if len(failures) > before:
            print("--- directord log (tail)\n" + lab.text()[-3000:])
        lab.close()
