#include "sim/impl/inproc_transport.h"

#include <sched.h>

#include <thread>

#include "sim/error.h"

namespace wafersim {
namespace {

// Blocks until `value` differs from `seen`, counted in `sleepers` so that notifiers can skip
// the system call when nobody sleeps.
inline void sleepWhileEqual(std::atomic<uint32_t>& value, uint32_t seen, std::atomic<uint32_t>& sleepers) {
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  if (value.load(std::memory_order_seq_cst) == seen) value.wait(seen, std::memory_order_seq_cst);
  sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

inline void wake(std::atomic<uint32_t>& value, std::atomic<uint32_t>& sleepers, bool all) {
  if (sleepers.load(std::memory_order_seq_cst) == 0) return;
  if (all) value.notify_all();
  else value.notify_one();
}

// How long a waiter spins before it sleeps, when every partition has a core. A window's partitions
// usually meet within microseconds; sleeping costs a futex wake (about 2 us here) per window.
constexpr auto kSpinBudget = std::chrono::microseconds(50);

}  // namespace

bool SpinWait::again() {
  if (budget_.count() <= 0) return false;
  if (++tries_ % 64 == 0) {
    const auto now = std::chrono::steady_clock::now();
    if (tries_ == 64) until_ = now + budget_;  // the clock is read only once the wait is not short
    else if (now >= until_) return false;
    sched_yield();
  }
  cpuRelax();
  return true;
}

void SpinLock::lock() {
  for (uint32_t spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
    while (locked_.load(std::memory_order_relaxed)) {
      cpuRelax();
      if (++spins > 4096) std::this_thread::yield();  // the holder lost its core
    }
  }
}

class InProcEndpoint final : public Transport {
 public:
  InProcEndpoint(InProcHub& hub, PartitionId self) : hub_(hub), self_(self) {}

  PartitionId self() const override { return self_; }
  uint32_t partitionCount() const override { return hub_.partitions_; }

  void send(PartitionId to, EventBatch& batch) override {
    hub_.checkAbort();
    WAFERSIM_ASSERT(to < hub_.partitions_ && to != self_, self_, to);
    const uint64_t n = batch.events.size();
    if (n > 0) hub_.quiescence_.fetch_add(n, std::memory_order_seq_cst);
    auto& box = *hub_.mailboxes_[to];
    {
      std::lock_guard<SpinLock> lock(box.mutex);
      box.queue.push_back(EventBatch{batch.from, to, batch.round, batch.bound, std::move(batch.events)});
    }
    box.signal.fetch_add(1, std::memory_order_seq_cst);
    wake(box.signal, box.sleepers, false);
    batch.events = takeSpare();
  }

  void requeue(std::vector<EventBatch>&& batches) override {
    for (auto it = batches.rbegin(); it != batches.rend(); ++it) requeued_.push_front(std::move(*it));
  }

  bool receive(EventBatch& out, Wait wait) override {
    if (!requeued_.empty()) {  // already accounted for when first taken
      out = std::move(requeued_.front());
      requeued_.pop_front();
      return true;
    }
    auto& box = *hub_.mailboxes_[self_];
    SpinWait spin(hub_.spinBudget_);
    for (;;) {
      hub_.checkAbort();
      const uint32_t seen = box.signal.load(std::memory_order_acquire);
      if (tryPop(box, out)) return true;
      if (wait == Wait::No) return false;
      if (wait == Wait::Idle) {
        becomeIdle();
        if (hub_.terminated_.load(std::memory_order_acquire)) return false;
      } else {
        becomeBusy();
      }
      if (spin.again()) continue;
      sleepWhileEqual(box.signal, seen, box.sleepers);
    }
  }

  void recycle(std::vector<Event>&& events) override {
    events.clear();
    if (spare_.size() < 64 && events.capacity() > 0) spare_.push_back(std::move(events));
  }

  void allGather(const WindowReport& mine, std::vector<WindowReport>& all) override {
    hub_.reports_[parity_][self_] = mine;
    hub_.barrierWait();
    all.resize(hub_.partitions_);
    for (uint32_t p = 0; p < hub_.partitions_; ++p) all[p] = hub_.reports_[parity_][p];
    parity_ ^= 1;
  }

