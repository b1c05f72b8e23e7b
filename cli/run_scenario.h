// Running one scenario as `wafersim run` does: in this process on threads, or in N wafersim-node
// processes (--nodes), printing the report and writing the self-describing results folder
// (scenario.yaml, scenario.resolved.json, results.json, summary.json, partition.json, run.json and
// the CSV tables). `wafersim run` and `wafersim study` share it.
#pragma once

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace wafersim {

struct DistributedFlags {
  uint32_t nodes = 0;         // 0: run in this process, one thread per partition
  std::string listen = "tcp://127.0.0.1:*";
  bool launch = true;         // start the nodes here; otherwise wait for them to connect
  uint32_t heartbeatTimeoutMs = 3000;
};

struct ScenarioRun {
  std::string outDir;       // the results folder written
  nlohmann::json summary;   // what summary.json holds
};

// Runs `file` with `overrides` ("dotted.path=value"); an empty `outDir` means
// runs/<scenario stem>-<time>. Throws Error on a bad scenario or a failed run.
ScenarioRun runScenario(const std::string& file, const std::vector<std::string>& overrides, std::string outDir,
                        const DistributedFlags& flags);

// The signal (SIGINT, SIGTERM) that interrupted a distributed run, or 0.
int interruptedBy();

}  // namespace wafersim
