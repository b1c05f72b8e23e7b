// A scenario's partitioner choice, including a map pinned from an earlier run's partition.json.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/partitioner.h"
#include "scenario/scenario.h"
#include "models/model_catalog.h"
#include "sim/error.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;

SystemGraph graphOf(const Scenario& s) {
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  return catalog.build(s.model, s.modelParams, "test");
}

std::string writeFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(PartitionScenario, MetisIsTheDefaultAndCutsTheMeshInBlocks) {
  const Scenario s = parseScenario("model: message_mesh\nparams: {x: 8, y: 8}\nsimulation: {partitions: 4}\n", "m.yaml");
  EXPECT_EQ(s.partitioner, "metis");
  const SystemGraph g = graphOf(s);
  const PartitionPlan plan = partitionScenario(s, g);
  EXPECT_EQ(plan.map.partitions, 4u);
  EXPECT_LE(plan.imbalance, 1.05);
  // An 8x8 torus in 4 balanced parts cuts at least 32 links (row strips or 4x4 blocks), and
  // round-robin (id mod 4) puts every east neighbour elsewhere: all 64 east-west links cut.
  EXPECT_EQ(plan.cut.size(), 32u);
  EXPECT_EQ(partitionGraph(g, 4, PartitionerKind::RoundRobin).cut.size(), 64u);
}

TEST(PartitionScenario, PinnedMapRoundTripsThroughPartitionJson) {
  const Scenario metis = parseScenario("model: relay_grid\nparams: {x: 6, y: 4}\nsimulation: {partitions: 3}\n", "r.yaml");
  const SystemGraph g = graphOf(metis);
  const PartitionPlan first = partitionScenario(metis, g);
  const std::string file = writeFile("pinned_partition.json", toJson(first, g).dump());
  const Scenario pinned = parseScenario("model: relay_grid\nparams: {x: 6, y: 4}\nsimulation:\n  partitions: 3\n"
                                        "  partitioner: pinned\n  partition_map: " + file + "\n",
                                        "r.yaml");
  const PartitionPlan again = partitionScenario(pinned, g);
  EXPECT_EQ(again.map.of, first.map.of);
}

TEST(PartitionScenario, PinnedMapErrorsNameTheProblem) {
  const std::string base = "model: relay_grid\nparams: {x: 2, y: 2}\nsimulation:\n  partitions: 2\n  partitioner: pinned\n";
  EXPECT_THAT(errorOf([&] { parseScenario(base, "p.yaml"); }), HasSubstr("partition_map: required"));
  auto planWith = [&](const std::string& json) {
    const std::string file = writeFile("bad_partition.json", json);
    const Scenario s = parseScenario(base + "  partition_map: " + file + "\n", "p.yaml");
    return errorOf([&] { partitionScenario(s, graphOf(s)); });
  };
  EXPECT_THAT(planWith("{not json"), HasSubstr("not valid JSON"));
  EXPECT_THAT(planWith("{\"components\": 3}"), HasSubstr("\"components\" array"));
  EXPECT_THAT(planWith("{\"components\": [{\"name\": \"relay[0,0]\", \"partition\": 0}]}"),
              HasSubstr("no partition for component relay[1,0]"));
  EXPECT_THAT(planWith("{\"components\": [{\"name\": \"relay[0,0]\", \"partition\": 0},"
                       "{\"name\": \"relay[1,0]\", \"partition\": 0},{\"name\": \"relay[0,1]\", \"partition\": 0},"
                       "{\"name\": \"relay[1,1]\", \"partition\": 0}]}"),
              HasSubstr("partition 1"));  // nothing left for partition 1
  const Scenario missing = parseScenario(base + "  partition_map: /nonexistent/partition.json\n", "p.yaml");
  EXPECT_THAT(errorOf([&] { partitionScenario(missing, graphOf(missing)); }), HasSubstr("cannot open"));
}

}  // namespace
}  // namespace wafersim
