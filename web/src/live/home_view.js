// The start page: every run and sweep with its state and progress, refreshed by polling
// (GET /api/v1/runs, /api/v1/sweeps; the live view of each running run for its progress ratio).

import { api, ENDED } from "../lib/api.js";
import { integer, percent, seconds, si } from "../lib/format.js";
import { SortableTable } from "../lib/table.js";
import { h, progressBar, runLink, stateBadge, sweepLink } from "./dom.js";
import { Poller } from "./poller.js";

const RUN_COLUMNS = ["id", "state", "progress", "events", "events/s", "simulated", "sweep", "created"];
const SWEEP_COLUMNS = ["id", "points", "progress", "states", "created"];
const MAX_LIVE_LOOKUPS = 8;  // running runs whose live view is asked for per poll

export function homeView(root, ctx) {
  const runsBox = h("div", { testid: "runs" });
  const sweepsBox = h("div", { testid: "sweeps" });
  const runsNote = h("p", { class: "muted", testid: "runs-note" });
  const sweepsNote = h("p", { class: "muted", testid: "sweeps-note" });
  root.append(
    h("section", {}, h("h2", {}, "Runs"), runsNote, runsBox),
    h("section", {}, h("h2", {}, "Sweeps"), sweepsNote, sweepsBox),
  );
  const ratios = new Map();
  const runs = new SortableTable(runsBox, {
    columns: RUN_COLUMNS,
    testid: "runs-table",
    rowKey: (r) => r.id,
    sort: { column: "created", dir: -1 },
    render: (c, v, r) => {
      if (c === "id") return runLink(v);
      if (c === "state") return stateBadge(v, "state");
      if (c === "sweep") return v ? sweepLink(v) : "";
      if (c === "progress") {
        return h("span", { class: "progress-cell" }, progressBar(v, "run-progress"), h("span", {}, percent(v, 0)));
      }
      if (c === "events") return integer(v);
      if (c === "events/s") return si(v);
      if (c === "simulated") return seconds(v);
      return undefined;
    },
  });
  const sweeps = new SortableTable(sweepsBox, {
    columns: SWEEP_COLUMNS,
    testid: "sweeps-table",
    rowKey: (s) => s.id,
    sort: { column: "created", dir: -1 },
    render: (c, v) => {
      if (c === "id") return sweepLink(v);
      if (c === "progress") return h("span", { class: "progress-cell" }, progressBar(v), h("span", {}, percent(v, 0)));
      return undefined;
    },
  });

  async function liveRatio(run) {
    try {
      const live = await api(`api/v1/runs/${encodeURIComponent(run.id)}/live`);
      ratios.set(run.id, live?.progress?.ratio ?? null);
    } catch {
      ratios.set(run.id, null);  // no live view (an older run, or not yet): progress unknown
    }
  }

  const poller = new Poller(async () => {
    let runList, sweepList;
    try {
      [runList, sweepList] = await Promise.all([api("api/v1/runs?limit=200"), api("api/v1/sweeps")]);
      ctx.connected(true);
    } catch (e) {
      ctx.connected(false, e.message);
      return true;
    }
    const running = runList.runs.filter((r) => r.state === "RUNNING").slice(0, MAX_LIVE_LOOKUPS);
    await Promise.all(running.map(liveRatio));
    runs.setRows(runList.runs.map((r) => ({
      id: r.id,
      state: r.state,
      progress: r.state === "SUCCEEDED" ? 1 : r.state === "PENDING" ? 0 : ratios.get(r.id) ?? null,
      events: r.progress?.events ?? null,
      "events/s": r.progress?.events_per_s ?? null,
      simulated: r.progress?.simulated_time_s ?? null,
      sweep: r.sweep,
      created: r.created,
    })));
    runsNote.textContent = runList.runs.length ? "" : "No runs yet: submit one with `wafersim submit SCENARIO`.";
    sweeps.setRows(sweepList.sweeps.map((s) => {
      const counts = s.counts ?? {};
      const ended = Object.entries(counts).filter(([k]) => ENDED.has(k)).reduce((a, [, n]) => a + n, 0);
      return {
        id: s.id,
        points: s.points,
        progress: s.points ? ended / s.points : null,
        states: Object.entries(counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") + (s.cancelled ? " (cancelled)" : ""),
        created: s.created,
      };
    }));
    sweepsNote.textContent = sweepList.sweeps.length ? "" : "No sweeps yet.";
    return true;
  });
  poller.start();
  return { stop: () => poller.stop() };
}
