// Any network-on-package read from a YAML file (the graph of topology.h's NetworkDescription).
//
//   routers: [r0, r1, r2]                      # names; router index = position
//   links:                                     # router to router, both directions
//     - {a: r0, b: r1, latency: 10 ns, bandwidth: 25 GB/s}
//     - {a: r1, b: r2, latency: 10 ns, bandwidth_ab: 50 GB/s, bandwidth_ba: 25 GB/s, port_a: p3, port_b: 5}
//     - {a: r2, b: r0, latency_ab: 5 ns, latency_ba: 7 ns, bandwidth: 25 GB/s}
//   endpoints:                                 # endpoint index = position
//     - {name: e0, router: r0, latency: 1 ns, bandwidth: 25 GB/s}
//     - {name: e1, router: r1, latency: 1 ns, bandwidth_up: 25 GB/s, bandwidth_down: 50 GB/s, port: p7}
//   failed_links: [[r0, r1]]                   # optional; every link between the two fails
//   energy_per_bit: 3.48 pJ/bit                # optional, default 0
//   mode: store_and_forward                    # optional: store_and_forward (default) | cut_through
//   chunk: 256 B                               # optional, default 256 B (the cut-through chunk)
//   routing: shortest_path                     # optional; the only routing for an arbitrary graph
//   description: free text                     # optional, ignored
//
// Fields. A link needs a, b (two different routers), a latency (`latency`, or `latency_ab` and
// `latency_ba`) and a bandwidth (`bandwidth`, or `bandwidth_ab` (a -> b) and `bandwidth_ba`).
// An endpoint needs name, router, latency (both directions) and `bandwidth` (both directions) or
// `bandwidth_up` (endpoint -> router) and `bandwidth_down` (router -> endpoint). Ports are
// written "p5" or 5 (p0..p15, kRouterPorts). Explicit ports are reserved first; a link end or
// endpoint without one gets the lowest free port of its router, in file order (links, then
// endpoints). Units: durations as sim/time.h parseDuration ("100 ns"), sizes, bandwidths and
// energies as units.h ("25 GB/s", "256 B", "3.48 pJ/bit"); latencies are finite and >= 0,
// bandwidths and the chunk > 0. Router and endpoint names are component names: unique across both.
//
// Errors are Error{InvalidConfig} reading "FILE:LINE: field.path: message" (links[2].bandwidth,
// endpoints[0].router, ...): unknown keys, missing fields, bad units, unknown router names,
// duplicate names, a port used twice or out of range, a router out of ports, invalid YAML.
//
// The description has no flows and the default endpoint type; set them, then build with
// buildNetwork(d) (shortest-path routes) or buildNetwork(d, shortestPathRoutes(d)).
#pragma once

#include <string>

#include "models/hardware/topology.h"

namespace wafersim::hw {

NetworkDescription parseNetworkText(const std::string& text, const std::string& sourceName);
NetworkDescription readNetworkFile(const std::string& path);
// Shortest path, the routing of every graph file.
std::vector<std::vector<PortId>> networkFileRoutes(const NetworkDescription& d);
Network buildNetworkFile(const std::string& path);  // buildNetwork(readNetworkFile(path))

}  // namespace wafersim::hw
