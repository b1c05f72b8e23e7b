#include "placement/policy.h"

#include "placement/cost_model.h"
#include "sim/error.h"

namespace wafersim::placement {

// One function per policy file, in the order `wafersim describe` lists them.
PolicyType tensorParallelPolicy();
PolicyType expertParallelPolicy();
PolicyType expertParallelRandomPolicy();
PolicyType expertParallelContiguousPolicy();
PolicyType prefillRemapPolicy();
PolicyType prefillDupPolicy();
PolicyType waferAlloPredPolicy();
PolicyType waferAlloPolicy();
PolicyType waferPredPolicy();
PolicyType mozartClusteringPolicy();
PolicyType duplexCoprocessingPolicy();
PolicyType eplbPolicy();
PolicyType a3dEvenOddPolicy();
PolicyType hybridComputeBalancedPolicy();
PolicyType hdNodeBalancePolicy();
PolicyType hdLinkBalancePolicy();
PolicyType hdPolicy();
PolicyType hdDynamicPolicy();

const std::vector<PolicyType>& policyTypes() {
  static const std::vector<PolicyType> types = [] {
    std::vector<PolicyType> t;
    for (auto make : {tensorParallelPolicy, expertParallelPolicy, expertParallelRandomPolicy, expertParallelContiguousPolicy,
                       prefillRemapPolicy, prefillDupPolicy, waferAlloPredPolicy, waferAlloPolicy, waferPredPolicy,
                       mozartClusteringPolicy, duplexCoprocessingPolicy, eplbPolicy, a3dEvenOddPolicy,
                       hybridComputeBalancedPolicy, hdNodeBalancePolicy, hdLinkBalancePolicy, hdPolicy, hdDynamicPolicy})
      t.push_back(make());
    return t;
  }();
  return types;
}

const PolicyType& policyType(const std::string& name, const std::string& field) {
  std::string known;
  for (const PolicyType& t : policyTypes()) {
    if (t.name == name) return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  fail(ErrorKind::InvalidConfig, field, ": unknown placement policy \"", name, "\" (", known, ")");
}

Placement expertParallel(const Problem& p, uint32_t layerShift) {
  const std::vector<uint32_t> live = p.fabric.usableDies();
  WAFERSIM_REQUIRE(!live.empty(), "placement: no usable die");
  Placement out(p.fabric.dies, p.model.layers, p.model.experts);
  for (uint32_t l = 0; l < p.model.layers; ++l)
    for (uint32_t e = 0; e < p.model.experts; ++e)
      out.putWhole(l, e, live[(e + uint64_t{l} * layerShift) % live.size()]);
  return out;
}

void predictGain(const Problem& p, Decision& d) {
  if (p.current.layers() != p.model.layers || p.current.dies() != p.fabric.dies) return;  // nothing to compare
  const double before = estimateCost(p, p.current).seconds;
  const double after = estimateCost(p, d.placement).seconds;
  d.predictedGain = before > 0 ? (before - after) / before : 0;
}

void checkCapacity(const Problem& p, const Placement& placement, const std::string& policy) {
  if (p.fabric.expertCapacityBytes.empty()) return;
  const std::vector<uint64_t> parts = placement.partsPerDie();
  for (uint32_t d = 0; d < p.fabric.dies; ++d) {
    // bytes = parts / kWhole experts, rounded up
    const unsigned __int128 bytes = (static_cast<unsigned __int128>(parts[d]) * p.model.expertBytes + kWhole - 1) / kWhole;
    WAFERSIM_REQUIRE(bytes <= p.fabric.expertCapacityBytes[d], "placement policy ", policy, ": the model does not fit die ",
                     d, ": it would hold ", static_cast<uint64_t>(bytes), " B of routed experts with room for ",
                     p.fabric.expertCapacityBytes[d], " B beside the other weights (more dies, a larger memory, or "
                     "fewer layers)");
  }
}

}  // namespace wafersim::placement
