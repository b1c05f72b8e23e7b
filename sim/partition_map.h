// Which partition runs each component. Computed by a partitioner (coordinator/) or pinned by
// the user; the kernel only checks it.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/event.h"
#include "sim/system_graph.h"

namespace wafersim {

struct PartitionMap {
  uint32_t partitions = 1;
  std::vector<PartitionId> of;  // indexed by ComponentId

  static PartitionMap single(size_t components) { return {1, std::vector<PartitionId>(components, 0)}; }
  // Contiguous id ranges of (almost) equal size.
  static PartitionMap linear(size_t components, uint32_t partitions);
  static PartitionMap roundRobin(size_t components, uint32_t partitions);
};

// Every component mapped to an existing partition, no partition empty, and no link or fabric
// with zero latency between partitions (it would leave no lookahead). Errors name the component
// and port: "component lp[3] (synthetic.PholdLP) port out: zero latency across partitions 0 and 1".
void validatePartitioning(const SystemGraph& graph, const PartitionMap& map);

}  // namespace wafersim
