#include "coordinator/run_bounds.h"

namespace wafersim {

uint64_t linkEnds(const SystemGraph& graph) {
  uint64_t ends = 2 * graph.links().size();
  for (const auto& f : graph.fabrics()) ends += f.members.size();
  return ends;
}

uint64_t estimateRunMemoryBytes(const SystemGraph& graph, uint64_t fileBytes) {
  return graph.components().size() * RunMemoryModel::kBytesPerComponent +
         linkEnds(graph) * RunMemoryModel::kBytesPerLinkEnd + graph.stateBytes() + 2 * fileBytes;
}

}  // namespace wafersim
