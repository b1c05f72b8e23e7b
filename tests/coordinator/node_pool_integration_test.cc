// The node pool (coordinator/node_pool.h) with real wafersim-node --pool processes: nodes register
// with their capacity, serve run after run and several runs side by side, each with the digest of
// the in-process run; messages naming another run are dropped; a cancelled run frees its nodes.
#include "coordinator/node_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/child_process.h"
#include "coordinator/local_launcher.h"
#include "coordinator/node_coordinator.h"
#include "models/model_catalog.h"
#include "scenario/scenario.h"
#include "sim/error.h"

namespace wafersim {
namespace {

std::string nodeBinary() { return std::string(WAFERSIM_BINARY_DIR) + "/nodes/wafersim-node"; }

std::string phold(const std::string& end, int seed) {
  return "model: phold\nparams: {lps: 24}\nsimulation: {end: " + end + ", seed: " + std::to_string(seed) + "}\n";
}

struct Prepared {
  PoolRun run;
  std::string expectedDigest;  // of the same scenario in this process
};

Prepared prepare(const std::string& text, uint32_t partitions, std::vector<std::string> nodes, std::string runId) {
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  const Scenario s = parseScenario(text, "test");
  const SystemGraph graph = catalog.build(s.model, s.modelParams, "test", s.run.seed);
  Prepared p;
  p.run.runId = std::move(runId);
  p.run.nodes = std::move(nodes);
  p.run.scenarioText = text;
  p.run.map = PartitionMap::linear(graph.components().size(), partitions);
  p.run.run = s.run;
  p.expectedDigest = runInProcess(graph, registry, p.run.map, s.run).results.digestHex();
  return p;
}

class Pool : public ::testing::Test {
 protected:
  void SetUp() override {
    launcher_.start(LaunchSpec{3, pool_.endpoint(), true, "pool-node-", ""});
    pool_.waitForNodes(3, {}, std::chrono::seconds(30));
  }
  // Nodes are free again once they say so (release), a moment after their run ends.
  void waitIdle(size_t n) { ASSERT_TRUE(pool_.waitIdle(n, std::chrono::seconds(10))) << pool_.idle() << " idle"; }
  NodePool pool_;
  LocalLauncher launcher_{nodeBinary()};
};

TEST_F(Pool, NodesRegisterWithTheirCapacity) {
  const auto nodes = pool_.nodes();
  ASSERT_EQ(nodes.size(), 3u);
  for (const auto& n : nodes) {
    EXPECT_THAT(n.name, ::testing::StartsWith("pool-node-"));
    EXPECT_TRUE(n.pool);
    EXPECT_GE(n.cores, 1u);
    EXPECT_GT(n.memoryBytes, 0u);
    EXPECT_TRUE(n.runId.empty());
  }
  EXPECT_EQ(pool_.idle(), 3u);
}

TEST_F(Pool, ANodeServesRunAfterRun) {
  for (int seed = 1; seed <= 3; ++seed) {
    const std::string id = "seq-" + std::to_string(seed);
    waitIdle(2);
    auto nodes = pool_.reserve(id, 2);
    ASSERT_TRUE(nodes.has_value());
    Prepared p = prepare(phold("3 us", seed), 2, *nodes, id);
    EXPECT_EQ(pool_.run(p.run).results.digestHex(), p.expectedDigest) << "run " << seed;
  }
  waitIdle(3);
  uint64_t served = 0;
  for (const auto& n : pool_.nodes()) served += n.runsServed;
  EXPECT_EQ(served, 6u) << "3 runs of 2 partitions";
}

TEST_F(Pool, RunsSideBySideOnSeparateNodes) {
  auto a = pool_.reserve("side-a", 2);
  auto b = pool_.reserve("side-b", 1);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(pool_.reserve("side-c", 1).has_value()) << "every node is taken";
  Prepared pa = prepare(phold("4 us", 7), 2, *a, "side-a");
  Prepared pb = prepare(phold("4 us", 8), 1, *b, "side-b");
  auto fa = std::async(std::launch::async, [&] { return pool_.run(pa.run).results.digestHex(); });
  auto fb = std::async(std::launch::async, [&] { return pool_.run(pb.run).results.digestHex(); });
  EXPECT_EQ(fa.get(), pa.expectedDigest);
  EXPECT_EQ(fb.get(), pb.expectedDigest);
  waitIdle(3);
}

TEST_F(Pool, ACancelledRunFreesItsNodesForTheNext) {
  auto nodes = pool_.reserve("forever", 3);
  ASSERT_TRUE(nodes);
  Prepared forever = prepare(phold("2 us", 1), 3, *nodes, "forever");
  forever.run.run.end = SimTime::never();  // PHOLD never runs dry
  std::stop_source stop;
  forever.run.run.stop = stop.get_token();
  auto running = std::async(std::launch::async, [&] { return pool_.run(forever.run); });
  ASSERT_TRUE(pool_.waitForProgress("forever", 1, std::chrono::seconds(20))) << "no progress reported";
  const auto asked = std::chrono::steady_clock::now();
  stop.request_stop();
  try {
    running.get();
    ADD_FAILURE() << "a cancelled run returned results";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("run cancelled"));
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count(), 1.0);
  waitIdle(3);
  auto again = pool_.reserve("after", 3);
  ASSERT_TRUE(again);
  Prepared after = prepare(phold("3 us", 5), 3, *again, "after");
  EXPECT_EQ(pool_.run(after.run).results.digestHex(), after.expectedDigest);
  EXPECT_GT(pool_.counters().runsStarted, 1u);
}

TEST_F(Pool, AKilledNodeFailsItsRunAndLeavesThePool) {
  auto nodes = pool_.reserve("doomed", 2);
  ASSERT_TRUE(nodes);
  Prepared p = prepare(phold("2 us", 1), 2, *nodes, "doomed");
  p.run.run.end = SimTime::never();
  auto running = std::async(std::launch::async, [&] { return pool_.run(p.run); });
  ASSERT_TRUE(pool_.waitForProgress("doomed", 1, std::chrono::seconds(20)));
  pid_t victim = 0;
  for (const auto& n : pool_.nodes())
    if (n.name == (*nodes)[0]) victim = static_cast<pid_t>(n.pid);
  ASSERT_GT(victim, 0);
  ::kill(victim, SIGKILL);
  for (const auto& [name, how] : launcher_.reapExited()) pool_.nodeLost(name, name + " " + how);
  try {
    running.get();  // the heartbeat timeout notices it if reapExited was too early
    ADD_FAILURE() << "the run survived its node";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Disconnected);
  }
  EXPECT_EQ(pool_.size(), 2u);
  EXPECT_EQ(pool_.counters().nodesLost, 1u);
}

}  // namespace
}  // namespace wafersim

namespace wafersim {
namespace {

// wafersim-placement --coordinator registers with the pool, which hands its endpoint to runs.
TEST(PoolPlacement, APlacementServiceRegistersAndIsShared) {
  NodePool pool;
  ChildSpec spec;
  spec.argv = {std::string(WAFERSIM_BINARY_DIR) + "/placement/wafersim-placement", "--bind", "tcp://127.0.0.1:*",
               "--quiet", "--coordinator", pool.endpoint()};
  spec.stdoutFd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t pid = spawnChild(spec);
  ::close(spec.stdoutFd);
  pool.waitForPlacement(std::chrono::seconds(20));
  EXPECT_THAT(pool.placementEndpoint(), ::testing::StartsWith("tcp://127.0.0.1:"));
  EXPECT_EQ(pool.size(), 0u) << "a placement service is not a node";
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace
}  // namespace wafersim
