// Number formatting for people: SI prefixes, seconds, bytes, ratios. Every function takes null
// or undefined and answers "–", so a view can print a figure that is not there yet.

const NONE = "–";

function missing(v) {
  return v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v));
}

// 1234567 -> "1.23 M"; 0.00042 -> "420 µ".
export function si(v, digits = 3) {
  if (missing(v)) return NONE;
  if (v === 0) return "0";
  const prefixes = [
    [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"], [1, ""], [1e-3, "m"], [1e-6, "µ"], [1e-9, "n"], [1e-12, "p"],
  ];
  const a = Math.abs(v);
  for (const [scale, p] of prefixes)
    if (a >= scale * 0.9995) return `${Number((v / scale).toPrecision(digits))}${p ? " " + p : ""}`;
  return v.toExponential(2);
}

// 0.0123, "s" -> "12.3 ms"; 506.9, "J" -> "507 J".
export function withUnit(v, unit, digits = 3) {
  if (missing(v)) return NONE;
  const text = si(v, digits);
  return /[a-zA-Zµ]$/.test(text) ? `${text}${unit}` : `${text} ${unit}`;
}

export function seconds(v, digits = 3) {
  return withUnit(v, "s", digits);
}

export function bytes(v) {
  if (missing(v)) return NONE;
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let x = v, i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) { x /= 1024; ++i; }
  return `${Number(x.toPrecision(3))} ${units[i]}`;
}

export function percent(ratio, digits = 1) {
  if (missing(ratio)) return NONE;
  return `${(ratio * 100).toFixed(digits)} %`;
}

export function integer(v) {
  if (missing(v)) return NONE;
  return Math.round(v).toLocaleString("en-US");
}

// A table cell: numbers compact, booleans and strings as they are.
export function cell(v) {
  if (v === null || v === undefined) return NONE;
  if (typeof v === "number") {
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    return Number(v.toPrecision(4)).toString();
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
