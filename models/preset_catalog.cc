#include "models/preset_catalog.h"

#include <algorithm>

#include "models/hardware/systems.h"
#include "models/moe/model_presets.h"

namespace wafersim {
namespace {

nlohmann::json dieJson(const hw::DieSpec& d) {
  nlohmann::json engines = nlohmann::json::array();
  for (const hw::EngineSpec& e : d.engines)
    engines.push_back({{"name", e.name},
                       {"peak_fp16_tflops", static_cast<double>(e.compute.peakFp16.flopsPerSecond) * 1e-12},
                       {"peak_fp8_tflops", static_cast<double>(e.compute.peakFp8.flopsPerSecond) * 1e-12},
                       {"peak_int8_tops", static_cast<double>(e.compute.peakInt8.flopsPerSecond) * 1e-12},
                       {"tile", {e.compute.tile.m, e.compute.tile.n, e.compute.tile.k}},
                       {"sram_bytes", e.compute.sramCapacity.value},
                       {"dram_path", hw::toString(e.path)},
                       {"dram_bandwidth_bytes_per_s", e.dramBandwidth.bytesPerSecond},
                       {"energy_per_flop_fj", e.compute.energyPerFlop.fj}});
  return {{"kind", "die"},
          {"name", d.name},
          {"engines", engines},
          {"dram", {{"name", d.dram.name},
                    {"capacity_bytes", d.dram.capacity.value},
                    {"bandwidth_bytes_per_s", d.dram.bandwidth.bytesPerSecond},
                    {"off_stack_fj_per_bit", d.dram.offStack.fjPerBit},
                    {"logic_die_fj_per_bit", d.dram.logicDie.fjPerBit},
                    {"in_bank_fj_per_bit", d.dram.inBank.fjPerBit},
                    {"row_activation_fj", d.dram.rowActivation.fj}}},
          {"static_power_w", static_cast<double>(d.staticPowerMicrowatts) * 1e-6}};
}

}  // namespace

std::vector<std::string> presetNames() {
  std::vector<std::string> names = moe::moeModelPresetNames();
  for (const auto& n : hw::diePresetNames()) names.push_back(n);
  for (const auto& n : hw::systemNames())
    if (n != "file" && std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  return names;
}

std::optional<nlohmann::json> describePreset(const std::string& name) {
  const auto models = moe::moeModelPresetNames();
  if (std::find(models.begin(), models.end(), name) != models.end()) {
    const moe::MoeModelConfig m = moe::moeModelPreset(name);
    return nlohmann::json{{"kind", "moe model"},
                          {"name", m.name},
                          {"source", m.source},
                          {"layers", m.layers},
                          {"moe_layers", m.moeLayerCount()},
                          {"hidden_size", m.hiddenSize},
                          {"attention", m.attention == moe::AttentionKind::Mla ? "mla" : "gqa"},
                          {"heads", m.heads},
                          {"kv_heads", m.kvHeads},
                          {"experts", m.experts},
                          {"top_k", m.topK},
                          {"shared_experts", m.sharedExperts},
                          {"expert_intermediate_size", m.expertIntermediate},
                          {"total_params", m.totalParams()},
                          {"active_params_per_token", m.activeParamsPerToken()},
                          {"weight_bytes", m.totalWeightBytes()},
                          {"expert_weight_bytes", m.expertWeightBytes()},
                          {"kv_cache_bytes_per_token", m.kvCacheBytesPerToken()}};
  }
  // A name may be both a die and a system preset (mozart, hd-moe-*, dojo-enhanced): both are shown.
  std::optional<nlohmann::json> die, system;
  const auto dies = hw::diePresetNames();
  if (std::find(dies.begin(), dies.end(), name) != dies.end()) die = dieJson(hw::diePreset(name));
  const auto systems = hw::systemNames();
  if (name != "file" && std::find(systems.begin(), systems.end(), name) != systems.end()) {
    Params p;
    for (const ParamSpec& spec : hw::systemParams()) p.set(spec.name, spec.defaultValue.value_or(""));
    p.set("system", name);
    const hw::HardwareSystem s = hw::describeSystem(p);
    system = nlohmann::json{{"kind", "hardware system"},
                          {"name", s.name},
                          {"dies", s.network.endpoints.size()},
                          {"routers", s.network.routerNames.size()},
                          {"links", s.network.links.size()},
                          {"link_bandwidth_bytes_per_s",
                           s.network.links.empty() ? s.network.endpoints.front().bandwidth.bytesPerSecond
                                                   : s.network.links.front().bandwidthAB.bytesPerSecond},
                          {"link_energy_fj_per_bit", s.network.energyPerBit.fjPerBit},
                          {"die", dieJson(s.specs.front())}};
  }
  if (die && system) return nlohmann::json{{"kind", "die and hardware system"}, {"die", *die}, {"system", *system}};
  if (die) return die;
  return system;
}

}  // namespace wafersim
