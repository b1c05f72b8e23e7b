#include "sim/partition_map.h"

#include "sim/error.h"

namespace wafersim {

PartitionMap PartitionMap::linear(size_t components, uint32_t partitions) {
  WAFERSIM_REQUIRE(partitions >= 1, "need at least one partition");
  PartitionMap map{partitions, std::vector<PartitionId>(components)};
  for (size_t i = 0; i < components; ++i) map.of[i] = static_cast<PartitionId>(i * partitions / components);
  return map;
}

PartitionMap PartitionMap::roundRobin(size_t components, uint32_t partitions) {
  WAFERSIM_REQUIRE(partitions >= 1, "need at least one partition");
  PartitionMap map{partitions, std::vector<PartitionId>(components)};
  for (size_t i = 0; i < components; ++i) map.of[i] = static_cast<PartitionId>(i % partitions);
  return map;
}

void validatePartitioning(const SystemGraph& graph, const PartitionMap& map) {
  const auto& comps = graph.components();
  WAFERSIM_REQUIRE(map.partitions >= 1, "partition map: need at least one partition");
  WAFERSIM_REQUIRE(map.of.size() == comps.size(), "partition map: has ", map.of.size(), " entries for ",
                   comps.size(), " components");
  std::vector<size_t> sizes(map.partitions);
  for (const auto& c : comps) {
    WAFERSIM_REQUIRE(map.of[c.id] < map.partitions, describeComponent(c), ": mapped to partition ", map.of[c.id],
                     " of ", map.partitions);
    ++sizes[map.of[c.id]];
  }
  for (uint32_t p = 0; p < map.partitions; ++p)
    WAFERSIM_REQUIRE(sizes[p] > 0, "partition map: partition ", p, " has no components");
  for (const auto& l : graph.links()) {
    PartitionId pa = map.of[l.a], pb = map.of[l.b];
    if (pa == pb) continue;
    WAFERSIM_REQUIRE(l.latencyAB > Duration::zero(), describeComponent(comps[l.a]), " port ", l.portA,
                     ": zero latency across partitions ", pa, " and ", pb,
                     " (a cut link needs a positive latency; keep both ends in one partition)");
    WAFERSIM_REQUIRE(l.latencyBA > Duration::zero(), describeComponent(comps[l.b]), " port ", l.portB,
                     ": zero latency across partitions ", pb, " and ", pa,
                     " (a cut link needs a positive latency; keep both ends in one partition)");
  }
  for (const auto& f : graph.fabrics()) {
    if (f.latency > Duration::zero()) continue;
    for (ComponentId m : f.members)
      WAFERSIM_REQUIRE(map.of[m] == map.of[f.members.front()], describeComponent(comps[m]), " port ", f.port,
                       ": zero-latency fabric ", f.name, " spans partitions ", map.of[f.members.front()], " and ",
                       map.of[m]);
  }
}

}  // namespace wafersim
