// Tensor parallelism (HD-MoE's TP baseline, research/seeds.md 2.5): every expert sharded over every
// usable die in equal parts. Perfect compute balance; every token visits every die.
#include "placement/policy.h"

namespace wafersim::placement {
namespace {

class TensorParallel final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    Decision d;
    d.placement = Placement(p.fabric.dies, p.model.layers, p.model.experts);
    const std::vector<uint32_t> live = p.fabric.usableDies();
    for (uint32_t l = 0; l < p.model.layers; ++l)
      for (uint32_t e = 0; e < p.model.experts; ++e) d.placement.putSplit(l, e, live);
    checkCapacity(p, d.placement, "tp");
    d.reason = "every expert split in " + std::to_string(live.size()) + " equal shards over the usable dies";
    predictGain(p, d);
    return d;
  }
};

}  // namespace

PolicyType tensorParallelPolicy() {
  return {"tp", "tensor parallel: every expert split over every die (HD-MoE baseline TP)",
          "HD-MoE, research/seeds.md 2.5", {}, {.profile = false}, [] { return std::make_unique<TensorParallel>(); }};
}

}  // namespace wafersim::placement
