// A one-shot distributed run (`wafersim run --nodes N`, and the tests): a node pool of its own on
// one control socket, N one-shot nodes ranked 0..N-1 (started here by a launcher, or elsewhere by
// srun or a Kubernetes indexed job), one run on them with partition k on node nodeOf[k] (node k
// without a layout), then every node told to exit. The protocol and its failure handling are the
// pool's (node_pool.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/node_pool.h"
#include "sim/partition_map.h"
#include "sim/simulation.h"

namespace wafersim {

struct NodeRunOptions {
  uint32_t nodes = 1;
  std::string runId;                   // names the run on the wire; "": one is made up
  std::string scenarioText;            // the scenario document, sent to every node as is
  std::vector<std::string> overrides;  // applied by every node, in order
  PartitionMap map;
  // Partition -> node rank (hybrid nodes: several partitions per node, on threads); empty: one
  // partition per node, partition k on node k (then map.partitions == nodes).
  std::vector<uint32_t> nodeOf;
  RunOptions run;                      // run.stop cancels
  uint32_t heartbeatIntervalMs = 250;
  uint32_t heartbeatTimeoutMs = 3000;
  int registrationTimeoutMs = 30000;
  // Called about every 50 ms while the run lasts (registration included): a reason to stop (a
  // local node process died) or nothing. `finished[r]`: every partition of node r sent its results.
  std::function<std::optional<std::string>(const std::vector<bool>& finished)> watchdog;
  std::function<void(const std::vector<uint32_t>& hosted, const proto::HeartbeatMessage& beat)> onHeartbeat;  // PoolRun's
  std::string placementKey;  // PoolRun's
};

class NodeCoordinator {
 public:
  // Binds the control socket, e.g. "tcp://127.0.0.1:*" (an ephemeral port) or "tcp://*:5555";
  // with `curve`, a CURVE server (PoolOptions::curve).
  explicit NodeCoordinator(const std::string& bind = "tcp://127.0.0.1:*",
                           std::shared_ptr<const proto::CurveSecurity> curve = nullptr);
  ~NodeCoordinator();
  NodeCoordinator(const NodeCoordinator&) = delete;
  NodeCoordinator& operator=(const NodeCoordinator&) = delete;

  // The endpoint nodes connect to ("tcp://127.0.0.1:41234").
  const std::string& endpoint() const { return pool_->endpoint(); }
  NodePool& pool() { return *pool_; }

  // Runs to completion. Throws Error naming the node and the reason when the run fails; every
  // node has been told to abort and to exit by then.
  RunReport run(const NodeRunOptions& options);

 private:
  std::unique_ptr<NodePool> pool_;
};

// A fresh run id: "r-" and 12 hex digits from the system's entropy source.
std::string makeRunId();

}  // namespace wafersim
