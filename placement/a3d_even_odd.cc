// A3D-MoE even/odd expert placement (research/seeds.md 1). The paper places experts "even/odd"
// across HBM; its rule is not public, and third parties that re-implemented it as a baseline treat
// it as a deterministic spreading rule [S/I] -- which is what this is: even experts dealt over the
// first half of the usable dies, odd experts over the second half, the halves swapping every MoE
// layer, so neighbouring experts (often co-selected, e.g. under group-limited routing) never share
// a die, and a die holds even experts in one layer and odd ones in the next. With one usable die
// both halves are that die; with an odd count the second half has the extra die.
#include <string>

#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

class A3dEvenOdd final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    const std::vector<uint32_t> live = p.fabric.usableDies();
    WAFERSIM_REQUIRE(!live.empty(), "placement policy a3d_interleave: no usable die");
    const size_t n = live.size(), firstHalf = n == 1 ? 1 : n / 2;
    const std::vector<uint32_t> lower(live.begin(), live.begin() + firstHalf);
    const std::vector<uint32_t> upper = n == 1 ? live : std::vector<uint32_t>(live.begin() + firstHalf, live.end());
    Decision d;
    d.placement = Placement(p.fabric.dies, p.model.layers, p.model.experts);
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      const auto& even = l % 2 == 0 ? lower : upper;
      const auto& odd = l % 2 == 0 ? upper : lower;
      for (uint32_t e = 0; e < p.model.experts; ++e) {
        const auto& half = e % 2 == 0 ? even : odd;
        d.placement.putWhole(l, e, half[(e / 2) % half.size()]);
      }
    }
    checkCapacity(p, d.placement, "a3d_interleave");
    predictGain(p, d);
    d.reason = "even experts over " + std::to_string(lower.size()) + " dies, odd over " + std::to_string(upper.size()) +
               ", halves swapped every layer";
    return d;
  }
};

}  // namespace

PolicyType a3dEvenOddPolicy() {
  return {"a3d_interleave",
          "A3D-MoE even/odd placement as a spreading rule: even experts on one half of the dies, odd on the other, "
          "halves alternating per layer",
          "A3D-MoE even/odd expert placement, research/seeds.md 1 [S/I]",
          {},
          {},
          [] { return std::make_unique<A3dEvenOdd>(); }};
}

}  // namespace wafersim::placement
