#!/usr/bin/env python3
"""The status page (GET / of the status listener) in a real browser: Debian's headless Chromium,
driven through chromium-driver by Selenium (root, network namespaces).

directord (memory plane) alone on a veth, its status listener on 127.0.0.1:9101 in its namespace;
two real servers (HTTP servers in the peer namespace) under tcp checks every 0.5 s; one VRRP
instance held in FAULT by a tracked file. The browser runs inside the director's namespace (a child
of this test under `ip netns exec`, with Debian's python3 and python3-selenium) and checks:
  - the page loads only its own files (no request leaves the listener), with no console error, and
    its parts (the director's health, the VRRP table, the virtual server with both real servers and
    its sparklines) are present, visible, in order and inside the window: the layout's sanity, from
    the elements' boxes (not pixels), on a screenshot saved beside the log;
  - a real server whose server is killed turns red on the page within one poll (1 s) of /status
    saying it is down (the measured delay is printed);
  - the VRRP instance shows FAULT, then, once the file lets it go, MASTER with its transition count
    and the time of its last transition, within one poll of /status saying so;
  - the director's row shows its workers and a refused reload (a broken config sent with SIGHUP).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from dlab.report import check, failures, run_main, wait
from dlab.solo import solo

SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")
URL = "http://127.0.0.1:9101/"
POLL = 1.0  # the page's poll interval (director/status/page/page.js)


def conf(work):
    return f"""global = {{ data_plane = "memory"; pid_file = "{work}/d.pid"; control_socket = "{work}/d.sock";
  log_level = "info"; status = {{ listen = "127.0.0.1:9101"; }}; }};
track_files = ( {{ name = "gate"; file = "{work}/gate"; weight = 0; }} );
vrrp_instances = ( {{ name = "VI_1"; interface = "eth0"; virtual_router_id = 63; priority = 100; version = 3;
  advert_interval = 0.1; track_files = ( {{ track_file = "gate"; }} );
  virtual_addresses = ( {{ address = "10.96.0.10/24"; }} ); }} );
virtual_servers = ( {{ address = "10.96.0.10"; port = 80; delay_loop = 0.5; connect_timeout = 0.5;
  real_servers = (
    {{ address = "10.96.0.2"; port = 8001; checks = ( {{ type = "tcp"; }} ); }},
    {{ address = "10.96.0.2"; port = 8002; checks = ( {{ type = "tcp"; }} ); }} ); }} );
