// Rates from cumulative counters sampled over simulated time.

// The rate of a cumulative counter over a trailing window of simulated time, at each point
// (null where there is no earlier point): per-epoch throughput is spiky when tokens come in
// batches, its average over a window is not.
export function windowRate(ts, counts, window) {
  const out = new Array(ts.length).fill(null);
  let j = 0;
  for (let i = 0; i < ts.length; ++i) {
    while (j < i && ts[j] < ts[i] - window) ++j;
    const from = j < i ? j : i - 1;
    if (from >= 0 && ts[i] > ts[from] && counts[i] !== null && counts[from] !== null)
      out[i] = (counts[i] - counts[from]) / (ts[i] - ts[from]);
  }
  return out;
}
