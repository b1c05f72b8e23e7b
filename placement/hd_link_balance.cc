// HD-MoE LinkBalance (Huang et al., ICCAD 2025, arXiv 2509.09420; research/seeds.md 2.4 step 3):
// with the experts' logical nodes fixed, choose which die each logical node is, so that the
// network's busiest link is least loaded. The paper searches continuous mesh coordinates by Bayesian
// optimisation (70 evaluations, snapped to a permutation by the Hungarian algorithm) scored by its
// DES, and keeps a simulated-annealing variant in its code; we anneal over permutations directly
// (swap two usable dies per proposal, seeded, a fixed number of proposals), scored by the cost
// model's network time: the sum over layers of linkSeconds(logical traffic, map). The traffic is
// the placement's own dispatch + combine matrix with the token sources moving with their logical
// node; when the profile's token sources are not uniform that is an approximation, so the map is
// kept only when the renumbered placement's own (physical) network time is lower.
// One map for all layers, as Placement::nodeMap records one map.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "placement/cost_model.h"
#include "placement/hd_moe.h"
#include "placement/policy.h"
#include "sim/error.h"
#include "sim/random.h"

namespace wafersim::placement {
namespace hd {
namespace {

// Per-layer link loads under a map, updated pair by pair.
class LinkLoads {
 public:
  LinkLoads(const Fabric& f, const std::vector<std::vector<double>>& traffic, const std::vector<uint32_t>& map)
      : f_(f), traffic_(traffic), load_(traffic.size(), std::vector<double>(f.linkBandwidth.size(), 0.0)) {
    const uint32_t D = f.dies;
    for (size_t l = 0; l < traffic.size(); ++l)
      for (uint32_t a = 0; a < D; ++a)
        for (uint32_t b = 0; b < D; ++b) addPair(l, a, b, map, 1.0);
  }
  // Adds (sign +1) or removes (-1) the traffic of every pair with logical endpoint a or b.
  void touch(uint32_t a, uint32_t b, const std::vector<uint32_t>& map, double sign) {
    for (size_t l = 0; l < traffic_.size(); ++l)
      for (uint32_t x = 0; x < f_.dies; ++x) {
        if (x != a) addPair(l, a, x, map, sign), addPair(l, x, a, map, sign);
        if (x != b && x != a) addPair(l, b, x, map, sign), addPair(l, x, b, map, sign);
      }
  }
  double seconds() const {
    double total = 0;
    for (const auto& load : load_) {
      double worst = 0;
      for (size_t k = 0; k < load.size(); ++k)
        if (load[k] > 0) worst = std::max(worst, load[k] / f_.linkBandwidth[k]);
      total += worst;
    }
    return total;
  }

