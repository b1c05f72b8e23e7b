// Expert parallelism: whole experts dealt to the usable dies, either in turn (expert e of MoE
// layer l to die (e + l * layer_shift) mod D, the GShard/DeepSpeed-MoE default) or in a seeded
// random order per layer (HD-MoE's EP baseline, research/seeds.md 2.5: round-robin of a random
// permutation, so every die holds ceil or floor of E / D experts).
#include <algorithm>
#include <numeric>

#include "placement/policy.h"
#include "sim/random.h"

namespace wafersim::placement {
namespace {

class ExpertParallel final : public Policy {
 public:
  explicit ExpertParallel(bool random) : random_(random) {}

  Decision decide(const Problem& p) const override {
    Decision d;
    if (!random_) {
      const auto shift = static_cast<uint32_t>(p.options.has("layer_shift") ? p.options.integer("layer_shift") : 0);
      d.placement = expertParallel(p, shift);
      d.reason = "whole experts dealt in turn over the usable dies, shifted by " + std::to_string(shift) + " per layer";
    } else {
      const std::vector<uint32_t> live = p.fabric.usableDies();
      d.placement = Placement(p.fabric.dies, p.model.layers, p.model.experts);
      RandomStream rng(p.seed, /*componentId=*/0x45505244);  // "EPRD"
      std::vector<uint32_t> order(p.model.experts);
      for (uint32_t l = 0; l < p.model.layers; ++l) {
        std::iota(order.begin(), order.end(), 0u);
        for (uint32_t i = p.model.experts; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
        for (uint32_t i = 0; i < p.model.experts; ++i) d.placement.putWhole(l, order[i], live[i % live.size()]);
      }
      d.reason = "whole experts dealt over the usable dies in a seeded random order per layer";
    }
    checkCapacity(p, d.placement, random_ ? "ep_random" : "ep");
    predictGain(p, d);
    return d;
  }

 private:
  bool random_;
};

}  // namespace

PolicyType expertParallelPolicy() {
  return {"ep",
          "expert parallel: whole experts dealt in turn, expert e of MoE layer l on die (e + l * layer_shift) mod D",
          "GShard / DeepSpeed-MoE expert parallelism",
          {{"layer_shift", ParamType::Integer, "0", "dies the dealing shifts per MoE layer", 0, 1e6}},
          {},
          [] { return std::make_unique<ExpertParallel>(false); }};
}

PolicyType expertParallelRandomPolicy() {
  return {"ep_random", "expert parallel in a seeded random order per layer (HD-MoE baseline EP)",
          "HD-MoE, research/seeds.md 2.5", {}, {}, [] { return std::make_unique<ExpertParallel>(true); }};
}

}  // namespace wafersim::placement
