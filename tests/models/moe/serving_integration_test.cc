// MoE serving across partitions (models/moe): a serving run with Poisson arrivals, skewed and
// correlated synthetic routing and small batches gives identical results on 1 to 4 partitions
// (threads), with both strategies where they are practical, and when the same graph runs again.
#include <string>

#include <gtest/gtest.h>

#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::Built;
using testing::component;
using testing::run;

TEST(ServingPartitions, ARunIsIdenticalOnOneToFourPartitions) {
  const Built r = build(R"(
model: moe_serving
params:
  hardware: {system: tsmc-sow, x: 2, y: 3}
  model: {preset: qwen3-30b-a3b, layers: 2}
  workload: {kind: poisson, rate: 20000, count: 8, prompt_distribution: uniform, prompt_min: 16, prompt_max: 200,
             output_distribution: uniform, output_min: 2, output_max: 4}
  routing: {kind: synthetic, zipf: 0.8, token_correlation: 0.3}
  scheduler: {max_running: 8, token_budget: 256}
simulation: {partitions: 1}
)");
  const Results one = run(r, 1);
  const auto& host = component(one, "host");
  EXPECT_EQ(host.counters.at("requests_finished"), 8u);
  EXPECT_GT(host.counters.at("steps"), 3u);
  for (uint32_t parts : {2u, 3u, 4u}) EXPECT_EQ(run(r, parts).digestHex(), one.digestHex()) << parts;
  // Null messages only on 2 partitions: on more, idle partitions in a cycle advance each other's
  // clocks by one lookahead per round across the long compute gaps (CMB's known weakness).
  EXPECT_EQ(run(r, 2, SyncKind::NullMessage).digestHex(), one.digestHex());
  // The same graph run again (the replicated plan restarts) gives the same results.
  EXPECT_EQ(run(r, 1).digestHex(), one.digestHex());
}

}  // namespace
}  // namespace wafersim
