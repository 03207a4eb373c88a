#!/usr/bin/env python3
"""What `cmake --install` puts in place: the programs, the man pages (generated from their markdown
and from conf/README.md) and the systemd unit with the prefix's paths. The unit passes
`systemd-analyze verify` (its ExecStart programs and its man pages exist), every page renders
without groff warnings, and the pages cannot drift from what they document: every option of
`directord --help`, every command of `directorctl --help` and every setting of conf/README.md is
in its page."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from dlab import daemon


def render(path):
    """The page as man shows it (80 columns), and groff's warnings."""
    r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LANG="C.UTF-8"))
    return re.sub(r".\x08", "", r.stdout), r.stderr


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = tempfile.mkdtemp(prefix="directord-install-")
        build = os.path.dirname(daemon.DIRECTORD)
        r = subprocess.run(["cmake", "--install", build, "--prefix", cls.prefix], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.prefix, True)

    def path(self, *p):
        return os.path.join(self.prefix, *p)

    def test_files_in_place(self):
        for p in ["sbin/directord", "sbin/directorctl", "sbin/ipvsctl", "share/man/man8/directord.8",
                  "share/man/man8/directorctl.8", "share/man/man8/ipvsctl.8", "share/man/man5/directord.conf.5",
                  "lib/systemd/system/directord.service", "share/doc/directord/examples/quickstart.conf"]:
            self.assertTrue(os.path.isfile(self.path(p)), p)
        self.assertTrue(os.access(self.path("sbin/directord"), os.X_OK))

    def test_systemd_unit(self):
        unit = self.path("lib/systemd/system/directord.service")
        text = open(unit).read()
        self.assertIn(f"ExecStart={self.prefix}/sbin/directord -f /etc/directord/directord.conf\n", text)
        self.assertIn(f"ExecReload={self.prefix}/sbin/directorctl reload\n", text)
        self.assertIn("Type=notify\n", text)
        self.assertIn("WatchdogSec=", text)
        if shutil.which("systemd-analyze"):
            r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                               env=dict(os.environ, MANPATH=self.path("share/man") + ":"))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(r.stderr.strip(), "")

    def test_systemd_unit_hardening(self):
        """The unit's exposure as systemd-analyze scores it, beside keepalived's unit (printed)."""
        def score(unit):
            r = subprocess.run(["systemd-analyze", "security", "--offline=true", unit], capture_output=True,
                               text=True)
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout + r.stderr)
            self.assertIsNotNone(m, r.stdout + r.stderr)
            return float(m.group(1))
        ours = score(self.path("lib/systemd/system/directord.service"))
        theirs = [score(u) for u in ["/lib/systemd/system/keepalived.service"] if os.path.exists(u)]
        print(f"systemd-analyze security: directord.service {ours}"
              + (f", keepalived.service {theirs[0]}" if theirs else ""))
        self.assertLessEqual(ours, 2.5)
        text = open(self.path("lib/systemd/system/directord.service")).read()
        for setting in ["NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=CAP_NET_ADMIN",
                        "SystemCallFilter=@system-service", "RestrictAddressFamilies="]:
            self.assertIn(setting, text)

    def test_pages_render_cleanly(self):
        for page in ["man8/directord.8", "man8/directorctl.8", "man8/ipvsctl.8", "man5/directord.conf.5"]:
            text, warnings = render(self.path("share/man", page))
            # an unbreakable token (a long path) wider than the line is not a markup error
            bad = [w for w in warnings.splitlines() if "cannot adjust line" not in w and "can't break line" not in w]
            self.assertEqual(bad, [], page)
            self.assertGreater(len(text.splitlines()), 25, page)
            self.assertNotIn("\\f", text, page)  # no font escape left unrendered

    def test_pages_cover_what_they_document(self):
        directord, _ = render(self.path("share/man/man8/directord.8"))
        help_text = subprocess.run([daemon.DIRECTORD, "--help"], capture_output=True, text=True).stdout
        options = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", help_text))
        self.assertGreater(len(options), 10)
        for o in options:
            self.assertIn(o, directord, f"directord --help has {o}, directord(8) does not")
        ctl = os.path.join(os.path.dirname(daemon.DIRECTORD), "directorctl")
        ctl_help = subprocess.run([ctl, "--help"], capture_output=True, text=True).stdout
        page, _ = render(self.path("share/man/man8/directorctl.8"))
        commands = re.findall(r"^  (\w+)(?: [A-Z]+)*  ", ctl_help, re.M)
        self.assertEqual(sorted(commands), ["disable", "enable", "rejoin", "reload", "servers", "status", "vrrp", "withdraw"])
        for c in commands + re.findall(r"(--?[a-z][\w-]*)", ctl_help):
            self.assertIn(c, page, f"directorctl --help has {c}, directorctl(8) does not")
        conf, _ = render(self.path("share/man/man5/directord.conf.5"))
        readme = open(os.path.join(daemon.SOURCE, "conf/README.md")).read()
        keys = re.findall(r"^\| `(\w+)` \|", readme, re.M)
        self.assertGreater(len(keys), 150)
        for k in keys:
            self.assertRegex(conf, rf"\n {{7}}{k}(\n| +type: )", f"setting {k} has no entry in directord.conf(5)")


if __name__ == "__main__":
    daemon.main()
