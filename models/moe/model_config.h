// The shape of a Mixture-of-Experts LLM, as a performance simulator needs it: per-layer sizes,
// which layers are MoE, routing width, weight storage formats and the KV cache per token.
//
// A MoeModelConfig is a value (STYLE.md P10); presets from public config.json files live in
// model_presets.h, and moeModelFromParams() (model_params.h) builds one from scenario parameters.
// Every derived quantity is an exact integer computed from the fields; nothing is measured.
//
// Parameter counting convention (documented once, used by every function below):
//  - counted exactly: every weight matrix (attention projections, FFN / expert matrices, the
//    router h x experts, the token embedding table and the LM head, once when tied), the two
//    RMSNorm vectors of each layer, the final norm, and MLA's two latent norms
//    (q_a_layernorm when q_lora_rank > 0, kv_a_layernorm);
//  - left out (each below 0.05 % of any preset's total): linear biases (Qwen2 q/k/v, gpt-oss
//    attention and expert biases), per-head q/k norms (Qwen3, OLMoE, Llama-4), Grok-1's extra
//    sandwich norms, gpt-oss attention sinks, Qwen2's shared-expert gate (h x 1), DeepSeek /
//    Kimi router bias (e_score_correction_bias), and DeepSeek-V3's multi-token-prediction module
//    (num_nextn_predict_layers = 1; not part of the published 671B).
//  - active parameters per token: activeParamsPerToken() counts the weights a token's matmuls read
//    (all attention and dense weights, top_k routed experts and all shared experts of every MoE
//    layer, routers, norms, the LM head) and NOT the input embedding table, of which a token reads
//    one row (DeepSeek's convention: "37B activated"). activeParamsWithEmbedding() adds the input
//    table (Mistral's, Qwen's and Meta's convention: Mixtral "12.9B", Qwen3 "3.3B", Llama-4 "17B").
//
// Weight storage (WeightFormat) is exact per format: bf16/fp16 2 bytes, fp8/int8 1 byte, MXFP4 17
// bytes per block of 32 weights (32 x 4-bit E2M1 + one 8-bit E8M0 scale = 4.25 bits per weight).
// APPROXIMATION: DeepSeek-V3 / Kimi-K2 fp8 checkpoints also carry one fp32 scale per 128 x 128
// block (4 / 16384 bytes per weight, 0.02 %), and their routers stay bf16; both are ignored
// (routers take weight_format).
//
// Layer pattern: layer l (0-based) is MoE iff l >= first_k_dense and (l + 1) % moe_layer_interval
// == 0. first_k_dense is DeepSeek's / Kimi's first_k_dense_replace; moe_layer_interval is
// Llama-4's interleave_moe_layer_step (Maverick: layers 1, 3, 5, ... are MoE, as in Hugging Face
// transformers' Llama4TextConfig.moe_layers). All other presets use interval 1 (all MoE after the
// first_k_dense layers).
//
// Not modelled, only recorded: sliding-window attention (slidingWindow; gpt-oss alternates 128-token
// windows with full attention, Mixtral-8x7B's config.json declares none), Llama-4's chunked
// attention, gpt-oss attention sinks. kvCacheBytesPerToken() assumes full attention in every layer.
#pragma once

#include <cstdint>
#include <string>

#include "models/hardware/compute_die.h"

namespace wafersim::moe {

// Gqa covers MHA (kvHeads == heads) and MQA (kvHeads == 1).
enum class AttentionKind : uint8_t { Gqa, Mla };

const char* toString(AttentionKind kind);  // "gqa", "mla"

// How a weight tensor is stored (see the header comment for the byte counts).
enum class WeightFormat : uint8_t { Bf16, Fp16, Fp8, Int8, Mxfp4 };

const char* toString(WeightFormat format);  // "bf16", "fp16", "fp8", "int8", "mxfp4"

// Exact bytes to store `parameters` weights in `format` (MXFP4 rounds up to whole 32-weight blocks).
uint64_t weightBytes(WeightFormat format, uint64_t parameters);

struct MoeModelConfig {
  std::string name;
  std::string source;  // Hugging Face repo and file (or code repo) the numbers come from

