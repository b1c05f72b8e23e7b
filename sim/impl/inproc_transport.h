// Transport between partitions on threads of one process.
//
// One mailbox per destination (mutex + deque of batches, woken through an atomic counter),
// allGather over a spin-then-block barrier with double-buffered reports, and quiescence
// detection for Wait::Idle from one packed atomic (idle partitions << 32 | events in flight), so
// "everyone idle and nothing in flight" is observed in a single read. Waiters spin for a bounded
// time (SpinWait) and only when every partition can have a core; otherwise they block at once.
//
// Wake-ups are explicit: libstdc++ 12's atomic notify makes a futex system call every time, even
// with nobody asleep, which cost about 2 us per window here (one per barrier and per batch).
// Sleepers announce themselves in a counter and notifiers call notify only when it is non-zero
// (both sequentially consistent, so a sleeper either is seen or sees the new value).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sim/transport.h"

namespace wafersim {

// Tells the core a spin-wait is in progress (lets the sibling hyperthread run, saves power).
inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// The spin half of a spin-then-block wait: call again() between checks of the awaited condition;
// it pauses and returns true until `budget` of wall time is spent, then the caller blocks.
// Bounded by time, not by tries: how long a pause takes differs tenfold between cores, and a
// count that spans a window's work on one (200,000 pauses) spun for milliseconds on another. Every
// 64th try yields the core: when the machine is oversubscribed (two simulations on two cores) the
// partition awaited may be queued behind the spinner itself, and without the yield each window
// cost a scheduler time slice (a 4 s study took over 300 s beside another one).
class SpinWait {
 public:
  explicit SpinWait(std::chrono::nanoseconds budget) : budget_(budget) {}
  bool again();

 private:
  const std::chrono::nanoseconds budget_;
  std::chrono::steady_clock::time_point until_{};
  uint32_t tries_ = 0;
};

// A lock for critical sections of a few nanoseconds (a deque push or pop). glibc's mutex sleeps
// in the kernel at the first contention, which with tiny windows happened about once per window
// and cost microseconds each time on this machine's virtual CPUs.
class SpinLock {
 public:
  void lock();
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

class InProcHub {
 public:
  explicit InProcHub(uint32_t partitions);
  ~InProcHub();

  // The endpoint for one partition; call once per partition, use it from that partition's thread.
  std::unique_ptr<Transport> endpoint(PartitionId self);
  // Makes every blocked or later call on any endpoint throw Error{Disconnected} with `reason`.
  void abort(const std::string& reason);

 private:
  friend class InProcEndpoint;
  struct Mailbox {
    SpinLock mutex;
    std::deque<EventBatch> queue;
    std::atomic<uint32_t> signal{0};
    std::atomic<uint32_t> sleepers{0};
  };
  static constexpr uint32_t kAbortBit = 0x80000000u;

  void barrierWait();
  void checkAbort() const;
  void wakeAll();

  const uint32_t partitions_;
  const std::chrono::nanoseconds spinBudget_;
  std::vector<std::unique_ptr<Mailbox>> mailboxes_;
  std::vector<WindowReport> reports_[2];
  alignas(64) std::atomic<uint32_t> arrived_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};
  std::atomic<uint32_t> barrierSleepers_{0};
  alignas(64) std::atomic<uint64_t> quiescence_{0};  // (idle partitions << 32) | events in flight
  std::atomic<bool> terminated_{false};
  std::atomic<bool> aborted_{false};
  std::mutex abortMutex_;
  std::string abortReason_;
};

}  // namespace wafersim
