// Tiny DOM helpers for the views: elements from a tag, attributes and children.

export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "testid") e.dataset.testid = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function stateBadge(state, testid) {
  return h("span", { class: `state state-${state ?? "UNKNOWN"}`, testid }, state ?? "?");
}

// A progress bar with its text: ratio in [0, 1] or null (unknown).
export function progressBar(ratio, testid) {
  const bar = h("progress", { max: 1, testid });
  if (ratio !== null && ratio !== undefined && Number.isFinite(ratio)) bar.value = Math.min(1, Math.max(0, ratio));
  else bar.removeAttribute("value");
  return bar;
}

export function runLink(id) {
  return h("a", { href: `#/runs/${encodeURIComponent(id)}` }, id);
}

export function sweepLink(id) {
  return h("a", { href: `#/sweeps/${encodeURIComponent(id)}` }, id);
}
