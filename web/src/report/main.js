// The report's entry (inlined into each report by `wafersim report` / `wafersim compare`): reads
// the JSON in #report-data and draws every figure it has data for. Each figure is a
// <section data-figure=NAME>; one whose data no run has is kept with data-dropped and a note
// saying why. When everything is drawn <body> gets data-rendered="1" (data-error on a failure).

import "uplot/dist/uPlot.min.css";
import "../style.css";
import { Chart } from "../lib/charts.js";
import { paletteColor } from "../lib/colors.js";
import { bytes, cell, percent, seconds, si, withUnit } from "../lib/format.js";
import { figureLabels, headlineFigures } from "../lib/summary.js";
import { groupedBars, matrixHeatmap, stackedBars } from "../lib/svg_charts.js";
import { layoutDies, WaferView } from "../lib/wafer.js";
import { alignOnX, expertMatrix, latencies, maxOverMean, overlaidCdfs, records, simulatedSeconds, throughput,
  waferOf } from "./figures.js";

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "testid") e.dataset.testid = v;
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

const MAX_LINKS = 48;
const MAX_COMPONENTS = 40;
const MAX_DECISION_ROWS = 60;

const data = JSON.parse(document.getElementById("report-data").textContent);
const runs = data.runs;
const root = document.getElementById("report");
const compare = runs.length > 1;

function section(name, title, intro) {
  const s = h("section", { class: "figure", "data-figure": name }, h("h2", {}, title));
  if (intro) s.append(h("p", { class: "muted" }, intro));
  root.append(s);
  return s;
}

function dropped(s, why) {
  s.dataset.dropped = "1";
  s.append(h("p", { class: "note" }, why));
}

function runsWith(key) {
  return runs.filter((r) => r[key] !== null && r[key] !== undefined);
}

function summaryFigure() {
  const s = section("summary", compare ? "Summary, side by side" : "Summary");
  const labels = figureLabels(runs.map((r) => r.summary));
  const byRun = runs.map((r) => new Map(headlineFigures(r.summary).map(([l, text]) => [l, text])));
  s.append(h("table", { class: "figures", testid: "summary-table" },
    h("thead", {}, h("tr", {}, h("th", {}, ""), runs.map((r, i) => h("th", { style: `color:${paletteColor(i)}` }, r.name)))),
    h("tbody", {}, labels.map((l) => h("tr", {}, h("th", {}, l), byRun.map((m) => h("td", { class: "num" }, m.get(l) ?? "–")))))));
  s.append(h("p", { class: "muted" }, runs.map((r) => `${r.name}: ${r.dir}`).join(" · ")));
}

function notesFigure() {
  const notes = runs.flatMap((r) => r.notes.map((n) => `${r.name}: ${n}`));
  if (!notes.length) return;
  root.append(h("section", { class: "notes", testid: "notes" }, h("h2", {}, "Left out"),
    h("ul", {}, notes.map((n) => h("li", {}, n)))));
}

function latencyFigure() {
  const s = section("latency-cdf", "Latency distributions",
    "Empirical CDFs from requests.csv: time to first token, time per output token, end to end.");
  const have = runsWith("requests");
  if (!have.length) return dropped(s, "No run has requests.csv (not a serving run, or the file is missing).");
  const lat = have.map(latencies);
  for (const [key, title] of [["ttft", "TTFT"], ["tpot", "TPOT"], ["e2e", "End-to-end latency"]]) {
    const chart = new Chart(s, { testid: `chart-${key}-cdf`, title, xLabel: "seconds", xFormat: seconds,
      yLabel: "fraction of requests", yRange: [0, 1], yFormat: (v) => percent(v, 0),
      series: have.map((r) => ({ label: r.name, color: paletteColor(runs.indexOf(r)), stepped: true })) });
    chart.setData(overlaidCdfs(lat.map((l) => l[key])));
  }
}

