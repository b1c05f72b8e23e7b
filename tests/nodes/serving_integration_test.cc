// Determinism of MoE serving across nodes (issue 5): a serving scenario whose expert routing is
// replayed from the real Mixtral-8x7B MT-Bench trace gives the same results on 1 and 2
// partition threads and in 2, 3 and 4 wafersim-node processes over ZeroMQ; online expert
// placement decided by a wafersim-placement process gives the in-process results in 2 nodes.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/partitioner.h"
#include "tests/nodes/node_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::runNodes;
using testing::runThreads;

std::string traceFile() { return std::string(WAFERSIM_SOURCE_DIR) + "/../shared/data/hdmoe-mixtral-mtbench/coding.json"; }

std::string scenario(int rows = 2) {
  return "model: moe_serving\n"
         "params:\n"
         "  hardware: {system: dojo, x: 2, y: " + std::to_string(rows) + "}\n"
         "  model: {preset: mixtral-8x7b}\n"
         "  workload: {kind: poisson, rate: 400, count: 12, prompt_distribution: uniform, prompt_min: 32,\n"
         "             prompt_max: 256, output_distribution: uniform, output_min: 2, output_max: 6}\n"
         "  routing: {kind: trace, trace_file: \"" + traceFile() + "\"}\n"
         "  scheduler: {max_running: 8, token_budget: 512}\n"
         "simulation: {seed: 3}\n";
}

// Partitioned by METIS, as `wafersim run` does: a linear map would cut the 1 ns die-to-router
// links and shrink every window tenfold.
testing::Built metis(const std::string& text, uint32_t partitions) {
  testing::Built b = build(text, partitions);
  b.scenario.partitions = partitions;
  b.map = partitionScenario(b.scenario, b.graph).map;
  return b;
}

TEST(ServingAcrossNodes, RealTraceRoutingGivesTheSameResultsEverywhere) {
  if (!std::filesystem::exists(traceFile())) GTEST_SKIP() << "routing trace absent: " << traceFile();
  const std::string text = scenario();
  const auto reference = runThreads(build(text, 1));
  const auto& host = [&]() -> const ComponentRecord& {
    for (const auto& c : reference.results.components())
      if (c.name == "host") return c;
    throw std::runtime_error("no host");
  }();
  EXPECT_EQ(host.counters.at("requests_finished"), 12u);
  EXPECT_EQ(runThreads(metis(text, 2)).results.digestHex(), reference.results.digestHex());
  for (uint32_t nodes : {2u, 4u}) {  // 4 nodes: one tile each, the host with one of them
    const auto b = metis(text, nodes);
    const auto processes = runNodes(text, b);
    EXPECT_EQ(processes.results.digestHex(), reference.results.digestHex()) << nodes << " nodes";
    EXPECT_EQ(processes.results.toJson(), reference.results.toJson());
  }
  // 3 nodes on a 2x3 wafer (two tiles each; METIS would split a tile of the 2x2 three ways).
  const std::string six = scenario(3);
  const auto b = metis(six, 3);
  EXPECT_EQ(runNodes(six, b).results.digestHex(), runThreads(build(six, 1)).results.digestHex()) << "3 nodes";
}

// `wafersim run --nodes 2` on a scenario with an online policy starts wafersim-placement and the
// nodes ask it every epoch; the results equal the in-process run's, decision log included.
TEST(ServingAcrossNodes, OnlinePlacementThroughTheServiceGivesTheInProcessResults) {
  const std::string dir = ::testing::TempDir() + "online_placement";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/online.yaml";
  std::ofstream(file) << testing::kOnlinePlacementScenario;
  auto run = [&](const std::string& out, const std::string& extra) {
    const std::string command = "timeout 240 " + testing::cliBinary() + " run " + file + " --out " + dir + "/" + out +
                                extra + " > " + dir + "/" + out + ".log 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream in(dir + "/" + out + "/summary.json");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string threads = run("threads", "");
  const std::string nodes = run("nodes", " --nodes 2");
  auto digest = [](const std::string& summary) {
    const auto at = summary.find("\"digest\"");
    return at == std::string::npos ? std::string("none") : summary.substr(at, 32);
  };
  EXPECT_NE(digest(threads), "none");
  EXPECT_EQ(digest(nodes), digest(threads));
  std::ifstream log(dir + "/nodes.log");
  std::stringstream printed;
  printed << log.rdbuf();
  EXPECT_NE(printed.str().find("placement service"), std::string::npos) << printed.str();
  EXPECT_TRUE(std::filesystem::exists(dir + "/nodes/placement_log.json"));

  // Hybrid nodes: 4 partitions on 2 nodes, 2 threads each, placed so that nodes cut the fewest links
  // (4 requests: 4 threads share this machine's 2 cores).
  const std::string fewer = " --set params.workload.count=4";
  const std::string hybrid = run("hybrid", " --nodes 2 --set simulation.partitions=4" + fewer);
  EXPECT_EQ(digest(hybrid), digest(run("threads4", fewer)));
  std::ifstream hybridLog(dir + "/hybrid.log");
  std::stringstream hybridPrinted;
  hybridPrinted << hybridLog.rdbuf();
  EXPECT_NE(hybridPrinted.str().find("nodes: 2, 2-2 partitions each on threads"), std::string::npos)
      << hybridPrinted.str();

  // Null messages wait for any one batch, which partitions sharing a node cannot: refused, named.
  const std::string command = "timeout 60 " + testing::cliBinary() + " run " + file + " --out " + dir +
                              "/refused --nodes 2 --set simulation.partitions=4 --set simulation.sync=null > " + dir +
                              "/refused.log 2>&1";
  EXPECT_NE(std::system(command.c_str()), 0);
  std::ifstream refusedLog(dir + "/refused.log");
  std::stringstream refused;
  refused << refusedLog.rdbuf();
  EXPECT_NE(refused.str().find("simulation.partitions 4 on 2 nodes needs simulation.sync: window"), std::string::npos)
      << refused.str();
}

}  // namespace
}  // namespace wafersim
