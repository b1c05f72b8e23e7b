// A calendar queue (R. Brown, "Calendar queues: a fast O(1) priority queue implementation for the
// simulation event set problem", CACM 31(10), 1988) for the future-event set of one partition.
//
// CONTRACT: a drop-in replacement for HeapQueue (event_queue.h): the same members (push, pop, top,
// empty, size, nextTime, reserve) with the same meaning, and pop() returns events in exactly the
// before() order, ties on time broken by order then seq (contract 2), so swapping the queue can
// never change a result. Any push is allowed at any time, including one earlier than the last
// event popped. nextTime() on an empty queue is SimTime::never(). top() and nextTime() are
// logically const but may move the next day's events into the front heap (mutable state): like
// HeapQueue, one queue is used by one thread at a time.
//
// HOW IT WORKS. Time is cut into days of width 2^shift picoseconds; day d lives in bucket
// d mod nbuckets, so one pass over the buckets ("a year") covers nbuckets days.
//   * The front: a 4-ary min-heap under before() holding exactly the events of the days before
//     nextDay_; pop() takes from it. Pushes onto those days go straight into it.
//   * The calendar: the events of day nextDay_ and later, each bucket an unsorted singly linked
//     list through one shared node pool, plus the earliest day present in the bucket. A push
//     links a node in O(1).
//   * When the front is empty, walk the days from nextDay_: the first bucket whose earliest day is
//     the day being looked at holds the next events; that day's events move to the front (Floyd
//     heapify, O(k)). If a whole year passes without one, search all buckets directly for the
//     earliest day (Brown's fallback for empty years) and jump there.
//   Sorting a day only when it is reached, instead of Brown's sorted buckets, makes a push O(1)
//   and keeps the order exact when thousands of events share one instant (MessageMesh, clocked
//   models: no width can separate them): such a day costs one O(k) heapify and O(log k) pops
//   instead of O(k) sorted-list inserts. The shared pool keeps memory at O(size() + nbuckets) (a
//   vector per bucket would keep every bucket's peak capacity: hundreds of MB at 64k events).
//   * Time arithmetic is integer only: the day of an instant is (ps + 2^63) >> shift, computed in
//     uint64 so that it is monotone over all of int64 (negative times and never() included) and
//     never overflows (shift >= 1 keeps nextDay_ = day + 1 in range). The width is a power of two
//     so that no division is ever needed.
//   * Resizing as in Brown's paper: the bucket count doubles when size() exceeds 2 * nbuckets and
//     halves when size() falls below nbuckets / 2 (never below kMinBuckets). On each resize the
//     width is re-estimated from the kSample earliest events (the ones about to be dequeued): the
//     mean gap between them, recomputed without the gaps above twice that mean, times three,
//     rounded to the nearest power of two. Events on one instant tell nothing about the spread, so
//     the sample grows until it holds kMinGaps distinct gaps; if the whole queue has fewer (a few
//     instants, as at start-up), the width is kept. A resize is O(size()), amortized O(1).
//   * Between resizes (Brown re-estimates only there) a cost check, in the spirit of Oh and Ahn's
//     dynamic calendar queue (1997): every nbuckets pops or more, if the pops cost more than
//     kMaxWorkPerPop empty days or passed-over nodes each, the width is refitted at the same
//     count. This catches days that became far too narrow after a phase change; days too wide
//     just put more events into the front heap, which degrades gracefully towards a plain heap.
//   Memory: 64 B + 4 B per event plus 16 B per bucket; at most 2^32 - 1 events.
//
// WHEN TO CHOOSE IT (bench_event_queue, hold model, median million holds per CPU second on a
// shared 2-core AMD EPYC VM; HeapQueue<4> / CalendarQueue, HeapQueue<2> where it was fastest):
//   exponential 100 ps + Exp(900 ps)  1,024: 18.3 / 27.9   4,096: 12.9 / 22.9   65,536: 6.3 / 14.0
//   bimodal 1 ns (90%) / 1 us (10%)   1,024: 12.2 / 24.8   4,096: 11.1 / 19.6   65,536: 6.0 / 9.5
//   all on 1 ns multiples (ties)      1,024: 14.1 / 16.5   4,096: 11.1 / 12.4   65,536: 5.4 / 6.9
//                                     (HeapQueue<2>: 17.7 at 1,024 and 12.8 at 4,096)
//   16 events                         all three within ~20% of each other, at 30 to 47
// From about a thousand pending events the calendar is 1.5x to 2.2x faster than HeapQueue<4> when
// times are spread, and 1.1x to 1.3x when they pile up on a few instants (there every queue pays
// O(log k) heap pops; the calendar's pushes stay O(1)). Tiny queues: no meaningful difference.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/event.h"

