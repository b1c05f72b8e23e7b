// Lookahead: how far ahead of its earliest pending event a partition can promise to send
// nothing to a peer (ARCHITECTURE.md contract 3, STYLE.md P3).
//
// For the out-peer q of partition p, with T the earliest instant anything can happen in p:
//     output(p -> q) >= max(A, T + C)
//     C = min over boundary components b towards q of (reaction delay of b + cut latency of b)
//     A = min over the same b of (promised output time of b + cut latency of b)
// "links" mode uses the cut latencies alone (C = min cut latency, A ignored): the classic floor.
// "model" mode adds what components declare (Component::declareReactionDelay and
// promiseNoOutputBefore), which widens windows for models that compute between sends.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sim/event.h"
#include "sim/transport.h"

namespace wafersim {

class Component;

enum class LookaheadMode { Links, Model };

LookaheadMode parseLookaheadMode(std::string_view text);
const char* toString(LookaheadMode mode);

class Lookahead {
 public:
  void reset(size_t outPeers, LookaheadMode mode);
  // Records that `component` sends to out-peer outIndex with at least `cutLatency`.
  void addBoundary(size_t outIndex, const Component* component, Duration cutLatency);
  // Call once all boundaries are added.
  void seal();
  // A and C towards outIndex; `lowerBound` (nothing in the partition happens earlier) lets the scan
  // of promises stop as soon as they cannot matter. minSent is left to the caller.
  PeerReport bound(size_t outIndex, SimTime lowerBound) const;
  Duration minCutLatency(size_t outIndex) const { return linkMin_[outIndex]; }

 private:
  struct Entry {
    const Component* component;
    Duration latency;
  };
  LookaheadMode mode_ = LookaheadMode::Model;
  std::vector<std::vector<Entry>> boundary_;
  std::vector<Duration> linkMin_, modelMin_;
};

// The sender-side bound of a report: no event to the peer before max(A, earliestPending + C).
inline SimTime outputBound(const PeerReport& r, SimTime earliestPending) {
  return max(r.promise, earliestPending + r.reaction);
}

// The window strategy's grant from every partition's report of this round: the end of the next
// window, the same for all partitions (events with time < windowEnd are safe everywhere), and
// whether the whole run is over (nothing anywhere before `end`). A pure function: every
// partition, or a coordinator, computes the same grant from the same reports.
//
// The window is global on purpose. Per-receiver ends (min over in-peers only) let two partitions
// leapfrog: each one's window ends at the other's earliest event plus lookahead, so widths
// alternate (measured: 61 ps and 139 ps with a 100 ps lookahead) and so does the load per window,
// while the barrier makes every round as slow as its busiest partition.
struct WindowGrant {
  SimTime windowEnd = SimTime::zero();
  SimTime globalNext = SimTime::never();  // earliest pending event anywhere
  bool done = false;
};
WindowGrant computeWindowGrant(const std::vector<WindowReport>& all, SimTime end);

}  // namespace wafersim
