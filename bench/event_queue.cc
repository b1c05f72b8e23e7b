// bench_event_queue: HeapQueue<2>, HeapQueue<4> and CalendarQueue on the classic "hold" model.
//
// A hold operation pops the first event and pushes one new event at (popped time + increment), so
// the queue size stays constant. Each case fills the queue with `size` events at 0 + increment,
// runs max(4 * size, 65,536) untimed holds to reach the steady state, then times kTimedHolds holds.
// Increment distributions (drawn up front into a table so that the timed loop measures the queue,
// not the random number generator):
//   exponential   100 ps + Exp(mean 900 ps), rounded to a picosecond (PHOLD-like)
//   same-instant  exactly 1000 ps: the whole queue sits on one or two multiples of 1 ns, and the
//                 pop order among equal times comes from (order, seq) alone (MessageMesh-like)
//   bimodal       exactly 1 ns with probability 0.9, exactly 1 us with probability 0.1 (clocked
//                 hops plus slow events: every time is a multiple of 1 ns, spread over 1 us)
// New events take a pseudo-random source (order) and a unique seq, so equal-time events are
// pushed in an order unrelated to the order in which they must come out.
//
// Each (queue, case) is run 5 times, the runs of the three queues interleaved; the table shows the
// median rate in million holds per CPU second of the benchmark thread (CLOCK_THREAD_CPUTIME_ID, so
// that other load on a shared machine does not count; caches are still shared). The checksum folds every popped (time, order, seq):
// all queues must print the same checksum for a case, since they must pop the same sequence.
#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "sim/calendar_queue.h"
#include "sim/event_queue.h"
#include "sim/random.h"

namespace {

using namespace wafersim;

constexpr size_t kTableBits = 16;
constexpr size_t kTableMask = (size_t{1} << kTableBits) - 1;
constexpr size_t kTimedHolds = size_t{1} << 20;
constexpr int kRuns = 5;
constexpr uint32_t kComponents = 4096;

enum class Dist { Exponential, SameInstant, Bimodal };
constexpr std::array<Dist, 3> kDists = {Dist::Exponential, Dist::SameInstant, Dist::Bimodal};
constexpr std::array<size_t, 4> kSizes = {16, 1'024, 4'096, 65'536};

const char* name(Dist d) {
  switch (d) {
    case Dist::Exponential: return "exponential";
    case Dist::SameInstant: return "same-instant";
    case Dist::Bimodal: return "bimodal";
  }
  return "?";
}

std::vector<int64_t> makeIncrements(Dist d) {
  RandomStream rng(0x5EED, 0xE0E0, static_cast<uint64_t>(d));
  std::vector<int64_t> table(kTableMask + 1);
  for (int64_t& incr : table) {
    switch (d) {
      case Dist::Exponential: incr = 100 + static_cast<int64_t>(rng.exponential(900.0) + 0.5); break;
      case Dist::SameInstant: incr = 1'000; break;
      case Dist::Bimodal: incr = rng.below(10) == 0 ? 1'000'000 : 1'000; break;
    }
  }
  return table;
}

// A cheap mix of the seq number into a component id.
uint32_t componentOf(uint64_t seq) {
  return static_cast<uint32_t>((seq * 0x9E3779B97F4A7C15ull) >> 40) % kComponents;
}

// CPU time of this thread: on a shared machine, wall time would also count other processes.
double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Sample {
  double seconds;
  uint64_t checksum;
};

template <typename Queue>
Sample runHold(size_t size, const std::vector<int64_t>& increments) {
  Queue queue;
  queue.reserve(size + 1);
  uint64_t seq = 0;
  size_t draw = 0;
  auto make = [&](SimTime time, ComponentId source) {
    Event e;
    e.time = time;
    e.order = Event::makeOrder(0, source);
    e.seq = seq;
    e.target = componentOf(seq);
    ++seq;
    return e;
  };
  for (size_t i = 0; i < size; ++i)
    queue.push(make(SimTime::zero() + Duration::fromPs(increments[draw++ & kTableMask]),
                    static_cast<ComponentId>(i % kComponents)));
  uint64_t checksum = 0;
  auto hold = [&] {
    const Event e = queue.pop();
    checksum = (checksum ^ (static_cast<uint64_t>(e.time.ps()) + e.order * 31 + e.seq)) * 0x100000001B3ull;
    queue.push(make(e.time + Duration::fromPs(increments[draw++ & kTableMask]), e.target));
  };
  const size_t warmup = std::max<size_t>(4 * size, 65'536);
  for (size_t i = 0; i < warmup; ++i) hold();
  const double start = threadCpuSeconds();
  for (size_t i = 0; i < kTimedHolds; ++i) hold();
  return {threadCpuSeconds() - start, checksum};
}

struct QueueKind {
  const char* name;
  Sample (*run)(size_t, const std::vector<int64_t>&);
};

constexpr std::array<QueueKind, 3> kQueues = {{
    {"HeapQueue<2>", &runHold<HeapQueue<2>>},
    {"HeapQueue<4>", &runHold<HeapQueue<4>>},
    {"CalendarQueue", &runHold<CalendarQueue>},
}};

}  // namespace

int main() {
  const auto begin = std::chrono::steady_clock::now();
  std::printf("hold model: %zu timed holds per run, median of %d runs, million holds per CPU second\n\n",
              kTimedHolds, kRuns);
  std::printf("%-14s %-13s %7s %9s  %-18s %s\n", "queue", "distribution", "size", "Mhold/s", "checksum",
              "");
  struct Best {
    std::string label;
    const char* queue;
    double rate;
    double heap4;
  };
  std::vector<Best> bests;
  bool mismatch = false;
  for (Dist dist : kDists) {
    const std::vector<int64_t> increments = makeIncrements(dist);
    for (size_t size : kSizes) {
      std::array<std::array<double, kRuns>, kQueues.size()> rates{};
      std::array<uint64_t, kQueues.size()> checksums{};
      for (int run = 0; run < kRuns; ++run) {
        for (size_t q = 0; q < kQueues.size(); ++q) {
          const Sample s = kQueues[q].run(size, increments);
          rates[q][run] = static_cast<double>(kTimedHolds) / s.seconds / 1e6;
          checksums[q] = s.checksum;
        }
      }
      std::array<double, kQueues.size()> median{};
      size_t fastest = 0;
      for (size_t q = 0; q < kQueues.size(); ++q) {
        std::sort(rates[q].begin(), rates[q].end());
        median[q] = rates[q][kRuns / 2];
        if (median[q] > median[fastest]) fastest = q;
      }
      for (size_t q = 0; q < kQueues.size(); ++q) {
        const bool same = checksums[q] == checksums[0];
        mismatch = mismatch || !same;
        std::printf("%-14s %-13s %7zu %9.2f  0x%016" PRIx64 " %s%s\n", kQueues[q].name, name(dist), size,
                    median[q], checksums[q], q == fastest ? "*" : "", same ? "" : " CHECKSUM MISMATCH");
      }
      bests.push_back({std::string(name(dist)) + " " + std::to_string(size), kQueues[fastest].name,
                       median[fastest], median[1]});
    }
  }
  std::printf("\nfastest per case (* above):\n");
  for (const Best& b : bests)
    std::printf("  %-20s %-14s %8.2f Mhold/s  (%.2fx HeapQueue<4>)\n", b.label.c_str(), b.queue, b.rate,
                b.rate / b.heap4);
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("\ntotal %.1f s%s\n", total, mismatch ? "; CHECKSUM MISMATCH: the queues popped different orders" : "");
  return mismatch ? 1 : 0;
}
