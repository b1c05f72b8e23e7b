// The routed experts' FFN GEMMs of one die at one MoE layer, as the die runs them: per expert
// share, gate/up then down (forward), or the two gradients of each (backward), each on the engine
// serving.expert_engine and the placement choose. The die (serving_components.cc) runs them as its
// program's ops; the host sums their roofline time on an idle die, the busiest die's per layer
// (summary: serving.expert_time_s, the "MoE expert-GEMM time" of Patterns behind Chaos case B).
// One function for both, so the figure is the work the dies run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/hardware/die.h"
#include "models/moe/model_config.h"
#include "models/moe/serving_plan.h"

namespace wafersim::moe {

// An engine rule: an engine index, or one of these.
inline constexpr uint32_t kAutoEngine = UINT32_MAX;           // per op, the engine where it alone is fastest
inline constexpr uint32_t kCoprocessEngine = UINT32_MAX - 1;  // Duplex expert co-processing, per die and layer

// serving.attention_engine / expert_engine on a die: "" its first engine, an engine's name, "auto",
// "coprocess" (a one-engine die's engine 0). An unknown name throws, listing the die's engines.
uint32_t engineRule(const hw::DieSpec& spec, const std::string& name);

// The engine of `spec` on which this GEMM alone, operands in DRAM, is fastest (the first of equals).
uint32_t fastestEngine(const hw::DieSpec& spec, const hw::Gemm& gemm);

struct ExpertGemm {
  hw::Gemm gemm;
  uint32_t engine = 0;
};

// Die `die`'s expert GEMMs of one layer's routing, in program order, engines resolved (`rule`:
// from engineRule for serving.expert_engine; a placement shard's own engine comes first).
std::vector<ExpertGemm> expertGemms(const MoeModelConfig& m, hw::DataType type, const hw::DieSpec& spec,
                                    uint32_t rule, const LayerRouting& r, uint32_t die, bool backward);

// Their time on an idle die: each engine runs its GEMMs one after another at its roofline, the
// engines at once. Exact for one engine; with several it leaves out their sharing of the DRAM.
Duration expertTime(const hw::DieSpec& spec, const std::vector<ExpertGemm>& gemms);

}  // namespace wafersim::moe
