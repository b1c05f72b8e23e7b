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

void Lookahead::addBoundary(size_t outIndex, const Component* component, PortId port, Duration cutLatency) {
  auto& list = boundary_[outIndex];
  for (auto& e : list)
    if (e.component == component && e.port == port) {
      e.latency = std::min(e.latency, cutLatency);
      return;
    }
  list.push_back({component, port, cutLatency, Duration::zero()});
}

void Lookahead::seal() {
  for (size_t q = 0; q < boundary_.size(); ++q) {
    auto& list = boundary_[q];
    for (auto& e : list) e.reaction = e.component->reactionDelay() + e.latency;
    // Scan the shortest reactions first so that bound()'s early exit triggers sooner.
    std::stable_sort(list.begin(), list.end(), [](const Entry& a, const Entry& b) { return a.reaction < b.reaction; });
    for (const auto& e : list) {
      linkMin_[q] = std::min(linkMin_[q], e.latency);
      modelMin_[q] = std::min(modelMin_[q], e.reaction);
    }
  }
}

PeerReport Lookahead::bound(size_t outIndex, const LocalState& local) const {
  PeerReport r;
  if (mode_ == LookaheadMode::Links) {
    r.reaction = linkMin_[outIndex];
    r.promise = SimTime::zero();
    r.quiet = local.next + r.reaction;
    return r;
  }
  r.reaction = modelMin_[outIndex];
  // quiet is at least T + C and A matters only above M + C >= remoteFloor + C: stop the scan once
  // both are down to those floors.
  const SimTime quietFloor = local.next + r.reaction;
  const SimTime promiseFloor = local.remoteFloor + r.reaction;
  SimTime quiet = SimTime::never(), a = SimTime::never();
  for (const auto& e : boundary_[outIndex]) {
    const SimTime promised = e.component->promisedOutputTimeOn(e.port) + e.latency;
    const SimTime handled = local.pendingBy[e.component->id()] > 0 ? local.next : local.firstSend;
    quiet = min(quiet, max(promised, handled + e.reaction));
    a = min(a, promised);
    if (quiet <= quietFloor && a <= promiseFloor) break;
  }
  r.promise = a;
  r.quiet = quiet;
  return r;
}

WindowGrant computeWindowGrant(const std::vector<WindowReport>& all, SimTime end) {
  // The earliest event sent to each partition in this round (M): its own queue is in its report.
  std::vector<SimTime> arriving(all.size(), SimTime::never());
  for (const auto& report : all)
    for (const auto& peer : report.peers) {
      WAFERSIM_ASSERT(peer.peer < all.size(), peer.peer, all.size());
      arriving[peer.peer] = min(arriving[peer.peer], peer.minSent);
    }
  WindowGrant grant;
  for (size_t p = 0; p < all.size(); ++p) grant.globalNext = min(grant.globalNext, min(all[p].nextEvent, arriving[p]));
  grant.done = grant.globalNext >= end;
  SimTime w = end;
  for (size_t p = 0; p < all.size(); ++p)
    for (const auto& peer : all[p].peers) w = min(w, outputBound(peer, arriving[p]));
  grant.windowEnd = w;
  return grant;
}
}  // namespace wafersim
