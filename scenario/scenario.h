// A scenario file: which system to build and how to run it (ARCHITECTURE.md contract 7).
//
//   model: phold              # a name from the model catalog (wafersim describe)
//   params: {lps: 64, lookahead: 100 ps}
//   simulation:
//     partitions: 2           # partitions (threads, or node processes with --nodes)
//     partitioner: metis      # metis | linear | round-robin | pinned
//     partition_map: FILE     # with pinned: a partition.json from an earlier run (edited at will)
//     partition_profile: DIR  # metis weighted by an earlier run's measured events and link bytes
//     sync: window            # window | null
//     lookahead: model        # links | model
//     end: 1 us               # commit events before this instant; "never" runs until none are left
//     seed: 1
//     checker: false          # verify conservative safety on every cross-partition event
//     checkpoint_every: 100 us  # a checkpoint (sim/checkpoint.h) every 100 us of simulated time,
//                             # into the run's folder /checkpoints (wafersim run --resume DIR)
//     checkpoint_every_wall: 60 s  # and one every 60 s of wall-clock time
//
// Everything is checked before anything runs; an error names the file, the line and the field
// path ("quickstart.yaml:7: simulation.sync: unknown synchronization strategy ...").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/params.h"
#include "sim/simulation.h"

namespace wafersim {

enum class PartitionerKind { Metis, Linear, RoundRobin, Pinned };

// "metis" | "linear" | "round-robin" | "pinned"; anything else throws Error{InvalidConfig}
// listing the choices.
PartitionerKind parsePartitionerKind(std::string_view text);
const char* toString(PartitionerKind kind);

struct Scenario {
  std::string source;  // file name, for messages
  std::string model;
  Params modelParams;
  uint32_t partitions = 1;
  std::string partitioner = "metis";
  std::string partitionMapFile;  // with partitioner "pinned", resolved relative to the scenario file
  std::string partitionProfile;  // a run folder whose measurements weight the partitioner, resolved likewise
  RunOptions run;  // run.observeEvery: simulation.metrics_epoch (docs/metrics.md)
  uint32_t metricsMaxSeries = 64;  // simulation.metrics_max_series: dies and links labelled one by one
};

// `overrides` are "dotted.path=value" strings applied to the document before it is checked.
// Files the scenario names (path parameters, partition_map) resolve relative to the folder of
// `source` when it names one ("examples/a.yaml" -> "examples/"), else the working directory; a
// caller with another base (the service's data folder) sets modelParams.setBaseDir(). Values
// from overrides stay relative to the working directory.
Scenario parseScenario(const std::string& text, const std::string& source,
                       const std::vector<std::string>& overrides = {});
Scenario loadScenario(const std::string& path, const std::vector<std::string>& overrides = {});
// The file's text; throws Error{InvalidConfig} "PATH: cannot open the scenario file".
std::string readScenarioFile(const std::string& path);


}  // namespace wafersim
