#include "coordinator/partitioner.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <utility>

#include "sim/error.h"

// METIS is found by cmake/FindMETIS.cmake; the build may say so with -DWAFERSIM_HAVE_METIS=0/1,
// else the header's presence decides (Debian's libmetis-dev ships header and library together).
#ifndef WAFERSIM_HAVE_METIS
#if __has_include(<metis.h>)
#define WAFERSIM_HAVE_METIS 1
#else
#define WAFERSIM_HAVE_METIS 0
#endif
#endif

#if WAFERSIM_HAVE_METIS
#include <metis.h>
#endif

namespace wafersim {

bool metisAvailable() { return WAFERSIM_HAVE_METIS != 0; }

namespace {

// A link's or fabric's latency for weighting and contraction: the smaller direction, since that
// one bounds the lookahead.
Duration effectiveLatency(const LinkSpec& l) { return min(l.latencyAB, l.latencyBA); }

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct UnionFind {
  std::vector<uint32_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0u); }
  uint32_t find(uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(uint32_t a, uint32_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

// The graph METIS sees: components joined by zero-latency links or fabrics merged into one
// vertex (they must share a partition), parallel edges summed, weights scaled to integers.
struct WeightedGraph {
  std::vector<uint32_t> vertexOf;  // component -> vertex
  size_t vertices = 0;
  std::vector<int64_t> vwgt;
  std::vector<int64_t> xadj, adjncy, adjwgt;  // CSR, both directions
  size_t edges() const { return adjncy.size() / 2; }
};

struct RawEdge {
  uint32_t u, v;
  double w;
};

constexpr double kWeightBudget = double(1 << 29);  // the total of either weight kind stays below this

double loadOf(const ComponentSpec& c, const PartitionProfile* profile) {
  return profile ? profile->load[c.id] : c.expectedLoad;
}
double trafficOf(const SystemGraph& graph, size_t link, const PartitionProfile* profile) {
  return profile ? profile->linkTraffic[link] : graph.links()[link].expectedTraffic;
}

WeightedGraph buildWeightedGraph(const SystemGraph& graph, const PartitionProfile* profile) {
  const auto& comps = graph.components();
  const size_t n = comps.size();
  WeightedGraph g;

  UnionFind uf(n);
  for (const auto& l : graph.links())
    if (effectiveLatency(l) <= Duration::zero()) uf.unite(l.a, l.b);
  for (const auto& f : graph.fabrics())
    if (f.latency <= Duration::zero())
      for (ComponentId m : f.members) uf.unite(f.members.front(), m);
  // Vertices numbered in the order of their smallest component id: deterministic.
  g.vertexOf.assign(n, 0);
  std::vector<int64_t> vertexOfRoot(n, -1);
  for (size_t c = 0; c < n; ++c) {
    uint32_t r = uf.find(static_cast<uint32_t>(c));
    if (vertexOfRoot[r] < 0) vertexOfRoot[r] = static_cast<int64_t>(g.vertices++);
    g.vertexOf[c] = static_cast<uint32_t>(vertexOfRoot[r]);
  }

  // Vertex weights: expectedLoad scaled so that the total stays within the budget; every vertex
  // weighs at least 1 (a zero-load component still occupies a slot).
  std::vector<double> load(g.vertices, 0.0);
  double totalLoad = 0;
  for (const auto& c : comps) {
    load[g.vertexOf[c.id]] += loadOf(c, profile);
    totalLoad += loadOf(c, profile);
  }
  const double vscale = totalLoad > 0 ? (kWeightBudget - double(g.vertices)) / totalLoad : 0.0;
  g.vwgt.resize(g.vertices);
  for (size_t v = 0; v < g.vertices; ++v) g.vwgt[v] = std::max<int64_t>(1, std::llround(load[v] * vscale));

  // Edge weights: traffic * L_ref / latency.
  int64_t lref = 0;
  for (const auto& l : graph.links()) lref = std::max(lref, effectiveLatency(l).ps());
  for (const auto& f : graph.fabrics()) lref = std::max(lref, f.latency.ps());
  std::vector<RawEdge> raw;
  auto addEdge = [&](ComponentId a, ComponentId b, double w) {
    uint32_t u = g.vertexOf[a], v = g.vertexOf[b];
    if (u == v) return;
    if (u > v) std::swap(u, v);
    raw.push_back({u, v, w});
  };
  for (size_t i = 0; i < graph.links().size(); ++i) {
    const auto& l = graph.links()[i];
    Duration lat = effectiveLatency(l);
    if (lat <= Duration::zero()) continue;  // contracted
    addEdge(l.a, l.b, trafficOf(graph, i, profile) * (double(lref) / double(lat.ps())));
  }
  for (size_t fi = 0; fi < graph.fabrics().size(); ++fi) {
    const auto& f = graph.fabrics()[fi];
    if (f.latency <= Duration::zero() || f.members.size() < 2) continue;
    const double w = f.expectedTraffic * (double(lref) / double(f.latency.ps()));
    const size_t m = f.members.size();
    if (m <= kFabricCompleteLimit) {
      for (size_t i = 0; i < m; ++i)
        for (size_t j = i + 1; j < m; ++j) addEdge(f.members[i], f.members[j], w);
    } else {
      // Sparse stand-in: a ring plus kFabricChords chords per member to pseudo-random members
      // (splitmix64 of fabric index, member index and chord number). Each member has about
      // 2 + 2 * kFabricChords incident edges instead of m - 1, so each edge carries
      // w * (m - 1) / (2 + 2 * kFabricChords) to keep its total incident weight.
      const double ws = w * double(m - 1) / double(2 + 2 * kFabricChords);
      for (size_t i = 0; i < m; ++i) {
        addEdge(f.members[i], f.members[(i + 1) % m], ws);
        for (size_t c = 0; c < kFabricChords; ++c) {
          size_t j = splitmix64((uint64_t(fi) << 40) ^ (uint64_t(i) << 8) ^ c) % m;
          if (j == i) j = (j + 1) % m;
          addEdge(f.members[i], f.members[j], ws);
        }
      }
    }
  }
  std::sort(raw.begin(), raw.end(), [](const RawEdge& x, const RawEdge& y) {
    return x.u != y.u ? x.u < y.u : x.v < y.v;
  });
  size_t out = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (out > 0 && raw[out - 1].u == raw[i].u && raw[out - 1].v == raw[i].v)
      raw[out - 1].w += raw[i].w;
    else
      raw[out++] = raw[i];
  }
  raw.resize(out);
  WAFERSIM_REQUIRE(double(raw.size()) < kWeightBudget / 2, "partitioner: graph too large (", raw.size(),
                   " distinct edges)");

  // Scale so that the sum of all integer weights (each edge counted once) stays below the
  // budget: sum(max(1, round(w * s))) <= s * total + edges.
  double totalW = 0;
  for (const auto& e : raw) totalW += e.w;
  const double escale = totalW > 0 ? (kWeightBudget - double(raw.size())) / totalW : 0.0;
  std::vector<int64_t> degree(g.vertices, 0);
  for (const auto& e : raw) ++degree[e.u], ++degree[e.v];
  g.xadj.assign(g.vertices + 1, 0);
  for (size_t v = 0; v < g.vertices; ++v) g.xadj[v + 1] = g.xadj[v] + degree[v];
  g.adjncy.resize(raw.size() * 2);
  g.adjwgt.resize(raw.size() * 2);
  std::vector<int64_t> fill(g.xadj.begin(), g.xadj.end() - 1);
  for (const auto& e : raw) {  // sorted by (u, v): every adjacency list ends up sorted
    int64_t iw = std::max<int64_t>(1, std::llround(e.w * escale));
    g.adjncy[fill[e.u]] = e.v, g.adjwgt[fill[e.u]++] = iw;
  }
  for (const auto& e : raw) {
    int64_t iw = std::max<int64_t>(1, std::llround(e.w * escale));
    g.adjncy[fill[e.v]] = e.u, g.adjwgt[fill[e.v]++] = iw;
  }
  return g;
}

// Moves vertices into empty partitions: from the partition with the most vertices (lowest id on
// ties), its lightest vertex (lowest index on ties). Needs vertices >= partitions.
void repairEmpty(const WeightedGraph& g, uint32_t partitions, std::vector<uint32_t>& part) {
  std::vector<size_t> count(partitions, 0);
  for (uint32_t p : part) ++count[p];
  for (uint32_t empty = 0; empty < partitions; ++empty) {
    if (count[empty] > 0) continue;
    uint32_t donor = 0;
    for (uint32_t p = 1; p < partitions; ++p)
      if (count[p] > count[donor]) donor = p;
    WAFERSIM_ASSERT(count[donor] >= 2, "cannot repair partition ", empty);
    size_t best = part.size();
    for (size_t v = 0; v < part.size(); ++v)
      if (part[v] == donor && (best == part.size() || g.vwgt[v] < g.vwgt[best])) best = v;
    part[best] = empty;
    --count[donor], ++count[empty];
  }
}

int64_t cutWeight(const WeightedGraph& g, const std::vector<uint32_t>& part) {
  int64_t cut = 0;
  for (size_t v = 0; v < g.vertices; ++v)
    for (int64_t k = g.xadj[v]; k < g.xadj[v + 1]; ++k)
      if (part[v] != part[g.adjncy[k]]) cut += g.adjwgt[k];
  return cut / 2;
}

int64_t maxPartWeight(const WeightedGraph& g, uint32_t partitions, const std::vector<uint32_t>& part) {
  std::vector<int64_t> w(partitions, 0);
  for (size_t v = 0; v < g.vertices; ++v) w[part[v]] += g.vwgt[v];
  return *std::max_element(w.begin(), w.end());
}

// Longest-processing-time greedy: heaviest vertex first onto the lightest partition. For graphs
// without edges, where only balance matters.
std::vector<uint32_t> greedyBalance(const WeightedGraph& g, uint32_t partitions) {
  std::vector<uint32_t> order(g.vertices);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return g.vwgt[a] > g.vwgt[b]; });
  std::vector<int64_t> w(partitions, 0);
  std::vector<uint32_t> part(g.vertices, 0);
  for (uint32_t v : order) {
    uint32_t lightest = static_cast<uint32_t>(std::min_element(w.begin(), w.end()) - w.begin());
    part[v] = lightest;
    w[lightest] += g.vwgt[v];
  }
  return part;
}