function throughputFigure() {
  const s = section("throughput", "Throughput over simulated time",
    "Output tokens per simulated second, from requests.csv: each request's first token when it came and its other tokens spread evenly up to its finish.");
  const have = runsWith("requests");
  if (!have.length) return dropped(s, "No run has requests.csv.");
  const end = Math.max(...have.map(simulatedSeconds));
  const buckets = 120;
  const xs = Array.from({ length: buckets }, (_, i) => ((i + 0.5) * end) / buckets);
  const chart = new Chart(s, { testid: "chart-throughput", xLabel: "simulated time", xFormat: seconds,
    yLabel: "tokens / s", series: have.map((r) => ({ label: r.name, color: paletteColor(runs.indexOf(r)) })) });
  chart.setData([xs, ...have.map((r) => throughput(r, end, buckets))]);
}

function waferFigure() {
  const s = section("wafer", "Wafer: die utilization and link utilization",
    "Each die's busiest engine's busy share of the run (dies.csv), laid out by the [row,col] in its name; lines are the links between neighbouring dies, coloured by their utilization (links.csv) relative to the busiest.");
  const have = runsWith("dies");
  if (!have.length) return dropped(s, "No run has dies.csv.");
  const grid = h("div", { class: "wafer-grid" });
  s.append(grid);
  for (const r of have) {
    const w = waferOf(r);
    const box = h("figure", {}, h("figcaption", {}, r.name));
    grid.append(box);
    new WaferView(box, { testid: `wafer-${runs.indexOf(r)}`, maxWidth: compare ? 420 : 640 })
      .update({ ...layoutDies(w.dies), links: w.links });
  }
}

function linksFigure() {
  const s = section("links", "Link utilization", "Bytes over (bandwidth x simulated time), per router output (links.csv).");
  const have = runsWith("links");
  if (!have.length) return dropped(s, "No run has links.csv.");
  const per = have.map((r) => new Map(records(r.links).map((l) => [`${l.from} → ${l.to}`, l.utilization])));
  const names = [...new Set(per.flatMap((m) => [...m.keys()]))];
  const top = (n) => Math.max(...per.map((m) => m.get(n) ?? 0));
  names.sort((a, b) => top(b) - top(a));
  if (names.length > MAX_LINKS) s.append(h("p", { class: "muted" }, `The ${MAX_LINKS} busiest of ${names.length} links.`));
  const shown = names.slice(0, MAX_LINKS);
  groupedBars(s, { testid: "bars-links", groups: shown, format: (v) => percent(v, 3), labelWidth: 220,
    series: have.map((r, i) => ({ label: r.name, values: shown.map((n) => per[i].get(n) ?? null) })) });
}

function expertFigure() {
  const s = section("expert-load", "Expert load per layer",
    "Tokens routed to each expert of each MoE layer (results.json's expert_load table), and the busiest expert over the mean per layer.");
  const have = runsWith("expert_load");
  if (!have.length) return dropped(s, "No run has an expert_load table (not a MoE serving run, or no results.json).");
  const matrices = have.map(expertMatrix);
  const layers = Math.max(...matrices.map((m) => m.length));
  const xs = Array.from({ length: layers }, (_, i) => i);
  const chart = new Chart(s, { testid: "chart-expert-imbalance", xLabel: "MoE layer", xFormat: (v) => String(v),
    yLabel: "busiest / mean", series: have.map((r) => ({ label: r.name, color: paletteColor(runs.indexOf(r)), showPoints: true })) });
  chart.setData([xs, ...matrices.map((m) => {
    const ratios = maxOverMean(m);
    return xs.map((i) => ratios[i] ?? null);
  })]);
  const grid = h("div", { class: "wafer-grid" });
  s.append(grid);
  have.forEach((r, k) => {
    const box = h("figure", {}, h("figcaption", {}, `${r.name}: tokens per expert (rows: layers)`));
    grid.append(box);
    matrixHeatmap(box, { values: matrices[k], testid: `heatmap-experts-${runs.indexOf(r)}`, rowLabel: (i) => `layer ${i}`,
      colLabel: (j) => `expert ${j}`, format: (v) => `${cell(v)} tokens` });
  });
}

