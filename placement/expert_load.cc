#include "placement/expert_load.h"

#include <algorithm>
#include <cmath>

#include "placement/cost_model.h"

namespace wafersim::placement {

double expertTokens(const Problem& p, uint32_t layer, uint32_t expert) {
  const uint64_t tokens = p.profile.layers() > layer ? p.profile.tokens(layer) : 0;
  const double B = stepTokens(p);
  if (tokens == 0) return B * double(p.model.topK) / double(std::max(1u, p.model.experts));
  return B * double(p.profile.load(layer, expert)) / double(tokens);
}

double expertSeconds(const Problem& p, uint32_t die, uint32_t layer, uint32_t expert, double share) {
  const double B = stepTokens(p);
  const double tokens = expertTokens(p, layer, expert) * share;
  const double prob = std::min(1.0, tokens / B);
  const double hit = 1.0 - std::pow(1.0 - prob, B);
  const Fabric& f = p.fabric;
  const double flops = f.expertFlops.empty() ? 0 : f.expertFlops[die];
  const double bandwidth = f.memoryBandwidth.empty() ? 0 : f.memoryBandwidth[die];
  if (flops <= 0 && bandwidth <= 0) return tokens;
  const double compute = flops > 0 ? tokens * p.model.flopsPerToken() / flops : 0;
  const double memory = bandwidth > 0 ? hit * double(p.model.expertBytes) / bandwidth : 0;
  return std::max(compute, memory);
}

int64_t optionInteger(const Problem& p, const std::string& key, int64_t fallback) {
  return p.options.has(key) ? p.options.integer(key) : fallback;
}

double optionReal(const Problem& p, const std::string& key, double fallback) {
  return p.options.has(key) ? p.options.real(key) : fallback;
}

std::string optionText(const Problem& p, const std::string& key, const std::string& fallback) {
  return p.options.has(key) ? p.options.text(key) : fallback;
}

SlotBudget::SlotBudget(const Problem& p, const Placement& base) : layers_(std::max(1u, p.model.layers)) {
  const Fabric& f = p.fabric;
  if (f.expertCapacityBytes.empty() || p.model.expertBytes == 0) return;
  const std::vector<uint64_t> parts = base.partsPerDie();
  spare_.assign(f.dies, 0);
  used_.assign(f.dies, 0);
  for (uint32_t d = 0; d < f.dies; ++d) {
    const uint64_t room = f.expertCapacityBytes[d] / p.model.expertBytes;  // whole experts
    const uint64_t held = (parts[d] + kWhole - 1) / kWhole;
    spare_[d] = room > held ? room - held : 0;
  }
}

bool SlotBudget::available(uint32_t layer, uint32_t die) const {
  if (spare_.empty()) return true;
  const auto allowed = static_cast<uint64_t>((static_cast<unsigned __int128>(spare_[die]) * (layer + 1)) / layers_);
  return used_[die] < allowed;
}

}  // namespace wafersim::placement
