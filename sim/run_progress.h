// A run's progress as its partitions commit events, for whoever watches it (the service's run
// status and live view, a node's heartbeats and /metrics). Partitions write it from their threads
// with relaxed atomic stores (a few per window); anyone may read it at any time. Reading it never
// changes the run (ARCHITECTURE.md contract 10).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "sim/time.h"

namespace wafersim {

// One partition's engine figures, written only by that partition's thread.
struct PartitionProgress {
  std::atomic<bool> running{false};        // set when its run phase starts
  std::atomic<int64_t> startedNs{0};       // system clock (ns) at that moment
  std::atomic<uint64_t> events{0};         // committed
  std::atomic<int64_t> simulatedPs{0};     // the latest committed event's time
  std::atomic<uint64_t> queueDepth{0};     // events in its future-event set
  std::atomic<uint64_t> windows{0};        // synchronization rounds
  std::atomic<uint64_t> nullMessages{0};   // batches sent without an event
  std::atomic<uint64_t> eventsSent{0};     // events sent to other partitions
  std::atomic<uint64_t> bytesSent{0};      // bytes of batches sent to other processes
  std::atomic<uint64_t> waitNs{0};         // wall time blocked on synchronization
  std::atomic<int64_t> wallNs{0};          // wall time in the run phase so far (at the last window)
};

struct RunProgress {
  std::atomic<uint64_t> events{0};        // committed so far, all partitions together
  std::atomic<int64_t> simulatedPs{0};    // the latest committed event time, picoseconds
  void note(uint64_t newEvents, int64_t timePs) {
    events.fetch_add(newEvents, std::memory_order_relaxed);
    int64_t seen = simulatedPs.load(std::memory_order_relaxed);
    while (timePs > seen && !simulatedPs.compare_exchange_weak(seen, timePs, std::memory_order_relaxed)) {
    }
  }

  // Makes one slot per partition of the run. Call once, before any partition thread starts (later
  // calls are ignored); until then partition() answers null.
  void setPartitions(uint32_t count) {
    if (count_.load(std::memory_order_acquire) != 0 || count == 0) return;
    slots_ = std::make_unique<PartitionProgress[]>(count);
    count_.store(count, std::memory_order_release);
  }
  uint32_t partitions() const { return count_.load(std::memory_order_acquire); }
  PartitionProgress* partition(uint32_t id) { return id < partitions() ? &slots_[id] : nullptr; }
  const PartitionProgress* partition(uint32_t id) const { return id < partitions() ? &slots_[id] : nullptr; }

 private:
  std::unique_ptr<PartitionProgress[]> slots_;
  std::atomic<uint32_t> count_{0};
};

}  // namespace wafersim
