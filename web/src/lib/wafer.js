// The wafer as an SVG grid: one cell per die coloured by its busy ratio, and a line per link
// between the dies' cells coloured by its utilization. Used by the live page (the live view's
// "wafer") and by the reports (dies.csv and links.csv).
//
// A wafer is {rows, cols, dies: [{name, row, col, busy}], links: [{from, to, utilization}]}.
// Links are placed by the [row,col] at the end of their end points' names (router[0,1] sits in
// die cell [0,1]); a link whose ends share a cell (router to its own die) or that has an end
// without a position is not drawn. Link colours are scaled to the busiest link shown (their
// utilizations are often far below 1); die colours are absolute (0 to 100 %).

import { ramp, inkOn } from "./colors.js";
import { percent } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

// "endpoint[2,3]" -> [2, 3]; null when the name does not end in [row,col].
export function positionOf(name) {
  const m = /\[(\d+),(\d+)\]$/.exec(name);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

// Lays out dies from their names: [row,col] names where they say, and, when any name has no
// position, every die in one row in the given order (as the live view does).
export function layoutDies(dies) {
  const placed = dies.map((d) => ({ ...d, pos: positionOf(d.name) }));
  if (placed.length === 0) return { rows: 0, cols: 0, dies: [] };
  if (placed.some((d) => !d.pos)) {
    return { rows: 1, cols: placed.length, dies: placed.map((d, i) => ({ name: d.name, busy: d.busy, row: 0, col: i })) };
  }
  const rows = 1 + Math.max(...placed.map((d) => d.pos[0]));
  const cols = 1 + Math.max(...placed.map((d) => d.pos[1]));
  return { rows, cols, dies: placed.map((d) => ({ name: d.name, busy: d.busy, row: d.pos[0], col: d.pos[1] })) };
}

function el(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export class WaferView {
  // container: an element the SVG and its legend go into; testid names the SVG for tests.
  constructor(container, { testid = "wafer", maxWidth = 560 } = {}) {
    this.container = container;
    this.testid = testid;
    this.maxWidth = maxWidth;
    this.structure = "";
    this.cells = new Map();
    this.lines = [];
  }

  update(wafer) {
    const dies = wafer?.dies ?? [];
    const links = wafer?.links ?? [];
    const key = `${wafer?.rows}x${wafer?.cols}|${dies.map((d) => `${d.name}@${d.row},${d.col}`).join(";")}|` +
      links.map((l) => `${l.from}>${l.to}`).join(";");
    if (key !== this.structure) {
      this.build(wafer, dies, links);
      this.structure = key;
    }
    this.paint(dies, links);
  }

  build(wafer, dies, links) {
    this.container.replaceChildren();
    this.cells.clear();
    this.lines = [];
    const rows = Math.max(1, wafer?.rows ?? 1);
    const cols = Math.max(1, wafer?.cols ?? 1);
    const cell = Math.max(16, Math.min(96, Math.floor(this.maxWidth / cols / 1.3), Math.floor(420 / rows / 1.3)));
    const gap = Math.round(cell * 0.3);
    const pitch = cell + gap;
    const pad = 4;
    const width = cols * pitch - gap + 2 * pad;
    const height = rows * pitch - gap + 2 * pad;
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "data-testid": this.testid,
      "aria-label": `wafer of ${dies.length} dies` });
    svg.classList.add("wafer");
    const cellsLayer = el("g");
    const linksLayer = el("g");
    const byPos = new Map();
    for (const d of dies) {
      const x = pad + d.col * pitch, y = pad + d.row * pitch;
      byPos.set(`${d.row},${d.col}`, [x + cell / 2, y + cell / 2]);
      const g = el("g", { "data-die": d.name });
      const rect = el("rect", { x, y, width: cell, height: cell, rx: Math.round(cell * 0.08) });
      const title = el("title");
      g.append(rect, title);
      let label = null;
      if (cell >= 34) {
        label = el("text", { x: x + cell / 2, y: y + cell / 2, "text-anchor": "middle", "dominant-baseline": "central",
          "font-size": Math.round(cell / 4.2) });
        g.append(label);
      }
      cellsLayer.append(g);
      this.cells.set(d.name, { g, rect, title, label });
    }
    const offset = Math.max(2, cell * 0.12);
    for (const l of links) {
      const a = positionOf(l.from), b = positionOf(l.to);
      if (!a || !b || (a[0] === b[0] && a[1] === b[1])) continue;
      const pa = byPos.get(`${a[0]},${a[1]}`), pb = byPos.get(`${b[0]},${b[1]}`);
      if (!pa || !pb) continue;
      const dx = pb[0] - pa[0], dy = pb[1] - pa[1];
      const len = Math.hypot(dx, dy);
      const ux = dx / len, uy = dy / len;
      // Each direction on its own side of the centre line; ends at the cells' edges.
      const nx = -uy * offset, ny = ux * offset;
      const inset = cell / 2 + 2;
      const line = el("line", { x1: pa[0] + ux * inset + nx, y1: pa[1] + uy * inset + ny, x2: pb[0] - ux * inset + nx,
        y2: pb[1] - uy * inset + ny, "stroke-width": Math.max(2, cell * 0.09), "stroke-linecap": "round",
        "data-link": `${l.from}->${l.to}` });
      const title = el("title");
      line.append(title);
      linksLayer.append(line);
      this.lines.push({ line, title, link: l });
    }
    svg.append(cellsLayer, linksLayer);
    const legend = document.createElement("div");
    legend.className = "wafer-legend";
    this.legend = legend;
    this.container.append(svg, legend);
  }

  paint(dies, links) {
    for (const d of dies) {
      const c = this.cells.get(d.name);
      if (!c) continue;
      c.rect.setAttribute("fill", ramp(d.busy));
      c.g.setAttribute("data-busy", d.busy ?? "");
      c.title.textContent = `${d.name}: busy ${percent(d.busy)}`;
      if (c.label) {
        c.label.textContent = d.busy === null || d.busy === undefined ? "–" : `${Math.round(d.busy * 100)}%`;
        c.label.setAttribute("fill", inkOn(d.busy));
      }
    }
    const now = new Map(links.map((l) => [`${l.from}>${l.to}`, l]));
    const shown = this.lines.map((x) => now.get(`${x.link.from}>${x.link.to}`) ?? x.link);
    const top = shown.reduce((m, l) => Math.max(m, l.utilization ?? 0), 0);
    this.lines.forEach((x, i) => {
      const u = shown[i].utilization;
      x.line.setAttribute("stroke", ramp(top > 0 && u !== null && u !== undefined ? u / top : 0));
      x.line.setAttribute("data-utilization", u ?? "");
      x.title.textContent = `${shown[i].from} → ${shown[i].to}: ${percent(u, 3)}`;
    });
    this.legend.innerHTML = "";
    const bar = (label, right) => {
      const row = document.createElement("span");
      row.className = "legend-item";
      row.innerHTML = `<span class="legend-label"></span><span class="legend-ramp"></span><span class="legend-end"></span>`;
      row.children[0].textContent = label;
      row.children[2].textContent = right;
      this.legend.append(row);
    };
    bar("die busy 0", "100 %");
    if (this.lines.length) bar("link utilization 0", percent(top, 3));
  }
}
