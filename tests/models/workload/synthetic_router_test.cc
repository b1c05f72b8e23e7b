#include "models/workload/synthetic_router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "models/workload/routing_stats.h"
#include "sim/error.h"

namespace wafersim::workload {
namespace {

// A decode-style batch: `requests` requests, each contributing one token per step, for `steps` steps.
RoutingStats runBatch(ExpertRouter& router, uint32_t requests, uint32_t steps, std::vector<ExpertId>* all = nullptr) {
  RoutingStats stats(router.layers(), router.experts(), router.topK());
  std::vector<TokenRef> tokens(requests);
  std::vector<ExpertId> out(static_cast<size_t>(requests) * router.topK());
  for (uint32_t s = 0; s < steps; ++s) {
    for (uint32_t r = 0; r < requests; ++r) tokens[r] = {r, s, false};
    for (uint32_t l = 0; l < router.layers(); ++l) {
      router.route(l, tokens, out);
      stats.record(l, tokens, out);
      if (all) all->insert(all->end(), out.begin(), out.end());
    }
  }
  return stats;
}

SyntheticRouterConfig base() {
  SyntheticRouterConfig c;
  c.layers = 8;
  c.experts = 16;
  c.topK = 2;
  c.seed = 42;
  return c;
}

TEST(SyntheticRouterTest, SameSeedSameOutputDifferentSeedDifferent) {
  SyntheticRouterConfig c = base();
  c.zipfExponent = 1.0;
  c.groups = 4;
  c.groupProbability = 0.3;
  c.layerCorrelation = 0.3;
  c.tokenCorrelation = 0.3;
  c.driftEverySteps = 7;
  std::vector<ExpertId> a, b, d;
  SyntheticRouter r1(c), r2(c);
  runBatch(r1, 16, 50, &a);
  runBatch(r2, 16, 50, &b);
  c.seed = 43;
  SyntheticRouter r3(c);
  runBatch(r3, 16, 50, &d);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, d);
}

TEST(SyntheticRouterTest, ChoicesAreDistinctAndInRange) {
  SyntheticRouterConfig c = base();
  c.topK = 6;
  c.zipfExponent = 3.0;  // heavy skew exercises the rejection fallback
  c.groups = 2;
  c.groupProbability = 0.5;
  c.layerCorrelation = 0.5;
  c.tokenCorrelation = 0.5;
  SyntheticRouter router(c);
  std::vector<ExpertId> all;
  runBatch(router, 8, 100, &all);
  for (size_t t = 0; t < all.size(); t += 6) {
    std::set<ExpertId> ids(all.begin() + t, all.begin() + t + 6);
    ASSERT_EQ(ids.size(), 6u);
    ASSERT_LT(*ids.rbegin(), 16u);
  }
}

TEST(SyntheticRouterTest, UniformStatisticsAreNearUniform) {
  SyntheticRouter router(base());
  const RoutingStats stats = runBatch(router, 64, 200);  // 12,800 tokens per layer
  for (uint32_t l = 0; l < 8; ++l) {
    EXPECT_LT(stats.maxOverMean(l), 1.10) << l;  // about 3 sigma
    EXPECT_LT(stats.coefficientOfVariation(l), 0.04) << l;
    EXPECT_LT(stats.topPairRatio(l), 1.3) << l;
    EXPECT_NEAR(stats.repeatRate(l), stats.repeatRateBaseline(), 0.01) << l;
    if (l > 0) {
      EXPECT_NEAR(stats.transitionCoverage(l), stats.transitionCoverageBaseline(), 0.03) << l;
    }
  }
}

TEST(SyntheticRouterTest, ZipfSkewRaisesMaxOverMean) {
  SyntheticRouter uniform(base());
  SyntheticRouterConfig c = base();
  c.zipfExponent = 1.2;
  SyntheticRouter skewed(c);
  const RoutingStats u = runBatch(uniform, 32, 100);
  const RoutingStats s = runBatch(skewed, 32, 100);
  EXPECT_GT(s.meanMaxOverMean(), 2.0);
  EXPECT_GT(s.meanMaxOverMean(), u.meanMaxOverMean() + 1.0);
  // The hottest expert differs between layers (per-layer permutations) and carries the max load.
  std::set<ExpertId> hottest;
  for (uint32_t l = 0; l < 8; ++l) {
    hottest.insert(skewed.hotExpert(l, 0));
    for (ExpertId e = 0; e < 16; ++e) EXPECT_LE(s.load(l, e), s.load(l, skewed.hotExpert(l, 0)));
  }
  EXPECT_GT(hottest.size(), 1u);
}

TEST(SyntheticRouterTest, CoActivationGroupsRaiseInGroupPairs) {
  SyntheticRouterConfig c = base();
  c.groups = 4;  // groups of 4: 6 in-group pairs of 120 per group, 24 of 120 overall
  c.groupProbability = 0.8;
  SyntheticRouter grouped(c);
  SyntheticRouterConfig plain = c;
  plain.groupProbability = 0.0;
  SyntheticRouter ungrouped(plain);  // same seed, so the same groups
  const RoutingStats g = runBatch(grouped, 32, 100);
  const RoutingStats u = runBatch(ungrouped, 32, 100);
  // Recover layer 0's groups from the most frequent pairs: the in-group share of all pair counts.
  auto inGroupShare = [](const RoutingStats& stats, const RoutingStats& reference) {
    std::vector<std::pair<uint64_t, std::pair<ExpertId, ExpertId>>> pairs;
    for (ExpertId a = 0; a < 16; ++a)
      for (ExpertId b = a + 1; b < 16; ++b) pairs.push_back({reference.pairCount(0, a, b), {a, b}});
    std::sort(pairs.rbegin(), pairs.rend());
    uint64_t top = 0, total = 0;
    for (size_t i = 0; i < pairs.size(); ++i) {
      const uint64_t n = stats.pairCount(0, pairs[i].second.first, pairs[i].second.second);
      if (i < 24) top += n;
      total += n;
    }
    return static_cast<double>(top) / total;
  };
  EXPECT_GT(inGroupShare(g, g), 0.75);  // 0.8 grouped + 0.2 * 24/120 by chance
  EXPECT_LT(inGroupShare(u, g), 0.3);   // 24/120 = 0.2 by chance
  EXPECT_GT(g.meanTopPairRatio(), 3.0);
  EXPECT_LT(u.meanTopPairRatio(), 1.6);
}

TEST(SyntheticRouterTest, LayerCorrelationRaisesTransitionCoverage) {
  SyntheticRouterConfig c = base();
  c.layerCorrelation = 0.6;
  SyntheticRouter correlated(c);
  SyntheticRouter uniform(base());
  const RoutingStats s = runBatch(correlated, 32, 100);
  const RoutingStats u = runBatch(uniform, 32, 100);
  EXPECT_GT(s.meanTransitionCoverage(), 0.45);  // baseline 4/16 = 0.25
  // Picking each row's top 20 % of finite samples biases the uniform value up a little.
  EXPECT_NEAR(u.meanTransitionCoverage(), 0.25, 0.06);
  EXPECT_NEAR(s.meanRepeatRate(), s.repeatRateBaseline(), 0.02);  // no token-to-token effect
}

TEST(SyntheticRouterTest, TokenCorrelationRaisesRepeatRate) {
  SyntheticRouterConfig c = base();
  c.tokenCorrelation = 0.5;
  SyntheticRouter correlated(c);
  const RoutingStats s = runBatch(correlated, 32, 100);
  // 0.5 exact repeats + 0.5 * k/E by chance = 0.5625.
  EXPECT_NEAR(s.meanRepeatRate(), 0.5 + 0.5 * 2.0 / 16.0, 0.03);
  correlated.requestFinished(3);  // drops its history; routing goes on
  std::vector<TokenRef> one{{3, 100, false}};
  std::vector<ExpertId> out(2);
  correlated.route(0, one, out);
  EXPECT_NE(out[0], out[1]);
}

TEST(SyntheticRouterTest, HotSetDriftsEveryNSteps) {
  SyntheticRouterConfig c = base();
  c.layers = 1;
  c.zipfExponent = 2.0;
  c.driftEverySteps = 50;
  SyntheticRouter router(c);
  std::vector<TokenRef> tokens(64);
  for (uint32_t r = 0; r < 64; ++r) tokens[r] = {r, 0, false};
  std::vector<ExpertId> out(128);
  std::vector<ExpertId> hotPerEpoch;
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<uint64_t> load(16, 0);
    for (int s = 0; s < 50; ++s) {
      router.route(0, tokens, out);
      for (ExpertId e : out) ++load[e];
    }
    const ExpertId hot = static_cast<ExpertId>(std::max_element(load.begin(), load.end()) - load.begin());
    EXPECT_EQ(hot, router.hotExpert(0, 0)) << epoch;
    hotPerEpoch.push_back(hot);
  }
  EXPECT_NE(hotPerEpoch[0], hotPerEpoch[1]);
  EXPECT_NE(hotPerEpoch[1], hotPerEpoch[2]);

