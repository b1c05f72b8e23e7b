#include "coordinator/node_coordinator.h"

#include <cstdio>
#include <random>

#include "sim/error.h"

namespace wafersim {

std::string makeRunId() {
  std::random_device entropy;
  const uint64_t v = (static_cast<uint64_t>(entropy()) << 32) ^ entropy();
  char id[20];
  std::snprintf(id, sizeof id, "r-%012llx", static_cast<unsigned long long>(v & 0xFFFFFFFFFFFFull));
  return id;
}

NodeCoordinator::NodeCoordinator(const std::string& bind, std::shared_ptr<const proto::CurveSecurity> curve) {
  PoolOptions options;
  options.curve = std::move(curve);
  pool_ = std::make_unique<NodePool>(bind, std::move(options));
}

NodeCoordinator::~NodeCoordinator() = default;

RunReport NodeCoordinator::run(const NodeRunOptions& options) {
  const uint32_t n = options.nodes;
  std::vector<uint32_t> nodeOf = options.nodeOf;
  if (nodeOf.empty())
    for (uint32_t k = 0; k < options.map.partitions; ++k) nodeOf.push_back(k);
  WAFERSIM_REQUIRE(n >= 1 && nodeOf.size() == options.map.partitions, "the partition map has ",
                   options.map.partitions, " partitions, the node layout ", nodeOf.size());
  std::vector<bool> used(n, false);
  for (uint32_t node : nodeOf) {
    WAFERSIM_REQUIRE(node < n, "the node layout names node ", node, " of ", n);
    used[node] = true;
  }
  for (uint32_t r = 0; r < n; ++r) WAFERSIM_REQUIRE(used[r], "node ", r, " of ", n, " hosts no partition");
  pool_->setHeartbeat(options.heartbeatIntervalMs, options.heartbeatTimeoutMs);
  const std::vector<bool> none(n, false);
  std::vector<std::string> names;
  for (uint32_t k = 0; k < n; ++k) names.push_back("node-" + std::to_string(k));
  struct ShutdownNodes {  // whatever happens, the one-shot nodes go
    NodePool& pool;
    ~ShutdownNodes() { pool.shutdownNodes(); }
  } shutdown{*pool_};

  pool_->waitForNodes(n, names, std::chrono::milliseconds(options.registrationTimeoutMs),
                      [&]() -> std::optional<std::string> {
                        if (options.run.stop.stop_requested()) return std::string("run cancelled");
                        return options.watchdog ? options.watchdog(none) : std::nullopt;
                      });
  PoolRun run;
  run.runId = options.runId.empty() ? makeRunId() : options.runId;
  // A cluster launcher's rank is the node; the layout says which partitions it hosts.
  if (!pool_->reserve(run.runId, n, names)) fail(ErrorKind::Internal, "the run's nodes are busy before it starts");
  for (uint32_t node : nodeOf) run.nodes.push_back(names[node]);
  run.scenarioText = options.scenarioText;
  run.overrides = options.overrides;
  run.map = options.map;
  run.run = options.run;
  if (options.watchdog)
    run.watchdog = [&, nodeOf](const std::vector<bool>& finished) {
      std::vector<bool> nodeFinished(n, true);
      for (size_t k = 0; k < finished.size(); ++k) nodeFinished[nodeOf[k]] = nodeFinished[nodeOf[k]] && finished[k];
      return options.watchdog(nodeFinished);
    };
  run.onHeartbeat = options.onHeartbeat;
  run.placementKey = options.placementKey;
  return pool_->run(run);
}

}  // namespace wafersim
