// Placement-oblivious execution (mapping.execution oblivious, Patterns behind Chaos' Base): each
// expert's tokens in blocks dealt to the dies in turn, whatever the placement; a die computing an
// expert it does not hold reads the whole expert from its holder over the network every step.
#include <string>

#include <gtest/gtest.h>

#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::component;
using testing::run;

// Two GPUs, two experts (expert e on GPU e under EP), top-1, one request of 64 prompt tokens.
std::string oneLayer(const std::string& mapping) {
  return R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 2, mode: store_and_forward}
  model: {name: one-layer, layers: 1, hidden_size: 1024, vocab_size: 4096, heads: 8, kv_heads: 2, head_dim: 128,
          experts: 2, top_k: 1, expert_intermediate_size: 2048}
  workload: {kind: closed, concurrency: 1, count: 1, prompt_tokens: 64, output_tokens: 1}
  mapping: )" + mapping + R"(
simulation: {partitions: 1}
)";
}

constexpr uint64_t kExpertBytes = 3ull * 1024 * 2048 * 2;

TEST(ServingOblivious, BlocksOfOneTokenAlternateDiesAndEachDieReadsTheExpertItLacks) {
  // Blocks of one token: token t's expert is computed on GPU t mod 2, so both GPUs compute both
  // experts, and each reads the one it does not hold (whole) from the other. The request's tokens
  // live on GPU 0: the odd ones go to GPU 1.
  const Results res = run(build(oneLayer("{policy: ep, execution: oblivious, oblivious_block_tokens: 1}")), 1);
  EXPECT_EQ(component(res, "gpu[0]").counters.at("migration_bytes"), kExpertBytes);
  EXPECT_EQ(component(res, "gpu[1]").counters.at("migration_bytes"), kExpertBytes);
  EXPECT_EQ(component(res, "gpu[0]").counters.at("dispatch_bytes"), 32u * 1024 * 2);
  // Placed, the same routing reads nothing remotely and finishes sooner.
  const Results placed = run(build(oneLayer("{policy: ep}")), 1);
  EXPECT_EQ(component(placed, "gpu[0]").counters.at("migration_bytes"), 0u);
  EXPECT_GT(component(res, "host").histograms.at("ttft_ps").min, component(placed, "host").histograms.at("ttft_ps").min);
}

TEST(ServingOblivious, OneBlockPerExpertOpensOnTheNextDieInTurn) {
  // Blocks of 64: each expert's tokens form one block; the first expert chosen opens on GPU 0,
  // the second on GPU 1. Whichever they are, the two GPUs together read at most both experts and
  // compute every token once: the results are those of 1 and 2 partitions alike.
  const auto built = build(oneLayer("{policy: ep, execution: oblivious, oblivious_block_tokens: 64}"));
  const Results one = run(built, 1), two = run(built, 2);
  EXPECT_EQ(one.digestHex(), two.digestHex());
  const uint64_t moved = component(one, "gpu[0]").counters.at("migration_bytes") +
                         component(one, "gpu[1]").counters.at("migration_bytes");
  EXPECT_TRUE(moved == 0 || moved == kExpertBytes || moved == 2 * kExpertBytes) << moved;
}

TEST(ServingOblivious, UnknownExecutionAndOnlinePlacementAreRefused) {
  auto error = [](const std::string& text) -> std::string {
    try {
      build(text);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error(oneLayer("{policy: ep, execution: sideways}")).find("mapping.execution"), std::string::npos);
  EXPECT_NE(error(oneLayer("{policy: ep, execution: oblivious, online_policy: eplb}")).find("mapping.execution"),
            std::string::npos);
}

}  // namespace
}  // namespace wafersim
