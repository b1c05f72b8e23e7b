// A3D-MoE's mechanisms in the serving engine (research/seeds.md 1): the V-Cache (serving.vcache:
// routed experts' weights held in the die's SRAM tier across steps) and the adaptive GEMV/GEMM
// array split (serving.array_split adaptive, with two-batch overlap its attention/MoE fusion), on
// one A3D-MoE-style stack.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/moe/serving_summary.h"
#include "sim/error.h"
#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::Built;
using testing::component;
using testing::run;

// One MoE layer of 2 experts, top-2 (every token reads both), hidden 1024, expert FFN 2048 (gated:
// 3 x 1024 x 2048 bf16 = 12,582,912 B per expert); one request: an 8-token prompt, 4 output
// tokens: 4 steps (the prefill, then 3 one-token decode steps).
const char* kTwoExperts = R"(
model: moe_serving
params:
  hardware: {system: gpu-box, die: a3d-moe, x: 1}
  model: {name: two-experts, layers: 1, hidden_size: 1024, vocab_size: 4096, heads: 8, kv_heads: 2, head_dim: 128,
          experts: 2, top_k: 2, expert_intermediate_size: 2048}
  workload: {kind: closed, concurrency: 1, count: 1, prompt_tokens: 8, output_tokens: 4}
  serving: {compute_type: bf16}
simulation: {partitions: 1}
)";

// DeepSeek-V2-Lite's first two layers (a dense one, an MoE one) on one stack, eight requests:
// decode steps of GEMV-shaped work, and prefill steps.
const char* kV2Lite = R"(
model: moe_serving
params:
  hardware: {system: gpu-box, die: a3d-moe, x: 1}
  model: {preset: deepseek-v2-lite, layers: 2}
  workload: {kind: closed, concurrency: 8, count: 8, prompt_tokens: 32, output_tokens: 8}
  routing: {kind: synthetic, zipf: 1.0}
  serving: {compute_type: bf16}
simulation: {partitions: 1}
)";

nlohmann::json summary(const Results& r) { return *moe::servingSummary(r); }

TEST(ServingVCache, AResidentExpertIsReadFromSramNotDram) {
  const Results off = run(build(kTwoExperts), 1);
  const Results on = run(build(kTwoExperts, {"params.serving.vcache=16 MB"}), 1);
  const nlohmann::json a = summary(off), b = summary(on);
  ASSERT_EQ(a["steps"], 4u);
  // 16 MB holds one expert. LFU: expert 0 is admitted at the prefill; expert 1 ties with it on
  // tokens, so it is never admitted: expert 0 hits in the 3 decode steps, expert 1 always misses.
  EXPECT_EQ(b["vcache"]["hits"], 3u);
  EXPECT_EQ(b["vcache"]["misses"], 5u);
  // A decode hit moves expert 0's two GEMMs (M = 1) off the DRAM:
  //   gate/up (1 x 4096 x 1024): (1024 + 1024 x 4096 + 4096) x 2 B =  8,398,848 B
  //   down    (1 x 1024 x 2048): (2048 + 2048 x 1024 + 1024) x 2 B =  4,200,448 B
  const uint64_t perHit = 8'398'848 + 4'200'448;
  EXPECT_EQ(a["dram_bytes"].get<uint64_t>() - b["dram_bytes"].get<uint64_t>(), 3 * perHit);
  // The SRAM streams the hits and takes the one fill (the expert's weights).
  EXPECT_EQ(a["sram_bytes"], 0u);
  EXPECT_EQ(b["sram_bytes"].get<uint64_t>(), 3 * perHit + 12'582'912);
  // The SRAM path is faster (8 TB/s against 2 TB/s) and cheaper per bit: never slower, less energy.
  EXPECT_LE(b["makespan_s"].get<double>(), a["makespan_s"].get<double>());
  EXPECT_LT(b["energy_j"].get<double>(), a["energy_j"].get<double>());
}

TEST(ServingVCache, LruThrashesWhereTheScoreAwarePolicyKeepsTheHotExpert) {
  // Both experts every step in the same order through room for one: LRU never hits.
  const Results lru = run(build(kTwoExperts, {"params.serving.vcache=16 MB", "params.serving.vcache_policy=lru"}), 1);
  EXPECT_EQ(summary(lru)["vcache"]["hits"], 0u);
}

TEST(ServingVCache, DieSizeTakesTheDiesSramCapacity) {
  // The a3d-moe die's SRAM tier is 32 MB: both experts fit, every decode read hits.
  const Results r = run(build(kTwoExperts, {"params.serving.vcache=die"}), 1);
  EXPECT_EQ(summary(r)["vcache"]["hits"], 6u);
}

