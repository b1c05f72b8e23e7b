// One run, live: its state (GET /api/v1/runs/{id}) and its live view (GET /api/v1/runs/{id}/live,
// docs/metrics.md) polled together until the run ends: progress, events per second, charts over
// simulated time (throughput, latency percentiles, KV occupancy, requests), the wafer heatmap, a
// Cancel button, and the summary once it has ended. A run without a live view (404: it ran before
// the service kept them) shows its state, progress and summary only.

import { api, ENDED, HttpError } from "../lib/api.js";
import { columnsOf, Chart } from "../lib/charts.js";
import { integer, percent, seconds, si } from "../lib/format.js";
import { windowRate } from "../lib/rates.js";
import { headlineFigures } from "../lib/summary.js";
import { WaferView } from "../lib/wafer.js";
import { h, progressBar, stateBadge, sweepLink } from "./dom.js";
import { Poller } from "./poller.js";

function stat(label, testid) {
  const value = h("dd", { testid }, "–");
  return [h("dt", {}, label), value];
}

export function runView(root, id, ctx) {
  const badge = h("span", {}, stateBadge("…", "run-state"));
  const cancel = h("button", { type: "button", testid: "cancel-run", disabled: true }, "Cancel run");
  const reason = h("p", { class: "muted", testid: "run-reason" });
  const message = h("p", { class: "message", testid: "action-message", hidden: true });
  const noLive = h("p", { class: "note", testid: "no-live", hidden: true },
    "This run has no live view (it ran before the service kept them): its state, progress and summary are shown.");
  const bar = progressBar(null, "progress");
  const barText = h("span", { testid: "progress-text" }, "–");
  const stats = {
    events: stat("events", "events"),
    eventsPerS: stat("events / s", "events-per-s"),
    simulated: stat("simulated time", "simulated"),
    wall: stat("wall time", "wall"),
    requests: stat("requests done", "requests"),
  };
  const charts = h("div", { class: "charts", testid: "charts", hidden: true });
  const waferBox = h("div", { class: "wafer-box" });
  const waferFigure = h("figure", { class: "wafer-figure", testid: "wafer-figure", hidden: true },
    h("figcaption", {}, "Wafer: die busy ratio and link utilization over the last epoch"), waferBox);
  const summaryBody = h("tbody");
  const summary = h("section", { testid: "summary", hidden: true }, h("h3", {}, "Summary"),
    h("table", { class: "figures" }, summaryBody));
  const sweepLine = h("p", { class: "muted", hidden: true });
  root.append(
    h("section", { class: "run", testid: "run-view", "data-run": id },
      h("div", { class: "run-head" }, h("h2", {}, "Run ", h("code", {}, id)), badge, cancel),
      reason, sweepLine, message, noLive,
      h("div", { class: "progress-row" }, bar, barText),
      h("dl", { class: "stats" }, Object.values(stats).flat()),
      h("div", { class: "live-grid" }, charts, waferFigure),
      summary),
  );

  let liveMissing = false;
  let chartSet = null;
  const wafer = new WaferView(waferBox, { testid: "wafer" });

  function makeCharts() {
    const box = (title) => {
      const f = h("figure", { class: "chart-figure" }, h("figcaption", {}, title));
      charts.append(f);
      return f;
    };
    const x = { xLabel: "simulated time", xFormat: seconds };
    return {
      throughput: new Chart(box("Throughput"), { ...x, testid: "chart-throughput", yLabel: "tokens / s",
        series: [{ label: "last epoch", color: "#9ec5f0", width: 1, show: false },
          { label: "trailing average", color: "#1f6fd1" }] }),
      latency: new Chart(box("Latency"), { ...x, testid: "chart-latency", yLabel: "seconds", yFormat: seconds,
        series: [{ label: "TTFT p50" }, { label: "TTFT p99", dash: [6, 4] }, { label: "TPOT p50" },
          { label: "TPOT p99", dash: [6, 4] }].map((s, i) => ({ ...s, color: ["#1f6fd1", "#1f6fd1", "#e8590c", "#e8590c"][i], spanGaps: true })) }),
      kv: new Chart(box("KV-cache occupancy"), { ...x, testid: "chart-kv", yLabel: "occupancy", yRange: [0, 1],
        yFormat: (v) => percent(v, 0), series: [{ label: "KV occupancy", color: "#2b8a3e" }] }),
      requests: new Chart(box("Requests"), { ...x, testid: "chart-requests", yLabel: "requests",
        series: [{ label: "waiting", color: "#c2255c" }, { label: "running", color: "#7048e8" }] }),
    };
  }

  function renderLive(live) {
    const series = Array.isArray(live.series) ? [...live.series].sort((a, b) => a.t_s - b.t_s) : [];
    if (!chartSet && series.length === 0) {
      // Nothing sampled (yet, or ever: a run this service did not watch): no empty charts.
    } else if (!chartSet) {
      charts.hidden = false;
      chartSet = makeCharts();
    }
    const [t, tps, tokens, ttft50, ttft99, tpot50, tpot99, kv, waiting, running] = columnsOf(series,
      ["t_s", "tokens_per_s", "output_tokens", "ttft_p50_s", "ttft_p99_s", "tpot_p50_s", "tpot_p99_s", "kv_occupancy",
        "requests_waiting", "requests_running"]);
    const span = t.length > 1 ? t[t.length - 1] - t[0] : 0;
    if (chartSet) {
      chartSet.throughput.setData([t, tps, windowRate(t, tokens, span / 20)]);
      chartSet.latency.setData([t, ttft50, ttft99, tpot50, tpot99]);
      chartSet.kv.setData([t, kv]);
      chartSet.requests.setData([t, waiting, running]);
    }
    if (live.wafer && Array.isArray(live.wafer.dies) && live.wafer.dies.length) {
      waferFigure.hidden = false;
      wafer.update(live.wafer);
    }
  }

  function renderProgress(run, live) {
    const p = live?.progress ?? {};
    const rp = run.progress ?? {};
    let ratio = p.ratio ?? null;
    if (run.state === "SUCCEEDED") ratio = 1;
    if (run.state === "PENDING") ratio = 0;
    if (ratio !== null) bar.value = Math.min(1, Math.max(0, ratio));
    else bar.removeAttribute("value");
    barText.textContent = percent(ratio);
    stats.events[1].textContent = integer(p.events ?? rp.events);
    stats.eventsPerS[1].textContent = si(p.events_per_s ?? rp.events_per_s);
    const end = p.end_s !== null && p.end_s !== undefined ? ` of ${seconds(p.end_s)}` : "";
    stats.simulated[1].textContent = seconds(p.simulated_s ?? rp.simulated_time_s) + end;
    stats.wall[1].textContent = seconds(p.wall_s ?? run.summary?.wall_seconds);
    stats.requests[1].textContent = p.requests_total
      ? `${integer(p.requests_done)} of ${integer(p.requests_total)}`
      : integer(p.requests_done ?? run.summary?.serving?.requests_finished);
  }

  function renderRun(run) {
    badge.replaceChildren(stateBadge(run.state, "run-state"));
    root.querySelector("[data-testid=run-view]").dataset.state = run.state;
    const ended = ENDED.has(run.state);
    if (ended || cancel.dataset.pending !== "1") cancel.disabled = ended;
    if (ended) cancel.textContent = "Cancel run";
    reason.textContent = [run.reason, run.message].filter(Boolean).join(": ");
    if (run.sweep) {
      sweepLine.hidden = false;
      sweepLine.replaceChildren("point ", String(run.sweep_index ?? "?"), " of sweep ", sweepLink(run.sweep), " ",
        run.point ? JSON.stringify(run.point) : "");
    }
    const figures = headlineFigures(run.summary);
    summary.hidden = figures.length === 0;
    summaryBody.replaceChildren(...figures.map(([label, text]) => h("tr", {}, h("th", {}, label), h("td", {}, text))));
  }

  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    cancel.dataset.pending = "1";
    cancel.textContent = "Cancelling…";
    message.hidden = true;
    try {
      await api(`api/v1/runs/${encodeURIComponent(id)}/cancel`, { method: "POST" });
    } catch (e) {
      message.hidden = false;
      message.textContent = `Cancel: ${e.message}`;
      cancel.dataset.pending = "";
      cancel.textContent = "Cancel run";
    }
    poller.poke();
  });

  const poller = new Poller(async () => {
    let run, live = null;
    try {
      const asked = [api(`api/v1/runs/${encodeURIComponent(id)}`)];
      if (!liveMissing) asked.push(api(`api/v1/runs/${encodeURIComponent(id)}/live`).catch((e) => e));
      const [r, l] = await Promise.all(asked);
      run = r;
      if (l instanceof HttpError && l.status === 404) {
        liveMissing = true;  // an older run: there will never be one
        noLive.hidden = false;
      } else if (l instanceof Error) {
        console.warn("live view:", l.message);
      } else {
        live = l;
      }
      ctx.connected(true);
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) {
        reason.textContent = `No run ${id}.`;
        badge.replaceChildren(stateBadge("UNKNOWN", "run-state"));
        return false;
      }
      ctx.connected(false, e.message);
      return true;
    }
    renderRun(run);
    if (live) renderLive(live);
    renderProgress(run, live);
    return !ENDED.has(run.state);  // an ended run's last view has been drawn
  });
  poller.start();
  return {
    stop() {
      poller.stop();
      if (chartSet) Object.values(chartSet).forEach((c) => c.destroy());
    },
  };
}