namespace wafersim {

class CalendarQueue {
 public:
  static constexpr size_t kMinBuckets = 4;
  static constexpr size_t kSample = 25;          // Brown's sample size for the width estimate
  static constexpr unsigned kInitialShift = 10;  // 1024 ps days until the first estimate

  CalendarQueue() : buckets_(kMinBuckets), mask_(kMinBuckets - 1) {}

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // The first event. Precondition: !empty().
  const Event& top() const {
    if (front_.empty()) advance();
    return front_.front();
  }
  SimTime nextTime() const { return size_ == 0 ? SimTime::never() : top().time; }

  // Sizes the node pool for n events. The bucket array is not presized: it grows with the queue,
  // because its width can only be estimated from events that are actually queued.
  void reserve(size_t n) {
    pool_.reserve(n);
    next_.reserve(n);
  }

  void push(const Event& e) {
    const uint64_t d = day(e.time);
    if (size_ == 0) nextDay_ = d;  // an empty queue starts on the new event's day
    if (d < nextDay_) {
      heapPush(front_, e);
    } else {
      link(e, d);
    }
    if (++size_ > 2 * buckets_.size()) resize(2 * buckets_.size(), false);
  }

  // Removes and returns the first event. Precondition: !empty().
  Event pop() {
    if (front_.empty()) advance();
    Event first = heapPop(front_);
    if (--size_ < buckets_.size() / 2 && buckets_.size() > kMinBuckets) {
      resize(buckets_.size() / 2, false);
    } else if (++pops_ >= checkPeriod_) {
      checkWidth();
    }
    return first;
  }

  // Every queued event in event order, the queue unchanged (a checkpoint: checkpoint.h).
  std::vector<Event> snapshot() const {
    CalendarQueue copy = *this;
    std::vector<Event> events;
    events.reserve(size_);
    while (!copy.empty()) events.push_back(copy.pop());
    return events;
  }

  // Diagnostics (tests, benchmarks): the current calendar geometry.
  size_t bucketCount() const { return buckets_.size(); }
  unsigned widthShift() const { return shift_; }  // a day is 2^widthShift() ps wide

 private:
  static constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();
  static constexpr uint64_t kNoDay = std::numeric_limits<uint64_t>::max();
  static constexpr size_t kArity = 4;

  struct Bucket {
    uint64_t minDay = kNoDay;  // the earliest day among the bucket's events; kNoDay when empty
    uint32_t head = kNil;      // the first node of its list in pool_
  };

  // int64 picoseconds mapped monotonically onto uint64, so that shifts and day arithmetic are
  // defined for negative times and never() alike.
  static uint64_t key(SimTime t) { return static_cast<uint64_t>(t.ps()) ^ (uint64_t{1} << 63); }
  uint64_t day(SimTime t) const { return key(t) >> shift_; }

  // Puts e into the calendar on day d (d >= nextDay_).
  void link(const Event& e, uint64_t d) {
    uint32_t node = free_;
    if (node != kNil) {
      free_ = next_[node];
      pool_[node] = e;
    } else {
      node = static_cast<uint32_t>(pool_.size());
      pool_.push_back(e);
      next_.push_back(kNil);
    }
    Bucket& b = buckets_[d & mask_];
    next_[node] = b.head;
    b.head = node;
    if (d < b.minDay) b.minDay = d;
  }