TEST(ServingArraySplit, DecodeRunsFasterAndCheaperOnTheAdaptiveArray) {
  const nlohmann::json s = summary(run(build(kV2Lite), 1));
  const nlohmann::json a = summary(run(build(kV2Lite, {"params.serving.array_split=adaptive"}), 1));
  // Decode's GEMVs pad to 128 rows on the static array; in GEMV mode they stream their weights.
  EXPECT_LT(a["tpot"]["mean_s"].get<double>(), s["tpot"]["mean_s"].get<double>());
  EXPECT_LT(a["makespan_s"].get<double>(), s["makespan_s"].get<double>());
  EXPECT_LT(a["energy_by_category_j"]["compute"].get<double>(), s["energy_by_category_j"]["compute"].get<double>());
  // GEMV mode stages each op's weights (and K/V) through the SRAM tier (array_split.h): the DRAM
  // reads them once, as the static array does; the tokens' re-reads go to the SRAM.
  EXPECT_EQ(a["dram_bytes"].get<uint64_t>(), s["dram_bytes"].get<uint64_t>());
  EXPECT_EQ(s["sram_bytes"], 0u);
  EXPECT_GT(a["sram_bytes"].get<uint64_t>(), 0u);
  EXPECT_LT(a["energy_j"].get<double>(), s["energy_j"].get<double>());
}

TEST(ServingArraySplit, PrefillIsNeverSlowerOnTheAdaptiveArray) {
  const std::vector<std::string> prefill = {"params.workload.concurrency=1", "params.workload.count=1",
                                            "params.workload.prompt_tokens=1024", "params.workload.output_tokens=1"};
  std::vector<std::string> adaptive = prefill;
  adaptive.push_back("params.serving.array_split=adaptive");
  const nlohmann::json s = summary(run(build(kV2Lite, prefill), 1));
  const nlohmann::json a = summary(run(build(kV2Lite, adaptive), 1));
  EXPECT_LE(a["makespan_s"].get<double>(), s["makespan_s"].get<double>());
}

TEST(ServingArraySplit, FusionWithTwoBatchOverlapIsDeterministicOverPartitions) {
  const Built b = build(kV2Lite, {"params.serving.array_split=adaptive", "params.serving.overlap=two_batch",
                                  "params.serving.vcache=64 MB"});
  const Results one = run(b, 1), two = run(b, 2), nulls = run(b, 2, SyncKind::NullMessage);
  EXPECT_EQ(one.digestHex(), two.digestHex());
  EXPECT_EQ(one.digestHex(), nulls.digestHex());
  EXPECT_EQ(summary(one)["requests_finished"], 8u);
}

TEST(ServingArraySplit, FusionBeatsTwoBatchOnTheStaticArray) {
  // On one stack two-batch overlap has no exchange to hide: on the static array it only splits
  // the work; on the adaptive one, one micro-batch's attention runs beside the other's experts.
  const nlohmann::json s = summary(run(build(kV2Lite, {"params.serving.overlap=two_batch"}), 1));
  const nlohmann::json f =
      summary(run(build(kV2Lite, {"params.serving.overlap=two_batch", "params.serving.array_split=adaptive"}), 1));
  EXPECT_LT(f["makespan_s"].get<double>(), s["makespan_s"].get<double>());
}

TEST(ServingA3dErrors, AdaptiveNeedsOneArrayAndAVCacheNeedsSram) {
  auto refused = [](const std::string& text, const std::vector<std::string>& set, const std::string& field) {
    try {
      build(text, set);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  refused(kTwoExperts, {"params.hardware.die=duplex", "params.serving.array_split=adaptive"}, "serving.array_split");
  refused(kTwoExperts, {"params.serving.array_split=diagonal"}, "serving.array_split");
  refused(kTwoExperts, {"params.serving.array_split=adaptive", "params.serving.array_split_rows=48"},
          "serving.array_split_rows");
  refused(kTwoExperts, {"params.hardware.die=hd-moe-compute-rich", "params.serving.vcache=die"}, "serving.vcache");
  refused(kTwoExperts, {"params.serving.vcache=16 MB", "params.serving.vcache_policy=fifo"}, "serving.vcache_policy");
  refused(kTwoExperts, {"params.serving.vcache=lots"}, "serving.vcache");
}

TEST(ServingA3d, EvenOddInterleaveIsTheContiguousLayoutOnOneStack) {
  // The simulator's DRAM has no channels: a3d_interleave spreads experts over dies, and one stack
  // is one die, so it places exactly as ep_contiguous does.
  const Results a = run(build(kV2Lite, {"params.mapping.policy=ep_contiguous"}), 1);
  const Results b = run(build(kV2Lite, {"params.mapping.policy=a3d_interleave"}), 1);
  EXPECT_EQ(a.digestHex(), b.digestHex());
}

}  // namespace
}  // namespace wafersim
