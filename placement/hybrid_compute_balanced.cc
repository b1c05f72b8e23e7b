// Hybrid TP-EP, compute-balanced (HD-MoE's CB baseline, research/seeds.md 2.5): the dies are cut
// into G rectangular groups (a mesh; otherwise runs of consecutive usable dies), each layer's
// experts are assigned to groups so that the busiest group's compute is smallest, and every expert
// is split tensor-parallel over its group's dies. Communication is ignored when choosing.
//
// Assignment: LPT (largest expert first, to the group where it finishes earliest relative to the
// group's FLOP/s), then moves and swaps out of the busiest group while they lower the maximum.
// Quality: for groups of equal speed LPT's makespan is at most (4/3 - 1/(3G)) x the optimum
// (Graham 1969), for groups of different speeds at most 2G/(G+1) x (Gonzalez, Ibarra & Sahni
// 1977); the improvement pass only lowers it. The paper's ILP solves the same min-max problem.
#include <algorithm>
#include <numeric>

#include "placement/hd_moe.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

// Splits [0, n) into `parts` near-equal runs; run i is [cut(i), cut(i + 1)).
uint32_t cut(uint32_t n, uint32_t parts, uint32_t i) { return static_cast<uint32_t>(uint64_t{n} * i / parts); }

std::vector<std::vector<uint32_t>> dieGroups(const Fabric& f, uint32_t G) {
  std::vector<std::vector<uint32_t>> groups;
  const uint32_t X = f.gridX, Y = f.gridY;
  if (X > 0 && Y > 0 && X * Y == f.dies) {
    // Rectangles gx x gy = G: prefer an even cut, then the squarest groups, then more columns.
    uint32_t bestX = 0;
    double bestScore = 1e300;
    for (uint32_t gx = G; gx >= 1; --gx) {
      if (G % gx != 0 || gx > X || G / gx > Y) continue;
      const uint32_t gy = G / gx;
      const bool even = X % gx == 0 && Y % gy == 0;
      const double score = (even ? 0 : 1e6) + std::abs(double(X) / gx - double(Y) / gy);
      if (score < bestScore) bestScore = score, bestX = gx;
    }
    if (bestX > 0) {
      const uint32_t gx = bestX, gy = G / gx;
      for (uint32_t j = 0; j < gy; ++j)
        for (uint32_t i = 0; i < gx; ++i) {
          std::vector<uint32_t> g;
          for (uint32_t y = cut(Y, gy, j); y < cut(Y, gy, j + 1); ++y)
            for (uint32_t x = cut(X, gx, i); x < cut(X, gx, i + 1); ++x)
              if (f.usable(y * X + x)) g.push_back(y * X + x);
          if (!g.empty()) groups.push_back(std::move(g));
        }
      return groups;
    }
  }
  const std::vector<uint32_t> live = f.usableDies();
  for (uint32_t i = 0; i < G; ++i)
    groups.emplace_back(live.begin() + cut(uint32_t(live.size()), G, i), live.begin() + cut(uint32_t(live.size()), G, i + 1));
  return groups;
}

