// A wafer-scale 2D mesh of dies grouped into reticle groups (seeds.md 3.3, Dojo / TSMC-SoW): the
// die grid X x Y is tiled by groups of groupX x groupY dies; a link between two dies of the same
// group has the intra latency and bandwidth (on-reticle wiring), a link crossing a group boundary
// the inter ones (slower: stitched or through the wafer's carrier).
//
// It is the mesh of topology.h with other link properties: the same router and endpoint indices
// (router (x, y) = y * X + x, its endpoint has the same index), ports (p0 east, p1 west, p2 south,
// p3 north, p4 the endpoint), names ("router[x,y]", "endpoint[x,y]") and routing (XY, YX, or
// shortest path, which weighs links by latency, so it may detour around slow group boundaries).
// The group of die (x, y) is (x / groupX, y / groupY).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "models/hardware/topology.h"

namespace wafersim::hw {

// Defaults: 4x4 dies in 2x2 groups, D2D 1.7 TB/s inside a group (seeds.md 3.3); the inter-group
// numbers are placeholders.
struct HierarchicalWaferConfig {
  uint32_t x = 4, y = 4;
  uint32_t groupX = 2, groupY = 2;
  Duration intraLatency = Duration::fromPs(1000);
  Bandwidth intraBandwidth{1'700'000'000'000};
  Duration interLatency = Duration::fromPs(5000);
  Bandwidth interBandwidth{850'000'000'000};
  Duration endpointLatency = Duration::fromPs(1000);
  Bandwidth endpointBandwidth{1'700'000'000'000};
  EnergyPerBit energyPerBit{0};
  Routing routing = Routing::XY;
  ForwardingMode mode = ForwardingMode::StoreAndForward;
  Bytes chunk{256};
  std::vector<std::pair<uint32_t, uint32_t>> failedLinks;  // router indices (y * X + x)
  std::vector<uint32_t> failedRouters;                     // masked-out tiles (router and its die)
  std::vector<FlowSpec> flows;                             // endpoint index == router index
};

NetworkDescription describeHierarchicalWafer(const HierarchicalWaferConfig& config);
std::vector<std::vector<PortId>> hierarchicalWaferRoutes(const HierarchicalWaferConfig& config);
Network buildHierarchicalWafer(const HierarchicalWaferConfig& config);

}  // namespace wafersim::hw
