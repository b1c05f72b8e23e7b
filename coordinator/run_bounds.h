// What a run will need, estimated before it runs, so the service can refuse one that would starve
// its pool (service.h, per-run bounds).
//
// The memory estimate is a calibration, not a model: a process's baseline plus bytes per simulated
// component and per link end, plus the files the scenario reads (read whole, then parsed: twice
// their size). The constants are upper bounds of the slopes bench_run_memory measures (peak
// resident memory of `wafersim run` over PHOLD, MessageMesh and serving scenarios of growing size;
// state a model's builder declares (SystemGraph::stateBytes: the serving plan's routing matrices)
// is added as declared;
// measured: about 2.4 KiB a PHOLD LP, 2.6 KiB a MessageMesh router with its links, docs/security.md);
// that bench fails when the estimate falls below a measured peak.
#pragma once

#include <cstdint>

#include "sim/system_graph.h"

namespace wafersim {

struct RunMemoryModel {
  static constexpr uint64_t kBaselineBytes = 32u << 20;   // an empty run's process (measured ~12 MiB)
  static constexpr uint64_t kBytesPerComponent = 4u << 10;
  static constexpr uint64_t kBytesPerLinkEnd = 1u << 10;  // a link has two ends; a fabric one per member
};

// Link ends of the graph: two per link, one per fabric member.
uint64_t linkEnds(const SystemGraph& graph);

// Bytes the whole run needs (divide by the nodes it runs on for one node's share, plus a baseline).
uint64_t estimateRunMemoryBytes(const SystemGraph& graph, uint64_t fileBytes);

}  // namespace wafersim
