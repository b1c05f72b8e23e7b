#include "models/hardware/nic.h"

#include "sim/checkpoint.h"

namespace wafersim::hw {

NetworkInterface::NetworkInterface(uint32_t self, Bandwidth injection, EnergyPerBit energyPerBit, ForwardingMode mode,
                                   Bytes chunk, StatSet& stats, const std::string& component)
    : self_(self),
      bandwidth_(injection),
      energyPerBit_(energyPerBit),
      mode_(mode),
      chunk_(chunk),
      component_(component),
      energy_(stats.counter("energy_link_pj")),
      bytesSent_(stats.counter("bytes_sent")),
      bytesReceived_(stats.counter("bytes_received")),
      messagesReceived_(stats.counter("messages_received")) {
  WAFERSIM_REQUIRE(bandwidth_.bytesPerSecond > 0, "component ", component, ": zero injection bandwidth");
  WAFERSIM_REQUIRE(mode_ == ForwardingMode::StoreAndForward || (chunk_.value > 0 && chunk_.value <= UINT32_MAX),
                   "component ", component, ": chunk must be 1 B .. 4 GiB - 1");
}

bool NetworkInterface::receive(const Message& m) {
  WAFERSIM_ASSERT(m.destination == self_, component_, " got a chunk for endpoint ", m.destination);
  bytesReceived_.add(m.chunkBytes);
  if (m.chunkBytes == m.totalBytes) {  // the common single-chunk case skips the map
    messagesReceived_.add();
    return true;
  }
  auto it = partial_.try_emplace({m.source, m.flow}, 0).first;
  it->second += m.chunkBytes;
  if (it->second < m.totalBytes) return false;
  WAFERSIM_ASSERT(it->second == m.totalBytes, component_, ": message ", m.flow, " from endpoint ", m.source,
                  " got more bytes than it has");
  partial_.erase(it);
  messagesReceived_.add();
  return true;
}

void NetworkInterface::save(StateWriter& out) const {
  out.time(busy_);
  out.u64(partial_.size());
  for (const auto& [key, bytes] : partial_) {
    out.u32(key.first);
    out.u64(key.second);
    out.u64(bytes);
  }
  energy_.save(out);
}

void NetworkInterface::restore(StateReader& in) {
  busy_ = in.time();
  partial_.clear();
  for (uint64_t n = in.count(20); n > 0; --n) {
    const uint32_t source = in.u32();
    const uint64_t flow = in.u64();
    partial_[{source, flow}] = in.u64();
  }
  energy_.restore(in);
}

}  // namespace wafersim::hw
