// Expert placement in the serving engine (models/moe + placement/): a tensor-parallel split
// computes its shards' columns on every die; a replayed placement change migrates the moved
// weights over the network before the layer's experts run, costing simulated time; an online
// policy's decisions are logged, refused when they do not fit, and replayed bit for bit.
#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "models/hardware/compute_die.h"
#include "models/hardware/presets.h"
#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::Built;
using testing::component;
using testing::run;

// As serving_test.cc's one-layer case: two GPUs, two experts, top-2, 64-token prompts.
std::string oneLayer(const std::string& mapping, uint32_t requests = 1) {
  return R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 2, mode: store_and_forward}
  model: {name: one-layer, layers: 1, hidden_size: 1024, vocab_size: 4096, heads: 8, kv_heads: 2, head_dim: 128,
          experts: 2, top_k: 2, expert_intermediate_size: 2048}
  workload: {kind: closed, concurrency: 1, count: )" +
         std::to_string(requests) + R"(, prompt_tokens: 64, output_tokens: 1}
  serving: {command_latency: 1 us}
  mapping: )" + mapping + R"(
simulation: {partitions: 1}
)";
}

struct Costs {
  int64_t gemm(uint64_t m, uint64_t n, uint64_t k) const {
    return hw::gemmTime(gpu.engines[0].compute, hw::Gemm{m, n, k, hw::DataType::Bf16}, gpu.engines[0].dramBandwidth)
        .ps();
  }
  int64_t hop(uint64_t bytes) const { return hw::parseBandwidth("450 GB/s").transferTime(hw::Bytes{bytes}).ps() + 400'000; }
  hw::DieSpec gpu = hw::h100DieSpec();
  const uint64_t P = 64, h = 1024;
  int64_t attentionBlock() const {
    return gemm(P, (8 + 2 * 2) * 128, h) +
           hw::attentionTime(gpu.engines[0].compute, hw::Attention::prefill(1, 8, 2, 128, P, hw::DataType::Bf16),
                             gpu.engines[0].dramBandwidth)
               .ps() +
           gemm(P, h, 8 * 128) + gemm(P, 2, h);
  }
  int64_t tail() const {  // LM head, the die's reaction, the completion command
    return gemm(1, 4096, h) + hw::parseBandwidth("450 GB/s").transferTime(hw::Bytes{1}).ps() + 1'000'000;
  }
};

TEST(ServingPlacement, TensorParallelShardsComputeTheirColumnsOnEveryDie) {
  const Results res = run(build(oneLayer("{policy: tp}")), 1);
  const Costs c;
  // Each GPU holds half of each expert: two half-width FFNs (1024 of 2048 columns).
  const int64_t half = c.gemm(c.P, 2 * 1024, c.h) + c.gemm(c.P, c.h, 1024);
  const int64_t expected = 1'000'000 + c.attentionBlock() + 2 * c.hop(c.P * c.h * 2) + 2 * half +
                           2 * c.hop(c.P * c.h * 2) + c.tail();
  EXPECT_EQ(component(res, "host").histograms.at("ttft_ps").min, expected);
  EXPECT_EQ(component(res, "gpu[0]").counters.at("dispatch_bytes"), c.P * c.h * 2);
  EXPECT_EQ(component(res, "gpu[0]").counters.at("migration_bytes"), 0u);
}

std::string writeLog(const std::string& name, const std::string& json) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << json;
  return path;
}

TEST(ServingPlacement, AReplayedMoveMigratesTheWeightsBeforeTheLayersExperts) {
  // Epoch 1 (decided at step 2's start) moves expert 1 to GPU 0; it acts on step 3, whose prefill
  // waits for expert 1's weights (3 x 1024 x 2048 x 2 B) over two links, then runs both experts.
  const std::string log = writeLog("move.json", R"({"decisions": [{"epoch": 1, "outcome": "applied",
      "placement": {"split": "even", "experts": [[[[0, 65536]]], [[[0, 65536]]]]}}]})");
  const Built moved = build(oneLayer("{replay: " + log + ", epoch: 1 ps, spare_experts: 1}", 3));
  const Results res = run(moved, 1);
  const Costs c;
  const uint64_t expertBytes = 3ull * 1024 * 2048 * 2;
  const int64_t F = c.gemm(c.P, 2 * 2048, c.h) + c.gemm(c.P, c.h, 2048);
  const int64_t migrated = 1'000'000 + 2 * c.hop(expertBytes) + 2 * F + c.tail();
  const int64_t before = 1'000'000 + c.attentionBlock() + 2 * c.hop(c.P * c.h * 2) + F + 2 * c.hop(c.P * c.h * 2) + c.tail();
  const auto& ttft = component(res, "host").histograms.at("ttft_ps");
  EXPECT_EQ(ttft.min, before);    // steps 1 and 2: the initial placement
  EXPECT_EQ(ttft.max, migrated);  // step 3: the weights' transfer is on its critical path
  EXPECT_GT(migrated, before);
  EXPECT_EQ(component(res, "gpu[1]").counters.at("migration_bytes"), expertBytes);
  const TableRecord& log1 = component(res, "host").tables.at("placement_log");
  ASSERT_EQ(log1.rows(), 2u);  // epochs 1 (applied) and 2 (nothing recorded for it)
  EXPECT_EQ(log1.strings[static_cast<size_t>(log1.values[6])], "applied");
  EXPECT_EQ(log1.values[3], 3);  // effective at step 3
  // The same run on 2 partitions.
  EXPECT_EQ(run(moved, 2).digestHex(), res.digestHex());
}

