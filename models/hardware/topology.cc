#include "models/hardware/topology.h"

#include <algorithm>
#include <queue>
#include <set>
#include <string>
#include <tuple>

#include "models/hardware/endpoint.h"
#include "models/hardware/router.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

// Where each router port leads: another router, an endpoint, or nothing.
struct PortPeer {
  enum Kind : uint8_t { None, ToRouter, ToEndpoint } kind = None;
  uint32_t index = 0;
  Duration latency;
  bool failed = false;
};

std::vector<std::vector<PortPeer>> portPeers(const NetworkDescription& d) {
  const uint32_t n = static_cast<uint32_t>(d.routerNames.size());
  std::vector<std::vector<PortPeer>> peers(n, std::vector<PortPeer>(kRouterPorts));
  auto claim = [&](uint32_t r, PortId p) -> PortPeer& {
    WAFERSIM_REQUIRE(r < n, "network: router index ", r, " out of range (", n, " routers)");
    WAFERSIM_REQUIRE(p < kRouterPorts, "network: router ", d.routerNames[r], " has no port p", p);
    WAFERSIM_REQUIRE(peers[r][p].kind == PortPeer::None, "network: router ", d.routerNames[r], " port p", p,
                     " is connected twice");
    return peers[r][p];
  };
  std::set<std::pair<uint32_t, uint32_t>> failed;
  for (auto [a, b] : d.failedLinks) failed.insert({std::min(a, b), std::max(a, b)});
  std::set<std::pair<uint32_t, uint32_t>> matched;
  std::vector<bool> deadRouter(n, false);
  for (uint32_t r : d.failedRouters) {
    WAFERSIM_REQUIRE(r < n, "network: failed router ", r, " out of range (", n, " routers)");
    deadRouter[r] = true;
  }
  for (const RouterLink& l : d.links) {
    const bool named = failed.count({std::min(l.a, l.b), std::max(l.a, l.b)}) != 0;
    if (named) matched.insert({std::min(l.a, l.b), std::max(l.a, l.b)});
    const bool f = named || (l.a < n && deadRouter[l.a]) || (l.b < n && deadRouter[l.b]);
    claim(l.a, l.portA) = {PortPeer::ToRouter, l.b, l.latencyAB, f};
    claim(l.b, l.portB) = {PortPeer::ToRouter, l.a, l.latencyBA, f};
  }
  for (auto pair : failed)
    WAFERSIM_REQUIRE(matched.count(pair), "network: failed link between routers ", pair.first, " and ", pair.second,
                     " is not a link");
  for (uint32_t e = 0; e < d.endpoints.size(); ++e)
    claim(d.endpoints[e].router, d.endpoints[e].port) = {PortPeer::ToEndpoint, e, d.endpoints[e].latency,
                                                         deadRouter[d.endpoints[e].router]};
  return peers;
}

}  // namespace

const char* toString(Routing routing) {
  switch (routing) {
    case Routing::XY: return "xy";
    case Routing::YX: return "yx";
    case Routing::ShortestPath: return "shortest_path";
  }
  return "?";
}

