// The page's pure functions under node's own test runner (no browser, no packages): Pareto fronts,
// the report's CDFs and throughput, trailing rates, die layout by name, number formats.
//   node --test web/tests/units.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";

import { paretoFront } from "../src/lib/pareto.js";
import { windowRate } from "../src/lib/rates.js";
import { layoutDies, positionOf } from "../src/lib/wafer.js";
import { percent, seconds, si, withUnit } from "../src/lib/format.js";
import { alignOnX, expertMatrix, latencies, maxOverMean, overlaidCdfs, throughput } from "../src/report/figures.js";

test("a Pareto front keeps the points no other point beats on both objectives", () => {
  const points = [{ x: 1, y: 5 }, { x: 2, y: 3 }, { x: 3, y: 4 }, { x: 4, y: 1 }, { x: 2, y: 3 }, { x: null, y: 0 }];
  assert.deepEqual(paretoFront(points, { x: "min", y: "min" }), [0, 1, 3]);  // the duplicate once, the null never
  // Maximise both: (1, 5), (3, 4) and (4, 1); (2, 3) is beaten by (3, 4).
  assert.deepEqual(paretoFront(points, { x: "max", y: "max" }), [0, 2, 3]);
  // Maximise x, minimise y: (4, 1) beats every other point.
  assert.deepEqual(paretoFront(points, { x: "max", y: "min" }), [3]);
  // Minimise x, maximise y: (1, 5) beats every other point.
  assert.deepEqual(paretoFront(points, { x: "min", y: "max" }), [0]);
  // Equal x: only the better y is on the front.
  assert.deepEqual(paretoFront([{ x: 1, y: 2 }, { x: 1, y: 1 }], { x: "min", y: "min" }), [1]);
  assert.deepEqual(paretoFront([], { x: "min", y: "min" }), []);
});

test("latencies and their CDFs come from requests.csv's columns", () => {
  const run = { requests: { columns: ["arrival_ps", "output_tokens", "first_token_ps", "finish_ps"],
    rows: [[0, 4, 1e9, 4e9], [1e9, 1, 3e9, 3e9]] } };
  const l = latencies(run);
  assert.deepEqual(l.ttft, [1e-3, 2e-3]);
  assert.deepEqual(l.e2e, [2e-3, 4e-3]);
  assert.deepEqual(l.tpot, [1e-3]);  // a one-token request has no TPOT
  const [xs, a, b] = overlaidCdfs([[1, 2], [2, 3, 4, 5]]);
  assert.deepEqual(xs, [1, 2, 3, 4, 5]);
  assert.deepEqual(a, [0.5, 1, 1, 1, 1]);
  assert.deepEqual(b, [0, 0.25, 0.5, 0.75, 1]);
  assert.equal(overlaidCdfs([Array.from({ length: 5000 }, (_, i) => i)], 100)[0].length, 100);
});

test("throughput spreads each request's tokens over its decode and keeps every token", () => {
  const run = { requests: { columns: ["output_tokens", "first_token_ps", "finish_ps"],
    rows: [[11, 0, 10e12], [1, 5e12, 5e12]] } };
  const perSecond = throughput(run, 10, 10);  // 1 s buckets
  const total = perSecond.reduce((a, v) => a + v, 0);
  assert.ok(Math.abs(total - 12) < 1e-9, `total ${total}`);
  assert.ok(Math.abs(perSecond[0] - 2) < 1e-9);  // the first token and a tenth of the other ten
  assert.ok(Math.abs(perSecond[5] - 2) < 1e-9);  // the one-token request finishes here
});

test("expert loads make a layer x expert matrix and its imbalance", () => {
  const m = expertMatrix({ expert_load: { columns: ["moe_layer", "expert", "tokens"], rows: [[0, 0, 1], [0, 1, 3], [1, 0, 2], [1, 1, 2]] } });
  assert.deepEqual(m, [[1, 3], [2, 2]]);
  assert.deepEqual(maxOverMean(m), [1.5, 1]);
  assert.deepEqual(alignOnX([{ xs: [1, 3], ys: [[10, 30]] }, { xs: [2], ys: [[20]] }]),
    [[1, 2, 3], [10, null, 30], [null, 20, null]]);
});

test("a trailing rate averages a cumulative counter over the window", () => {
  const ts = [0, 1, 2, 3, 4];
  const tokens = [0, 0, 10, 10, 20];
  assert.deepEqual(windowRate(ts, tokens, 2), [null, 0, 5, 5, 5]);
  assert.deepEqual(windowRate(ts, tokens, 0.5), [null, 0, 10, 0, 10]);
});

test("dies are laid out by the [row,col] their names end in, else in one row", () => {
  assert.deepEqual(positionOf("endpoint[2,13]"), [2, 13]);
  assert.equal(positionOf("host"), null);
  const grid = layoutDies([{ name: "d[0,0]", busy: 1 }, { name: "d[1,2]", busy: 0 }]);
  assert.equal(grid.rows, 2);
  assert.equal(grid.cols, 3);
  const row = layoutDies([{ name: "a" }, { name: "d[1,1]" }]);
  assert.deepEqual([row.rows, row.cols, row.dies[1].col], [1, 2, 1]);
});

test("numbers are formatted with SI prefixes and units", () => {
  assert.equal(si(1234567), "1.23 M");
  assert.equal(si(1998, 4), "1.998 k");
  assert.equal(seconds(0.0123), "12.3 ms");
  assert.equal(seconds(2), "2 s");
  assert.equal(withUnit(506.9, "J"), "507 J");
  assert.equal(percent(0.4567), "45.7 %");
  assert.equal(si(null), "–");
});
