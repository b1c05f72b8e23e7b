// What checkpoints cost and that resuming is exact (sim/checkpoint.h): for PHOLD (ROSS's
// parameters, 1,024 LPs per partition) and a relay grid of FIFO servers, on 2 partitions, each run
// three ways in one process, one after the other:
//   plain         no checkpoints
//   checkpointed  a cut every `every` of simulated time (files in a temporary folder)
//   resumed       from the checkpointed run's cut nearest the middle, on 3 partitions, to the end
// It prints the checkpointed run's wall-time overhead over the plain one, the size of one cut and
// the wall time to write one (the slowest partition's), the time to load a cut, and the
// digests. A resumed or checkpointed digest that differs from the plain run's exits 1.
//
// Usage: bench_checkpoint [--quick]
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "models/synthetic/synthetic.h"
#include "sim/checkpoint.h"
#include "sim/simulation.h"
#include "sim/wall_timer.h"

using namespace wafersim;

namespace {

struct Case {
  std::string name;
  SystemGraph graph;
  SimTime end;
  Duration every;
};

RunReport runOnce(const Case& c, const ComponentRegistry& registry, uint32_t partitions, const std::string& dir,
                  Duration every, SimTime end, std::shared_ptr<const CheckpointImage> resume = nullptr) {
  RunOptions options;
  options.end = end;
  options.seed = 1;
  options.checkpoint.dir = dir;
  options.checkpoint.every = every;
  options.resume = std::move(resume);
  return runInProcess(c.graph, registry, PartitionMap::linear(c.graph.components().size(), partitions), options);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  ComponentRegistry registry;
  synthetic::registerSyntheticComponents(registry);
  std::vector<Case> cases;
  {
    synthetic::PholdConfig p;
    p.lps = 2048;
    cases.push_back({"PHOLD 2,048 LPs", synthetic::buildPhold(p), SimTime::fromPs(quick ? 2'000'000 : 20'000'000),
                     Duration::fromPs(quick ? 500'000 : 2'000'000)});
  }
  cases.push_back({"relay grid 32x32, 3 tokens", synthetic::buildRelayGrid({32, 32, 3, Duration::fromPs(1500)}),
                   SimTime::fromPs(quick ? 2'000'000 : 20'000'000), Duration::fromPs(quick ? 500'000 : 2'000'000)});

  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("wafersim-bench-checkpoint-" + std::to_string(::getpid()));
  bool wrong = false;
  std::printf("%-28s %10s %10s %12s %8s %10s %10s %10s %10s  %s\n", "model", "events", "plain s", "checkpointed",
              "cuts", "KiB/cut", "ms/cut", "load ms", "resumed s", "digests plain / checkpointed / resumed");
  for (const Case& c : cases) {
    const std::string dir = (root / "cuts").string();
    std::filesystem::remove_all(root);
    const RunReport plain = runOnce(c, registry, 2, "", Duration::zero(), c.end);
    const RunReport checkpointed = runOnce(c, registry, 2, dir, c.every, c.end);
    // The cut nearest the middle: a run to just after it leaves it as the latest.
    const std::string half = (root / "half").string();
    runOnce(c, registry, 2, half, c.every, SimTime::fromPs(c.end.ps() / 2 + 1));
    WallTimer loading;
    auto image = std::make_shared<CheckpointImage>(loadLatestCheckpoint(half));
    const double loadSeconds = loading.seconds();
    const RunReport resumed = runOnce(c, registry, 3, "", Duration::zero(), c.end, image);

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
    std::printf("%-28s resumed from the cut at %s (%llu pending events, %llu bytes) on 3 partitions\n", "",
                toString(image->time).c_str(), static_cast<unsigned long long>(image->events.size()),
                static_cast<unsigned long long>(image->bytes));
  }
  std::filesystem::remove_all(root);
  if (wrong) {
    std::fprintf(stderr, "bench_checkpoint: a checkpointed or resumed run did not give the plain run's digest\n");
    return 1;
  }
  return 0;
}