class HybridComputeBalanced final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    const std::vector<uint32_t> live = p.fabric.usableDies();
    WAFERSIM_REQUIRE(!live.empty(), "placement policy hybrid_cb: no usable die");
    const int64_t asked = hd::integerOr(p.options, "groups", 0);
    uint32_t G = asked > 0 ? static_cast<uint32_t>(asked) : (p.model.experts <= 16 ? 2u : 8u);
    G = std::min<uint32_t>(G, static_cast<uint32_t>(live.size()));
    const std::vector<std::vector<uint32_t>> groups = dieGroups(p.fabric, G);
    const auto n = static_cast<uint32_t>(groups.size());
    std::vector<double> speed(n, 0.0);
    for (uint32_t g = 0; g < n; ++g)
      for (uint32_t d : groups[g]) speed[g] += p.fabric.expertFlops.empty() ? 1.0 : std::max(p.fabric.expertFlops[d], 1e-300);

    Decision out;
    out.placement = Placement(p.fabric.dies, p.model.layers, p.model.experts);
    const uint32_t E = p.model.experts;
    double worstRatio = 0;
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      std::vector<double> w(E, 1.0);  // expert frequency; uniform without a profile
      if (p.profile.layers() > l && p.profile.tokens(l) > 0)
        for (uint32_t e = 0; e < E; ++e) w[e] = double(p.profile.load(l, e));
      std::vector<uint32_t> order(E);
      std::iota(order.begin(), order.end(), 0u);
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return w[a] > w[b]; });
      std::vector<uint32_t> home(E);
      std::vector<double> load(n, 0.0);
      for (uint32_t e : order) {
        uint32_t best = 0;
        for (uint32_t g = 1; g < n; ++g)
          if ((load[g] + w[e]) / speed[g] < (load[best] + w[e]) / speed[best]) best = g;
        home[e] = best;
        load[best] += w[e];
      }
      improve(w, speed, home, load, E * n);
      double worst = 0, total = 0, totalSpeed = 0;
      for (uint32_t g = 0; g < n; ++g) worst = std::max(worst, load[g] / speed[g]), total += load[g], totalSpeed += speed[g];
      if (total > 0) worstRatio = std::max(worstRatio, worst / (total / totalSpeed));
      for (uint32_t e = 0; e < E; ++e) out.placement.putSplit(l, e, groups[home[e]]);
    }
    checkCapacity(p, out.placement, "hybrid_cb");
    out.reason = "experts balanced by compute over " + std::to_string(n) + " die groups of ~" +
                 std::to_string(live.size() / n) + " (TP inside each group); busiest group at " +
                 std::to_string(worstRatio) + "x the mean";
    predictGain(p, out);
    return out;
  }

 private:
  // Moves or swaps an expert out of the busiest group while that lowers the largest load/speed.
  static void improve(const std::vector<double>& w, const std::vector<double>& speed, std::vector<uint32_t>& home,
                      std::vector<double>& load, uint32_t passes) {
    const auto n = static_cast<uint32_t>(load.size());
    auto worstOf = [&](const std::vector<double>& ld) {
      uint32_t b = 0;
      for (uint32_t g = 1; g < n; ++g)
        if (ld[g] / speed[g] > ld[b] / speed[b]) b = g;
      return b;
    };
    for (uint32_t pass = 0; pass < passes; ++pass) {
      const uint32_t top = worstOf(load);
      const double before = load[top] / speed[top];
      double bestAfter = before;
      uint32_t bestE = UINT32_MAX, bestF = UINT32_MAX, bestG = 0;  // move e (and swap f back) to g
      for (uint32_t e = 0; e < home.size(); ++e) {
        if (home[e] != top) continue;
        for (uint32_t g = 0; g < n; ++g) {
          if (g == top) continue;
          const double moved = std::max((load[top] - w[e]) / speed[top], (load[g] + w[e]) / speed[g]);
          if (moved < bestAfter - 1e-12 * before) bestAfter = moved, bestE = e, bestF = UINT32_MAX, bestG = g;
          for (uint32_t f = 0; f < home.size(); ++f) {
            if (home[f] != g || w[f] >= w[e]) continue;
            const double swapped = std::max((load[top] - w[e] + w[f]) / speed[top], (load[g] + w[e] - w[f]) / speed[g]);
            if (swapped < bestAfter - 1e-12 * before) bestAfter = swapped, bestE = e, bestF = f, bestG = g;
          }
        }
      }
      if (bestE == UINT32_MAX) return;
      // Both changed groups end below `before`: the sorted loads fall lexicographically, no cycle.
      load[top] -= w[bestE], load[bestG] += w[bestE], home[bestE] = bestG;
      if (bestF != UINT32_MAX) load[bestG] -= w[bestF], load[top] += w[bestF], home[bestF] = top;
    }
  }
};

}  // namespace

PolicyType hybridComputeBalancedPolicy() {
  return {"hybrid_cb",
          "hybrid TP-EP: dies cut into G rectangular groups, experts balanced by compute over groups, TP inside a "
          "group (HD-MoE baseline CB)",
          "HD-MoE, research/seeds.md 2.5",
          {{"groups", ParamType::Integer, "0", "die groups G (0: 2 with <= 16 experts, else 8; at most the dies)", 0, 1e6}},
          {},
          [] { return std::make_unique<HybridComputeBalanced>(); }};
}

}  // namespace wafersim::placement
