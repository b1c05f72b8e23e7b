// MessageMesh, the same model as SST-core's test model of that name: an X x Y torus of nodes,
// each with four links (north, south, east, west) of one latency. At start every node sends one
// message on each of its links; every received message is forwarded on a uniformly drawn one of
// the four. The population stays 4 X Y messages, all at multiples of the latency.
#pragma once

#include <cstdint>

#include "sim/component_registry.h"
#include "sim/system_graph.h"

namespace wafersim::synthetic {

struct MessageMeshConfig {
  uint32_t x = 4, y = 4;
  Duration latency = Duration::fromPs(1000);
};

void registerMessageMesh(ComponentRegistry& registry);
SystemGraph buildMessageMesh(const MessageMeshConfig& config);

}  // namespace wafersim::synthetic
