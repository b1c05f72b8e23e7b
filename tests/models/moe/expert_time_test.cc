// The routed experts' FFN time per MoE layer (models/moe/expert_compute.h; summary
// serving.expert_time_s and decode_expert_time_s): the busiest die's, summed over steps and
// layers, by hand on one layer; a placement that spreads skewed work evenly lowers it and leaves
// the mean die's unchanged; the same on any number of partitions.
#include <string>

#include <gtest/gtest.h>

#include "models/hardware/presets.h"
#include "models/moe/serving_summary.h"
#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::Built;
using testing::component;
using testing::run;

// Two H100-class GPUs, a one-layer model with two experts and top-2: every token visits both
// experts, expert e on GPU e (as in serving_test.cc).
const char* kTwoExperts = R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 2}
  model:
    name: one-layer
    layers: 1
    hidden_size: 1024
    vocab_size: 4096
    heads: 8
    kv_heads: 2
    head_dim: 128
    experts: 2
    top_k: 2
    expert_intermediate_size: 2048
  workload: {kind: closed, concurrency: 1, count: 1, prompt_tokens: 64, output_tokens: 3}
simulation: {partitions: 1}
)";

// Eight GPUs, two MoE layers of 64 experts, top-4, Zipf-skewed routing; 1024 sequences, so the hot
// experts' GEMMs are compute-bound (splitting them over copies pays). The policy is set per test.
const char* kSkewed = R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 8}
  model:
    name: skewed
    layers: 2
    hidden_size: 2048
    vocab_size: 4096
    heads: 16
    kv_heads: 4
    head_dim: 128
    experts: 64
    top_k: 4
    expert_intermediate_size: 1024
  workload: {kind: closed, concurrency: 1024, count: 1024, prompt_tokens: 8, output_tokens: 3}
  scheduler: {max_running: 1024, token_budget: 16384}
  routing: {kind: synthetic, zipf: 1.2}
  mapping: {profile_tokens: 65536, profile_sequence: 32}
simulation: {partitions: 1, seed: 3}
)";

double at(const nlohmann::json& j, const std::string& key) { return j.at(key).get<double>(); }

TEST(ExpertTime, OneLayersExpertsTakeTheHandComputedTime) {
  const Results res = run(build(kTwoExperts), 1);
  const hw::DieSpec gpu = hw::h100DieSpec();
  auto gemm = [&](uint64_t m, uint64_t n, uint64_t k) {
    return hw::gemmTime(gpu.engines[0].compute, hw::Gemm{m, n, k, hw::DataType::Bf16}, gpu.engines[0].dramBandwidth).ps();
  };
  // Step 1: the 64-token prompt; steps 2 and 3: one decode token each.
  auto ffn = [&](uint64_t m) { return gemm(m, 2 * 2048, 1024) + gemm(m, 1024, 2048); };
  const auto& host = component(res, "host").counters;
  ASSERT_EQ(host.at("steps"), 3u);
  // Every die runs one expert with every token of the step: the busiest die's time is one FFN.
  const int64_t decode = 2 * ffn(1);
  EXPECT_EQ(host.at("expert_time_ps"), static_cast<uint64_t>(ffn(64) + decode));
  EXPECT_EQ(host.at("expert_die_time_ps"), 2 * host.at("expert_time_ps"));
  EXPECT_EQ(host.at("decode_only_steps"), 2u);
  EXPECT_EQ(host.at("decode_expert_time_ps"), static_cast<uint64_t>(decode));
  const auto summary = moe::servingSummary(res);
  ASSERT_TRUE(summary);
  EXPECT_DOUBLE_EQ(at(*summary, "expert_time_s"), static_cast<double>(host.at("expert_time_ps")) * 1e-12);
  EXPECT_DOUBLE_EQ(at(*summary, "expert_time_mean_s"), at(*summary, "expert_time_s"));
  EXPECT_DOUBLE_EQ(at(*summary, "expert_time_busiest_over_mean"), 1.0);
  EXPECT_DOUBLE_EQ(at(*summary, "decode_expert_time_s"), static_cast<double>(decode) * 1e-12);
}

TEST(ExpertTime, BalancingASkewedLoadLowersTheBusiestDieNotTheMean) {
  auto summary = [](const std::string& policy) {
    const auto s = moe::servingSummary(run(build(kSkewed, {"params.mapping.policy=" + policy}), 1));
    EXPECT_TRUE(s) << policy;
    return *s;
  };
  const nlohmann::json contiguous = summary("ep_contiguous"), remap = summary("remap"), dup = summary("dup");
  // Skewed routing leaves the contiguous blocks unequal.
  EXPECT_GT(at(contiguous, "expert_time_busiest_over_mean"), 1.3);
  // Remap permutes whole experts: the same GEMMs on other dies, so the same mean; the busiest
  // die gets less.
  EXPECT_DOUBLE_EQ(at(remap, "expert_time_mean_s"), at(contiguous, "expert_time_mean_s"));
  EXPECT_LT(at(remap, "expert_time_s"), at(contiguous, "expert_time_s"));
  EXPECT_LT(at(remap, "decode_expert_time_s"), at(contiguous, "decode_expert_time_s"));
  EXPECT_LT(at(remap, "expert_time_busiest_over_mean"), at(contiguous, "expert_time_busiest_over_mean"));
  // Dup splits the hottest experts' tokens over two copies.
  EXPECT_LT(at(dup, "expert_time_s"), at(contiguous, "expert_time_s"));
  for (const nlohmann::json* s : {&contiguous, &remap, &dup}) {
    EXPECT_GE(at(*s, "expert_time_s"), at(*s, "expert_time_mean_s"));
    EXPECT_GT(at(*s, "decode_expert_time_s"), 0.0);
    EXPECT_LT(at(*s, "decode_expert_time_s"), at(*s, "expert_time_s"));
  }
}

TEST(ExpertTime, TheSameOnAnyNumberOfPartitions) {
  const Built b = build(kSkewed, {"params.mapping.policy=dup"});
  const Results one = run(b, 1);
  const auto expected = moe::servingSummary(one);
  ASSERT_TRUE(expected);
  for (uint32_t parts : {2u, 3u}) {
    const Results many = run(b, parts);
    EXPECT_EQ(many.digestHex(), one.digestHex()) << parts;
    const auto got = moe::servingSummary(many);
    ASSERT_TRUE(got);
    for (const char* key : {"expert_time_s", "expert_time_mean_s", "decode_expert_time_s", "decode_expert_time_mean_s"})
      EXPECT_EQ(at(*got, key), at(*expected, key)) << key << " on " << parts << " partitions";
  }
}

}  // namespace
}  // namespace wafersim