 private:
  void addPair(size_t l, uint32_t a, uint32_t b, const std::vector<uint32_t>& map, double sign) {
    const double bytes = traffic_[l][size_t{a} * f_.dies + b];
    if (bytes == 0 || a == b) return;
    for (uint32_t link : f_.paths[size_t{map[a]} * f_.dies + map[b]]) load_[l][link] += sign * bytes;
  }
  const Fabric& f_;
  const std::vector<std::vector<double>>& traffic_;
  std::vector<std::vector<double>> load_;
};

double networkSeconds(const Problem& p, const Placement& placement) {
  double s = 0;
  for (uint32_t l = 0; l < p.model.layers; ++l) s += linkSeconds(p.fabric, trafficMatrix(p, placement, l));
  return s;
}

}  // namespace

std::vector<ParamSpec> linkBalanceParams() {
  return {{"iterations", ParamType::Integer, "3000", "simulated-annealing proposals (swaps of two dies) of LinkBalance", 0, 1e9}};
}

std::vector<uint32_t> linkBalanceMap(const Fabric& f, const std::vector<std::vector<double>>& traffic, uint64_t seed,
                                     uint64_t iterations) {
  std::vector<uint32_t> map(f.dies);
  std::iota(map.begin(), map.end(), 0u);
  const std::vector<uint32_t> live = f.usableDies();
  if (live.size() < 2 || iterations == 0 || traffic.empty()) return map;
  for (const auto& t : traffic) WAFERSIM_ASSERT(t.size() == size_t{f.dies} * f.dies, t.size(), f.dies);
  LinkLoads loads(f, traffic, map);
  double current = loads.seconds();
  const double start = current;
  if (start <= 0) return map;
  std::vector<uint32_t> best = map;
  double bestScore = current;
  RandomStream rng(seed, /*componentId=*/0x4C4B424C);  // "LKBL"
  // Temperature relative to the starting score, cooled geometrically from 5 % to 0.01 %.
  const double t0 = 0.05, t1 = 1e-4;
  for (uint64_t it = 0; it < iterations; ++it) {
    const uint32_t i = static_cast<uint32_t>(rng.below(live.size()));
    uint32_t j = static_cast<uint32_t>(rng.below(live.size() - 1));
    j += j >= i;
    const uint32_t a = live[i], b = live[j];  // logical nodes (usable dies' indices)
    loads.touch(a, b, map, -1.0);
    std::swap(map[a], map[b]);
    loads.touch(a, b, map, 1.0);
    const double next = loads.seconds();
    const double temperature = start * t0 * std::pow(t1 / t0, double(it) / double(iterations));
    const double u = rng.uniform();
    if (next <= current || u < std::exp(-(next - current) / temperature)) {
      current = next;
      if (current < bestScore) bestScore = current, best = map;
    } else {
      loads.touch(a, b, map, -1.0);
      std::swap(map[a], map[b]);
      loads.touch(a, b, map, 1.0);
    }
  }
  return best;
}

Placement renumber(const Placement& placement, const std::vector<uint32_t>& map) {
  Placement out = placement;
  for (uint32_t l = 0; l < out.layers(); ++l)
    for (uint32_t e = 0; e < out.experts(); ++e)
      for (Replica& r : out.replicas(l, e)) {
        for (Shard& s : r.shards) s.die = map[s.die];
        std::sort(r.shards.begin(), r.shards.end(), [](const Shard& x, const Shard& y) { return x.die < y.die; });
      }
  if (placement.nodeMap.empty()) {
    out.nodeMap = map;
  } else {
    for (uint32_t& die : out.nodeMap) die = map[die];  // compose with the map already recorded
  }
  return out;
}

Placement linkBalance(const Problem& p, const Placement& placement, std::string& summary) {
  std::vector<std::vector<double>> traffic;
  for (uint32_t l = 0; l < p.model.layers; ++l) traffic.push_back(trafficMatrix(p, placement, l));
  const auto iterations = static_cast<uint64_t>(integerOr(p.options, "iterations", 3000));
  const std::vector<uint32_t> map = linkBalanceMap(p.fabric, traffic, p.seed, iterations);
  const double before = networkSeconds(p, placement);
  Placement out = renumber(placement, map);
  const double after = networkSeconds(p, out);
  char text[160];
  if (after < before) {
    std::snprintf(text, sizeof text, "LinkBalance (%llu SA proposals) cut the busiest-link time from %.2f to %.2f us/step",
                  static_cast<unsigned long long>(iterations), before * 1e6, after * 1e6);
    summary = text;
    return out;
  }
  std::snprintf(text, sizeof text, "LinkBalance (%llu SA proposals) kept the identity map (%.2f us/step of busiest links)",
                static_cast<unsigned long long>(iterations), before * 1e6);
  summary = text;
  return placement;
}

}  // namespace hd

namespace {

class LinkBalancePolicy final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    WAFERSIM_REQUIRE(p.current.layers() == p.model.layers && p.current.experts() == p.model.experts &&
                         p.current.dies() == p.fabric.dies,
                     "placement policy hd_link_balance: the placement in force does not match the model and fabric");
    Decision d;
    std::string summary;
    d.placement = hd::linkBalance(p, p.current, summary);
    checkCapacity(p, d.placement, "hd_link_balance");
    d.reason = summary + " over the placement in force";
    predictGain(p, d);
    return d;
  }
};

}  // namespace

PolicyType hdLinkBalancePolicy() {
  return {"hd_link_balance",
          "HD-MoE LinkBalance: renumber the placement in force's dies to unload the busiest link (seeded annealing)",
          "HD-MoE (Huang et al., ICCAD 2025), research/seeds.md 2.4 step 3",
          hd::linkBalanceParams(),
          {},
          [] { return std::make_unique<LinkBalancePolicy>(); }};
}

}  // namespace wafersim::placement