// Contiguous vertex ranges of about equal weight: the fallback when METIS is not built in.
[[maybe_unused]] std::vector<uint32_t> contiguousBalance(const WeightedGraph& g, uint32_t partitions) {
  long double total = 0;
  for (int64_t w : g.vwgt) total += w;
  std::vector<uint32_t> part(g.vertices, 0);
  long double before = 0;
  for (size_t v = 0; v < g.vertices; ++v) {
    long double mid = before + g.vwgt[v] / 2.0L;
    part[v] = std::min<uint32_t>(partitions - 1, static_cast<uint32_t>(mid * partitions / total));
    before += g.vwgt[v];
  }
  return part;
}

#if WAFERSIM_HAVE_METIS
static_assert(sizeof(idx_t) == 4 || sizeof(idx_t) == 8);

// METIS 5.1 draws its random numbers from the C library's rand()/srand() (global state), so two
// concurrent calls would perturb each other's seeds: calls are serialized.
std::mutex& metisMutex() {
  static std::mutex m;
  return m;
}

// ufactor in thousandths: 30 = 3% imbalance allowed (k-way); recursive bisection applies it at
// every level, so it gets the per-level share.
std::vector<uint32_t> runMetis(const WeightedGraph& g, uint32_t partitions, bool recursive) {
  std::vector<idx_t> xadj(g.xadj.begin(), g.xadj.end()), adjncy(g.adjncy.begin(), g.adjncy.end()),
      vwgt(g.vwgt.begin(), g.vwgt.end()), adjwgt(g.adjwgt.begin(), g.adjwgt.end());
  idx_t nvtxs = static_cast<idx_t>(g.vertices), ncon = 1, nparts = static_cast<idx_t>(partitions), objval = 0;
  std::vector<idx_t> part(g.vertices, 0);
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = 1;
  options[METIS_OPTION_NUMBERING] = 0;
  options[METIS_OPTION_OBJTYPE] = METIS_OBJTYPE_CUT;
  options[METIS_OPTION_NCUTS] = g.vertices <= 100'000 ? 4 : 1;
  if (recursive) {
    int levels = 0;
    while ((1u << levels) < partitions) ++levels;
    options[METIS_OPTION_UFACTOR] = std::max(1, 30 / std::max(1, levels));
  } else {
    options[METIS_OPTION_UFACTOR] = 30;
    options[METIS_OPTION_CONTIG] = 0;
  }
  int rc = 0;
  {
    std::lock_guard<std::mutex> lock(metisMutex());
    rc = recursive ? METIS_PartGraphRecursive(&nvtxs, &ncon, xadj.data(), adjncy.data(), vwgt.data(), nullptr,
                                              adjwgt.data(), &nparts, nullptr, nullptr, options, &objval, part.data())
                   : METIS_PartGraphKway(&nvtxs, &ncon, xadj.data(), adjncy.data(), vwgt.data(), nullptr,
                                         adjwgt.data(), &nparts, nullptr, nullptr, options, &objval, part.data());
  }
  if (rc != METIS_OK)
    fail(ErrorKind::Internal, "METIS_PartGraph", recursive ? "Recursive" : "Kway", " failed with code ", rc, " on ",
         g.vertices, " vertices, ", g.edges(), " edges, ", partitions, " partitions");
  std::vector<uint32_t> result(g.vertices);
  for (size_t v = 0; v < g.vertices; ++v) {
    WAFERSIM_ASSERT(part[v] >= 0 && part[v] < nparts, "METIS returned partition ", part[v], " for vertex ", v);
    result[v] = static_cast<uint32_t>(part[v]);
  }
  return result;
}
#endif

