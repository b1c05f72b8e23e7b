// Topology builders (models/hardware): Mozart's NoP-Tree, the hierarchical (reticle-grouped) wafer
// mesh, the switched GPU box, and networks read from YAML files. Closed-form latencies exact to the
// picosecond; every run is repeated on 1, 2 and 4 partitions with both synchronization strategies
// and must give the same results digest (as in network_test.cc).
//
// Store-and-forward of S bytes over an idle path of links k = 1..H (injection, router hops,
// ejection), link k with bandwidth B_k and latency L_k, T_k(S) = ceil(S * 1e12 / B_k) ps:
//   arrival = sum_k (T_k(S) + L_k)
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/models/hardware/run_everywhere.h"

#include "models/hardware/gpu_box.h"
#include "models/hardware/graph_file.h"
#include "models/hardware/hierarchical_wafer.h"
#include "models/hardware/nop_tree.h"
#include "models/hardware/topology.h"
#include "sim/error.h"
#include "sim/simulation.h"

namespace wafersim::hw {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

int64_t T(uint64_t bytes, Bandwidth b) { return b.transferTime(Bytes{bytes}).ps(); }
Bandwidth gbps(uint64_t g) { return Bandwidth{g * 1'000'000'000}; }
Duration ps(int64_t v) { return Duration::fromPs(v); }

const HistogramRecord& latency(const Results& r, const std::string& endpoint) {
  return record(r, endpoint).histograms.at("latency_ps");
}

uint64_t total(const Results& r, const std::string& counter) {
  uint64_t sum = 0;
  for (const auto& c : r.components())
    if (auto it = c.counters.find(counter); it != c.counters.end()) sum += it->second;
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Mesh / torus: the describe + routes steps give what the one-step builders give.

TEST(TopologiesTest, MeshAndTorusDescribeRoutesBuildEqualsTheOneStepBuilders) {
  MeshConfig c;
  c.x = 3;
  c.y = 3;
  c.flows = {{0, 8, Bytes{1000}, SimTime::zero()}, {4, 2, Bytes{500}, SimTime::zero()}};
  for (Routing routing : {Routing::XY, Routing::YX, Routing::ShortestPath}) {
    SCOPED_TRACE(toString(routing));
    c.routing = routing;
    const Network m = buildNetwork(describeMesh(c), meshRoutes(c));
    const Network t = buildNetwork(describeTorus(c), torusRoutes(c));
    EXPECT_EQ(runEverywhere(m).digestHex(), runEverywhere(buildMesh(c)).digestHex());
    EXPECT_EQ(runEverywhere(t).digestHex(), runEverywhere(buildTorus(c)).digestHex());
    EXPECT_EQ(m.plan->routes, buildMesh(c).plan->routes);
  }
  EXPECT_EQ(describeMesh(c).routerNames[5], "router[2,1]");
  EXPECT_EQ(describeMesh(c).endpointNames[5], "endpoint[2,1]");
  EXPECT_EQ(describeTorus(c).links.size(), 18u);
  EXPECT_EQ(describeMesh(c).links.size(), 12u);
}

// ---------------------------------------------------------------------------------------------
// NoP-Tree

NopTreeConfig tree() {
  NopTreeConfig c;  // {4, 4}
  c.levels = {{ps(3000), gbps(100), gbps(50)}, {ps(2000), gbps(200), gbps(25)}};
  c.attentionLatency = ps(1000);
  c.attentionBandwidth = gbps(400);
  return c;
}

TEST(TopologiesTest, NopTreeIndicesNamesAndPorts) {
  const NopTreeConfig c = tree();
  const NetworkDescription d = describeNopTree(c);
  EXPECT_EQ(nopTreeExperts(c), 16u);
  EXPECT_THAT(d.routerNames, ElementsAre("root", "switch[1,0]", "switch[1,1]", "switch[1,2]", "switch[1,3]"));
  ASSERT_EQ(d.endpointNames.size(), 17u);
  EXPECT_EQ(d.endpointNames[kNopTreeAttention], "attention");
  EXPECT_EQ(d.endpointNames[1], "expert[0,0]");
  EXPECT_EQ(d.endpointNames[nopTreeExpert(c, 2, 1)], "expert[2,1]");
  EXPECT_EQ(nopTreeExpert(c, 2, 1), 10u);
  EXPECT_EQ(d.endpointNames[16], "expert[3,3]");
  // The attention chiplet on the root's port after its children; experts on their switch's p0..p3.
  EXPECT_EQ(d.endpoints[0].router, 0u);
  EXPECT_EQ(d.endpoints[0].port, 4u);
  EXPECT_EQ(d.endpoints[10].router, 3u);
  EXPECT_EQ(d.endpoints[10].port, 1u);
  EXPECT_EQ(d.links.size(), 4u);
  EXPECT_EQ(d.links[2].a, 0u);
  EXPECT_EQ(d.links[2].b, 3u);
  EXPECT_EQ(d.links[2].portA, 2u);
  EXPECT_EQ(d.links[2].portB, 4u);
  EXPECT_THROW(nopTreeExpert(c, 4, 0), Error);
  EXPECT_THROW(nopTreeExpert(c, 0, 4), Error);
}

TEST(TopologiesTest, NopTreeRoutesGoUpToTheLowestCommonAncestorAndDown) {
  const NopTreeConfig c = tree();
  const NetworkDescription d = describeNopTree(c);
  const auto routes = nopTreeRoutes(c);
  const uint32_t attention = kNopTreeAttention;
  EXPECT_THAT(routePath(d, routes, attention, nopTreeExpert(c, 2, 1)), ElementsAre(0u, 3u));
  EXPECT_THAT(routePath(d, routes, nopTreeExpert(c, 2, 1), attention), ElementsAre(3u, 0u));
  EXPECT_THAT(routePath(d, routes, nopTreeExpert(c, 0, 0), nopTreeExpert(c, 0, 3)), ElementsAre(1u));  // sibling
  EXPECT_THAT(routePath(d, routes, nopTreeExpert(c, 0, 1), nopTreeExpert(c, 3, 2)), ElementsAre(1u, 0u, 4u));

  // Three levels {2, 2, 2}: root 0, switch[1,0..1] = 1..2, switch[2,0..3] = 3..6; 8 experts.
  NopTreeConfig deep;
  deep.fanout = {2, 2, 2};
  const NetworkDescription dd = describeNopTree(deep);
  EXPECT_THAT(dd.routerNames, ElementsAre("root", "switch[1,0]", "switch[1,1]", "switch[2,0]", "switch[2,1]",
                                          "switch[2,2]", "switch[2,3]"));
  EXPECT_EQ(nopTreeExperts(deep), 8u);
  EXPECT_EQ(dd.endpointNames[nopTreeExpert(deep, 3, 1)], "expert[3,1]");
  const auto dr = nopTreeRoutes(deep);
  EXPECT_THAT(routePath(dd, dr, nopTreeExpert(deep, 0, 0), nopTreeExpert(deep, 3, 1)),
              ElementsAre(3u, 1u, 0u, 2u, 6u));
  EXPECT_THAT(routePath(dd, dr, nopTreeExpert(deep, 0, 0), nopTreeExpert(deep, 1, 0)), ElementsAre(3u, 1u, 4u));
  EXPECT_THAT(routePath(dd, dr, kNopTreeAttention, nopTreeExpert(deep, 2, 0)), ElementsAre(0u, 2u, 5u));

  // Invalid shapes.
  NopTreeConfig bad;
  bad.fanout = {16};  // 16 children + the attention chiplet: 17 ports
  EXPECT_THROW(describeNopTree(bad), Error);
  bad.fanout = {};
  EXPECT_THROW(describeNopTree(bad), Error);
  bad.fanout = {4, 0};
  EXPECT_THROW(describeNopTree(bad), Error);
  bad.fanout = {4, 4};
  bad.levels = {{}, {}, {}};  // three link levels for two levels of fan-out
  EXPECT_THROW(describeNopTree(bad), Error);
}

TEST(TopologiesTest, NopTreeStoreAndForwardUsesEachLevelsLatencyAndDirection) {
  // Flow A: attention -> expert[2,1]: attention link (400 GB/s, 1 ns), level 0 down (100 GB/s,
  // 3 ns), level 1 down (200 GB/s, 2 ns). Flow B: expert[0,1] -> expert[3,2]: level 1 up
  // (25 GB/s, 2 ns), level 0 up (50 GB/s, 3 ns), level 0 down, level 1 down. A and B share no
  // output port, so both are idle-path arrivals.
  constexpr uint64_t S = 4000;
  NopTreeConfig c = tree();
  const uint32_t a = nopTreeExpert(c, 2, 1), b0 = nopTreeExpert(c, 0, 1), b1 = nopTreeExpert(c, 3, 2);
  c.flows = {{kNopTreeAttention, a, Bytes{S}, SimTime::zero()}, {b0, b1, Bytes{S}, SimTime::zero()}};
  const Results r = runEverywhere(buildNopTree(c));
  EXPECT_EQ(latency(r, "expert[2,1]").min,
            (T(S, gbps(400)) + 1000) + (T(S, gbps(100)) + 3000) + (T(S, gbps(200)) + 2000));  // 78'000 ps
  EXPECT_EQ(latency(r, "expert[3,2]").min, (T(S, gbps(25)) + 2000) + (T(S, gbps(50)) + 3000) +
                                               (T(S, gbps(100)) + 3000) + (T(S, gbps(200)) + 2000));
  EXPECT_EQ(latency(r, "expert[3,2]").min, 160'000 + 80'000 + 40'000 + 20'000 + 10'000);
  EXPECT_EQ(record(r, "root").counters.at("chunks_forwarded"), 2u);
  EXPECT_EQ(record(r, "switch[1,1]").counters.at("chunks_forwarded"), 0u);

  // One level entry applies to every level: 3 links of (T + L) from the attention chiplet.
  NopTreeConfig same;
  same.attentionBandwidth = same.levels[0].down;
  same.attentionLatency = same.levels[0].latency;
  same.flows = {{kNopTreeAttention, 16, Bytes{S}, SimTime::zero()}};
  const Network net = buildNopTree(same);
  EXPECT_EQ(runEverywhere(net).digestHex(),
            runEverywhere(buildNetwork(describeNopTree(same), nopTreeRoutes(same))).digestHex());
  EXPECT_EQ(latency(runEverywhere(net), "expert[3,3]").min, 3 * (T(S, gbps(100)) + 1000));
}

// ---------------------------------------------------------------------------------------------
// Hierarchical wafer

HierarchicalWaferConfig wafer(uint32_t x, uint32_t y, uint32_t gx, uint32_t gy) {
  HierarchicalWaferConfig c;
  c.x = x;
  c.y = y;
  c.groupX = gx;
  c.groupY = gy;
  c.intraLatency = ps(1000);
  c.intraBandwidth = gbps(1700);
  c.interLatency = ps(5000);
  c.interBandwidth = gbps(500);
  c.endpointLatency = ps(500);
  c.endpointBandwidth = gbps(2000);
  return c;
}

TEST(TopologiesTest, HierarchicalWaferLinksCrossingAGroupAreSlower) {
  // 4x2 dies in two 2x2 groups: only the two links between x = 1 and x = 2 cross a group boundary.
  const NetworkDescription d = describeHierarchicalWafer(wafer(4, 2, 2, 2));
  int inter = 0;
  for (const RouterLink& l : d.links) {
    const bool crosses = (l.a % 4) / 2 != (l.b % 4) / 2;
    EXPECT_EQ(l.latencyAB, crosses ? ps(5000) : ps(1000));
    EXPECT_EQ(l.bandwidthBA, crosses ? gbps(500) : gbps(1700));
    inter += crosses;
  }
  EXPECT_EQ(inter, 2);
  EXPECT_EQ(d.links.size(), 10u);
  EXPECT_EQ(d.routerNames[6], "router[2,1]");  // the mesh's names and indices

  EXPECT_THROW(describeHierarchicalWafer(wafer(5, 4, 2, 2)), Error);  // not a multiple
  EXPECT_THROW(describeHierarchicalWafer(wafer(4, 4, 0, 2)), Error);
}

TEST(TopologiesTest, HierarchicalWaferLatencyShowsTheInterGroupHop) {
  constexpr uint64_t S = 8192;
  const int64_t te = T(S, gbps(2000)) + 500, ti = T(S, gbps(1700)) + 1000, tx = T(S, gbps(500)) + 5000;
  // 4x2, groups 2x2. endpoint 0 (0,0) -> 1 (1,0): inside the group; 0 -> 3 (3,0): crosses it once.
  HierarchicalWaferConfig c = wafer(4, 2, 2, 2);
  c.flows = {{0, 1, Bytes{S}, SimTime::zero()}, {4, 7, Bytes{S}, SimTime::zero()}};
  const Network net = buildHierarchicalWafer(c);
  EXPECT_THAT(routePath(net, 4, 7), ElementsAre(4u, 5u, 6u, 7u));
  const Results r = runEverywhere(net);
  EXPECT_EQ(latency(r, "endpoint[1,0]").min, 2 * te + ti);
  EXPECT_EQ(latency(r, "endpoint[3,1]").min, 2 * te + 2 * ti + tx);
  // The same flows on a mesh with every link intra: the difference is the inter link's alone.
  MeshConfig m;
  m.x = 4;
  m.y = 2;
  m.linkLatency = ps(1000);
  m.linkBandwidth = gbps(1700);
  m.endpointLatency = ps(500);
  m.endpointBandwidth = gbps(2000);
  m.flows = c.flows;
  EXPECT_EQ(latency(r, "endpoint[3,1]").min - latency(runEverywhere(buildMesh(m)), "endpoint[3,1]").min, tx - ti);

  // 4x4 in 2x2 groups, corner to corner: XY and YX both cross two group boundaries.
  HierarchicalWaferConfig big = wafer(4, 4, 2, 2);
  big.flows = {{0, 15, Bytes{S}, SimTime::zero()}};
  for (Routing routing : {Routing::XY, Routing::YX, Routing::ShortestPath}) {
    SCOPED_TRACE(toString(routing));
    big.routing = routing;
    const Network n = buildHierarchicalWafer(big);
    if (routing == Routing::XY) {
      EXPECT_THAT(routePath(n, 0, 15), ElementsAre(0u, 1u, 2u, 3u, 7u, 11u, 15u));
    } else if (routing == Routing::YX) {
      EXPECT_THAT(routePath(n, 0, 15), ElementsAre(0u, 4u, 8u, 12u, 13u, 14u, 15u));
    }
    EXPECT_EQ(routePath(n, 0, 15).size(), 7u);
    EXPECT_EQ(latency(runEverywhere(n), "endpoint[3,3]").min, 2 * te + 4 * ti + 2 * tx);
    EXPECT_EQ(n.plan->routes, buildNetwork(describeHierarchicalWafer(big), hierarchicalWaferRoutes(big)).plan->routes);
  }
}

TEST(TopologiesTest, HierarchicalWaferWithOneGroupIsTheMesh) {
  HierarchicalWaferConfig c = wafer(3, 2, 3, 2);
  c.flows = {{0, 5, Bytes{3000}, SimTime::zero()}, {5, 0, Bytes{3000}, SimTime::zero()}};
  MeshConfig m;
  m.x = 3;
  m.y = 2;
  m.linkLatency = c.intraLatency;
  m.linkBandwidth = c.intraBandwidth;
  m.endpointLatency = c.endpointLatency;
  m.endpointBandwidth = c.endpointBandwidth;
  m.flows = c.flows;
  EXPECT_EQ(runEverywhere(buildHierarchicalWafer(c)).digestHex(), runEverywhere(buildMesh(m)).digestHex());
}

// ---------------------------------------------------------------------------------------------
// GPU box

TEST(TopologiesTest, GpuBoxAnyToAnyCrossesTwoLinks) {
  constexpr uint64_t S = 4096;
  GpuBoxConfig c;  // 8 GPUs, 450 GB/s, 400 ns per link
  const NetworkDescription d = describeGpuBox(c);
  EXPECT_THAT(d.routerNames, ElementsAre("nvswitch"));
  ASSERT_EQ(d.endpointNames.size(), 8u);
  EXPECT_EQ(d.endpointNames[5], "gpu[5]");
  EXPECT_EQ(d.endpoints[5].port, 5u);
  c.flows = {{0, 5, Bytes{S}, SimTime::zero()}};
  const Network net = buildGpuBox(c);
  EXPECT_THAT(routePath(net, 0, 5), ElementsAre(0u));
  const Results r = runEverywhere(net);
  EXPECT_EQ(T(S, gbps(450)), 9103);  // 9102.2 ps, rounded up
  EXPECT_EQ(latency(r, "gpu[5]").min, 2 * (T(S, gbps(450)) + 400'000));  // 0.8 us + 2 T
  EXPECT_EQ(runEverywhere(buildNetwork(describeGpuBox(c), gpuBoxRoutes(c))).digestHex(), r.digestHex());

  GpuBoxConfig bad;
  bad.gpus = 16;
  EXPECT_THROW(buildGpuBox(bad), Error);
  bad.gpus = 0;
  EXPECT_THROW(buildGpuBox(bad), Error);
  bad.gpus = 15;
  EXPECT_NO_THROW(buildGpuBox(bad));
}

TEST(TopologiesTest, GpuBoxTwoSendersQueueOnTheSharedEgress) {
  // gpu[0] and gpu[1] send S to gpu[2] at 0. Both reach the switch at T + L and want port p2; the
  // tie goes to gpu[0] (lower component id): it leaves at 2T + L, arrives 2T + 2L; gpu[1]'s waits
  // exactly T and arrives 3T + 2L.
  constexpr uint64_t S = 65536;
  GpuBoxConfig c;
  c.flows = {{0, 2, Bytes{S}, SimTime::zero()}, {1, 2, Bytes{S}, SimTime::zero()}};
  const Results r = runEverywhere(buildGpuBox(c));
  const int64_t t = T(S, gbps(450)), L = 400'000;
  EXPECT_EQ(latency(r, "gpu[2]").count, 2u);
  EXPECT_EQ(latency(r, "gpu[2]").min, 2 * t + 2 * L);
  EXPECT_EQ(latency(r, "gpu[2]").max, 3 * t + 2 * L);
  EXPECT_EQ(record(r, "nvswitch").histograms.at("queue_wait_ps").sum, t);
  EXPECT_EQ(r.simulatedTime(), SimTime::fromPs(3 * t + 2 * L));
}

TEST(TopologiesTest, GpuBoxAllToAllConservesBytes) {
  GpuBoxConfig c;
  uint64_t bytes = 0;
  for (uint32_t s = 0; s < c.gpus; ++s)
    for (uint32_t d = 0; d < c.gpus; ++d)
      if (s != d) {
        c.flows.push_back({s, d, Bytes{1000 + 37 * s + d}, SimTime::zero()});
        bytes += 1000 + 37 * s + d;
      }
  c.mode = ForwardingMode::CutThrough;
  c.chunk = Bytes{256};
  const Results r = runEverywhere(buildGpuBox(c));
  EXPECT_EQ(total(r, "bytes_received"), bytes);
  EXPECT_EQ(total(r, "messages_received"), 56u);
}

// ---------------------------------------------------------------------------------------------
// Graph files

const std::string kExample = std::string(WAFERSIM_SOURCE_DIR) + "/examples/networks/mozart_nop_tree.yaml";

TEST(TopologiesTest, GraphFileOfTheNopTreeGivesTheSameResultsAsTheBuilder) {
  NopTreeConfig c;  // the defaults the example file writes out
  c.flows = {{kNopTreeAttention, 7, Bytes{5000}, SimTime::zero()},
             {3, 14, Bytes{3000}, SimTime::fromPs(100)},
             {12, 13, Bytes{700}, SimTime::zero()},
             {9, kNopTreeAttention, Bytes{9000}, SimTime::fromPs(50)}};
  NetworkDescription d = readNetworkFile(kExample);
  EXPECT_EQ(d.routerNames, describeNopTree(c).routerNames);
  EXPECT_EQ(d.endpointNames, describeNopTree(c).endpointNames);
  d.flows = c.flows;
  const Network fromFile = buildNetwork(d, networkFileRoutes(d));
  const Network inCode = buildNopTree(c);
  EXPECT_EQ(fromFile.plan->routes, inCode.plan->routes);
  EXPECT_EQ(runEverywhere(fromFile).digestHex(), runEverywhere(inCode).digestHex());
  EXPECT_NO_THROW(buildNetworkFile(kExample));
}

TEST(TopologiesTest, GraphFileRingWithAsymmetricLinksAndAutomaticPorts) {
  const std::string text = R"(routers: [r0, r1, r2]
links:
  - {a: r0, b: r1, latency: 2 ns, bandwidth_ab: 50 GB/s, bandwidth_ba: 25 GB/s}
  - {a: r1, b: r2, latency_ab: 3 ns, latency_ba: 4 ns, bandwidth: 25 GB/s, port_a: p0}
  - {a: r2, b: r0, latency: 30 ns, bandwidth: 25 GB/s, port_b: 9}
endpoints:
  - {name: e0, router: r0, latency: 1 ns, bandwidth: 100 GB/s}
  - {name: e1, router: r1, latency: 1 ns, bandwidth_up: 100 GB/s, bandwidth_down: 10 GB/s, port: p7}
  - {name: e2, router: r2, latency: 1 ns, bandwidth: 100 GB/s}
energy_per_bit: 3.48 pJ/bit
mode: store_and_forward
chunk: 512 B
routing: shortest_path
)";
  NetworkDescription d = parseNetworkText(text, "ring.yaml");
  // Explicit ports first (r1.p0, r0.p9, e1 on r1.p7), then the lowest free ones in file order.
  ASSERT_EQ(d.links.size(), 3u);
  EXPECT_EQ(d.links[0].portA, 0u);  // r0
  EXPECT_EQ(d.links[0].portB, 1u);  // r1: p0 is reserved by links[1]
  EXPECT_EQ(d.links[1].portA, 0u);
  EXPECT_EQ(d.links[1].portB, 0u);  // r2
  EXPECT_EQ(d.links[2].portA, 1u);  // r2
  EXPECT_EQ(d.links[2].portB, 9u);
  EXPECT_EQ(d.endpoints[0].port, 1u);
  EXPECT_EQ(d.endpoints[1].port, 7u);
  EXPECT_EQ(d.endpoints[2].port, 2u);
  EXPECT_EQ(d.links[0].bandwidthAB, gbps(50));
  EXPECT_EQ(d.links[0].bandwidthBA, gbps(25));
  EXPECT_EQ(d.links[1].latencyBA, ps(4000));
  EXPECT_EQ(d.endpoints[1].ejectBandwidth, gbps(10));
  EXPECT_EQ(d.energyPerBit, parseEnergyPerBit("3.48 pJ/bit"));
  EXPECT_EQ(d.chunk, Bytes{512});

  // e0 -> e2: r0 -> r1 -> r2 (2 + 3 ns) beats the 30 ns link. e2 -> e1: r2 -> r1 directly.
  constexpr uint64_t S = 1000;
  d.flows = {{0, 2, Bytes{S}, SimTime::zero()}, {2, 1, Bytes{S}, SimTime::fromPs(1'000'000)}};
  const Network net = buildNetwork(d);
  EXPECT_THAT(routePath(net, 0, 2), ElementsAre(0u, 1u, 2u));
  EXPECT_THAT(routePath(net, 2, 1), ElementsAre(2u, 1u));
  const Results r = runEverywhere(net);
  EXPECT_EQ(latency(r, "e2").min,
            (T(S, gbps(100)) + 1000) + (T(S, gbps(50)) + 2000) + (T(S, gbps(25)) + 3000) + (T(S, gbps(100)) + 1000));
  EXPECT_EQ(latency(r, "e1").min, (T(S, gbps(100)) + 1000) + (T(S, gbps(25)) + 4000) + (T(S, gbps(10)) + 1000));
}

TEST(TopologiesTest, GraphFileTheSameGraphInCodeGivesTheSameDigest) {
  const std::string text = R"(routers: [a, b]
links: [{a: a, b: b, latency: 5 ns, bandwidth: 40 GB/s, port_a: p0, port_b: p0}]
endpoints:
  - {name: ea, router: a, latency: 1 ns, bandwidth: 40 GB/s, port: p1}
  - {name: eb, router: b, latency: 1 ns, bandwidth: 40 GB/s, port: p1}
)";
  NetworkDescription file = parseNetworkText(text, "pair.yaml");
  NetworkDescription code;
  code.routerNames = {"a", "b"};
  code.endpointNames = {"ea", "eb"};
  code.links = {{0, 1, 0, 0, ps(5000), ps(5000), gbps(40), gbps(40)}};
  code.endpoints = {{0, 1, ps(1000), gbps(40)}, {1, 1, ps(1000), gbps(40)}};
  file.flows = code.flows = {{0, 1, Bytes{4000}, SimTime::zero()}, {1, 0, Bytes{100}, SimTime::zero()}};
  const Results rf = runEverywhere(buildNetwork(file)), rc = runEverywhere(buildNetwork(code));
  EXPECT_EQ(rf.digestHex(), rc.digestHex());
  EXPECT_EQ(latency(rf, "eb").min, 3 * (T(4000, gbps(40))) + 7000);
}

// The error names the file, the line and the field path.
void expectError(const std::string& text, const std::string& expected) {
  SCOPED_TRACE(text);
  try {
    (void)parseNetworkText(text, "net.yaml");
    ADD_FAILURE() << "no error; expected " << expected;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_THAT(std::string(e.what()), HasSubstr(expected));
  }
}

const std::string kTwo = "routers: [a, b]\n";
const std::string kLink = "links:\n  - {a: a, b: b, latency: 1 ns, bandwidth: 1 GB/s}\n";

TEST(TopologiesTest, GraphFileErrorsNameFileLineAndField) {
  // Not YAML, empty, not a mapping.
  expectError("routers: [a, b\n", "net.yaml:2: not valid YAML");
  expectError("", "net.yaml: empty network file");
  expectError("- a\n- b\n", "net.yaml:1: (document): expected a mapping");
  // Unknown keys.
  expectError(kTwo + "colour: red\n", "net.yaml:2: colour: unknown key");
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: 1 ns, bandwidth: 1 GB/s, speed: 3}\n",
              "net.yaml:3: links[0].speed: unknown key");
  expectError(kTwo + "endpoints:\n  - name: e\n    router: a\n    latency: 1 ns\n    bandwidth: 1 GB/s\n    prt: 3\n",
              "net.yaml:7: endpoints[0].prt: unknown key");
  expectError(kTwo + "? [x]\n: 1\n", "net.yaml:2: (document): a key must be a single word");
  // Missing fields.
  expectError("links: []\n", "net.yaml:1: routers: missing");
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: 1 ns}\n", "net.yaml:3: links[0].bandwidth: missing");
  expectError(kTwo + "links:\n  - {a: a, latency: 1 ns, bandwidth: 1 GB/s}\n", "net.yaml:3: links[0].b: missing");
  expectError(kTwo + "links:\n  - {a: a, b: b, latency_ab: 1 ns, bandwidth: 1 GB/s}\n",
              "net.yaml:3: links[0].latency_ba: missing");
  expectError(kTwo + "endpoints:\n  - {router: a, latency: 1 ns, bandwidth: 1 GB/s}\n",
              "net.yaml:3: endpoints[0].name: missing");
  // Bad units and values.
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: 1 ns, bandwidth: 25 GB}\n",
              "net.yaml:3: links[0].bandwidth: ");
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: 1 parsec, bandwidth: 1 GB/s}\n",
              "net.yaml:3: links[0].latency: ");
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: -1 ns, bandwidth: 1 GB/s}\n",
              "net.yaml:3: links[0].latency: ");
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: 1 ns, bandwidth: 0 GB/s}\n",
              "net.yaml:3: links[0].bandwidth: a bandwidth must be > 0");
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: [1], bandwidth: 1 GB/s}\n",
              "net.yaml:3: links[0].latency: expected a single value");
  expectError(kTwo + "energy_per_bit: 3 pJ\n", "net.yaml:2: energy_per_bit: ");
  expectError(kTwo + "chunk: 0 B\n", "net.yaml:2: chunk: ");
  expectError(kTwo + "mode: wormhole\n", "net.yaml:2: mode: ");
  expectError(kTwo + "routing: xy\n", "net.yaml:2: routing: \"xy\": a graph file routes by shortest_path only");
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: 1 ns, bandwidth: 1 GB/s, bandwidth_ab: 2 GB/s}\n",
              "net.yaml:3: links[0].bandwidth_ab: give bandwidth, or bandwidth_ab and bandwidth_ba, not both");
  // Unknown router names, self loops, failed links that are not links.
  expectError(kTwo + "links:\n  - {a: a, b: c, latency: 1 ns, bandwidth: 1 GB/s}\n",
              "net.yaml:3: links[0].b: unknown router \"c\"");
  expectError(kTwo + "links:\n  - {a: a, b: a, latency: 1 ns, bandwidth: 1 GB/s}\n",
              "net.yaml:3: links[0].b: a link joins two different routers");
  expectError(kTwo + "endpoints:\n  - {name: e, router: z, latency: 1 ns, bandwidth: 1 GB/s}\n",
              "net.yaml:3: endpoints[0].router: unknown router \"z\"");
  expectError("routers: [a, b, c]\n" + kLink + "failed_links: [[a, c]]\n",
              "net.yaml:4: failed_links[0]: no link between a and c");
  expectError(kTwo + kLink + "failed_links: [[a, b, a]]\n", "net.yaml:4: failed_links[0]: expected two router names");
  expectError(kTwo + kLink + "failed_links: [[a, q]]\n", "net.yaml:4: failed_links[0][1]: unknown router \"q\"");
  // Duplicate names (routers and endpoints share the component namespace).
  expectError("routers: [a, b, a]\n", "net.yaml:1: routers[2]: duplicate name \"a\"");
  expectError(kTwo + "endpoints:\n  - {name: b, router: a, latency: 1 ns, bandwidth: 1 GB/s}\n",
              "net.yaml:3: endpoints[0].name: duplicate name \"b\"");
  expectError("routers: []\n", "net.yaml:1: routers: at least one router");
  expectError("routers: a\n", "net.yaml:1: routers: expected a list");
  // Ports: out of range, used twice, a router out of ports.
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: 1 ns, bandwidth: 1 GB/s, port_a: p16}\n",
              "net.yaml:3: links[0].port_a: \"p16\" is not a port (p0..p15)");
  expectError(kTwo + "links:\n  - {a: a, b: b, latency: 1 ns, bandwidth: 1 GB/s, port_a: east}\n",
              "net.yaml:3: links[0].port_a: \"east\" is not a port");
  expectError(kTwo + kLink + "endpoints:\n  - {name: e, router: a, latency: 1 ns, bandwidth: 1 GB/s, port: 3}\n" +
                  "  - {name: f, router: a, latency: 1 ns, bandwidth: 1 GB/s, port: p3}\n",
              "net.yaml:6: endpoints[1].port: port p3 of router a is used twice");
  std::string full = "routers: [hub]\nendpoints:\n";
  for (int i = 0; i <= 16; ++i)
    full += "  - {name: e" + std::to_string(i) + ", router: hub, latency: 1 ns, bandwidth: 1 GB/s}\n";
  expectError(full, "net.yaml:19: endpoints[16].port: router hub has no free port (all 16 in use)");
  // A missing file.
  try {
    (void)readNetworkFile("/nonexistent/net.yaml");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("/nonexistent/net.yaml: cannot read"));
  }
}

