// The live page against a service (tests/web/live_page_integration_test.cc starts a real one):
//   node live_page.cjs --url URL --run ID --dies N --out DIR
//        [--sweep ID --sweep-points N] [--ended-run ID --ended-state STATE]
// Checks: the run is listed RUNNING; its events and progress change between two observations;
// its charts draw; the wafer heatmap has exactly N cells, one per die; Cancel ends it CANCELLED.
// With --token: Cancel first gets 401 and the page asks for a token; a wrong one is refused and
// asked again, the right one cancels.
// With --sweep: the table has its points, sorts on a header click, and plots with a Pareto front.
// With --ended-run: that run's live view answers 404 (intercepted, as for a run older than live
// views) and the page shows its state and summary instead. Screenshots go to --out.
"use strict";
const { drive, parseArgs } = require("./browser.cjs");

const args = parseArgs(process.argv.slice(2));
for (const required of ["url", "run", "dies", "out"])
  if (!args[required]) {
    console.error(`live_page: --${required} is required`);
    process.exit(2);
  }
const base = args.url.replace(/\/$/, "");
const out = args.out;

drive("live-page", Number(args.deadline ?? 150000), out, async (b) => {
  const page = b.page;
  // The page asks for each running run's live view; one that has none answers 404 (handled).
  b.allow(/Failed to load resource: the server responded with a status of 404.*\/live\)/);

  await page.goto(`${base}/?poll=250#/`);
  await b.until(`run ${args.run} listed RUNNING`, (id) => {
    const row = document.querySelector(`[data-testid=runs-table] tr[data-row="${id}"]`);
    return row?.querySelector("[data-testid=state]")?.textContent === "RUNNING";
  }, args.run);
  await b.screenshot(out, "live-runs.png");

  if (args.sweep) {
    const points = Number(args["sweep-points"]);
    await page.goto(`${base}/?poll=250#/sweeps/${args.sweep}`);
    await b.until(`sweep ${args.sweep}'s ${points} rows, every point ended`, (n) => {
      const rows = document.querySelectorAll("[data-testid=sweep-table] tbody tr");
      const states = [...rows].map((r) => r.querySelector("td[data-col=state]")?.textContent);
      return rows.length === n && states.every((s) => s === "SUCCEEDED");
    }, points, 60000);
    // Sorting: a click sorts ascending by that column, a second click descending.
    const column = "events";
    const values = () => page.$$eval(`[data-testid=sweep-table] tbody td[data-col="${column}"]`,
      (tds) => tds.map((td) => Number(td.textContent)));
    await page.click(`[data-testid=sweep-table] th[data-col="${column}"]`);
    const up = await values();
    if (up.some((v, i) => i > 0 && v < up[i - 1])) throw new Error(`not ascending by ${column}: ${up}`);
    await page.click(`[data-testid=sweep-table] th[data-col="${column}"]`);
    const down = await values();
    if (down.some((v, i) => i > 0 && v > down[i - 1])) throw new Error(`not descending by ${column}: ${down}`);
    // The scatter and its front for two chosen columns.
    await page.selectOption("[data-testid=plot-x]", "events");
    await page.selectOption("[data-testid=plot-y]", "wall_seconds");
    await page.selectOption("[data-testid=goal-x]", "max");
    await page.selectOption("[data-testid=goal-y]", "min");
    await b.until("the sweep's scatter drawn with every point", (n) => {
      const chart = document.querySelector("[data-testid=sweep-chart]");
      return chart?.querySelector("canvas") && Number(chart.dataset.points) === n;
    }, points);
    const front = await page.$$eval("[data-testid=pareto-table] tbody tr", (rows) => rows.length);
    if (front < 1 || front > points) throw new Error(`Pareto front of ${front} rows for ${points} points`);
    console.log(`sweep ${args.sweep}: ${points} rows sorted both ways, Pareto front of ${front}`);
    await b.screenshot(out, "live-sweep.png");
  }

  await page.goto(`${base}/?poll=250#/runs/${args.run}`);
  const read = () => page.evaluate(() => ({
    events: document.querySelector("[data-testid=events]")?.textContent,
    progress: document.querySelector("[data-testid=progress]")?.value,
    progressText: document.querySelector("[data-testid=progress-text]")?.textContent,
    state: document.querySelector("[data-testid=run-state]")?.textContent,
  }));
  await b.until("the run's first events and progress", () => {
    const e = document.querySelector("[data-testid=events]")?.textContent;
    const bar = document.querySelector("[data-testid=progress]");
    return e && e !== "–" && bar?.hasAttribute("value");
  });
  const first = await read();
  if (first.state !== "RUNNING") throw new Error(`run ${args.run} is ${first.state}, not RUNNING`);
  await b.until("the events count to change", (was) =>
    document.querySelector("[data-testid=events]")?.textContent !== was, first.events);
  await b.until("the progress to change", (was) =>
    document.querySelector("[data-testid=progress]")?.value !== was, first.progress);
  const second = await read();
  console.log(`run ${args.run}: events ${first.events} -> ${second.events}, progress ${first.progressText} -> ${second.progressText}`);

  const dies = Number(args.dies);
  await b.until(`the wafer heatmap with ${dies} dies`, (n) =>
    document.querySelectorAll("[data-testid=wafer] [data-die]").length === n, dies);
  const names = await page.$$eval("[data-testid=wafer] [data-die]", (cells) => cells.map((c) => c.dataset.die));
  if (new Set(names).size !== dies) throw new Error(`heatmap cells not one per die: ${names}`);
  for (const name of names) if (!/\[\d+,\d+\]$/.test(name)) throw new Error(`heatmap cell ${name} has no [row,col]`);
  const links = await page.$$eval("[data-testid=wafer] [data-link]", (lines) => lines.length);
  // The heatmap updates while the run goes: a die's busy ratio or a link's utilization changes.
  const heat = () => page.evaluate(() => [...document.querySelectorAll("[data-testid=wafer] [data-die], [data-testid=wafer] [data-link]")]
    .map((e) => e.dataset.busy ?? e.dataset.utilization).join(";"));
  const before = await heat();
  await b.until("the heatmap's colours to change", (was) =>
    [...document.querySelectorAll("[data-testid=wafer] [data-die], [data-testid=wafer] [data-link]")]
      .map((e) => e.dataset.busy ?? e.dataset.utilization).join(";") !== was, before);
  for (const chart of ["chart-throughput", "chart-latency", "chart-kv", "chart-requests"])
    await b.until(`${chart} drawn`, (id) => document.querySelector(`[data-testid=${id}] canvas`) !== null, chart);
  console.log(`wafer: ${names.length} cells (${names.join(" ")}), ${links} links drawn`);
  await b.screenshot(out, "live-run.png");

  // With a token, the 401s are the expected answers (allowed before the click that causes them).
  if (args.token) b.allow(/Failed to load resource: the server responded with a status of 401/);
  await page.click("[data-testid=cancel-run]");
  if (args.token) {
    // The call needs a token: the page asks, refuses a wrong one with the service's reason, then
    // takes the right one.
    const dialogOpen = () => document.querySelector("[data-testid=token-dialog]")?.open === true;
    await b.until("the page to ask for a token", dialogOpen);
    await page.fill("[data-testid=token-input]", "not-the-token-0000000000");
    await page.click("[data-testid=token-submit]");
    await b.until("the page to ask again, saying the token is unknown", () =>
      document.querySelector("[data-testid=token-dialog]")?.open === true &&
      /not one this service knows/.test(document.querySelector("[data-testid=token-reason]")?.textContent ?? ""));
    await b.screenshot(out, "live-token.png");
    await page.fill("[data-testid=token-input]", args.token);
    await page.click("[data-testid=token-submit]");
    console.log("token: asked, a wrong one refused, the right one taken");
  }
  await b.until("the run to show CANCELLED", () =>
    document.querySelector("[data-testid=run-state]")?.textContent === "CANCELLED", undefined, 60000);
  const reason = await page.textContent("[data-testid=run-reason]");
  console.log(`run ${args.run}: CANCELLED (${reason})`);
  await b.screenshot(out, "live-cancelled.png");

  if (args["ended-run"]) {
    const id = args["ended-run"];
    await page.route(`**/api/v1/runs/${id}/live`, (route) =>
      route.fulfill({ status: 404, contentType: "application/json",
        body: JSON.stringify({ error: { status: 404, code: "not_found", message: `run ${id} has no live view` } }) }));
    await page.goto(`${base}/?poll=250#/runs/${id}`);
    const state = args["ended-state"] ?? "SUCCEEDED";
    await b.until(`run ${id} shown ${state} with its summary and no live view`, (s) =>
      document.querySelector("[data-testid=run-state]")?.textContent === s &&
      !document.querySelector("[data-testid=no-live]")?.hidden &&
      !document.querySelector("[data-testid=summary]")?.hidden, state);
    await b.screenshot(out, "live-no-live-view.png");
  }
});