std::vector<std::vector<PortId>> shortestPathRoutes(const NetworkDescription& d) {
  const auto peers = portPeers(d);
  const uint32_t n = static_cast<uint32_t>(d.routerNames.size());
  using Cost = std::pair<int64_t, uint32_t>;  // (latency ps, hops)
  const Cost kInf{INT64_MAX, UINT32_MAX};
  // Reverse adjacency: into[v] = (u, latency of u -> v) for every working link u -> v.
  std::vector<std::vector<std::pair<uint32_t, int64_t>>> into(n);
  for (uint32_t u = 0; u < n; ++u)
    for (const PortPeer& p : peers[u])
      if (p.kind == PortPeer::ToRouter && !p.failed) into[p.index].push_back({u, p.latency.ps()});
  std::vector<std::vector<PortId>> routes(n, std::vector<PortId>(d.endpoints.size(), kNoRoute));
  std::vector<std::vector<PortId>> byRouter(n);  // the column for a destination router, computed once
  for (uint32_t target = 0; target < n; ++target) {
    std::vector<Cost> dist(n, kInf);
    dist[target] = {0, 0};
    std::priority_queue<std::pair<Cost, uint32_t>, std::vector<std::pair<Cost, uint32_t>>, std::greater<>> queue;
    queue.push({dist[target], target});
    while (!queue.empty()) {
      auto [cost, v] = queue.top();
      queue.pop();
      if (cost != dist[v]) continue;
      for (auto [u, lat] : into[v]) {
        const Cost candidate{cost.first + lat, cost.second + 1};
        if (candidate < dist[u]) {
          dist[u] = candidate;
          queue.push({candidate, u});
        }
      }
    }
    std::vector<PortId>& next = byRouter[target];
    next.assign(n, kNoRoute);
    for (uint32_t u = 0; u < n; ++u) {
      if (u == target || dist[u] == kInf) continue;
      for (PortId p = 0; p < kRouterPorts; ++p) {  // the lowest port on a shortest path
        const PortPeer& peer = peers[u][p];
        if (peer.kind != PortPeer::ToRouter || peer.failed || dist[peer.index] == kInf) continue;
        if (Cost{dist[peer.index].first + peer.latency.ps(), dist[peer.index].second + 1} == dist[u]) {
          next[u] = p;
          break;
        }
      }
    }
  }
  for (uint32_t e = 0; e < d.endpoints.size(); ++e) {
    const EndpointAttachment& a = d.endpoints[e];
    for (uint32_t u = 0; u < n; ++u) routes[u][e] = u == a.router ? a.port : byRouter[a.router][u];
  }
  return routes;
}

std::vector<uint32_t> routePath(const NetworkDescription& d, const std::vector<std::vector<PortId>>& routes,
                                uint32_t source, uint32_t destination) {
  const auto peers = portPeers(d);
  WAFERSIM_REQUIRE(source < d.endpoints.size() && destination < d.endpoints.size(), "network: endpoint ",
                   source, " or ", destination, " out of range");
  std::vector<uint32_t> path;
  uint32_t r = d.endpoints[source].router;
  for (uint32_t dead : d.failedRouters)
    WAFERSIM_REQUIRE(dead != r && dead != d.endpoints[destination].router, "network: endpoint ",
                     d.endpointNames[dead == r ? source : destination], " is masked out (its router ",
                     d.routerNames[dead], " failed)");
  for (;;) {
    path.push_back(r);
    WAFERSIM_REQUIRE(path.size() <= peers.size(), "network: the route from endpoint ", d.endpointNames[source],
                     " to ", d.endpointNames[destination], " loops");
    const PortId p = routes.at(r).at(destination);
    WAFERSIM_REQUIRE(p != kNoRoute && p < kRouterPorts && peers[r][p].kind != PortPeer::None,
                     "network: no route from endpoint ", d.endpointNames[source], " to ",
                     d.endpointNames[destination], " at ", d.routerNames[r]);
    const PortPeer& peer = peers[r][p];
    WAFERSIM_REQUIRE(!peer.failed, "network: the route from endpoint ", d.endpointNames[source], " to ",
                     d.endpointNames[destination], " uses a failed link at ", d.routerNames[r],
                     " (dimension-order routing cannot avoid it: use shortest-path routing)");
    if (peer.kind == PortPeer::ToEndpoint) {
      WAFERSIM_REQUIRE(peer.index == destination, "network: route to ", d.endpointNames[destination],
                       " ends at ", d.endpointNames[peer.index]);
      return path;
    }
    r = peer.index;
  }
}

std::vector<uint32_t> routePath(const Network& n, uint32_t source, uint32_t destination) {
  return routePath(n.description, n.plan->routes, source, destination);
}

Network buildNetwork(const NetworkDescription& d) { return buildNetwork(d, shortestPathRoutes(d)); }