void checkWeights(const SystemGraph& graph) {
  for (const auto& c : graph.components())
    WAFERSIM_REQUIRE(std::isfinite(c.expectedLoad) && c.expectedLoad >= 0, describeComponent(c),
                     ": expected load must be finite and non-negative, got ", c.expectedLoad);
  for (const auto& l : graph.links())
    WAFERSIM_REQUIRE(std::isfinite(l.expectedTraffic) && l.expectedTraffic >= 0,
                     describeComponent(graph.component(l.a)), " port ", l.portA,
                     ": expected traffic must be finite and non-negative, got ", l.expectedTraffic);
  for (const auto& f : graph.fabrics())
    WAFERSIM_REQUIRE(std::isfinite(f.expectedTraffic) && f.expectedTraffic >= 0, "fabric ", f.name,
                     ": expected traffic must be finite and non-negative, got ", f.expectedTraffic);
}

PartitionMap metisMap(const SystemGraph& graph, uint32_t partitions, std::string& method,
                      const PartitionProfile* profile) {
  const size_t n = graph.components().size();
  if (partitions == 1) {
    method = "single";
    return PartitionMap::single(n);
  }
  WeightedGraph g = buildWeightedGraph(graph, profile);
  WAFERSIM_REQUIRE(g.vertices >= partitions, "cannot split ", n, " components into ", partitions,
                   " partitions: zero-latency links and fabrics join them into ", g.vertices,
                   " groups that cannot be separated");
  std::vector<uint32_t> part;
  if (g.edges() == 0) {
    method = "greedy-balance";
    part = greedyBalance(g, partitions);
  } else {
#if WAFERSIM_HAVE_METIS
    // Both METIS methods for few partitions (recursive bisection is often better there), the
    // smaller cut wins, then the smaller heaviest partition, then k-way.
    part = runMetis(g, partitions, false);
    repairEmpty(g, partitions, part);
    method = "metis-kway";
    if (partitions <= 8) {
      std::vector<uint32_t> rb = runMetis(g, partitions, true);
      repairEmpty(g, partitions, rb);
      int64_t cutK = cutWeight(g, part), cutR = cutWeight(g, rb);
      // Within the 3% allowance either is balanced enough; beyond it balance decides first.
      int64_t total = std::accumulate(g.vwgt.begin(), g.vwgt.end(), int64_t{0});
      auto balanced = [&](const std::vector<uint32_t>& p) {
        return double(maxPartWeight(g, partitions, p)) <= 1.03 * double(total) / partitions + 1;
      };
      bool bK = balanced(part), bR = balanced(rb);
      bool takeR = bK != bR ? bR
                            : (cutR != cutK ? cutR < cutK
                                            : maxPartWeight(g, partitions, rb) < maxPartWeight(g, partitions, part));
      if (takeR) {
        part = std::move(rb);
        method = "metis-recursive";
      }
    }
#else
    method = "contiguous-balance (METIS not built in)";
    part = contiguousBalance(g, partitions);
#endif
  }
  repairEmpty(g, partitions, part);
  PartitionMap map{partitions, std::vector<PartitionId>(n)};
  for (size_t c = 0; c < n; ++c) map.of[c] = part[g.vertexOf[c]];
  return map;
}

