// The reference serving benchmark (issue 5): DeepSeek-V3 decode on an 8x8 wafer of H100-class
// dies, 256 concurrent requests, one short prefill step then 16 decode steps
// (examples/serving/deepseek_v3_8x8.yaml), on 1 and 2 partitions (threads, METIS partitioning)
// and, with --processes, in 1, 2 and 4 wafersim-node processes on this machine (one partition each)
// and in one node process hosting 2 partitions on threads (a hybrid node).
// Prints events, wall seconds, events/s, simulated time, simulated output tokens per wall second,
// synchronization windows (in all and per simulated step), the peak resident memory (of this
// process; in node processes, of the largest node) and the digest; exits 1 when the digests of the
// layouts differ (they must not: contract 2).
//
// Usage: bench_serving [--quick] [--processes] [SCENARIO]
//   --quick      the same wafer and model with 64 requests and 4 output tokens (smoke runs)
//   --processes  also run it in 1, 2 and 4 node processes over ZeroMQ (METIS maps), and 2 partitions
//                in 1 node process
#include <cstdio>
#include <cstring>
#include <string>

#include "bench/node_runs.h"
#include "coordinator/partitioner.h"
#include "models/model_catalog.h"
#include "scenario/scenario.h"
#include "sim/simulation.h"

using namespace wafersim;

int main(int argc, char** argv) {
  bool quick = false, processes = false;
  std::string file = std::string(WAFERSIM_SOURCE_DIR) + "/examples/serving/deepseek_v3_8x8.yaml";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--processes") == 0) processes = true;
    else file = argv[i];
  }
  std::vector<std::string> overrides;
  if (quick) overrides = {"params.workload.concurrency=64", "params.workload.count=64", "params.workload.output_tokens=5"};
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  std::printf("%-9s %12s %8s %10s %14s %16s %10s %10s %12s %s\n", "layout", "events", "wall_s", "Mevents/s",
              "simulated_ms", "sim_tokens/wall_s", "windows", "win/step", "peak_rss_MiB", "digest");
  std::string first;
  bool differ = false;
  struct Layout {
    uint32_t parts;
    uint32_t nodes;  // 0: in this process
    const char* name;
  };
  std::vector<Layout> layouts = {{1, 0, "1 part"}, {2, 0, "2 threads"}};
  if (processes) {
    layouts.push_back({1, 1, "1 node"});
    layouts.push_back({2, 1, "1 node x2"});
    layouts.push_back({2, 2, "2 nodes"});
    layouts.push_back({4, 4, "4 nodes"});
  }
  for (const Layout& layout : layouts) {
    Scenario s = loadScenario(file, overrides);
    s.partitions = layout.parts;
    const SystemGraph g = catalog.build(s.model, s.modelParams, file + ": params", s.run.seed);
    const PartitionPlan plan = partitionScenario(s, g);
    const PartitionMap& map = plan.map;
    const RunReport r = layout.nodes ? bench::runInNodeProcesses(bench::readFile(file), overrides, map, s.run,
                                                                 layoutOnNodes(plan, layout.nodes).nodeOf)
                                     : runInProcess(g, registry, map, s.run);
    uint64_t tokens = 0, steps = 0;
    for (const auto& c : r.results.components())
      if (c.type == "moe.Host") {
        tokens = c.counters.at("output_tokens");
        steps = c.counters.at("steps");
      }
    uint64_t windows = 0, peakKiB = 0;
    for (const auto& p : r.partitions) {
      windows = std::max(windows, p.sync.rounds);
      peakKiB = std::max(peakKiB, p.peakRssKiB);
    }
    std::printf("%-9s %12llu %8.2f %10.2f %14.3f %16.1f %10llu %10.1f %12.1f %s\n", layout.name,
                static_cast<unsigned long long>(r.events()), r.wallSeconds,
                static_cast<double>(r.events()) / r.wallSeconds / 1e6,
                static_cast<double>(r.results.simulatedTime().ps()) / 1e9, static_cast<double>(tokens) / r.wallSeconds,
                static_cast<unsigned long long>(windows),
                steps == 0 ? 0.0 : static_cast<double>(windows) / static_cast<double>(steps),
                static_cast<double>(peakKiB) / 1024.0, r.results.digestHex().c_str());
    std::fflush(stdout);
    if (first.empty()) first = r.results.digestHex();
    else if (first != r.results.digestHex()) differ = true;
  }
  if (differ) {
    std::printf("DIGESTS DIFFER: the layouts simulated different runs\n");
    return 1;
  }
  return 0;
}