  // Moves the next day's events into the (empty) front heap. Precondition: size_ > 0.
  void advance() const {
    uint64_t d = nextDay_;
    size_t b = d & mask_;
    for (size_t left = buckets_.size(); buckets_[b].minDay != d; b = ++d & mask_) {
      if (--left == 0) {  // an empty year: search directly
        b = 0;
        for (size_t i = 1; i < buckets_.size(); ++i)
          if (buckets_[i].minDay < buckets_[b].minDay) b = i;
        d = buckets_[b].minDay;
        break;
      }
    }
    work_ += d - nextDay_ < buckets_.size() ? d - nextDay_ : 2 * buckets_.size();
    // Day d's events go to the front; the bucket keeps the later ones (later years).
    uint64_t rest = kNoDay;
    uint32_t* prev = &buckets_[b].head;
    for (uint32_t node = *prev; node != kNil; node = *prev) {
      const uint64_t nodeDay = day(pool_[node].time);
      if (nodeDay == d) {
        front_.push_back(pool_[node]);
        *prev = next_[node];
        next_[node] = free_;
        free_ = node;
      } else {
        if (nodeDay < rest) rest = nodeDay;
        prev = &next_[node];
        ++work_;
      }
    }
    buckets_[b].minDay = rest;
    nextDay_ = d + 1;
    if (front_.size() > 1)
      for (size_t i = (front_.size() - 2) / kArity + 1; i-- > 0;) siftDown(front_, i, front_[i]);
  }

  static void heapPush(std::vector<Event>& heap, const Event& e) {
    size_t hole = heap.size();
    heap.push_back(e);
    while (hole > 0) {
      const size_t parent = (hole - 1) / kArity;
      if (!before(e, heap[parent])) break;
      heap[hole] = heap[parent];
      hole = parent;
    }
    heap[hole] = e;
  }

  // Fills the hole at `hole` with e, moving smaller children up. heap[hole] may be overwritten.
  static void siftDown(std::vector<Event>& heap, size_t hole, const Event e) {
    const size_t n = heap.size();
    for (;;) {
      const size_t child = hole * kArity + 1;
      if (child >= n) break;
      size_t best = child;
      const size_t end = child + kArity < n ? child + kArity : n;
      for (size_t c = child + 1; c < end; ++c)
        if (before(heap[c], heap[best])) best = c;
      if (!before(heap[best], e)) break;
      heap[hole] = heap[best];
      hole = best;
    }
    heap[hole] = e;
  }

  static Event heapPop(std::vector<Event>& heap) {
    Event first = heap.front();
    const Event last = heap.back();
    heap.pop_back();
    if (!heap.empty()) siftDown(heap, 0, last);
    return first;
  }

  // Brown's estimate from the events about to be dequeued: three times the mean gap between the
  // kSample earliest, the mean taken again without the gaps above twice the first mean; rounded to
  // the nearest power of two. Events on one instant say nothing about the spread, so the sample
  // grows (x4) until it spans kMinGaps distinct gaps; a queue with fewer keeps the current width,
  // unless `force` (the width was measured to be wrong), where the mean distinct gap is used.
  // Leaves the earliest key in scratch_[0].
  unsigned estimateShift(bool force) {
    using U128 = unsigned __int128;
    const size_t n = scratch_.size();
    size_t s = std::min(n, kSample), sorted = 0, distinct = 0;
    for (;;) {
      if (n > s) std::nth_element(scratch_.begin() + sorted, scratch_.begin() + (s - 1), scratch_.end());
      std::sort(scratch_.begin() + sorted, scratch_.begin() + s);
      for (size_t i = sorted > 0 ? sorted : 1; i < s; ++i) distinct += scratch_[i] != scratch_[i - 1];
      sorted = s;
      if (distinct >= kMinGaps || s == n) break;
      s = std::min(n, 4 * s);
    }
    U128 width = 0;
    const U128 span = n > 0 ? scratch_[s - 1] - scratch_[0] : 0;  // the sum of the s - 1 gaps
    if (distinct >= kMinGaps) {
      const U128 gaps = s - 1;
      U128 sum = 0, count = 0;
      for (size_t i = 1; i < s; ++i) {
        const U128 gap = scratch_[i] - scratch_[i - 1];
        if (gap * gaps <= 2 * span) {  // gap <= 2 * (span / gaps), exactly
          sum += gap;
          ++count;
        }
      }
      width = 3 * sum / count;                  // count >= 1: the smallest gap is at most the mean
      if (width == 0) width = 3 * span / gaps;  // mostly ties: fall back on the plain mean
    } else if (force && distinct > 0) {
      width = span / distinct;
    } else {
      return shift_;
    }
    const U128 clamped = std::clamp<U128>(width, 1, U128{1} << 62);
    unsigned shift = static_cast<unsigned>(std::bit_width(static_cast<uint64_t>(clamped))) - 1;
    if (clamped - (U128{1} << shift) > (U128{1} << (shift + 1)) - clamped) ++shift;
    return std::clamp(shift, 1u, 62u);
  }

