// Small SVG figures that uPlot does not draw: grouped horizontal bars (energy by category, link
// utilization, one bar per run in each group), stacked bars (energy by component and category)
// and a matrix heatmap (expert load: layers x experts).

import { paletteColor, ramp } from "./colors.js";
import { si } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function legend(container, labels) {
  if (labels.length < 2) return;
  const div = document.createElement("div");
  div.className = "svg-legend";
  labels.forEach((label, i) => {
    const item = document.createElement("span");
    item.className = "legend-item";
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = paletteColor(i);
    item.append(swatch, document.createTextNode(label));
    div.append(item);
  });
  container.append(div);
}

// groups: labels down the side; series: [{label, values: [one per group]}] drawn side by side.
export function groupedBars(container, { groups, series, format = si, testid, labelWidth = 150 }) {
  const bar = 12, gapInGroup = 2, gapBetween = 8, width = 640;
  const groupHeight = series.length * (bar + gapInGroup) + gapBetween;
  const height = groups.length * groupHeight + 8;
  const top = Math.max(0, ...series.flatMap((s) => s.values.map((v) => (Number.isFinite(v) ? v : 0))));
  const plotWidth = width - labelWidth - 90;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "bars" });
  if (testid) svg.dataset.testid = testid;
  groups.forEach((g, gi) => {
    const y0 = 4 + gi * groupHeight;
    svg.append(el("text", { x: labelWidth - 6, y: y0 + (series.length * (bar + gapInGroup)) / 2, "text-anchor": "end",
      "dominant-baseline": "central", "font-size": 11 }, g));
    series.forEach((s, si_) => {
      const v = s.values[gi];
      const w = top > 0 && Number.isFinite(v) ? Math.max(v > 0 ? 1 : 0, (v / top) * plotWidth) : 0;
      const y = y0 + si_ * (bar + gapInGroup);
      const rect = el("rect", { x: labelWidth, y, width: w, height: bar, fill: paletteColor(si_) });
      rect.append(el("title", {}, `${s.label}: ${g}: ${Number.isFinite(v) ? format(v) : "–"}`));
      svg.append(rect, el("text", { x: labelWidth + w + 4, y: y + bar / 2, "dominant-baseline": "central",
        "font-size": 10 }, Number.isFinite(v) ? format(v) : "–"));
    });
  });
  container.append(svg);
  legend(container, series.map((s) => s.label));
  return svg;
}

// bars: [{label, parts: [values, one per category]}]; categories: names; one stacked bar each.
export function stackedBars(container, { bars, categories, format = si, testid, labelWidth = 150 }) {
  const bar = 14, gap = 4, width = 640;
  const height = bars.length * (bar + gap) + 8;
  const totals = bars.map((b) => b.parts.reduce((a, v) => a + (Number.isFinite(v) ? v : 0), 0));
  const top = Math.max(0, ...totals);
  const plotWidth = width - labelWidth - 90;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "bars" });
  if (testid) svg.dataset.testid = testid;
  bars.forEach((b, bi) => {
    const y = 4 + bi * (bar + gap);
    svg.append(el("text", { x: labelWidth - 6, y: y + bar / 2, "text-anchor": "end", "dominant-baseline": "central",
      "font-size": 11 }, b.label));
    let x = labelWidth;
    b.parts.forEach((v, ci) => {
      if (!(Number.isFinite(v) && v > 0) || top <= 0) return;
      const w = (v / top) * plotWidth;
      const rect = el("rect", { x, y, width: Math.max(0.5, w), height: bar, fill: paletteColor(ci) });
      rect.append(el("title", {}, `${b.label}: ${categories[ci]} ${format(v)}`));
      svg.append(rect);
      x += w;
    });
    svg.append(el("text", { x: x + 4, y: y + bar / 2, "dominant-baseline": "central", "font-size": 10 },
      format(totals[bi])));
  });
  container.append(svg);
  legend(container, categories);
  return svg;
}

// A rows x cols matrix of values coloured from 0 to the largest; rowLabel(i), colLabel(j).
export function matrixHeatmap(container, { values, rowLabel, colLabel, title, format = si, testid }) {
  const rows = values.length;
  const cols = Math.max(0, ...values.map((r) => r.length));
  const cell = Math.max(6, Math.min(28, Math.floor(560 / Math.max(1, cols))));
  const ch = Math.max(4, Math.min(18, Math.floor(480 / Math.max(1, rows))));
  const left = 60, topPad = 18;
  const width = left + cols * cell + 8, height = topPad + rows * ch + 8;
  const top = Math.max(0, ...values.flat().filter(Number.isFinite));
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "matrix" });
  if (testid) svg.dataset.testid = testid;
  if (title) svg.append(el("text", { x: left, y: 11, "font-size": 11 }, title));
  for (let i = 0; i < rows; ++i) {
    if (rows <= 40 || i % Math.ceil(rows / 40) === 0)
      svg.append(el("text", { x: left - 4, y: topPad + i * ch + ch / 2, "text-anchor": "end",
        "dominant-baseline": "central", "font-size": Math.min(10, ch) }, rowLabel(i)));
    for (let j = 0; j < values[i].length; ++j) {
      const v = values[i][j];
      const rect = el("rect", { x: left + j * cell, y: topPad + i * ch, width: cell - 1, height: ch - 1,
        fill: ramp(top > 0 && Number.isFinite(v) ? v / top : null) });
      rect.append(el("title", {}, `${rowLabel(i)}, ${colLabel(j)}: ${Number.isFinite(v) ? format(v) : "–"}`));
      svg.append(rect);
    }
  }
  container.append(svg);
  return svg;
}