function energyFigures() {
  const s = section("energy-category", "Energy by category", "summary.json: energy.by_category_j.");
  const have = runs.filter((r) => r.summary?.energy?.by_category_j);
  if (!have.length) {
    dropped(s, "No run's summary has energy figures.");
    dropped(section("energy-component", "Energy by component"), "No run's summary has energy figures.");
    return;
  }
  const categories = [...new Set(have.flatMap((r) => Object.keys(r.summary.energy.by_category_j)))];
  groupedBars(s, { testid: "bars-energy-category", groups: categories, format: (v) => withUnit(v, "J"),
    series: have.map((r) => ({ label: r.name, values: categories.map((c) => r.summary.energy.by_category_j[c] ?? null) })) });

  const c = section("energy-component", "Energy by component", "summary.json: energy.by_component_j, stacked by category.");
  const withComponents = have.filter((r) => r.summary.energy.by_component_j);
  if (!withComponents.length) return dropped(c, "No run's summary has energy by component.");
  for (const r of withComponents) {
    const byComponent = r.summary.energy.by_component_j;
    const total = (parts) => Object.values(parts).reduce((a, v) => a + (Number.isFinite(v) ? v : 0), 0);
    const names = Object.keys(byComponent).sort((a, b) => total(byComponent[b]) - total(byComponent[a]));
    const cats = [...new Set(names.flatMap((n) => Object.keys(byComponent[n])))];
    const shown = names.slice(0, MAX_COMPONENTS);
    const bars = shown.map((n) => ({ label: n, parts: cats.map((k) => byComponent[n][k] ?? 0) }));
    if (names.length > MAX_COMPONENTS) {
      const rest = names.slice(MAX_COMPONENTS);
      bars.push({ label: `${rest.length} others`, parts: cats.map((k) => rest.reduce((a, n) => a + (byComponent[n][k] ?? 0), 0)) });
    }
    const box = h("figure", {}, h("figcaption", {}, r.name));
    c.append(box);
    stackedBars(box, { testid: `bars-energy-component-${runs.indexOf(r)}`, bars, categories: cats, format: (v) => withUnit(v, "J") });
  }
}

function placementFigure() {
  const s = section("placement", "Placement decisions over time",
    "Each online placement decision (placement_log): the load imbalance it saw (busiest die over the mean) at the simulated time it was decided; filled markers were applied.");
  const have = runs.filter((r) => Array.isArray(r.placement_log) && r.placement_log.length);
  if (!have.length) return dropped(s, "No online placement decisions: none of these runs re-placed experts while it ran.");
  const parts = have.map((r) => {
    const d = r.placement_log;
    return { xs: d.map((x) => x.decided_ps * 1e-12),
      ys: [d.map((x) => x.load_max_over_mean ?? null), d.map((x) => (x.outcome === "applied" ? x.load_max_over_mean ?? null : null))] };
  });
  const series = have.flatMap((r) => {
    const color = paletteColor(runs.indexOf(r));
    return [{ label: `${r.name}: every decision`, points: true, color, pointFill: "#fff", size: 6 },
      { label: `${r.name}: applied`, points: true, color, size: 9 }];
  });
  new Chart(s, { testid: "chart-placement", xLabel: "simulated time", xFormat: seconds, yLabel: "load max / mean",
    series }).setData(alignOnX(parts));
  const migrated = have.map((r) => {
    const d = r.placement_log.filter((x) => x.outcome === "applied");
    return { xs: d.map((x) => x.effective_ps >= 0 ? x.effective_ps * 1e-12 : x.decided_ps * 1e-12), ys: [d.map((x) => x.migration_bytes ?? null)] };
  });
  new Chart(s, { testid: "chart-migration", xLabel: "simulated time (effective)", xFormat: seconds, yLabel: "bytes migrated",
    yFormat: bytes, series: have.map((r) => ({ label: r.name, points: true, color: paletteColor(runs.indexOf(r)), size: 8 })) })
    .setData(alignOnX(migrated));
  for (const r of have) {
    const d = r.placement_log;
    const outcomes = {};
    for (const x of d) outcomes[x.outcome] = (outcomes[x.outcome] ?? 0) + 1;
    s.append(h("h3", {}, `${r.name}: ${d.length} decisions (${Object.entries(outcomes).map(([k, n]) => `${n} ${k}`).join(", ")})`));
    const cols = ["epoch", "step", "decided", "effective", "policy", "outcome", "load max/mean", "predicted gain", "migrated", "moved shards", "reason"];
    s.append(h("div", { class: "scroll" }, h("table", { class: "data", testid: `placement-table-${runs.indexOf(r)}` },
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))),
      h("tbody", {}, d.slice(0, MAX_DECISION_ROWS).map((x) => h("tr", {},
        h("td", {}, cell(x.epoch)), h("td", {}, cell(x.step)), h("td", {}, seconds(x.decided_ps * 1e-12)),
        h("td", {}, x.effective_ps >= 0 ? seconds(x.effective_ps * 1e-12) : "–"), h("td", {}, x.policy ?? ""),
        h("td", {}, x.outcome ?? ""), h("td", {}, si(x.load_max_over_mean)), h("td", {}, percent(x.predicted_gain)),
        h("td", {}, bytes(x.migration_bytes)), h("td", {}, cell(x.moved_shards)), h("td", { class: "reason" }, x.reason ?? "")))))));
    if (d.length > MAX_DECISION_ROWS) s.append(h("p", { class: "muted" }, `The first ${MAX_DECISION_ROWS} of ${d.length} decisions.`));
  }
}