  // Brown's resize, also used with the same count to refit the width alone.
  void resize(size_t newCount, bool force) {
    scratch_.clear();
    for (const Event& e : front_) scratch_.push_back(key(e.time));
    for (const Bucket& b : buckets_)
      for (uint32_t node = b.head; node != kNil; node = next_[node]) scratch_.push_back(key(pool_[node].time));
    const unsigned shift = estimateShift(force);
    pops_ = 0;
    work_ = 0;
    if (newCount == buckets_.size()) {
      if (shift == shift_) {  // the estimate cannot do better: look again later, not at once
        checkPeriod_ = std::min<uint64_t>(2 * checkPeriod_, kMaxCheckYears * buckets_.size());
        return;
      }
    }
    checkPeriod_ = std::max<uint64_t>(newCount, kMinCheckPeriod);
    shift_ = shift;
    // Relink every node under the new geometry, and return the front's events to the calendar.
    std::vector<Bucket> old(newCount);
    old.swap(buckets_);
    mask_ = newCount - 1;
    for (const Bucket& b : old) {
      for (uint32_t node = b.head; node != kNil;) {
        const uint32_t following = next_[node];
        const uint64_t d = day(pool_[node].time);
        Bucket& nb = buckets_[d & mask_];
        next_[node] = nb.head;
        nb.head = node;
        if (d < nb.minDay) nb.minDay = d;
        node = following;
      }
    }
    nextDay_ = size_ > 0 ? scratch_[0] >> shift_ : 0;  // the earliest day
    for (const Event& e : front_) link(e, day(e.time));
    front_.clear();
  }

  // Between resizes (Brown re-estimates only there), refit the width when the pops of the last
  // period cost more than kMaxWorkPerPop empty days or passed-over nodes each: the distribution
  // has drifted since the last estimate (Oh and Ahn's dynamic calendar queue, 1997, in spirit).
  void checkWidth() {
    if (work_ > kMaxWorkPerPop * pops_) {
      resize(buckets_.size(), true);
    } else {
      pops_ = 0;
      work_ = 0;
    }
  }

  static constexpr size_t kMinGaps = 4;
  static constexpr uint64_t kMaxWorkPerPop = 2;
  static constexpr uint64_t kMinCheckPeriod = 64;
  static constexpr uint64_t kMaxCheckYears = 64;

  // The calendar and the front change in const top() (advance), hence mutable.
  mutable std::vector<Bucket> buckets_;
  uint64_t mask_;  // buckets_.size() - 1; the count is a power of two
  unsigned shift_ = kInitialShift;
  size_t size_ = 0;
  mutable uint64_t nextDay_ = 0;        // front_ holds the days before it, the calendar the others
  mutable std::vector<Event> front_;    // 4-ary min-heap under before()
  mutable std::vector<Event> pool_;     // calendar nodes: the event ...
  mutable std::vector<uint32_t> next_;  // ... and the next node of its list (or of the free list)
  mutable uint32_t free_ = kNil;        // the free list of pool_ nodes
  uint64_t pops_ = 0;                   // pops since the width was last checked
  mutable uint64_t work_ = 0;           // empty days and passed-over nodes in those pops
  uint64_t checkPeriod_ = kMinCheckPeriod;  // pops between width checks
  std::vector<uint64_t> scratch_;       // event keys during a resize
};

}  // namespace wafersim
