#include "models/hardware/hierarchical_wafer.h"

#include "sim/error.h"

namespace wafersim::hw {
namespace {

MeshConfig meshOf(const HierarchicalWaferConfig& c) {
  WAFERSIM_REQUIRE(c.groupX >= 1 && c.groupY >= 1, "hierarchical wafer: group size must be at least 1x1");
  WAFERSIM_REQUIRE(c.x >= 1 && c.y >= 1 && c.x % c.groupX == 0 && c.y % c.groupY == 0,
                   "hierarchical wafer: the die grid ", c.x, "x", c.y, " is not a multiple of the group ",
                   c.groupX, "x", c.groupY);
  MeshConfig m;
  m.x = c.x;
  m.y = c.y;
  m.linkLatency = c.intraLatency;
  m.linkBandwidth = c.intraBandwidth;
  m.endpointLatency = c.endpointLatency;
  m.endpointBandwidth = c.endpointBandwidth;
  m.energyPerBit = c.energyPerBit;
  m.routing = c.routing;
  m.mode = c.mode;
  m.chunk = c.chunk;
  m.failedLinks = c.failedLinks;
  m.failedRouters = c.failedRouters;
  m.flows = c.flows;
  return m;
}

}  // namespace

NetworkDescription describeHierarchicalWafer(const HierarchicalWaferConfig& c) {
  NetworkDescription d = grid::describe(meshOf(c), false);
  auto group = [&](uint32_t r) { return std::pair{(r % c.x) / c.groupX, (r / c.x) / c.groupY}; };
  for (RouterLink& l : d.links)
    if (group(l.a) != group(l.b)) {
      l.latencyAB = l.latencyBA = c.interLatency;
      l.bandwidthAB = l.bandwidthBA = c.interBandwidth;
    }
  return d;
}

std::vector<std::vector<PortId>> hierarchicalWaferRoutes(const HierarchicalWaferConfig& c) {
  return grid::routes(describeHierarchicalWafer(c), c.x, c.y, false, c.routing);
}

Network buildHierarchicalWafer(const HierarchicalWaferConfig& c) {
  return buildNetwork(describeHierarchicalWafer(c), hierarchicalWaferRoutes(c));
}

}  // namespace wafersim::hw
