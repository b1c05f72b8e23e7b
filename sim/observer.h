// What a watcher may see of a run while it goes (ARCHITECTURE.md contract 10: observing never
// changes a result).
//
// Contract:
//   - A Partition given a PartitionObserver calls sample() on its own thread, between two events,
//     the first time an event at or after each multiple of the epoch is about to commit: every
//     event before `at` is committed and none at or after it. Empty epochs are skipped (one sample
//     stands for a quiet stretch). After finish() it calls sample() once more with `final` set,
//     when statistics that models only total at the end are in.
//   - sample() only reads: the components' statistics (Component::stats) and what they report
//     through Component::observe, both const. It adds no event, touches no statistic and draws
//     no random number, so the digest is the same with and without an observer (a test).
//   - One observer may watch several partitions of a run at once (one thread each): sample() must
//     be safe to call concurrently for different partitions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/time.h"
#include "sim/event.h"

namespace wafersim {

class Partition;

// Live values a component reports beyond its statistics: levels (queue lengths, KV-cache tokens
// held) and totals it keeps outside its counters until finish() (a router's per-port bytes).
class ObservationSink {
 public:
  void value(std::string_view name, double v) { values_.emplace_back(std::string(name), v); }
  const std::vector<std::pair<std::string, double>>& values() const { return values_; }
  void clear() { values_.clear(); }

 private:
  std::vector<std::pair<std::string, double>> values_;
};

// What an observer keeps of one partition at one epoch boundary: model totals and levels, summed
// over the partition's components (obs/run_observer.cc reads them from their statistics and
// observe()). Plain data: nodes send it to the coordinator in their heartbeats (protocol/).
struct PartitionSample {
  uint32_t partition = 0;
  int64_t atPs = 0;
  int64_t wallNs = 0;  // wall time since the observer was made, when taken
  bool final = false;  // taken after finish()
  std::map<std::string, double> energyPj;  // category ("compute", "link", ...) -> pJ
  double staticMicrowatts = 0;
  double requestsFinished = 0, outputTokens = 0, prefillTokens = 0, trainSteps = 0, trainedTokens = 0;
  double migrationBytes = 0, placements = 0, expertBusiestPs = 0, expertSumPs = 0, expertDies = 0;
  bool hasHost = false;  // a serving host reported levels
  double waiting = 0, running = 0, kvTokens = 0, kvCapacity = 0;
  std::map<std::pair<ComponentId, std::string>, double> dieBusyPs;  // (die, engine) -> busy ps
  std::map<std::pair<ComponentId, uint32_t>, double> linkBytes;     // (router, port) -> bytes
  struct Hist {
    std::vector<int64_t> bounds;
    std::vector<uint64_t> counts;
    uint64_t count = 0;
    int64_t sum = 0;
    bool operator==(const Hist&) const = default;
  };
  std::map<std::string, Hist> histograms;  // "ttft_ps", "tpot_ps", "e2e_ps"
  bool operator==(const PartitionSample&) const = default;
};

class PartitionObserver {
 public:
  virtual ~PartitionObserver() = default;
  virtual void sample(const Partition& partition, SimTime at, bool final) = 0;
};

}  // namespace wafersim
