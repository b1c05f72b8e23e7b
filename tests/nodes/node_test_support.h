// Helpers for tests that run real wafersim-node processes on loopback.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/local_launcher.h"
#include "coordinator/node_coordinator.h"
#include "scenario/scenario.h"
#include "models/model_catalog.h"
#include "sim/simulation.h"

namespace wafersim::testing {

inline std::string nodeBinary() { return std::string(WAFERSIM_BINARY_DIR) + "/nodes/wafersim-node"; }
inline std::string cliBinary() { return std::string(WAFERSIM_BINARY_DIR) + "/cli/wafersim"; }

// A small serving run with online placement (EPLB every 1 ms, drifting routing): the placement
// service decides several times, so a run that cannot reach it gives another digest.
inline const char* const kOnlinePlacementScenario = R"(model: moe_serving
params:
  hardware: {system: dojo, x: 2, y: 2}
  model: {preset: mixtral-8x7b, layers: 2}
  workload: {kind: poisson, rate: 4000, count: 16, prompt_tokens: 64, output_tokens: 8}
  routing: {kind: synthetic, zipf: 1.2, drift_every_steps: 4, drift_shift: 3}
  scheduler: {max_running: 16, token_budget: 1024}
  mapping: {online_policy: eplb, epoch: 1 ms, spare_experts: 2}
simulation: {seed: 5}
)";

struct Built {
  Scenario scenario;
  SystemGraph graph;
  PartitionMap map;
};

// Parses a scenario text and partitions it linearly into `partitions`.
inline Built build(const std::string& text, uint32_t partitions, const std::vector<std::string>& overrides = {}) {
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  Built b{parseScenario(text, "test scenario", overrides), {}, {}};
  b.graph = catalog.build(b.scenario.model, b.scenario.modelParams, "test scenario: params", b.scenario.run.seed);
  b.map = PartitionMap::linear(b.graph.components().size(), partitions);
  return b;
}

inline RunReport runThreads(const Built& b) {
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  return runInProcess(b.graph, registry, b.map, b.scenario.run);
}

// Runs in node processes, partition k on node nodeOf[k] (empty: node k); `watchdog` may inject
// faults (it gets the launcher too).
inline RunReport runNodes(const std::string& text, const Built& b, const std::vector<std::string>& overrides = {},
                          std::function<std::optional<std::string>(LocalLauncher&, const std::vector<bool>&)> extra = {},
                          uint32_t heartbeatTimeoutMs = 3000, const std::vector<uint32_t>& nodeOf = {}) {
  NodeCoordinator coordinator;
  LocalLauncher launcher(nodeBinary());
  const uint32_t nodes = nodeOf.empty() ? b.map.partitions : *std::max_element(nodeOf.begin(), nodeOf.end()) + 1;
  launcher.start(nodes, coordinator.endpoint());
  NodeRunOptions options;
  options.nodes = nodes;
  options.nodeOf = nodeOf;
  options.scenarioText = text;
  options.overrides = overrides;
  options.map = b.map;
  options.run = b.scenario.run;
  options.heartbeatTimeoutMs = heartbeatTimeoutMs;
  options.registrationTimeoutMs = 20000;
  options.watchdog = [&](const std::vector<bool>& finished) -> std::optional<std::string> {
    if (extra)
      if (auto r = extra(launcher, finished)) return r;
    return launcher.checkChildren(finished);
  };
  RunReport r = coordinator.run(options);
  launcher.waitAll(5000);
  return r;
}

inline bool processAlive(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return false;
  return ::kill(pid, 0) == 0;
}

}  // namespace wafersim::testing