  uint32_t layers = 0;
  uint64_t hiddenSize = 0;
  uint64_t vocabSize = 0;
  bool tieWordEmbeddings = false;  // LM head shares the embedding table

  AttentionKind attention = AttentionKind::Gqa;
  uint32_t heads = 0;    // query heads (both kinds)
  uint32_t kvHeads = 0;  // GQA only
  uint32_t headDim = 0;  // GQA only
  // MLA only (DeepSeek-V2/V3, Kimi-K2). qLoraRank == 0: queries projected straight from the hidden
  // state (DeepSeek-V2-Lite's q_lora_rank: null).
  uint32_t qLoraRank = 0;
  uint32_t kvLoraRank = 0;
  uint32_t qkNopeHeadDim = 0;
  uint32_t qkRopeHeadDim = 0;
  uint32_t vHeadDim = 0;

  uint32_t firstKDense = 0;       // layers [0, firstKDense) are dense
  uint32_t moeLayerInterval = 1;  // see the header comment
  uint64_t denseIntermediate = 0; // FFN width of dense layers (unused when every layer is MoE)

  uint32_t experts = 0;            // routed experts per MoE layer
  uint32_t topK = 0;               // routed experts per token
  uint64_t expertIntermediate = 0; // FFN width of one routed expert
  uint32_t sharedExperts = 0;      // always-active experts per MoE layer
  uint64_t sharedIntermediate = 0; // FFN width of ONE shared expert
  bool gatedFfn = true;            // 3 matrices (gate, up, down) or 2 (up, down)
  // Group-limited routing (DeepSeek-V3: 8 groups, top-4 groups); 0 = none.
  uint32_t expertGroups = 0;
  uint32_t topkGroups = 0;

  WeightFormat weightFormat = WeightFormat::Bf16;        // attention, dense FFN, shared experts, routers, norms
  WeightFormat expertWeightFormat = WeightFormat::Bf16;  // routed experts
  WeightFormat embeddingFormat = WeightFormat::Bf16;     // embedding table and LM head
  hw::DataType kvCacheType = hw::DataType::Bf16;

  uint32_t slidingWindow = 0;  // recorded, not modelled (0: none)

  // Throws Error{InvalidConfig} naming the field (by its parameter name, model_params below) on
  // zero sizes, top_k > experts, bad group routing, MLA / GQA fields that do not fit, etc.
  void validate() const;

  bool isMoeLayer(uint32_t layer) const;  // layer < layers
  uint32_t moeLayerCount() const;
  uint32_t denseLayerCount() const { return layers - moeLayerCount(); }

  uint64_t ffnParams(uint64_t intermediate) const;  // (gated ? 3 : 2) x hidden x intermediate
  uint64_t paramsPerExpert() const { return ffnParams(expertIntermediate); }
  uint64_t sharedExpertParams() const { return sharedExperts * ffnParams(sharedIntermediate); }  // per MoE layer
  uint64_t routerParams() const { return hiddenSize * experts; }                                 // per MoE layer
  uint64_t attentionParams() const;  // per layer, projections + MLA latent norms
  uint64_t layerParams(uint32_t layer) const;        // everything in the layer, norms included
  uint64_t layerActiveParams(uint32_t layer) const;  // what one token reads in the layer
  uint64_t embeddingTableParams() const { return vocabSize * hiddenSize; }
  uint64_t lmHeadParams() const { return tieWordEmbeddings ? 0 : vocabSize * hiddenSize; }  // untied only
  uint64_t totalParams() const;
  uint64_t activeParamsPerToken() const;       // input embedding table excluded (see above)
  uint64_t activeParamsWithEmbedding() const;  // input embedding table included

  uint64_t expertWeightBytes() const;       // one routed expert
  uint64_t layerWeightBytes(uint32_t layer) const;
  uint64_t totalWeightBytes() const;

  // KV cache: GQA stores K and V, 2 x kvHeads x headDim elements per token per layer; MLA stores the
  // compressed latent and the shared RoPE key, kvLoraRank + qkRopeHeadDim per token per layer.
  uint64_t kvElementsPerTokenPerLayer() const;
  uint64_t kvCacheBytesPerToken() const;  // all layers, kvCacheType elements
};

}  // namespace wafersim::moe