PartitionMap pinnedMap(const SystemGraph& graph, uint32_t partitions, const std::vector<PartitionId>* pinned) {
  WAFERSIM_REQUIRE(pinned != nullptr, "pinned partitioner: no partition map given");
  const auto& comps = graph.components();
  WAFERSIM_REQUIRE(pinned->size() == comps.size(), "pinned partitioner: the map has ", pinned->size(),
                   " entries for ", comps.size(), " components");
  std::vector<size_t> count(partitions, 0);
  for (const auto& c : comps) {
    PartitionId p = (*pinned)[c.id];
    WAFERSIM_REQUIRE(p < partitions, "pinned partitioner: ", describeComponent(c), " is pinned to partition ", p,
                     " but there are only ", partitions, " partitions (0 to ", partitions - 1, ")");
    ++count[p];
  }
  for (uint32_t p = 0; p < partitions; ++p)
    WAFERSIM_REQUIRE(count[p] > 0, "pinned partitioner: partition ", p, " of ", partitions,
                     " has no components pinned to it");
  return {partitions, *pinned};
}

}  // namespace

PartitionPlan partitionGraph(const SystemGraph& graph, uint32_t partitions, PartitionerKind kind,
                             const std::vector<PartitionId>* pinned, const PartitionProfile* profile) {
  const size_t n = graph.components().size();
  WAFERSIM_REQUIRE(partitions >= 1, "partitioner: need at least one partition");
  WAFERSIM_REQUIRE(n > 0, "partitioner: the system has no components");
  WAFERSIM_REQUIRE(partitions <= n, "partitioner: ", partitions, " partitions for ", n,
                   " components (every partition needs at least one component)");
  checkWeights(graph);
  PartitionMap map;
  std::string method;
  switch (kind) {
    case PartitionerKind::Metis: map = metisMap(graph, partitions, method, profile); break;
    case PartitionerKind::Linear:
      map = PartitionMap::linear(n, partitions);
      method = "linear";
      break;
    case PartitionerKind::RoundRobin:
      map = PartitionMap::roundRobin(n, partitions);
      method = "round-robin";
      break;
    case PartitionerKind::Pinned:
      map = pinnedMap(graph, partitions, pinned);
      method = "pinned";
      break;
  }
  validatePartitioning(graph, map);
  return describePartitioning(graph, map, kind, std::move(method), profile);
}

