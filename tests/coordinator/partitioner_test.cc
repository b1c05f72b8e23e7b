#include "coordinator/partitioner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "sim/error.h"

namespace wafersim {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Throws Error{kind} whose message contains every fragment.
template <typename F>
void expectError(F&& f, ErrorKind kind, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const auto& frag : fragments) EXPECT_THAT(e.what(), HasSubstr(frag));
  }
}

std::string nodeName(int x, int y) { return "n[" + std::to_string(x) + "," + std::to_string(y) + "]"; }

// A size x size mesh of `block` x `block` groups: links inside a group take `fast`, links between
// groups `slow`. Loads are `load(x, y)`.
template <typename LoadFn>
SystemGraph blockMesh(int size, int block, Duration fast, Duration slow, LoadFn load) {
  SystemGraph g;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) g.addComponent(nodeName(x, y), "test.Node", {}, load(x, y));
  auto id = [&](int x, int y) { return static_cast<ComponentId>(y * size + x); };
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      if (x + 1 < size) g.connect(id(x, y), "e", id(x + 1, y), "w", (x + 1) % block == 0 ? slow : fast);
      if (y + 1 < size) g.connect(id(x, y), "s", id(x, y + 1), "n", (y + 1) % block == 0 ? slow : fast);
    }
  return g;
}

SystemGraph mesh8x8() { return blockMesh(8, 4, 10_ps, 1_ns, [](int, int) { return 1.0; }); }

int blockOf(ComponentId id, int size, int block) {
  int x = static_cast<int>(id) % size, y = static_cast<int>(id) / size;
  return (y / block) * (size / block) + x / block;
}

// The lookahead floor per ordered pair, recomputed the simple way.
std::map<std::pair<PartitionId, PartitionId>, Duration> bruteFloor(const SystemGraph& g, const PartitionMap& map) {
  std::map<std::pair<PartitionId, PartitionId>, Duration> floor;
  auto note = [&](PartitionId a, PartitionId b, Duration d) {
    if (a == b) return;
    auto key = std::make_pair(a, b);
    if (!floor.count(key) || d < floor[key]) floor[key] = d;
  };
  for (const auto& l : g.links()) {
    note(map.of[l.a], map.of[l.b], l.latencyAB);
    note(map.of[l.b], map.of[l.a], l.latencyBA);
  }
  for (const auto& f : g.fabrics())
    for (ComponentId m : f.members)
      for (ComponentId k : f.members) note(map.of[m], map.of[k], f.latency);
  return floor;
}

void expectLookaheadMatches(const SystemGraph& g, const PartitionPlan& plan) {
  auto expected = bruteFloor(g, plan.map);
  ASSERT_EQ(plan.lookahead.size(), expected.size());
  for (const auto& la : plan.lookahead) {
    auto it = expected.find({la.from, la.to});
    ASSERT_NE(it, expected.end()) << la.from << "->" << la.to;
    EXPECT_EQ(la.floor, it->second) << la.from << "->" << la.to;
  }
  EXPECT_TRUE(std::is_sorted(plan.lookahead.begin(), plan.lookahead.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.from, a.to) < std::make_pair(b.from, b.to);
  }));
}

TEST(PartitionerKind, ParsesAndPrints) {
  for (auto kind : {PartitionerKind::Metis, PartitionerKind::Linear, PartitionerKind::RoundRobin,
                    PartitionerKind::Pinned})
    EXPECT_EQ(parsePartitionerKind(toString(kind)), kind);
  EXPECT_STREQ(toString(PartitionerKind::RoundRobin), "round-robin");
  expectError([] { parsePartitionerKind("scotch"); }, ErrorKind::InvalidConfig, {"scotch", "metis"});
}

TEST(Partitioner, MetisIsBuiltIn) { EXPECT_TRUE(metisAvailable()); }