// Four GPUs, eight experts, skewed drifting routing: EPLB re-placed every 200 us.
std::string online(const std::string& extra) {
  return R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 4}
  model: {name: small-moe, layers: 2, hidden_size: 1024, vocab_size: 4096, heads: 8, kv_heads: 2, head_dim: 128,
          experts: 8, top_k: 2, expert_intermediate_size: 1024}
  workload: {kind: closed, concurrency: 16, count: 32, prompt_tokens: 32, output_tokens: 8}
  routing: {kind: synthetic, zipf: 1.5, drift_every_steps: 6, drift_shift: 3}
  mapping: {online_policy: eplb, epoch: 50 us, spare_experts: 4)" +
         extra + R"(}
simulation: {partitions: 1}
)";
}

// HD-MoE DynamicPlacement online: its broadcast budget is the step's attention time, estimated
// from the batch (it was 0, so the policy never broadcast). Long prompts give a budget that fits
// at least one of these small experts on a 2 x 2 NMP mesh.
TEST(ServingPlacement, DynamicPlacementBudgetIsTheStepsAttention) {
  std::string text = online("");
  text.replace(text.find("online_policy: eplb, epoch: 50 us, spare_experts: 4"),
               std::string("online_policy: eplb, epoch: 50 us, spare_experts: 4").size(),
               "online_policy: hd_dynamic, epoch: 1 ns, spare_experts: 4");
  text.replace(text.find("prompt_tokens: 32"), std::string("prompt_tokens: 32").size(), "prompt_tokens: 2048");
  text.replace(text.find("hardware: {system: gpu-box, x: 4}"), std::string("hardware: {system: gpu-box, x: 4}").size(),
               "hardware: {system: hd-moe-compute-rich, x: 2, y: 2}\n  scheduler: {token_budget: 32768}");
  text.replace(text.find("expert_intermediate_size: 1024"), std::string("expert_intermediate_size: 1024").size(),
               "expert_intermediate_size: 32");  // 192 KiB experts: about 10 us a broadcast at 25 GB/s
  const Results res = run(build(text), 1);
  const TableRecord& log = component(res, "host").tables.at("placement_log");
  ASSERT_GE(log.rows(), 2u);
  const size_t width = log.columns.size();
  uint32_t broadcasting = 0;
  for (size_t r = 0; r < log.rows(); ++r) {
    const std::string& reason = log.strings[static_cast<size_t>(log.values[r * width + 7])];
    EXPECT_EQ(reason.find("within the 0.00 us attention budget"), std::string::npos) << reason;
    if (reason.find("pre-broadcast k=0 ") == std::string::npos) ++broadcasting;
  }
  EXPECT_GE(broadcasting, 1u);
}

