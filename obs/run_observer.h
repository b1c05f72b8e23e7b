// Watching one run while it goes: its engine figures (RunProgress, written by the partitions),
// its model state sampled every epoch of simulated time (a PartitionObserver), exported as
// Prometheus metrics (a Collectable) and as the live view the page draws (docs/metrics.md).
//
// Contract:
//   - Observing never changes the run (ARCHITECTURE.md contract 10): sample() runs on a
//     partition's thread and only reads (sim/observer.h); the rest reads the copies it made.
//   - sample() may run concurrently for different partitions; Collect() and live() may run at
//     any time on other threads. One mutex guards the copies; a sample holds it for a copy only.
//   - Labels are bounded (docs/metrics.md): dies and links beyond `maxSeries` are aggregated into
//     die="other" / link="other" with their mean ratio.
//   - The series (one point per epoch, all partitions combined at the same simulated time) keeps at
//     most kMaxSeriesPoints points, dropping every other one when full.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include <deque>

#include <nlohmann/json.hpp>
#include <prometheus/collectable.h>

#include "obs/wafer_layout.h"
#include "sim/observer.h"
#include "sim/run_progress.h"
#include "sim/time.h"

namespace wafersim::obs {

struct RunObserverOptions {
  std::string runId;
  std::string node = "local";  // the `node` label of engine metrics
  std::string sweep;           // the `sweep` label, when the run is a sweep's point
  uint32_t maxSeries = 64;     // dies and links labelled one by one, at most
  Duration epoch = Duration::fromPs(1'000'000'000);
  // Progress ratio: simulated time / end when end is finite; else finished / total requests.
  SimTime end = SimTime::never();
  uint64_t requestsTotal = 0;
  bool exportEngine = true;    // per-partition engine metrics (false where the nodes export them)
  bool exportModel = true;     // the whole run's metrics, wafersim_run_* and wafersim_model_* (false on
                               // a node: the coordinator combines its nodes' samples)
  bool forward = false;        // keep samples for takeForwarded() (a node's heartbeats)
};

class RunObserver final : public prometheus::Collectable, public PartitionObserver {
 public:
  static constexpr size_t kMaxSeriesPoints = 600;

  explicit RunObserver(RunObserverOptions options);
  // Before the run starts: the system (for dies and links), the number of partitions, and what
  // the scenario tells of the run's length and the label bound (docs/metrics.md).
  void attach(const SystemGraph& graph, uint32_t partitions, SimTime end, uint64_t requestsTotal, uint32_t maxSeries);
  // The run's end, for its state in the live view ("SUCCEEDED", "FAILED", ...).
  void ended(const std::string& state);

  RunProgress& progress() { return progress_; }
  const RunProgress& progress() const { return progress_; }
  const RunObserverOptions& options() const { return options_; }

  void sample(const Partition& partition, SimTime at, bool final) override;
  std::vector<prometheus::MetricFamily> Collect() const override;
  // {"progress": {...}, "series": [...], "wafer": {...}} (docs/metrics.md); the caller adds id and state.
  nlohmann::json live() const;
  // The progress ratio in [0, 1] (0 when nothing tells how far the run has to go).
  double progressRatio() const;

  using Snapshot = PartitionSample;
  // A node's sample, from its heartbeat: combined like one taken here. Refused (false) when its
  // partition is not one of this run's.
  bool absorb(const PartitionSample& sample);
  // A node's heartbeat for the partitions it hosts: their events and latest simulated time (into
  // progress(), on the first hosted partition's slot), and their samples (absorbed; those of a
  // partition it does not host are refused and counted).
  void absorbHeartbeat(const std::vector<uint32_t>& hosted, uint64_t events, int64_t simulatedPs,
                       const std::vector<PartitionSample>& samples);
  uint64_t refusedSamples() const { return refused_.load(std::memory_order_relaxed); }
  // With options.forward: the samples taken here since the last call (at most kMaxForwarded, the
  // oldest dropped), for the heartbeats.
  std::vector<PartitionSample> takeForwarded();
  static constexpr size_t kMaxForwarded = 256;

 private:
  struct PartitionSamples {
    std::optional<Snapshot> previous, latest;
    std::vector<std::shared_ptr<const Snapshot>> pending;  // not yet combined into the series
    std::shared_ptr<const Snapshot> lastCombined;
  };
  void combineLocked();
  void addLocked(PartitionSample sample);
  double progressRatioLocked() const;

  RunObserverOptions options_;  // end, requestsTotal and maxSeries: under mutex_ (attach writes them)
  RunProgress progress_;
  int64_t createdNs_ = 0;
  mutable std::mutex mutex_;
  WaferLayout layout_;
  std::vector<PartitionSamples> partitions_;
  std::vector<nlohmann::json> series_;
  int64_t lastSeriesPs_ = -1;
  std::vector<PartitionSample> forwarded_;
  std::string state_;
  std::atomic<int64_t> endedNs_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace wafersim::obs
