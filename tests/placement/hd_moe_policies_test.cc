// HD-MoE's policies (research/seeds.md 2): CB, NodeBalance, LinkBalance, hd, DynamicPlacement.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "placement/cost_model.h"
#include "placement/hd_moe.h"
#include "placement/policy.h"
#include "sim/error.h"
#include "sim/random.h"

namespace wafersim::placement {
namespace {

// Records `counts[e]` top-1 tokens of expert e at every layer, spread over the dies.
LoadProfile topOneProfile(uint32_t layers, uint32_t dies, const std::vector<uint32_t>& counts) {
  LoadProfile prof(layers, uint32_t(counts.size()), dies, true, false);
  std::vector<uint32_t> choices, tokenDie, position;
  for (uint32_t e = 0; e < counts.size(); ++e)
    for (uint32_t i = 0; i < counts[e]; ++i) choices.push_back(e);
  for (uint32_t i = 0; i < choices.size(); ++i) tokenDie.push_back(i % dies), position.push_back(0);
  std::vector<uint64_t> request(choices.size());
  std::iota(request.begin(), request.end(), 0u);
  for (uint32_t l = 0; l < layers; ++l) prof.record(l, request, position, tokenDie, choices, 1);
  return prof;
}

Problem topOneProblem(Fabric fabric, const std::vector<uint32_t>& counts, uint32_t layers = 1) {
  Problem p;
  p.fabric = std::move(fabric);
  p.model.layers = layers;
  p.model.experts = uint32_t(counts.size());
  p.model.topK = 1;
  p.model.hidden = 1024;
  p.model.intermediate = 4096;
  p.model.expertBytes = 3ull * 1024 * 4096 * 2;
  p.profile = topOneProfile(layers, p.fabric.dies, counts);
  p.current = expertParallel(p);
  p.tokensPerStep = 256;
  return p;
}

Decision decide(const std::string& policy, const Problem& p) { return policyType(policy, "t").make()->decide(p); }

uint32_t shardsOf(const Placement& pl, uint32_t layer, uint32_t expert) {
  uint32_t n = 0;
  for (const Replica& r : pl.replicas(layer, expert)) n += uint32_t(r.shards.size());
  return n;
}

// --- hybrid_cb ------------------------------------------------------------------------------------

TEST(HybridComputeBalanced, TwoGroupsOnATwoByTwoMeshReachTheOptimum) {
  // Loads 3,3,2,2,2 on two groups: LPT alone gives 7 | 5, the optimum is 6 | 6 ({3,3} and {2,2,2}).
  Problem p = topOneProblem(Fabric::mesh(2, 2, 1e12, 1e12, 1e10, 1ull << 40), {3, 3, 2, 2, 2});
  const Decision d = decide("hybrid_cb", p);  // 5 experts <= 16: G = 2
  EXPECT_NO_THROW(d.placement.validate("test"));
  const std::vector<uint32_t> w = {3, 3, 2, 2, 2};
  std::vector<uint32_t> column(2, 0);  // groups are the mesh's columns {0, 2} and {1, 3}
  for (uint32_t e = 0; e < 5; ++e) {
    const auto& shards = d.placement.replicas(0, e).front().shards;
    ASSERT_EQ(shards.size(), 2u) << "TP inside a group of two dies";
    EXPECT_EQ(shards[0].die % 2, shards[1].die % 2);
    EXPECT_EQ(shards[1].die, shards[0].die + 2);
    column[shards[0].die % 2] += w[e];
  }
  EXPECT_EQ(column[0], 6u);
  EXPECT_EQ(column[1], 6u);
  EXPECT_EQ(d.optimalityGap, -1);
  EXPECT_NE(d.reason.find("2 die groups"), std::string::npos) << d.reason;
}

TEST(HybridComputeBalanced, EightGroupsOfTwoByTwoOnAFourByEightMesh) {
  std::vector<uint32_t> counts(64, 4);
  Problem p = topOneProblem(Fabric::mesh(8, 4, 1e12, 1e12, 1e10, 1ull << 40), counts);
  const Decision d = decide("hybrid_cb", p);
  std::vector<uint32_t> perGroup(8, 0);
  for (uint32_t e = 0; e < 64; ++e) {
    const auto& shards = d.placement.replicas(0, e).front().shards;
    ASSERT_EQ(shards.size(), 4u);
    // A 2 x 2 square: two dies of one row, the same two of the next.
    EXPECT_EQ(shards[1].die, shards[0].die + 1);
    EXPECT_EQ(shards[2].die, shards[0].die + 8);
    EXPECT_EQ(shards[0].die % 2, 0u);
    EXPECT_EQ((shards[0].die / 8) % 2, 0u);
    ++perGroup[(shards[0].die / 16) * 4 + (shards[0].die % 8) / 2];
  }
  for (uint32_t n : perGroup) EXPECT_EQ(n, 8u);  // uniform loads: 8 experts per group
}

// --- hd_node_balance --------------------------------------------------------------------------------

TEST(HdNodeBalance, SplitsTheHotExpertAndPacksTheColdOnes) {
  // 4 dies, 7 experts: one takes half the tokens (24 of 48), six take 4 each. Compute dominates, so
  // every die must do 12; the least traffic then has the hot expert halved over two dies and three
  // whole cold experts on each of the other two (busiest die: half the tokens; splitting the hot one
  // three ways and adding a cold one to each of its dies would be 0.58). Solved to optimality.
  Problem p = topOneProblem(Fabric::uniform(4, 1e12, 1e13, 1e10, 1ull << 40), {24, 4, 4, 4, 4, 4, 4});
  p.options.set("mip_gap", "0");
  p.options.set("max_nodes", "100000");
  const Decision d = decide("hd_node_balance", p);
  EXPECT_NO_THROW(d.placement.validate("test"));
  const auto& hot = d.placement.replicas(0, 0).front().shards;
  ASSERT_EQ(hot.size(), 2u) << d.reason;
  EXPECT_EQ(hot[0].parts, kWhole / 2);
  EXPECT_EQ(hot[1].parts, kWhole / 2);
  std::vector<uint32_t> cold(4, 0);
  for (uint32_t e = 1; e < 7; ++e) {
    ASSERT_EQ(shardsOf(d.placement, 0, e), 1u) << "cold expert " << e << " split";
    ++cold[d.placement.replicas(0, e).front().shards.front().die];
  }
  EXPECT_EQ(cold[hot[0].die], 0u);
  EXPECT_EQ(cold[hot[1].die], 0u);
  for (uint32_t die = 0; die < 4; ++die)
    if (die != hot[0].die && die != hot[1].die) {
      EXPECT_EQ(cold[die], 3u);
    }
  EXPECT_NEAR(d.optimalityGap, 0.0, 1e-6);
  const CostEstimate hd = estimateCost(p, d.placement);
  EXPECT_NEAR(hd.maxOverMeanCompute, 1.0, 1e-3);  // EP's busiest die does the hot expert: 2x the mean
  EXPECT_LT(hd.seconds, estimateCost(p, decide("ep", p).placement).seconds);
  EXPECT_LT(hd.seconds, estimateCost(p, decide("tp", p).placement).seconds);
  EXPECT_GT(d.predictedGain, 0.3);
  EXPECT_EQ(decide("hd_node_balance", p).placement, d.placement);  // deterministic
}

TEST(HdNodeBalance, UniformLoadsStayWholeExperts) {
  Problem p = topOneProblem(Fabric::uniform(4, 1e12, 1e13, 1e10, 1ull << 40), {4, 4, 4, 4, 4, 4, 4, 4});
  const Decision d = decide("hd_node_balance", p);
  for (uint32_t e = 0; e < 8; ++e) EXPECT_EQ(shardsOf(d.placement, 0, e), 1u);
  const auto parts = d.placement.partsPerDie();
  for (uint64_t x : parts) EXPECT_EQ(x, 2ull * kWhole);  // two whole experts per die
}

TEST(HdNodeBalance, RoomIsRespectedOrRefused) {
  Problem p = topOneProblem(Fabric::uniform(4, 1e12, 1e13, 1e10, 1ull << 40), {28, 4, 4, 4, 4, 4, 4, 4});
  p.fabric.expertCapacityBytes.assign(4, 2 * p.model.expertBytes);  // exactly 8 experts of room
  const Decision d = decide("hd_node_balance", p);
  for (uint64_t x : d.placement.partsPerDie()) EXPECT_LE(x, 2ull * kWhole);
  p.fabric.expertCapacityBytes.assign(4, p.model.expertBytes);  // room for 4 of 8
  EXPECT_THROW(decide("hd_node_balance", p), Error);
}

// --- hd_link_balance --------------------------------------------------------------------------------

TEST(HdLinkBalance, TheHeavyPairEndsAdjacentOnALine) {
  // Logical nodes 0 and 2 exchange 100 each way, every other pair 10. On the line 0-1-2-3 the best
  // maps put 0 and 2 next to each other at an end (busiest link 120; the identity has 130).
  const Fabric line = Fabric::mesh(4, 1, 1e12, 1e12, 1.0, 1ull << 40);
  std::vector<double> t(16, 10.0);
  for (uint32_t i = 0; i < 4; ++i) t[i * 4 + i] = 0;
  t[0 * 4 + 2] = t[2 * 4 + 0] = 100;
  const std::vector<std::vector<double>> traffic = {t};
  EXPECT_DOUBLE_EQ(linkSeconds(line, t), 130.0);
  const std::vector<uint32_t> map = hd::linkBalanceMap(line, traffic, 7, 200);
  std::vector<uint32_t> sorted = map;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(std::abs(int(map[0]) - int(map[2])), 1);
  EXPECT_TRUE(std::min(map[0], map[2]) == 0 || std::max(map[0], map[2]) == 3);
  EXPECT_DOUBLE_EQ(linkSeconds(line, t, map), 120.0);
  EXPECT_EQ(hd::linkBalanceMap(line, traffic, 7, 200), map);  // seeded
}

TEST(HdLinkBalance, MovesTheHotExpertOffTheEndOfALine) {
  // One hot expert (70 % of the tokens) on die 0 of a line: every die exchanges with it, and the
  // link next to it carries 3/5 of the exchanged bytes; from die 1 or 2 the busiest carries 1/2.
  Problem p = topOneProblem(Fabric::mesh(4, 1, 1e12, 1e13, 1e10, 1ull << 40), {70, 10, 10, 10});
  ASSERT_EQ(p.current.replicas(0, 0).front().shards.front().die, 0u);
  const double before = estimateCost(p, p.current).commSeconds;
  const Decision d = decide("hd_link_balance", p);
  EXPECT_NO_THROW(d.placement.validate("test"));
  const uint32_t hot = d.placement.replicas(0, 0).front().shards.front().die;
  EXPECT_TRUE(hot == 1 || hot == 2) << hot;
  ASSERT_EQ(d.placement.nodeMap.size(), 4u);
  EXPECT_EQ(d.placement.nodeMap[0], hot);
  EXPECT_NEAR(estimateCost(p, d.placement).commSeconds / before, 0.5 / 0.6, 1e-9);
  EXPECT_GT(d.predictedGain, 0);
}

// --- hd_dynamic -------------------------------------------------------------------------------------

TEST(HdDynamic, BudgetFromTheBroadcastModelAndTheHotExpertFirst) {
  // 2 x 2 mesh (sqrt D = 2), 1 MB experts, 25 GB/s links, alpha = 100 ns:
  // T(k) = 2 alpha sqrt D + beta k W + 2 sqrt(2 alpha beta W k sqrt D) = 0.4 + 40 k + 8 sqrt(k) us
  //   T(1) = 48.4 us, T(2) = 91.7 us, T(3) = 134.3 us: a 100 us attention fits k = 2.
  Problem p = topOneProblem(Fabric::mesh(2, 2, 1e12, 1e13, 25e9, 1ull << 40), {40, 6, 5, 4, 3, 2, 1, 1});
  p.model.expertBytes = 1'000'000;
  const double W = 1e6, alpha = 100e-9, beta = 1 / 25e9, sqrtD = 2;
  auto T = [&](double k) {
    const double c = std::sqrt(W * alpha / (2 * beta * k * sqrtD));
    return alpha * (2 * sqrtD + W / c) + beta * k * (W + 2 * c * sqrtD);
  };
  EXPECT_NEAR(T(2), 0.4e-6 + 80e-6 + 8e-6 * std::sqrt(2.0), 1e-12);
  p.attentionSeconds = 100e-6;
  ASSERT_LT(T(2), p.attentionSeconds);
  ASSERT_GT(T(3), p.attentionSeconds);
  const Decision d = decide("hd_dynamic", p);
  EXPECT_NE(d.reason.find("k=2 "), std::string::npos) << d.reason;
  EXPECT_EQ(d.placement.split, Split::LeastLoaded);
  uint32_t broadcast = 0;
  for (uint32_t e = 0; e < 8; ++e) broadcast += d.placement.replicas(0, e).size() == 4;
  EXPECT_EQ(broadcast, 2u);
  ASSERT_EQ(d.placement.replicas(0, 0).size(), 4u);  // the hot expert, on die 0 under EP, goes first
  for (uint32_t die = 0; die < 4; ++die) EXPECT_EQ(d.placement.replicas(0, 0)[die].shards.front().die, die);
  EXPECT_NO_THROW(d.placement.validate("test"));

  p.attentionSeconds = T(3) * 1.0001;
  EXPECT_NE(decide("hd_dynamic", p).reason.find("k=3 "), std::string::npos);
  p.options.set("max_broadcast", "1");
  EXPECT_NE(decide("hd_dynamic", p).reason.find("k=1 "), std::string::npos);
  p.options = Params();
  p.attentionSeconds = 0;
  const Decision none = decide("hd_dynamic", p);
  EXPECT_NE(none.reason.find("k=0 "), std::string::npos);
  for (uint32_t e = 0; e < 8; ++e) EXPECT_EQ(none.placement.replicas(0, e), p.current.replicas(0, e));
}

// --- the HD-MoE ordering on the cost model ----------------------------------------------------------

// A DeepSeek-like layer (64 experts, top-6, h 2048, I 1408) on a 4 x 8 NMP mesh, 128 tokens per
// step, routing drawn from a Zipf(1) popularity over a fixed shuffle of the experts.
Problem deepSeekLike(double flops, double linkBandwidth, uint32_t layers = 2) {
  Problem p;
  p.fabric = Fabric::mesh(8, 4, flops, 625e9, linkBandwidth, 1ull << 40);
  p.model.layers = layers;
  p.model.experts = 64;
  p.model.topK = 6;
  p.model.hidden = 2048;
  p.model.intermediate = 1408;
  p.model.expertBytes = 3ull * 2048 * 1408 * 2;
  p.tokensPerStep = 128;
  p.profile = LoadProfile(layers, 64, 32, true, false);
  RandomStream rng(2025, 0x5A495046);
  for (uint32_t l = 0; l < layers; ++l) {
    std::vector<uint32_t> rank(64);
    std::iota(rank.begin(), rank.end(), 0u);
    for (uint32_t i = 63; i > 0; --i) std::swap(rank[i], rank[rng.below(i + 1)]);
    std::vector<double> weight(64);
    for (uint32_t e = 0; e < 64; ++e) weight[rank[e]] = 1.0 / (e + 1);
    const uint32_t tokens = 2048;
    std::vector<uint32_t> choices, tokenDie, position(tokens, 0);
    std::vector<uint64_t> request(tokens);
    for (uint32_t t = 0; t < tokens; ++t) {
      request[t] = t, tokenDie.push_back(t % 32);
      std::vector<double> w = weight;
      for (uint32_t c = 0; c < 6; ++c) {  // six distinct experts, drawn without replacement
        double sum = std::accumulate(w.begin(), w.end(), 0.0), u = rng.uniform() * sum;
        uint32_t e = 0;
        while (e < 63 && (u -= w[e]) >= 0) ++e;
        if (w[e] == 0) e = uint32_t(std::find_if(w.begin(), w.end(), [](double x) { return x > 0; }) - w.begin());
        choices.push_back(e);
        w[e] = 0;
      }
    }
    p.profile.record(l, request, position, tokenDie, choices, 6);
  }
  p.current = expertParallel(p);
  return p;
}

TEST(HdMoe, BeatsTpEpAndCbOnADeepSeekLikeMesh) {
  const Problem p = deepSeekLike(10e12, 25e9);
  const Decision hd = decide("hd", p);
  EXPECT_NO_THROW(hd.placement.validate("test"));
  ASSERT_EQ(hd.placement.nodeMap.size(), 32u);
  const double tHd = estimateCost(p, hd.placement).seconds;
  const double tTp = estimateCost(p, decide("tp", p).placement).seconds;
  const double tEp = estimateCost(p, decide("ep_random", p).placement).seconds;
  const double tCb = estimateCost(p, decide("hybrid_cb", p).placement).seconds;
  const double tNb = estimateCost(p, decide("hd_node_balance", p).placement).seconds;
  EXPECT_LT(tHd, tTp);
  EXPECT_LT(tHd, tEp);
  EXPECT_LT(tHd, tCb);
  EXPECT_LE(tHd, tNb);  // LinkBalance never makes it worse
  RecordProperty("hd_us", std::to_string(tHd * 1e6));
  std::printf("4x8, 10 TFLOPS, 25 GB/s: HD %.1f us, TP %.1f, EP %.1f, CB %.1f, NodeBalance %.1f; gap %.3f\n  %s\n",
              tHd * 1e6, tTp * 1e6, tEp * 1e6, tCb * 1e6, tNb * 1e6, hd.optimalityGap, hd.reason.c_str());
}

TEST(HdMoe, TensorParallelCatchesUpWhenLinksAreFast) {
  Problem slow = deepSeekLike(10e12, 25e9, 1), fast = deepSeekLike(2.5e12, 75e9, 1);
  for (Problem* p : {&slow, &fast}) p->options.set("max_nodes", "5");  // the trend, not the search: keep it quick
  auto ratio = [](const Problem& p) {
    return estimateCost(p, decide("tp", p).placement).seconds / estimateCost(p, decide("hd", p).placement).seconds;
  };
  const double rSlow = ratio(slow), rFast = ratio(fast);
  std::printf("TP / HD: %.3f with 10 TFLOPS & 25 GB/s, %.3f with 2.5 TFLOPS & 75 GB/s\n", rSlow, rFast);
  EXPECT_GT(rSlow, 1.0);
  EXPECT_LT(std::abs(rFast - 1.0), std::abs(rSlow - 1.0));
}

TEST(HdMoe, PoliciesAreListedWithTheirParameters) {
  for (const char* name : {"hybrid_cb", "hd_node_balance", "hd_link_balance", "hd", "hd_dynamic"})
    EXPECT_NO_THROW(policyType(name, "t")) << name;
  const PolicyType& hd = policyType("hd", "t");
  auto has = [&](const std::string& key) {
    return std::any_of(hd.params.begin(), hd.params.end(), [&](const ParamSpec& s) { return s.name == key; });
  };
  EXPECT_TRUE(has("max_nodes") && has("mip_gap") && has("max_groups") && has("iterations"));
  EXPECT_TRUE(hd.needs.pairs);
}

}  // namespace
}  // namespace wafersim::placement
