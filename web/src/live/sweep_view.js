// One sweep: its counts by state (GET /api/v1/sweeps/{id}) and its table (GET .../table, one row
// per point), sortable by any column and plotted: any two numeric columns as x and y, and the
// Pareto front of those two objectives (each minimised or maximised) highlighted and listed.
// Polled until every point has ended.

import { api, ENDED, HttpError } from "../lib/api.js";
import { Chart } from "../lib/charts.js";
import { cell, percent } from "../lib/format.js";
import { paretoFront } from "../lib/pareto.js";
import { SortableTable } from "../lib/table.js";
import { h, progressBar, runLink, stateBadge } from "./dom.js";
import { Poller } from "./poller.js";

// Columns whose every present value is a number (at least one present).
export function numericColumns(columns, rows) {
  return columns.filter((c) => {
    let any = false;
    for (const r of rows) {
      const v = r[c];
      if (v === null || v === undefined) continue;
      if (typeof v !== "number") return false;
      any = true;
    }
    return any;
  });
}

function select(testid, options, chosen) {
  const s = h("select", { testid });
  for (const [value, label] of options) s.append(h("option", { value }, label));
  if (chosen !== undefined) s.value = chosen;
  return s;
}

// A sensible first plot: a varied key against throughput (or the first figure).
function defaults(numeric, pointKeys) {
  const x = pointKeys.find((k) => numeric.includes(k)) ?? numeric.find((c) => c !== "index") ?? numeric[0];
  const preferred = ["serving.output_tokens_per_s", "serving.tpot.mean_s", "events", "wall_seconds"];
  const y = preferred.find((c) => numeric.includes(c) && c !== x) ?? numeric.find((c) => c !== x && c !== "index") ?? x;
  return { x, y };
}

