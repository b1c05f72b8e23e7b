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
  enum class Order { InTurn, Random, Contiguous };
  explicit ExpertParallel(Order order) : order_(order) {}

  Decision decide(const Problem& p) const override {
    Decision d;
    const char* name = order_ == Order::InTurn ? "ep" : order_ == Order::Random ? "ep_random" : "ep_contiguous";
    if (order_ == Order::Contiguous) {
      const std::vector<uint32_t> live = p.fabric.usableDies();
      d.placement = Placement(p.fabric.dies, p.model.layers, p.model.experts);
      for (uint32_t l = 0; l < p.model.layers; ++l)
        for (uint32_t e = 0; e < p.model.experts; ++e)
          d.placement.putWhole(l, e, live[uint64_t{e} * live.size() / p.model.experts]);
      d.reason = "whole experts in contiguous blocks: experts [i E/D, (i+1) E/D) on the i-th usable die";
    } else if (order_ == Order::InTurn) {
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
    checkCapacity(p, d.placement, name);
    predictGain(p, d);
    return d;
  }

 private:
  Order order_;
};

}  // namespace

PolicyType expertParallelPolicy() {
  return {"ep",
          "expert parallel: whole experts dealt in turn, expert e of MoE layer l on die (e + l * layer_shift) mod D",
          "GShard / DeepSpeed-MoE expert parallelism",
          {{"layer_shift", ParamType::Integer, "0", "dies the dealing shifts per MoE layer", 0, 1e6}},
          {.profile = false},
          [] { return std::make_unique<ExpertParallel>(ExpertParallel::Order::InTurn); }};
}

PolicyType expertParallelRandomPolicy() {
  return {"ep_random", "expert parallel in a seeded random order per layer (HD-MoE baseline EP)",
          "HD-MoE, research/seeds.md 2.5", {}, {.profile = false},
          [] { return std::make_unique<ExpertParallel>(ExpertParallel::Order::Random); }};
}

PolicyType expertParallelContiguousPolicy() {
  return {"ep_contiguous", "expert parallel in contiguous blocks (experts 0..E/D-1 on the first die, ...)",
          "SGLang / DeepEP default layout (Patterns behind Chaos 3.4 'Default')", {}, {.profile = false},
          [] { return std::make_unique<ExpertParallel>(ExpertParallel::Order::Contiguous); }};
}

}  // namespace wafersim::placement