PartitionPlan describePartitioning(const SystemGraph& graph, const PartitionMap& map, PartitionerKind kind,
                                   std::string method, const PartitionProfile* profile) {
  WAFERSIM_REQUIRE(map.of.size() == graph.components().size(), "partition map: has ", map.of.size(),
                   " entries for ", graph.components().size(), " components");
  WAFERSIM_REQUIRE(map.partitions >= 1, "partition map: need at least one partition");
  PartitionPlan plan;
  plan.kind = kind;
  plan.method = std::move(method);
  plan.map = map;
  const uint32_t parts = map.partitions;
  plan.load.assign(parts, 0.0);
  plan.components.assign(parts, 0);
  double total = 0;
  for (const auto& c : graph.components()) {
    WAFERSIM_REQUIRE(map.of[c.id] < parts, describeComponent(c), ": mapped to partition ", map.of[c.id], " of ",
                     parts);
    plan.load[map.of[c.id]] += loadOf(c, profile);
    ++plan.components[map.of[c.id]];
    total += loadOf(c, profile);
  }
  const double mean = total / parts;
  plan.imbalance = mean > 0 ? *std::max_element(plan.load.begin(), plan.load.end()) / mean : 1.0;

  std::map<std::pair<PartitionId, PartitionId>, Duration> floor;
  auto note = [&](PartitionId from, PartitionId to, Duration latency) {
    auto [it, fresh] = floor.emplace(std::make_pair(from, to), latency);
    if (!fresh) it->second = min(it->second, latency);
  };
  for (size_t i = 0; i < graph.links().size(); ++i) {
    const auto& l = graph.links()[i];
    PartitionId pa = map.of[l.a], pb = map.of[l.b];
    if (pa == pb) continue;
    note(pa, pb, l.latencyAB);
    note(pb, pa, l.latencyBA);
    CutLink cut;
    cut.kind = CutLink::Kind::Link;
    cut.index = i;
    cut.traffic = trafficOf(graph, i, profile);
    if (pa < pb)
      cut.partitionA = pa, cut.partitionB = pb, cut.a = l.a, cut.b = l.b, cut.latencyAB = l.latencyAB,
      cut.latencyBA = l.latencyBA;
    else
      cut.partitionA = pb, cut.partitionB = pa, cut.a = l.b, cut.b = l.a, cut.latencyAB = l.latencyBA,
      cut.latencyBA = l.latencyAB;
    plan.cutTraffic += cut.traffic;
    plan.cut.push_back(cut);
  }
  for (size_t i = 0; i < graph.fabrics().size(); ++i) {
    const auto& f = graph.fabrics()[i];
    std::map<PartitionId, uint64_t> members;
    for (ComponentId m : f.members) ++members[map.of[m]];
    for (auto p = members.begin(); p != members.end(); ++p)
      for (auto q = std::next(p); q != members.end(); ++q) {
        note(p->first, q->first, f.latency);
        note(q->first, p->first, f.latency);
        CutLink cut;
        cut.kind = CutLink::Kind::Fabric;
        cut.index = i;
        cut.partitionA = p->first, cut.partitionB = q->first;
        cut.latencyAB = cut.latencyBA = f.latency;
        cut.pairs = p->second * q->second;
        cut.traffic = f.expectedTraffic * double(cut.pairs);
        plan.cutTraffic += cut.traffic;
        plan.cut.push_back(cut);
      }
  }
  for (const auto& [pair, latency] : floor) plan.lookahead.push_back({pair.first, pair.second, latency});
  if (profile) plan.profile = profile->dir;
  return plan;
}

