#include "models/moe/model_config.h"

#include "sim/error.h"

namespace wafersim::moe {

const char* toString(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::Gqa: return "gqa";
    case AttentionKind::Mla: return "mla";
  }
  return "?";
}

const char* toString(WeightFormat format) {
  switch (format) {
    case WeightFormat::Bf16: return "bf16";
    case WeightFormat::Fp16: return "fp16";
    case WeightFormat::Fp8: return "fp8";
    case WeightFormat::Int8: return "int8";
    case WeightFormat::Mxfp4: return "mxfp4";
  }
  return "?";
}

uint64_t weightBytes(WeightFormat format, uint64_t parameters) {
  switch (format) {
    case WeightFormat::Bf16:
    case WeightFormat::Fp16: return 2 * parameters;
    case WeightFormat::Fp8:
    case WeightFormat::Int8: return parameters;
    // OCP MX: blocks of 32 E2M1 elements (16 bytes) sharing one E8M0 scale (1 byte).
    case WeightFormat::Mxfp4: return (parameters + 31) / 32 * 17;
  }
  return 0;
}

void MoeModelConfig::validate() const {
  auto where = [this] { return "MoE model \"" + name + "\": "; };
  auto positive = [&](uint64_t v, const char* field) {
    WAFERSIM_REQUIRE(v > 0, where(), field, " must be at least 1");
  };
  positive(layers, "layers");
  positive(hiddenSize, "hidden_size");
  positive(vocabSize, "vocab_size");
  positive(heads, "heads");
  positive(experts, "experts");
  positive(topK, "top_k");
  positive(expertIntermediate, "expert_intermediate_size");
  positive(moeLayerInterval, "moe_layer_interval");
  WAFERSIM_REQUIRE(topK <= experts, where(), "top_k (", topK, ") exceeds experts (", experts, ")");
  if (attention == AttentionKind::Gqa) {
    positive(kvHeads, "kv_heads");
    positive(headDim, "head_dim");
    WAFERSIM_REQUIRE(kvHeads <= heads && heads % kvHeads == 0, where(), "kv_heads (", kvHeads,
                     ") must divide heads (", heads, ")");
  } else {
    positive(kvLoraRank, "kv_lora_rank");
    positive(qkNopeHeadDim, "qk_nope_head_dim");
    positive(qkRopeHeadDim, "qk_rope_head_dim");
    positive(vHeadDim, "v_head_dim");
  }
  WAFERSIM_REQUIRE(firstKDense <= layers, where(), "first_k_dense (", firstKDense, ") exceeds layers (", layers, ")");
  WAFERSIM_REQUIRE(moeLayerCount() > 0, where(), "no MoE layer: first_k_dense (", firstKDense,
                   ") and moe_layer_interval (", moeLayerInterval, ") leave every one of the ", layers,
                   " layers dense");
  if (denseLayerCount() > 0) positive(denseIntermediate, "dense_intermediate_size");
  WAFERSIM_REQUIRE(sharedExperts == 0 || sharedIntermediate > 0, where(),
                   "shared_intermediate_size must be at least 1 when shared_experts is ", sharedExperts);
  if (expertGroups > 0) {
    WAFERSIM_REQUIRE(experts % expertGroups == 0, where(), "n_group (", expertGroups, ") must divide experts (",
                     experts, ")");
    WAFERSIM_REQUIRE(topkGroups >= 1 && topkGroups <= expertGroups, where(), "topk_group (", topkGroups,
                     ") must be in [1, n_group = ", expertGroups, "]");
    WAFERSIM_REQUIRE(topK <= static_cast<uint64_t>(topkGroups) * (experts / expertGroups), where(), "top_k (", topK,
                     ") exceeds the experts of topk_group (", topkGroups, ") groups of ", experts / expertGroups);
  } else {
    WAFERSIM_REQUIRE(topkGroups == 0, where(), "topk_group (", topkGroups, ") given without n_group");
  }
}

bool MoeModelConfig::isMoeLayer(uint32_t layer) const {
  WAFERSIM_REQUIRE(layer < layers, "MoE model \"", name, "\": layer ", layer, " out of range (", layers, " layers)");
  return layer >= firstKDense && moeLayerInterval > 0 && (layer + 1) % moeLayerInterval == 0;
}