TEST(Partitioner, MetisTwoPartitionsCutsOnlySlowLinks) {
  SystemGraph g = mesh8x8();
  PartitionPlan plan = partitionGraph(g, 2, PartitionerKind::Metis);
  EXPECT_EQ(plan.map.partitions, 2u);
  EXPECT_THAT(plan.method, HasSubstr("metis"));
  for (const auto& cut : plan.cut) {
    ASSERT_EQ(cut.kind, CutLink::Kind::Link);
    EXPECT_EQ(cut.latencyAB, 1_ns) << g.component(cut.a).name << " - " << g.component(cut.b).name;
  }
  // Each 4x4 block whole: two blocks a side, 8 slow links cut.
  std::map<int, std::set<PartitionId>> partsOfBlock;
  for (ComponentId c = 0; c < 64; ++c) partsOfBlock[blockOf(c, 8, 4)].insert(plan.map.of[c]);
  for (const auto& [block, parts] : partsOfBlock) EXPECT_EQ(parts.size(), 1u) << "block " << block << " split";
  EXPECT_EQ(plan.cut.size(), 8u);
  EXPECT_LE(plan.imbalance, 1.05);
  EXPECT_EQ(plan.components, (std::vector<size_t>{32, 32}));
  ASSERT_EQ(plan.lookahead.size(), 2u);
  EXPECT_EQ(plan.lookahead[0].floor, 1_ns);
  EXPECT_EQ(plan.lookahead[1].floor, 1_ns);
  std::cout << "8x8 mesh, 2 partitions: method " << plan.method << ", imbalance " << plan.imbalance << ", cut "
            << plan.cut.size() << " links, lookahead floor " << toString(plan.lookahead[0].floor) << "\n";
}

TEST(Partitioner, MetisFourPartitionsFollowsTheBlocks) {
  SystemGraph g = mesh8x8();
  PartitionPlan plan = partitionGraph(g, 4, PartitionerKind::Metis);
  std::map<int, std::set<PartitionId>> partsOfBlock;
  for (ComponentId c = 0; c < 64; ++c) partsOfBlock[blockOf(c, 8, 4)].insert(plan.map.of[c]);
  std::set<PartitionId> used;
  for (const auto& [block, parts] : partsOfBlock) {
    EXPECT_EQ(parts.size(), 1u) << "block " << block << " split";
    used.insert(*parts.begin());
  }
  EXPECT_EQ(used.size(), 4u);
  for (const auto& cut : plan.cut) EXPECT_EQ(cut.latencyAB, 1_ns);
  EXPECT_EQ(plan.cut.size(), 16u);
  EXPECT_LE(plan.imbalance, 1.05);
  EXPECT_DOUBLE_EQ(plan.cutTraffic, 16.0);
  // Diagonal blocks share no link: 4 neighbouring pairs, both directions.
  EXPECT_EQ(plan.lookahead.size(), 8u);
  for (const auto& la : plan.lookahead) EXPECT_EQ(la.floor, 1_ns);
  expectLookaheadMatches(g, plan);
  std::cout << "8x8 mesh, 4 partitions: method " << plan.method << ", imbalance " << plan.imbalance << ", cut "
            << plan.cut.size() << " links, " << plan.lookahead.size() << " peer pairs\n";
}

TEST(Partitioner, MetisIsDeterministic) {
  SystemGraph g = blockMesh(16, 4, 10_ps, 1_ns, [](int x, int y) { return 1.0 + (x * 7 + y * 3) % 5; });
  for (uint32_t parts : {2u, 3u, 5u, 8u, 16u}) {
    PartitionPlan a = partitionGraph(g, parts, PartitionerKind::Metis);
    PartitionPlan b = partitionGraph(g, parts, PartitionerKind::Metis);
    EXPECT_EQ(a.map.of, b.map.of) << parts;
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(toJson(a, g), toJson(b, g));
  }
}