  c.driftEverySteps = 0;
  c.driftEveryTokens = 64 * 50;
  SyntheticRouter byTokens(c);
  std::vector<ExpertId> hots;
  for (int s = 0; s < 101; ++s) {
    byTokens.route(0, tokens, out);
    if (s % 50 == 0) hots.push_back(byTokens.hotExpert(0, 0));
  }
  EXPECT_EQ(hots, hotPerEpoch);  // same seed, same rotation schedule
}

// A profiling pass samples other tokens of the same routing: with the run's structure seed its hot
// experts are the run's, whatever its token seed; without it they are another router's.
TEST(SyntheticRouterTest, TheStructureSeedKeepsTheHotExpertsAcrossTokenSeeds) {
  SyntheticRouterConfig run;
  run.layers = 4;
  run.experts = 64;
  run.topK = 2;
  run.seed = 11;
  run.zipfExponent = 1.0;
  SyntheticRouterConfig profile = run;
  profile.seed = 12345;
  profile.structureSeed = run.seed;
  SyntheticRouterConfig other = run;
  other.seed = 12345;
  const SyntheticRouter a(run), b(profile), c(other);
  bool differs = false;
  for (uint32_t l = 0; l < run.layers; ++l)
    for (uint32_t r = 0; r < run.experts; ++r) {
      EXPECT_EQ(b.hotExpert(l, r), a.hotExpert(l, r)) << l << " " << r;
      differs |= c.hotExpert(l, r) != a.hotExpert(l, r);
    }
  EXPECT_TRUE(differs);
}

