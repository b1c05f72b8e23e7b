// A MoE model from scenario parameters (STYLE.md P7): start from a preset and override fields, or
// describe a whole custom model.
//
//   model: {preset: deepseek-v3, layers: 4}          DeepSeek-V3 cut to 4 layers (3 dense + 1 MoE)
//   model: {layers: 2, hidden_size: 1024, ...}       a custom model (no preset)
//
// Every field of MoeModelConfig has a parameter of the same snake_case name as in validate()'s
// messages. Integer parameters default to -1 and text parameters to "": "not given", so the
// preset's value stays; with no preset, a field not given keeps MoeModelConfig's default (0 for
// sizes, gqa, gated, bf16, moe_layer_interval 1), and validate() names the required ones missing.
#pragma once

#include <string>
#include <vector>

#include "models/moe/model_config.h"
#include "sim/params.h"

namespace wafersim::moe {

std::vector<ParamSpec> moeModelParams();

// Builds and validates the model from parameters resolved against moeModelParams() (keys that are
// absent count as not given). Errors are Error{InvalidConfig} naming `where` and the parameter
// ("model.attention: expected gqa or mla, got \"x\"", "model: MoE model \"custom\": top_k (9) exceeds
// experts (8)").
MoeModelConfig moeModelFromParams(const Params& resolved, const std::string& where = "model");

}  // namespace wafersim::moe
