// The serving-time placement policies (Remap, Dup, Allo/Pred, Mozart clustering, Duplex
// co-processing, EPLB, A3D even/odd), each on a small case whose answer is worked out by hand in
// the comments; then every one of them on a mid-size case for validity and determinism. The
// DeepSeek-V3-size timing is a disabled test (run with --gtest_also_run_disabled_tests).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "placement/copies_per_token.h"
#include "placement/cost_model.h"
#include "placement/expert_load.h"
#include "placement/policy.h"
#include "sim/error.h"
#include "sim/random.h"

namespace wafersim::placement {
namespace {

constexpr double kFlops = 1e12;

// A compute-bound problem (memory and links far faster than compute), so an expert's time is its
// tokens times a constant and hand-computed loads carry over.
Problem makeProblem(Fabric fabric, uint32_t experts, uint32_t layers, uint32_t topK, bool pairs = false,
                    bool next = false) {
  Problem p;
  p.fabric = std::move(fabric);
  p.model.layers = layers;
  p.model.experts = experts;
  p.model.topK = topK;
  p.model.hidden = 64;
  p.model.intermediate = 128;
  p.model.expertBytes = 3ull * 64 * 128 * 2;
  p.profile = LoadProfile(layers, experts, p.fabric.dies, pairs, next);
  p.current = expertParallel(p);
  return p;
}

Fabric fastUniform(uint32_t dies) { return Fabric::uniform(dies, kFlops, 1e18, 1e18, 1ull << 50); }

// Top-1 tokens: loads[e] tokens choose expert e at `layer`; one step carries them all.
void recordLoads(Problem& p, uint32_t layer, const std::vector<uint32_t>& loads) {
  std::vector<uint32_t> choices, dies;
  for (uint32_t e = 0; e < loads.size(); ++e)
    for (uint32_t i = 0; i < loads[e]; ++i) choices.push_back(e), dies.push_back(0);
  p.profile.record(layer, {}, {}, dies, choices, 1);
  p.tokensPerStep = std::accumulate(loads.begin(), loads.end(), uint64_t{0});
}

Decision decide(const std::string& name, const Problem& p) {
  Decision d = policyType(name, "test").make()->decide(p);
  d.placement.validate(name, p.fabric.unusable);
  EXPECT_FALSE(d.reason.empty()) << name;
  return d;
}

std::vector<uint32_t> diesOf(const Placement& placement, uint32_t layer, uint32_t expert) {
  std::vector<uint32_t> out;
  for (const Replica& r : placement.replicas(layer, expert)) out.push_back(r.shards.at(0).die);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> expertsOn(const Placement& placement, uint32_t layer, uint32_t die) {
  std::vector<uint32_t> out;
  for (uint32_t e = 0; e < placement.experts(); ++e)
    for (const Replica& r : placement.replicas(layer, e))
      if (r.shards.at(0).die == die) out.push_back(e);
  return out;
}

double maxCompute(const Problem& p, const Placement& placement, uint32_t layer = 0) {
  const auto c = computeSeconds(p, placement, layer);
  return *std::max_element(c.begin(), c.end());
}

// --- Remap -----------------------------------------------------------------------------------

TEST(PrefillRemap, FourThreeTwoOneOnTwoDies) {
  Problem p = makeProblem(fastUniform(2), 4, 1, 1);
  recordLoads(p, 0, {4, 3, 2, 1});
  // 4 -> die 0; 3 -> die 1; 2 -> die 1 (3 < 4); 1 -> die 0 (4 < 5): {4, 1} and {3, 2}.
  const Decision d = decide("remap", p);
  EXPECT_EQ(expertsOn(d.placement, 0, 0), (std::vector<uint32_t>{0, 3}));
  EXPECT_EQ(expertsOn(d.placement, 0, 1), (std::vector<uint32_t>{1, 2}));
}

TEST(PrefillRemap, RespectsTheSlotLimitAndSkipsFailedDies) {
  // Dies 0, 2, 3 usable (1 failed), 6 experts: 2 slots each. 100 -> die 0; then the ones alternate
  // over dies 2 and 3 until full; the last one must go to die 0 although it is the busiest.
  Problem p = makeProblem(fastUniform(4), 6, 1, 1);
  p.fabric.unusable = {false, true, false, false};
  p.current = expertParallel(p);
  recordLoads(p, 0, {100, 1, 1, 1, 1, 1});
  const Decision d = decide("remap", p);
  EXPECT_EQ(expertsOn(d.placement, 0, 0), (std::vector<uint32_t>{0, 5}));
  EXPECT_EQ(expertsOn(d.placement, 0, 2), (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(expertsOn(d.placement, 0, 3), (std::vector<uint32_t>{2, 4}));
  EXPECT_TRUE(expertsOn(d.placement, 0, 1).empty());
}

// --- Dup -------------------------------------------------------------------------------------

TEST(PrefillDup, OneHotExpertIsDuplicatedAndTheMaxHalves) {
  Problem p = makeProblem(fastUniform(2), 4, 1, 1);
  recordLoads(p, 0, {8, 0, 0, 0});
  // Contiguous: {0, 1} on die 0 (time 8), {2, 3} on die 1 (0). Copying expert 0 to die 1 gives 4
  // and 4; die 0's spare slot can take expert 2 or 3, which carry nothing: no copy lowers anything.
  const Decision d = decide("dup", p);
  EXPECT_EQ(diesOf(d.placement, 0, 0), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(d.placement.replicaCount(), 5u);
  EXPECT_EQ(d.placement.split, Split::Even);
  Placement contiguous(2, 1, 4);
  for (uint32_t e = 0; e < 4; ++e) contiguous.putWhole(0, e, e / 2);
  EXPECT_NEAR(maxCompute(p, d.placement) / maxCompute(p, contiguous), 0.5, 1e-9);
}

TEST(PrefillDup, PicksTheCopyThatLowersTheMaxMost) {
  Problem p = makeProblem(fastUniform(2), 4, 1, 1);
  recordLoads(p, 0, {6, 2, 1, 1});
  // Die 0 = 6 + 2 = 8, die 1 = 2. Copy 0 -> die 1: 3 + 2 = 5 and 2 + 3 = 5 (copy 1 -> die 1 only
  // gets to 7). Then die 0's slot: copying 2 or 3 there raises die 0 to 5.5: stop.
  p.options.set("extra_slots", "1");
  const Decision d = decide("dup", p);
  EXPECT_EQ(diesOf(d.placement, 0, 0), (std::vector<uint32_t>{0, 1}));
  for (uint32_t e = 1; e < 4; ++e) EXPECT_EQ(d.placement.replicas(0, e).size(), 1u) << e;
  const double perToken = maxCompute(p, d.placement) / 5.0;
  EXPECT_NEAR(perToken, 64.0 * 128 * 6 / kFlops, 1e-15);  // max = 5 tokens' time
}

TEST(PrefillDup, ExtraCopiesStayWithinMemory) {
  Problem p = makeProblem(fastUniform(2), 4, 1, 1);
  recordLoads(p, 0, {8, 0, 0, 0});
  p.fabric.expertCapacityBytes.assign(2, 2 * p.model.expertBytes);  // the contiguous layout exactly
  const Decision d = decide("dup", p);
  EXPECT_EQ(d.placement.replicaCount(), 4u);
}

// --- Allo / Pred -----------------------------------------------------------------------------

TEST(WaferAllo, HotExpertSpreadsOverItsNeighboursInBlocks) {
  // A 3 x 1 mesh, expert e on die e. Experts ascending: 0 (10 tokens) and 2 (10) stay home; the
  // six 50-token blocks of expert 1 (300) go 1, 0, 2, 1, 0, 2 (the one-hop neighbours start 10
  // tokens behind): three replicas.
  Problem p = makeProblem(Fabric::mesh(3, 1, kFlops, 1e18, 1e18, 1ull << 50), 3, 1, 1);
  recordLoads(p, 0, {10, 300, 10});
  const Decision d = decide("allo", p);
  EXPECT_EQ(diesOf(d.placement, 0, 1), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(diesOf(d.placement, 0, 0), (std::vector<uint32_t>{0}));
  EXPECT_EQ(diesOf(d.placement, 0, 2), (std::vector<uint32_t>{2}));
  EXPECT_EQ(d.placement.split, Split::LeastLoaded);
  p.options.set("max_split", "1");  // only the least-loaded candidate: the home die
  EXPECT_EQ(diesOf(decide("allo", p).placement, 0, 1), (std::vector<uint32_t>{1}));
}

TEST(WaferAllo, CandidatesAreWithinOneHop) {
  Problem p = makeProblem(Fabric::mesh(4, 1, kFlops, 1e18, 1e18, 1ull << 50), 4, 1, 1);
  recordLoads(p, 0, {1000, 0, 0, 0});
  const Decision d = decide("allo", p);
  EXPECT_EQ(diesOf(d.placement, 0, 0), (std::vector<uint32_t>{0, 1}));  // dies 2 and 3 are 2+ hops away
}

TEST(WaferAllo, NeighboursAreOneLinkAwayWhenHopsCountRouters) {
  // The serving model's fabric (models/moe/placement_bridge.cc) counts the routers on a path: two
  // between neighbouring dies of a wafer. The neighbour is still a candidate (it once was not, and
  // allo on the Dojo wafer added no replica at all).
  Fabric f = Fabric::mesh(4, 1, kFlops, 1e18, 1e18, 1ull << 50);
  for (uint32_t a = 0; a < 4; ++a)
    for (uint32_t b = 0; b < 4; ++b)
      if (a != b) ++f.hops[size_t{a} * 4 + b];
  Problem p = makeProblem(std::move(f), 4, 1, 1);
  recordLoads(p, 0, {1000, 0, 0, 0});
  EXPECT_EQ(diesOf(decide("allo", p).placement, 0, 0), (std::vector<uint32_t>{0, 1}));
}

// Request 1's tokens choose 0, 2, 0, 2, ...; request 2's choose 1, 3, 1, 3, ... (one more token).
Problem predProblem() {
  Problem p = makeProblem(fastUniform(4), 4, 1, 1, false, true);
  std::vector<uint64_t> req;
  std::vector<uint32_t> pos, die, choices;
  for (uint32_t i = 0; i < 10; ++i)
    req.push_back(1), pos.push_back(i), die.push_back(0), choices.push_back(i % 2 ? 2 : 0);
  for (uint32_t i = 0; i < 11; ++i)
    req.push_back(2), pos.push_back(i), die.push_back(1), choices.push_back(i % 2 ? 3 : 1);
  p.profile.record(0, req, pos, die, choices, 1);
  p.tokensPerStep = 21;
  return p;
}

TEST(WaferPred, CachesThePredictedNextExpertBesideTheHotOne) {
  Problem p = predProblem();
  // Hottest: expert 1 (6 tokens); its row of the heatmap: next(1, 3) = 5. EP: 1 on die 1, 3 on die 3.
  p.options.set("hot_experts", "1");
  p.options.set("top_n", "1");
  Decision d = decide("pred", p);
  EXPECT_EQ(diesOf(d.placement, 0, 3), (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(d.placement.replicaCount(), 5u);
  EXPECT_EQ(d.placement.split, Split::Nearest);
  // Two hot experts: 1 and then 0 (5 tokens, ties to the lower): 2 is cached on die 0 too.
  p.options.set("hot_experts", "2");
  d = decide("pred", p);
  EXPECT_EQ(diesOf(d.placement, 0, 2), (std::vector<uint32_t>{0, 2}));
  // No cache slots, or no memory beyond EP: nothing cached.
  p.options.set("cache_slots", "0");
  EXPECT_EQ(decide("pred", p).placement.replicaCount(), 4u);
  p.options.set("cache_slots", "2");
  p.fabric.expertCapacityBytes.assign(4, p.model.expertBytes);
  EXPECT_EQ(decide("pred", p).placement.replicaCount(), 4u);
  EXPECT_TRUE(policyType("pred", "t").needs.next);
  EXPECT_TRUE(policyType("allo_pred", "t").needs.next);
  EXPECT_FALSE(policyType("allo", "t").needs.next);
}

// --- Mozart clustering and copies per token --------------------------------------------------

// Two cliques of co-activation: every token chooses two experts of {0, 2, 4, 6} or of {1, 3, 5, 7}.
Problem cliqueProblem(std::vector<uint32_t>& choices) {
  Problem p = makeProblem(fastUniform(4), 8, 1, 2, true, false);
  p.fabric.groupOf = {0, 0, 1, 1};
  std::vector<uint32_t> die;
  for (uint32_t clique = 0; clique < 2; ++clique)
    for (uint32_t a = 0; a < 4; ++a)
      for (uint32_t b = a + 1; b < 4; ++b)
        for (uint32_t r = 0; r < 10; ++r) {
          choices.push_back(2 * a + clique);
          choices.push_back(2 * b + clique);
          die.push_back(0);
        }
  p.profile.record(0, {}, {}, die, choices, 2);
  p.tokensPerStep = die.size();
  return p;
}

TEST(MozartClustering, EachCliqueLandsInOneGroupAndCopiesFall) {
  std::vector<uint32_t> choices;
  Problem p = cliqueProblem(choices);
  const Decision d = decide("mozart_cluster", p);
  const auto groupOf = p.fabric.groupOf;
  for (uint32_t clique = 0; clique < 2; ++clique) {
    const uint32_t g = groupOf[d.placement.replicas(0, clique).front().shards[0].die];
    for (uint32_t e = clique; e < 8; e += 2)
      EXPECT_EQ(groupOf[d.placement.replicas(0, e).front().shards[0].die], g) << e;
  }
  for (uint32_t die = 0; die < 4; ++die) EXPECT_EQ(expertsOn(d.placement, 0, die).size(), 2u) << die;
  // EP puts e on die e mod 4, so each clique straddles both groups: of a clique's 6 pairs, 2 stay
  // in one group -> C_T = (2 * 1 + 4 * 2) / 6. Clustered: 1 copy per token.
  const Placement ep = expertParallel(p);
  EXPECT_NEAR(copiesPerTokenExact(choices, 2, ep, 0, groupOf), 10.0 / 6, 1e-12);
  EXPECT_NEAR(copiesPerTokenExact(choices, 2, d.placement, 0, groupOf), 1.0, 1e-12);
  // Top-2: the estimate from counts is exact.
  EXPECT_NEAR(groupCopiesPerToken(p.profile, ep, 0, groupOf), 10.0 / 6, 1e-12);
  EXPECT_NEAR(groupCopiesPerToken(p.profile, d.placement, kAllLayers, groupOf), 1.0, 1e-12);
  EXPECT_NEAR(copiesPerToken(p.profile, d.placement, 0), copiesPerTokenExact(choices, 2, d.placement, 0), 1e-12);
  EXPECT_NE(d.reason.find("C_T per group 1 (EP 1.67)"), std::string::npos) << d.reason;
  EXPECT_TRUE(policyType("mozart_cluster", "t").needs.pairs);
}

TEST(MozartClustering, CoActivatedPairsShareADieWithinTheirGroup) {
  // Every token chooses one of the pairs {0, 1}, {2, 3}, {4, 5}, {6, 7} (the heavier pairs first):
  // stage 1 puts two pairs in each group, stage 2 one pair on each die, so a token reaches one die.
  // EP (e on die e mod 4) splits every pair over two dies.
  Problem p = makeProblem(fastUniform(4), 8, 1, 2, true, false);
  p.fabric.groupOf = {0, 0, 1, 1};
  std::vector<uint32_t> choices, die;
  for (uint32_t pair = 0; pair < 4; ++pair)
    for (uint32_t r = 0; r < 10 + pair; ++r) {
      choices.push_back(2 * pair);
      choices.push_back(2 * pair + 1);
      die.push_back(0);
    }
  p.profile.record(0, {}, {}, die, choices, 2);
  p.tokensPerStep = die.size();
  const Decision d = decide("mozart_cluster", p);
  for (uint32_t e = 0; e < 8; e += 2)
    EXPECT_EQ(diesOf(d.placement, 0, e), diesOf(d.placement, 0, e + 1)) << e;
  for (uint32_t x = 0; x < 4; ++x) EXPECT_EQ(expertsOn(d.placement, 0, x).size(), 2u) << x;
  EXPECT_NEAR(copiesPerTokenExact(choices, 2, d.placement, 0), 1.0, 1e-12);
  EXPECT_NEAR(copiesPerTokenExact(choices, 2, expertParallel(p), 0), 2.0, 1e-12);
}

TEST(CopiesPerToken, ThreeChoicesOnOneDieCountOnce) {
  // Top-3, every token chooses {0, 1, 2}, all on die 0: one copy. The Bonferroni bound alone would
  // say 0; the second-moment bound is exact for all-or-none.
  LoadProfile prof(1, 4, 2, true, false);
  const std::vector<uint32_t> choices = {0, 1, 2, 0, 1, 2}, die = {0, 0};
  prof.record(0, {}, {}, die, choices, 3);
  Placement one(2, 1, 4);
  for (uint32_t e = 0; e < 4; ++e) one.putWhole(0, e, e == 3 ? 1 : 0);
  EXPECT_NEAR(copiesPerToken(prof, one, 0), 1.0, 1e-12);
  Placement spread(2, 1, 4);
  for (uint32_t e = 0; e < 4; ++e) spread.putWhole(0, e, e % 2);  // {0, 2} on die 0, 1 on die 1
  EXPECT_NEAR(copiesPerToken(prof, spread, 0), 2.0, 1e-12);
  EXPECT_NEAR(copiesPerTokenExact(choices, 3, spread, 0), 2.0, 1e-12);
  // With no pair counts: each choice its own copy (the upper bound), at most every token per die.
  LoadProfile bare(1, 4, 2, false, false);
  bare.record(0, {}, {}, die, choices, 3);
  Placement own(4, 1, 4);
  for (uint32_t e = 0; e < 4; ++e) own.putWhole(0, e, e);
  EXPECT_NEAR(copiesPerToken(bare, own, 0), 3.0, 1e-12);
  EXPECT_NEAR(copiesPerToken(bare, one, 0), 1.0, 1e-12);  // 6 choices on die 0, but only 2 tokens
}

// --- Duplex co-processing --------------------------------------------------------------------

TEST(DuplexCoprocessing, StopsWhereTheGreedyStopsByHand) {
  // One die; tokens 10, 100, 2, 60, 30, 5 for experts 0..5; xPU Op/B 40.
  //   PIM(n) = max(1, n / 6) / 4: 100 -> 4.1667, 60 -> 2.5, 30 -> 1.25, 10 -> 0.4167, 5, 2 -> 0.25
  //   xPU(n) = max(1, n / 40):    100 -> 2.5, 60 -> 1.5, 30 -> 1
  //   all on PIM: 8.8333; move 100: max(2.5, 4.6667); move 60: max(4.0, 2.1667) = 4.0;
  //   move 30: max(5.0, 0.9167) = 5.0 > 4.0: stop. xPU = {expert 1, expert 3}.
  Problem p = makeProblem(fastUniform(1), 6, 1, 1);
  recordLoads(p, 0, {10, 100, 2, 60, 30, 5});
  p.options.set("xpu_opb", "40");
  const Decision d = decide("duplex_coprocess", p);
  for (uint32_t e = 0; e < 6; ++e) {
    const Shard& s = d.placement.replicas(0, e).front().shards.front();
    EXPECT_EQ(s.engine, (e == 1 || e == 3) ? 0u : 1u) << e;
    EXPECT_EQ(s.die, 0u);
  }
  EXPECT_NE(d.reason.find("8.83 -> 4 "), std::string::npos) << d.reason;
}

TEST(DuplexCoprocessing, ExpertsStayOnTheirDiesAndTheRidgeComesFromTheFabric) {
  // Two dies, EP (0, 2 on die 0; 1, 3 on die 1). Ridge from the fabric: 3e12 / (0.75 * 1e11) = 40.
  Problem p = makeProblem(Fabric::uniform(2, 3e12, 1e11, 1e18, 1ull << 50), 4, 1, 1);
  recordLoads(p, 0, {100, 3, 60, 200});
  p.options.set("xpu_engine", "5");
  p.options.set("pim_engine", "7");
  const Decision d = decide("duplex_coprocess", p);
  for (uint32_t e = 0; e < 4; ++e)
    EXPECT_EQ(d.placement.replicas(0, e).front().shards.front().die,
              p.current.replicas(0, e).front().shards.front().die);
  // Die 0: 100 -> xPU (max(2.5, 2.5) < 6.67); 60 next: max(4, 0) = 4 > 2.5: stop.
  // Die 1: 200 -> xPU: max(5, 0.25) < 8.58; 3 next: max(6, 0) > 5: stop.
  const auto engine = [&](uint32_t e) { return d.placement.replicas(0, e).front().shards.front().engine; };
  EXPECT_EQ(engine(0), 5u);
  EXPECT_EQ(engine(2), 7u);
  EXPECT_EQ(engine(3), 5u);
  EXPECT_EQ(engine(1), 7u);
}

// --- EPLB ------------------------------------------------------------------------------------

TEST(Eplb, ReplicatesTheHottestAndPacksByLoad) {
  // 4 dies, loads 40, 10 x 7, 2 redundant: expert 0 gets both (40/2 = 20 > 10, then 13.3 > 10):
  // 10 replicas, 3 slots a die. Packing: 13.3 x 3 on dies 0, 1, 2; 10s to the least loaded:
  // die 3 (1), die 3 (2), dies 0, 1, 2 (3, 4, 5), die 3 (6, now full), die 0 (7): max 33.3.
  Problem p = makeProblem(fastUniform(4), 8, 1, 1);
  recordLoads(p, 0, {40, 10, 10, 10, 10, 10, 10, 10});
  p.options.set("redundant", "2");
  const Decision d = decide("eplb", p);
  EXPECT_EQ(diesOf(d.placement, 0, 0), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(expertsOn(d.placement, 0, 3), (std::vector<uint32_t>{1, 2, 6}));
  EXPECT_EQ(expertsOn(d.placement, 0, 0), (std::vector<uint32_t>{0, 3, 7}));
  EXPECT_EQ(d.placement.split, Split::LeastLoaded);
  EXPECT_NEAR(maxCompute(p, d.placement) / maxCompute(p, p.current), (40.0 / 3 + 20) / 50, 1e-9);
  // Default: one redundant replica per usable die.
  p.options = Params();
  EXPECT_EQ(decide("eplb", p).placement.replicaCount(), 12u);
}

// --- A3D even/odd ----------------------------------------------------------------------------

TEST(A3dEvenOdd, EvenAndOddHalvesAlternatePerLayer) {
  Problem p = makeProblem(fastUniform(5), 8, 2, 2);
  p.fabric.unusable = {false, false, true, false, false};  // usable 0, 1, 3, 4
  p.current = expertParallel(p);
  const Decision d = decide("a3d_interleave", p);
  EXPECT_EQ(expertsOn(d.placement, 0, 0), (std::vector<uint32_t>{0, 4}));
  EXPECT_EQ(expertsOn(d.placement, 0, 1), (std::vector<uint32_t>{2, 6}));
  EXPECT_EQ(expertsOn(d.placement, 0, 3), (std::vector<uint32_t>{1, 5}));
  EXPECT_EQ(expertsOn(d.placement, 0, 4), (std::vector<uint32_t>{3, 7}));
  EXPECT_EQ(expertsOn(d.placement, 1, 0), (std::vector<uint32_t>{1, 5}));
  EXPECT_EQ(expertsOn(d.placement, 1, 3), (std::vector<uint32_t>{0, 4}));
  for (uint32_t l = 0; l < 2; ++l)
    for (uint32_t e = 0; e + 1 < 8; ++e)
      EXPECT_NE(diesOf(d.placement, l, e), diesOf(d.placement, l, e + 1)) << l << " " << e;
}

// --- All of them on a mid-size case ----------------------------------------------------------

// Zipf-skewed top-k routing with a per-layer permutation, tokens of `requests` requests in turn.
// With `groups` > 0, group-limited routing as DeepSeek-V3's: the experts form `groups` equal
// groups of consecutive indices, a token first picks `groupsPerToken` groups (by drawing experts
// until that many groups appear) and then its k experts inside them.
void recordZipf(Problem& p, uint32_t tokensPerLayer, double s, uint32_t requests, uint64_t seed, uint32_t groups = 0,
                uint32_t groupsPerToken = 0) {
  const uint32_t E = p.model.experts, k = p.model.topK;
  RandomStream rng(seed, 0x5A495046);
  std::vector<double> cdf(E);
  std::vector<uint32_t> perm(E), choices, dies, pos;
  std::vector<uint64_t> req;
  for (uint32_t l = 0; l < p.model.layers; ++l) {
    std::iota(perm.begin(), perm.end(), 0u);
    for (uint32_t i = E; i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
    double sum = 0;
    for (uint32_t r = 0; r < E; ++r) cdf[r] = sum += 1.0 / std::pow(r + 1.0, s);
    choices.clear(), dies.clear(), pos.clear(), req.clear();
    auto draw = [&] { return perm[std::upper_bound(cdf.begin(), cdf.end(), rng.uniform() * sum) - cdf.begin()]; };
    std::vector<uint32_t> chosen;
    for (uint32_t t = 0; t < tokensPerLayer; ++t) {
      chosen.clear();
      while (groups > 0 && chosen.size() < groupsPerToken) {
        const uint32_t g = draw() / (E / groups);
        if (std::find(chosen.begin(), chosen.end(), g) == chosen.end()) chosen.push_back(g);
      }
      for (uint32_t j = 0; j < k;) {
        const uint32_t e = draw();
        if (groups > 0 && std::find(chosen.begin(), chosen.end(), e / (E / groups)) == chosen.end()) continue;
        if (std::find(choices.end() - j, choices.end(), e) != choices.end()) continue;
        choices.push_back(e);
        ++j;
      }
      dies.push_back(t % p.fabric.dies);
      req.push_back(t % requests);
      pos.push_back(t / requests);
    }
    p.profile.record(l, req, pos, dies, choices, k);
  }
  p.tokensPerStep = tokensPerLayer;
}

const std::vector<std::string> kServingPolicies = {
    "remap", "dup", "allo", "pred", "allo_pred", "eplb", "mozart_cluster", "duplex_coprocess", "a3d_interleave"};

TEST(ServingPolicies, ValidDeterministicAndWithinCapacityOnAMesh) {
  Problem p = makeProblem(Fabric::mesh(4, 4, 1e14, 1e12, 1e11, 1ull << 40), 64, 3, 4, true, true);
  p.fabric.unusable.assign(16, false);
  p.fabric.unusable[5] = true;
  p.current = expertParallel(p);
  recordZipf(p, 2048, 1.0, 64, 7);
  p.fabric.expertCapacityBytes.assign(16, 16 * p.model.expertBytes);  // EP's 13 + 3 spare
  for (const std::string& name : kServingPolicies) {
    SCOPED_TRACE(name);
    const Decision a = decide(name, p), b = decide(name, p);
    EXPECT_EQ(a.placement, b.placement);
    EXPECT_EQ(a.reason, b.reason);
    EXPECT_NO_THROW(checkCapacity(p, a.placement, name));
    EXPECT_TRUE(std::isfinite(a.predictedGain));
  }
  // Balancing policies do not make compute balance worse than EP on a skewed profile.
  const double ep = estimateCost(p, p.current).maxOverMeanCompute;
  for (const char* name : {"remap", "dup", "eplb"})
    EXPECT_LT(estimateCost(p, decide(name, p).placement).maxOverMeanCompute, ep) << name;
}

// DeepSeek-V3 size: 256 experts, top-8 from 4 of 8 groups, 58 MoE layers, an 8 x 8 mesh, Zipf(1.0)
// routing of 4096 tokens per layer. Prints each policy's wall time; no assertion on it.
TEST(ServingPolicies, DISABLED_TimingDeepSeekV3Size) {
  Problem p;
  p.fabric = Fabric::mesh(8, 8, 989e12, 3.35e12, 1.7e12, 80ull << 30);
  p.model.layers = 58;
  p.model.experts = 256;
  p.model.topK = 8;
  p.model.hidden = 7168;
  p.model.intermediate = 2048;
  p.model.expertBytes = 3ull * 7168 * 2048 * 2;
  p.profile = LoadProfile(58, 256, 64, true, true);
  p.current = expertParallel(p);
  recordZipf(p, 4096, 1.0, 256, 11, 8, 4);
  for (const std::string& name : kServingPolicies) {
    const auto start = std::chrono::steady_clock::now();
    const Decision d = policyType(name, "t").make()->decide(p);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-18s %8.3f s  replicas %6llu  gain %+.3f  %s\n", name.c_str(), s,
                static_cast<unsigned long long>(d.placement.replicaCount()), d.predictedGain, d.reason.c_str());
  }
  const auto start = std::chrono::steady_clock::now();
  const double ct = groupCopiesPerToken(p.profile, p.current, kAllLayers, chipletGroups(p.fabric));
  std::printf("%-18s %8.3f s  (EP C_T per group %.3f)\n", "copiesPerToken",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), ct);
}

}  // namespace
}  // namespace wafersim::placement
