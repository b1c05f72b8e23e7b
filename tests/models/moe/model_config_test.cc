#include "models/moe/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "models/moe/model_params.h"
#include "models/moe/model_presets.h"
#include "sim/error.h"

namespace wafersim::moe {
namespace {

using ::testing::HasSubstr;

// Published totals and active parameters, in billions, with the convention each publisher uses
// for the active figure (model_config.h): WithEmbedding counts the input embedding table (Mistral,
// Qwen, Meta, AI2, DeepSeekMoE-16B), WithoutEmbedding does not (DeepSeek-V2/V3: "36.6B including
// 0.9B output head"; OpenAI's gpt-oss card; Kimi-K2, a DeepSeek-V3 architecture). The convention
// was chosen per publisher where stated and otherwise by which of the two the figure matches;
// both counts are printed.
//
// Tolerance: a published figure is rounded, so it stands for anything within half a unit of its
// last digit ("14B" = [13.5, 14.5)); on top we allow 1.5 % of the figure for what the counting
// convention leaves out or adds (biases, q/k norms, routers' fp32 copies, vision towers, how a
// tied or shared table is counted). tolerance = halfUnit + 0.015 x published.
enum class Active { WithEmbedding, WithoutEmbedding, NotPublished };

struct Published {
  const char* preset;
  double total;
  double totalHalfUnit;
  double active;
  double activeHalfUnit;
  Active convention;
  const char* where;  // where the published figures come from
};

const Published kPublished[] = {
    {"mixtral-8x7b", 46.7, 0.05, 12.9, 0.05, Active::WithEmbedding, "Mistral model card: 46.7B total, 12.9B per token"},
    {"mixtral-8x22b", 141, 0.5, 39, 0.5, Active::WithEmbedding, "Mistral release: 141B total, 39B active"},
    {"deepseek-v2-lite", 15.7, 0.05, 2.4, 0.05, Active::WithoutEmbedding, "DeepSeek-V2-Lite card: 15.7B / 2.4B"},
    {"deepseek-moe-16b", 16.4, 0.05, 2.8, 0.05, Active::WithEmbedding, "DeepSeekMoE README: 16.4B; 2.8B activated"},
    {"deepseek-v3", 671, 0.5, 37, 0.5, Active::WithoutEmbedding, "DeepSeek-V3 README_WEIGHTS: 671B, 36.6B (+0.9B head)"},
    {"qwen2-57b-a14b", 57, 0.5, 14, 0.5, Active::WithEmbedding, "Qwen2 model card: 57B total, 14B active"},
    {"qwen3-30b-a3b", 30.5, 0.05, 3.3, 0.05, Active::WithEmbedding, "Qwen3 model card: 30.5B / 3.3B"},
    {"qwen3-235b-a22b", 235, 0.5, 22, 0.5, Active::WithEmbedding, "Qwen3 model card: 235B / 22B"},
    {"kimi-k2", 1040, 5, 32, 0.5, Active::WithoutEmbedding, "Kimi-K2 card: 1T (1.04T) total, 32B activated"},
    {"llama-4-maverick", 400, 0.5, 17, 0.5, Active::WithEmbedding, "Meta: ~400B total, 17B active"},
    {"olmoe-1b-7b", 6.9, 0.05, 1.3, 0.05, Active::WithEmbedding, "OLMoE paper / card: 6.9B total, 1.3B active"},
    {"gpt-oss-120b", 116.8, 0.05, 5.13, 0.005, Active::WithoutEmbedding, "OpenAI model card: 116.83B total, 5.13B active"},
    {"grok-1", 314, 0.5, 0, 0, Active::NotPublished, "xai-org/grok-1 README: 314B"},
};

double billions(uint64_t n) { return static_cast<double>(n) / 1e9; }

TEST(MoeModelPresets, NamesListEveryPresetAndEachValidates) {
  const auto names = moeModelPresetNames();
  ASSERT_EQ(names.size(), std::size(kPublished));
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(names[i], kPublished[i].preset);
    const MoeModelConfig m = moeModelPreset(names[i]);
    EXPECT_EQ(m.name, names[i]);
    EXPECT_FALSE(m.source.empty()) << names[i];
    EXPECT_NO_THROW(m.validate()) << names[i];
  }
}

TEST(MoeModelPresets, TotalAndActiveParametersMatchPublishedFigures) {
  std::printf("%-18s %10s %10s %8s %10s %10s %8s %12s\n", "preset", "total B", "published", "diff %", "active B",
              "published", "diff %", "(other conv)");
  for (const Published& p : kPublished) {
    const MoeModelConfig m = moeModelPreset(p.preset);
    const double total = billions(m.totalParams());
    EXPECT_NEAR(total, p.total, p.totalHalfUnit + 0.015 * p.total) << p.preset << " (" << p.where << ")";
    double active = 0;
    if (p.convention != Active::NotPublished) {
      active = billions(p.convention == Active::WithEmbedding ? m.activeParamsWithEmbedding() : m.activeParamsPerToken());
      EXPECT_NEAR(active, p.active, p.activeHalfUnit + 0.015 * p.active) << p.preset << " (" << p.where << ")";
    }
    const double other =
        billions(p.convention == Active::WithEmbedding ? m.activeParamsPerToken() : m.activeParamsWithEmbedding());
    std::printf("%-18s %10.2f %10.2f %+8.2f %10.2f %10.2f %+8.2f %12.2f\n", p.preset, total, p.total,
                100 * (total - p.total) / p.total, active, p.active,
                p.active > 0 ? 100 * (active - p.active) / p.active : 0.0, other);
  }
}

TEST(MoeModelConfig, MixtralCountsByHand) {
  const MoeModelConfig m = moeModelPreset("mixtral-8x7b");
  // attention: q 4096x4096, k and v 4096x1024, o 4096x4096.
  EXPECT_EQ(m.attentionParams(), 2ull * 4096 * 4096 + 2ull * 4096 * 1024);
  EXPECT_EQ(m.paramsPerExpert(), 3ull * 4096 * 14336);
  const uint64_t layer = m.attentionParams() + 2 * 4096 + 4096ull * 8 + 8 * m.paramsPerExpert();
  EXPECT_EQ(m.layerParams(0), layer);
  EXPECT_EQ(m.totalParams(), 32 * layer + 2ull * 32000 * 4096 + 4096);
  EXPECT_EQ(m.activeParamsWithEmbedding() - m.activeParamsPerToken(), 32000ull * 4096);
}

TEST(MoeModelConfig, KvCacheBytesPerTokenGqaByHand) {
  // Mixtral-8x7B: K and V, 8 kv heads x 128, 32 layers, bf16: 2 x 8 x 128 x 32 x 2 = 131072 bytes.
  const MoeModelConfig m = moeModelPreset("mixtral-8x7b");
  EXPECT_EQ(m.kvElementsPerTokenPerLayer(), 2048u);
  EXPECT_EQ(m.kvCacheBytesPerToken(), 131072u);
  MoeModelConfig fp8 = m;
  fp8.kvCacheType = hw::DataType::Fp8;
  EXPECT_EQ(fp8.kvCacheBytesPerToken(), 65536u);
  // DeepSeek-MoE-16B is MHA: 2 x 16 x 128 x 28 x 2 = 229376.
  EXPECT_EQ(moeModelPreset("deepseek-moe-16b").kvCacheBytesPerToken(), 229376u);
}

TEST(MoeModelConfig, KvCacheBytesPerTokenMlaByHand) {
  // DeepSeek-V3: the latent (kv_lora_rank 512) and the shared RoPE key (64), 61 layers, bf16:
  // (512 + 64) x 61 x 2 = 70272 bytes, 1/ (2 x 128 x 128 / 576) of the equivalent MHA cache.
  const MoeModelConfig m = moeModelPreset("deepseek-v3");
  EXPECT_EQ(m.kvElementsPerTokenPerLayer(), 576u);
  EXPECT_EQ(m.kvCacheBytesPerToken(), 70272u);
  EXPECT_EQ(moeModelPreset("deepseek-v2-lite").kvCacheBytesPerToken(), 576u * 27 * 2);
}

TEST(MoeModelConfig, MlaAttentionParamsByHand) {
  const MoeModelConfig m = moeModelPreset("deepseek-v3");
  const uint64_t qa = 7168ull * 1536 + 1536, qb = 1536ull * 128 * 192;
  const uint64_t kva = 7168ull * 576 + 512, kvb = 512ull * 128 * 256, o = 128ull * 128 * 7168;
  EXPECT_EQ(m.attentionParams(), qa + qb + kva + kvb + o);
  // V2-Lite has no query latent: q_proj 2048 x 16 x 192.
  const MoeModelConfig lite = moeModelPreset("deepseek-v2-lite");
  EXPECT_EQ(lite.attentionParams(),
            2048ull * 16 * 192 + 2048ull * 576 + 512 + 512ull * 16 * 256 + 16ull * 128 * 2048);
}

TEST(MoeModelConfig, LayerPatterns) {
  const MoeModelConfig v3 = moeModelPreset("deepseek-v3");
  EXPECT_FALSE(v3.isMoeLayer(2));
  EXPECT_TRUE(v3.isMoeLayer(3));
  EXPECT_EQ(v3.moeLayerCount(), 58u);
  EXPECT_EQ(v3.layerParams(0), v3.attentionParams() + 2 * 7168 + 3ull * 7168 * 18432);

  const MoeModelConfig maverick = moeModelPreset("llama-4-maverick");
  EXPECT_FALSE(maverick.isMoeLayer(0));
  EXPECT_TRUE(maverick.isMoeLayer(1));
  EXPECT_FALSE(maverick.isMoeLayer(46));
  EXPECT_TRUE(maverick.isMoeLayer(47));
  EXPECT_EQ(maverick.moeLayerCount(), 24u);
  EXPECT_EQ(maverick.denseLayerCount(), 24u);

  EXPECT_EQ(moeModelPreset("qwen3-235b-a22b").moeLayerCount(), 94u);
  EXPECT_EQ(moeModelPreset("kimi-k2").moeLayerCount(), 60u);
  EXPECT_THROW(v3.isMoeLayer(61), Error);
}

TEST(MoeModelConfig, SharedExpertWithItsOwnSize) {
  const MoeModelConfig q = moeModelPreset("qwen2-57b-a14b");
  EXPECT_EQ(q.sharedExpertParams(), 3ull * 3584 * 20480);
  EXPECT_EQ(q.layerParams(0) - q.layerActiveParams(0), (64ull - 8) * q.paramsPerExpert());
}

TEST(MoeModelConfig, WeightBytes) {
  EXPECT_EQ(weightBytes(WeightFormat::Bf16, 10), 20u);
  EXPECT_EQ(weightBytes(WeightFormat::Fp8, 10), 10u);
  EXPECT_EQ(weightBytes(WeightFormat::Mxfp4, 32), 17u);
  EXPECT_EQ(weightBytes(WeightFormat::Mxfp4, 33), 34u);  // a started block is stored whole

  // gpt-oss-120b experts in MXFP4: 3 x 2880 x 2880 = 24883200 weights = 777600 blocks x 17 bytes.
  const MoeModelConfig oss = moeModelPreset("gpt-oss-120b");
  EXPECT_EQ(oss.expertWeightBytes(), 777600u * 17);
  // About 4.25 bits per parameter over the experts, bf16 elsewhere: 60-66 GB in all (the released
  // checkpoint is about 65 GB).
  EXPECT_GT(oss.totalWeightBytes(), 60'000'000'000u);
  EXPECT_LT(oss.totalWeightBytes(), 66'000'000'000u);

  // DeepSeek-V3 fp8: one byte per weight except the bf16 embedding table and LM head.
  const MoeModelConfig v3 = moeModelPreset("deepseek-v3");
  EXPECT_EQ(v3.expertWeightBytes(), 3ull * 7168 * 2048);
  EXPECT_EQ(v3.totalWeightBytes(), v3.totalParams() + 2ull * 129280 * 7168);

  const MoeModelConfig mixtral = moeModelPreset("mixtral-8x7b");
  EXPECT_EQ(mixtral.totalWeightBytes(), 2 * mixtral.totalParams());
}

MoeModelConfig tiny() {
  MoeModelConfig m;
  m.name = "tiny";
  m.layers = 2;
  m.hiddenSize = 64;
  m.vocabSize = 100;
  m.heads = 4;
  m.kvHeads = 2;
  m.headDim = 16;
  m.experts = 8;
  m.topK = 2;
  m.expertIntermediate = 32;
  return m;
}

void expectInvalid(const MoeModelConfig& m, const std::string& field) {
  try {
    m.validate();
    ADD_FAILURE() << "validate() accepted a model with a bad " << field;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_THAT(e.what(), HasSubstr(field));
  }
}

TEST(MoeModelConfig, ValidationNamesTheField) {
  EXPECT_NO_THROW(tiny().validate());
  MoeModelConfig m = tiny();
  m.topK = 9;
  expectInvalid(m, "top_k (9) exceeds experts (8)");
  m = tiny();
  m.hiddenSize = 0;
  expectInvalid(m, "hidden_size");
  m = tiny();
  m.layers = 0;
  expectInvalid(m, "layers");
  m = tiny();
  m.kvHeads = 3;
  expectInvalid(m, "kv_heads");
  m = tiny();
  m.expertIntermediate = 0;
  expectInvalid(m, "expert_intermediate_size");
  m = tiny();
  m.firstKDense = 1;  // a dense layer with no dense width
  expectInvalid(m, "dense_intermediate_size");
  m.firstKDense = 2;
  m.denseIntermediate = 128;
  expectInvalid(m, "no MoE layer");
  m = tiny();
  m.sharedExperts = 1;
  expectInvalid(m, "shared_intermediate_size");
  m = tiny();
  m.expertGroups = 3;
  m.topkGroups = 1;
  expectInvalid(m, "n_group (3) must divide experts (8)");
  m.expertGroups = 4;
  m.topkGroups = 5;
  expectInvalid(m, "topk_group");
  m.topkGroups = 0;
  expectInvalid(m, "topk_group");
  m = tiny();
  m.attention = AttentionKind::Mla;
  expectInvalid(m, "kv_lora_rank");
}

TEST(MoeModelPresets, UnknownPresetListsTheNames) {
  try {
    moeModelPreset("mixtral-8x8b");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_THAT(e.what(), HasSubstr("mixtral-8x8b"));
    EXPECT_THAT(e.what(), HasSubstr("deepseek-v3"));
    EXPECT_THAT(e.what(), HasSubstr("grok-1"));
  }
  EXPECT_EQ(moeModelPreset("DeepSeek-V3").name, "deepseek-v3");
}

MoeModelConfig fromParams(const Params& given) {
  return moeModelFromParams(resolveParams(given, moeModelParams(), "model"), "model");
}

TEST(MoeModelParams, EveryParameterIsDocumented) {
  const auto specs = moeModelParams();
  EXPECT_GE(specs.size(), 32u);
  for (const auto& s : specs) {
    EXPECT_FALSE(s.help.empty()) << s.name;
    EXPECT_TRUE(s.defaultValue.has_value()) << s.name;
    if (s.type == ParamType::Integer) {
      EXPECT_TRUE(s.min && s.max) << s.name;
    }
  }
}

TEST(MoeModelParams, PresetWithOverrides) {
  const MoeModelConfig full = moeModelPreset("deepseek-v3");
  EXPECT_EQ(fromParams({{"preset", "deepseek-v3"}}).totalParams(), full.totalParams());

  const MoeModelConfig m = fromParams({{"preset", "deepseek-v3"}, {"layers", "4"}});
  EXPECT_EQ(m.name, "deepseek-v3");
  EXPECT_THAT(m.source, HasSubstr("layers=4"));
  EXPECT_EQ(m.layers, 4u);
  EXPECT_EQ(m.moeLayerCount(), 1u);
  EXPECT_EQ(m.experts, 256u);
  EXPECT_EQ(m.kvCacheBytesPerToken(), 576u * 4 * 2);
  EXPECT_EQ(m.totalParams(), 3 * full.layerParams(0) + full.layerParams(3) + 2ull * 129280 * 7168 + 7168);

  const MoeModelConfig q = fromParams({{"preset", "qwen3-30b-a3b"}, {"top_k", "2"}, {"kv_cache_type", "fp8"},
                                       {"expert_weight_format", "mxfp4"}});
  EXPECT_EQ(q.topK, 2u);
  EXPECT_EQ(q.kvCacheType, hw::DataType::Fp8);
  EXPECT_EQ(q.expertWeightFormat, WeightFormat::Mxfp4);
}

TEST(MoeModelParams, CustomModel) {
  const MoeModelConfig m = fromParams({{"name", "toy"},
                                       {"layers", "4"},
                                       {"hidden_size", "1024"},
                                       {"vocab_size", "32000"},
                                       {"attention", "mla"},
                                       {"heads", "8"},
                                       {"kv_lora_rank", "256"},
                                       {"qk_nope_head_dim", "64"},
                                       {"qk_rope_head_dim", "32"},
                                       {"v_head_dim", "64"},
                                       {"first_k_dense", "1"},
                                       {"dense_intermediate_size", "4096"},
                                       {"experts", "16"},
                                       {"top_k", "4"},
                                       {"expert_intermediate_size", "512"},
                                       {"shared_experts", "1"},
                                       {"shared_intermediate_size", "1024"},
                                       {"n_group", "4"},
                                       {"topk_group", "2"},
                                       {"gated_ffn", "false"},
                                       {"tie_word_embeddings", "true"}});
  EXPECT_EQ(m.name, "toy");
  EXPECT_EQ(m.attention, AttentionKind::Mla);
  EXPECT_FALSE(m.gatedFfn);
  EXPECT_EQ(m.paramsPerExpert(), 2ull * 1024 * 512);
  EXPECT_EQ(m.moeLayerCount(), 3u);
  EXPECT_EQ(m.kvCacheBytesPerToken(), (256u + 32) * 4 * 2);
  EXPECT_EQ(m.activeParamsWithEmbedding(), m.activeParamsPerToken());  // tied: the table is the LM head
  const uint64_t attention = 1024ull * 8 * 96 + 1024ull * 288 + 256 + 256ull * 8 * 128 + 8ull * 64 * 1024;
  EXPECT_EQ(m.attentionParams(), attention);
  const uint64_t dense = attention + 2048 + 2ull * 1024 * 4096;
  const uint64_t moe = attention + 2048 + 1024ull * 16 + 16 * m.paramsPerExpert() + 2ull * 1024 * 1024;
  EXPECT_EQ(m.totalParams(), dense + 3 * moe + 32000ull * 1024 + 1024);
}

void expectParamError(const Params& given, const std::string& text) {
  try {
    fromParams(given);
    ADD_FAILURE() << "accepted, expected an error containing: " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_THAT(e.what(), HasSubstr(text));
  }
}

TEST(MoeModelParams, ErrorsNameTheParameter) {
  expectParamError({{"preset", "deepseek-v4"}}, "model.preset: unknown MoE model preset \"deepseek-v4\"");
  expectParamError({{"preset", "deepseek-v3"}, {"attention", "linear"}}, "model.attention: expected gqa or mla");
  expectParamError({{"preset", "deepseek-v3"}, {"gated_ffn", "maybe"}}, "model.gated_ffn: expected true or false");
  expectParamError({{"preset", "deepseek-v3"}, {"weight_format", "fp4"}}, "model.weight_format");
  expectParamError({{"preset", "deepseek-v3"}, {"kv_cache_type", "mxfp4"}}, "model.kv_cache_type");
  expectParamError({{"preset", "mixtral-8x7b"}, {"top_k", "9"}}, "top_k (9) exceeds experts (8)");
  expectParamError({{"preset", "mixtral-8x7b"}, {"layers", "-5"}}, "model.layers");
  expectParamError({{"preset", "mixtral-8x7b"}, {"layers", "four"}}, "model.layers");
  expectParamError({{"preset", "mixtral-8x7b"}, {"experts_per_token", "2"}}, "unknown parameter \"experts_per_token\"");
  // A custom model must give its sizes; the first missing one is named.
  expectParamError({{"layers", "2"}}, "hidden_size must be at least 1");
}

}  // namespace
}  // namespace wafersim::moe