TEST(Partitioner, MetisBalancesUnevenLoad) {
  // Left half four times as heavy: a balanced split is not the geometric one.
  SystemGraph g = blockMesh(16, 4, 10_ps, 1_ns, [](int x, int) { return x < 8 ? 4.0 : 1.0; });
  for (uint32_t parts : {2u, 4u, 8u}) {
    PartitionPlan plan = partitionGraph(g, parts, PartitionerKind::Metis);
    EXPECT_LE(plan.imbalance, 1.05) << parts << " partitions, " << plan.method;
    expectLookaheadMatches(g, plan);
  }
}

TEST(Partitioner, OnePartition) {
  SystemGraph g = mesh8x8();
  for (auto kind : {PartitionerKind::Metis, PartitionerKind::Linear, PartitionerKind::RoundRobin}) {
    PartitionPlan plan = partitionGraph(g, 1, kind);
    EXPECT_EQ(plan.map.of, std::vector<PartitionId>(64, 0));
    EXPECT_TRUE(plan.cut.empty());
    EXPECT_TRUE(plan.lookahead.empty());
    EXPECT_DOUBLE_EQ(plan.imbalance, 1.0);
    EXPECT_EQ(plan.load, std::vector<double>{64.0});
  }
}

TEST(Partitioner, GraphWithoutEdgesIsBalanced) {
  SystemGraph g;
  for (int i = 0; i < 12; ++i) g.addComponent("c" + std::to_string(i), "test.Node", {}, 1.0 + i % 4);
  PartitionPlan plan = partitionGraph(g, 3, PartitionerKind::Metis);
  EXPECT_TRUE(plan.cut.empty());
  EXPECT_TRUE(plan.lookahead.empty());
  EXPECT_DOUBLE_EQ(plan.imbalance, 1.0);  // 30 = 10 + 10 + 10
  for (uint32_t p = 0; p < 3; ++p) EXPECT_GT(plan.components[p], 0u);
}

TEST(Partitioner, AsManyPartitionsAsComponents) {
  SystemGraph g = mesh8x8();
  PartitionPlan plan = partitionGraph(g, 64, PartitionerKind::Metis);
  std::set<PartitionId> parts(plan.map.of.begin(), plan.map.of.end());
  EXPECT_EQ(parts.size(), 64u);
  EXPECT_EQ(plan.cut.size(), g.links().size());
  expectLookaheadMatches(g, plan);
}

TEST(Partitioner, ZeroLatencyLinksAreNeverCut) {
  // A ring of 24 where every pair (2i, 2i+1) is joined with zero latency and is the heaviest
  // traffic-free link; the only way to cut is between pairs.
  SystemGraph g;
  for (int i = 0; i < 24; ++i) g.addComponent("r" + std::to_string(i), "test.Node");
  for (int i = 0; i < 24; ++i)
    g.connect(i, "next", (i + 1) % 24, "prev", i % 2 == 0 ? 0_ps : 10_ps, i % 2 == 0 ? 0.0 : 100.0);
  // And one asymmetric link that is zero one way only.
  g.connectAsymmetric(3, "x", 20, "x", 5_ns, 0_ps);
  for (uint32_t parts : {2u, 3u, 4u, 6u, 11u}) {
    PartitionPlan plan = partitionGraph(g, parts, PartitionerKind::Metis);
    for (const auto& cut : plan.cut) {
      EXPECT_GT(cut.latencyAB, 0_ps);
      EXPECT_GT(cut.latencyBA, 0_ps);
    }
    EXPECT_EQ(plan.map.of[3], plan.map.of[20]);
    expectLookaheadMatches(g, plan);
  }
  // 24 components, but only 11 groups: {3,2,20,21} and 10 other pairs.
  expectError([&] { partitionGraph(g, 12, PartitionerKind::Metis); }, ErrorKind::InvalidConfig,
              {"24 components", "12 partitions", "11 groups", "zero-latency"});
  // Round-robin cuts them: the kernel's check names the component and the port.
  expectError([&] { partitionGraph(g, 2, PartitionerKind::RoundRobin); }, ErrorKind::InvalidConfig,
              {"component r0 (test.Node) port next", "zero latency"});
}

