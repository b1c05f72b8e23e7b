// The results document of a run: every component's final statistics and event digest, sorted by
// component id, independent of partitions, transports and machines (contract 2).
//
// digest() is the run's fingerprint: a hash over each component's hash chain of committed events
// (time, target, port, order key, payload) and its final statistics. Two runs agree on it exactly
// when they committed the same events in the same order and ended in the same statistics.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/partition.h"

namespace wafersim {

struct HistogramRecord {
  std::vector<int64_t> bounds;
  std::vector<uint64_t> counts;
  uint64_t count = 0;
  int64_t sum = 0, min = 0, max = 0;
};

struct TableRecord {
  std::vector<std::string> columns;
  std::vector<int64_t> values;  // row-major
  std::vector<std::string> strings;  // text cells' values (Table::text)
  size_t rows() const { return columns.empty() ? 0 : values.size() / columns.size(); }
};

struct ComponentRecord {
  ComponentId id = 0;
  std::string name;
  std::string type;
  uint64_t eventDigest = 0;
  uint64_t eventsCommitted = 0;
  std::map<std::string, uint64_t> counters;
  std::map<std::string, HistogramRecord> histograms;
  std::map<std::string, TableRecord> tables;
};

class Results {
 public:
  // Adds the components of one partition (any order; records are kept sorted by id).
  void add(const std::vector<ComponentResult>& partitionResults);
  void add(ComponentRecord record);
  void noteSimulatedTime(SimTime t) { simulatedTime_ = max(simulatedTime_, t); }

  const std::vector<ComponentRecord>& components() const { return components_; }
  uint64_t eventsCommitted() const;
  SimTime simulatedTime() const { return simulatedTime_; }
  uint64_t digest() const;
  std::string digestHex() const;
  // {"digest": ..., "events_committed": ..., "simulated_time_ps": ..., "components": {name: {...}}}
  nlohmann::json toJson() const;

 private:
  std::vector<ComponentRecord> components_;
  SimTime simulatedTime_ = SimTime::zero();
};

}  // namespace wafersim