// DeepSeek-V3-shaped routing: 256 experts in 8 groups of 32, top-8 experts from the top-4 groups.
SyntheticRouterConfig deepSeekV3(bool limited) {
  SyntheticRouterConfig c;
  c.layers = 4;
  c.experts = 256;
  c.topK = 8;
  c.seed = 7;
  c.zipfExponent = 0.8;
  if (limited) {
    c.limitGroups = 8;
    c.limitTopkGroups = 4;
  }
  return c;
}

// Groups of 32 contiguous expert ids spanned by each token of `all` (k choices per token).
struct GroupSpan {
  double mean = 0;
  uint32_t max = 0;
  double overLimit = 0;  // share of tokens spanning more than 4 groups
  std::vector<uint64_t> groupLoad = std::vector<uint64_t>(8, 0);
};
GroupSpan groupSpan(const std::vector<ExpertId>& all, uint32_t k) {
  GroupSpan span;
  const size_t tokens = all.size() / k;
  uint64_t total = 0, over = 0;
  for (size_t t = 0; t < tokens; ++t) {
    std::set<uint32_t> groups;
    for (uint32_t j = 0; j < k; ++j) {
      groups.insert(all[t * k + j] / 32);
      ++span.groupLoad[all[t * k + j] / 32];
    }
    const auto n = static_cast<uint32_t>(groups.size());
    total += n;
    over += n > 4 ? 1 : 0;
    span.max = std::max(span.max, n);
  }
  span.mean = static_cast<double>(total) / tokens;
  span.overLimit = static_cast<double>(over) / tokens;
  return span;
}

