// HD-MoE (Huang et al., "HD-MoE: Hybrid and Dynamic Parallelism for Mixture-of-Expert LLMs with 3D
// Near-Memory Processing", ICCAD 2025, arXiv 2509.09420; research/seeds.md 2.4): the offline static
// placement, NodeBalance (hd_node_balance.cc) then LinkBalance (hd_link_balance.cc) on its result.
#include "placement/hd_moe.h"
#include "placement/policy.h"

namespace wafersim::placement {
namespace {

class HdMoe final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    hd::NodeBalanceResult r = hd::nodeBalance(p);
    Decision d;
    std::string summary;
    d.placement = hd::linkBalance(p, r.placement, summary);
    d.optimalityGap = r.worstGap;
    checkCapacity(p, d.placement, "hd");
    d.reason = "NodeBalance MILP per layer (GLPK, " + std::to_string(r.splitExperts) +
               " expert-layers split, worst MIP gap " + std::to_string(r.worstGap) + "), then " + summary;
    predictGain(p, d);
    return d;
  }
};

}  // namespace

PolicyType hdPolicy() {
  std::vector<ParamSpec> params = hd::nodeBalanceParams();
  for (ParamSpec& s : hd::linkBalanceParams()) params.push_back(std::move(s));
  return {"hd",
          "HD-MoE static placement: NodeBalance MILP (hot experts split, cold ones packed) then LinkBalance die map",
          "HD-MoE (Huang et al., ICCAD 2025), research/seeds.md 2.4 steps 2-3",
          std::move(params),
          {.pairs = true},
          [] { return std::make_unique<HdMoe>(); }};
}

}  // namespace wafersim::placement
