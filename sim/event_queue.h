// The future-event set of one partition.
//
// Which queue, and why. Measured on this project's 2-core machine (bench/event_queue: hold
// model, million holds per CPU second; bench/phold: whole-kernel events per second):
//                               HeapQueue<2>  HeapQueue<4>  CalendarQueue
//   hold, exponential, 4,096        14.1          12.9          22.9
//   hold, exponential, 65,536        5.8           6.3          14.0
//   hold, same instant, 4,096       12.8          11.1          12.4
//   PHOLD, 16 LPs, serial             -           15.2          11.6
//   PHOLD, 1,024 LPs, serial          -           11.5          12.3
//   MessageMesh 32x32, serial         -            9.9          12.7
// The calendar queue (calendar_queue.h: Brown's calendar with unsorted buckets and a small heap
// for the current day, so many events on one instant cost O(log k), not O(k)) is the default:
// it wins wherever the queue holds more than a few dozen events. A heap is faster only for
// tiny queues (16 events), where either is far faster than the rest of the kernel.
// Events are stored by value (64 bytes): no indirection on pop.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "sim/calendar_queue.h"
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

// The kernel's queue (see the table above).
using EventQueue = CalendarQueue;

}  // namespace wafersim
