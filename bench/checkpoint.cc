// What checkpoints cost and that resuming is exact (sim/checkpoint.h): PHOLD (ROSS's
// parameters, 1,024 LPs per partition), a relay grid of FIFO servers, the quick start's serving
// run (examples/quickstart.yaml) and bench_serving's (examples/serving/deepseek_v3_8x8.yaml; with
// --quick its smoke size), on 2 partitions, each run three ways in one process, one after the other:
//   plain         no checkpoints
//   checkpointed  a cut every `every` of simulated time (files in a temporary folder); for the
//                 serving runs a tenth of the plain run's simulated time
//   resumed       from the checkpointed run's cut nearest the middle, on 3 partitions (the serving
//                 runs on 1), to the end
// It prints the checkpointed run's wall-time overhead over the plain one, the size of one cut and
// the wall time to write one (the slowest partition's), the time to load a cut (reading and
// checking its files; a serving run's restore then replays the host's step announcements, which
// is in the resumed run's time), and the digests. A resumed or checkpointed digest that differs
// from the plain run's exits 1.
//
// Usage: bench_checkpoint [--quick]
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "coordinator/partitioner.h"
#include "models/model_catalog.h"
#include "models/synthetic/synthetic.h"
#include "scenario/scenario.h"
#include "sim/checkpoint.h"
#include "sim/simulation.h"
#include "sim/wall_timer.h"

using namespace wafersim;

