#include "models/workload/routing_stats.h"

#include <gtest/gtest.h>

#include <vector>

#include "models/workload/synthetic_router.h"
#include "sim/error.h"

namespace wafersim::workload {
namespace {

TEST(RoutingStatsTest, CountsByHand) {
  RoutingStats stats(2, 4, 2);
  // Two tokens of request 1 then one more of request 1 in the next step.
  std::vector<TokenRef> step1{{1, 0, true}, {1, 1, true}};
  stats.record(0, step1, std::vector<ExpertId>{0, 1, 0, 2});
  stats.record(1, step1, std::vector<ExpertId>{3, 2, 3, 1});
  std::vector<TokenRef> step2{{1, 2, false}};
  stats.record(0, step2, std::vector<ExpertId>{2, 0});
  stats.record(1, step2, std::vector<ExpertId>{3, 1});

  EXPECT_EQ(stats.tokens(0), 3u);
  EXPECT_EQ(stats.load(0, 0), 3u);
  EXPECT_EQ(stats.load(0, 3), 0u);
  EXPECT_DOUBLE_EQ(stats.maxOverMean(0), 3.0 / 1.5);
  EXPECT_EQ(stats.pairCount(0, 0, 2), 2u);
  EXPECT_EQ(stats.pairCount(0, 1, 0), 1u);
  // Uniform expectation: 3 tokens x 1 pair / 6 pairs = 0.5; the top pair has 2.
  EXPECT_DOUBLE_EQ(stats.topPairRatio(0), 4.0);
  // Repeats at layer 0: token 1 shares {0} with token 0 (1 of 2), token 2 shares {0, 2} (2 of 2).
  EXPECT_DOUBLE_EQ(stats.repeatRate(0), 3.0 / 4.0);
  // Layer 1 transitions: rows 0 -> {3,2,3,1,3,1}, 1 -> {3,2}, 2 -> {3,1,3,1}; top-1 of 4 experts.
  // Covered: row 0: 3 of 6, row 1: 1 of 2, row 2: 2 of 4 -> 6 / 12.
  EXPECT_DOUBLE_EQ(stats.transitionCoverage(1, 0.2), 0.5);
  EXPECT_DOUBLE_EQ(stats.transitionCoverage(0), 0.0);
  EXPECT_DOUBLE_EQ(stats.transitionCoverageBaseline(0.2), 0.25);

  const nlohmann::json json = stats.toJson();
  EXPECT_EQ(json["experts"], 4);
  EXPECT_EQ(json["per_layer"][0]["load"], nlohmann::json({3, 1, 2, 0}));
  EXPECT_TRUE(json["per_layer"][0]["transition_top20_coverage"].is_null());
  EXPECT_EQ(json["per_layer"][0]["top_pairs"][0], nlohmann::json({0, 2, 2}));
  EXPECT_DOUBLE_EQ(json["summary"]["token_repeat_uniform_baseline"].get<double>(), 0.5);

  stats.requestFinished(1);
  stats.record(0, step2, std::vector<ExpertId>{2, 0});  // no predecessor any more
  EXPECT_DOUBLE_EQ(stats.repeatRate(0), 3.0 / 4.0);
  EXPECT_THROW(stats.record(0, step2, std::vector<ExpertId>{2, 4}), Error);
  EXPECT_THROW(stats.record(2, step2, std::vector<ExpertId>{2, 0}), Error);
}

TEST(RoutingStatsTest, MeasureSequenceDrivesEveryLayer) {
  SyntheticRouterConfig c;
  c.layers = 4;
  c.experts = 8;
  c.topK = 2;
  SyntheticRouter router(c);
  const RoutingStats stats = measureSequence(router, 1000, 64);
  for (uint32_t l = 0; l < 4; ++l) EXPECT_EQ(stats.tokens(l), 1000u);
  RoutingStatsOptions off;
  off.pairs = false;
  off.transitions = false;
  RoutingStats light(4, 8, 2, off);
  EXPECT_FALSE(light.toJson()["summary"].contains("mean_top_pair_ratio"));
  EXPECT_THROW(light.pairCount(0, 0, 1), Error);
}

}  // namespace
}  // namespace wafersim::workload
