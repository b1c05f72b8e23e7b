#include "models/moe/model_params.h"

#include <functional>

#include "models/moe/model_presets.h"
#include "sim/error.h"

namespace wafersim::moe {
namespace {

constexpr const char* kNotGiven = "-1";

struct IntegerField {
  const char* name;
  const char* help;
  double max;
  std::function<void(MoeModelConfig&, uint64_t)> set;
};

const std::vector<IntegerField>& integerFields() {
  using M = MoeModelConfig;
  static const std::vector<IntegerField> fields = {
      {"layers", "decoder layers", 100'000, [](M& m, uint64_t v) { m.layers = static_cast<uint32_t>(v); }},
      {"hidden_size", "model width (hidden_size)", 1 << 20, [](M& m, uint64_t v) { m.hiddenSize = v; }},
      {"vocab_size", "vocabulary size", 1 << 24, [](M& m, uint64_t v) { m.vocabSize = v; }},
      {"heads", "query heads", 1 << 16, [](M& m, uint64_t v) { m.heads = static_cast<uint32_t>(v); }},
      {"kv_heads", "GQA key/value heads (= heads for MHA)", 1 << 16,
       [](M& m, uint64_t v) { m.kvHeads = static_cast<uint32_t>(v); }},
      {"head_dim", "GQA head dimension", 1 << 16, [](M& m, uint64_t v) { m.headDim = static_cast<uint32_t>(v); }},
      {"q_lora_rank", "MLA query latent rank (0: queries projected directly)", 1 << 20,
       [](M& m, uint64_t v) { m.qLoraRank = static_cast<uint32_t>(v); }},
      {"kv_lora_rank", "MLA key/value latent rank (cached per token)", 1 << 20,
       [](M& m, uint64_t v) { m.kvLoraRank = static_cast<uint32_t>(v); }},
      {"qk_nope_head_dim", "MLA per-head query/key dimension without RoPE", 1 << 16,
       [](M& m, uint64_t v) { m.qkNopeHeadDim = static_cast<uint32_t>(v); }},
      {"qk_rope_head_dim", "MLA RoPE key dimension (shared key cached per token)", 1 << 16,
       [](M& m, uint64_t v) { m.qkRopeHeadDim = static_cast<uint32_t>(v); }},
      {"v_head_dim", "MLA per-head value dimension", 1 << 16,
       [](M& m, uint64_t v) { m.vHeadDim = static_cast<uint32_t>(v); }},
      {"first_k_dense", "leading dense layers (DeepSeek first_k_dense_replace)", 100'000,
       [](M& m, uint64_t v) { m.firstKDense = static_cast<uint32_t>(v); }},
      {"moe_layer_interval", "layer l is MoE iff (l + 1) % interval == 0 (Llama-4 interleave_moe_layer_step)", 100'000,
       [](M& m, uint64_t v) { m.moeLayerInterval = static_cast<uint32_t>(v); }},
      {"dense_intermediate_size", "FFN width of dense layers", 1 << 24,
       [](M& m, uint64_t v) { m.denseIntermediate = v; }},
      {"experts", "routed experts per MoE layer", 1 << 16, [](M& m, uint64_t v) { m.experts = static_cast<uint32_t>(v); }},
      {"top_k", "routed experts per token", 1 << 16, [](M& m, uint64_t v) { m.topK = static_cast<uint32_t>(v); }},
      {"expert_intermediate_size", "FFN width of one routed expert", 1 << 24,
       [](M& m, uint64_t v) { m.expertIntermediate = v; }},
      {"shared_experts", "always-active shared experts per MoE layer", 1 << 10,
       [](M& m, uint64_t v) { m.sharedExperts = static_cast<uint32_t>(v); }},
      {"shared_intermediate_size", "FFN width of one shared expert", 1 << 24,
       [](M& m, uint64_t v) { m.sharedIntermediate = v; }},
      {"n_group", "expert groups for group-limited routing (0: none)", 1 << 16,
       [](M& m, uint64_t v) { m.expertGroups = static_cast<uint32_t>(v); }},
      {"topk_group", "groups a token may route to (with n_group)", 1 << 16,
       [](M& m, uint64_t v) { m.topkGroups = static_cast<uint32_t>(v); }},
      {"sliding_window", "sliding attention window, recorded only (0: none)", 1 << 30,
       [](M& m, uint64_t v) { m.slidingWindow = static_cast<uint32_t>(v); }},
  };
  return fields;
}

bool parseWeightFormat(const std::string& s, WeightFormat& out) {
  for (WeightFormat f : {WeightFormat::Bf16, WeightFormat::Fp16, WeightFormat::Fp8, WeightFormat::Int8, WeightFormat::Mxfp4})
    if (s == toString(f)) {
      out = f;
      return true;
    }
  return false;
}

bool parseDataType(const std::string& s, hw::DataType& out) {
  for (hw::DataType t : {hw::DataType::Fp16, hw::DataType::Bf16, hw::DataType::Fp8, hw::DataType::Int8})
    if (s == hw::toString(t)) {
      out = t;
      return true;
    }
  return false;
}

bool parseBool(const std::string& s, bool& out) {
  if (s == "true") out = true;
  else if (s == "false") out = false;
  else return false;
  return true;
}

}  // namespace

std::vector<ParamSpec> moeModelParams() {
  std::vector<ParamSpec> specs;
  auto text = [&](const char* name, std::string help) {
    specs.push_back(ParamSpec{name, ParamType::Text, std::string(""), std::move(help), std::nullopt, std::nullopt});
  };
  std::string presets;
  for (const auto& n : moeModelPresetNames()) presets += (presets.empty() ? "" : ", ") + n;
  text("preset", "preset to start from (" + presets + "); empty: a custom model described by the other fields");
  text("name", "model name (default: the preset's, or \"custom\")");
  text("source", "where the numbers come from (default: the preset's)");
  for (const auto& f : integerFields())
    specs.push_back(ParamSpec{f.name, ParamType::Integer, std::string(kNotGiven),
                              std::string(f.help) + "; -1: the preset's value (0 with no preset)", -1.0, f.max});
  text("attention", "gqa (also MHA, MQA) or mla; empty: the preset's (gqa with no preset)");
  text("gated_ffn", "true: gate/up/down matrices, false: up/down; empty: the preset's (true with no preset)");
  text("tie_word_embeddings", "true: the LM head shares the embedding table; empty: the preset's (false)");
  text("weight_format", "bf16, fp16, fp8, int8 or mxfp4 for attention, dense FFN, shared experts; empty: the preset's");
  text("expert_weight_format", "bf16, fp16, fp8, int8 or mxfp4 for routed experts; empty: the preset's");
  text("embedding_format", "bf16, fp16, fp8, int8 or mxfp4 for embedding and LM head; empty: the preset's");
  text("kv_cache_type", "fp16, bf16, fp8 or int8 element of the KV cache; empty: the preset's (bf16)");
  return specs;
}

MoeModelConfig moeModelFromParams(const Params& resolved, const std::string& where) {
  auto given = [&](const std::string& key) {
    if (!resolved.has(key)) return false;
    const std::string& v = resolved.text(key);
    return !v.empty() && v != kNotGiven;
  };
  auto bad = [&](const std::string& key, const char* expected) {
    fail(ErrorKind::InvalidConfig, where, ".", key, ": expected ", expected, ", got \"", resolved.text(key), "\"");
  };

  MoeModelConfig m;
  m.name = "custom";
  m.source = "custom (scenario parameters)";
  if (given("preset")) {
    try {
      m = moeModelPreset(resolved.text("preset"));
    } catch (const Error& e) {
      fail(ErrorKind::InvalidConfig, where, ".preset: ", e.what());
    }
  }

  std::string overrides;
  for (const auto& f : integerFields()) {
    if (!given(f.name)) continue;
    int64_t v = 0;
    try {
      v = resolved.integer(f.name);
    } catch (const Error&) {
      bad(f.name, "an integer");
    }
    if (v < 0 || static_cast<double>(v) > f.max)
      fail(ErrorKind::InvalidConfig, where, ".", f.name, ": ", v, " is outside [0, ", static_cast<uint64_t>(f.max), "]");
    f.set(m, static_cast<uint64_t>(v));
    overrides += std::string(overrides.empty() ? "" : ", ") + f.name + "=" + std::to_string(v);
  }
  if (given("attention")) {
    const std::string& a = resolved.text("attention");
    if (a == "gqa") m.attention = AttentionKind::Gqa;
    else if (a == "mla") m.attention = AttentionKind::Mla;
    else bad("attention", "gqa or mla");
  }
  for (const char* key : {"gated_ffn", "tie_word_embeddings"}) {
    if (!given(key)) continue;
    bool b = false;
    if (!parseBool(resolved.text(key), b)) bad(key, "true or false");
    (std::string(key) == "gated_ffn" ? m.gatedFfn : m.tieWordEmbeddings) = b;
  }
  auto format = [&](const char* key, WeightFormat& field) {
    if (given(key) && !parseWeightFormat(resolved.text(key), field)) bad(key, "bf16, fp16, fp8, int8 or mxfp4");
  };
  format("weight_format", m.weightFormat);
  format("expert_weight_format", m.expertWeightFormat);
  format("embedding_format", m.embeddingFormat);
  if (given("kv_cache_type") && !parseDataType(resolved.text("kv_cache_type"), m.kvCacheType))
    bad("kv_cache_type", "fp16, bf16, fp8 or int8");
  if (given("name")) m.name = resolved.text("name");
  if (given("source")) m.source = resolved.text("source");
  else if (given("preset") && !overrides.empty()) m.source += " (overridden: " + overrides + ")";

  try {
    m.validate();
  } catch (const Error& e) {
    fail(ErrorKind::InvalidConfig, where, ": ", e.what());
  }
  return m;
}

}  // namespace wafersim::moe
