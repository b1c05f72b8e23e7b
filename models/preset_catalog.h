// What `wafersim describe PRESET` prints: the values behind a named preset (an MoE model, a die,
// a hardware system), with the derived figures a user checks first (parameters, bytes, KV cache
// per token; peak rates and bandwidths; die and link counts).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace wafersim {

std::vector<std::string> presetNames();  // every MoE model, die and system preset
std::optional<nlohmann::json> describePreset(const std::string& name);

}  // namespace wafersim
