// Shared by the benchmarks that run a scenario in wafersim-node processes on this machine.
#pragma once

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "coordinator/local_launcher.h"
#include "coordinator/node_coordinator.h"
#include "sim/simulation.h"

namespace wafersim::bench {

inline std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs the scenario in local node processes, as `wafersim run --nodes N` does: partition k on node
// nodeOf[k] (coordinator/partitioner.h layoutOnNodes), or one partition per node when nodeOf is
// empty. Returns the run's report once the nodes have exited.
inline RunReport runInNodeProcesses(const std::string& scenarioText, const std::vector<std::string>& overrides,
                                    const PartitionMap& map, const RunOptions& run,
                                    const std::vector<uint32_t>& nodeOf = {}) {
  NodeCoordinator coordinator;
  LocalLauncher launcher(findNodeBinary());
  const uint32_t nodes = nodeOf.empty() ? map.partitions : *std::max_element(nodeOf.begin(), nodeOf.end()) + 1;
  launcher.start(nodes, coordinator.endpoint());
  NodeRunOptions options;
  options.nodes = nodes;
  options.nodeOf = nodeOf;
  options.scenarioText = scenarioText;
  options.overrides = overrides;
  options.map = map;
  options.run = run;
  options.watchdog = [&](const std::vector<bool>& finished) { return launcher.checkChildren(finished); };
  RunReport r = coordinator.run(options);
  launcher.waitAll(5000);
  return r;
}

}  // namespace wafersim::bench
