#include "sim/simulation.h"

#include <sys/resource.h>

#include <exception>
#include <filesystem>
#include <map>
#include <set>
#include <mutex>
#include <thread>

#include "sim/error.h"
#include "sim/impl/inproc_transport.h"
#include "sim/lifecycle.h"
#include "sim/wall_timer.h"

namespace wafersim {

uint64_t RunReport::events() const {
  uint64_t n = 0;
  for (const auto& p : partitions) n += p.events;
  return n;
}

double RunReport::syncWaitFraction() const {
  double sum = 0;
  for (const auto& p : partitions) sum += p.wallSeconds > 0 ? p.sync.waitSeconds / p.wallSeconds : 0;
  return partitions.empty() ? 0 : sum / static_cast<double>(partitions.size());
}

void requireCheckpointable(const SystemGraph& graph, const ComponentRegistry& registry, const std::string& why) {
  std::set<std::string> missing;
  for (const ComponentSpec& c : graph.components())
    if (!registry.get(c.type, c.name).checkpoint) missing.insert(c.type);
  if (missing.empty()) return;
  std::string list;
  for (const auto& type : missing) list += (list.empty() ? "" : ", ") + type;
  fail(ErrorKind::InvalidConfig, why, " need every component type to save and restore its state; these cannot: ", list);
}

void requireSameSystem(const CheckpointImage& image, uint64_t fingerprint) {
  WAFERSIM_REQUIRE(image.fingerprint == fingerprint, image.folder,
                   ": the checkpoint was taken of another system (its components, parameters, links or seed differ)");
}

uint64_t peakResidentKiB() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<uint64_t>(usage.ru_maxrss);
}

RunReport runInProcess(const SystemGraph& graph, const ComponentRegistry& registry, const PartitionMap& map,
                       const RunOptions& options) {
  graph.validate(registry);
  validatePartitioning(graph, map);

  const uint32_t n = map.partitions;
  CheckpointOptions checkpoint = options.checkpoint;
  if (checkpoint.fingerprint == 0) checkpoint.fingerprint = systemFingerprint(graph, options.seed);
  if (options.resume) requireSameSystem(*options.resume, checkpoint.fingerprint);
  std::mutex checkpointMutex;
  std::map<int64_t, uint32_t> partsWritten;  // cut time -> parts written
  if (checkpoint.enabled()) {
    WAFERSIM_REQUIRE(options.sync == SyncKind::Window,
                     "checkpoints need the window strategy (a null-message run has no barrier to cut at): set "
                     "simulation.sync: window, or simulation.checkpoint_every: 0 for none");
    requireCheckpointable(graph, registry, "checkpoints");
    std::filesystem::create_directories(checkpoint.dir);
    removeUncommittedCuts(checkpoint.dir);
    checkpoint.partWritten = [&](PartitionId, SimTime time, uint64_t, double) {
      std::lock_guard<std::mutex> lock(checkpointMutex);
      if (++partsWritten[time.ps()] < n) return;
      partsWritten.erase(time.ps());
      commitCheckpoint(checkpoint.dir, time, n);
      if (checkpoint.committed) checkpoint.committed(time, n);
    };
  }
  if (options.progress) options.progress->setPartitions(n);
  InProcHub hub(n);
  RunReport report;
  report.partitions.resize(n);
  std::vector<std::vector<ComponentRecord>> records(n);
  std::vector<SimTime> lastTimes(n);
  std::mutex errorMutex;
  std::exception_ptr firstError;
  bool firstIsAbort = true;

  auto runOne = [&](PartitionId id) {
    try {
      auto transport = hub.endpoint(id);
      Partition partition(graph, registry, map, id,
                          PartitionOptions{options.seed, options.lookahead, options.checker, options.digest, options.stop,
                                           options.progress, options.observer, options.observeEvery, &checkpoint});
      auto strategy = makeSyncStrategy(options.sync);
      PartitionReport& pr = report.partitions[id];
      pr.id = id;
      WallTimer wall;
      if (options.recordWindowWork) pr.sync.windowWork = &pr.windowWork;
      runLifecycle(partition, *transport, *strategy, options.end, pr.sync, options.resume.get());
      pr.checkpoint = partition.checkpointStats();
      pr.sync.windowWork = nullptr;
      pr.wallSeconds = wall.seconds();
      pr.peakRssKiB = peakResidentKiB();
      pr.events = partition.eventsCommitted();
      lastTimes[id] = partition.lastEventTime();
      Results local;
      local.add(partition.results());
      records[id] = local.components();
    } catch (...) {
      std::exception_ptr error = std::current_exception();
      bool isAbort = false;
      std::string what = "partition " + std::to_string(id) + " failed";
      try {
        std::rethrow_exception(error);
      } catch (const Error& e) {
        isAbort = e.kind() == ErrorKind::Disconnected;
        what += ": " + std::string(e.what());
      } catch (const std::exception& e) {
        what += ": " + std::string(e.what());
      }
      {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!firstError || (firstIsAbort && !isAbort)) {
          firstError = error;
          firstIsAbort = isAbort;
        }
      }
      hub.abort(what);
    }
  };

  std::vector<std::thread> threads;
  for (PartitionId id = 1; id < n; ++id) threads.emplace_back(runOne, id);
  runOne(0);
  for (auto& t : threads) t.join();
  if (firstError) std::rethrow_exception(firstError);

  for (uint32_t p = 0; p < n; ++p) {
    for (auto& rec : records[p]) report.results.add(std::move(rec));
    report.results.noteSimulatedTime(lastTimes[p]);
    report.wallSeconds = std::max(report.wallSeconds, report.partitions[p].wallSeconds);
  }
  return report;
}

}  // namespace wafersim
