// The live page's entry: hash routes (#/, #/runs/ID, #/sweeps/ID), one view mounted at a time;
// a view polls the API while it is shown and stops when the route changes.

import "uplot/dist/uPlot.min.css";
import "../style.css";
import { homeView } from "./home_view.js";
import { runView } from "./run_view.js";
import { sweepView } from "./sweep_view.js";
import { h } from "./dom.js";

const routes = [
  [/^#\/runs\/([^/]+)$/, "run", (root, m, ctx) => runView(root, decodeURIComponent(m[1]), ctx)],
  [/^#\/sweeps\/([^/]+)$/, "sweep", (root, m, ctx) => sweepView(root, decodeURIComponent(m[1]), ctx)],
  [/^(#\/?)?$/, "home", (root, m, ctx) => homeView(root, ctx)],
];

const connection = document.getElementById("connection");
const ctx = {
  connected(ok, why) {
    connection.hidden = ok;
    connection.textContent = ok ? "" : `The service does not answer (${why}); retrying.`;
  },
};

let current = null;

function route() {
  current?.stop();
  current = null;
  const root = document.getElementById("view");
  root.replaceChildren();
  const hash = window.location.hash;
  for (const [pattern, name, mount] of routes) {
    const m = pattern.exec(hash);
    if (!m) continue;
    document.body.dataset.view = name;
    current = mount(root, m, ctx);
    return;
  }
  document.body.dataset.view = "none";
  root.append(h("p", { class: "note" }, "Nothing here: ", h("a", { href: "#/" }, "back to the runs"), "."));
}

window.addEventListener("hashchange", route);
route();
