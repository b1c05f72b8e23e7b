// The reference serving benchmark (issue 5): DeepSeek-V3 decode on an 8x8 wafer of H100-class
// dies, 256 concurrent requests, one short prefill step then 16 decode steps
// (examples/serving/deepseek_v3_8x8.yaml), on 1 and 2 partitions (threads, METIS partitioning).
// Prints events, wall seconds, events/s, simulated time and simulated output tokens per wall
// second, and checks that the digests agree.
//
// Usage: bench_serving [--quick] [SCENARIO]
//   --quick   the same wafer and model with 64 requests and 4 output tokens (smoke runs)
#include <cstdio>
#include <cstring>
#include <string>

#include "coordinator/partitioner.h"
#include "scenario/scenario.h"
#include "models/model_catalog.h"
#include "sim/simulation.h"

using namespace wafersim;

int main(int argc, char** argv) {
  bool quick = false;
  std::string file = std::string(WAFERSIM_SOURCE_DIR) + "/examples/serving/deepseek_v3_8x8.yaml";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else file = argv[i];
  }
  std::vector<std::string> overrides;
  if (quick) overrides = {"params.workload.concurrency=64", "params.workload.count=64", "params.workload.output_tokens=5"};
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  std::printf("%-6s %12s %8s %10s %14s %16s %s\n", "parts", "events", "wall_s", "Mevents/s", "simulated_ms",
              "sim_tokens/wall_s", "digest");
  std::string first;
  for (uint32_t parts : {1u, 2u}) {
    Scenario s = loadScenario(file, overrides);
    s.partitions = parts;
    const SystemGraph g = catalog.build(s.model, s.modelParams, file + ": params", s.run.seed);
    const PartitionMap map = partitionScenario(s, g).map;
    const RunReport r = runInProcess(g, registry, map, s.run);
    uint64_t tokens = 0;
    for (const auto& c : r.results.components())
      if (c.type == "moe.Host") tokens = c.counters.at("output_tokens");
    std::printf("%-6u %12llu %8.2f %10.2f %14.3f %16.1f %s\n", parts, static_cast<unsigned long long>(r.events()),
                r.wallSeconds, static_cast<double>(r.events()) / r.wallSeconds / 1e6,
                static_cast<double>(r.results.simulatedTime().ps()) / 1e9, static_cast<double>(tokens) / r.wallSeconds,
                r.results.digestHex().c_str());
    if (first.empty()) first = r.results.digestHex();
    else if (first != r.results.digestHex()) std::printf("DIGESTS DIFFER\n");
  }
  return 0;
}
