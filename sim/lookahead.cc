#include "sim/lookahead.h"

#include <algorithm>

#include "sim/component.h"
#include "sim/error.h"

namespace wafersim {

LookaheadMode parseLookaheadMode(std::string_view text) {
  if (text == "links") return LookaheadMode::Links;
  if (text == "model") return LookaheadMode::Model;
  fail(ErrorKind::InvalidConfig, "unknown lookahead mode \"", text, "\" (known: links, model)");
}

const char* toString(LookaheadMode mode) { return mode == LookaheadMode::Links ? "links" : "model"; }

void Lookahead::reset(size_t outPeers, LookaheadMode mode) {
  mode_ = mode;
  boundary_.assign(outPeers, {});
  linkMin_.assign(outPeers, Duration::max());
  modelMin_.assign(outPeers, Duration::max());
}

void Lookahead::addBoundary(size_t outIndex, const Component* component, Duration cutLatency) {
  auto& list = boundary_[outIndex];
  for (auto& e : list)
    if (e.component == component) {
      e.latency = std::min(e.latency, cutLatency);
      return;
    }
  list.push_back({component, cutLatency});
}

void Lookahead::seal() {
  for (size_t q = 0; q < boundary_.size(); ++q) {
    auto& list = boundary_[q];
    // Scan the shortest paths first so that bound()'s early exit triggers sooner.
    std::stable_sort(list.begin(), list.end(), [](const Entry& a, const Entry& b) { return a.latency < b.latency; });
    for (const auto& e : list) {
      linkMin_[q] = std::min(linkMin_[q], e.latency);
      modelMin_[q] = std::min(modelMin_[q], e.component->reactionDelay() + e.latency);
    }
  }
}

PeerReport Lookahead::bound(size_t outIndex, SimTime lowerBound) const {
  PeerReport r;
  if (mode_ == LookaheadMode::Links) {
    r.reaction = linkMin_[outIndex];
    r.promise = SimTime::zero();
    return r;
  }
  r.reaction = modelMin_[outIndex];
  // A matters only where it exceeds lowerBound + C; stop once it cannot.
  const SimTime irrelevant = lowerBound + r.reaction;
  SimTime a = SimTime::never();
  for (const auto& e : boundary_[outIndex]) {
    a = min(a, e.component->promisedOutputTime() + e.latency);
    if (a <= irrelevant) break;
  }
  r.promise = a;
  return r;
}

WindowGrant computeWindowGrant(const std::vector<WindowReport>& all, SimTime end) {
  // Earliest instant anything can happen in each partition: its own queue, or what was sent to it.
  std::vector<SimTime> earliest(all.size());
  for (size_t p = 0; p < all.size(); ++p) earliest[p] = all[p].nextEvent;
  for (const auto& report : all)
    for (const auto& peer : report.peers) {
      WAFERSIM_ASSERT(peer.peer < all.size(), peer.peer, all.size());
      earliest[peer.peer] = min(earliest[peer.peer], peer.minSent);
    }
  WindowGrant grant;
  for (SimTime t : earliest) grant.globalNext = min(grant.globalNext, t);
  grant.done = grant.globalNext >= end;
  SimTime w = end;
  for (size_t p = 0; p < all.size(); ++p)
    for (const auto& peer : all[p].peers) w = min(w, outputBound(peer, earliest[p]));
  grant.windowEnd = w;
  return grant;
}
}  // namespace wafersim
