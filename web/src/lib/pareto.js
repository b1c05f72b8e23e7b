// The Pareto front of points under two objectives, each minimised or maximised.
//
// A point is on the front when no other point is at least as good on both objectives and better
// on one. Of exact duplicates only the first is kept. Points with a missing coordinate are never on
// the front. O(n log n): sort by the first objective (best first, ties by the second), then sweep.

// points: [{x, y, ...}]; goals: {x: "min"|"max", y: "min"|"max"} -> indices into points of the
// front, ordered by x ascending.
export function paretoFront(points, goals) {
  const sx = goals.x === "max" ? -1 : 1;
  const sy = goals.y === "max" ? -1 : 1;
  const candidates = [];
  points.forEach((p, i) => {
    if (Number.isFinite(p.x) && Number.isFinite(p.y)) candidates.push({ i, x: sx * p.x, y: sy * p.y });
  });
  candidates.sort((a, b) => a.x - b.x || a.y - b.y || a.i - b.i);
  const front = [];
  let bestY = Infinity;
  for (const c of candidates) {
    if (c.y < bestY) {
      front.push(c.i);
      bestY = c.y;
    }
  }
  return front.sort((a, b) => points[a].x - points[b].x);
}
