// A scenario file: which system to build and how to run it (ARCHITECTURE.md contract 7).
//
//   model: phold              # a name from the model catalog (wafersim describe)
//   params: {lps: 64, lookahead: 100 ps}
//   simulation:
//     partitions: 2           # partitions (threads, or node processes with --nodes)
//     partitioner: linear     # linear | round-robin
//     sync: window            # window | null
//     lookahead: model        # links | model
//     end: 1 us               # commit events before this instant; "never" runs until none are left
//     seed: 1
//     checker: false          # verify conservative safety on every cross-partition event
//
// Everything is checked before anything runs; an error names the file, the line and the field
// path ("quickstart.yaml:7: simulation.sync: unknown synchronization strategy ...").
#pragma once

#include <string>
#include <vector>

#include "sim/params.h"
#include "sim/simulation.h"

namespace wafersim {

struct Scenario {
  std::string source;  // file name, for messages
  std::string model;
  Params modelParams;
  uint32_t partitions = 1;
  std::string partitioner = "linear";
  RunOptions run;
};

// `overrides` are "dotted.path=value" strings applied to the document before it is checked.
Scenario parseScenario(const std::string& text, const std::string& source,
                       const std::vector<std::string>& overrides = {});
Scenario loadScenario(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace wafersim
