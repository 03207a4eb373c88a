#!/usr/bin/env python3
"""directord as operators run it: real processes, signals, pid file, state dumps, logs.

Each test starts its own directord on a config in a fresh temp dir (data_plane = "memory", so no
root and no kernel IPVS are needed), drives it with signals and checks the JSON state dump and the
log. Waits poll with generous deadlines; nothing depends on tight timing.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from dlab import daemon
from dlab.daemon import CONFIG, DEADLINE, Daemon, wait_for


class ConfigCheckTest(unittest.TestCase):
    def test_good_config_is_ok(self):
        r = subprocess.run([daemon.DIRECTORD, "-t", "-f", os.path.join(daemon.SOURCE, "conf/examples/quickstart.conf")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("configuration OK"))

    def test_host_check_warns_of_what_this_host_lacks(self):
        d = tempfile.mkdtemp(prefix="hostcheck-")
        self.addCleanup(shutil.rmtree, d, True)
        conf = os.path.join(d, "d.conf")
        with open(conf, "w") as f:
            f.write('vrrp_instances = ( { name = "VI_1"; interface = "nosuch0"; virtual_router_id = 9;\n'
                    '  virtual_addresses = ( "10.9.9.9/24" ); notify = { master = "/nonexistent/notify"; }; } );\n')
        r = subprocess.run([daemon.DIRECTORD, "-t", "-f", conf], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)  # warnings: the file itself is good
        self.assertEqual(r.stderr.splitlines(), [
            f"warning: {conf}:1: vrrp instance VI_1: interface 'nosuch0' does not exist on this host",
            f"warning: {conf}:1: vrrp_instances[0].notify.master: /nonexistent/notify does not exist or is not "
            "executable on this host (it would fail every run)"])
        self.assertEqual(r.stdout, f"configuration OK: {conf} (2 warning(s): it would not run as written on this host)\n")

    def test_bad_config_lists_every_error(self):
        bad = os.path.join(daemon.SOURCE, "tests/corpus/bad/cross-references.conf")
        r = subprocess.run([daemon.DIRECTORD, "-t", "-f", bad], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        with open(os.path.join(daemon.SOURCE, "tests/corpus/bad/cross-references.expected")) as f:
            expected = [os.path.dirname(bad) + "/" + line for line in f.read().splitlines() if line]
        got = r.stderr.splitlines()
        self.assertEqual(got[:-1], expected)
        self.assertIn(f"{len(expected)} error(s)", got[-1])

    def test_dump_config_loads_back(self):
        src = os.path.join(daemon.SOURCE, "tests/corpus/good/full.conf")
        r = subprocess.run([daemon.DIRECTORD, "--dump-config", "-f", src], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(r.stdout)
        self.addCleanup(os.unlink, f.name)
        again = subprocess.run([daemon.DIRECTORD, "--dump-config", "-f", f.name], capture_output=True, text=True)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(again.stdout.split("\n", 1)[1], r.stdout.split("\n", 1)[1])


class ReloadTest(unittest.TestCase):
    def reload_good_then_bad(self, single):
        d = Daemon(self, single=single).start()
        vs = "TCP  127.0.10.1:80"
        self.assertEqual(d.weights(), {(vs, "127.0.0.2:8080"): 3, (vs, "127.0.0.3:8080"): 1})

        # A good config: one weight changes, one real server and one virtual server are added.
        d.write(w1=7, extra_rs=', { address = "127.0.0.4"; port = 8080; }',
                extra_vs=', { address = "127.0.10.1"; port = 53; protocol = "udp"; '
                         'real_servers = ( { address = "127.0.0.5"; port = 53; } ); }')
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "applied: virtual servers: 1 added, 0 removed, 1 changed, 0 unchanged" in d.log(),
                 "the good reload")
        # Only the delta: edit-dest (weight), add-dest, add-service + its add-dest.
        self.assertIn("; 4 table ops", d.log())
        good = d.weights()
        self.assertEqual(good, {(vs, "127.0.0.2:8080"): 7, (vs, "127.0.0.3:8080"): 1, (vs, "127.0.0.4:8080"): 1,
                                ("UDP  127.0.10.1:53", "127.0.0.5:53"): 1})

        # A bad config: every diagnostic is logged with file:line, the running config stays.
        d.write(text=open(d.conf).read().replace("weight = 7;", "weight = -7; wieght = 2;"))
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running configuration" in d.log(), "the rejected reload")
        log = d.log()
        self.assertRegex(log, rf"reload: {d.conf}:\d+: virtual_servers\[0\]\.real_servers\[0\]\.weight: "
                              r"-7 is out of range \(0\.\.65535\)")
        self.assertRegex(log, rf"reload: {d.conf}:\d+: virtual_servers\[0\]\.real_servers\[0\]\.wieght: "
                              r"unknown setting 'wieght' \(did you mean 'weight'\?\)")
        self.assertIn("reload: 2 error(s) in", log)
        self.assertEqual(d.weights(), good)
        self.assertEqual(d.state()["reloads"], 1)

        self.assertEqual(d.stop(), 0)
        self.assertIn("removed the 2 virtual servers directord created", d.log())
        self.assertFalse(os.path.exists(os.path.join(d.dir, "directord.pid")))

    def test_reload_multi_process(self):
        self.reload_good_then_bad(single=False)

    def test_signals_while_starting(self):
        """SIGHUP and SIGUSR1 kill a process by default: sent while directord is still reading its
        config (an operator's reload just after a restart; tests/chaos lost a director so), they wait
        for it instead. A large config makes the start-up long enough to hit."""
        for single in (False, True):
            d = Daemon(self, single=single)
            vs = ",\n".join(f'{{ address = "127.1.{i // 250}.{i % 250 + 1}"; port = 80; '
                            f'real_servers = ( {{ address = "127.0.0.2"; port = 8080; }} ); }}'
                            for i in range(2000))
            d.write(text=CONFIG.format(dir=d.dir, w1=3, extra_rs="", extra_vs="").replace("\n);\n", ",\n" + vs + "\n);\n"))
            d.logf = open(d.log_path, "w")
            d.proc = subprocess.Popen([daemon.DIRECTORD, "-f", d.conf] + (["--single-process"] if single else []),
                                      stdout=d.logf, stderr=subprocess.STDOUT)
            # From main() on (the dynamic loader before it no program can shield): main() holds the
            # signals before it reads the config, so SigBlk shows SIGHUP before the first log line.
            def hup_held():
                try:
                    with open(f"/proc/{d.proc.pid}/status") as f:
                        return int(next(x for x in f if x.startswith("SigBlk:")).split()[1], 16) & 1
                except (OSError, StopIteration):
                    return 0
            end = time.monotonic() + DEADLINE
            while not hup_held() and d.proc.poll() is None and time.monotonic() < end:
                time.sleep(0.001)
            self.assertEqual(d.log(), "", f"single={single}: SIGHUP was held only after the config was read")
            sent = 0
            # until the supervisor's loop (or the single process's handlers) took over
            while ("supervisor: directord starting" not in d.log() and "lvs: started on the " not in d.log()
                   and d.proc.poll() is None and time.monotonic() < end):
                d.proc.send_signal(signal.SIGHUP if sent % 2 == 0 else signal.SIGUSR1)
                sent += 1
                time.sleep(0.002)
            self.assertIsNone(d.proc.poll(), f"single={single}: directord died of a signal sent while it started: "
                                             f"{d.log()[-2000:]} "
                                             f"(after {sent} signals): {d.proc.returncode}")
            self.assertGreater(sent, 0, "the start-up was too short to send signals into")
            wait_for(lambda: "reload: " in d.log() and "state: written to" in d.log(), "the held reload and dump")
            self.assertEqual(d.stop(), 0)

    def test_reload_single_process(self):
        self.reload_good_then_bad(single=True)


class ControlSocketTest(unittest.TestCase):
    def test_directorctl_status(self):
        d = Daemon(self).start()
        ctl = os.path.join(os.path.dirname(daemon.DIRECTORD), "directorctl")
        sock = os.path.join(d.dir, "ctl.sock")
        r = subprocess.run([ctl, "-s", sock, "status", "--json"], capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(r.returncode, 0, r.stderr)
        status = json.loads(r.stdout)
        self.assertEqual(status["data_plane"], "memory")
        self.assertEqual([s["service"] for s in status["table"]], ["TCP  127.0.10.1:80"])
        self.assertEqual(oct(os.stat(sock).st_mode & 0o777), "0o600")
        # ipvsctl reads the daemon's table in ipvsadm's formats
        ipvsctl = os.path.join(os.path.dirname(daemon.DIRECTORD), "ipvsctl")
        env = dict(os.environ, DIRECTORD_SOCKET=sock)
        run = lambda *a: subprocess.run([ipvsctl, *a], capture_output=True, text=True, env=env, timeout=DEADLINE)
        r = run("-Ln")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout,
                         "IP Virtual Server version 1.2.1 (size=4096)\n"
                         "Prot LocalAddress:Port Scheduler Flags\n"
                         "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
                         "TCP  127.0.10.1:80 wrr\n"
                         "  -> 127.0.0.2:8080               Masq    3      0          0         \n"
                         "  -> 127.0.0.3:8080               Masq    1      0          0         \n")
        self.assertEqual(run("-S", "-n").stdout,
                         "-A -t 127.0.10.1:80 -s wrr\n"
                         "-a -t 127.0.10.1:80 -r 127.0.0.2:8080 -m -w 3\n"
                         "-a -t 127.0.10.1:80 -r 127.0.0.3:8080 -m -w 1\n")
        self.assertEqual(run("-L", "--timeout").stdout, "Timeout (tcp tcpfin udp): 900 120 300\n")
        self.assertEqual(run("-Lnc").stdout, "IPVS connection entries\n"
                                             "pro expire state       source             virtual            destination\n")
        self.assertIn("TCP  127.0.10.1:80", run("-Ln", "--stats", "-t", "127.0.10.1:80").stdout)
        r = run("-Ln", "-t", "127.0.10.9:80")
        self.assertEqual((r.returncode, r.stderr), (1, "No such service\n"))
        # editing by hand through the daemon: a service directord does not manage is added, kept by
        # the reconciler, and restored from ipvsadm -S output
        self.assertEqual(run("-A", "-t", "127.0.10.2:81", "-s", "rr").returncode, 0)
        self.assertEqual(run("-a", "-t", "127.0.10.2:81", "-r", "127.0.0.9:8081", "-m", "-w", "4").returncode, 0)
        r = run("-A", "-t", "127.0.10.2:81")
        self.assertEqual((r.returncode, r.stderr), (255, "Service already exists\n"))
        r = run("-a", "-t", "127.0.10.2:99", "-r", "127.0.0.9")
        self.assertEqual((r.returncode, r.stderr), (255, "Service not defined\n"))
        self.assertIn("TCP  127.0.10.2:81 rr\n  -> 127.0.0.9:8081               Masq    4", run("-Ln").stdout)
        saved = run("-S").stdout
        self.assertEqual(run("-D", "-t", "127.0.10.2:81").returncode, 0)
        r = subprocess.run([ipvsctl, "-R"], input=saved.replace("-A -t 127.0.10.1:80 -s wrr\n", "")
                           .replace("-a -t 127.0.10.1:80", "#"), capture_output=True, text=True, env=env, timeout=DEADLINE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(run("-S").stdout, saved)
        r = run("--bogus")  # as ipvsadm 1.31: status 255 and its hint
        self.assertEqual(r.returncode, 255)
        self.assertEqual(r.stderr, "Try `ipvsctl -h' or 'ipvsctl --help' for more information.\n")
        r = run("-A", "-t", "127.0.10.3:80", "-w", "3")
        self.assertEqual((r.returncode, r.stderr), (2, "Illegal 'weight' option with the 'add-service' command\n"))
        # a second directord with another pid file must not take the socket over
        other = Daemon(self)
        other.write(text=open(d.conf).read().replace(f'pid_file = "{d.dir}/directord.pid"',
                                                      f'pid_file = "{other.dir}/directord.pid"'))
        other.start()
        wait_for(lambda: f"control: {sock} is in use by another process" in other.log(), "the refusal")
        self.assertEqual(other.stop(), 0)
        r = subprocess.run([ctl, "-s", sock, "status", "--json"], capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(json.loads(r.stdout)["pid"], status["pid"])
        self.assertEqual(d.stop(), 0)
        self.assertFalse(os.path.exists(sock))
        r = subprocess.run([ctl, "-s", sock, "status", "--json"], capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot reach directord", r.stderr)


class ProcessModelTest(unittest.TestCase):
    def test_killed_worker_is_restarted(self):
        d = Daemon(self).start()
        first = d.state()
        lvs_pid = first["pid"]
        self.assertEqual(first["vrrp_roles"], {"VI_1": "INIT"})  # relayed from the vrrp worker
        kids = d.children()
        self.assertEqual(len(kids), 3)  # vrrp, status, lvs
        self.assertIn(lvs_pid, kids)
        os.kill(lvs_pid, signal.SIGKILL)
        wait_for(lambda: f"the lvs worker (pid {lvs_pid}) killed by signal 9" in d.log(), "the death to be seen")
        wait_for(lambda: len([k for k in d.children() if k != lvs_pid]) == 3, "a new lvs worker")
        wait_for(lambda: d.log().count("lvs: started on the memory table") == 2, "the new lvs worker to start")
        again = d.state()
        self.assertNotEqual(again["pid"], lvs_pid)
        self.assertEqual(again["vrrp_roles"], {"VI_1": "INIT"})  # replayed by the supervisor
        self.assertEqual(len(again["table"]), 1)
        # The first death restarts at once (a VRRP master must be back within an advert interval);
        # a second quick death backs off.
        self.assertIn("restarting it now (restart 1)", d.log())
        os.kill(again["pid"], signal.SIGKILL)
        wait_for(lambda: "restarting it in 1 s (restart 2)" in d.log(), "the back-off")
        wait_for(lambda: d.log().count("lvs: started on the memory table") == 3, "the third lvs worker to start")
        again = d.state()
        # The vrrp worker too.
        started = lambda name: [int(x) for x in re.findall(rf"started the {name} worker \(pid (\d+)\)", d.log())]  # noqa: E731
        vrrp_pid = started("vrrp")[-1]
        self.assertIn(vrrp_pid, d.children())
        os.kill(vrrp_pid, signal.SIGKILL)
        wait_for(lambda: f"the vrrp worker (pid {vrrp_pid}) killed by signal 9" in d.log(), "the vrrp death")
        wait_for(lambda: len([k for k in d.children() if k != vrrp_pid]) == 3, "a new vrrp worker")
        # and the status worker: /status is served again by its successor
        status_pid = started("status")[-1]
        os.kill(status_pid, signal.SIGKILL)
        wait_for(lambda: f"the status worker (pid {status_pid}) killed by signal 9" in d.log(), "the status death")
        wait_for(lambda: len(started("status")) == 2 and started("status")[-1] in d.children(), "a new status worker")
        self.assertEqual(d.stop(), 0)

    def test_workers_never_read_the_config_file(self):
        """Only the supervisor reads the file: with it gone, every worker killed comes back with the
        config it had (from the supervisor's memory), and a SIGHUP keeps the running config."""
        d = Daemon(self).start()
        before = d.state()
        os.rename(d.conf, d.conf + ".away")
        started = lambda name: [int(x) for x in re.findall(rf"started the {name} worker \(pid (\d+)\)", d.log())]  # noqa: E731
        for name in ("lvs", "vrrp", "status"):
            pid = started(name)[-1]
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: len(started(name)) == 2 and started(name)[-1] in d.children(), f"a new {name} worker")
        wait_for(lambda: d.log().count("lvs: started on the memory table: 1 virtual servers, 2 real servers") == 2,
                 "the new lvs worker to start from the config it had")
        after = d.state()
        self.assertNotEqual(after["pid"], before["pid"])
        self.assertEqual(after["table"], before["table"])
        self.assertEqual(after["vrrp_roles"], before["vrrp_roles"])
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running configuration" in d.log(), "the reload to be refused")
        self.assertEqual(d.state()["table"], before["table"])
        os.rename(d.conf + ".away", d.conf)
        self.assertEqual(d.stop(), 0)

    def test_second_instance_refuses_to_start(self):
        d = Daemon(self).start()
        r = subprocess.run([daemon.DIRECTORD, "-f", d.conf], capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"another directord is already running (pid {d.proc.pid}", r.stderr)
        self.assertEqual(d.stop(), 0)

    def test_unavailable_data_plane_stops_the_director(self):
        d = Daemon(self)
        d.write(text=open(d.conf).read().replace('data_plane = "memory"', 'data_plane = "kernel"'))
        d.logf = open(d.log_path, "w")
        d.proc = subprocess.Popen([daemon.DIRECTORD, "-f", d.conf], stdout=d.logf, stderr=subprocess.STDOUT)
        self.assertNotEqual(d.proc.wait(timeout=DEADLINE), 0)
        log = d.log()
        self.assertIn('data_plane = "kernel"', log)
        self.assertIn("cannot run with this configuration; stopping directord", log)
        self.assertNotIn("restarting it", log)


class HardeningTest(unittest.TestCase):
    def test_empty_reload_keeps_the_table(self):
        d = Daemon(self).start()
        before = d.weights()
        d.write(text="")  # a file cut short to nothing
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "defines no virtual servers and no VRRP instances" in d.log(), "the refused reload")
        self.assertIn("keeping the running configuration. To really remove everything, set global.allow_empty = true",
                      d.log())
        self.assertEqual(d.weights(), before)
        # asked for explicitly: applied
        d.write(text=f'global = {{ data_plane = "memory"; pid_file = "{d.dir}/directord.pid"; state_dump_file = '
                     f'"{d.dir}/state.json"; control_socket = "{d.dir}/ctl.sock"; allow_empty = true; }};\n')
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: d.weights() == {}, "the table to empty")
        self.assertEqual(d.stop(), 0)

    def test_omega_scripts_run_to_completion_at_shutdown(self):
        d = Daemon(self)
        done = os.path.join(d.dir, "omega-done")
        d.write(text=CONFIG.format(dir=d.dir, w1=1, extra_rs="", extra_vs="").replace(
            'scheduler = "wrr";', f'scheduler = "wrr"; omega = true; quorum_down = [ "/bin/sh", "-c", '
                                  f'"sleep 1; touch {done}" ];').replace('log_level = "debug";',
                                                                        'log_level = "debug"; script_user = "root";'))
        d.start()
        t0 = time.monotonic()
        self.assertEqual(d.stop(), 0)
        self.assertTrue(os.path.exists(done), "the omega quorum_down script was killed before it finished:\n" + d.log())
        self.assertGreater(time.monotonic() - t0, 0.9)

    def test_control_socket_path_that_is_not_a_socket_is_left_alone(self):
        d = Daemon(self)
        path = os.path.join(d.dir, "ctl.sock")
        with open(path, "w") as f:
            f.write("precious\n")
        d.start()
        wait_for(lambda: "exists and is not a socket; leaving it alone" in d.log(), "the refusal")
        self.assertEqual(d.stop(), 0)
        with open(path) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_control_socket_out_of_descriptors_backs_off(self):
        import resource
        import socket
        d = Daemon(self)
        d.logf = open(d.log_path, "w")
        limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))  # noqa: E731
        d.proc = subprocess.Popen([daemon.DIRECTORD, "-f", d.conf], stdout=d.logf, stderr=subprocess.STDOUT,
                                  preexec_fn=limit)
        wait_for(lambda: "lvs: started on the memory table" in d.log(), "the lvs worker to start")
        held = []
        for _ in range(120):  # each waits 5 s for its request, holding a descriptor
            s = socket.socket(socket.AF_UNIX)
            s.connect(os.path.join(d.dir, "ctl.sock"))
            held.append(s)
        wait_for(lambda: "control: cannot accept a connection" in d.log(), "the descriptors to run out")
        lvs = [k for k in d.children() if os.path.exists(f"/proc/{k}/stat")]

        def cpu(pid):
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        before = {k: cpu(k) for k in lvs}
        time.sleep(1.0)
        spent = max(cpu(k) - before[k] for k in lvs)
        self.assertLess(spent, 0.5, "a worker spun on accept()")
        for s in held:
            s.close()
        ctl = os.path.join(os.path.dirname(daemon.DIRECTORD), "directorctl")
        wait_for(lambda: subprocess.run([ctl, "-s", os.path.join(d.dir, "ctl.sock"), "status", "--json"], capture_output=True,
                                        timeout=10).returncode == 0, "directorctl to be answered again")
        self.assertLess(d.log().count("control: cannot accept a connection"), 5)  # once per episode, not a flood
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    daemon.main()