TEST(Partitioner, ZeroLatencyFabricStaysWhole) {
  SystemGraph g = mesh8x8();
  // Tie the two diagonal blocks' corners together with a zero-latency fabric.
  g.addFabric("tie", "t", {0, 63, 7}, 0_ps);
  PartitionPlan plan = partitionGraph(g, 4, PartitionerKind::Metis);
  EXPECT_EQ(plan.map.of[0], plan.map.of[63]);
  EXPECT_EQ(plan.map.of[0], plan.map.of[7]);
  EXPECT_LE(plan.imbalance, 1.1);
  for (const auto& cut : plan.cut) EXPECT_EQ(cut.kind, CutLink::Kind::Link);
}

TEST(Partitioner, LinearAndRoundRobin) {
  SystemGraph g = mesh8x8();
  PartitionPlan lin = partitionGraph(g, 4, PartitionerKind::Linear);
  EXPECT_EQ(lin.map.of, PartitionMap::linear(64, 4).of);
  EXPECT_EQ(lin.method, "linear");
  EXPECT_EQ(lin.kind, PartitionerKind::Linear);
  // Rows 0-1, 2-3, 4-5, 6-7: row 1|2 and 5|6 are fast (inside blocks), 3|4 slow.
  EXPECT_EQ(lin.cut.size(), 24u);
  expectLookaheadMatches(g, lin);
  std::set<std::pair<PartitionId, PartitionId>> pairs;
  for (const auto& la : lin.lookahead) pairs.insert({la.from, la.to});
  EXPECT_EQ(pairs, (std::set<std::pair<PartitionId, PartitionId>>{{0, 1}, {1, 0}, {1, 2}, {2, 1}, {2, 3}, {3, 2}}));
  EXPECT_EQ(lin.lookahead[0].floor, 10_ps);  // 0 -> 1 crosses inside the top blocks
  EXPECT_EQ(lin.lookahead[2].floor, 1_ns);   // 1 -> 2 only across the block boundary

  PartitionPlan rr = partitionGraph(g, 3, PartitionerKind::RoundRobin);
  EXPECT_EQ(rr.map.of, PartitionMap::roundRobin(64, 3).of);
  EXPECT_EQ(rr.components, (std::vector<size_t>{22, 21, 21}));
  EXPECT_NEAR(rr.imbalance, 22.0 / (64.0 / 3.0), 1e-12);
  expectLookaheadMatches(g, rr);
}

TEST(Partitioner, LookaheadIsTheMinimumCutLatencyPerDirection) {
  // A chain with asymmetric latencies and a fabric across everything.
  SystemGraph g;
  for (int i = 0; i < 6; ++i) g.addComponent("c" + std::to_string(i), "test.Node");
  g.connectAsymmetric(0, "r", 1, "l", 30_ps, 70_ps);
  g.connectAsymmetric(1, "r", 2, "l", 50_ps, 20_ps);   // cut 0|1 (linear into 3: {0,1},{2,3},{4,5})
  g.connectAsymmetric(2, "r", 3, "l", 5_ps, 5_ps);
  g.connectAsymmetric(3, "r", 4, "l", 400_ps, 300_ps);  // cut 1|2
  g.connectAsymmetric(4, "r", 5, "l", 1_ps, 1_ps);
  g.connectAsymmetric(0, "x", 3, "x", 45_ps, 15_ps);    // another 0|1 cut: 0->1 45, 1->0 15
  g.addFabric("bus", "bus", {1, 5}, 250_ps);           // 0|2 via the fabric only
  PartitionPlan plan = partitionGraph(g, 3, PartitionerKind::Linear);
  expectLookaheadMatches(g, plan);
  std::map<std::pair<PartitionId, PartitionId>, Duration> got;
  for (const auto& la : plan.lookahead) got[{la.from, la.to}] = la.floor;
  EXPECT_EQ(got.at({0, 1}), 45_ps);
  EXPECT_EQ(got.at({1, 0}), 15_ps);
  EXPECT_EQ(got.at({1, 2}), 400_ps);  // 400 ps one way ...
  EXPECT_EQ(got.at({2, 1}), 300_ps);                  // ... 300 ps back
  EXPECT_EQ(got.at({0, 2}), 250_ps);
  EXPECT_EQ(got.at({2, 0}), 250_ps);
  // Cut entries are oriented from the lower partition.
  ASSERT_EQ(plan.cut.size(), 4u);
  const CutLink& c12 = plan.cut[0];  // link 1-2, a in partition 0
  EXPECT_EQ(c12.a, 1u);
  EXPECT_EQ(c12.latencyAB, 50_ps);
  EXPECT_EQ(plan.cut.back().kind, CutLink::Kind::Fabric);
  EXPECT_EQ(plan.cut.back().pairs, 1u);
}

