// The future-event set of one partition.
//
// Which queue, and why (figures from bench/event_queue, see README.md "Kernel performance"):
//   HeapQueue<2>   binary heap, O(log n) push/pop, 64 B per event, no tuning.
//   HeapQueue<4>   4-ary heap: half the depth, children share a cache line pair; the default.
//   CalendarQueue  (calendar_queue.h) O(1) expected when event times spread evenly, but O(n)
//                  inserts when many events share one instant (MessageMesh, clocked models).
// Events are stored by value: with 64-byte events a heap of (key, index) pairs saved nothing
// measurable and cost an indirection on every pop.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "sim/event.h"

namespace wafersim {

template <size_t Arity>
class HeapQueue {
  static_assert(Arity >= 2);

 public:
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.front(); }
  SimTime nextTime() const { return heap_.empty() ? SimTime::never() : heap_.front().time; }
  void reserve(size_t n) { heap_.reserve(n); }

  void push(const Event& e) {
    size_t hole = heap_.size();
    heap_.emplace_back();
    while (hole > 0) {
      size_t parent = (hole - 1) / Arity;
      if (!before(e, heap_[parent])) break;
      heap_[hole] = heap_[parent];
      hole = parent;
    }
    heap_[hole] = e;
  }

  // Removes and returns the first event. Precondition: !empty().
  Event pop() {
    Event first = heap_.front();
    Event last = heap_.back();
    heap_.pop_back();
    const size_t n = heap_.size();
    if (n == 0) return first;
    size_t hole = 0;
    for (;;) {
      size_t child = hole * Arity + 1;
      if (child >= n) break;
      size_t best = child;
      const size_t end = child + Arity < n ? child + Arity : n;
      for (size_t c = child + 1; c < end; ++c)
        if (before(heap_[c], heap_[best])) best = c;
      if (!before(heap_[best], last)) break;
      heap_[hole] = heap_[best];
      hole = best;
    }
    heap_[hole] = last;
    return first;
  }

 private:
  std::vector<Event> heap_;
};

using EventQueue = HeapQueue<4>;

}  // namespace wafersim
