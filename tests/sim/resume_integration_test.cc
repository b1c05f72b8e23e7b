// Contract 11 (ARCHITECTURE.md): a run checkpointed on some number of partitions and resumed from
// its last cut on any other number, under either synchronization strategy, ends with the results
// digest (and document) of the uninterrupted run. Checkpoints that cannot be taken or used are
// refused before anything runs, naming why.
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/synthetic/synthetic.h"
#include "sim/checkpoint.h"
#include "sim/simulation.h"
#include "tests/sim/synthetic_cases.h"
#include "tests/sim/test_components.h"
#include "tests/support.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;

using testing::ModelCase;
using testing::models;
using testing::smallPhold;
using testing::relayGrid;
using testing::messageMesh;

ComponentRegistry registry() {
  ComponentRegistry r;
  synthetic::registerSyntheticComponents(r);
  return r;
}

RunReport run(const SystemGraph& g, uint32_t partitions, SyncKind sync, SimTime end, const std::string& checkpointDir,
              Duration every, std::shared_ptr<const CheckpointImage> resume = nullptr) {
  RunOptions options;
  options.sync = sync;
  options.end = end;
  options.seed = 5;
  options.checker = true;
  options.checkpoint.dir = checkpointDir;
  options.checkpoint.every = every;
  options.resume = std::move(resume);
  return runInProcess(g, registry(), PartitionMap::roundRobin(g.components().size(), partitions), options);
}

struct Resume {
  uint32_t from;
  uint32_t to;
  SyncKind sync;  // of the resumed run
};

class ResumeTest : public ::testing::TestWithParam<size_t> {};