uint32_t MoeModelConfig::moeLayerCount() const {
  uint32_t n = 0;
  for (uint32_t l = 0; l < layers; ++l) n += isMoeLayer(l) ? 1 : 0;
  return n;
}

uint64_t MoeModelConfig::ffnParams(uint64_t intermediate) const {
  return (gatedFfn ? 3 : 2) * hiddenSize * intermediate;
}

uint64_t MoeModelConfig::attentionParams() const {
  const uint64_t h = hiddenSize;
  if (attention == AttentionKind::Gqa) {
    const uint64_t q = static_cast<uint64_t>(heads) * headDim;
    const uint64_t kv = static_cast<uint64_t>(kvHeads) * headDim;
    return h * q + 2 * h * kv + q * h;  // q, k, v, o
  }
  const uint64_t qHead = static_cast<uint64_t>(qkNopeHeadDim) + qkRopeHeadDim;
  uint64_t p = 0;
  if (qLoraRank > 0) p += h * qLoraRank + qLoraRank + static_cast<uint64_t>(qLoraRank) * heads * qHead;  // q_a, norm, q_b
  else p += h * heads * qHead;                                                                        // q_proj
  p += h * (kvLoraRank + qkRopeHeadDim) + kvLoraRank;                                   // kv_a_proj_with_mqa, kv norm
  p += static_cast<uint64_t>(kvLoraRank) * heads * (qkNopeHeadDim + vHeadDim);          // kv_b_proj
  p += static_cast<uint64_t>(heads) * vHeadDim * h;                                     // o_proj
  return p;
}

uint64_t MoeModelConfig::layerParams(uint32_t layer) const {
  const uint64_t common = attentionParams() + 2 * hiddenSize;
  if (!isMoeLayer(layer)) return common + ffnParams(denseIntermediate);
  return common + routerParams() + experts * paramsPerExpert() + sharedExpertParams();
}

uint64_t MoeModelConfig::layerActiveParams(uint32_t layer) const {
  const uint64_t common = attentionParams() + 2 * hiddenSize;
  if (!isMoeLayer(layer)) return common + ffnParams(denseIntermediate);
  return common + routerParams() + topK * paramsPerExpert() + sharedExpertParams();
}

uint64_t MoeModelConfig::totalParams() const {
  uint64_t p = embeddingTableParams() + lmHeadParams() + hiddenSize;  // + final norm
  for (uint32_t l = 0; l < layers; ++l) p += layerParams(l);
  return p;
}

uint64_t MoeModelConfig::activeParamsPerToken() const {
  uint64_t p = vocabSize * hiddenSize + hiddenSize;  // the LM head (the table itself when tied) + final norm
  for (uint32_t l = 0; l < layers; ++l) p += layerActiveParams(l);
  return p;
}

uint64_t MoeModelConfig::activeParamsWithEmbedding() const {
  return activeParamsPerToken() + (tieWordEmbeddings ? 0 : embeddingTableParams());
}

uint64_t MoeModelConfig::expertWeightBytes() const { return weightBytes(expertWeightFormat, paramsPerExpert()); }

uint64_t MoeModelConfig::layerWeightBytes(uint32_t layer) const {
  if (!isMoeLayer(layer)) return weightBytes(weightFormat, layerParams(layer));
  const uint64_t rest = layerParams(layer) - experts * paramsPerExpert();
  return weightBytes(weightFormat, rest) + experts * expertWeightBytes();
}

uint64_t MoeModelConfig::totalWeightBytes() const {
  uint64_t b = weightBytes(embeddingFormat, embeddingTableParams() + lmHeadParams()) + weightBytes(weightFormat, hiddenSize);
  for (uint32_t l = 0; l < layers; ++l) b += layerWeightBytes(l);
  return b;
}

uint64_t MoeModelConfig::kvElementsPerTokenPerLayer() const {
  if (attention == AttentionKind::Mla) return static_cast<uint64_t>(kvLoraRank) + qkRopeHeadDim;
  return 2ull * kvHeads * headDim;
}

uint64_t MoeModelConfig::kvCacheBytesPerToken() const {
  return kvElementsPerTokenPerLayer() * layers * hw::widthBytes(kvCacheType);
}

}  // namespace wafersim::moe