NodeLayout layoutOnNodes(const PartitionPlan& plan, uint32_t nodes) {
  const uint32_t p = plan.map.partitions;
  WAFERSIM_REQUIRE(nodes >= 1 && nodes <= p, p, " partitions cannot fill ", nodes, " nodes");
  // Ties between partitions: traffic per unit of latency, relative to the slowest cut.
  int64_t slowest = 1;
  for (const CutLink& c : plan.cut) slowest = std::max(slowest, min(c.latencyAB, c.latencyBA).ps());
  std::vector<std::vector<double>> tie(p, std::vector<double>(p, 0.0));
  for (const CutLink& c : plan.cut) {
    const double latency = static_cast<double>(std::max<int64_t>(1, min(c.latencyAB, c.latencyBA).ps()));
    const double w = std::max(c.traffic, 1e-9) * static_cast<double>(slowest) / latency;
    tie[c.partitionA][c.partitionB] += w;
    tie[c.partitionB][c.partitionA] += w;
  }
  // Candidates, each with exactly floor(P/N) or ceil(P/N) partitions per node; the one that cuts
  // the least tie between nodes wins (the first on equal ties).
  auto sizeOf = [&](uint32_t node) { return p / nodes + (node < p % nodes ? 1 : 0); };
  auto cutTie = [&](const std::vector<uint32_t>& nodeOf) {
    double cut = 0;
    for (uint32_t a = 0; a < p; ++a)
      for (uint32_t b = a + 1; b < p; ++b)
        if (nodeOf[a] != nodeOf[b]) cut += tie[a][b];
    return cut;
  };
  auto balanced = [&](const std::vector<uint32_t>& nodeOf) {
    std::vector<uint32_t> count(nodes, 0);
    for (uint32_t node : nodeOf) {
      if (node >= nodes) return false;
      ++count[node];
    }
    for (uint32_t node = 0; node < nodes; ++node)
      if (count[node] < p / nodes || count[node] > (p + nodes - 1) / nodes) return false;
    return true;
  };
  std::vector<std::vector<uint32_t>> candidates;
  {  // contiguous ranges: METIS numbers neighbouring parts close together
    std::vector<uint32_t> nodeOf;
    for (uint32_t node = 0; node < nodes; ++node) nodeOf.insert(nodeOf.end(), sizeOf(node), node);
    candidates.push_back(std::move(nodeOf));
  }
#if WAFERSIM_HAVE_METIS
  if (nodes > 1 && !plan.cut.empty()) {  // METIS on the graph of partitions, one unit of weight each
    double largest = 0;
    for (uint32_t a = 0; a < p; ++a)
      for (uint32_t b = 0; b < p; ++b) largest = std::max(largest, tie[a][b]);
    WeightedGraph q;
    q.vertices = p;
    q.vwgt.assign(p, 1);
    q.xadj.push_back(0);
    for (uint32_t a = 0; a < p; ++a) {
      for (uint32_t b = 0; b < p; ++b)
        if (a != b && tie[a][b] > 0) {
          q.adjncy.push_back(b);
          q.adjwgt.push_back(std::max<int64_t>(1, std::llround(tie[a][b] / largest * 1e6)));
        }
      q.xadj.push_back(static_cast<int64_t>(q.adjncy.size()));
    }
    for (bool recursive : {false, true}) candidates.push_back(runMetis(q, nodes, recursive));
  }
#endif

  NodeLayout layout;
  layout.nodeOf.assign(p, nodes);  // nodes: not placed yet
  // Kept up to date as partitions are placed: O(P^2) in all.
  std::vector<double> toUnplaced(p, 0.0), toNode(p, 0.0);
  for (uint32_t q = 0; q < p; ++q)
    for (uint32_t o = 0; o < p; ++o) toUnplaced[q] += tie[q][o];
  auto place = [&](uint32_t q, uint32_t node) {
    layout.nodeOf[q] = node;
    for (uint32_t o = 0; o < p; ++o) {
      toUnplaced[o] -= tie[o][q];
      toNode[o] += tie[o][q];
    }
  };
  for (uint32_t node = 0; node < nodes; ++node) {
    const uint32_t size = sizeOf(node);
    std::fill(toNode.begin(), toNode.end(), 0.0);
    // Seed: the partition least tied to those left (a corner of what remains).
    uint32_t seed = p;
    for (uint32_t q = 0; q < p; ++q)
      if (layout.nodeOf[q] == nodes && (seed == p || toUnplaced[q] < toUnplaced[seed])) seed = q;
    place(seed, node);
    for (uint32_t taken = 1; taken < size; ++taken) {
      uint32_t best = p;
      for (uint32_t q = 0; q < p; ++q)
        if (layout.nodeOf[q] == nodes && (best == p || toNode[q] > toNode[best])) best = q;
      place(best, node);
    }
  }
  for (const auto& candidate : candidates)
    if (balanced(candidate) && cutTie(candidate) < cutTie(layout.nodeOf)) layout.nodeOf = candidate;
  for (const CutLink& c : plan.cut) {
    if (layout.nodeOf[c.partitionA] == layout.nodeOf[c.partitionB]) continue;
    ++layout.cutLinks;
    layout.cutTraffic += c.traffic;
    layout.lookaheadFloor = min(layout.lookaheadFloor, min(c.latencyAB, c.latencyBA));
  }
  return layout;
}

