// Mozart-style training (models/moe, seeds.md 5): C_T, the copies per token measured from the routed
// tokens and the placement in force (summary serving.copies_per_token), and the exchange's
// pipeline (training.pipeline load_then_compute vs streamed).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/study.h"
#include "models/moe/serving_plan.h"
#include "models/moe/serving_summary.h"
#include "sim/error.h"
#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::Built;
using testing::run;

// Mozart's NoP-tree (root, 4 switches, 4 chiplets each) with the root's attention chiplet masked
// out, so the 16 leaf chiplets in 4 groups hold the experts and the sequences. A one-layer model of
// 16 experts, top-4 (one expert per chiplet under ep); one step of 16 sequences of 256 tokens.
const char* kTree = R"(
model: moe_training
params:
  hardware: {system: mozart, failed_dies: "0"}
  model:
    name: one-layer-16
    layers: 1
    hidden_size: 1024
    vocab_size: 4096
    heads: 8
    kv_heads: 2
    head_dim: 128
    experts: 16
    top_k: 4
    expert_intermediate_size: 1024
  training: {steps: 1, sequences: 16, sequence_length: 256, micro_batches: 1}
simulation: {partitions: 1}
)";

nlohmann::json summaryOf(const Built& b) {
  const auto s = moe::servingSummary(run(b, 1));
  if (!s) throw std::runtime_error("no serving summary");
  return *s;
}

TEST(Training, EveryChoiceOnItsOwnChipletGivesTopKCopiesAndGroupsTheAnalyticExpectation) {
  // Uniform routing, expert e alone on the e-th chiplet: every token reaches exactly top-k = 4
  // chiplets. Chiplet groups hold 4 experts each; 4 distinct experts of 16 drawn uniformly touch
  // 4 (1 - C(12,4)/C(16,4)) = 4 (1 - 495/1820) = 2.912 groups on average (4096 tokens: sd 0.01).
  const nlohmann::json s = summaryOf(build(kTree, {"params.mapping.policy=ep"}));
  EXPECT_DOUBLE_EQ(s["copies_per_token"]["die"].get<double>(), 4.0);
  EXPECT_NEAR(s["copies_per_token"]["group"].get<double>(), 4.0 * (1.0 - 495.0 / 1820.0), 0.04);
}

