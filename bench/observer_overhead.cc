// What watching a run costs (issue 14: sampling costs under 3% of events/s): the same scenario in
// process, unobserved and observed (obs::RunObserver: engine progress, model samples every epoch of
// simulated time, a scrape of its metrics and live view every 100 ms as a dashboard would), runs
// alternating, median wall time of each. Exits non-zero when an observed run's digest differs
// from the unobserved one (observing must never change a run).
//
// Usage: bench_observer_overhead [--reps N] [--epoch DURATION] [SCENARIO [--set k=v]...]
//   default: examples/serving/deepseek_v3_8x8.yaml with 64 requests and 5 output tokens on 2
//   partitions, epoch 1 ms (the default) and 10 us (100x the samples).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/partitioner.h"
#include "models/model_catalog.h"
#include "obs/metrics.h"
#include "obs/run_observer.h"
#include "scenario/scenario.h"
#include "sim/simulation.h"

using namespace wafersim;

namespace {

struct Sample {
  double wall = 0;
  uint64_t events = 0;
  std::string digest;
  size_t points = 0;
};

Sample once(const Scenario& s, const SystemGraph& g, const ComponentRegistry& registry, const PartitionMap& map,
            const std::string& epoch) {
  RunOptions options = s.run;
  std::shared_ptr<obs::RunObserver> observer;
  obs::MetricsRegistry metrics("bench");
  std::atomic<bool> done{false};
  std::thread scraper;
  if (!epoch.empty()) {
    observer = std::make_shared<obs::RunObserver>(obs::RunObserverOptions{.runId = "r-bench"});
    observer->attach(g, map.partitions, s.run.end, 0, s.metricsMaxSeries);
    metrics.add(observer);
    options.progress = &observer->progress();
    options.observer = observer.get();
    options.observeEvery = parseDuration(epoch);
    scraper = std::thread([&] {
      while (!done.load()) {
        (void)metrics.render();
        (void)observer->live();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  const RunReport r = runInProcess(g, registry, map, options);
  done = true;
  if (scraper.joinable()) scraper.join();
  return {r.wallSeconds, r.events(), r.results.digestHex(), observer ? observer->live()["series"].size() : 0};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  std::string file = std::string(WAFERSIM_SOURCE_DIR) + "/examples/serving/deepseek_v3_8x8.yaml";
  std::vector<std::string> overrides = {"params.workload.concurrency=64", "params.workload.count=64",
                                        "params.workload.output_tokens=5", "simulation.partitions=2"};
  std::vector<std::string> epochs = {"1ms", "10us"};
  bool customScenario = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--epoch") == 0 && i + 1 < argc) epochs = {argv[++i]};
    else if (std::strcmp(argv[i], "--set") == 0 && i + 1 < argc) overrides.push_back(argv[++i]);
    else if (!customScenario) {
      file = argv[i];
      overrides.clear();
      customScenario = true;
    }
  }
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  Scenario s = loadScenario(file, overrides);
  const SystemGraph g = catalog.build(s.model, s.modelParams, file + ": params", s.run.seed);
  const PartitionMap map = partitionScenario(s, g).map;

  std::printf("%s, %u partitions, %d runs each, alternating\n", file.c_str(), map.partitions, reps);
  std::printf("%-10s %12s %10s %12s %8s %10s %s\n", "observed", "events", "wall_s", "Mevents/s", "points", "overhead",
              "digest");
  int status = 0;
  for (const std::string& epoch : epochs) {
    std::vector<double> off, on;
    Sample plain, watched;
    for (int k = 0; k < reps; ++k) {
      plain = once(s, g, registry, map, "");
      off.push_back(plain.wall);
      watched = once(s, g, registry, map, epoch);
      on.push_back(watched.wall);
      if (watched.digest != plain.digest) {
        std::printf("DIGESTS DIFFER: observed %s, unobserved %s\n", watched.digest.c_str(), plain.digest.c_str());
        status = 1;
      }
    }
    const double a = median(off), b = median(on);
    std::printf("%-10s %12llu %10.3f %12.2f %8s %10s %s\n", "no", static_cast<unsigned long long>(plain.events), a,
                static_cast<double>(plain.events) / a / 1e6, "-", "-", plain.digest.c_str());
    char overhead[32];
    std::snprintf(overhead, sizeof overhead, "%+.1f%%", (b / a - 1) * 100);
    std::printf("%-10s %12llu %10.3f %12.2f %8zu %10s %s\n", ("epoch " + epoch).c_str(),
                static_cast<unsigned long long>(watched.events), b, static_cast<double>(watched.events) / b / 1e6,
                watched.points, overhead, watched.digest.c_str());
  }
  std::printf("target: observing costs under 3%% of events/s at the default epoch (1 ms)\n");
  return status;
}
