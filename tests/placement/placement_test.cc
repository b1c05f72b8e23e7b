#include "placement/placement.h"

#include <gtest/gtest.h>

#include "placement/cost_model.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

Problem smallProblem(uint32_t dies, uint32_t experts, uint32_t layers = 1) {
  Problem p;
  p.fabric = Fabric::uniform(dies, 1e12, 1e11, 1e10, 1ull << 40);
  p.model.layers = layers;
  p.model.experts = experts;
  p.model.topK = 2;
  p.model.hidden = 1024;
  p.model.intermediate = 4096;
  p.model.expertBytes = 3ull * 1024 * 4096 * 2;
  p.profile = LoadProfile(layers, experts, dies, false, false);
  p.current = expertParallel(p);
  return p;
}

TEST(Placement, ValidateNamesTheExpertAndTheFault) {
  Placement p(4, 2, 3);
  for (uint32_t l = 0; l < 2; ++l)
    for (uint32_t e = 0; e < 3; ++e) p.putWhole(l, e, e);
  EXPECT_NO_THROW(p.validate("test"));
  p.replicas(1, 2).front().shards.front().parts = kWhole / 2;
  try {
    p.validate("test");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("MoE layer 1 expert 2 has a replica of 32768/65536 parts"), std::string::npos)
        << e.what();
  }
  p.putWhole(1, 2, 7);
  EXPECT_THROW(p.validate("test"), Error);
  p.putWhole(1, 2, 3);
  EXPECT_THROW(p.validate("test", {false, false, false, true}), Error);  // die 3 failed
  p.replicas(1, 2) = {Replica{{Shard{1, kWhole}}}, Replica{{Shard{1, kWhole}}}};
  EXPECT_THROW(p.validate("test"), Error);  // two copies on one die
}

TEST(Placement, SplitSharesAddUpAndPartsCount) {
  Placement p(3, 1, 2);
  p.putSplit(0, 0, {0, 1, 2});
  p.putWhole(0, 1, 2);
  EXPECT_NO_THROW(p.validate("test"));
  const auto parts = p.partsPerDie();
  EXPECT_EQ(parts[0] + parts[1] + parts[2], 2ull * kWhole);
  EXPECT_EQ(parts[2], kWhole + kWhole / 3);
  EXPECT_EQ(parts[0], kWhole / 3 + 1);  // the remainder of 65536 / 3 goes to the first shard
}

TEST(Placement, MigrationsTakeFromTheNearestHolder) {
  Placement a(4, 1, 1), b(4, 1, 1);
  a.replicas(0, 0) = {Replica{{Shard{0, kWhole}}}, Replica{{Shard{3, kWhole}}}};
  b.replicas(0, 0) = {Replica{{Shard{0, kWhole}}}, Replica{{Shard{2, kWhole}}}};
  // hops: die 2 is 1 hop from die 3, 2 from die 0
  std::vector<uint32_t> hops = {0, 1, 2, 3, 1, 0, 1, 2, 2, 1, 0, 1, 3, 2, 1, 0};
  const auto m = migrations(a, b, hops);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], (Migration{0, 0, 3, 2, kWhole}));
  EXPECT_TRUE(migrations(a, a, hops).empty());
  // From EP on die 0 to TP over 4: dies 1..3 receive a quarter each from die 0.
  Placement tp(4, 1, 1);
  tp.putSplit(0, 0, {0, 1, 2, 3});
  const auto spread = migrations(b, tp, hops);
  uint64_t moved = 0;
  for (const Migration& x : spread) moved += x.parts;
  EXPECT_EQ(moved, 2 * (kWhole / 4));  // die 0 and die 2 already hold a whole copy
}

TEST(Placement, ProfileCountsLoadPairsAndCrossTokenTransitions) {
  LoadProfile prof(1, 4, 2, true, true);
  const std::vector<uint64_t> req = {7, 8};
  const std::vector<uint32_t> pos = {0, 0}, die = {0, 1}, choices = {0, 1, 2, 3};
  prof.record(0, req, pos, die, choices, 2);
  const std::vector<uint32_t> pos1 = {1, 1}, choices1 = {1, 2, 2, 3};
  prof.record(0, req, pos1, die, choices1, 2);
  EXPECT_EQ(prof.tokens(0), 4u);
  EXPECT_EQ(prof.load(0, 2), 3u);
  EXPECT_EQ(prof.pair(0, 0, 1), 1u);
  EXPECT_EQ(prof.pair(0, 1, 0), 1u);
  EXPECT_EQ(prof.next(0, 0, 1), 1u);  // request 7: {0,1} then {1,2}
  EXPECT_EQ(prof.next(0, 1, 2), 1u);
  EXPECT_EQ(prof.next(0, 2, 3), 1u);  // request 8: {2,3} then {2,3}
  EXPECT_EQ(prof.sourceTokens(1), 2u);
}

TEST(CostModel, TensorParallelBalancesComputeButMovesEveryToken) {
  Problem p = smallProblem(4, 8);
  Decision tp = policyType("tp", "t").make()->decide(p);
  Decision ep = policyType("ep", "t").make()->decide(p);
  const CostEstimate ctp = estimateCost(p, tp.placement), cep = estimateCost(p, ep.placement);
  EXPECT_NEAR(ctp.maxOverMeanCompute, 1.0, 1e-9);
  EXPECT_GT(ctp.commSeconds, cep.commSeconds);  // TP sends every token to every other die
  // Uniform routing, 256 tokens, 2 of 8 experts: EP sends 3/4 of each token's 2 choices away.
  const double tokenBytes = 1024.0 * 2;
  const auto traffic = trafficMatrix(p, ep.placement, 0);
  double total = 0;
  for (double b : traffic) total += b;
  EXPECT_NEAR(total, 2 * 256.0 * 2 * 0.75 * tokenBytes, 1e-6);
}

TEST(Policies, UnknownNameListsTheKnownOnes) {
  try {
    policyType("nope", "mapping.policy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mapping.policy: unknown placement policy \"nope\" (tp, ep"), std::string::npos);
  }
}

TEST(Policies, RandomExpertParallelIsSeededAndBalanced) {
  Problem p = smallProblem(4, 16, 3);
  auto policy = policyType("ep_random", "t").make();
  const Decision a = policy->decide(p), b = policy->decide(p);
  EXPECT_EQ(a.placement, b.placement);
  const auto parts = a.placement.partsPerDie();
  for (uint64_t x : parts) EXPECT_EQ(x, 12ull * kWhole);
  p.seed = 2;
  EXPECT_NE(policy->decide(p).placement, a.placement);
}

TEST(Policies, CapacityIsChecked) {
  Problem p = smallProblem(2, 8);
  p.fabric.expertCapacityBytes.assign(2, 3 * p.model.expertBytes);
  EXPECT_THROW(policyType("ep", "t").make()->decide(p), Error);  // 4 experts per die, room for 3
}

}  // namespace
}  // namespace wafersim::placement
