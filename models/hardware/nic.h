// The network interface of an endpoint or a die (network.h): splits a message into chunks,
// serializes them FIFO on the injection link, and reassembles what arrives.
//
// A message of S bytes injected at t (not before `notBefore`) leaves as chunks of the forwarding
// mode's size (store-and-forward: one chunk of S; cut-through: `chunk` bytes, the last shorter);
// chunk k is handed to the router at busy_k = max(notBefore, busy_{k-1}) + T(bytes_k), where T is
// the injection bandwidth's serialization time. Every send therefore has a delay of at least
// T(1 byte): minimumDelay(), the reaction delay an owner may declare.
// Messages are identified by (source, flow): a sender never reuses a flow id.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "models/hardware/network.h"
#include "sim/error.h"
#include "sim/event.h"
#include "sim/statistics.h"

namespace wafersim::hw {

class NetworkInterface {
 public:
  NetworkInterface(uint32_t self, Bandwidth injection, EnergyPerBit energyPerBit, ForwardingMode mode, Bytes chunk,
                   StatSet& stats, const std::string& component);

  // Emits the chunks through send(payload, delayFromNow); returns when the last chunk leaves.
  template <class Send>
  SimTime inject(SimTime now, uint64_t flow, uint32_t destination, Bytes bytes, SimTime notBefore, Send&& send) {
    const uint64_t chunk = mode_ == ForwardingMode::StoreAndForward ? bytes.value : chunk_.value;
    WAFERSIM_REQUIRE(bytes.value > 0, component_, ": empty message to endpoint ", destination);
    WAFERSIM_REQUIRE(chunk <= UINT32_MAX, component_, ": a message of ", bytes.value,
                     " bytes does not fit one store-and-forward chunk (4 GiB - 1)");
    uint64_t left = bytes.value;
    for (uint32_t k = 0; left > 0; ++k) {
      const uint64_t n = std::min(left, chunk);
      left -= n;
      busy_ = max(max(notBefore, now), busy_) + bandwidth_.transferTime(Bytes{n});
      send(Payload::of(Message{flow, self_, destination, bytes.value, k, static_cast<uint32_t>(n)}), busy_ - now);
      energy_.add(energyPerBit_.of(Bytes{n}));
      bytesSent_.add(n);
    }
    return busy_;
  }

  // Accounts one arriving chunk; true when it completes its message.
  bool receive(const Message& m);

  // Checkpoints: what the interface holds besides its counters (the injection queue's end, the
  // messages partly received, the energy not yet counted).
  void save(StateWriter& out) const;
  void restore(StateReader& in);

  Duration minimumDelay() const { return bandwidth_.transferTime(Bytes{1}); }
  SimTime busyUntil() const { return busy_; }
  uint32_t self() const { return self_; }

 private:
  const uint32_t self_;
  const Bandwidth bandwidth_;
  const EnergyPerBit energyPerBit_;
  const ForwardingMode mode_;
  const Bytes chunk_;
  const std::string component_;
  SimTime busy_ = SimTime::zero();
  EnergyMeter energy_;
  Counter& bytesSent_;
  Counter& bytesReceived_;
  Counter& messagesReceived_;
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> partial_;  // (source, flow) -> bytes so far
};

}  // namespace wafersim::hw
