// A table sortable by clicking its headers (again: the other direction). Numbers sort as numbers,
// missing values last in either direction. Headers carry data-col and aria-sort for tests and
// screen readers; the sort survives setRows (the live page refreshes rows while the user reads).

import { cell } from "./format.js";

function compare(a, b) {
  const ma = a === null || a === undefined, mb = b === null || b === undefined;
  if (ma || mb) return ma === mb ? 0 : ma ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

export class SortableTable {
  // columns: names; render(column, value, row) -> a Node or text for the cell (default format.cell).
  // sort: the initial {column, dir: 1 | -1}, or none (rows as given).
  constructor(container, { columns, testid, render, rowKey, sort = null } = {}) {
    this.table = document.createElement("table");
    this.table.className = "data";
    if (testid) this.table.dataset.testid = testid;
    container.append(this.table);
    this.render = render;
    this.rowKey = rowKey;
    this.sort = sort;
    this.rows = [];
    this.setColumns(columns ?? []);
  }

  setColumns(columns) {
    if (JSON.stringify(columns) === JSON.stringify(this.columns)) return;
    this.columns = columns;
    const head = document.createElement("thead");
    const tr = document.createElement("tr");
    for (const c of columns) {
      const th = document.createElement("th");
      th.dataset.col = c;
      th.textContent = c;
      th.title = `sort by ${c}`;
      th.addEventListener("click", () => {
        this.sort = this.sort?.column === c ? { column: c, dir: -this.sort.dir } : { column: c, dir: 1 };
        this.draw();
      });
      tr.append(th);
    }
    head.append(tr);
    this.table.replaceChildren(head, document.createElement("tbody"));
  }

  // rows: objects keyed by column.
  setRows(rows) {
    this.rows = rows;
    this.draw();
  }

  sortedRows() {
    const rows = [...this.rows];
    if (this.sort) {
      const { column, dir } = this.sort;
      rows.sort((a, b) => {
        const va = a[column], vb = b[column];
        const missing = (v) => v === null || v === undefined;
        if (missing(va) || missing(vb)) return compare(va, vb);  // missing last either way
        return dir * compare(va, vb);
      });
    }
    return rows;
  }

  draw() {
    for (const th of this.table.querySelectorAll("th")) {
      const on = this.sort?.column === th.dataset.col;
      th.setAttribute("aria-sort", on ? (this.sort.dir > 0 ? "ascending" : "descending") : "none");
    }
    const body = document.createElement("tbody");
    for (const row of this.sortedRows()) {
      const tr = document.createElement("tr");
      if (this.rowKey) tr.dataset.row = this.rowKey(row);
      for (const c of this.columns) {
        const td = document.createElement("td");
        td.dataset.col = c;
        const v = row[c];
        const content = this.render ? this.render(c, v, row) : undefined;
        if (content instanceof Node) td.append(content);
        else td.textContent = content ?? cell(v);
        if (typeof v === "number") td.className = "num";
        tr.append(td);
      }
      body.append(tr);
    }
    this.table.tBodies[0].replaceWith(body);
  }
}