Network buildNetwork(const NetworkDescription& d, std::vector<std::vector<PortId>> routes) {
  const uint32_t routers = static_cast<uint32_t>(d.routerNames.size());
  const uint32_t endpoints = static_cast<uint32_t>(d.endpoints.size());
  WAFERSIM_REQUIRE(d.endpointNames.size() == endpoints, "network: one name per endpoint");
  WAFERSIM_REQUIRE(routes.size() == routers, "network: one routing row per router");
  WAFERSIM_REQUIRE(d.endpointParams.empty() || d.endpointParams.size() == endpoints,
                   "network: endpoint parameters must be given for every endpoint or none");
  for (const auto& row : routes) WAFERSIM_REQUIRE(row.size() == endpoints, "network: one route per endpoint");
  (void)portPeers(d);  // checks the wiring

  auto plan = std::make_shared<NetworkPlan>();
  plan->routers = routers;
  plan->endpoints = endpoints;
  plan->routes = std::move(routes);
  plan->flows = d.flows;
  plan->flowsFrom.assign(endpoints, {});
  for (uint32_t f = 0; f < d.flows.size(); ++f) {
    const FlowSpec& flow = d.flows[f];
    WAFERSIM_REQUIRE(flow.source < endpoints && flow.destination < endpoints, "network: flow ", f,
                     " names an endpoint out of range");
    WAFERSIM_REQUIRE(flow.bytes.value > 0, "network: flow ", f, " is empty");
    WAFERSIM_REQUIRE(flow.start >= SimTime::zero(), "network: flow ", f, " starts before time zero");
    (void)routePath(d, plan->routes, flow.source, flow.destination);  // reachable, loop-free, no failed link
    plan->flowsFrom[flow.source].push_back(f);
  }
  for (auto& list : plan->flowsFrom)
    std::stable_sort(list.begin(), list.end(),
                     [&](uint32_t a, uint32_t b) { return d.flows[a].start < d.flows[b].start; });

  // Per-port output bandwidth of each router: the link's direction leaving that port.
  std::vector<std::vector<std::pair<PortId, Bandwidth>>> portBandwidth(routers);
  for (const RouterLink& l : d.links) {
    portBandwidth[l.a].push_back({l.portA, l.bandwidthAB});
    portBandwidth[l.b].push_back({l.portB, l.bandwidthBA});
  }
  for (const EndpointAttachment& a : d.endpoints)
    portBandwidth[a.router].push_back({a.port, a.ejectBandwidth.bytesPerSecond ? a.ejectBandwidth : a.bandwidth});

  Network net;
  std::vector<ComponentId> routerIds(routers), endpointIds(endpoints);
  // Router r, then the endpoints attached to it, so a tile's components have adjacent ids.
  std::vector<std::vector<uint32_t>> attached(routers);
  for (uint32_t e = 0; e < endpoints; ++e) attached[d.endpoints[e].router].push_back(e);
  for (uint32_t r = 0; r < routers; ++r) {
    Params p{{"index", std::to_string(r)}, {"energy_per_bit", toString(d.energyPerBit)}};
    for (auto [port, bw] : portBandwidth[r]) p.set("bandwidth_p" + std::to_string(port), toString(bw));
    routerIds[r] = net.graph.addComponent(d.routerNames[r], "hw.Router", std::move(p));
    for (uint32_t e : attached[r]) {
      const EndpointAttachment& a = d.endpoints[e];
      Params p = d.endpointParams.empty() ? Params{} : d.endpointParams[e];
      p.set("index", std::to_string(e));
      p.set("bandwidth", toString(a.bandwidth));
      p.set("energy_per_bit", toString(d.energyPerBit));
      p.set("mode", toString(d.mode));
      p.set("chunk", toString(d.chunk));
      endpointIds[e] = net.graph.addComponent(d.endpointNames[e], d.endpointType, std::move(p));
    }
  }
  for (const RouterLink& l : d.links)
    net.graph.connectAsymmetric(routerIds[l.a], "p" + std::to_string(l.portA), routerIds[l.b],
                                "p" + std::to_string(l.portB), l.latencyAB, l.latencyBA);
  for (uint32_t e = 0; e < endpoints; ++e) {
    const EndpointAttachment& a = d.endpoints[e];
    // Every message of the endpoint crosses this link, and it is usually the network's shortest:
    // a heavy edge keeps the partitioner from cutting it (which would shrink the lookahead).
    net.graph.connect(endpointIds[e], "net", routerIds[a.router], "p" + std::to_string(a.port), a.latency,
                      /*expectedTraffic=*/16.0);
  }
  net.graph.data().put<NetworkPlan>(kNetworkDataKey, plan);
  net.plan = std::move(plan);
  net.description = d;
  return net;
}

