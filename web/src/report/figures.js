// The numbers behind the report's figures, from the data coordinator/run_report.cc inlines: pure
// functions of a run's tables (no DOM), so each figure's drawing code stays short.

const PS = 1e-12;

// A table {columns, rows} as an array of objects.
export function records(table) {
  if (!table) return [];
  const cols = table.columns;
  return table.rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
}

// Per-request latencies in seconds from requests.csv: ttft, tpot (requests with one output token
// have none), e2e.
export function latencies(run) {
  const out = { ttft: [], tpot: [], e2e: [] };
  for (const r of records(run.requests)) {
    if (r.first_token_ps !== null && r.arrival_ps !== null) out.ttft.push((r.first_token_ps - r.arrival_ps) * PS);
    if (r.finish_ps !== null && r.arrival_ps !== null) out.e2e.push((r.finish_ps - r.arrival_ps) * PS);
    if (r.output_tokens > 1 && r.finish_ps !== null && r.first_token_ps !== null)
      out.tpot.push(((r.finish_ps - r.first_token_ps) / (r.output_tokens - 1)) * PS);
  }
  for (const k of Object.keys(out)) out[k].sort((a, b) => a - b);
  return out;
}

// Overlaid empirical CDFs on one x: [xs, cdf of each sample set at xs], at most maxPoints xs.
export function overlaidCdfs(samples, maxPoints = 1500) {
  let xs = [...new Set(samples.flat())].sort((a, b) => a - b);
  if (xs.length > maxPoints) {
    const step = (xs.length - 1) / (maxPoints - 1);
    xs = Array.from({ length: maxPoints }, (_, i) => xs[Math.round(i * step)]);
  }
  const upTo = (sorted, x) => {
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return [xs, ...samples.map((s) => (s.length ? xs.map((x) => upTo(s, x) / s.length) : xs.map(() => null)))];
}

// Output tokens per simulated second over [0, endS] in `buckets` equal bins: each request's first
// token at its first_token time and the rest spread evenly up to its finish.
export function throughput(run, endS, buckets) {
  const width = endS / buckets;
  const tokens = new Array(buckets).fill(0);
  const add = (t0, t1, n) => {  // n tokens spread over [t0, t1]
    if (n <= 0) return;
    if (t1 <= t0) {
      tokens[Math.min(buckets - 1, Math.max(0, Math.floor(t0 / width)))] += n;
      return;
    }
    const first = Math.max(0, Math.floor(t0 / width)), last = Math.min(buckets - 1, Math.floor(t1 / width));
    for (let b = first; b <= last; ++b) {
      const overlap = Math.min(t1, (b + 1) * width) - Math.max(t0, b * width);
      if (overlap > 0) tokens[b] += (n * overlap) / (t1 - t0);
    }
  };
  for (const r of records(run.requests)) {
    if (r.first_token_ps === null || r.finish_ps === null) continue;
    const first = r.first_token_ps * PS, finish = r.finish_ps * PS;
    add(first, first, 1);
    add(first, finish, (r.output_tokens ?? 1) - 1);
  }
  return tokens.map((n) => n / width);
}

// The run's simulated seconds: results.json's, else the summary's, else the last finish.
export function simulatedSeconds(run) {
  if (Number.isFinite(run.simulated_time_ps)) return run.simulated_time_ps * PS;
  if (Number.isFinite(run.summary?.simulated_time_s)) return run.summary.simulated_time_s;
  const finishes = records(run.requests).map((r) => r.finish_ps ?? 0);
  return finishes.length ? Math.max(...finishes) * PS : 0;
}

// The wafer as WaferView draws it: die busy = its busiest engine's busy time over the run's
// simulated time (dies.csv's busy_ps* columns); links from links.csv.
export function waferOf(run) {
  const end = simulatedSeconds(run);
  const dies = records(run.dies).map((d) => {
    const busy = Object.entries(d).filter(([k, v]) => k.startsWith("busy_ps") && typeof v === "number")
      .reduce((m, [, v]) => Math.max(m, v), 0);
    return { name: String(d.die), busy: end > 0 ? Math.min(1, (busy * PS) / end) : null };
  });
  const links = records(run.links).map((l) => ({ from: String(l.from), to: String(l.to), utilization: l.utilization }));
  return { dies, links };
}

// expert_load rows (moe_layer, expert, tokens) -> matrix[layer][expert].
export function expertMatrix(run) {
  const m = [];
  for (const r of records(run.expert_load)) {
    (m[r.moe_layer] ??= [])[r.expert] = r.tokens;
  }
  for (let i = 0; i < m.length; ++i) m[i] ??= [];
  return m;
}

// Busiest expert's tokens over the mean, per layer.
export function maxOverMean(matrix) {
  return matrix.map((row) => {
    const v = row.filter(Number.isFinite);
    const mean = v.reduce((a, x) => a + x, 0) / (v.length || 1);
    return mean > 0 ? Math.max(...v) / mean : null;
  });
}

// Merges per-run series onto the union of their xs: [{xs, ys: [..series]}] -> [xs, ...ys aligned].
export function alignOnX(parts) {
  const xs = [...new Set(parts.flatMap((p) => p.xs))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const out = [xs];
  for (const p of parts)
    for (const ys of p.ys) {
      const col = new Array(xs.length).fill(null);
      p.xs.forEach((x, i) => { col[index.get(x)] = ys[i]; });
      out.push(col);
    }
  return out;
}
