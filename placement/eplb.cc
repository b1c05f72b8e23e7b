// EPLB (DeepSeek's expert-parallel load balancer, github deepseek-ai/EPLB; research/seeds.md 7),
// its global policy: per MoE layer, `redundant` extra replicas go one at a time to the expert with
// the most tokens per replica (replicate_experts), then all E + redundant replicas are packed onto
// the usable dies, heaviest replica first to the die with the fewest tokens that has a free slot
// (ceil((E + redundant) / D) per die) and holds no copy of that expert yet (balanced_packing; an
// expert has at most one replica per die). Tokens go to the least-loaded replica at run time
// (Split::LeastLoaded). Loads are the profile's tokens: the moving-average smoothing EPLB applies
// across steps is the online driver's (LoadProfile::decay), not this policy's. The hierarchical
// variant (groups -> nodes -> GPUs) is not modelled.
#include <algorithm>
#include <numeric>
#include <sstream>

#include "placement/expert_load.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

class Eplb final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    const std::vector<uint32_t> live = p.fabric.usableDies();
    WAFERSIM_REQUIRE(!live.empty(), "placement policy eplb: no usable die");
    const uint32_t E = p.model.experts, D = static_cast<uint32_t>(live.size());
    const int64_t asked = optionInteger(p, "redundant", -1);
    auto R = static_cast<uint32_t>(std::min<int64_t>(asked < 0 ? D : asked, int64_t{E} * (D - 1)));
    // Memory: every die takes ceil((E + R) / D) experts in every layer; fewer redundant replicas
    // when the smallest die cannot hold that many in all layers.
    bool clipped = false;
    if (!p.fabric.expertCapacityBytes.empty() && p.model.expertBytes > 0 && p.model.layers > 0) {
      uint64_t room = UINT64_MAX;
      for (uint32_t i : live)
        room = std::min(room, p.fabric.expertCapacityBytes[i] / p.model.expertBytes / p.model.layers);
      const uint64_t fit = room * D > E ? room * D - E : 0;
      if (fit < R) R = static_cast<uint32_t>(fit), clipped = true;
    }
    const uint32_t slots = (E + R + D - 1) / D;
    Decision d;
    d.placement = Placement(p.fabric.dies, p.model.layers, E);
    d.placement.split = Split::LeastLoaded;
    std::vector<double> tokens(E), load(D);
    std::vector<uint32_t> copies(E), count(D);
    struct Item {
      uint32_t expert;
      double load;
    };
    std::vector<Item> items;
    double ratio = 0;  // mean over layers of the busiest die's tokens over the mean
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      for (uint32_t e = 0; e < E; ++e) tokens[e] = expertTokens(p, l, e);
      std::fill(copies.begin(), copies.end(), 1);
      for (uint32_t r = 0; r < R; ++r) {
        uint32_t best = E;
        for (uint32_t e = 0; e < E; ++e)
          if (copies[e] < D && (best == E || tokens[e] / copies[e] > tokens[best] / copies[best])) best = e;
        ++copies[best];
      }
      items.clear();
      for (uint32_t e = 0; e < E; ++e)
        for (uint32_t c = 0; c < copies[e]; ++c) items.push_back({e, tokens[e] / copies[e]});
      std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.load > b.load; });
      std::fill(load.begin(), load.end(), 0.0);
      std::fill(count.begin(), count.end(), 0);
      for (uint32_t e = 0; e < E; ++e) d.placement.replicas(l, e).clear();
      for (const Item& it : items) {
        auto& reps = d.placement.replicas(l, it.expert);
        auto holds = [&](uint32_t i) {
          for (const Replica& r : reps)
            if (r.shards[0].die == live[i]) return true;
          return false;
        };
        uint32_t best = D;
        for (uint32_t i = 0; i < D; ++i)
          if (count[i] < slots && !holds(i) && (best == D || load[i] < load[best])) best = i;
        if (best == D)  // every die with a free slot holds this expert already: one over the slots
          for (uint32_t i = 0; i < D; ++i)
            if (!holds(i) && (best == D || load[i] < load[best])) best = i;
        WAFERSIM_ASSERT(best != D, l, it.expert);  // copies <= D
        reps.push_back(Replica{{Shard{live[best], kWhole}}});
        load[best] += it.load;
        ++count[best];
      }
      const double sum = std::accumulate(load.begin(), load.end(), 0.0);
      ratio += sum > 0 ? *std::max_element(load.begin(), load.end()) / (sum / D) : 1.0;
    }
    if (p.model.layers > 0) ratio /= p.model.layers;
    checkCapacity(p, d.placement, "eplb");
    predictGain(p, d);
    std::ostringstream reason;
    reason.precision(3);
    reason << R << " redundant replicas per layer" << (clipped ? " (fewer than asked: memory)" : "")
           << " for the heaviest experts, " << slots << " slots per die; busiest die's tokens over the mean " << ratio
           << " (mean over layers)";
    d.reason = reason.str();
    return d;
  }
};

}  // namespace

PolicyType eplbPolicy() {
  return {
      "eplb",
      "DeepSeek EPLB (global): redundant replicas for the heaviest experts, replicas packed onto dies by load; "
      "tokens to the least-loaded replica",
      "DeepSeek EPLB, research/seeds.md 7",
      {{"redundant", ParamType::Integer, "-1", "redundant replicas per MoE layer (-1: one per usable die)", -1, 1e9}},
      {},
      [] { return std::make_unique<Eplb>(); }};
}

}  // namespace wafersim::placement
