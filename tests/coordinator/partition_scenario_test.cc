// A scenario's partitioner choice, including a map pinned from an earlier run's partition.json.
#include <filesystem>
#include <fstream>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/partitioner.h"
#include "scenario/scenario.h"
#include "models/model_catalog.h"
#include "sim/error.h"

namespace wafersim {
namespace {

using ::testing::AllOf;
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

// simulation.partition_profile: metis weighted by an earlier run's measured events (results.json)
// and link bytes (links.csv). One quadrant of an 8x8 mesh did 20x the work of the rest: the model's
// equal weights leave it in one half; the profile spreads it.
std::string profileDir(const std::string& name, const SystemGraph& g, const std::function<uint64_t(size_t)>& events,
                       const std::string& linksCsv = "") {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::create_directories(dir);
  nlohmann::json components = nlohmann::json::object();
  for (const auto& c : g.components()) components[c.name] = {{"events", events(c.id)}, {"id", c.id}};
  std::ofstream(dir + "/results.json") << nlohmann::json{{"components", components}}.dump();
  if (!linksCsv.empty()) std::ofstream(dir + "/links.csv") << linksCsv;
  return dir;
}

TEST(PartitionScenario, ProfileWeightsTheSplitByMeasuredEvents) {
  const std::string text = "model: message_mesh\nparams: {x: 8, y: 8}\nsimulation: {partitions: 2}\n";
  const SystemGraph g = graphOf(parseScenario(text, "m.yaml"));
  auto heavyQuadrant = [&](size_t id) -> uint64_t { return (id % 8 < 4 && id / 8 < 4) ? 20'000 : 1'000; };
  const std::string dir = profileDir("profile_quadrant", g, heavyQuadrant);
  const Scenario s = parseScenario(text, "m.yaml", {"simulation.partition_profile=" + dir});
  EXPECT_EQ(s.partitionProfile, dir);
  const PartitionPlan plan = partitionScenario(s, g);
  EXPECT_EQ(plan.profile, dir);
  // The load is in measured events, balanced; the model's plan measured the same way is not.
  double total = 0;
  for (double l : plan.load) total += l;
  EXPECT_DOUBLE_EQ(total, 16 * 20'000.0 + 48 * 1'000.0);
  EXPECT_LE(plan.imbalance, 1.05);
  const PartitionProfile profile = loadPartitionProfile(dir, g);
  const PartitionPlan unweighted = partitionGraph(g, 2, PartitionerKind::Metis);
  EXPECT_DOUBLE_EQ(plan.imbalanceWithoutProfile,
                   describePartitioning(g, unweighted.map, PartitionerKind::Metis, "", &profile).imbalance);
  EXPECT_GT(plan.imbalanceWithoutProfile, 1.3);
  const nlohmann::json doc = toJson(plan, g);
  EXPECT_EQ(doc["profile"]["run"], dir);
  EXPECT_DOUBLE_EQ(doc["profile"]["imbalance_without_profile"].get<double>(), plan.imbalanceWithoutProfile);
}

TEST(PartitionScenario, ProfileLinkBytesShareTheExpectedTraffic) {
  const SystemGraph g = graphOf(parseScenario("model: message_mesh\nparams: {x: 4, y: 4}\n", "m.yaml"));
  const auto& l0 = g.links()[0];
  const auto& l1 = g.links()[1];
  const std::string csv = "from,port,to,bytes\n\"" + g.component(l0.a).name + "\"," + l0.portA + ",x,300\n\"" +
                          g.component(l1.b).name + "\"," + l1.portB + ",y,100\n";
  const PartitionProfile p = loadPartitionProfile(profileDir("profile_links", g, [](size_t) { return 1; }, csv), g);
  const double shared = l0.expectedTraffic + l1.expectedTraffic;
  EXPECT_DOUBLE_EQ(p.linkTraffic[0], shared * 0.75);
  EXPECT_DOUBLE_EQ(p.linkTraffic[1], shared * 0.25);
  for (size_t i = 2; i < g.links().size(); ++i) EXPECT_EQ(p.linkTraffic[i], g.links()[i].expectedTraffic);
}

TEST(PartitionScenario, ProfileErrorsNameTheFileAndWhatIsWrong) {
  const SystemGraph g = graphOf(parseScenario("model: message_mesh\nparams: {x: 4, y: 4}\n", "m.yaml"));
  EXPECT_THAT(errorOf([&] { loadPartitionProfile("/nonexistent/run", g); }),
              HasSubstr("partition_profile: cannot open /nonexistent/run/results.json"));
  const std::string other = profileDir("profile_other", graphOf(parseScenario("model: message_mesh\nparams: {x: 2, y: 2}\n",
                                                                               "m.yaml")),
                                       [](size_t) { return 5; });
  EXPECT_THAT(errorOf([&] { loadPartitionProfile(other, g); }),
              AllOf(HasSubstr("results.json: no event count for component"), HasSubstr("same system")));
  const std::string broken = profileDir("profile_broken", g, [](size_t) { return 1; }, "from,port,to,bytes\na,p0,b,lots\n");
  EXPECT_THAT(errorOf([&] { loadPartitionProfile(broken, g); }), HasSubstr("links.csv:2: expected from,port,to,bytes"));
  std::ofstream(broken + "/results.json") << "[1, 2";
  EXPECT_THAT(errorOf([&] { loadPartitionProfile(broken, g); }), HasSubstr("results.json: not valid JSON"));
  const std::string pinned = "model: message_mesh\nparams: {x: 4, y: 4}\nsimulation: {partitions: 2, partitioner: "
                             "pinned, partition_map: x.json, partition_profile: " + broken + "}\n";
  EXPECT_THAT(errorOf([&] { partitionScenario(parseScenario(pinned, "m.yaml"), g); }),
              HasSubstr("a pinned map has nothing to weigh"));
}

}  // namespace
}  // namespace wafersim