TEST(Partitioner, FabricsArePartitionedAsCompleteGraphs) {
  // Two 16-member fabrics (fast), joined by one slow link: METIS keeps each fabric whole.
  SystemGraph g;
  std::vector<ComponentId> left, right;
  for (int i = 0; i < 32; ++i) (i < 16 ? left : right).push_back(g.addComponent("m" + std::to_string(i), "t"));
  g.addFabric("left", "f", left, 20_ps);
  g.addFabric("right", "f", right, 20_ps);
  g.connect(left.back(), "x", right.front(), "x", 2_ns);
  PartitionPlan plan = partitionGraph(g, 2, PartitionerKind::Metis);
  ASSERT_EQ(plan.cut.size(), 1u);
  EXPECT_EQ(plan.cut[0].kind, CutLink::Kind::Link);
  EXPECT_EQ(plan.lookahead[0].floor, 2_ns);
  // Four partitions must split the fabrics: pairs counted, floor is the fabric latency.
  PartitionPlan four = partitionGraph(g, 4, PartitionerKind::Metis);
  EXPECT_LE(four.imbalance, 1.05);
  uint64_t pairs = 0;
  for (const auto& c : four.cut)
    if (c.kind == CutLink::Kind::Fabric) pairs += c.pairs;
  EXPECT_EQ(pairs, 2u * 8u * 8u);
  expectLookaheadMatches(g, four);
}

TEST(Partitioner, BigFabricUsesTheSparseStandIn) {
  SystemGraph g;
  std::vector<ComponentId> members;
  for (int i = 0; i < 3000; ++i) members.push_back(g.addComponent("lp" + std::to_string(i), "t", {}, 1.0 + i % 3));
  g.addFabric("all", "any", members, 100_ps);
  PartitionPlan a = partitionGraph(g, 4, PartitionerKind::Metis);
  PartitionPlan b = partitionGraph(g, 4, PartitionerKind::Metis);
  EXPECT_EQ(a.map.of, b.map.of);
  EXPECT_LE(a.imbalance, 1.05);
  EXPECT_EQ(a.lookahead.size(), 12u);
  for (const auto& la : a.lookahead) EXPECT_EQ(la.floor, 100_ps);
}

