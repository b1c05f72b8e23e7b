// Contract 2 (ARCHITECTURE.md): the same system and seed give a bit-identical Results::digest()
// whatever the number of partitions (1 to 4), the partitioning (linear, round-robin), the
// synchronization strategy (window, null messages) and the lookahead mode (links, model); another
// seed gives another digest. Every run also has the conservative-safety checker on (contract 3).
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/synthetic/synthetic.h"
#include "sim/simulation.h"
#include "tests/sim/synthetic_cases.h"

namespace wafersim {
namespace {

using testing::ModelCase;
using testing::models;

struct Config {
  uint32_t partitions;
  bool roundRobin;
  SyncKind sync;
  LookaheadMode lookahead;
};

std::string describe(const Config& c) {
  return std::to_string(c.partitions) + " partitions " + (c.roundRobin ? "round-robin" : "linear") + ", sync " +
         toString(c.sync) + ", lookahead " + toString(c.lookahead);
}

std::vector<Config> configs() {
  std::vector<Config> out;
  for (uint32_t p = 1; p <= 4; ++p)
    for (bool rr : {false, true}) {
      if (p == 1 && rr) continue;
      for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage})
        for (LookaheadMode mode : {LookaheadMode::Links, LookaheadMode::Model}) out.push_back({p, rr, sync, mode});
    }
  return out;
}

RunReport runModel(const ModelCase& m, const Config& c, uint64_t seed) {
  ComponentRegistry registry;
  synthetic::registerSyntheticComponents(registry);
  const SystemGraph g = m.build();
  const size_t n = g.components().size();
  RunOptions options;
  options.sync = c.sync;
  options.lookahead = c.lookahead;
  options.end = m.end;
  options.seed = seed;
  options.checker = true;
  return runInProcess(g, registry,
                      c.roundRobin ? PartitionMap::roundRobin(n, c.partitions) : PartitionMap::linear(n, c.partitions),
                      options);
}

class DeterminismTest : public ::testing::TestWithParam<std::tuple<size_t, uint64_t>> {};

TEST_P(DeterminismTest, DigestIsTheSameForEveryPartitioningStrategyAndLookahead) {
  const ModelCase& m = models()[std::get<0>(GetParam())];
  const uint64_t seed = std::get<1>(GetParam());
  const RunReport reference = runModel(m, {1, false, SyncKind::Window, LookaheadMode::Links}, seed);
  ASSERT_GE(reference.events(), m.minEvents);
  EXPECT_EQ(reference.results.eventsCommitted(), reference.events());
  const nlohmann::json referenceJson = reference.results.toJson();
  for (const Config& c : configs()) {
    SCOPED_TRACE(m.name + " seed " + std::to_string(seed) + ", " + describe(c));
    const RunReport r = runModel(m, c, seed);
    EXPECT_EQ(r.results.digest(), reference.results.digest());
    EXPECT_EQ(r.events(), reference.events());
    EXPECT_EQ(r.results.simulatedTime(), reference.results.simulatedTime());
    EXPECT_LT(r.results.simulatedTime(), m.end);
    // The digest covers everything; compare the document too so a failure shows what differs.
    if (r.results.digest() != reference.results.digest()) {
      EXPECT_EQ(r.results.toJson().dump(1), referenceJson.dump(1));
    }
    ASSERT_EQ(r.partitions.size(), c.partitions);
    if (c.partitions > 1) {
      uint64_t crossed = 0;
      for (const auto& p : r.partitions) crossed += p.sync.eventsSent;
      EXPECT_GT(crossed, 0u) << "no event crossed partitions: the test would prove nothing";
    }
  }
}

std::string caseName(const ::testing::TestParamInfo<std::tuple<size_t, uint64_t>>& info) {
  return models()[std::get<0>(info.param)].name + "Seed" + std::to_string(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Models, DeterminismTest,
                         ::testing::Combine(::testing::Range<size_t>(0, 4), ::testing::Values<uint64_t>(1, 7, 2024)),
                         caseName);

class SeedTest : public ::testing::TestWithParam<size_t> {};

TEST_P(SeedTest, DifferentSeedsGiveDifferentDigests) {
  const ModelCase& m = models()[GetParam()];
  std::map<uint64_t, uint64_t> digestOfSeed;
  for (uint64_t seed : {1u, 2u, 3u, 7u, 2024u}) {
    const uint64_t d = runModel(m, {2, true, SyncKind::NullMessage, LookaheadMode::Model}, seed).results.digest();
    for (const auto& [otherSeed, otherDigest] : digestOfSeed)
      EXPECT_NE(d, otherDigest) << m.name << ": seeds " << seed << " and " << otherSeed;
    digestOfSeed[seed] = d;
  }
  // ...and the same seed again gives the same digest.
  EXPECT_EQ(runModel(m, {3, false, SyncKind::Window, LookaheadMode::Model}, 7).results.digest(), digestOfSeed[7]);
}

INSTANTIATE_TEST_SUITE_P(Models, SeedTest, ::testing::Range<size_t>(0, 4),
                         [](const ::testing::TestParamInfo<size_t>& info) { return models()[info.param].name; });

TEST(ModelLookaheadTest, PromisesAndReactionDelaysWidenWindows) {
  // PHOLD in compute mode: 2 ns of service per event over a 100 ps fabric. With links alone a
  // window reaches 100 ps past the earliest pending event; the model's reaction delay and promises
  // stretch it to about 2 ns. The results are the same either way.
  synthetic::PholdConfig c;
  c.lps = 16;
  c.service = Duration::fromPs(2000);
  c.lookahead = Duration::fromPs(100);
  const SystemGraph g = synthetic::buildPhold(c);
  ComponentRegistry registry;
  synthetic::registerSyntheticComponents(registry);
  std::map<LookaheadMode, RunReport> reports;
  for (LookaheadMode mode : {LookaheadMode::Links, LookaheadMode::Model}) {
    RunOptions options;
    options.lookahead = mode;
    options.end = SimTime::fromPs(200'000);
    options.checker = true;
    reports[mode] = runInProcess(g, registry, PartitionMap::linear(16, 2), options);
  }
  const RunReport& links = reports[LookaheadMode::Links];
  const RunReport& model = reports[LookaheadMode::Model];
  EXPECT_EQ(links.results.digest(), model.results.digest());
  const uint64_t linkWindows = links.partitions[0].sync.rounds;
  const uint64_t modelWindows = model.partitions[0].sync.rounds;
  // The window strategy's rounds are a function of the simulation alone, not of thread timing.
  EXPECT_GE(linkWindows, 400u);
  EXPECT_LT(modelWindows * 4, linkWindows) << "model lookahead gave " << modelWindows << " windows, links "
                                           << linkWindows;
}

}  // namespace
}  // namespace wafersim