TEST_P(ResumeTest, ResumedOnAnyPartitionCountGivesTheUninterruptedDigest) {
  const ModelCase& m = models()[GetParam()];
  const SystemGraph g = m.build();
  const RunReport reference = run(g, 1, SyncKind::Window, m.end, "", Duration::zero());
  ASSERT_GT(reference.events(), 500u);
  const Duration every = Duration::fromPs((m.end.ps()) / 5);
  for (const Resume& c : std::vector<Resume>{{1, 2, SyncKind::Window},
                                             {2, 3, SyncKind::Window},
                                             {3, 1, SyncKind::Window},
                                             {2, 4, SyncKind::NullMessage},
                                             {4, 2, SyncKind::NullMessage}}) {
    SCOPED_TRACE(m.name + ": " + std::to_string(c.from) + " -> " + std::to_string(c.to) + " partitions, resumed with " +
                 toString(c.sync));
    testing::TempDir dir("wafersim-resume");
    const std::string folder = (dir / "checkpoints").string();
    // The first run stops part-way (as if its machine were lost after its last checkpoint).
    const SimTime stop = SimTime::fromPs(m.end.ps() * 7 / 10);
    const RunReport first = run(g, c.from, SyncKind::Window, stop, folder, every);
    ASSERT_GE(first.partitions[0].checkpoint.written, 2u);
    auto image = std::make_shared<CheckpointImage>(loadLatestCheckpoint(folder));
    EXPECT_EQ(image->partitions, c.from);
    EXPECT_GT(image->time, SimTime::zero());
    EXPECT_LE(image->time, stop);
    EXPECT_FALSE(image->events.empty());

    const RunReport resumed = run(g, c.to, c.sync, m.end, "", Duration::zero(), image);
    EXPECT_EQ(resumed.results.digest(), reference.results.digest());
    EXPECT_EQ(resumed.events(), reference.events());
    EXPECT_EQ(resumed.results.simulatedTime(), reference.results.simulatedTime());
    if (resumed.results.digest() != reference.results.digest()) {
      EXPECT_EQ(resumed.results.toJson().dump(1), reference.results.toJson().dump(1));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ResumeTest, ::testing::Range<size_t>(0, 4),
                         [](const auto& info) { return models()[info.param].name; });

TEST(Resume, CheckpointingDoesNotChangeTheResultsAndAResumedRunCheckpointsOn) {
  const SystemGraph g = relayGrid();
  const SimTime end = SimTime::fromPs(100'000);
  const RunReport reference = run(g, 2, SyncKind::Window, end, "", Duration::zero());
  testing::TempDir dir("wafersim-resume");
  const std::string folder = (dir / "checkpoints").string();
  const RunReport checkpointed = run(g, 2, SyncKind::Window, end, folder, Duration::fromPs(10'000));
  EXPECT_EQ(checkpointed.results.digest(), reference.results.digest());
  EXPECT_GE(checkpointed.partitions[1].checkpoint.written, 8u);
  EXPECT_GT(checkpointed.partitions[1].checkpoint.bytes, 0u);

  // Resume a resumed run: a cut from the middle, then from the resumed run's own later cut.
  testing::TempDir second("wafersim-resume");
  const std::string secondFolder = (second / "checkpoints").string();
  run(g, 3, SyncKind::Window, SimTime::fromPs(30'000), folder + "-a", Duration::fromPs(10'000));
  auto early = std::make_shared<CheckpointImage>(loadLatestCheckpoint(folder + "-a"));
  run(g, 1, SyncKind::Window, SimTime::fromPs(70'000), secondFolder, Duration::fromPs(10'000), early);
  auto later = std::make_shared<CheckpointImage>(loadLatestCheckpoint(secondFolder));
  EXPECT_GT(later->time, early->time);
  EXPECT_EQ(later->partitions, 1u);
  const RunReport last = run(g, 4, SyncKind::Window, end, "", Duration::zero(), later);
  EXPECT_EQ(last.results.digest(), reference.results.digest());
  std::filesystem::remove_all(folder + "-a");
}

// Cuts not at instants of simulated time: asked for (the next window start) and every so much wall
// time. Where they fall depends on the machine; what a run resumed from them ends with does not.
TEST(Resume, CutsOnDemandAndByWallClockResumeToTheSameDigest) {
  synthetic::PholdConfig c;
  c.lps = 1024;
  const SystemGraph g = synthetic::buildPhold(c);
  const SimTime end = SimTime::fromPs(2'000'000);
  const RunReport reference = run(g, 2, SyncKind::Window, end, "", Duration::zero());

  testing::TempDir dir("wafersim-resume");
  const std::string asked = (dir / "asked").string();
  std::atomic<bool> request{true};
  RunOptions options;
  options.end = end;
  options.seed = 5;
  options.checkpoint.dir = asked;
  options.checkpoint.requested = &request;
  const RunReport once = runInProcess(g, registry(), PartitionMap::linear(g.components().size(), 2), options);
  EXPECT_EQ(once.partitions[0].checkpoint.written, 1u);
  EXPECT_EQ(once.partitions[1].checkpoint.written, 1u);
  EXPECT_FALSE(request.load());
  EXPECT_EQ(once.results.digest(), reference.results.digest());
  auto first = std::make_shared<CheckpointImage>(loadLatestCheckpoint(asked));
  EXPECT_EQ(run(g, 3, SyncKind::Window, end, "", Duration::zero(), first).results.digest(), reference.results.digest());

  const std::string wall = (dir / "wall").string();
  options.checkpoint.dir = wall;
  options.checkpoint.requested = nullptr;
  options.checkpoint.everyWallSeconds = 0.01;
  const RunReport timed = runInProcess(g, registry(), PartitionMap::linear(g.components().size(), 2), options);
  EXPECT_GE(timed.partitions[1].checkpoint.written, 2u) << "a run of " << timed.wallSeconds << " s";
  EXPECT_EQ(timed.results.digest(), reference.results.digest());
  auto later = std::make_shared<CheckpointImage>(loadLatestCheckpoint(wall));
  EXPECT_GT(later->time, first->time);
  EXPECT_EQ(run(g, 1, SyncKind::NullMessage, end, "", Duration::zero(), later).results.digest(),
            reference.results.digest());
}

TEST(Resume, RefusesWhatCannotBeCheckpointedOrResumed) {
  const SystemGraph g = smallPhold();
  testing::TempDir dir("wafersim-resume");
  const std::string folder = (dir / "checkpoints").string();
  EXPECT_THAT(testing::invalidConfigOf([&] {
                run(g, 2, SyncKind::NullMessage, SimTime::fromPs(10'000), folder, Duration::fromPs(1000));
              }),
              HasSubstr("checkpoints need the window strategy"));

  run(g, 2, SyncKind::Window, SimTime::fromPs(20'000), folder, Duration::fromPs(5000));
  auto image = std::make_shared<CheckpointImage>(loadLatestCheckpoint(folder));
  // Another seed is another system.
  EXPECT_THAT(testing::invalidConfigOf([&] {
                RunOptions options;
                options.seed = 6;
                options.resume = image;
                runInProcess(g, registry(), PartitionMap::single(g.components().size()), options);
              }),
              HasSubstr("taken of another system"));
  // Another model is another system.
  const SystemGraph mesh = messageMesh();
  EXPECT_THAT(testing::invalidConfigOf([&] {
                run(mesh, 1, SyncKind::Window, SimTime::fromPs(40'000), "", Duration::zero(), image);
              }),
              HasSubstr("taken of another system"));

  // A component type without save/restore hooks: refused before the run starts, naming the type.
  ComponentRegistry scripted;
  testing::registerScripted(scripted, "test.Scripted", {}, [](const std::string&) { return testing::Hooks{}; });
  SystemGraph s;
  s.addComponent("a", "test.Scripted");
  RunOptions options;
  options.checkpoint.dir = folder + "-scripted";
  options.checkpoint.every = Duration::fromPs(1000);
  EXPECT_THAT(testing::invalidConfigOf([&] { runInProcess(s, scripted, PartitionMap::single(1), options); }),
              HasSubstr("these cannot: test.Scripted"));
}

}  // namespace
}  // namespace wafersim
