// The network-on-package model: shared data of routers (router.h), endpoints (endpoint.h) and the
// topology builders (topology.h).
//
// HOW COMPONENTS GET THEIR ROUTING TABLES. Routing is computed once, by the builder, before the
// run; tables are too large and too structured for text parameters. The builder returns a
// Network: the SystemGraph plus a NetworkPlan, an immutable object shared (shared_ptr<const>)
// by every component of that network and attached to the graph's model data (sim/model_data.h)
// under kNetworkDataKey; each router and endpoint finds its row through its "index" parameter.
// The types are registered once (registerNetworkComponents). The plan is read-only after building, so
// partition threads share it without locks, and it is the same in every partition: results do
// not depend on the partitioning.
//
// A MESSAGE travels as chunks; each chunk is one event carrying a Message (32 bytes, no padding).
// Store-and-forward: one chunk of the whole message (a router forwards it when all its bytes have
// arrived: the event fires at the end of the previous link's serialization plus latency).
// Cut-through: chunks of `chunk` bytes (the last may be shorter), each forwarded when it arrives.
// The forwarding mode is therefore the endpoint's choice of chunk size; routers are the same.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "models/hardware/units.h"
#include "sim/event.h"
#include "sim/time.h"

namespace wafersim::hw {

struct Message {
  uint64_t flow;        // index into NetworkPlan::flows
  uint32_t source;      // endpoint index
  uint32_t destination; // endpoint index
  uint64_t totalBytes;  // of the whole message
  uint32_t chunkIndex;
  uint32_t chunkBytes;  // bytes in this chunk
};
static_assert(sizeof(Message) == Payload::kCapacity && std::has_unique_object_representations_v<Message>);

enum class ForwardingMode { StoreAndForward, CutThrough };
const char* toString(ForwardingMode mode);

inline constexpr PortId kNoRoute = std::numeric_limits<PortId>::max();
inline constexpr PortId kRouterPorts = 16;  // p0 .. p15
// The key of the NetworkPlan in the graph's model data (sim/model_data.h).
inline constexpr const char* kNetworkDataKey = "network";

// One message injected by an endpoint at `start`.
struct FlowSpec {
  uint32_t source = 0;       // endpoint index
  uint32_t destination = 0;  // endpoint index
  Bytes bytes{0};
  SimTime start = SimTime::zero();
};

struct NetworkPlan {
  uint32_t routers = 0;
  uint32_t endpoints = 0;
  // routes[router][endpoint]: the output port towards that endpoint (kNoRoute: unreachable).
  std::vector<std::vector<PortId>> routes;
  std::vector<FlowSpec> flows;
  // flowsFrom[endpoint]: the flows it injects, by start time then flow index.
  std::vector<std::vector<uint32_t>> flowsFrom;
};

}  // namespace wafersim::hw
