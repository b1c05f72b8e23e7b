// MessageMesh closed forms (models/synthetic/message_mesh.h): the population stays 4 X Y messages,
// all delivered at multiples of the link latency, so exactly 4 X Y events commit at each multiple.
#include "models/synthetic/message_mesh.h"

#include <string>

#include <gtest/gtest.h>

#include "sim/simulation.h"

namespace wafersim::synthetic {
namespace {

RunReport runMesh(const MessageMeshConfig& c, SimTime end, uint32_t partitions = 1,
                  SyncKind sync = SyncKind::Window) {
  ComponentRegistry registry;
  registerMessageMesh(registry);
  const SystemGraph g = buildMessageMesh(c);
  RunOptions options;
  options.end = end;
  options.sync = sync;
  options.checker = true;
  return runInProcess(g, registry, PartitionMap::linear(g.components().size(), partitions), options);
}

uint64_t totalMessages(const Results& r) {
  uint64_t n = 0;
  for (const auto& c : r.components()) {
    EXPECT_EQ(c.counters.at("messages"), c.eventsCommitted) << c.name;
    n += c.counters.at("messages");
  }
  return n;
}

TEST(MessageMeshTest, BuildsATorus) {
  const SystemGraph g = buildMessageMesh({5, 3, Duration::fromPs(700)});
  ASSERT_EQ(g.components().size(), 15u);
  EXPECT_EQ(g.links().size(), 30u);  // two per node: east and south
  EXPECT_EQ(g.component(0).name, "node[0,0]");
  EXPECT_EQ(g.component(7).name, "node[2,1]");
  for (const auto& l : g.links()) {
    EXPECT_EQ(l.latencyAB, Duration::fromPs(700));
    EXPECT_EQ(l.latencyBA, Duration::fromPs(700));
  }
  ComponentRegistry registry;
  registerMessageMesh(registry);
  EXPECT_NO_THROW(g.validate(registry));
}

TEST(MessageMeshTest, FourXYEventsAtEveryMultipleOfTheLatency) {
  for (const MessageMeshConfig& c : {MessageMeshConfig{4, 3, Duration::fromPs(1000)},
                                     MessageMeshConfig{1, 1, Duration::fromPs(250)},
                                     MessageMeshConfig{2, 5, Duration::fromPs(3000)}}) {
    const uint64_t population = 4ull * c.x * c.y;
    for (int64_t k : {1, 2, 7, 20}) {
      SCOPED_TRACE(std::to_string(c.x) + "x" + std::to_string(c.y) + ", k = " + std::to_string(k));
      // end just after the k-th multiple: k rounds of deliveries committed.
      const RunReport after = runMesh(c, SimTime::zero() + c.latency * k + Duration::fromPs(1));
      EXPECT_EQ(after.events(), population * static_cast<uint64_t>(k));
      EXPECT_EQ(totalMessages(after.results), after.events());
      EXPECT_EQ(after.results.simulatedTime(), SimTime::zero() + c.latency * k);
      // end exactly at the k-th multiple: those deliveries are not committed (end is exclusive).
      const RunReport at = runMesh(c, SimTime::zero() + c.latency * k);
      EXPECT_EQ(at.events(), population * static_cast<uint64_t>(k - 1));
    }
  }
}

TEST(MessageMeshTest, SameCountsOnSeveralPartitions) {
  const MessageMeshConfig c{4, 4, Duration::fromPs(1000)};
  const SimTime end = SimTime::fromPs(10'500);
  const RunReport one = runMesh(c, end);
  EXPECT_EQ(one.events(), 64u * 10);
  for (uint32_t parts : {2u, 4u})
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
      const RunReport r = runMesh(c, end, parts, sync);
      EXPECT_EQ(r.events(), one.events());
      EXPECT_EQ(totalMessages(r.results), one.events());
      EXPECT_EQ(r.results.digest(), one.results.digest());
    }
}

}  // namespace
}  // namespace wafersim::synthetic
