// The S3 study's largest runs (examples/wafer-scale/decode16k.yaml: DeepSeek-V3 decode MoE layers on
// the Dojo 5x5 wafer, 16,384 tokens per step), placement-oblivious Base and Allo+Pred, on 1 and 2
// partitions (threads; 2: the scenario's cut at the host). Prints events, wall and CPU seconds, events per wall second, simulated
// time and simulated output tokens per wall second, and checks that the digests of 1 and 2
// partitions agree. `wafersim study examples/wafer-scale --nodes 2` gives the same figures per run
// with node processes.
//
// Usage: bench_wafer_scale [--quick] [SCENARIO]
//   --quick   4,096 tokens per step (examples/wafer-scale/decode.yaml's batch)
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "coordinator/partitioner.h"
#include "scenario/scenario.h"
#include "models/model_catalog.h"
#include "sim/simulation.h"

using namespace wafersim;

namespace {

double cpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string file = std::string(WAFERSIM_SOURCE_DIR) + "/examples/wafer-scale/decode16k.yaml";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else file = argv[i];
  }
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  const std::vector<std::pair<std::string, std::vector<std::string>>> policies = {
      {"Base", {"params.mapping.policy=ep", "params.mapping.execution=oblivious"}},
      {"Allo+Pred", {"params.mapping.policy=allo_pred"}}};
  std::printf("%-10s %-6s %10s %8s %7s %10s %13s %17s %s\n", "policy", "parts", "events", "wall_s", "cpu_s",
              "Mevents/s", "simulated_us", "sim_tokens/wall_s", "digest");
  bool agree = true;
  for (const auto& [name, sets] : policies) {
    std::vector<std::string> overrides = sets;
    if (quick)
      for (const char* o : {"params.workload.concurrency=4096", "params.workload.count=4096",
                            "params.scheduler.max_running=4096", "params.scheduler.token_budget=4096"})
        overrides.push_back(o);
    std::string first;
    for (uint32_t parts : {1u, 2u}) {
      Scenario s = loadScenario(file, overrides);
      s.partitions = parts;
      if (parts == 1) s.partitioner = "metis";  // the scenario pins the host alone on partition 1
      const double cpu0 = cpuSeconds();
      const SystemGraph g = catalog.build(s.model, s.modelParams, file + ": params", s.run.seed);
      const PartitionMap map = partitionScenario(s, g).map;
      const RunReport r = runInProcess(g, registry, map, s.run);
      const double cpu = cpuSeconds() - cpu0;
      uint64_t tokens = 0;
      for (const auto& c : r.results.components())
        if (c.type == "moe.Host") tokens = c.counters.at("output_tokens");
      std::printf("%-10s %-6u %10llu %8.2f %7.2f %10.2f %13.1f %17.0f %s\n", name.c_str(), parts,
                  static_cast<unsigned long long>(r.events()), r.wallSeconds, cpu,
                  static_cast<double>(r.events()) / r.wallSeconds / 1e6,
                  static_cast<double>(r.results.simulatedTime().ps()) / 1e6, static_cast<double>(tokens) / r.wallSeconds,
                  r.results.digestHex().c_str());
      if (first.empty()) first = r.results.digestHex();
      else if (first != r.results.digestHex()) agree = false;
    }
  }
  if (!agree) std::printf("DIGESTS DIFFER between 1 and 2 partitions\n");
  return agree ? 0 : 1;
}