namespace grid {

std::string routerName(uint32_t x, uint32_t y) { return "router[" + std::to_string(x) + "," + std::to_string(y) + "]"; }
std::string endpointName(uint32_t x, uint32_t y) {
  return "endpoint[" + std::to_string(x) + "," + std::to_string(y) + "]";
}

NetworkDescription describe(const MeshConfig& c, bool torus) {
  WAFERSIM_REQUIRE(c.x >= 1 && c.y >= 1, "mesh: dimensions must be at least 1x1");
  NetworkDescription d;
  auto at = [&](uint32_t i, uint32_t j) { return j * c.x + i; };
  for (uint32_t j = 0; j < c.y; ++j)
    for (uint32_t i = 0; i < c.x; ++i) {
      d.routerNames.push_back(routerName(i, j));
      d.endpointNames.push_back(endpointName(i, j));
      d.endpoints.push_back({at(i, j), kLocal, c.endpointLatency, c.endpointBandwidth});
    }
  auto link = [&](uint32_t a, PortId pa, uint32_t b, PortId pb) {
    d.links.push_back({a, b, pa, pb, c.linkLatency, c.linkLatency, c.linkBandwidth, c.linkBandwidth});
  };
  for (uint32_t j = 0; j < c.y; ++j)
    for (uint32_t i = 0; i < c.x; ++i) {
      // A wrap link needs at least 3 routers in the ring (2 would double the link, 1 loop on itself).
      if (i + 1 < c.x) link(at(i, j), kEast, at(i + 1, j), kWest);
      else if (torus && c.x >= 3) link(at(i, j), kEast, at(0, j), kWest);
      if (j + 1 < c.y) link(at(i, j), kSouth, at(i, j + 1), kNorth);
      else if (torus && c.y >= 3) link(at(i, j), kSouth, at(i, 0), kNorth);
    }
  d.energyPerBit = c.energyPerBit;
  d.mode = c.mode;
  d.chunk = c.chunk;
  d.failedLinks = c.failedLinks;
  d.failedRouters = c.failedRouters;
  d.flows = c.flows;
  return d;
}

namespace {
// The step along one dimension of size n from a to b: +1, -1 or 0.
int step(uint32_t a, uint32_t b, uint32_t n, bool torus) {
  if (a == b) return 0;
  if (!torus || n < 3) return b > a ? 1 : -1;
  const uint32_t forward = (b + n - a) % n;
  return forward <= n - forward ? 1 : -1;
}
}  // namespace

std::vector<std::vector<PortId>> dimensionOrderRoutes(uint32_t x, uint32_t y, bool torus, bool xFirst) {
  const uint32_t n = x * y;
  std::vector<std::vector<PortId>> routes(n, std::vector<PortId>(n, kNoRoute));
  for (uint32_t r = 0; r < n; ++r)
    for (uint32_t e = 0; e < n; ++e) {
      const int sx = step(r % x, e % x, x, torus), sy = step(r / x, e / x, y, torus);
      const PortId px = sx > 0 ? kEast : kWest, py = sy > 0 ? kSouth : kNorth;
      if (sx == 0 && sy == 0) routes[r][e] = kLocal;
      else if (sx != 0 && (xFirst || sy == 0)) routes[r][e] = px;
      else routes[r][e] = py;
    }
  return routes;
}

std::vector<std::vector<PortId>> routes(const NetworkDescription& d, uint32_t x, uint32_t y, bool torus,
                                        Routing routing) {
  if (routing == Routing::ShortestPath) return shortestPathRoutes(d);
  return dimensionOrderRoutes(x, y, torus, routing == Routing::XY);
}

}  // namespace grid

NetworkDescription describeMesh(const MeshConfig& config) { return grid::describe(config, false); }
NetworkDescription describeTorus(const MeshConfig& config) { return grid::describe(config, true); }
std::vector<std::vector<PortId>> meshRoutes(const MeshConfig& config) {
  return grid::routes(describeMesh(config), config.x, config.y, false, config.routing);
}
std::vector<std::vector<PortId>> torusRoutes(const MeshConfig& config) {
  return grid::routes(describeTorus(config), config.x, config.y, true, config.routing);
}
Network buildMesh(const MeshConfig& config) { return buildNetwork(describeMesh(config), meshRoutes(config)); }
Network buildTorus(const MeshConfig& config) { return buildNetwork(describeTorus(config), torusRoutes(config)); }

void registerNetworkComponents(ComponentRegistry& registry) {
  registerRouter(registry);
  registerEndpoint(registry);
}

}  // namespace wafersim::hw
