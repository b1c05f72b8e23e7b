// Events are values: 64 bytes, trivially copyable, moved through links by copy.
//
// THE EVENT ORDER (contract 2). Events are committed in the order of the key
//     (time, priority, source component id, source sequence number)
// compared lexicographically, lower first. Component ids are global and assigned when the system
// graph is built, before partitioning; the sequence number counts the events one source has sent
// (every event a component creates, to a link or to itself, takes the next number). None of
// these depends on partitions, threads or transports, so each component sees the same events in
// the same order however the system is split, and results are bit-identical. Ties therefore
// never fall back on insertion order or on which partition an event came from.
//
// The payload is 32 inline bytes holding any trivially copyable struct (Payload::of / as), so an
// event crosses a process boundary as plain bytes and needs no per-type serializer.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "sim/time.h"

namespace wafersim {

using ComponentId = uint32_t;
using PortId = uint16_t;
using PartitionId = uint32_t;

inline constexpr PortId kSelfPort = 0xFFFF;  // the port of events a component schedules to itself

class Payload {
 public:
  static constexpr size_t kCapacity = 32;

  template <typename T>
  static Payload of(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>, "event payloads must be trivially copyable");
    static_assert(sizeof(T) <= kCapacity, "event payloads hold at most 32 bytes");
    Payload p;
    std::memcpy(p.bytes_, &value, sizeof(T));
    return p;
  }

  template <typename T>
  T as() const {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= kCapacity);
    T value;
    std::memcpy(&value, bytes_, sizeof(T));
    return value;
  }

  const unsigned char* data() const { return bytes_; }
  unsigned char* data() { return bytes_; }

 private:
  alignas(8) unsigned char bytes_[kCapacity] = {};
};

struct Event {
  SimTime time;         // when it is delivered
  uint64_t order = 0;   // (priority << 32) | source component id
  uint64_t seq = 0;     // the source's sequence number
  ComponentId target = 0;
  PortId port = 0;      // the receiving port on target (kSelfPort for self-events)
  uint16_t reserved = 0;
  Payload payload;

  static constexpr uint64_t makeOrder(uint32_t priority, ComponentId source) {
    return (static_cast<uint64_t>(priority) << 32) | source;
  }
  ComponentId source() const { return static_cast<ComponentId>(order & 0xFFFFFFFFu); }
  uint32_t priority() const { return static_cast<uint32_t>(order >> 32); }
};

static_assert(sizeof(Event) == 64 && std::is_trivially_copyable_v<Event>);

// True when a is committed before b.
inline bool before(const Event& a, const Event& b) {
  if (a.time != b.time) return a.time < b.time;
  if (a.order != b.order) return a.order < b.order;
  return a.seq < b.seq;
}

}  // namespace wafersim