TEST(Partitioner, Pinned) {
  SystemGraph g = mesh8x8();
  std::vector<PartitionId> pins(64);
  for (ComponentId c = 0; c < 64; ++c) pins[c] = static_cast<PartitionId>(blockOf(c, 8, 4));
  PartitionPlan plan = partitionGraph(g, 4, PartitionerKind::Pinned, &pins);
  EXPECT_EQ(plan.map.of, pins);
  EXPECT_EQ(plan.cut.size(), 16u);
  EXPECT_DOUBLE_EQ(plan.imbalance, 1.0);

  expectError([&] { partitionGraph(g, 4, PartitionerKind::Pinned); }, ErrorKind::InvalidConfig,
              {"pinned", "no partition map"});
  std::vector<PartitionId> shortMap(63, 0);
  expectError([&] { partitionGraph(g, 4, PartitionerKind::Pinned, &shortMap); }, ErrorKind::InvalidConfig,
              {"63 entries", "64 components"});
  std::vector<PartitionId> outOfRange = pins;
  outOfRange[9] = 4;
  expectError([&] { partitionGraph(g, 4, PartitionerKind::Pinned, &outOfRange); }, ErrorKind::InvalidConfig,
              {"component n[1,1] (test.Node)", "partition 4", "only 4 partitions"});
  std::vector<PartitionId> emptyPart = pins;
  for (auto& p : emptyPart)
    if (p == 2) p = 0;
  expectError([&] { partitionGraph(g, 4, PartitionerKind::Pinned, &emptyPart); }, ErrorKind::InvalidConfig,
              {"partition 2 of 4", "no components"});
}

TEST(Partitioner, Errors) {
  SystemGraph g = mesh8x8();
  expectError([&] { partitionGraph(g, 0, PartitionerKind::Metis); }, ErrorKind::InvalidConfig,
              {"at least one partition"});
  expectError([&] { partitionGraph(g, 65, PartitionerKind::Metis); }, ErrorKind::InvalidConfig,
              {"65 partitions", "64 components"});
  expectError([&] { partitionGraph(g, 100, PartitionerKind::Linear); }, ErrorKind::InvalidConfig,
              {"100 partitions", "64 components"});
  SystemGraph empty;
  expectError([&] { partitionGraph(empty, 1, PartitionerKind::Metis); }, ErrorKind::InvalidConfig,
              {"no components"});
  SystemGraph bad;
  bad.addComponent("heavy", "test.Node", {}, -1.0);
  expectError([&] { partitionGraph(bad, 1, PartitionerKind::Metis); }, ErrorKind::InvalidConfig,
              {"component heavy (test.Node)", "expected load"});
}

TEST(Partitioner, PartitionJson) {
  SystemGraph g = mesh8x8();
  g.addFabric("bus", "bus", {0, 63}, 3_ns);
  PartitionPlan plan = partitionGraph(g, 4, PartitionerKind::Metis);
  nlohmann::json doc = toJson(plan, g);
  EXPECT_EQ(doc["partitioner"], "metis");
  EXPECT_EQ(doc["partitions"], 4);
  ASSERT_EQ(doc["components"].size(), 64u);
  EXPECT_EQ(doc["components"][9]["name"], "n[1,1]");
  EXPECT_EQ(doc["components"][9]["partition"], plan.map.of[9]);
  EXPECT_EQ(doc["load"].size(), 4u);
  EXPECT_DOUBLE_EQ(doc["imbalance"].get<double>(), plan.imbalance);
  EXPECT_EQ(doc["cut"]["links"], 16);
  EXPECT_EQ(doc["cut"]["fabric_pairs"], 1);
  EXPECT_EQ(doc["cut"]["items"].size(), plan.cut.size());
  const auto& first = doc["cut"]["items"][0];
  EXPECT_EQ(first["kind"], "link");
  EXPECT_EQ(first["latency_ab_ps"], 1000);
  EXPECT_TRUE(first["a"].contains("component") && first["a"].contains("port"));
  const auto& last = doc["cut"]["items"].back();
  EXPECT_EQ(last["kind"], "fabric");
  EXPECT_EQ(last["fabric"], "bus");
  EXPECT_EQ(last["latency_ps"], 3000);
  EXPECT_EQ(doc["lookahead"].size(), plan.lookahead.size());
  EXPECT_EQ(doc["lookahead"][0]["floor_ps"], plan.lookahead[0].floor.ps());
  EXPECT_EQ(doc["lookahead_floor_ps"], 1000);
  // The cut's port names follow the orientation (a lies in the lower partition).
  for (const auto& item : doc["cut"]["items"]) {
    if (item["kind"] != "link") continue;
    const std::string a = item["a"]["component"], b = item["b"]["component"];
    EXPECT_LT(plan.map.of[std::find_if(g.components().begin(), g.components().end(),
                                       [&](const auto& c) { return c.name == a; })->id],
              plan.map.of[std::find_if(g.components().begin(), g.components().end(),
                                       [&](const auto& c) { return c.name == b; })->id]);
  }
}

