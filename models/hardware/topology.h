// Builders of networks-on-package: routers, endpoints, links, routing tables (network.h).
//
// Any graph: fill a NetworkDescription (routers, directed link properties, endpoint attachments)
// and call buildNetwork with shortest-path routing (Dijkstra by link latency, then by hop count;
// ties go to the lowest output port index, so tables are deterministic and loop-free).
// 2D mesh / torus: buildMesh / buildTorus. Router (x, y) has index y * X + x and ports
// p0 east (+x), p1 west (-x), p2 south (+y), p3 north (-y), p4 its endpoint (index == router
// index). Routing: dimension order XY or YX (on a torus each dimension goes the shorter way
// round, east/south on a tie), or shortest path. Failed links are left in the graph but never
// routed over; with dimension-order routing a route that needs one is an error.
//
// Component ids: router r is 2 r, its endpoint 2 r + 1 (neighbours stay together under a linear
// partition map). Names: "router[x,y]" and "endpoint[x,y]" (mesh/torus), or as described.
//
// To run: ComponentRegistry registry; registerNetworkComponents(registry); runInProcess(net.graph, ...).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/hardware/network.h"
#include "sim/component_registry.h"
#include "sim/system_graph.h"

namespace wafersim::hw {

enum class Routing { XY, YX, ShortestPath };
const char* toString(Routing routing);

struct RouterLink {
  uint32_t a = 0, b = 0;           // router indices
  PortId portA = 0, portB = 0;     // p0..p7
  Duration latencyAB, latencyBA;
  Bandwidth bandwidthAB, bandwidthBA;
};

struct EndpointAttachment {
  uint32_t router = 0;
  PortId port = 0;
  Duration latency;     // both directions
  Bandwidth bandwidth;  // both directions (injection and ejection)
};

struct NetworkDescription {
  std::vector<std::string> routerNames;  // one per router
  std::vector<std::string> endpointNames;
  std::vector<RouterLink> links;
  std::vector<EndpointAttachment> endpoints;
  std::vector<std::pair<uint32_t, uint32_t>> failedLinks;  // router pairs; every link between them fails
  EnergyPerBit energyPerBit;
  ForwardingMode mode = ForwardingMode::StoreAndForward;
  Bytes chunk{256};
  std::vector<FlowSpec> flows;
  // The component type of the endpoints ("hw.Endpoint", or a die: die.h) and extra parameters per
  // endpoint (empty, or one Params per endpoint), merged over the network's own (index, bandwidth,
  // energy_per_bit, mode, chunk).
  std::string endpointType = "hw.Endpoint";
  std::vector<Params> endpointParams;
};

struct Network {
  SystemGraph graph;
  std::shared_ptr<const NetworkPlan> plan;
  NetworkDescription description;  // what it was built from
};

// routes[router][endpoint] by shortest path over the links that have not failed.
std::vector<std::vector<PortId>> shortestPathRoutes(const NetworkDescription& d);
// Builds the graph and plan with the given routes; checks that every flow has a loop-free route.
Network buildNetwork(const NetworkDescription& d, std::vector<std::vector<PortId>> routes);
Network buildNetwork(const NetworkDescription& d);  // shortest-path routes

struct MeshConfig {
  uint32_t x = 4, y = 4;
  Duration linkLatency = Duration::fromPs(1000);
  Bandwidth linkBandwidth{25'000'000'000};
  Duration endpointLatency = Duration::fromPs(1000);
  Bandwidth endpointBandwidth{25'000'000'000};
  EnergyPerBit energyPerBit{0};
  Routing routing = Routing::XY;
  ForwardingMode mode = ForwardingMode::StoreAndForward;
  Bytes chunk{256};
  std::vector<std::pair<uint32_t, uint32_t>> failedLinks;  // router indices (y * X + x)
  std::vector<FlowSpec> flows;                             // endpoint index == router index
};

Network buildMesh(const MeshConfig& config);
Network buildTorus(const MeshConfig& config);

// Registers "hw.Router" and "hw.Endpoint"; each instance finds the NetworkPlan in the graph's
// model data (buildNetwork attaches it under kNetworkDataKey).
void registerNetworkComponents(ComponentRegistry& registry);

// The routers a chunk visits from endpoint `source` to endpoint `destination`, following routes.
// Throws Error{InvalidConfig} when there is no route or it loops.
std::vector<uint32_t> routePath(const NetworkDescription& d, const std::vector<std::vector<PortId>>& routes,
                                uint32_t source, uint32_t destination);
std::vector<uint32_t> routePath(const Network& n, uint32_t source, uint32_t destination);

}  // namespace wafersim::hw
