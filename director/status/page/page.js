// directord's status page: polls /status once a second and draws it. Text goes in through
// textContent only (a real server's reason or a name can hold anything). Keeps the last five
// minutes of each virtual server's connections and check latency for the sparklines.
"use strict";
(function () {
  const EVERY_MS = 1000;
  const HISTORY = 300;  // samples kept per series
  const history = new Map();  // "cps " + vs | "latency " + vs -> [numbers]
  const totals = new Map();   // vs -> [its connections counter, when read (ms)], for the rate
  let lastOk = 0;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? "" : String(c)));
    return e;
  }
  function td(v, cls) { return el("td", cls ? { class: cls } : {}, v); }
  function badge(text, state) { return el("span", { class: "badge state-" + state }, text); }
  function when(unix, now) {
    if (!unix) return "-";
    const age = Math.max(0, now - unix);
    const d = new Date(unix * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    const clock = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
                  pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    return clock + " (" + ago(age) + " ago)";
  }
  function ago(s) {
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60) + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h" + Math.floor(s / 60) % 60 + "m";
    return Math.floor(s / 86400) + "d" + Math.floor(s / 3600) % 24 + "h";
  }
  function remember(key, value) {
    let h = history.get(key);
    if (!h) history.set(key, h = []);
    h.push(value);
    if (h.length > HISTORY) h.shift();
    return h;
  }
  function spark(label, values, unit) {
    const w = 120, hgt = 24;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("width", w);
    svg.setAttribute("height", hgt);
    const known = values.filter((v) => v !== null);
    const max = Math.max(1e-9, ...known);
    const pts = [];
    values.forEach((v, i) => {
      if (v === null) return;
      const x = w - 1 - ((values.length - 1 - i) * (w - 2)) / (HISTORY - 1);  // the newest at the right
      pts.push(x.toFixed(1) + "," + (hgt - 2 - (v / max) * (hgt - 4)).toFixed(1));
    });
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", pts.join(" "));
    svg.append(line);
    const last = known.length ? known[known.length - 1] : null;
    const text = last === null ? "-" : (Number.isInteger(last) ? last : last.toFixed(2)) + unit;
    return el("span", { class: "spark", title: label + " over the last " + HISTORY * EVERY_MS / 1000 + " s" },
              label, svg, text);
  }
  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function drawDirector(s) {
    const d = s.director || {};
    const now = d.now || Math.floor(Date.now() / 1000);
    document.getElementById("who").textContent =
      (d.version ? "v" + d.version + " · " : "") + s.data_plane + " plane · " + s.config_file + " · pid " + s.pid;
    const rows = [];
    const row = (k, ...v) => rows.push(el("tr", { "data-key": k }, el("th", {}, k), el("td", {}, ...v)));
    if (d.started) row("running since", when(d.started, now));
    let reloads = String(d.reloads ?? s.reloads);
    if (d.reload_failures !== undefined) reloads += " applied, " + d.reload_failures + " refused";
    row("reloads", reloads);
    if (d.last_reload) {
      if (d.last_reload.ok) row("last reload", badge("applied", "up"), " " + when(d.last_reload.at, now));
      else row("last reload", badge("refused", "down"), " " + when(d.last_reload.at, now) + ": " + d.last_reload.error);
    }
    if (d.workers) {
      const parts = [];
      for (const [name, w] of Object.entries(d.workers)) {
        parts.push(badge(name, w.running ? "up" : "down"));
        parts.push(" " + w.restarts + (w.restarts === 1 ? " restart  " : " restarts  "));
      }
      row("workers", ...parts);
    } else if (d.single_process) {
      row("workers", "one process (--single-process)");
    }
    const sync = s.sync || {};
    if (sync.configured) {
      const c = sync.counters || {};
      const extra = [];
      for (const k of ["last_lag_ms", "synced_connections", "messages_sent", "messages_received", "queue_drops"])
        if (c[k] !== undefined) extra.push(k.replace(/_/g, " ") + " " + c[k]);
      const daemons = sync.daemons.map((x) => x.state + " on " + x.interface).join(", ") || "no daemon";
      row("connection sync", daemons + (extra.length ? "; " + extra.join(", ") : ""));
    } else {
      row("connection sync", "off");
    }
    fill(document.querySelector("#director tbody"), rows);
  }

  function drawVrrp(s) {
    const now = (s.director && s.director.now) || Math.floor(Date.now() / 1000);
    const rows = [];
    for (const [name, v] of Object.entries(s.vrrp || {})) {
      const prio = v.effective_priority === v.priority ? String(v.priority) : v.effective_priority + " (" + v.priority + ")";
      rows.push(el("tr", { "data-instance": name, "data-state": v.state },
                   td(name), el("td", {}, badge(v.state, v.state)), td(prio, "num"), td(v.vrid, "num"),
                   td(v.interface), td(v.master === null ? "-" : v.master), td(when(v.last_transition, now)),
                   td(v.transitions, "num")));
    }
    fill(document.querySelector("#vrrp tbody"), rows);
    document.getElementById("vrrp").hidden = rows.length === 0;
    document.getElementById("vrrp-none").hidden = rows.length !== 0;
  }

  function rsState(r) {
    if (r.sorry_server) return ["sorry", "sorry server"];
    if (r.disabled) return ["disabled", r.up ? "disabled" : "disabled, down"];
    if (!r.up) return ["down", "down"];
    if (r.slow_start_share !== undefined) return ["ramp", "slow start " + Math.round(r.slow_start_share * 100) + "%"];
    return ["up", "up"];
  }

  function drawServices(s) {
    const now = (s.director && s.director.now) || Math.floor(Date.now() / 1000);
    const boxes = [];
    const at = Date.now();
    for (const v of s.servers || []) {
      const lat = [];
      const rows = [];
      for (const r of v.real_servers) {
        const [cls, text] = rsState(r);
        if (r.check_latency_ms !== null && r.check_latency_ms !== undefined) lat.push(r.check_latency_ms);
        const weight = (r.applied_weight === null ? "-" : r.applied_weight) + " / " + r.weight;
        rows.push(el("tr", { class: "rs-" + cls, "data-rs": r.real_server, "data-state": cls },
                     td(r.real_server), el("td", {}, badge(text, cls)), td(weight, "num"),
                     td(r.active_conns, "num"), td(r.inactive_conns, "num"),
                     td(r.check_latency_ms === null || r.check_latency_ms === undefined ? "-" : r.check_latency_ms.toFixed(2) + " ms", "num"),
                     td(r.failed_checks + "/" + r.checks, "num"), td(when(r.since, now)), td(r.why, "why")));
      }
      // new connections per second, from the service's counter between two polls
      const before = totals.get(v.virtual_server);
      totals.set(v.virtual_server, [v.connections, at]);
      const rate = before && v.connections >= before[0] && at > before[1]
        ? (v.connections - before[0]) * 1000 / (at - before[1]) : null;
      const c = remember("cps " + v.virtual_server, rate === null ? null : Math.round(rate * 10) / 10);
      const l = remember("latency " + v.virtual_server, lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : null);
      const quorum = v.quorum_up ? badge("quorum ok", "up") : badge("quorum lost", "down");
      const table = el("table", {},
                       el("thead", {}, el("tr", {}, ...["real server", "state", "weight (applied / configured)",
                                                         "active", "inactive", "check latency", "failed checks",
                                                         "since", "why"].map((h) => el("th", {}, h)))),
                       el("tbody", {}, ...rows));
      boxes.push(el("div", { class: "service", "data-vs": v.virtual_server },
                    el("h3", {}, v.virtual_server, el("span", { class: "none" }, v.scheduler + ", " + v.forwarding),
                       quorum, spark("new connections", c, "/s"), spark("check latency", l, " ms"),
                       el("span", { class: "none" }, v.active_conns + " active, " + v.inactive_conns + " inactive")),
                    table));
    }
    fill(document.getElementById("services"), boxes);
    document.getElementById("services-none").hidden = boxes.length !== 0;
  }

  async function poll() {
    const started = Date.now();
    try {
      const r = await fetch("/status", { cache: "no-store" });
      if (!r.ok) throw new Error("HTTP " + r.status);
      const s = await r.json();
      drawDirector(s);
      drawVrrp(s);
      drawServices(s);
      lastOk = Date.now();
      const p = document.getElementById("poll");
      p.textContent = "updated " + new Date(lastOk).toLocaleTimeString() + ", every " + EVERY_MS / 1000 + " s";
      p.className = "poll";
      document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
    } catch (e) {
      const p = document.getElementById("poll");
      p.textContent = "cannot reach directord (" + e.message + ")" +
                      (lastOk ? "; last update " + Math.round((Date.now() - lastOk) / 1000) + " s ago" : "");
      p.className = "poll stale";
    }
    setTimeout(poll, Math.max(0, EVERY_MS - (Date.now() - started)));
  }
  poll();
})();