TEST(ServingPlacement, OnlineDecisionsAreLoggedAppliedAndReplayedBitForBit) {
  const Built live = build(online(""));
  const Results res = run(live, 1);
  const auto& host = component(res, "host");
  const TableRecord& log = host.tables.at("placement_log");
  ASSERT_GE(log.rows(), 2u);
  const size_t width = log.columns.size();
  uint64_t applied = 0, migration = 0;
  for (size_t r = 0; r < log.rows(); ++r)
    if (log.strings[static_cast<size_t>(log.values[r * width + 6])] == "applied") {
      ++applied;
      migration += static_cast<uint64_t>(log.values[r * width + 11]);
    }
  EXPECT_GE(applied, 1u);
  uint64_t moved = 0;
  for (uint32_t d = 0; d < 4; ++d) moved += component(res, "gpu[" + std::to_string(d) + "]").counters.at("migration_bytes");
  EXPECT_GT(moved, 0u);
  EXPECT_LE(moved, migration);  // a decision applied after the last step never migrates
  EXPECT_TRUE(host.tables.count("placement_map"));
  // On 3 partitions, identical.
  EXPECT_EQ(run(live, 3).digestHex(), res.digestHex());

  // Replaying the decisions (as placement_log.json holds them) gives the same run, bit for bit.
  std::string json = R"({"decisions": [)";
  const TableRecord& map = host.tables.at("placement_map");
  bool first = true;
  auto quoted = [](const std::string& text) {
    std::string q = "\"";
    for (char ch : text) q += ch == '"' || ch == '\\' ? std::string("\\") + ch : std::string(1, ch);
    return q + "\"";
  };
  for (size_t r = 0; r < log.rows(); ++r) {
    const int64_t epoch = log.values[r * width];
    const std::string words = R"("policy": )" + quoted(log.strings[static_cast<size_t>(log.values[r * width + 5])]) +
                              R"(, "reason": )" + quoted(log.strings[static_cast<size_t>(log.values[r * width + 7])]) +
                              R"(, "predicted_gain": )" + std::to_string(log.values[r * width + 9]) + "e-6";
    if (log.strings[static_cast<size_t>(log.values[r * width + 6])] != "applied") {
      json += std::string(first ? "" : ",") + R"({"epoch": )" + std::to_string(epoch) + R"(, "outcome": )" +
              quoted(log.strings[static_cast<size_t>(log.values[r * width + 6])]) + ", " + words + "}";
      first = false;
      continue;
    }
    std::string experts = "[";
    for (uint32_t i = 0; i < 2 * 8; ++i) {
      experts += (i ? "," : "") + std::string("[");
      int64_t replica = -1;
      for (size_t m = 0; m < map.rows(); ++m) {
        const int64_t* v = &map.values[m * 7];
        if (v[0] != epoch || v[1] * 8 + v[2] != i) continue;
        if (v[3] != replica) experts += std::string(replica >= 0 ? "]," : "") + "[";
        else experts += ",";
        replica = v[3];
        experts += "[" + std::to_string(v[4]) + "," + std::to_string(v[5]) + "]";
      }
      experts += "]]";
    }
    experts += "]";
    json += std::string(first ? "" : ",") + R"({"epoch": )" + std::to_string(epoch) + ", " + words +
            R"(, "outcome": "applied", "placement": {"split": ")" +
            log.strings[static_cast<size_t>(log.values[r * width + 8])] + R"(", "experts": )" + experts + "}}";
    first = false;
  }
  json += "]}";
  const std::string path = writeLog("eplb.json", json);
  const Results replayed = run(build(online(", online_policy: \"\", replay: " + path)), 1);
  EXPECT_EQ(component(replayed, "host").histograms.at("step_ps").sum, host.histograms.at("step_ps").sum);
  EXPECT_EQ(component(replayed, "host").tables.at("requests").values, host.tables.at("requests").values);
  EXPECT_EQ(replayed.digestHex(), res.digestHex());  // the log itself included
}

TEST(ServingPlacement, ADecisionThatDoesNotFitLeavesThePlacementAndSaysWhy) {
  // The move of the replay test without room for a second expert on GPU 0.
  const std::string log = writeLog("nofit.json", R"({"decisions": [{"epoch": 1, "outcome": "applied",
      "placement": {"split": "even", "experts": [[[[0, 65536]]], [[[0, 65536]]]]}}]})");
  const Results res = run(build(oneLayer("{replay: " + log + ", epoch: 1 ps}", 3)), 1);
  const TableRecord& log1 = component(res, "host").tables.at("placement_log");
  ASSERT_GE(log1.rows(), 1u);
  EXPECT_EQ(log1.strings[static_cast<size_t>(log1.values[6])], "kept");
  EXPECT_NE(log1.strings[static_cast<size_t>(log1.values[7])].find("refused: online placement: die 0 would hold"),
            std::string::npos)
      << log1.strings[static_cast<size_t>(log1.values[7])];
  EXPECT_EQ(log1.values[4], -1);  // never effective
  for (uint32_t d = 0; d < 2; ++d)
    EXPECT_EQ(component(res, "gpu[" + std::to_string(d) + "]").counters.at("migration_bytes"), 0u);
  const auto& ttft = component(res, "host").histograms.at("ttft_ps");
  EXPECT_EQ(ttft.min, ttft.max);  // every step ran on the initial placement
}

TEST(ServingPlacement, BadPlacementSettingsAreRefusedNamingTheField) {
  auto error = [](const std::string& mapping) {
    try {
      build(oneLayer(mapping));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("{policy: psychic}").find("mapping.policy: unknown placement policy \"psychic\""), std::string::npos);
  EXPECT_NE(error("{online_policy: nope}").find("mapping.online_policy: unknown placement policy"), std::string::npos);
  EXPECT_NE(error("{split: random}").find("mapping.split: unknown split \"random\""), std::string::npos);
  EXPECT_NE(error("{replay: /nonexistent.json}").find("mapping.replay: cannot read"), std::string::npos);
  EXPECT_NE(error("{online_policy: eplb, replay: x.json}").find("mapping.replay: replays a recorded log"),
            std::string::npos);
}

}  // namespace
}  // namespace wafersim
