// The network-on-package model (models/hardware): closed-form latencies exact to the picosecond,
// FIFO contention, energy, rerouting around failed links, XY / YX / torus routing. Every run is
// repeated on 1, 2 and 4 partitions (window and null-message synchronization, checker on) and
// must give the same results digest.
//
// Timing model (network.h, router.h, endpoint.h): a message from endpoint s to endpoint d crosses
// H = h + 2 links, where h is the number of router-to-router hops: the injection link
// (endpoint -> router), h router links and the ejection link (router -> endpoint). Every link
// serializes at its bandwidth B then adds its latency L. In these tests all links have the same
// B and L, so, with T(n) = ceil(n * 1e12 / B) ps:
//   store-and-forward, S bytes:         arrival = H * (T(S) + L)
//   cut-through, chunks of C | S:       arrival = H * (T(C) + L) + (S / C - 1) * T(C)
//   link energy (sum over components) = S * 8 * E_bit * H (counted in whole pJ per component)
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/models/hardware/run_everywhere.h"
#include "tests/support.h"

#include "models/hardware/topology.h"
#include "sim/checkpoint.h"
#include "sim/error.h"
#include "sim/simulation.h"

namespace wafersim::hw {
namespace {

constexpr int64_t kL = 2000;  // link latency, ps
const Bandwidth kB = parseBandwidth("25 GB/s");
const EnergyPerBit kE = parseEnergyPerBit("3.48 pJ/bit");

int64_t T(uint64_t bytes, Bandwidth b = kB) { return b.transferTime(Bytes{bytes}).ps(); }

MeshConfig mesh(uint32_t x, uint32_t y, Bandwidth b = kB) {
  MeshConfig c;
  c.x = x;
  c.y = y;
  c.linkLatency = c.endpointLatency = Duration::fromPs(kL);
  c.linkBandwidth = c.endpointBandwidth = b;
  c.energyPerBit = kE;
  return c;
}

uint64_t total(const Results& r, const std::string& counter) {
  uint64_t sum = 0;
  for (const auto& c : r.components())
    if (auto it = c.counters.find(counter); it != c.counters.end()) sum += it->second;
  return sum;
}

// Link energy is S * 8 * E_bit per link crossed: the bytes sent over all links total
// `bytesTimesLinks`, and each component's counter is exactly floor(its bytes * 8 * E_bit / 1 pJ).
void expectLinkEnergy(const Results& r, uint64_t bytesTimesLinks) {
  uint64_t bytes = 0;
  for (const auto& c : r.components()) {
    const auto sent = c.counters.count("bytes_sent") ? c.counters.at("bytes_sent") : c.counters.at("bytes_forwarded");
    bytes += sent;
    EXPECT_EQ(c.counters.at("energy_link_pj"), sent * 8 * 3480 / 1000) << c.name;
  }
  EXPECT_EQ(bytes, bytesTimesLinks);
}

const HistogramRecord& latency(const Results& r, const std::string& endpoint) {
  return record(r, endpoint).histograms.at("latency_ps");
}

uint64_t forwarded(const Results& r, const std::string& router) {
  return record(r, router).counters.at("chunks_forwarded");
}

TEST(NetworkTest, StoreAndForwardOverIdleHopsIsExact) {
  constexpr uint64_t S = 4096;
  for (const char* bw : {"25 GB/s", "1.7 TB/s"}) {  // 1.7 TB/s: 4096 B take 2409.4 ps, rounded up to 2410
    SCOPED_TRACE(bw);
    MeshConfig c = mesh(4, 2, parseBandwidth(bw));
    c.flows = {{0, 3, Bytes{S}, SimTime::zero()}};  // endpoint[0,0] -> endpoint[3,0]
    const Network net = buildMesh(c);
    EXPECT_THAT(routePath(net, 0, 3), ::testing::ElementsAre(0u, 1u, 2u, 3u));  // h = 3, H = 5
    const Results r = runEverywhere(net);
    const int64_t H = 5;
    const HistogramRecord& lat = latency(r, "endpoint[3,0]");
    EXPECT_EQ(lat.count, 1u);
    EXPECT_EQ(lat.min, H * (T(S, c.linkBandwidth) + kL));
    EXPECT_EQ(record(r, "endpoint[3,0]").counters.at("bytes_received"), S);
    expectLinkEnergy(r, S * H);
  }
}

TEST(NetworkTest, CutThroughPipelinesChunks) {
  constexpr uint64_t S = 4096, C = 256;
  MeshConfig c = mesh(4, 2);
  c.mode = ForwardingMode::CutThrough;
  c.chunk = Bytes{C};
  c.flows = {{0, 3, Bytes{S}, SimTime::zero()}};
  const Results r = runEverywhere(buildMesh(c));
  const int64_t H = 5;
  EXPECT_EQ(T(C), 10'240);
  EXPECT_EQ(latency(r, "endpoint[3,0]").min, H * (T(C) + kL) + int64_t{S / C - 1} * T(C));  // 214'800 ps
  EXPECT_EQ(latency(r, "endpoint[3,0]").count, 1u);
  EXPECT_EQ(forwarded(r, "router[1,0]"), S / C);
  expectLinkEnergy(r, S * H);
  // Idle path: no chunk ever waits.
  for (const char* router : {"router[0,0]", "router[1,0]", "router[2,0]", "router[3,0]"})
    EXPECT_EQ(record(r, router).histograms.at("queue_wait_ps").sum, 0) << router;
}

TEST(NetworkTest, CutThroughShortLastChunkWaitsBehindTheFullOne) {
  // S = 4000 = 15 * 256 + 160. The 160-byte tail leaves the injection link T(160) after chunk 14
  // and at every later port it arrives before chunk 14 has left, so it follows chunk 14 by T(160):
  //   arrival = H * (T(C) + L) + (ceil(S / C) - 2) * T(C) + T(S mod C)
  constexpr uint64_t S = 4000, C = 256;
  MeshConfig c = mesh(4, 2);
  c.mode = ForwardingMode::CutThrough;
  c.chunk = Bytes{C};
  c.flows = {{0, 3, Bytes{S}, SimTime::zero()}};
  const Results r = runEverywhere(buildMesh(c));
  const int64_t H = 5;
  EXPECT_EQ(latency(r, "endpoint[3,0]").min, H * (T(C) + kL) + 14 * T(C) + T(S % C));  // 210'960 ps
  EXPECT_EQ(forwarded(r, "router[1,0]"), 16u);
  EXPECT_EQ(record(r, "endpoint[3,0]").counters.at("bytes_received"), S);
  expectLinkEnergy(r, S * H);
}

TEST(NetworkTest, ManyFlowsOnATorusAreDeterministicAndConserveBytes) {
  // Pseudo-random all-to-all traffic with contention everywhere; runEverywhere checks the digests.
  MeshConfig c = mesh(4, 4, parseBandwidth("1.7 TB/s"));
  c.mode = ForwardingMode::CutThrough;
  c.chunk = Bytes{96};
  uint64_t state = 12345, bytes = 0;
  auto next = [&] { return (state = state * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
  for (int i = 0; i < 200; ++i) {
    const uint32_t src = static_cast<uint32_t>(next() % 16), dst = static_cast<uint32_t>(next() % 16);
    const uint64_t n = 1 + next() % 5000;
    bytes += n;
    c.flows.push_back({src, dst, Bytes{n}, SimTime::fromPs(static_cast<int64_t>(next() % 50'000))});
  }
  for (Routing routing : {Routing::XY, Routing::YX, Routing::ShortestPath}) {
    SCOPED_TRACE(toString(routing));
    c.routing = routing;
    const Results r = runEverywhere(buildTorus(c));
    EXPECT_EQ(total(r, "bytes_sent"), bytes);
    EXPECT_EQ(total(r, "bytes_received"), bytes);
    EXPECT_EQ(total(r, "messages_received"), 200u);
  }
}

TEST(NetworkTest, TwoFlowsShareOneLinkInFifoOrder) {
  // A 3x1 mesh. Flow A: endpoint[0,0] -> endpoint[2,0] at 0; flow B: endpoint[1,0] -> endpoint[2,0]
  // at T + L. Both reach router[1,0] at 2T + 2L (A after inject + one hop, B after inject) and
  // want its east port. Same time and priority: A's event comes from router[0,0] (id 0), B's from
  // endpoint[1,0] (id 3), so A goes first:
  //   router[1,0] east: A [2T+2L, 3T+2L], B waits T, [3T+2L, 4T+2L]
  //   router[2,0] eject: A arrives 3T+3L, [3T+3L, 4T+3L] -> delivered 4T+4L (latency 4T+4L)
  //                      B arrives 4T+3L, port just free  -> delivered 5T+4L (latency 4T+3L,
  //                      T more than B alone: 3T+3L)
  constexpr uint64_t S = 4096;
  const int64_t t = T(S);
  MeshConfig c = mesh(3, 1);
  c.flows = {{0, 2, Bytes{S}, SimTime::zero()}, {1, 2, Bytes{S}, SimTime::fromPs(t + kL)}};
  const Results r = runEverywhere(buildMesh(c));
  const HistogramRecord& lat = latency(r, "endpoint[2,0]");
  EXPECT_EQ(lat.count, 2u);
  EXPECT_EQ(lat.max, 4 * t + 4 * kL);  // A
  EXPECT_EQ(lat.min, 4 * t + 3 * kL);  // B
  EXPECT_EQ(r.simulatedTime(), SimTime::fromPs(5 * t + 4 * kL));
  EXPECT_EQ(record(r, "router[1,0]").histograms.at("queue_wait_ps").sum, t);
  EXPECT_EQ(record(r, "router[2,0]").histograms.at("queue_wait_ps").sum, 0);
  expectLinkEnergy(r, S * (4 + 3));
}

TEST(NetworkTest, TrafficReroutesAroundAFailedLink) {
  // 3x3 mesh, shortest-path routing, endpoint[0,0] -> endpoint[2,0]. Healthy: 0 -> 1 -> 2 (h = 2,
  // H = 4). With router[1,0] -- router[2,0] failed the shortest paths have h = 4; from router[0,0]
  // both east and south start one, and the tie goes to the lower port (p0, east):
  // 0 -> 1 -> 4 -> 5 -> 2, H = 6.
  constexpr uint64_t S = 1024;
  MeshConfig c = mesh(3, 3);
  c.routing = Routing::ShortestPath;
  c.flows = {{0, 2, Bytes{S}, SimTime::zero()}};
  const Network healthy = buildMesh(c);
  EXPECT_THAT(routePath(healthy, 0, 2), ::testing::ElementsAre(0u, 1u, 2u));
  EXPECT_EQ(latency(runEverywhere(healthy), "endpoint[2,0]").min, 4 * (T(S) + kL));

  c.failedLinks = {{1, 2}};
  const Network broken = buildMesh(c);
  EXPECT_THAT(routePath(broken, 0, 2), ::testing::ElementsAre(0u, 1u, 4u, 5u, 2u));
  const Results r = runEverywhere(broken);
  EXPECT_EQ(latency(r, "endpoint[2,0]").min, 6 * (T(S) + kL));
  EXPECT_EQ(forwarded(r, "router[1,1]"), 1u);
  EXPECT_EQ(forwarded(r, "router[2,1]"), 1u);
  expectLinkEnergy(r, S * 6);

  // Dimension-order routing cannot avoid the failed link: the builder says so.
  c.routing = Routing::XY;
  EXPECT_THROW(buildMesh(c), Error);
  // A failed link that is not a link.
  c.routing = Routing::ShortestPath;
  c.failedLinks = {{0, 8}};
  EXPECT_THROW(buildMesh(c), Error);
}

TEST(NetworkTest, XyAndYxTakeDifferentPathsOfEqualLength) {
  constexpr uint64_t S = 2048;
  MeshConfig c = mesh(3, 3);
  c.flows = {{0, 8, Bytes{S}, SimTime::zero()}};  // endpoint[0,0] -> endpoint[2,2]
  c.routing = Routing::XY;
  const Network xy = buildMesh(c);
  c.routing = Routing::YX;
  const Network yx = buildMesh(c);
  EXPECT_THAT(routePath(xy, 0, 8), ::testing::ElementsAre(0u, 1u, 2u, 5u, 8u));
  EXPECT_THAT(routePath(yx, 0, 8), ::testing::ElementsAre(0u, 3u, 6u, 7u, 8u));
  const Results rxy = runEverywhere(xy), ryx = runEverywhere(yx);
  EXPECT_EQ(latency(rxy, "endpoint[2,2]").min, 6 * (T(S) + kL));
  EXPECT_EQ(latency(ryx, "endpoint[2,2]").min, 6 * (T(S) + kL));
  EXPECT_EQ(forwarded(rxy, "router[2,0]"), 1u);
  EXPECT_EQ(forwarded(rxy, "router[0,2]"), 0u);
  EXPECT_EQ(forwarded(ryx, "router[2,0]"), 0u);
  EXPECT_EQ(forwarded(ryx, "router[0,2]"), 1u);
  EXPECT_NE(rxy.digestHex(), ryx.digestHex());
}

TEST(NetworkTest, TorusWrapAroundShortensPaths) {
  constexpr uint64_t S = 512;
  MeshConfig c = mesh(4, 4);
  c.flows = {{0, 3, Bytes{S}, SimTime::zero()}, {0, 12, Bytes{S}, SimTime::fromPs(1'000'000)}};
  const Network m = buildMesh(c), t = buildTorus(c);
  EXPECT_THAT(routePath(m, 0, 3), ::testing::ElementsAre(0u, 1u, 2u, 3u));
  EXPECT_THAT(routePath(t, 0, 3), ::testing::ElementsAre(0u, 3u));    // west over the wrap link
  EXPECT_THAT(routePath(t, 0, 12), ::testing::ElementsAre(0u, 12u));  // north over the wrap link
  // On a 4-ring a distance of 2 is a tie: east (south) wins.
  EXPECT_THAT(routePath(t, 0, 2), ::testing::ElementsAre(0u, 1u, 2u));
  const Results rm = runEverywhere(m), rt = runEverywhere(t);
  EXPECT_EQ(latency(rm, "endpoint[3,0]").min, 5 * (T(S) + kL));
  EXPECT_EQ(latency(rt, "endpoint[3,0]").min, 3 * (T(S) + kL));
  EXPECT_EQ(latency(rt, "endpoint[0,3]").min, 3 * (T(S) + kL));
  // Shortest-path routing on the torus finds the same wrap-around routes.
  c.routing = Routing::ShortestPath;
  const Network ts = buildTorus(c);
  EXPECT_THAT(routePath(ts, 0, 3), ::testing::ElementsAre(0u, 3u));
  EXPECT_EQ(latency(runEverywhere(ts), "endpoint[3,0]").min, 3 * (T(S) + kL));
}

TEST(NetworkTest, AsymmetricLinksAndLatencyWeightedShortestPaths) {
  // Any graph: a triangle r0 - r1 (slow: 20 ns), r0 - r2 - r1 (1 ns each); one endpoint per router
  // on p7. The r0 -> r2 direction has half the bandwidth of r2 -> r0.
  constexpr uint64_t S = 1000;
  const Bandwidth half{kB.bytesPerSecond / 2};
  NetworkDescription d;
  d.routerNames = {"r0", "r1", "r2"};
  d.endpointNames = {"e0", "e1", "e2"};
  const Duration ns = Duration::fromPs(1000), L = Duration::fromPs(kL);
  d.links = {{0, 1, 0, 0, Duration::fromPs(20'000), Duration::fromPs(20'000), kB, kB},
             {0, 2, 1, 0, ns, ns, half, kB},
             {2, 1, 1, 1, ns, ns, kB, kB}};
  for (uint32_t r = 0; r < 3; ++r) d.endpoints.push_back({r, 7, L, kB});
  d.energyPerBit = kE;
  d.flows = {{0, 1, Bytes{S}, SimTime::zero()}, {1, 0, Bytes{S}, SimTime::zero()}};
  const Network net = buildNetwork(d);
  EXPECT_THAT(routePath(net, 0, 1), ::testing::ElementsAre(0u, 2u, 1u));
  EXPECT_THAT(routePath(net, 1, 0), ::testing::ElementsAre(1u, 2u, 0u));
  const Results r = runEverywhere(net);
  // e0 -> e1: inject T + L, r0 -> r2 at half bandwidth 2T + 1 ns, r2 -> r1 T + 1 ns, eject T + L.
  EXPECT_EQ(latency(r, "e1").min, 5 * T(S) + 2 * kL + 2000);
  // e1 -> e0: every link at full bandwidth.
  EXPECT_EQ(latency(r, "e0").min, 4 * T(S) + 2 * kL + 2000);
}

TEST(NetworkTest, RejectsUnreachableDestinations) {
  NetworkDescription d;
  d.routerNames = {"r0", "r1"};
  d.endpointNames = {"e0", "e1"};
  d.endpoints = {{0, 0, Duration::fromPs(100), kB}, {1, 0, Duration::fromPs(100), kB}};
  d.flows = {{0, 1, Bytes{8}, SimTime::zero()}};
  EXPECT_THROW(buildNetwork(d), Error);  // no link between the routers
}

}  // namespace
}  // namespace wafersim::hw

namespace wafersim::hw {
namespace {

TEST(NetworkTest, AFailedDieIsMaskedOutAndRoutedAround) {
  // 3x3 mesh, shortest paths, the centre tile (router 4 and its endpoint) failed. endpoint[0,1]
  // -> endpoint[2,1] goes round it: h = 4 router hops, H = 6 links; the tie between north and
  // south goes to the lower port (p2, south).
  constexpr uint64_t S = 2048;
  MeshConfig c = mesh(3, 3);
  c.routing = Routing::ShortestPath;
  c.failedRouters = {4};
  c.flows = {{3, 5, Bytes{S}, SimTime::zero()}};
  const Network net = buildMesh(c);
  EXPECT_THAT(routePath(net, 3, 5), ::testing::ElementsAre(3u, 6u, 7u, 8u, 5u));
  const Results r = runEverywhere(net);
  EXPECT_EQ(latency(r, "endpoint[2,1]").min, 6 * (T(S) + kL));
  EXPECT_EQ(forwarded(r, "router[1,1]"), 0u);
  // The masked die can neither send nor receive; dimension-order routing cannot go round it.
  auto refused = [&](MeshConfig m) {
    try {
      buildMesh(m);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  MeshConfig to = c;
  to.flows = {{0, 4, Bytes{S}, SimTime::zero()}};
  EXPECT_THAT(refused(to), ::testing::HasSubstr("endpoint[1,1] is masked out (its router router[1,1] failed)"));
  MeshConfig xy = c;
  xy.routing = Routing::XY;
  EXPECT_THAT(refused(xy), ::testing::HasSubstr("failed link"));
}

// Checkpoints (sim/checkpoint.h): a 4x4 mesh under all-pairs cut-through traffic, stopped after
// its cuts on 2 partitions, resumes on 1, 3 and 4 (both strategies) to the results of the run
// never interrupted: routers' queues and totals, endpoints' half-received messages and energy
// remainders are in the cut.
TEST(NetworkTest, ACheckpointedMeshResumesOnOtherPartitionCountsToTheSameResults) {
  MeshConfig c = mesh(4, 4);
  c.mode = ForwardingMode::CutThrough;
  c.chunk = Bytes{512};
  for (uint32_t s = 0; s < 16; ++s)
    for (uint32_t d = 0; d < 16; ++d)
      if (s != d) c.flows.push_back({s, d, Bytes{4096 + 64 * ((s * 7 + d) % 13)}, SimTime::fromPs((s * 31 + d) * 5000)});
  const Network net = buildMesh(c);
  const size_t n = net.graph.components().size();
  auto run = [&](uint32_t partitions, SyncKind sync, SimTime end, const std::string& dir,
                 std::shared_ptr<const CheckpointImage> resume) {
    ComponentRegistry registry;
    registerBuiltinComponents(registry);
    RunOptions options;
    options.sync = sync;
    options.end = end;
    options.checker = true;
    options.checkpoint.dir = dir;
    options.checkpoint.every = Duration::fromPs(200'000);
    options.resume = std::move(resume);
    return runInProcess(net.graph, registry, PartitionMap::linear(n, partitions), options);
  };
  const RunReport reference = run(1, SyncKind::Window, SimTime::never(), "", nullptr);
  ASSERT_GT(reference.results.simulatedTime(), SimTime::fromPs(1'000'000));
  wafersim::testing::TempDir dir("wafersim-mesh-resume");
  const std::string folder = (dir / "checkpoints").string();
  const RunReport first = run(2, SyncKind::Window, SimTime::fromPs(900'000), folder, nullptr);
  ASSERT_GE(first.partitions[0].checkpoint.written, 3u);
  const auto image = std::make_shared<const CheckpointImage>(loadLatestCheckpoint(folder));
  ASSERT_GT(image->events.size(), 0u) << "nothing in flight at the cut: the test proves little";
  for (uint32_t partitions : {1u, 3u, 4u})
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
      SCOPED_TRACE(std::to_string(partitions) + " partitions, " + toString(sync));
      const RunReport resumed = run(partitions, sync, SimTime::never(), "", image);
      EXPECT_EQ(resumed.results.digestHex(), reference.results.digestHex());
      EXPECT_EQ(resumed.results.toJson(), reference.results.toJson());
    }
}

}  // namespace
}  // namespace wafersim::hw
