// The MoE layer's simulated time (summary serving.moe_layer, issue 18): every die times each
// forward MoE layer from its gate to its last combine; the die that spent the most gives the
// figure. It holds at least that die's routed experts' FFN time, less than the steps, the same on
// any number of partitions; absent under the two-batch overlap, which interleaves layers.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "models/moe/serving_summary.h"
#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::component;
using testing::run;

// Two H100-class GPUs, two MoE layers of two experts each, top-2: every token visits both GPUs in
// every layer.
const char* kTwoLayers = R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 2}
  model:
    name: two-layers
    layers: 2
    hidden_size: 1024
    vocab_size: 4096
    heads: 8
    kv_heads: 2
    head_dim: 128
    experts: 2
    top_k: 2
    expert_intermediate_size: 2048
  workload: {kind: closed, concurrency: 4, count: 4, prompt_tokens: 64, output_tokens: 3}
simulation: {partitions: 1}
)";

double at(const nlohmann::json& j, const std::string& key) { return j.at(key).get<double>(); }

TEST(MoeLayerTime, EveryLayerOfEveryStepIsTimedOnEveryDie) {
  const Results res = run(build(kTwoLayers), 1);
  const auto& host = component(res, "host").counters;
  const uint64_t steps = host.at("steps");
  ASSERT_GT(steps, 0u);
  uint64_t most = 0;
  for (const char* die : {"gpu[0]", "gpu[1]"}) {
    const auto& c = component(res, die).counters;
    EXPECT_EQ(c.at("moe_layers_timed"), 2 * steps) << die;
    most = std::max(most, c.at("moe_layer_ps"));
  }
  const auto summary = moe::servingSummary(res);
  ASSERT_TRUE(summary);
  const nlohmann::json& m = summary->at("moe_layer");
  EXPECT_DOUBLE_EQ(at(m, "time_s"), static_cast<double>(most) * 1e-12);
  EXPECT_DOUBLE_EQ(at(m, "per_step_s"), at(m, "time_s") / static_cast<double>(steps));
  EXPECT_DOUBLE_EQ(at(m, "per_layer_s"), at(m, "time_s") / static_cast<double>(2 * steps));
  // The busiest die computes its experts inside the layers it times; the steps also hold attention
  // and the LM head.
  EXPECT_GE(at(m, "time_s"), at(*summary, "expert_time_s"));
  const HistogramRecord& step = component(res, "host").histograms.at("step_ps");
  EXPECT_LT(at(m, "time_s"), static_cast<double>(step.sum) * 1e-12);
}

TEST(MoeLayerTime, TheSameOnAnyNumberOfPartitions) {
  const auto b = build(kTwoLayers);
  const auto one = moe::servingSummary(run(b, 1));
  ASSERT_TRUE(one);
  for (uint32_t parts : {2u, 3u}) {
    const auto many = moe::servingSummary(run(b, parts));
    ASSERT_TRUE(many);
    EXPECT_EQ(many->at("moe_layer"), one->at("moe_layer")) << parts << " partitions";
  }
}

TEST(MoeLayerTime, AbsentWhenTwoMicroBatchesInterleaveTheLayers) {
  const auto summary = moe::servingSummary(run(build(kTwoLayers, {"params.serving.overlap=two_batch"}), 1));
  ASSERT_TRUE(summary);
  EXPECT_FALSE(summary->contains("moe_layer"));
  EXPECT_GT(at(*summary, "expert_time_s"), 0.0);
}

}  // namespace
}  // namespace wafersim
