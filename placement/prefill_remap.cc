// Remap: prefill-aware expert placement, "Patterns behind Chaos" Algorithm 2 (research/seeds.md
// 3.4). Per MoE layer, experts sorted by the roofline time of the tokens the profile (prefill)
// gives them, heaviest first; each goes whole to the least-loaded usable die that holds fewer than
// ceil(E / D) experts. One copy per expert: no extra memory, only a permutation of EP.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "placement/cost_model.h"
#include "placement/expert_load.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

class PrefillRemap final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    const std::vector<uint32_t> live = p.fabric.usableDies();
    WAFERSIM_REQUIRE(!live.empty(), "placement policy remap: no usable die");
    const uint32_t E = p.model.experts, D = static_cast<uint32_t>(live.size());
    const uint32_t slots = (E + D - 1) / D;
    Decision d;
    d.placement = Placement(p.fabric.dies, p.model.layers, E);
    std::vector<uint32_t> order(E), count(D);
    std::vector<double> cost(E), load(D);
    double worstRatio = 0;  // max over layers of max/mean die time
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      // Cost on the first usable die: the paper's GPUs are equal; on unequal dies the running
      // load below is still kept in each die's own seconds.
      for (uint32_t e = 0; e < E; ++e) cost[e] = expertSeconds(p, live[0], l, e);
      std::iota(order.begin(), order.end(), 0u);
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return cost[a] > cost[b]; });
      std::fill(count.begin(), count.end(), 0);
      std::fill(load.begin(), load.end(), 0.0);
      for (uint32_t e : order) {
        uint32_t best = D;
        for (uint32_t i = 0; i < D; ++i)
          if (count[i] < slots && (best == D || load[i] < load[best])) best = i;
        d.placement.putWhole(l, e, live[best]);
        ++count[best];
        load[best] += expertSeconds(p, live[best], l, e);
      }
      const double sum = std::accumulate(load.begin(), load.end(), 0.0);
      if (sum > 0) worstRatio = std::max(worstRatio, *std::max_element(load.begin(), load.end()) / (sum / D));
    }
    checkCapacity(p, d.placement, "remap");
    predictGain(p, d);
    std::ostringstream reason;
    reason.precision(3);
    reason << "experts sorted by roofline time, heaviest to the least-loaded die with fewer than " << slots
           << " experts; worst layer's max/mean die time " << worstRatio;
    d.reason = reason.str();
    return d;
  }
};

}  // namespace

PolicyType prefillRemapPolicy() {
  return {"remap",
          "prefill-aware Remap: per layer, heaviest expert (roofline of its profiled tokens) to the least-loaded die "
          "with a free slot",
          "Patterns behind Chaos, Algorithm 2 Remap, research/seeds.md 3.4",
          {},
          {},
          [] { return std::make_unique<PrefillRemap>(); }};
}

}  // namespace wafersim::placement