void expectDistinctInRange(const std::vector<ExpertId>& all, uint32_t k, uint32_t experts) {
  for (size_t t = 0; t < all.size(); t += k) {
    std::set<ExpertId> ids(all.begin() + t, all.begin() + t + k);
    ASSERT_EQ(ids.size(), k) << t;
    ASSERT_LT(*ids.rbegin(), experts) << t;
  }
}

TEST(SyntheticRouterTest, GroupLimitKeepsEveryTokenWithinTopkGroups) {
  std::vector<ExpertId> limitedChoices, freeChoices;
  SyntheticRouter limited(deepSeekV3(true)), free(deepSeekV3(false));
  runBatch(limited, 64, 50, &limitedChoices);  // 12,800 token-layers each
  runBatch(free, 64, 50, &freeChoices);
  expectDistinctInRange(limitedChoices, 8, 256);
  const GroupSpan l = groupSpan(limitedChoices, 8), f = groupSpan(freeChoices, 8);
  std::printf("groups spanned per token: limited mean %.3f max %u; unlimited mean %.3f max %u, %.1f%% over 4\n",
              l.mean, l.max, f.mean, f.max, 100.0 * f.overLimit);
  EXPECT_LE(l.max, 4u);
  EXPECT_EQ(l.overLimit, 0.0);
  // Without the limit, top-8 of 256 experts usually spans more than 4 of the 8 groups.
  EXPECT_GT(f.overLimit, 0.3);
  EXPECT_GT(f.mean, 4.3);
  EXPECT_GT(f.max, 4u);
  // Every group still gets traffic: the chosen groups vary from token to token.
  for (uint32_t g = 0; g < 8; ++g) EXPECT_GT(l.groupLoad[g], limitedChoices.size() / 8 / 10) << g;
}

TEST(SyntheticRouterTest, GroupLimitComposesWithTheOtherKnobs) {
  SyntheticRouterConfig c = deepSeekV3(true);
  c.zipfExponent = 1.5;
  c.groups = 16;  // co-activation groups of 16, drawn across the limit groups
  c.groupProbability = 0.4;
  c.layerCorrelation = 0.5;
  c.tokenCorrelation = 0.4;
  c.driftEverySteps = 9;
  SyntheticRouter router(c);
  std::vector<ExpertId> all;
  const RoutingStats stats = runBatch(router, 32, 60, &all);
  expectDistinctInRange(all, 8, 256);
  EXPECT_LE(groupSpan(all, 8).max, 4u);
  // Token-to-token correlation survives the limit (repeats already satisfy it).
  EXPECT_GT(stats.meanRepeatRate(), 0.4);

  // Layer-to-layer correlation survives too: mapped choices outside the kept groups are redrawn,
  // the others kept. Measured on a small router (16 experts, 4 groups of 4, top-2 from 1 group),
  // where the coverage statistic is well sampled.
  SyntheticRouterConfig small = base();
  small.limitGroups = 4;
  small.limitTopkGroups = 1;
  SyntheticRouterConfig layered = small;
  layered.layerCorrelation = 0.6;
  SyntheticRouter correlated(layered), plain(small);
  std::vector<ExpertId> correlatedChoices;
  const RoutingStats s = runBatch(correlated, 32, 100, &correlatedChoices);
  const RoutingStats u = runBatch(plain, 32, 100);
  std::printf("transition coverage (16 experts, 1 of 4 groups): layerCorrelation 0.6 %.3f, none %.3f\n",
              s.meanTransitionCoverage(), u.meanTransitionCoverage());
  for (size_t t = 0; t < correlatedChoices.size(); t += 2)
    ASSERT_EQ(correlatedChoices[t] / 4, correlatedChoices[t + 1] / 4) << t;  // one group of 4
  EXPECT_GT(s.meanTransitionCoverage(), u.meanTransitionCoverage() + 0.1);
}

