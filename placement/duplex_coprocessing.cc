// Duplex expert co-processing (research/seeds.md 4.3; LLMSimulator's getIdxHighOptimal): per die
// and MoE layer, the die's whole experts start on the Logic-PIM engine; taken hottest first (most
// tokens; ties: lower expert), the next expert moves to the xPU while that lowers
// max(T_xPU, T_LogicPIM), stopping at the first move that does not. Times are in the simulator's
// units (one expert's weight read at the xPU's bandwidth):
//   xPU:       max(1, n / opb_x),            opb_x = xpu_opb, else expertFlops / (0.75 * memoryBandwidth)
//   Logic-PIM: max(1, n / (pim_opb * 0.75)) / pim_bandwidth_ratio   (Op/B 8, 4x bandwidth by default)
// with n the expert's tokens per step (shared evenly among its replicas). The result is the
// placement in force (Problem::current; EP when it has another shape) with each such shard's
// engine set: `xpu_engine` for the moved experts, `pim_engine` for the rest; shards of experts
// split over several dies keep their engine. Whole experts do not move between dies. The
// simulator's variant for more than 4 local experts (the greedy on 4 groups of experts) is not
// reproduced: its grouping is not given in the brief. The cost model does not see engines, so the
// predicted gain is the cost model's (about 0); the reason gives the greedy's own figure.
#include <algorithm>
#include <sstream>

#include "placement/expert_load.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

class DuplexCoprocessing final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    const Fabric& f = p.fabric;
    const auto xpuEngine = static_cast<uint32_t>(optionInteger(p, "xpu_engine", 0));
    const auto pimEngine = static_cast<uint32_t>(optionInteger(p, "pim_engine", 1));
    const double xpuOpb = optionReal(p, "xpu_opb", 0);
    const double pimOpb = optionReal(p, "pim_opb", 8);
    const double pimRatio = optionReal(p, "pim_bandwidth_ratio", 4);
    const bool sameShape =
        p.current.layers() == p.model.layers && p.current.experts() == p.model.experts && p.current.dies() == f.dies;
    Decision d;
    d.placement = sameShape ? p.current : expertParallel(p);

    struct Item {
      uint32_t expert;
      Shard* shard;
      double tokens;
    };
    std::vector<std::vector<Item>> perDie(f.dies);
    uint64_t moved = 0, considered = 0;
    double allPim = 0, chosen = 0;  // sums over dies and layers of max(T_xPU, T_PIM)
    uint64_t terms = 0;
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      for (auto& items : perDie) items.clear();
      for (uint32_t e = 0; e < p.model.experts; ++e) {
        auto& copies = d.placement.replicas(l, e);
        for (Replica& r : copies)
          if (r.shards.size() == 1 && r.shards[0].parts == kWhole)
            perDie[r.shards[0].die].push_back({e, &r.shards[0], expertTokens(p, l, e) / double(copies.size())});
      }
      for (uint32_t die = 0; die < f.dies; ++die) {
        auto& items = perDie[die];
        if (items.empty()) continue;
        double opb = xpuOpb;
        if (opb <= 0) {
          const double flops = f.expertFlops.empty() ? 0 : f.expertFlops[die];
          const double bw = f.memoryBandwidth.empty() ? 0 : f.memoryBandwidth[die];
          WAFERSIM_REQUIRE(flops > 0 && bw > 0, "placement policy duplex_coprocess: die ", die,
                           " has no expert FLOP/s or memory bandwidth; set xpu_opb");
          opb = flops / (0.75 * bw);
        }
        auto xpu = [&](double n) { return std::max(1.0, n / opb); };
        auto pim = [&](double n) { return std::max(1.0, n / (pimOpb * 0.75)) / pimRatio; };
        std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
          return a.tokens > b.tokens || (a.tokens == b.tokens && a.expert < b.expert);
        });
        double tx = 0, tp = 0;
        for (const Item& it : items) tp += pim(it.tokens);
        allPim += tp;
        size_t k = 0;
        for (; k < items.size(); ++k) {
          const double nx = tx + xpu(items[k].tokens), np = tp - pim(items[k].tokens);
          if (!(std::max(nx, np) < std::max(tx, tp))) break;
          tx = nx, tp = np;
        }
        chosen += std::max(tx, tp);
        ++terms;
        for (size_t i = 0; i < items.size(); ++i) items[i].shard->engine = i < k ? xpuEngine : pimEngine;
        moved += k;
        considered += items.size();
      }
    }
    checkCapacity(p, d.placement, "duplex_coprocess");
    predictGain(p, d);
    std::ostringstream reason;
    reason.precision(3);
    reason << moved << " of " << considered << " die-local experts on the xPU (engine " << xpuEngine
           << "), the rest on Logic-PIM (engine " << pimEngine << "); mean max(T_xPU, T_PIM) "
           << (terms ? allPim / double(terms) : 0) << " -> " << (terms ? chosen / double(terms) : 0)
           << " expert weight reads";
    d.reason = reason.str();
    return d;
  }
};

}  // namespace

PolicyType duplexCoprocessingPolicy() {
  return {
      "duplex_coprocess",
      "Duplex expert co-processing: per die, the hottest experts on the xPU while max(T_xPU, T_LogicPIM) falls, "
      "the rest on Logic-PIM",
      "Duplex, expert co-processing (getIdxHighOptimal), research/seeds.md 4.3",
      {{"xpu_engine", ParamType::Integer, "0", "engine index of the xPU on a die", 0, 1e6},
       {"pim_engine", ParamType::Integer, "1", "engine index of the Logic-PIM on a die", 0, 1e6},
       {"xpu_opb", ParamType::Real, "0", "xPU Op/B ridge point (0: expertFlops / (0.75 * memoryBandwidth))", 0, 1e9},
       {"pim_opb", ParamType::Real, "8", "Logic-PIM's Op/B (compute provisioned per byte)", 1e-9, 1e9},
       {"pim_bandwidth_ratio", ParamType::Real, "4", "Logic-PIM bandwidth over the xPU's", 1e-9, 1e9}},
      {},
      [] { return std::make_unique<DuplexCoprocessing>(); }};
}

}  // namespace wafersim::placement
