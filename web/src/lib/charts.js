// Charts over uPlot: lines over a shared x (time series, CDFs) and scatter plots, sized to their
// container and redrawn in place when their data changes (the live page calls setData each poll).

import uPlot from "uplot";
import { paletteColor } from "./colors.js";
import { si } from "./format.js";

// Axis ticks with as many significant digits as it takes to tell them apart (3 to 7):
// format(value, digits) -> text.
function tickLabels(values, format) {
  for (let digits = 3; digits <= 7; ++digits) {
    const texts = values.map((v) => (v === null ? "" : format(v, digits)));
    if (new Set(texts).size === texts.length) return texts;
  }
  return values.map((v) => (v === null ? "" : format(v, 7)));
}

function containerWidth(el) {
  return Math.max(260, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 600));
}

// Options: title, xLabel, yLabel, xFormat / yFormat ((value, significant digits) -> text), series [{label, color, dash,
// points: true for markers only, width, stepped, fill, show: false to start hidden}], height, testid,
// yRange [min, max] (fixed).
export class Chart {
  constructor(container, options) {
    this.options = options;
    this.host = document.createElement("div");
    this.host.className = "chart";
    if (options.testid) this.host.dataset.testid = options.testid;
    container.append(this.host);
    this.plot = null;
    this.observer = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: containerWidth(this.host), height: this.options.height ?? 220 });
    });
    this.observer.observe(this.host);
  }

  uplotOptions() {
    const o = this.options;
    const xf = o.xFormat ?? ((v, digits) => si(v, digits));
    const yf = o.yFormat ?? ((v, digits) => si(v, digits));
    const series = [{ label: o.xLabel ?? "x", value: (u, v) => (v === null || v === undefined ? "–" : xf(v)) }];
    (o.series ?? []).forEach((s, i) => {
      const color = s.color ?? paletteColor(i);
      const one = {
        label: s.label,
        stroke: color,
        width: s.width ?? 2,
        spanGaps: s.spanGaps ?? false,
        value: (u, v) => (v === null || v === undefined ? "–" : yf(v)),
      };
      if (s.show === false) one.show = false;  // listed in the legend, drawn when clicked
      if (s.dash) one.dash = s.dash;
      if (s.fill) one.fill = s.fill;
      if (s.points) {
        one.paths = () => null;
        one.points = { show: true, size: s.size ?? 7, stroke: color, fill: s.pointFill ?? color, width: 1 };
      } else if (s.stepped) {
        one.paths = uPlot.paths.stepped({ align: 1 });
        one.points = { show: false };
      } else {
        one.points = { show: s.showPoints ?? false };
      }
      series.push(one);
    });
    const yScale = { auto: true };
    if (o.yRange) yScale.range = () => o.yRange;
    return {
      title: o.title,
      width: containerWidth(this.host),
      height: o.height ?? 220,
      scales: { x: { time: false }, y: yScale },
      series,
      legend: { show: o.legend ?? true },
      cursor: { drag: { x: true, y: false } },
      axes: [
        { label: o.xLabel, values: (u, vals) => tickLabels(vals, xf), size: 40, space: 80 },
        { label: o.yLabel, values: (u, vals) => tickLabels(vals, yf), size: 76 },
      ],
    };
  }

  // data: [xs, ys1, ys2, ...], xs ascending (uPlot's aligned data); nulls leave gaps.
  setData(data) {
    if (!this.plot) {
      this.plot = new uPlot(this.uplotOptions(), data, this.host);
      this.host.dataset.rendered = "1";
    } else {
      this.plot.setData(data);
    }
    this.host.dataset.points = String(data[0]?.length ?? 0);
  }

  destroy() {
    this.observer.disconnect();
    this.plot?.destroy();
    this.host.remove();
  }
}

// Columns of a list of objects: rows [{a, b}] and keys ["a", "b"] -> [[a...], [b...]].
export function columnsOf(rows, keys) {
  return keys.map((k) => rows.map((r) => (r[k] === undefined ? null : r[k])));
}