namespace {

struct Case {
  std::string name;
  SystemGraph graph;
  SimTime end;     // never(): the run's own end (a serving run drains)
  Duration every;  // zero: a tenth of the plain run's simulated time
  RunOptions base;
  std::function<PartitionMap(const SystemGraph&, uint32_t)> map;
  uint32_t resumeOn = 3;  // partitions of the resumed run
};

RunReport runOnce(const Case& c, const ComponentRegistry& registry, uint32_t partitions, const std::string& dir,
                  Duration every, SimTime end, std::shared_ptr<const CheckpointImage> resume = nullptr) {
  RunOptions options = c.base;
  options.end = end;
  options.checkpoint.dir = dir;
  options.checkpoint.every = every;
  options.resume = std::move(resume);
  return runInProcess(c.graph, registry, c.map(c.graph, partitions), options);
}

Case scenarioCase(const std::string& name, const std::string& file, const std::vector<std::string>& overrides,
                  const ModelCatalog& catalog) {
  const Scenario s = loadScenario(file, overrides);
  // Resumed on 1 partition: 3 threads on a 2-core machine make each of the quick start's 390,000
  // windows a sleep and a wake-up (14 s instead of under one), which says nothing of checkpoints.
  Case c{name, catalog.build(s.model, s.modelParams, file + ": params", s.run.seed), SimTime::never(),
         Duration::zero(), s.run, {}, 1};
  c.map = [s](const SystemGraph& graph, uint32_t partitions) {
    Scenario with = s;
    with.partitions = partitions;
    return partitionScenario(with, graph).map;
  };
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  std::vector<Case> cases;
  auto linear = [](const SystemGraph& graph, uint32_t partitions) {
    return PartitionMap::linear(graph.components().size(), partitions);
  };
  RunOptions synthetic;
  synthetic.seed = 1;
  {
    synthetic::PholdConfig p;
    p.lps = 2048;
    cases.push_back({"PHOLD 2,048 LPs", synthetic::buildPhold(p), SimTime::fromPs(quick ? 2'000'000 : 20'000'000),
                     Duration::fromPs(quick ? 500'000 : 2'000'000), synthetic, linear});
  }
  cases.push_back({"relay grid 32x32, 3 tokens", synthetic::buildRelayGrid({32, 32, 3, Duration::fromPs(1500)}),
                   SimTime::fromPs(quick ? 2'000'000 : 20'000'000), Duration::fromPs(quick ? 500'000 : 2'000'000),
                   synthetic, linear});
  // The scenarios name data files from the repository root.
  std::filesystem::current_path(WAFERSIM_SOURCE_DIR);
  cases.push_back(scenarioCase("quickstart (serving)", "examples/quickstart.yaml", {}, catalog));
  std::vector<std::string> smoke;
  if (quick) smoke = {"params.workload.concurrency=64", "params.workload.count=64", "params.workload.output_tokens=5"};
  cases.push_back(scenarioCase("bench_serving (DeepSeek-V3)", "examples/serving/deepseek_v3_8x8.yaml", smoke, catalog));

  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("wafersim-bench-checkpoint-" + std::to_string(::getpid()));
  bool wrong = false;
  std::printf("%-28s %10s %10s %12s %8s %10s %10s %10s %10s  %s\n", "model", "events", "plain s", "checkpointed",
              "cuts", "KiB/cut", "ms/cut", "load ms", "resumed s", "digests plain / checkpointed / resumed");
  for (const Case& c : cases) {
    const std::string dir = (root / "cuts").string();
    std::filesystem::remove_all(root);
    const RunReport plain = runOnce(c, registry, 2, "", Duration::zero(), c.end);
    const SimTime end = c.end == SimTime::never() ? plain.results.simulatedTime() : c.end;
    const Duration every = c.every > Duration::zero() ? c.every : Duration::fromPs(end.ps() / 10);
    const RunReport checkpointed = runOnce(c, registry, 2, dir, every, c.end);
    // The cut nearest the middle: a run to just after it leaves it as the latest.
    const std::string half = (root / "half").string();
    runOnce(c, registry, 2, half, every, SimTime::fromPs(end.ps() / 2 + 1));
    WallTimer loading;
    auto image = std::make_shared<CheckpointImage>(loadLatestCheckpoint(half));
    const double loadSeconds = loading.seconds();
    const RunReport resumed = runOnce(c, registry, c.resumeOn, "", Duration::zero(), c.end, image);

    uint64_t cuts = 0, bytes = 0;
    double slowest = 0;
    for (const auto& p : checkpointed.partitions) {
      cuts = std::max(cuts, p.checkpoint.written);
      bytes += p.checkpoint.bytes;
      slowest = std::max(slowest, p.checkpoint.seconds);
    }
    const bool same = checkpointed.results.digest() == plain.results.digest() &&
                      resumed.results.digest() == plain.results.digest() && resumed.events() == plain.events();
    wrong = wrong || !same || cuts == 0;
    std::printf("%-28s %10llu %10.3f %7.3f (%+.0f%%) %8llu %10.1f %10.2f %10.2f %10.3f  %s / %s / %s%s\n",
                c.name.c_str(), static_cast<unsigned long long>(plain.events()), plain.wallSeconds,
                checkpointed.wallSeconds, 100.0 * (checkpointed.wallSeconds / plain.wallSeconds - 1.0),
                static_cast<unsigned long long>(cuts), cuts ? static_cast<double>(bytes) / 1024.0 / cuts : 0.0,
                cuts ? slowest * 1e3 / static_cast<double>(cuts) : 0.0, loadSeconds * 1e3, resumed.wallSeconds,
                plain.results.digestHex().c_str(), checkpointed.results.digestHex().c_str(),
                resumed.results.digestHex().c_str(), same ? "" : "  WRONG");
    std::printf("%-28s resumed from the cut at %s (%llu pending events, %llu bytes) on %u partition%s\n", "",
                toString(image->time).c_str(), static_cast<unsigned long long>(image->events.size()),
                static_cast<unsigned long long>(image->bytes), c.resumeOn, c.resumeOn == 1 ? "" : "s");
  }
  std::filesystem::remove_all(root);
  if (wrong) {
    std::fprintf(stderr, "bench_checkpoint: a checkpointed or resumed run did not give the plain run's digest\n");
    return 1;
  }
  return 0;
}