TEST(Training, ClusteringCoActivatedExpertsIntoOneGroupGivesOneGroupCopy) {
  // Every token's 4 experts are one of 4 co-activation groups of 4 (group_probability 1); the
  // Mozart clustering puts each into one chiplet group, so a token's copy crosses the root once.
  // Expert parallel in turn spreads every co-activation group over the chiplet groups.
  const std::vector<std::string> grouped = {"params.routing.groups=4", "params.routing.group_probability=1"};
  std::vector<std::string> mozart = grouped, ep = grouped;
  mozart.push_back("params.mapping.policy=mozart_cluster");
  ep.push_back("params.mapping.policy=ep");
  const nlohmann::json clustered = summaryOf(build(kTree, mozart)), dealt = summaryOf(build(kTree, ep));
  EXPECT_DOUBLE_EQ(clustered["copies_per_token"]["group"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(dealt["copies_per_token"]["die"].get<double>(), 4.0);
  EXPECT_GT(dealt["copies_per_token"]["group"].get<double>(), 1.5);
}

TEST(Training, AServingRunCountsCopiesToo) {
  // Top-2 of 2 experts on 2 GPUs: every token reaches both, 2 copies; the GPUs share one switch,
  // one chiplet group (placement_bridge.h), so 1 copy per group. A mesh has no groups.
  const Built b = build(R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 2}
  model: {name: tiny, layers: 1, hidden_size: 1024, vocab_size: 4096, heads: 8, kv_heads: 2, head_dim: 128,
          experts: 2, top_k: 2, expert_intermediate_size: 1024}
  workload: {kind: closed, concurrency: 4, count: 4, prompt_tokens: 32, output_tokens: 2}
simulation: {partitions: 1}
)");
  const nlohmann::json s = summaryOf(b);
  EXPECT_DOUBLE_EQ(s["copies_per_token"]["die"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(s["copies_per_token"]["group"].get<double>(), 1.0);
  const nlohmann::json mesh = summaryOf(build(R"(
model: moe_serving
params:
  hardware: {system: hd-moe-balanced, x: 2, y: 1}
  model: {name: tiny, layers: 1, hidden_size: 1024, vocab_size: 4096, heads: 8, kv_heads: 2, head_dim: 128,
          experts: 2, top_k: 2, expert_intermediate_size: 1024}
  workload: {kind: closed, concurrency: 4, count: 4, prompt_tokens: 32, output_tokens: 2}
simulation: {partitions: 1}
)"));
  EXPECT_DOUBLE_EQ(mesh["copies_per_token"]["die"].get<double>(), 2.0);
  EXPECT_FALSE(mesh["copies_per_token"].contains("group"));
}

double stepSeconds(const std::vector<std::string>& overrides) {
  return summaryOf(build(kTree, overrides))["mean_step_s"].get<double>();
}

TEST(Training, StreamedSlicesFillTheArrayAndNeverMore) {
  // 4096 tokens x top-4 / 16 experts = 1024 tokens per expert: 8 slices of the 128-row array at
  // most, so stream_slices 4 gives 4 and 16 gives 8; 256 tokens (64 per expert) cannot fill one.
  auto slices = [](const std::vector<std::string>& overrides) {
    const Built b = build(kTree, overrides);
    const auto plan = b.graph.data().get<moe::ServingPlan>(moe::kServingDataKey, "test");
    return plan->step(1, SimTime::zero(), SimTime::zero())->streamSlices;
  };
  EXPECT_EQ(slices({"params.training.pipeline=streamed"}), 4u);
  EXPECT_EQ(slices({"params.training.pipeline=streamed", "params.training.stream_slices=16"}), 8u);
  EXPECT_EQ(slices({"params.training.pipeline=streamed", "params.training.sequence_length=16"}), 1u);
  EXPECT_EQ(slices({"params.training.pipeline=load_then_compute"}), 1u);
}

TEST(Training, StreamedIsNeverSlowerAndFasterWhenCommunicationAndComputeAreComparable) {
  // From links much slower than the experts to much faster: the streamed exchange overlaps what
  // load-then-compute runs one after the other, so it never takes longer; where dispatch, weight
  // loads and expert compute take comparable times it saves a clear share of the step. (No
  // optimizer step: it streams every weight, the same in both, and would dilute the difference.)
  double bestGain = 0;
  for (const char* bandwidth : {"16 GB/s", "64 GB/s", "256 GB/s", "2 TB/s"}) {
    const std::string link = std::string("params.hardware.link_bandwidth=") + bandwidth;
    const char* noOptimizer = "params.training.optimizer_bytes_per_param=0";
    const double loadThenCompute = stepSeconds({link, noOptimizer, "params.training.pipeline=load_then_compute"});
    const double streamed = stepSeconds({link, noOptimizer, "params.training.pipeline=streamed"});
    EXPECT_LE(streamed, loadThenCompute) << bandwidth;
    bestGain = std::max(bestGain, loadThenCompute / streamed);
    std::printf("%s: load_then_compute %.6f s, streamed %.6f s\n", bandwidth, loadThenCompute, streamed);
  }
  EXPECT_GT(bestGain, 1.15);
  // Streamed in one slice (too few tokens to fill the array twice) still streams the weights under
  // the GEMMs, where load-then-compute loads them first.
  const std::vector<std::string> short16 = {"params.training.sequence_length=16"};
  auto with = [&](const char* pipeline) {
    std::vector<std::string> o = short16;
    o.push_back(std::string("params.training.pipeline=") + pipeline);
    return stepSeconds(o);
  };
  EXPECT_LT(with("streamed"), with("load_then_compute"));
}

TEST(Training, AnUnknownPipelineIsRefusedNamingTheField) {
  try {
    build(kTree, {"params.training.pipeline=eager"});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("params.training.pipeline"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("unknown pipeline \"eager\" (load_then_compute, streamed)"));
  }
}

TEST(Training, StreamedIsTheSameOnEveryPartitioning) {
  const Built b = build(kTree, {"params.training.pipeline=streamed", "params.routing.groups=4",
                                "params.routing.group_probability=0.5", "params.mapping.policy=mozart_cluster"});
  EXPECT_EQ(run(b, 1).digestHex(), run(b, 3).digestHex());
}

TEST(Training, TheMozartStudyParsesAndEveryRunBuilds) {
  // examples/mozart: its study file (step time, C_T per chiplet and per group) and its scenario
  // with each run's overrides.
  const std::string dir = std::string(WAFERSIM_SOURCE_DIR) + "/examples/mozart";
  const study::Study st = study::loadStudy(dir);
  EXPECT_EQ(st.metric.key, "serving.mean_step_s");
  ASSERT_EQ(st.extraMetrics.size(), 2u);
  EXPECT_EQ(st.extraMetrics[0].key, "serving.copies_per_token.die");
  EXPECT_EQ(st.comparisons.front().metric, "serving.copies_per_token.die");
  std::ifstream in(dir + "/train.yaml");
  std::stringstream text;
  text << in.rdbuf();
  for (const study::StudyRun& r : st.runs) {
    EXPECT_EQ(r.scenario, "train.yaml");
    EXPECT_NO_THROW(build(text.str(), r.set)) << r.name;
  }
}

}  // namespace
}  // namespace wafersim