function engineFigure() {
  const s = section("engine", "Engine: partitions",
    "run.json and partition.json: how the simulation was split and how each partition spent its wall time.");
  const have = runsWith("run").filter((r) => Array.isArray(r.run.partitions) && r.run.partitions.length);
  if (!have.length) return dropped(s, "No run has run.json.");
  const labels = [...new Set(have.flatMap((r) => r.run.partitions.map((p) => `partition ${p.id}`)))];
  groupedBars(s, { testid: "bars-partition-events", groups: labels, format: (v) => si(v),
    series: have.map((r) => ({ label: `${r.name}: events`,
      values: labels.map((l) => r.run.partitions.find((p) => `partition ${p.id}` === l)?.events ?? null) })) });
  const cols = ["run", "partition", "events", "rounds", "null messages", "events sent", "wall", "waiting"];
  s.append(h("table", { class: "data", testid: "engine-table" },
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))),
    h("tbody", {}, have.flatMap((r) => r.run.partitions.map((p) => h("tr", {},
      h("td", {}, r.name), h("td", {}, cell(p.id)), h("td", { class: "num" }, cell(p.events)), h("td", { class: "num" }, cell(p.rounds)),
      h("td", { class: "num" }, cell(p.null_messages)), h("td", { class: "num" }, cell(p.events_sent)),
      h("td", { class: "num" }, seconds(p.wall_seconds)),
      h("td", { class: "num" }, p.wall_seconds ? percent(p.wait_seconds / p.wall_seconds) : "–")))))));
  for (const r of have) {
    const part = r.partition ?? {};
    const bits = [r.run.sync && `sync ${r.run.sync}`, part.partitioner && `${part.partitioner} (${part.method ?? ""})`,
      part.imbalance && `load imbalance ${si(part.imbalance, 4)}`,
      part.lookahead_floor_ps && `lookahead floor ${seconds(part.lookahead_floor_ps * 1e-12)}`,
      Number.isFinite(r.run.sync_wait_fraction) && `sync wait ${percent(r.run.sync_wait_fraction)}`].filter(Boolean);
    s.append(h("p", { class: "muted" }, `${r.name}: ${bits.join(", ")}`));
  }
}

function scenarioFigure() {
  const have = runsWith("scenario");
  if (!have.length) return;
  const s = h("section", { class: "scenarios" }, h("h2", {}, "Scenarios"));
  for (const r of have) s.append(h("details", {}, h("summary", {}, `${r.name}: scenario.yaml`), h("pre", {}, r.scenario)));
  root.append(s);
}

try {
  document.title = data.title;
  root.replaceChildren(h("h1", {}, data.title));
  summaryFigure();
  notesFigure();
  latencyFigure();
  throughputFigure();
  waferFigure();
  linksFigure();
  expertFigure();
  energyFigures();
  placementFigure();
  engineFigure();
  scenarioFigure();
  document.body.dataset.rendered = "1";
} catch (e) {
  document.body.dataset.error = String(e?.message ?? e);
  root.prepend(h("p", { class: "message" }, `The report could not be drawn: ${e?.message ?? e}`));
  console.error(e);
}