export function sweepView(root, id, ctx) {
  const counts = h("p", { testid: "sweep-counts" }, "…");
  const bar = progressBar(null, "sweep-progress");
  const cancel = h("button", { type: "button", testid: "cancel-sweep" }, "Cancel sweep");
  const message = h("p", { class: "message", hidden: true, testid: "action-message" });
  const xSel = select("plot-x", []), ySel = select("plot-y", []);
  const xGoal = select("goal-x", [["min", "minimise"], ["max", "maximise"]], "min");
  const yGoal = select("goal-y", [["min", "minimise"], ["max", "maximise"]], "max");
  const frontToggle = h("input", { type: "checkbox", testid: "pareto-toggle", checked: true });
  const plotBox = h("figure", { class: "chart-figure", testid: "sweep-plot" });
  const plotNote = h("p", { class: "muted", testid: "plot-note" });
  const frontBox = h("div", { testid: "pareto" });
  const tableBox = h("div", { class: "scroll" });
  root.append(h("section", { class: "sweep", testid: "sweep-view", "data-sweep": id },
    h("div", { class: "run-head" }, h("h2", {}, "Sweep ", h("code", {}, id)), cancel),
    h("div", { class: "progress-row" }, bar, counts), message,
    h("div", { class: "plot-controls" },
      h("label", {}, "x ", xSel, " ", xGoal), h("label", {}, "y ", ySel, " ", yGoal),
      h("label", {}, frontToggle, " Pareto front")),
    plotNote, plotBox,
    h("h3", {}, "Pareto front"), frontBox,
    h("h3", {}, "Points"), tableBox));

  let columns = [], rows = [], pointKeys = [], chosen = null, chart = null;
  const table = new SortableTable(tableBox, {
    testid: "sweep-table",
    rowKey: (r) => r.run,
    render: (c, v) => (c === "run" ? runLink(v) : c === "state" ? stateBadge(v) : undefined),
  });

  function plot() {
    const numeric = numericColumns(columns, rows);
    if (numeric.length === 0) {
      plotNote.textContent = "No numeric columns yet: the points have not finished.";
      return;
    }
    if (!chosen || !numeric.includes(chosen.x) || !numeric.includes(chosen.y)) chosen = defaults(numeric, pointKeys);
    const options = numeric.map((c) => [c, c]);
    for (const [sel, value] of [[xSel, chosen.x], [ySel, chosen.y]]) {
      if (sel.options.length !== options.length || [...sel.options].some((o, i) => o.value !== options[i][0])) {
        sel.replaceChildren(...options.map(([v, l]) => h("option", { value: v }, l)));
      }
      sel.value = value;
    }
    const points = rows.map((r) => ({ x: r[chosen.x], y: r[chosen.y], row: r }))
      .filter((p) => typeof p.x === "number" && typeof p.y === "number")
      .sort((a, b) => a.x - b.x);
    const front = frontToggle.checked ? new Set(paretoFront(points, { x: xGoal.value, y: yGoal.value })) : new Set();
    plotNote.textContent = `${points.length} of ${rows.length} points have both ${chosen.x} and ${chosen.y}` +
      (frontToggle.checked ? `; ${front.size} on the Pareto front (${xGoal.value} x, ${yGoal.value} y)` : "");
    const data = [points.map((p) => p.x), points.map((p) => p.y), points.map((p, i) => (front.has(i) ? p.y : null))];
    if (chart && (chart.options.xLabel !== chosen.x || chart.options.yLabel !== chosen.y)) {
      chart.destroy();
      chart = null;
    }
    if (!chart) {
      chart = new Chart(plotBox, { testid: "sweep-chart", xLabel: chosen.x, yLabel: chosen.y, height: 300,
        series: [{ label: "points", points: true, color: "#1f6fd1", size: 7 },
          { label: "Pareto front", color: "#e8590c", spanGaps: true, showPoints: true, width: 2 }] });
    }
    chart.setData(data);
    const frontRows = [...front].map((i) => points[i].row);
    frontBox.replaceChildren(frontRows.length
      ? h("table", { class: "data", testid: "pareto-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "run"), h("th", {}, chosen.x), h("th", {}, chosen.y),
          ...pointKeys.filter((k) => k !== chosen.x && k !== chosen.y).map((k) => h("th", {}, k)))),
        h("tbody", {}, frontRows.map((r) => h("tr", { "data-row": r.run }, h("td", {}, runLink(r.run)),
          h("td", { class: "num" }, cell(r[chosen.x])), h("td", { class: "num" }, cell(r[chosen.y])),
          ...pointKeys.filter((k) => k !== chosen.x && k !== chosen.y).map((k) => h("td", {}, cell(r[k])))))))
      : h("p", { class: "muted" }, "No front: no point has both values."));
  }

  for (const s of [xSel, ySel]) s.addEventListener("change", () => {
    chosen = { x: xSel.value, y: ySel.value };
    plot();
  });
  for (const s of [xGoal, yGoal, frontToggle]) s.addEventListener("change", plot);

  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      await api(`api/v1/sweeps/${encodeURIComponent(id)}/cancel`, { method: "POST" });
    } catch (e) {
      message.hidden = false;
      message.textContent = `Cancel: ${e.message}`;
    }
    poller.poke();
  });

  const poller = new Poller(async () => {
    let sweep, t;
    try {
      [sweep, t] = await Promise.all([api(`api/v1/sweeps/${encodeURIComponent(id)}`),
        api(`api/v1/sweeps/${encodeURIComponent(id)}/table`)]);
      ctx.connected(true);
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) {
        counts.textContent = `No sweep ${id}.`;
        return false;
      }
      ctx.connected(false, e.message);
      return true;
    }
    const byState = sweep.counts ?? {};
    const ended = Object.entries(byState).filter(([k]) => ENDED.has(k)).reduce((a, [, n]) => a + n, 0);
    const ratio = sweep.points ? ended / sweep.points : null;
    if (ratio !== null) bar.value = ratio;
    counts.textContent = `${sweep.points} points, ${percent(ratio, 0)} ended: ` +
      Object.entries(byState).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") + (sweep.cached ? `; ${sweep.cached} from the cache` : "") +
      (sweep.cancelled ? " (cancelled)" : "");
    cancel.disabled = ended === sweep.points || sweep.cancelled;
    columns = t.columns;
    rows = t.rows;
    const fixed = new Set(["index", "run", "state", "reason", "cached"]);
    const varied = new Set([...Object.keys(sweep.grid ?? {}), ...Object.keys(sweep.zip ?? {}),
      ...Object.keys(sweep.random?.ranges ?? {}), ...Object.keys(sweep.random?.choices ?? {})]);
    pointKeys = columns.filter((c) => !fixed.has(c) && varied.has(c));
    table.setColumns(columns);
    table.setRows(rows);
    plot();
    return ended < sweep.points;
  });
  poller.start();
  return {
    stop() {
      poller.stop();
      chart?.destroy();
    },
  };
}