// Hybrid nodes: partitions that share fast links share a node, so that nodes cut only the slow ones.
TEST(NodeLayout, KeepsFastLinksInsideANode) {
  SystemGraph g;
  for (int i = 0; i < 4; ++i) g.addComponent("c" + std::to_string(i), "test.Node", {}, 1.0);
  g.connect(0, "e", 1, "w", 1_ns);
  g.connect(1, "e", 2, "w", 10_ns);
  g.connect(2, "e", 3, "w", 1_ns);
  const PartitionPlan plan = describePartitioning(g, PartitionMap::linear(4, 4));
  const NodeLayout layout = layoutOnNodes(plan, 2);
  EXPECT_EQ(layout.nodeOf, (std::vector<uint32_t>{0, 0, 1, 1}));
  EXPECT_EQ(layout.cutLinks, 1u);
  EXPECT_EQ(layout.lookaheadFloor, 10_ns);
  // One node: nothing between nodes.
  const NodeLayout one = layoutOnNodes(plan, 1);
  EXPECT_EQ(one.nodeOf, (std::vector<uint32_t>{0, 0, 0, 0}));
  EXPECT_EQ(one.cutLinks, 0u);
}

TEST(NodeLayout, GroupsNeighbouringBlocksIntoQuadrants) {
  // 16 partitions, the 2x2 blocks of an 8x8 mesh; 4 nodes should take a quadrant of blocks each.
  const SystemGraph g = blockMesh(8, 2, 10_ps, 1_ns, [](int, int) { return 1.0; });
  std::vector<PartitionId> pinned;
  for (ComponentId c = 0; c < g.components().size(); ++c) pinned.push_back(static_cast<PartitionId>(blockOf(c, 8, 2)));
  const PartitionPlan plan = partitionGraph(g, 16, PartitionerKind::Pinned, &pinned);
  const NodeLayout layout = layoutOnNodes(plan, 4);
  std::map<uint32_t, std::set<int>> quadrants;  // node -> quadrants of its blocks
  std::vector<int> sizes(4, 0);
  for (uint32_t block = 0; block < 16; ++block) {
    quadrants[layout.nodeOf[block]].insert(static_cast<int>((block / 4) / 2 * 2 + (block % 4) / 2));
    ++sizes[layout.nodeOf[block]];
  }
  for (uint32_t node = 0; node < 4; ++node) {
    EXPECT_EQ(sizes[node], 4) << "node " << node;
    EXPECT_EQ(quadrants[node].size(), 1u) << "node " << node << " spans quadrants";
  }
  EXPECT_EQ(layout.cutLinks, 16u);  // the links across the two middle lines of the mesh

  // Uneven: 16 partitions on 3 nodes host 6, 5 and 5.
  const NodeLayout three = layoutOnNodes(plan, 3);
  std::vector<int> count(3, 0);
  for (uint32_t node : three.nodeOf) ++count[node];
  std::sort(count.begin(), count.end());
  EXPECT_EQ(count, (std::vector<int>{5, 5, 6}));
  expectError([&] { layoutOnNodes(plan, 17); }, ErrorKind::InvalidConfig, {"16 partitions cannot fill 17 nodes"});
}

}  // namespace
}  // namespace wafersim