"""


# ---- the browser's side: runs in the director's namespace under Debian's python3 ----

def status():
    try:
        with urllib.request.urlopen(URL + "status", timeout=2) as r:
            return json.load(r)
    except OSError:
        return {}


def rs_state(s, rs):
    for v in s.get("servers", []):
        for r in v["real_servers"]:
            if r["real_server"] == rs:
                return r["state"]
    return None


def browser(args):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
              "--no-first-run", f"--user-data-dir={args.work}/chromium"):
        opts.add_argument(a)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)
    try:
        d.set_page_load_timeout(20)
        d.get(URL)
        polls = lambda: int(d.execute_script("return document.body.dataset.polls || 0"))  # noqa: E731
        check(wait(lambda: polls() >= 2, 10, 0.05) is not None, "the page loads and polls /status")
        check(d.title == "directord", "its title", d.title)

        def row(sel):
            found = d.find_elements(By.CSS_SELECTOR, sel)
            return found[0] if found else None

        def attr(sel, name):
            e = row(sel)
            try:
                return e.get_attribute(name) if e else None
            except Exception:  # replaced by the next poll between the find and the read
                return None

        rs1, rs2 = "10.96.0.2:8001", "10.96.0.2:8002"
        check(wait(lambda: attr(f'tr[data-rs="{rs1}"]', "data-state") == "up" and
                   attr(f'tr[data-rs="{rs2}"]', "data-state") == "up", 10, 0.05) is not None,
              "both real servers show up", str([attr(f'tr[data-rs="{r}"]', "data-state") for r in (rs1, rs2)]))
        check(attr('tr[data-instance="VI_1"]', "data-state") == "FAULT", "the VRRP instance shows FAULT (its file says 1)",
              str(attr('tr[data-instance="VI_1"]', "data-state")))

        # the layout: every part present, visible, in order, inside the window
        parts = {"header": "header h1", "director": "#director", "vrrp": "#vrrp", "service": 'div.service[data-vs]',
                 "rs row": f'tr[data-rs="{rs1}"]', "sparkline": "div.service .spark svg"}
        boxes = {}
        for name, sel in parts.items():
            e = row(sel)
            ok = e is not None and e.is_displayed()
            boxes[name] = e.rect if e is not None else None
            check(ok and e.rect["width"] > 0 and e.rect["height"] > 0, f"layout: the {name} is present and visible",
                  str(boxes[name]))
        inner = d.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
        check(inner[1] <= inner[0], "layout: nothing wider than the window", str(inner))
        ys = [boxes[n]["y"] if boxes[n] else -1 for n in ("header", "director", "vrrp", "service")]
        check(ys == sorted(ys) and len(set(ys)) == 4, "layout: header, director, VRRP, virtual servers top to bottom",
              str(ys))
        director_text = row("#director").text
        check(all(w in director_text for w in ("lvs", "vrrp", "status", "restarts", "running since")),
              "the director's row shows its workers", director_text)
        origins = d.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => !n.startsWith(location.origin))")
        check(origins == [], "the page loads nothing from anywhere else", str(origins))

        # a real server goes down: red within one poll of /status saying so
        os.kill(args.kill, signal.SIGKILL)
        t = wait(lambda: rs_state(status(), rs2) == "DOWN", 10, 0.02)
        check(t is not None, "/status: the killed real server is DOWN", str(rs_state(status(), rs2)))
        t0 = time.monotonic()
        red = wait(lambda: attr(f'tr[data-rs="{rs2}"]', "data-state") == "down", 5, 0.02)
        check(red is not None and red <= POLL + 1.0,
              f"the page shows it down within one poll ({POLL:.0f} s, +1 s for a loaded machine)",
              f"{red:.2f} s" if red is not None else "never")
        print(f"page: real server down on the page {time.monotonic() - t0:.2f} s after /status said so")
        cell = row(f'tr[data-rs="{rs2}"] td')
        badge = row(f'tr[data-rs="{rs2}"] .badge')
        colours = (cell.value_of_css_property("background-color") if cell else None,
                   badge.value_of_css_property("background-color") if badge else None)
        check(colours == ("rgba(255, 235, 233, 1)", "rgba(207, 34, 46, 1)"), "... in red (row and badge)",
              str(colours))
        check(attr(f'tr[data-rs="{rs1}"]', "data-state") == "up", "... and the other stays up")

        # the VRRP instance leaves FAULT and becomes MASTER
        with open(args.gate, "w") as f:
            f.write("0\n")
        inst = lambda: status().get("vrrp", {}).get("VI_1", {})  # noqa: E731
        check(wait(lambda: inst().get("state") == "MASTER", 10, 0.02) is not None, "/status: VI_1 is MASTER",
              str(inst()))
        t0 = time.monotonic()
        shown = wait(lambda: attr('tr[data-instance="VI_1"]', "data-state") == "MASTER", 5, 0.02)
        check(shown is not None and shown <= POLL + 1.0, "the page shows MASTER within one poll",
              f"{shown:.2f} s" if shown is not None else "never")
        print(f"page: MASTER on the page {time.monotonic() - t0:.2f} s after /status said so")
        cells = [c.text for c in d.find_elements(By.CSS_SELECTOR, 'tr[data-instance="VI_1"] td')]
        check(len(cells) == 8 and cells[5] == "self" and cells[6] != "-" and int(cells[7]) >= 2,
              "... master self, the time of its last transition, and its transitions", str(cells))

        # a refused reload shows in the director's part
        with open(args.conf, "a") as f:
            f.write("broken = ;\n")
        os.kill(args.pid, signal.SIGHUP)
        director = lambda: row("#director").text if row("#director") else ""  # noqa: E731
        check(wait(lambda: "1 refused" in director() and "syntax error" in director(), 10, 0.05) is not None,
              "a refused reload shows, with its error", director())

        severe = [e["message"] for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        check(severe == [], "no error in the browser's console", str(severe))
        shot = os.path.join(args.work, "status-page.png")
        check(d.save_screenshot(shot), "screenshot saved", shot)
        with open(shot, "rb") as f:
            png = f.read()
        width = int.from_bytes(png[16:20], "big") if png[:8] == b"\x89PNG\r\n\x1a\n" else 0
        check(width >= 1000 and len(png) > 20000, "the screenshot is a full-width PNG of a drawn page",
              f"{width} px wide, {len(png)} bytes")
        if args.keep:
            shutil.copy(shot, args.keep)
            print(f"page: screenshot copied to {args.keep}")
    finally:
        d.quit()
    sys.exit(1 if failures else 0)


# ---- the test: the lab, then the browser in the director's namespace ----

def run(directord):
    if SYSTEM_PYTHON is None or subprocess.run([SYSTEM_PYTHON, "-c", "import selenium"]).returncode != 0 or \
            not (shutil.which("chromium") and shutil.which("chromedriver")):
        check(False, "chromium, chromium-driver and python3-selenium are installed (tools/setup-debian.sh)")
        return
    with solo(directord, "sp", "10.96.0.1/24", "10.96.0.2/24") as s:
        servers = [s.in_ns("p", [SYSTEM_PYTHON, "-m", "http.server", str(p), "--bind", "10.96.0.2"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in (8001, 8002)]
        with open(f"{s.work}/gate", "w") as f:
            f.write("1\n")
        s.start(conf(s.work))
        if not s.wait_started():
            return
        keep = os.environ.get("DIRECTORD_PAGE_SCREENSHOT", "")
        r = subprocess.run(["ip", "netns", "exec", s.ns, SYSTEM_PYTHON, os.path.abspath(__file__), "--browser",
                            "--work", s.work, "--kill", str(servers[1].pid), "--gate", f"{s.work}/gate",
                            "--conf", f"{s.work}/d.conf", "--pid", str(s.proc.pid)] + (["--keep", keep] if keep else []),
                           timeout=240)
        check(r.returncode == 0, "the browser's checks pass")
        check(s.proc.poll() is None, "directord runs on")


if __name__ == "__main__":
    if "--browser" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--browser", action="store_true")
        ap.add_argument("--work", required=True)
        ap.add_argument("--kill", type=int, required=True)
        ap.add_argument("--gate", required=True)
        ap.add_argument("--conf", required=True)
        ap.add_argument("--pid", type=int, required=True)
        ap.add_argument("--keep", default="")
        browser(ap.parse_args())
    else:
        run_main(run, "status page")
