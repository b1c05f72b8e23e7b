// Colours: a perceptually ordered ramp for ratios (dark blue = idle, yellow = saturated) and a
// categorical palette for runs and series. The ramp is interpolated between a few fixed stops.

const RAMP = [
  [0.0, [33, 24, 84]],
  [0.25, [44, 94, 160]],
  [0.5, [34, 160, 150]],
  [0.75, [120, 200, 80]],
  [1.0, [250, 225, 40]],
];

// t in [0, 1] (clamped; null -> grey) -> "rgb(r,g,b)".
export function ramp(t) {
  if (t === null || t === undefined || !Number.isFinite(t)) return "rgb(190,190,190)";
  const x = Math.min(1, Math.max(0, t));
  for (let i = 1; i < RAMP.length; ++i) {
    const [t1, c1] = RAMP[i];
    if (x <= t1) {
      const [t0, c0] = RAMP[i - 1];
      const f = (x - t0) / (t1 - t0);
      const c = c0.map((v, k) => Math.round(v + (c1[k] - v) * f));
      return `rgb(${c[0]},${c[1]},${c[2]})`;
    }
  }
  return "rgb(250,225,40)";
}

// Text that stays readable on a ramp colour.
export function inkOn(t) {
  return t !== null && t !== undefined && t > 0.6 ? "#111" : "#fff";
}

export const PALETTE = ["#1f6fd1", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599", "#a07400", "#495057",
  "#d6336c", "#5c940d"];

export function paletteColor(i) {
  return PALETTE[i % PALETTE.length];
}
