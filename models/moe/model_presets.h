// MoE model presets from the models' public configuration files (config.json on Hugging Face, or
// the authors' code where there is none), each citing its source in model_presets.cc and in
// MoeModelConfig::source. Values a source did not give are marked NOT FOUND there.
//
//  name               source
//  mixtral-8x7b       mistralai/Mixtral-8x7B-v0.1 config.json
//  mixtral-8x22b      mistral-community/Mixtral-8x22B-v0.1 config.json (= mistralai params.json)
//  deepseek-v2-lite   deepseek-ai/DeepSeek-V2-Lite config.json (= DeepSeek-V3 inference/configs/config_16B.json)
//  deepseek-moe-16b   deepseek-ai/deepseek-moe-16b-base config.json
//  deepseek-v3        deepseek-ai/DeepSeek-V3 config.json
//  qwen2-57b-a14b     Qwen/Qwen2-57B-A14B config.json
//  qwen3-30b-a3b      Qwen/Qwen3-30B-A3B config.json
//  qwen3-235b-a22b    Qwen/Qwen3-235B-A22B config.json
//  kimi-k2            moonshotai/Kimi-K2-Instruct config.json
//  llama-4-maverick   meta-llama/Llama-4-Maverick-17B-128E config.json (text_config; vision tower not modelled)
//  olmoe-1b-7b        allenai/OLMoE-1B-7B-0924 config.json
//  gpt-oss-120b       openai/gpt-oss-120b config.json / original/config.json
//  grok-1             xai-org/grok-1 run.py + model.py (the checkpoint has no config.json)
#pragma once

#include <string>
#include <vector>

#include "models/moe/model_config.h"

namespace wafersim::moe {

// The preset called `name` (case-insensitive); an unknown name throws Error{InvalidConfig} listing
// the known names.
MoeModelConfig moeModelPreset(const std::string& name);

std::vector<std::string> moeModelPresetNames();  // in the order of the table above

}  // namespace wafersim::moe
