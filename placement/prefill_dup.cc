// Dup: prefill-aware expert duplication, "Patterns behind Chaos" Algorithm 2 Dup (research/seeds.md
// 3.4). Per MoE layer, start from the contiguous layout (experts [i*E/D, (i+1)*E/D) on usable die
// i); then up to R * D times add the copy -- an (expert, die) pair, the die not holding the expert
// and with one of its R extra slots free -- that most lowers the busiest die's time, the tokens of
// a replicated expert split evenly over its copies (Split::Even), a die's time being the roofline
// of each copy's share (expertSeconds). Ties, including copies that leave the maximum where it is
// (another die is as busy), go to the copy that most lowers the sum of squared die times, then to
// the lower expert and die; the layer stops early when no copy lowers either. The paper's set-up
// uses R = 1. Extra copies are also bounded by the dies' memory (SlotBudget).
#include <algorithm>
#include <sstream>

#include "placement/expert_load.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

class PrefillDup final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    const std::vector<uint32_t> live = p.fabric.usableDies();
    WAFERSIM_REQUIRE(!live.empty(), "placement policy dup: no usable die");
    const uint32_t E = p.model.experts, D = static_cast<uint32_t>(live.size());
    const auto R = static_cast<uint32_t>(optionInteger(p, "extra_slots", 1));
    Decision d;
    d.placement = Placement(p.fabric.dies, p.model.layers, E);
    // Contiguous layout: usable die i holds experts [i*E/D, (i+1)*E/D).
    std::vector<uint32_t> home(E);
    for (uint32_t i = 0; i < D; ++i)
      for (uint64_t e = uint64_t{i} * E / D; e < uint64_t{i + 1} * E / D; ++e) home[e] = i;
    for (uint32_t l = 0; l < p.model.layers; ++l)
      for (uint32_t e = 0; e < E; ++e) d.placement.putWhole(l, e, live[home[e]]);
    SlotBudget budget(p, d.placement);

    // Equal dies (the paper's GPUs): one cost per (expert, copies) instead of one per die.
    bool equal = true;
    for (uint32_t i : live)
      equal = equal && (p.fabric.expertFlops.empty() || p.fabric.expertFlops[i] == p.fabric.expertFlops[live[0]]) &&
              (p.fabric.memoryBandwidth.empty() || p.fabric.memoryBandwidth[i] == p.fabric.memoryBandwidth[live[0]]);
    auto copyCost = [&](uint32_t l, uint32_t e, uint32_t i, size_t copies) {
      return expertSeconds(p, live[equal ? 0 : i], l, e, 1.0 / double(copies));
    };

    uint64_t added = 0;
    double before = 0, after = 0;                   // sums over layers of the busiest die's time
    std::vector<std::vector<uint32_t>> holders(E);  // usable-die indices
    std::vector<uint32_t> count(D), byLoad(D);
    std::vector<double> load(D), holderLoad;
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      std::fill(count.begin(), count.end(), 0);
      std::fill(load.begin(), load.end(), 0.0);
      for (uint32_t e = 0; e < E; ++e) {
        holders[e] = {home[e]};
        ++count[home[e]];
        load[home[e]] += copyCost(l, e, home[e], 1);
      }
      std::vector<uint32_t> slots(count);
      for (uint32_t& s : slots) s += R;
      before += *std::max_element(load.begin(), load.end());
      for (uint64_t step = 0; step < uint64_t{R} * D; ++step) {
        double curMax = 0, curSq = 0;
        for (double x : load) curMax = std::max(curMax, x), curSq += x * x;
        for (uint32_t i = 0; i < D; ++i) byLoad[i] = i;
        std::stable_sort(byLoad.begin(), byLoad.end(), [&](uint32_t a, uint32_t b) { return load[a] > load[b]; });
        double bestMax = 0, bestSq = 0;
        uint32_t bestE = E, bestT = D;
        for (uint32_t e = 0; e < E; ++e) {
          const auto& h = holders[e];
          const size_t c = h.size();
          // The holders' times with one more copy (independent of where it goes).
          double holderMax = 0, holderSq = 0;
          holderLoad.resize(c);
          for (size_t j = 0; j < c; ++j) {
            holderLoad[j] = load[h[j]] - copyCost(l, e, h[j], c) + copyCost(l, e, h[j], c + 1);
            holderMax = std::max(holderMax, holderLoad[j]);
            holderSq += holderLoad[j] * holderLoad[j] - load[h[j]] * load[h[j]];
          }
          const double equalCost = equal ? copyCost(l, e, 0, c + 1) : 0;
          for (uint32_t t = 0; t < D; ++t) {
            if (count[t] >= slots[t] || std::find(h.begin(), h.end(), t) != h.end() || !budget.available(l, live[t]))
              continue;
            const double target = load[t] + (equal ? equalCost : copyCost(l, e, t, c + 1));
            double rest = 0;  // the busiest die the copy leaves alone
            for (uint32_t i : byLoad)
              if (i != t && std::find(h.begin(), h.end(), i) == h.end()) {
                rest = load[i];
                break;
              }
            const double newMax = std::max({rest, holderMax, target});
            const double newSq = curSq + holderSq + target * target - load[t] * load[t];
            if (bestE == E || newMax < bestMax || (newMax == bestMax && newSq < bestSq)) {
              bestMax = newMax, bestSq = newSq, bestE = e, bestT = t;
            }
          }
        }
        if (bestE == E || bestMax > curMax || (bestMax == curMax && bestSq >= curSq)) break;
        const auto& h = holders[bestE];
        const size_t c = h.size();
        for (uint32_t i : h) load[i] += copyCost(l, bestE, i, c + 1) - copyCost(l, bestE, i, c);
        load[bestT] += copyCost(l, bestE, bestT, c + 1);
        holders[bestE].push_back(bestT);
        ++count[bestT];
        budget.take(live[bestT]);
        d.placement.replicas(l, bestE).push_back(Replica{{Shard{live[bestT], kWhole}}});
        ++added;
      }
      after += *std::max_element(load.begin(), load.end());
    }
    d.placement.split = Split::Even;
    checkCapacity(p, d.placement, "dup");
    predictGain(p, d);
    std::ostringstream reason;
    reason.precision(3);
    reason << added << " copies added to the contiguous layout (" << R << " extra slot(s) per die and layer"
           << (budget.unlimited() ? "" : ", within memory") << "); busiest die's time summed over layers " << before
           << " s -> " << after << " s";
    d.reason = reason.str();
    return d;
  }
};

}  // namespace

PolicyType prefillDupPolicy() {
  return {
      "dup",
      "prefill-aware Dup: contiguous layout plus R extra copies per die, each the copy that most lowers the "
      "busiest die's time; tokens split evenly",
      "Patterns behind Chaos, Algorithm 2 Dup, research/seeds.md 3.4",
      {{"extra_slots", ParamType::Integer, "1", "extra expert copies per die and MoE layer (the paper's R)", 0, 1e6}},
      {},
      [] { return std::make_unique<PrefillDup>(); }};
}

}  // namespace wafersim::placement
