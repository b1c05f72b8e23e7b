#include "models/moe/expert_compute.h"

#include <algorithm>

namespace wafersim::moe {
namespace {

// The cost DieModel::cost gives a GEMM whose operands stream from the engine's DRAM path.
Duration gemmOn(const hw::DieSpec& spec, const hw::Gemm& gemm, uint32_t engine) {
  const hw::EngineSpec& e = spec.engines.at(engine);
  return hw::gemmCost(e.compute, gemm, e.dramBandwidth).time;
}

// The tensor-parallel shard's columns of the expert's intermediate (kWhole parts: all of them).
uint64_t columnsOf(const MoeModelConfig& m, const ExpertWork& w) {
  return (m.expertIntermediate * w.parts + placement::kWhole - 1) / placement::kWhole;
}

// One expert share's GEMMs, forward (gate/up, down) or backward (each GEMM (m, n, k) gives
// dA (m, k, n) and dB (k, n, m); down's first).
void ffnGemms(const MoeModelConfig& m, hw::DataType type, uint64_t tokens, uint64_t columns, bool backward,
              std::vector<hw::Gemm>& out) {
  out.clear();
  if (tokens == 0 || columns == 0) return;
  const uint64_t h = m.hiddenSize, up = (m.gatedFfn ? 2 : 1) * columns;
  if (!backward) {
    out.push_back({tokens, up, h, type});
    out.push_back({tokens, h, columns, type});
    return;
  }
  out.push_back({tokens, columns, h, type});
  out.push_back({columns, h, tokens, type});
  out.push_back({tokens, h, up, type});
  out.push_back({h, up, tokens, type});
}

// Duplex's expert co-processing (seeds.md 4.3, getIdxHighOptimal) with the die's own costs: the
// layer's experts start on the bandwidth engine (the Logic-PIM); the hottest move to the compute
// engine (the xPU) while the later of the two engines' finishing times keeps falling. Returns the
// engine of each of the die's works, in order.
std::vector<uint32_t> coprocessEngines(const MoeModelConfig& m, hw::DataType type, const hw::DieSpec& spec,
                                       const LayerRouting& r, uint32_t die) {
  const auto& engines = spec.engines;
  uint32_t compute = 0;
  for (uint32_t e = 1; e < engines.size(); ++e)
    if (engines[e].compute.peakFp16 > engines[compute].compute.peakFp16) compute = e;
  uint32_t memory = compute == 0 ? 1 : 0;
  for (uint32_t e = 0; e < engines.size(); ++e)
    if (e != compute && engines[e].dramBandwidth > engines[memory].dramBandwidth) memory = e;
  const uint32_t first = r.workBegin[die], n = r.workBegin[die + 1] - first;
  std::vector<uint32_t> engineOf(n, memory), order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return r.work[first + a].tokens > r.work[first + b].tokens; });
  std::vector<hw::Gemm> gemms;
  auto ffnTime = [&](const ExpertWork& w, uint32_t engine) {
    ffnGemms(m, type, w.tokens, columnsOf(m, w), false, gemms);
    Duration t = Duration::zero();
    for (const hw::Gemm& g : gemms) t = t + gemmOn(spec, g, engine);
    return t;
  };
  Duration onCompute = Duration::zero(), onMemory = Duration::zero();
  std::vector<Duration> xpu(n), pim(n);
  for (uint32_t i = 0; i < n; ++i) {
    xpu[i] = ffnTime(r.work[first + i], compute);
    pim[i] = ffnTime(r.work[first + i], memory);
    onMemory = onMemory + pim[i];
  }
  for (uint32_t i : order) {
    const Duration x = onCompute + xpu[i], y = onMemory - pim[i];
    if (std::max(x, y) >= std::max(onCompute, onMemory)) break;
    onCompute = x;
    onMemory = y;
    engineOf[i] = compute;
  }
  return engineOf;
}

}  // namespace

uint32_t engineRule(const hw::DieSpec& spec, const std::string& name) {
  if (name == "auto") return kAutoEngine;
  if (name == "coprocess") return spec.engines.size() >= 2 ? kCoprocessEngine : 0;
  return name.empty() ? 0 : spec.engineIndex(name);
}

uint32_t fastestEngine(const hw::DieSpec& spec, const hw::Gemm& gemm) {
  uint32_t best = 0;
  Duration bestTime = Duration::max();
  for (uint32_t e = 0; e < spec.engines.size(); ++e)
    if (const Duration t = gemmOn(spec, gemm, e); t < bestTime) {
      bestTime = t;
      best = e;
    }
  return best;
}

std::vector<ExpertGemm> expertGemms(const MoeModelConfig& m, hw::DataType type, const hw::DieSpec& spec,
                                    uint32_t rule, const LayerRouting& r, uint32_t die, bool backward) {
  std::vector<ExpertGemm> out;
  const uint32_t first = r.workBegin[die], last = r.workBegin[die + 1];
  const std::vector<uint32_t> coprocessed =
      rule == kCoprocessEngine ? coprocessEngines(m, type, spec, r, die) : std::vector<uint32_t>{};
  std::vector<hw::Gemm> gemms;
  for (uint32_t i = first; i < last; ++i) {
    const ExpertWork& w = r.work[i];
    const uint32_t engine = w.engine != placement::kDefaultEngine ? w.engine
                            : rule == kCoprocessEngine           ? coprocessed[i - first]
                                                                 : rule;
    ffnGemms(m, type, w.tokens, columnsOf(m, w), backward, gemms);
    for (const hw::Gemm& g : gemms) out.push_back({g, engine == kAutoEngine ? fastestEngine(spec, g) : engine});
  }
  return out;
}

Duration expertTime(const hw::DieSpec& spec, const std::vector<ExpertGemm>& gemms) {
  std::vector<Duration> busy(spec.engines.size(), Duration::zero());
  for (const ExpertGemm& g : gemms) busy.at(g.engine) = busy.at(g.engine) + gemmOn(spec, g.gemm, g.engine);
  return busy.empty() ? Duration::zero() : *std::max_element(busy.begin(), busy.end());
}

}  // namespace wafersim::moe
