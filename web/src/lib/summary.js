// The headline figures of a summary.json, labelled and formatted, in a fixed order: the live page
// shows them when a run ends and the reports put them side by side.

import { bytes, integer, seconds, si, withUnit } from "./format.js";

function at(summary, path) {
  let v = summary;
  for (const k of path.split(".")) {
    if (v === null || typeof v !== "object" || !(k in v)) return undefined;
    v = v[k];
  }
  return v;
}

const FIGURES = [
  ["simulated time", "simulated_time_s", seconds],
  ["events committed", "events", integer],
  ["wall time", "wall_seconds", seconds],
  ["events per wall second", (s) => (s.events && s.wall_seconds ? s.events / s.wall_seconds : undefined), si],
  ["requests finished", "serving.requests_finished", integer],
  ["output tokens", "serving.output_tokens", integer],
  ["output tokens / s", "serving.output_tokens_per_s", (v) => si(v, 4)],
  ["requests / s", "serving.requests_per_s", (v) => si(v, 4)],
  ["TTFT mean", "serving.ttft.mean_s", seconds],
  ["TTFT p99", "serving.ttft.p99_s", seconds],
  ["TPOT mean", "serving.tpot.mean_s", seconds],
  ["TPOT p99", "serving.tpot.p99_s", seconds],
  ["end-to-end p50", "serving.e2e.p50_s", seconds],
  ["end-to-end p99", "serving.e2e.p99_s", seconds],
  ["preemptions", "serving.preemptions", integer],
  ["expert load max / mean", "serving.routing.expert_load_max_over_mean", (v) => si(v)],
  ["network bytes x hops", "serving.network_byte_hops", bytes],
  ["DRAM bytes", "serving.dram_bytes", bytes],
  ["training steps", "training.steps", integer],
  ["energy", "energy.total_j", (v) => withUnit(v, "J")],
  ["energy per output token", "serving.energy_per_output_token_j", (v) => withUnit(v, "J")],
  ["results digest", "digest", (v) => String(v)],
];

// [[label, text, raw value]] for the figures the summary has.
export function headlineFigures(summary) {
  const out = [];
  if (!summary || typeof summary !== "object") return out;
  for (const [label, path, format] of FIGURES) {
    const v = typeof path === "function" ? path(summary) : at(summary, path);
    if (v === undefined || v === null) continue;
    out.push([label, format(v), v]);
  }
  return out;
}

// The labels of every figure any of the summaries has, in the fixed order.
export function figureLabels(summaries) {
  const seen = new Set(summaries.flatMap((s) => headlineFigures(s).map(([label]) => label)));
  return FIGURES.map(([label]) => label).filter((l) => seen.has(l));
}