nlohmann::json toJson(const PartitionPlan& plan, const SystemGraph& graph) {
  const auto& comps = graph.components();
  nlohmann::json doc;
  doc["partitioner"] = toString(plan.kind);
  doc["method"] = plan.method;
  doc["partitions"] = plan.map.partitions;
  doc["imbalance"] = plan.imbalance;
  doc["load"] = plan.load;
  doc["components_per_partition"] = plan.components;

  nlohmann::json assignment = nlohmann::json::array();
  for (const auto& c : comps) assignment.push_back({{"id", c.id}, {"name", c.name}, {"partition", plan.map.of[c.id]}});
  doc["components"] = std::move(assignment);

  nlohmann::json cuts = nlohmann::json::array();
  size_t cutLinks = 0;
  uint64_t cutPairs = 0;
  for (const auto& cut : plan.cut) {
    nlohmann::json j;
    j["partitions"] = {cut.partitionA, cut.partitionB};
    j["traffic"] = cut.traffic;
    if (cut.kind == CutLink::Kind::Link) {
      const auto& l = graph.links()[cut.index];
      const bool flipped = cut.a != l.a;
      j["kind"] = "link";
      j["a"] = {{"component", comps[cut.a].name}, {"port", flipped ? l.portB : l.portA}};
      j["b"] = {{"component", comps[cut.b].name}, {"port", flipped ? l.portA : l.portB}};
      j["latency_ab_ps"] = cut.latencyAB.ps();
      j["latency_ba_ps"] = cut.latencyBA.ps();
      ++cutLinks;
    } else {
      const auto& f = graph.fabrics()[cut.index];
      j["kind"] = "fabric";
      j["fabric"] = f.name;
      j["port"] = f.port;
      j["pairs"] = cut.pairs;
      j["latency_ps"] = cut.latencyAB.ps();
      cutPairs += cut.pairs;
    }
    cuts.push_back(std::move(j));
  }
  doc["cut"] = {{"links", cutLinks}, {"fabric_pairs", cutPairs}, {"traffic", plan.cutTraffic},
                {"items", std::move(cuts)}};

  nlohmann::json peers = nlohmann::json::array();
  Duration overall = Duration::max();
  for (const auto& la : plan.lookahead) {
    peers.push_back({{"from", la.from}, {"to", la.to}, {"floor_ps", la.floor.ps()}, {"floor", toString(la.floor)}});
    overall = min(overall, la.floor);
  }
  doc["lookahead"] = std::move(peers);
  doc["lookahead_floor_ps"] = plan.lookahead.empty() ? nlohmann::json(nullptr) : nlohmann::json(overall.ps());
  if (!plan.profile.empty())
    doc["profile"] = {{"run", plan.profile},
                      {"imbalance", plan.imbalance},
                      {"imbalance_without_profile", plan.imbalanceWithoutProfile}};
  return doc;
}

