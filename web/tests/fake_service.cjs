// A stand-in for the coordinator's API, for working on the page without a service: serves a built
// dist folder at / and /static/, and canned answers shaped as docs/service.md and docs/metrics.md
// say: run "r-live" (RUNNING, a live view that advances with wall time; cancel ends it), run
// "r-old" (SUCCEEDED, no live view: 404), and sweep "s-demo" (8 points).
//
//   node web/tests/fake_service.cjs DIST_DIR [PORT]     # prints "listening http://127.0.0.1:PORT"
"use strict";
const http = require("node:http");
const fs = require("node:fs");
const path = require("node:path");

const dist = path.resolve(process.argv[2] ?? "dist");
const port = Number(process.argv[3] ?? 0);
const started = Date.now();
let cancelledAt = null;

function liveState() {
  return cancelledAt ? "CANCELLED" : "RUNNING";
}

function live() {
  const wall = ((cancelledAt ?? Date.now()) - started) / 1000;
  const epochs = Math.min(600, Math.floor(wall * 20) + 1);
  const series = [];
  for (let i = 0; i < epochs; ++i) {
    const t = (i + 1) * 0.001;
    series.push({ t_s: t, wall_s: i / 20, events: 1000 * (i + 1), output_tokens: 16 * i, requests_finished: Math.floor(i / 8),
      tokens_per_s: 12000 + 3000 * Math.sin(i / 9), ttft_p50_s: i > 3 ? 0.018 + 0.001 * Math.sin(i / 7) : null,
      ttft_p99_s: i > 3 ? 0.025 : null, tpot_p50_s: i > 3 ? 0.0076 : null, tpot_p99_s: i > 3 ? 0.009 : null,
      kv_occupancy: Math.min(1, 0.1 + i / 400), requests_waiting: i % 5, requests_running: 16 });
  }
  const dies = [];
  for (let r = 0; r < 2; ++r)
    for (let c = 0; c < 2; ++c)
      dies.push({ name: `endpoint[${r},${c}]`, row: r, col: c, busy: 0.5 + 0.45 * Math.sin(wall + r * 2 + c) });
  const links = [["router[0,0]", "router[1,0]"], ["router[1,0]", "router[0,0]"], ["router[0,0]", "router[0,1]"],
    ["router[0,1]", "router[0,0]"], ["router[1,0]", "router[1,1]"], ["router[1,1]", "router[1,0]"],
    ["router[0,1]", "router[1,1]"], ["router[1,1]", "router[0,1]"]].map(([from, to], i) => ({ from, to,
    utilization: 0.0007 * (1 + 0.5 * Math.sin(wall + i)) }));
  return {
    id: "r-live", state: liveState(),
    progress: { ratio: Math.min(1, wall / 120), events: 1000 * epochs, simulated_s: epochs * 0.001, end_s: null,
      requests_done: Math.floor(epochs / 8), requests_total: 4000, wall_s: wall, events_per_s: 6.1e6 },
    series, wafer: { rows: 2, cols: 2, dies, links },
  };
}

const summary = { digest: "43ec4b651cad906d", events: 3105826, simulated_time_s: 0.5126, wall_seconds: 0.4986,
  energy: { total_j: 506.9 }, serving: { requests_finished: 32, output_tokens: 1024, output_tokens_per_s: 1997.8,
    ttft: { mean_s: 0.0189, p99_s: 0.01896 }, tpot: { mean_s: 0.00766, p99_s: 0.00766 }, e2e: { p50_s: 0.2563, p99_s: 0.2563 } } };

function run(id) {
  if (id === "r-live")
    return { id, state: liveState(), reason: cancelledAt ? "CANCELLED_BY_USER" : "", message: "", sweep: null,
      created: "2026-12-07T10:00:00Z", progress: { simulated_time_s: live().progress.simulated_s, events: live().progress.events,
        events_per_s: 6.1e6 } };
  if (id === "r-old")
    return { id, state: "SUCCEEDED", reason: "COMPLETED", message: "finished on 1 node(s)", sweep: null,
      created: "2026-12-06T10:00:00Z", summary, progress: { simulated_time_s: 0.5126, events: 3105826, events_per_s: 6.2e6 } };
  return null;
}

function sweepTable() {
  const rows = [];
  for (let i = 0; i < 8; ++i) {
    const lps = [16, 64][i % 2], seed = 1 + (i >> 1);
    rows.push({ index: i, run: `s-demo-${i}`, state: "SUCCEEDED", reason: "COMPLETED", cached: false, "params.lps": lps,
      "simulation.seed": seed, events: 1000 * lps + 37 * seed * seed, wall_seconds: 0.01 * lps / (1 + (seed % 3)),
      digest: `d${i}` });
  }
  return { sweep: "s-demo", columns: ["index", "run", "state", "reason", "cached", "params.lps", "simulation.seed", "digest",
    "events", "wall_seconds"], rows };
}

const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

function send(res, status, body, type = "application/json") {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const p = url.pathname;
  let m;
  if (p === "/") return send(res, 200, fs.readFileSync(path.join(dist, "index.html"), "utf8"), types[".html"]);
  if ((m = /^\/static\/([\w.-]+)$/.exec(p))) {
    const file = path.join(dist, m[1]);
    if (!fs.existsSync(file)) return send(res, 404, { error: { status: 404, message: "no such file" } });
    return send(res, 200, fs.readFileSync(file), types[path.extname(file)] ?? "application/octet-stream");
  }
  if (p === "/api/v1/runs") return send(res, 200, { runs: [run("r-old"), run("r-live")], next: null });
  if (p === "/api/v1/sweeps")
    return send(res, 200, { sweeps: [{ id: "s-demo", points: 8, counts: { SUCCEEDED: 8 }, cancelled: false,
      created: "2026-12-07T09:00:00Z", grid: { "params.lps": [16, 64], "simulation.seed": [1, 2, 3, 4] } }] });
  if (p === "/api/v1/sweeps/s-demo")
    return send(res, 200, { id: "s-demo", points: 8, counts: { SUCCEEDED: 8 }, cancelled: false, cached: 0,
      grid: { "params.lps": [16, 64], "simulation.seed": [1, 2, 3, 4] } });
  if (p === "/api/v1/sweeps/s-demo/table") return send(res, 200, sweepTable());
  if ((m = /^\/api\/v1\/runs\/([\w.-]+)(\/live|\/cancel)?$/.exec(p))) {
    const r = run(m[1]);
    if (!r) return send(res, 404, { error: { status: 404, code: "not_found", message: `no run ${m[1]}` } });
    if (m[2] === "/live") return m[1] === "r-live" ? send(res, 200, live()) : send(res, 404, { error: { status: 404, message: "no live view" } });
    if (m[2] === "/cancel" && req.method === "POST") {
      if (r.state !== "RUNNING") return send(res, 409, { error: { status: 409, message: `run ${m[1]} has already ended` } });
      cancelledAt = Date.now();
      return send(res, 202, run(m[1]));
    }
    return send(res, 200, r);
  }
  return send(res, 404, { error: { status: 404, code: "not_found", message: `no route ${p}` } });
});
server.listen(port, "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${server.address().port}`);
});