TEST(SyntheticRouterTest, GroupLimitIsDeterministic) {
  SyntheticRouterConfig c = deepSeekV3(true);
  c.groups = 8;
  c.groupProbability = 0.3;
  c.layerCorrelation = 0.3;
  c.tokenCorrelation = 0.3;
  c.driftEverySteps = 5;
  std::vector<ExpertId> a, b, d;
  SyntheticRouter r1(c), r2(c);
  runBatch(r1, 16, 30, &a);
  runBatch(r2, 16, 30, &b);
  c.seed = 8;
  SyntheticRouter r3(c);
  runBatch(r3, 16, 30, &d);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, d);
}

TEST(SyntheticRouterTest, GroupLimitOverAllGroupsChangesNothing) {
  SyntheticRouterConfig c = deepSeekV3(false);
  c.layerCorrelation = 0.3;
  SyntheticRouterConfig all = c;
  all.limitGroups = 8;
  all.limitTopkGroups = 8;
  std::vector<ExpertId> a, b;
  SyntheticRouter r1(c), r2(all);
  runBatch(r1, 16, 20, &a);
  runBatch(r2, 16, 20, &b);
  EXPECT_EQ(a, b);
}

TEST(SyntheticRouterTest, InvalidConfigurationsAreRejected) {
  auto rejects = [](auto edit) {
    SyntheticRouterConfig c = base();
    edit(c);
    try {
      SyntheticRouter router(c);
    } catch (const Error& e) {
      return e.kind() == ErrorKind::InvalidConfig;
    }
    return false;
  };
  EXPECT_TRUE(rejects([](auto& c) { c.topK = 17; }));
  EXPECT_TRUE(rejects([](auto& c) { c.topK = 0; }));
  EXPECT_TRUE(rejects([](auto& c) { c.layers = 0; }));
  EXPECT_TRUE(rejects([](auto& c) { c.zipfExponent = -1; }));
  EXPECT_TRUE(rejects([](auto& c) { c.groups = 3; }));
  EXPECT_TRUE(rejects([](auto& c) { c.groups = 16, c.groupProbability = 0.5; }));
  EXPECT_TRUE(rejects([](auto& c) { c.layerCorrelation = 1.5; }));
  EXPECT_TRUE(rejects([](auto& c) { c.driftEverySteps = 1, c.driftEveryTokens = 1; }));
  // Group limit (base: 16 experts, top-2); the message names the knob.
  auto rejectsNaming = [](auto edit, const std::string& knob) {
    SyntheticRouterConfig c = base();
    edit(c);
    try {
      SyntheticRouter router(c);
    } catch (const Error& e) {
      return e.kind() == ErrorKind::InvalidConfig && std::string(e.what()).find(knob) != std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(rejectsNaming([](auto& c) { c.limitGroups = 3, c.limitTopkGroups = 1; }, "limitGroups = 3"));
  EXPECT_TRUE(rejectsNaming([](auto& c) { c.limitGroups = 4, c.limitTopkGroups = 0; }, "limitTopkGroups = 0"));
  EXPECT_TRUE(rejectsNaming([](auto& c) { c.limitGroups = 4, c.limitTopkGroups = 5; }, "limitTopkGroups = 5"));
  EXPECT_TRUE(rejectsNaming([](auto& c) { c.limitGroups = 16, c.limitTopkGroups = 1; }, "limitTopkGroups = 1"));
  EXPECT_TRUE(rejectsNaming([](auto& c) { c.limitTopkGroups = 2; }, "limitTopkGroups = 2"));
  EXPECT_NO_THROW(SyntheticRouter([] {
    SyntheticRouterConfig c = base();
    c.limitGroups = 16, c.limitTopkGroups = 2;  // 2 groups of 1 expert hold top-2
    return c;
  }()));
  SyntheticRouter router(base());
  std::vector<TokenRef> tokens(2);
  std::vector<ExpertId> wrong(3), right(4);
  EXPECT_THROW(router.route(0, tokens, wrong), Error);
  EXPECT_THROW(router.route(8, tokens, right), Error);
}

}  // namespace
}  // namespace wafersim::workload
