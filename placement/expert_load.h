// What the serving-time placement policies (prefill_remap, prefill_dup, wafer_allo_pred, eplb,
// mozart_clustering, duplex_coprocessing, a3d_even_odd) share: an expert's expected tokens per
// step and their roofline time on a die, the same estimate the cost model makes (cost_model.h),
// typed reads of a policy's options with a fallback (a Problem built by hand in a test carries no
// resolved options), and the memory left for extra replicas.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "placement/problem.h"

namespace wafersim::placement {

// Expected tokens of one step (stepTokens) that choose `expert` at `layer`; uniform routing when
// the profile recorded nothing at that layer.
double expertTokens(const Problem& problem, uint32_t layer, uint32_t expert);

// Roofline seconds of one copy of `expert` on `die` receiving `share` of the expert's tokens:
// max(FLOPs / expertFlops, weight bytes read / memoryBandwidth), the weights read when the copy
// receives a token in the step (probability 1 - (1 - share * p)^B, as in the cost model). A die
// with neither rate known costs its tokens (so orderings still follow the load).
double expertSeconds(const Problem& problem, uint32_t die, uint32_t layer, uint32_t expert, double share = 1.0);

// Problem::options reads; a key that is absent gives `fallback` (resolved options always have it).
int64_t optionInteger(const Problem& problem, const std::string& key, int64_t fallback);
double optionReal(const Problem& problem, const std::string& key, double fallback);
std::string optionText(const Problem& problem, const std::string& key, const std::string& fallback);

// Memory for whole expert copies beyond a base placement, spread evenly over the layers: by the
// end of layer l, die d may have added floor(spare_d * (l + 1) / L) copies, where spare_d is the
// number of whole experts its expertCapacityBytes holds beyond what `base` puts on it. Unlimited
// when the fabric gives no capacity. Layers must take in ascending order for the spreading to hold.
class SlotBudget {
 public:
  SlotBudget(const Problem& problem, const Placement& base);
  bool available(uint32_t layer, uint32_t die) const;
  void take(uint32_t die) { ++used_[die]; }
  bool unlimited() const { return spare_.empty(); }

 private:
  uint32_t layers_ = 1;
  std::vector<uint64_t> spare_, used_;
};

}  // namespace wafersim::placement
