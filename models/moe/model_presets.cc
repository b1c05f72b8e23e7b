#include "models/moe/model_presets.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "sim/error.h"

namespace wafersim::moe {
namespace {

// GQA/MHA model with head_dim and all-MoE layers; the caller fills in the rest.
MoeModelConfig gqa(std::string name, std::string source) {
  MoeModelConfig m;
  m.name = std::move(name);
  m.source = std::move(source);
  m.attention = AttentionKind::Gqa;
  return m;
}

MoeModelConfig mixtral8x7b() {
  // mistralai/Mixtral-8x7B-v0.1 config.json: num_hidden_layers 32, hidden_size 4096, vocab_size
  // 32000, num_attention_heads 32, num_key_value_heads 8 (head_dim 4096 / 32 = 128),
  // intermediate_size 14336, num_local_experts 8, num_experts_per_tok 2, tie_word_embeddings false,
  // torch_dtype bfloat16. sliding_window: null in the current file (4096 in early revisions).
  MoeModelConfig m = gqa("mixtral-8x7b", "huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json");
  m.layers = 32;
  m.hiddenSize = 4096;
  m.vocabSize = 32000;
  m.heads = 32;
  m.kvHeads = 8;
  m.headDim = 128;
  m.experts = 8;
  m.topK = 2;
  m.expertIntermediate = 14336;
  return m;
}

MoeModelConfig mixtral8x22b() {
  // mistral-community/Mixtral-8x22B-v0.1 config.json (the HF conversion of Mistral's release;
  // params.json agrees): num_hidden_layers 56, hidden_size 6144, num_attention_heads 48,
  // num_key_value_heads 8, head_dim 128, intermediate_size 16384, 8 experts, top-2, vocab_size
  // 32000 (the Instruct model's config.json has 32768), untied, bfloat16.
  MoeModelConfig m = gqa("mixtral-8x22b", "huggingface.co/mistral-community/Mixtral-8x22B-v0.1 config.json");
  m.layers = 56;
  m.hiddenSize = 6144;
  m.vocabSize = 32000;
  m.heads = 48;
  m.kvHeads = 8;
  m.headDim = 128;
  m.experts = 8;
  m.topK = 2;
  m.expertIntermediate = 16384;
  return m;
}

MoeModelConfig deepseekV2Lite() {
  // deepseek-ai/DeepSeek-V2-Lite config.json, as repeated in deepseek-ai/DeepSeek-V3
  // inference/configs/config_16B.json: 27 layers (n_dense_layers / first_k_dense_replace 1),
  // dim 2048, vocab 102400, 16 heads, q_lora_rank 0 (null), kv_lora_rank 512, qk_nope 128, qk_rope
  // 64, v 128, inter_dim 10944, moe_inter_dim 1408, 64 routed + 2 shared experts, 6 activated.
  // n_group = topk_group = 1 in config.json (greedy top-k, no group limit): modelled as none.
  MoeModelConfig m;
  m.name = "deepseek-v2-lite";
  m.source = "huggingface.co/deepseek-ai/DeepSeek-V2-Lite config.json";
  m.layers = 27;
  m.hiddenSize = 2048;
  m.vocabSize = 102400;
  m.attention = AttentionKind::Mla;
  m.heads = 16;
  m.qLoraRank = 0;
  m.kvLoraRank = 512;
  m.qkNopeHeadDim = 128;
  m.qkRopeHeadDim = 64;
  m.vHeadDim = 128;
  m.firstKDense = 1;
  m.denseIntermediate = 10944;
  m.experts = 64;
  m.topK = 6;
  m.expertIntermediate = 1408;
  m.sharedExperts = 2;
  m.sharedIntermediate = 1408;
  return m;
}

MoeModelConfig deepseekMoe16b() {
  // deepseek-ai/deepseek-moe-16b-base config.json: num_hidden_layers 28, first_k_dense_replace 1,
  // hidden_size 2048, intermediate_size 10944, moe_intermediate_size 1408, n_routed_experts 64,
  // n_shared_experts 2, num_experts_per_tok 6, num_attention_heads 16, num_key_value_heads 16
  // (MHA, head_dim 128), vocab_size 102400, untied.
  MoeModelConfig m = gqa("deepseek-moe-16b", "huggingface.co/deepseek-ai/deepseek-moe-16b-base config.json");
  m.layers = 28;
  m.hiddenSize = 2048;
  m.vocabSize = 102400;
  m.heads = 16;
  m.kvHeads = 16;
  m.headDim = 128;
  m.firstKDense = 1;
  m.denseIntermediate = 10944;
  m.experts = 64;
  m.topK = 6;
  m.expertIntermediate = 1408;
  m.sharedExperts = 2;
  m.sharedIntermediate = 1408;
  return m;
}

// DeepSeek-V3 and Kimi-K2 share the DeepseekV3 architecture and 7168 / MLA sizes.
MoeModelConfig deepseekV3Family(std::string name, std::string source) {
  MoeModelConfig m;
  m.name = std::move(name);
  m.source = std::move(source);
  m.layers = 61;
  m.hiddenSize = 7168;
  m.attention = AttentionKind::Mla;
  m.qLoraRank = 1536;
  m.kvLoraRank = 512;
  m.qkNopeHeadDim = 128;
  m.qkRopeHeadDim = 64;
  m.vHeadDim = 128;
  m.denseIntermediate = 18432;
  m.topK = 8;
  m.expertIntermediate = 2048;
  m.sharedExperts = 1;
  m.sharedIntermediate = 2048;
  // quantization_config: fp8 e4m3, weight_block_size [128, 128]; embeddings and LM head bf16.
  m.weightFormat = WeightFormat::Fp8;
  m.expertWeightFormat = WeightFormat::Fp8;
  m.embeddingFormat = WeightFormat::Bf16;
  return m;
}

MoeModelConfig deepseekV3() {
  // deepseek-ai/DeepSeek-V3 config.json: num_hidden_layers 61, first_k_dense_replace 3,
  // hidden_size 7168, intermediate_size 18432, moe_intermediate_size 2048, n_routed_experts 256,
  // n_shared_experts 1, num_experts_per_tok 8, n_group 8, topk_group 4, num_attention_heads 128,
  // q_lora_rank 1536, kv_lora_rank 512, qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128,
  // vocab_size 129280, tie_word_embeddings false, quantization_config fp8 (block 128 x 128).
  // num_nextn_predict_layers 1: the MTP module (11.5B unique parameters) is not modelled.
  MoeModelConfig m = deepseekV3Family("deepseek-v3", "huggingface.co/deepseek-ai/DeepSeek-V3 config.json");
  m.vocabSize = 129280;
  m.heads = 128;
  m.firstKDense = 3;
  m.experts = 256;
  m.expertGroups = 8;
  m.topkGroups = 4;
  return m;
}

MoeModelConfig kimiK2() {
  // moonshotai/Kimi-K2-Instruct config.json (DeepseekV3ForCausalLM): num_hidden_layers 61,
  // first_k_dense_replace 1, hidden_size 7168, intermediate_size 18432, moe_intermediate_size 2048,
  // n_routed_experts 384, n_shared_experts 1, num_experts_per_tok 8, num_attention_heads 64,
  // vocab_size 163840, MLA sizes as DeepSeek-V3 (q_lora_rank 1536, kv_lora_rank 512, qk_nope 128,
  // qk_rope 64, v 128), n_group = topk_group = 1 (no group limit), fp8 block-quantized weights.
  // The config.json itself was read through secondary copies (a field-by-field write-up of it and
  // NVIDIA Megatron-Bridge's KimiK2Provider); q_lora_rank was not seen explicitly (taken as
  // DeepSeek-V3's 1536, consistent with the published 1T / 32B totals).
  MoeModelConfig m = deepseekV3Family("kimi-k2", "huggingface.co/moonshotai/Kimi-K2-Instruct config.json");
  m.vocabSize = 163840;
  m.heads = 64;
  m.firstKDense = 1;
  m.experts = 384;
  return m;
}

MoeModelConfig qwen2_57b() {
  // Qwen/Qwen2-57B-A14B config.json (qwen2_moe): num_hidden_layers 28, hidden_size 3584,
  // num_attention_heads 28, num_key_value_heads 4 (head_dim 128), vocab_size 151936,
  // moe_intermediate_size 2560, num_experts 64, num_experts_per_tok 8,
  // shared_expert_intermediate_size 20480, mlp_only_layers [] (every layer MoE; intermediate_size
  // 18944 is therefore unused), tie_word_embeddings false. The q/k/v biases and the shared-expert
  // gate (h x 1) are not counted.
  MoeModelConfig m = gqa("qwen2-57b-a14b", "huggingface.co/Qwen/Qwen2-57B-A14B config.json");
  m.layers = 28;
  m.hiddenSize = 3584;
  m.vocabSize = 151936;
  m.heads = 28;
  m.kvHeads = 4;
  m.headDim = 128;
  m.denseIntermediate = 18944;
  m.experts = 64;
  m.topK = 8;
  m.expertIntermediate = 2560;
  m.sharedExperts = 1;
  m.sharedIntermediate = 20480;
  return m;
}

MoeModelConfig qwen3_30b() {
  // Qwen/Qwen3-30B-A3B config.json (qwen3_moe): num_hidden_layers 48, hidden_size 2048,
  // num_attention_heads 32, num_key_value_heads 4, head_dim 128, vocab_size 151936,
  // moe_intermediate_size 768, num_experts 128, num_experts_per_tok 8, tie_word_embeddings false.
  // Read through copies with the same shape (Qwen3-Coder-30B-A3B config.json; MindSpeed and slime
  // Megatron configs for Qwen3-30B-A3B); the original file was not retrieved.
  MoeModelConfig m = gqa("qwen3-30b-a3b", "huggingface.co/Qwen/Qwen3-30B-A3B config.json");
  m.layers = 48;
  m.hiddenSize = 2048;
  m.vocabSize = 151936;
  m.heads = 32;
  m.kvHeads = 4;
  m.headDim = 128;
  m.denseIntermediate = 6144;  // intermediate_size; unused (every layer MoE)
  m.experts = 128;
  m.topK = 8;
  m.expertIntermediate = 768;
  return m;
}

MoeModelConfig qwen3_235b() {
  // Qwen/Qwen3-235B-A22B config.json: num_hidden_layers 94, hidden_size 4096, num_attention_heads
  // 64, num_key_value_heads 4, head_dim 128, vocab_size 151936, moe_intermediate_size 1536,
  // num_experts 128, num_experts_per_tok 8, untied. Read through MindSpeed-RL / slime / MaxText
  // configs of the model; the original file was not retrieved.
  MoeModelConfig m = gqa("qwen3-235b-a22b", "huggingface.co/Qwen/Qwen3-235B-A22B config.json");
  m.layers = 94;
  m.hiddenSize = 4096;
  m.vocabSize = 151936;
  m.heads = 64;
  m.kvHeads = 4;
  m.headDim = 128;
  m.denseIntermediate = 12288;  // intermediate_size; unused (every layer MoE)
  m.experts = 128;
  m.topK = 8;
  m.expertIntermediate = 1536;
  return m;
}

MoeModelConfig llama4Maverick() {
  // meta-llama/Llama-4-Maverick-17B-128E config.json, text_config: num_hidden_layers 48,
  // hidden_size 5120, num_attention_heads 40, num_key_value_heads 8, head_dim 128, vocab_size
  // 202048, intermediate_size 8192 (each routed expert and the one shared expert),
  // intermediate_size_mlp 16384 (dense layers), num_local_experts 128, num_experts_per_tok 1,
  // interleave_moe_layer_step 2 (transformers: moe_layers = 1, 3, 5, ...), untied.
  // Read through the GGUF metadata of the model and quotes of text_config; the gated repo's file
  // was not retrieved. The vision encoder and projector are not modelled; chunked attention
  // (attention_chunk_size 8192 on 3 of 4 layers) is not modelled.
  MoeModelConfig m = gqa("llama-4-maverick", "huggingface.co/meta-llama/Llama-4-Maverick-17B-128E config.json");
  m.layers = 48;
  m.hiddenSize = 5120;
  m.vocabSize = 202048;
  m.heads = 40;
  m.kvHeads = 8;
  m.headDim = 128;
  m.moeLayerInterval = 2;
  m.denseIntermediate = 16384;
  m.experts = 128;
  m.topK = 1;
  m.expertIntermediate = 8192;
  m.sharedExperts = 1;
  m.sharedIntermediate = 8192;
  return m;
}

MoeModelConfig olmoe() {
  // allenai/OLMoE-1B-7B-0924 config.json: num_hidden_layers 16, hidden_size 2048,
  // num_attention_heads 16, num_key_value_heads 16 (MHA, head_dim 128), intermediate_size 1024 (per
  // expert), num_experts 64, num_experts_per_tok 8, vocab_size 50304, tie_word_embeddings false.
  MoeModelConfig m = gqa("olmoe-1b-7b", "huggingface.co/allenai/OLMoE-1B-7B-0924 config.json");
  m.layers = 16;
  m.hiddenSize = 2048;
  m.vocabSize = 50304;
  m.heads = 16;
  m.kvHeads = 16;
  m.headDim = 128;
  m.experts = 64;
  m.topK = 8;
  m.expertIntermediate = 1024;
  return m;
}

MoeModelConfig gptOss120b() {
  // openai/gpt-oss-120b original/config.json: num_hidden_layers 36, num_experts 128,
  // experts_per_token 4, vocab_size 201088, hidden_size 2880, intermediate_size 2880 (SwiGLU),
  // head_dim 64, num_attention_heads 64, num_key_value_heads 8, sliding_window 128 (alternating
  // with full attention; not modelled). Untied unembedding. quantization_config: MXFP4 for the
  // MoE expert weights; attention, router, embedding and unembedding stay bf16. Biases and the
  // per-head attention sinks are not counted.
  MoeModelConfig m = gqa("gpt-oss-120b", "huggingface.co/openai/gpt-oss-120b config.json, original/config.json");
  m.layers = 36;
  m.hiddenSize = 2880;
  m.vocabSize = 201088;
  m.heads = 64;
  m.kvHeads = 8;
  m.headDim = 64;
  m.experts = 128;
  m.topK = 4;
  m.expertIntermediate = 2880;
  m.expertWeightFormat = WeightFormat::Mxfp4;
  m.slidingWindow = 128;
  return m;
}

MoeModelConfig grok1() {
  // xai-org/grok-1 run.py (the released checkpoint has no config.json): vocab_size 128 * 1024,
  // emb_size 48 * 128 = 6144, key_size 128, num_q_heads 48, num_kv_heads 8, num_layers 64,
  // num_experts 8, num_selected_experts 2, widening_factor 8 -> model.py ffn_size():
  // int(8 * 6144) * 2 // 3 = 32768 (gated, 3 matrices). Input and output share one table
  // (InOutEmbed). The checkpoint stores 8-bit quantized weights (QuantizedWeight8bit, ~1 byte per
  // parameter); ASSUMPTION: the embedding table stays bf16. Grok-1's four norms per layer are
  // counted as two.
  MoeModelConfig m = gqa("grok-1", "github.com/xai-org/grok-1 run.py, model.py");
  m.layers = 64;
  m.hiddenSize = 6144;
  m.vocabSize = 131072;
  m.tieWordEmbeddings = true;
  m.heads = 48;
  m.kvHeads = 8;
  m.headDim = 128;
  m.experts = 8;
  m.topK = 2;
  m.expertIntermediate = 32768;
  m.weightFormat = WeightFormat::Int8;
  m.expertWeightFormat = WeightFormat::Int8;
  return m;
}

using Builder = MoeModelConfig (*)();

const std::vector<std::pair<const char*, Builder>>& presets() {
  static const std::vector<std::pair<const char*, Builder>> table = {
      {"mixtral-8x7b", mixtral8x7b},       {"mixtral-8x22b", mixtral8x22b},   {"deepseek-v2-lite", deepseekV2Lite},
      {"deepseek-moe-16b", deepseekMoe16b}, {"deepseek-v3", deepseekV3},       {"qwen2-57b-a14b", qwen2_57b},
      {"qwen3-30b-a3b", qwen3_30b},         {"qwen3-235b-a22b", qwen3_235b},   {"kimi-k2", kimiK2},
      {"llama-4-maverick", llama4Maverick}, {"olmoe-1b-7b", olmoe},            {"gpt-oss-120b", gptOss120b},
      {"grok-1", grok1},
  };
  return table;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

MoeModelConfig moeModelPreset(const std::string& name) {
  const std::string key = lower(name);
  for (const auto& [presetName, build] : presets())
    if (key == presetName) return build();
  std::string names;
  for (const auto& [presetName, build] : presets()) names += (names.empty() ? "" : ", ") + std::string(presetName);
  fail(ErrorKind::InvalidConfig, "unknown MoE model preset \"", name, "\" (known: ", names, ")");
}

std::vector<std::string> moeModelPresetNames() {
  std::vector<std::string> names;
  for (const auto& [presetName, build] : presets()) names.emplace_back(presetName);
  return names;
}

}  // namespace wafersim::moe