PartitionProfile loadPartitionProfile(const std::string& dir, const SystemGraph& graph) {
  namespace fs = std::filesystem;
  const fs::path results = fs::path(dir) / "results.json";
  std::ifstream in(results);
  if (!in)
    fail(ErrorKind::InvalidConfig, "simulation.partition_profile: cannot open ", results.string(),
         " (the folder of a finished run: `wafersim run --out DIR` or `wafersim results ID`)");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::InvalidConfig, results.string(), ": not valid JSON: ", e.what());
  }
  if (!doc.is_object() || !doc.contains("components") || !doc["components"].is_object())
    fail(ErrorKind::InvalidConfig, results.string(), ": expected a results document with a \"components\" object");
  const auto& measured = doc["components"];
  PartitionProfile profile;
  profile.dir = dir;
  for (const auto& c : graph.components()) {
    auto it = measured.find(c.name);
    if (it == measured.end() || !it->is_object() || !it->contains("events") || !(*it)["events"].is_number_unsigned())
      fail(ErrorKind::InvalidConfig, results.string(), ": no event count for component ", c.name,
           " (a profile must come from a run of the same system)");
    profile.load.push_back((*it)["events"].get<double>());
  }

  // links.csv (network models): bytes per (component, port), both directions of a link summed.
  const auto& links = graph.links();
  profile.linkTraffic.resize(links.size());
  for (size_t i = 0; i < links.size(); ++i) profile.linkTraffic[i] = links[i].expectedTraffic;
  std::ifstream csv(fs::path(dir) / "links.csv");
  if (!csv) return profile;
  std::map<std::pair<std::string, std::string>, double> bytesByPort;
  std::string line;
  std::getline(csv, line);  // header: from,port,to,bytes,...
  for (size_t row = 2; std::getline(csv, line); ++row) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char ch : line) {
      if (ch == '"') quoted = !quoted;
      else if (ch == ',' && !quoted) cells.push_back(std::exchange(cell, {}));
      else cell += ch;
    }
    cells.push_back(cell);
    double bytes = -1;
    if (cells.size() >= 4) try {
        bytes = std::stod(cells[3]);
      } catch (const std::exception&) {
      }
    if (!(bytes >= 0) || !std::isfinite(bytes))
      fail(ErrorKind::InvalidConfig, (fs::path(dir) / "links.csv").string(), ":", row,
           ": expected from,port,to,bytes with a byte count, got \"", line, "\"");
    bytesByPort[{cells[0], cells[1]}] += bytes;
  }
  // Links it lists share the expected traffic they had, in proportion to their measured bytes.
  std::vector<size_t> listed;
  double bytesTotal = 0, expectedTotal = 0;
  for (size_t i = 0; i < links.size(); ++i) {
    const auto a = bytesByPort.find({graph.component(links[i].a).name, links[i].portA});
    const auto b = bytesByPort.find({graph.component(links[i].b).name, links[i].portB});
    if (a == bytesByPort.end() && b == bytesByPort.end()) continue;
    profile.linkTraffic[i] = (a == bytesByPort.end() ? 0 : a->second) + (b == bytesByPort.end() ? 0 : b->second);
    bytesTotal += profile.linkTraffic[i];
    expectedTotal += links[i].expectedTraffic;
    listed.push_back(i);
  }
  for (size_t i : listed)
    profile.linkTraffic[i] = bytesTotal > 0 ? profile.linkTraffic[i] / bytesTotal * expectedTotal : links[i].expectedTraffic;
  return profile;
}

PartitionPlan partitionScenario(const Scenario& s, const SystemGraph& graph) {
  const PartitionerKind kind = parsePartitionerKind(s.partitioner);
  if (!s.partitionProfile.empty()) {
    WAFERSIM_REQUIRE(kind != PartitionerKind::Pinned, s.source,
                     ": simulation.partition_profile weights the partitioner; a pinned map has nothing to weigh");
    const PartitionProfile profile = loadPartitionProfile(s.partitionProfile, graph);
    PartitionPlan plan = partitionGraph(graph, s.partitions, kind, nullptr, &profile);
    const PartitionPlan unweighted = partitionGraph(graph, s.partitions, kind);
    plan.imbalanceWithoutProfile =
        describePartitioning(graph, unweighted.map, kind, unweighted.method, &profile).imbalance;
    return plan;
  }
  if (kind != PartitionerKind::Pinned) return partitionGraph(graph, s.partitions, kind);
  std::ifstream in(s.partitionMapFile);
  if (!in) fail(ErrorKind::InvalidConfig, s.source, ": simulation.partition_map: cannot open ", s.partitionMapFile);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::InvalidConfig, s.partitionMapFile, ": not valid JSON: ", e.what());
  }
  if (!doc.contains("components") || !doc["components"].is_array())
    fail(ErrorKind::InvalidConfig, s.partitionMapFile, ": expected a \"components\" array of {name, partition}");
  std::map<std::string, PartitionId> byName;
  for (const auto& c : doc["components"]) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string() || !c.contains("partition") ||
        !c["partition"].is_number_unsigned())
      fail(ErrorKind::InvalidConfig, s.partitionMapFile, ": every component needs a \"name\" and a \"partition\" number");
    byName[c["name"].get<std::string>()] = c["partition"].get<PartitionId>();
  }
  std::vector<PartitionId> pinned;
  for (const auto& c : graph.components()) {
    auto it = byName.find(c.name);
    if (it == byName.end())
      fail(ErrorKind::InvalidConfig, s.partitionMapFile, ": no partition for component ", c.name);
    pinned.push_back(it->second);
  }
  return partitionGraph(graph, s.partitions, kind, &pinned);
}

}  // namespace wafersim