 private:
  bool tryPop(InProcHub::Mailbox& box, EventBatch& out) {
    {
      std::lock_guard<SpinLock> lock(box.mutex);
      if (box.queue.empty()) return false;
      out = std::move(box.queue.front());
      box.queue.pop_front();
    }
    noteConsumed(out);
    return true;
  }

  // Quiescence accounting, once per batch, when it is first taken from the mailbox.
  void noteConsumed(const EventBatch& out) {
    const uint64_t n = out.events.size();
    if (n > 0) {
      // Consuming events makes this partition busy; both changes land in one atomic step.
      const uint64_t delta = n + (idle_ ? (uint64_t{1} << 32) : 0);
      idle_ = false;
      hub_.quiescence_.fetch_sub(delta, std::memory_order_seq_cst);
    }
  }

  void becomeIdle() {
    if (idle_) return;
    idle_ = true;
    const uint64_t now = hub_.quiescence_.fetch_add(uint64_t{1} << 32, std::memory_order_seq_cst) + (uint64_t{1} << 32);
    if (now == (static_cast<uint64_t>(hub_.partitions_) << 32)) {
      hub_.terminated_.store(true, std::memory_order_release);
      hub_.wakeAll();
    }
  }

  void becomeBusy() {
    if (!idle_) return;
    idle_ = false;
    hub_.quiescence_.fetch_sub(uint64_t{1} << 32, std::memory_order_seq_cst);
  }

  std::vector<Event> takeSpare() {
    if (spare_.empty()) return {};
    std::vector<Event> v = std::move(spare_.back());
    spare_.pop_back();
    return v;
  }

  InProcHub& hub_;
  const PartitionId self_;
  int parity_ = 0;
  bool idle_ = false;
  std::vector<std::vector<Event>> spare_;
  std::deque<EventBatch> requeued_;
};

InProcHub::InProcHub(uint32_t partitions)
    : partitions_(partitions),
      spinBudget_(partitions <= std::max(1u, std::thread::hardware_concurrency()) ? kSpinBudget
                                                                                   : std::chrono::nanoseconds(0)) {
  WAFERSIM_REQUIRE(partitions >= 1, "need at least one partition");
  for (uint32_t p = 0; p < partitions; ++p) mailboxes_.push_back(std::make_unique<Mailbox>());
  reports_[0].resize(partitions);
  reports_[1].resize(partitions);
}

InProcHub::~InProcHub() = default;

std::unique_ptr<Transport> InProcHub::endpoint(PartitionId self) {
  WAFERSIM_REQUIRE(self < partitions_, "endpoint ", self, " of ", partitions_);
  return std::make_unique<InProcEndpoint>(*this, self);
}

void InProcHub::checkAbort() const {
  if (aborted_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(const_cast<std::mutex&>(abortMutex_));
    throw Error(ErrorKind::Disconnected, "run aborted: " + abortReason_);
  }
}

void InProcHub::abort(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(abortMutex_);
    if (aborted_.load()) return;
    abortReason_ = reason;
    aborted_.store(true, std::memory_order_release);
  }
  generation_.fetch_or(kAbortBit);
  generation_.notify_all();  // rare: no need to spare the system call
  wakeAll();
}

void InProcHub::wakeAll() {
  for (auto& box : mailboxes_) {
    box->signal.fetch_add(1, std::memory_order_seq_cst);
    box->signal.notify_all();
  }
}

void InProcHub::barrierWait() {
  checkAbort();
  const uint32_t gen = generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == partitions_) {
    arrived_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    wake(generation_, barrierSleepers_, true);
    return;
  }
  SpinWait spin(spinBudget_);
  for (;;) {
    const uint32_t now = generation_.load(std::memory_order_acquire);
    if (now & kAbortBit) checkAbort();
    if (now != gen) return;
    if (!spin.again()) sleepWhileEqual(generation_, gen, barrierSleepers_);
  }
}

}  // namespace wafersim
