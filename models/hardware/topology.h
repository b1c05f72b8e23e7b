// Builders of networks-on-package: routers, endpoints, links, routing tables (network.h).
//
// Any graph: fill a NetworkDescription (routers, directed link properties, endpoint attachments)
// and call buildNetwork with shortest-path routing (Dijkstra by link latency, then by hop count;
// ties go to the lowest output port index, so tables are deterministic and loop-free).
// 2D mesh / torus: describeMesh / describeTorus + meshRoutes / torusRoutes, or buildMesh /
// buildTorus in one step. Router (x, y) has index y * X + x and ports
// p0 east (+x), p1 west (-x), p2 south (+y), p3 north (-y), p4 its endpoint (index == router
// index). Routing: dimension order XY or YX (on a torus each dimension goes the shorter way
// round, east/south on a tie), or shortest path. Failed links are left in the graph but never
// routed over; with dimension-order routing a route that needs one is an error.
//
// Component ids: router r is 2 r, its endpoint 2 r + 1 (neighbours stay together under a linear
// partition map). Names: "router[x,y]" and "endpoint[x,y]" (mesh/torus), or as described.
//
// Every builder (here, nop_tree.h, hierarchical_wafer.h, gpu_box.h, graph_file.h) exposes the
// same three steps, so a caller can change the description (endpointType, endpointParams, flows)
// before building:  NetworkDescription d = describeX(c); auto routes = xRoutes(c);
// Network n = buildNetwork(d, routes);  (buildX(c) does the three at once).
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
  PortId portA = 0, portB = 0;     // p0..p15
  Duration latencyAB, latencyBA;
  Bandwidth bandwidthAB, bandwidthBA;
};

struct EndpointAttachment {
  uint32_t router = 0;
  PortId port = 0;
  Duration latency;     // both directions
  Bandwidth bandwidth;  // injection (endpoint -> router), and ejection unless ejectBandwidth is set
  Bandwidth ejectBandwidth{0};  // router -> endpoint; zero: the same as bandwidth
};

struct NetworkDescription {
  std::vector<std::string> routerNames;  // one per router
  std::vector<std::string> endpointNames;
  std::vector<RouterLink> links;
  std::vector<EndpointAttachment> endpoints;
  std::vector<std::pair<uint32_t, uint32_t>> failedLinks;  // router pairs; every link between them fails
  // Failed (masked-out) routers: every link of theirs fails and their endpoints (a die on a
  // wafer tile) are unreachable; a flow from or to one is refused.
  std::vector<uint32_t> failedRouters;
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
  std::vector<uint32_t> failedRouters;                     // masked-out tiles (router and its endpoint)
  std::vector<FlowSpec> flows;                             // endpoint index == router index
};

// The mesh or torus without its routes (config.routing is not used).
NetworkDescription describeMesh(const MeshConfig& config);
NetworkDescription describeTorus(const MeshConfig& config);
// The routes config.routing asks for: dimension order (XY, YX) or shortest path.
std::vector<std::vector<PortId>> meshRoutes(const MeshConfig& config);
std::vector<std::vector<PortId>> torusRoutes(const MeshConfig& config);
Network buildMesh(const MeshConfig& config);   // buildNetwork(describeMesh(c), meshRoutes(c))
Network buildTorus(const MeshConfig& config);  // buildNetwork(describeTorus(c), torusRoutes(c))

// Building blocks of grid topologies (hierarchical_wafer.h reuses them).
namespace grid {
// Ports of a grid router.
inline constexpr PortId kEast = 0, kWest = 1, kSouth = 2, kNorth = 3, kLocal = 4;
std::string routerName(uint32_t x, uint32_t y);    // "router[x,y]"
std::string endpointName(uint32_t x, uint32_t y);  // "endpoint[x,y]"
// A grid of config.x by config.y routers, each with its endpoint, every link with config's link
// latency and bandwidth; with `torus`, wrap links close each ring of at least 3 routers.
NetworkDescription describe(const MeshConfig& config, bool torus);
// routes[router][endpoint] in dimension order (x first when xFirst) on an X x Y grid whose
// endpoint e sits on router e (port kLocal); on a torus each dimension goes the shorter way round,
// east/south on a tie. Failed links are not avoided (buildNetwork rejects a route over one).
std::vector<std::vector<PortId>> dimensionOrderRoutes(uint32_t x, uint32_t y, bool torus, bool xFirst);
// Dimension-order or shortest-path routes for a grid description d of X x Y routers.
std::vector<std::vector<PortId>> routes(const NetworkDescription& d, uint32_t x, uint32_t y, bool torus,
                                        Routing routing);
}  // namespace grid

// Registers "hw.Router" and "hw.Endpoint"; each instance finds the NetworkPlan in the graph's
// model data (buildNetwork attaches it under kNetworkDataKey).
void registerNetworkComponents(ComponentRegistry& registry);

// The routers a chunk visits from endpoint `source` to endpoint `destination`, following routes.
// Throws Error{InvalidConfig} when there is no route or it loops.
std::vector<uint32_t> routePath(const NetworkDescription& d, const std::vector<std::vector<PortId>>& routes,
                                uint32_t source, uint32_t destination);
std::vector<uint32_t> routePath(const Network& n, uint32_t source, uint32_t destination);

}  // namespace wafersim::hw