TEST(TopologiesTest, GraphFileParserNeverCrashesOnMangledInput) {
  // Every prefix of a valid file, and the file with single characters replaced, either parses or
  // throws Error{InvalidConfig}: nothing else escapes.
  const std::string text = R"(routers: [r0, r1]
links:
  - {a: r0, b: r1, latency: 2 ns, bandwidth_ab: 50 GB/s, bandwidth_ba: 25 GB/s, port_a: p3}
endpoints:
  - {name: e0, router: r0, latency: 1 ns, bandwidth: 100 GB/s}
  - name: e1
    router: r1
    latency: 1 ns
    bandwidth: 100 GB/s
failed_links: [[r0, r1]]
chunk: 64 B
)";
  int parsed = 0, rejected = 0;
  auto attempt = [&](const std::string& t) {
    try {
      (void)parseNetworkText(t, "m.yaml");
      ++parsed;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
      ++rejected;
    }
  };
  for (size_t n = 0; n <= text.size(); ++n) attempt(text.substr(0, n));
  for (size_t i = 0; i < text.size(); ++i)
    for (char c : {'[', ']', '{', ':', '-', ' ', 'x', '9', '\n', '&', '*', '!'}) {
      std::string t = text;
      t[i] = c;
      attempt(t);
    }
  EXPECT_GT(parsed, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace wafersim::hw
