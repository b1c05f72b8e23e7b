// A scaling model past this 2-core machine (issue 17): from real runs of a serving scenario on
// P partitions (threads in this process, window strategy), the events each partition committed in
// each window. With the window strategy every window ends at a barrier, so on P dedicated cores a
// run takes
//     T(P, c) = t_event * sum over windows of (max over partitions of events in the window) + W * c
// where t_event is the 1-partition run's wall time per event and c the cost of one window's
// synchronization. Prints, for P = 1, 2, 4, ..., 64: windows, the critical-path events, the ideal
// speedup (c = 0) and the predicted one for c = 20, 50 and 100 us; then checks the model against
// this machine: the predicted and the measured 2-partition wall on threads and in 2 node processes,
// with c measured here for each (PHOLD with 2 LPs per partition: windows that carry no work).
//
// Usage: bench_scaling_model [--full] [SCENARIO]
//   default  DeepSeek-V3 on the 8x8 wafer (examples/serving/deepseek_v3_8x8.yaml), 64 requests,
//            3 output tokens: a prefill and 2 decode steps
//   --full   bench_serving's run (256 requests, 17 output tokens); 64 threads take long on 2 cores
// Exits 1 when a layout's digest differs from the 1-partition run's.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "bench/node_runs.h"
#include "coordinator/partitioner.h"
#include "models/model_catalog.h"
#include "models/synthetic/synthetic.h"
#include "scenario/scenario.h"
#include "sim/simulation.h"

using namespace wafersim;

namespace {


uint64_t windowsOf(const RunReport& r) {
  uint64_t w = 0;
  for (const auto& p : r.partitions) w = std::max(w, p.sync.rounds);
  return w;
}

// The cost of one window with (almost) nothing in it: PHOLD, 2 LPs per partition, 2 partitions.
double emptyWindowUs(bool nodes) {
  synthetic::PholdConfig c;
  c.lps = 4;
  const SystemGraph g = synthetic::buildPhold(c);
  RunOptions run;
  run.end = SimTime::zero() + Duration::fromPs(nodes ? 10'000'000 : 100'000'000);
  run.seed = 7;
  run.digest = false;
  const PartitionMap map = PartitionMap::linear(g.components().size(), 2);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  const RunReport r = nodes ? bench::runInNodeProcesses("model: phold\nparams: {lps: 4}\n", {}, map, run)
                            : runInProcess(g, registry, map, run);
  return r.wallSeconds / static_cast<double>(windowsOf(r)) * 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  bool full = false;
  std::string file = std::string(WAFERSIM_SOURCE_DIR) + "/examples/serving/deepseek_v3_8x8.yaml";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--full") == 0) full = true;
    else file = argv[i];
  }
  std::vector<std::string> overrides;
  if (!full) overrides = {"params.workload.concurrency=64", "params.workload.count=64", "params.workload.output_tokens=3"};
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);

  std::printf("Scaling model: %s%s\n", file.c_str(), full ? "" : " (64 requests, 3 output tokens)");
  std::printf("%5s %10s %12s %14s %8s %10s %10s %10s %9s %s\n", "parts", "windows", "events", "critical_path",
              "ideal", "c=20us", "c=50us", "c=100us", "wall_s", "digest");
  std::string digest;
  double tEvent = 0, wall1 = 0;
  uint64_t windows2 = 0, critical2 = 0;
  double wall2Threads = 0;
  PartitionMap map2;
  Scenario base = loadScenario(file, overrides);
  const SystemGraph g = catalog.build(base.model, base.modelParams, file + ": params", base.run.seed);
  for (uint32_t parts : {1u, 2u, 4u, 8u, 16u, 32u, 64u}) {
    if (parts > g.components().size()) break;
    Scenario s = base;
    s.partitions = parts;
    const PartitionMap map = partitionScenario(s, g).map;
    RunOptions run = s.run;
    run.recordWindowWork = true;
    const RunReport r = runInProcess(g, registry, map, run);
    const uint64_t events = r.events();
    uint64_t windows = 1, critical = events;
    if (parts > 1) {
      windows = windowsOf(r);
      critical = 0;
      const size_t n = r.partitions.front().windowWork.size();
      for (size_t w = 0; w < n; ++w) {
        uint32_t most = 0;
        for (const auto& p : r.partitions) most = std::max(most, w < p.windowWork.size() ? p.windowWork[w] : 0u);
        critical += most;
      }
    }
    if (parts == 1) {
      wall1 = r.wallSeconds;
      tEvent = wall1 / static_cast<double>(events);
      digest = r.results.digestHex();
    }
    if (parts == 2) {
      windows2 = windows, critical2 = critical, wall2Threads = r.wallSeconds;
      map2 = map;
    }
    auto predicted = [&](double costUs) {
      const double t = tEvent * static_cast<double>(critical) + static_cast<double>(parts > 1 ? windows : 0) * costUs * 1e-6;
      return wall1 / t;
    };
    std::printf("%5u %10llu %12llu %14llu %7.2fx %9.2fx %9.2fx %9.2fx %9.2f %s\n", parts,
                static_cast<unsigned long long>(windows), static_cast<unsigned long long>(events),
                static_cast<unsigned long long>(critical), static_cast<double>(events) / static_cast<double>(critical),
                predicted(20), predicted(50), predicted(100), r.wallSeconds, r.results.digestHex().c_str());
    std::fflush(stdout);
    if (r.results.digestHex() != digest) {
      std::printf("DIGESTS DIFFER: %u partitions simulated another run\n", parts);
      return 1;
    }
  }

  // The model against this machine, at 2 partitions.
  const double threadUs = emptyWindowUs(false);
  const double nodeUs = emptyWindowUs(true);
  const RunReport nodes = bench::runInNodeProcesses(bench::readFile(file), overrides, map2, base.run);
  if (nodes.results.digestHex() != digest) {
    std::printf("DIGESTS DIFFER: 2 node processes simulated another run\n");
    return 1;
  }
  auto at = [&](double costUs) {
    return tEvent * static_cast<double>(critical2) + static_cast<double>(windows2) * costUs * 1e-6;
  };
  std::printf("\nOne empty window measured here: %.1f us on threads, %.1f us between 2 node processes\n", threadUs,
              nodeUs);
  std::printf("2 partitions on threads:         predicted %7.2f s, measured %7.2f s (1 partition %.2f s)\n",
              at(threadUs), wall2Threads, wall1);
  std::printf("2 partitions in node processes:  predicted %7.2f s, measured %7.2f s\n", at(nodeUs), nodes.wallSeconds);
  return 0;
}
