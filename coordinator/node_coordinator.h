// The coordinator's side of a distributed run: registers N node processes, assigns partitions,
// starts them, watches them, decides quiescence for null-message runs, and collects results.
//
// Protocol (every message a Cap'n Proto Envelope on a ROUTER socket; nodes are DEALERs whose
// routing id is "node-<rank>"):
//   node: hello ->            coordinator: assign ->        node: ready ->
//   coordinator: start ->     (nodes run, exchanging batches and window reports directly)
//   node: results | failure ->                              coordinator: shutdown | abort
// Heartbeats flow both ways all along. A node silent for heartbeatTimeout, a node that reports a
// failure, or a local node process that dies fails the run with a reason naming the node, and
// every node is told to abort: no hang, ever. Messages that fail to decode are counted per
// sender and logged; the coordinator keeps running.
//
// Quiescence (null messages without an end time): nodes report when they go idle, with their
// cross-node event counts. When all are idle and the counts balance, the coordinator probes every
// node; if every answer is still idle with the same counts, nothing can be in flight (Mattern's
// four-counter argument) and it tells them to terminate.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/partition_map.h"
#include "sim/simulation.h"

namespace wafersim {

struct NodeRunOptions {
  uint32_t nodes = 1;
  std::string scenarioText;            // the scenario document, sent to every node as is
  std::vector<std::string> overrides;  // applied by every node, in order
  PartitionMap map;
  RunOptions run;
  uint32_t heartbeatIntervalMs = 250;
  uint32_t heartbeatTimeoutMs = 3000;
  int registrationTimeoutMs = 30000;
  // Called about every 50 ms while the run lasts: a reason to stop (a local node process died,
  // the user pressed Ctrl-C) or nothing.
  std::function<std::optional<std::string>(const std::vector<bool>& finished)> watchdog;
};

class NodeCoordinator {
 public:
  // Binds the control socket, e.g. "tcp://127.0.0.1:*" (an ephemeral port) or "tcp://*:5555".
  explicit NodeCoordinator(const std::string& bind = "tcp://127.0.0.1:*");
  ~NodeCoordinator();
  NodeCoordinator(const NodeCoordinator&) = delete;
  NodeCoordinator& operator=(const NodeCoordinator&) = delete;

  // The endpoint nodes connect to ("tcp://127.0.0.1:41234").
  const std::string& endpoint() const { return endpoint_; }

  // Runs to completion. Throws Error naming the node and the reason when the run fails; every
  // node has been told to abort by then.
  RunReport run(const NodeRunOptions& options);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string endpoint_;
};

}  // namespace wafersim
