// The coordinator's node pool: the wafersim-node processes registered on its control socket, and
// the runs in progress on them. One process (the coordinator service, or a one-shot `wafersim run
// --nodes N`) keeps one pool and runs many runs on it side by side.
//
// Protocol (every message a Cap'n Proto Envelope on a ROUTER socket; nodes are DEALERs whose
// routing id is their name, and every message about a run names it in Envelope.runId):
//   node: hello (name, capacity) ->                 registered, heartbeats both ways from then on
//   coordinator: assign (partition k of run R) ->   node: ready ->
//   coordinator: start ->                           (nodes run, exchanging batches among themselves)
//   node: results | failure ->                      coordinator: release | abort
//   node: release ->                                the node is free for the next run
// A node silent for the heartbeat timeout is dropped from the pool and fails the run it was in,
// with a reason naming it; so does a run's watchdog (a local node process died, the run was
// cancelled, its wall-clock limit passed). A failed run's nodes are told to abort: no hang, ever.
// Messages that fail to decode, come from peers that never said hello, or name a run their
// sender is not in are counted and logged (rate-limited); the pool keeps running.
//
// Quiescence (null messages without an end time): nodes report when they go idle, with their
// cross-node event counts. When all are idle and the counts balance, the pool probes every node of
// the run; if every answer is still idle with the same counts, nothing can be in flight (Mattern's
// four-counter argument) and it tells them to terminate.
//
// Threads: one I/O thread owns the socket and every run's state; the other methods may be called
// from any thread and talk to it through a queue it is woken for.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "protocol/curve_keys.h"
#include "protocol/messages.h"
#include "sim/partition_map.h"
#include "sim/simulation.h"

namespace prometheus {
class Collectable;
}

namespace wafersim {

struct PoolOptions {
  uint32_t heartbeatIntervalMs = 250;
  uint32_t heartbeatTimeoutMs = 3000;
  uint32_t readyTimeoutMs = 300000;  // from assignment to every node ready (building a large system)
  // Called (from the pool's thread) whenever a node registers, leaves or becomes free.
  std::function<void()> onChange;
  // CURVE on the control socket (protocol/curve_auth.h): only clients with an allowed key get in,
  // and assignments carry the nodes' data keys. Null: plaintext.
  std::shared_ptr<const proto::CurveSecurity> curve;
};

// What GET /api/v1/nodes shows of one node.
struct PoolNode {
  std::string name;      // unique; the routing id
  std::string hostname;
  uint32_t pid = 0;
  uint32_t rank = 0;
  uint32_t cores = 0;
  uint64_t memoryBytes = 0;
  bool pool = false;     // a pool node (true) or a one-shot node of a local run
  std::string dataEndpoint;
  std::string runId;     // the run it is in, or ""
  uint32_t partition = 0;
  double silentSeconds = 0;
  int64_t registeredNs = 0;  // system clock
  uint64_t runsServed = 0;
  std::string metricsUrl;  // where the node serves /metrics, or ""
};

struct PoolRun {
  std::string runId;                   // unique among the pool's runs in progress
  // Node names, one per partition, in partition order; a node named for several partitions hosts
  // them all on threads (a hybrid node; the window strategy only: null messages wait for any one
  // batch, which a node's partitions cannot share).
  std::vector<std::string> nodes;
  std::string scenarioText;            // sent to every node as is
  std::vector<std::string> overrides;  // applied by every node, in order
  PartitionMap map;
  // run.stop cancels: the run fails with "run cancelled"; run.checkpoint.requested set asks its
  // nodes for a cut at their next window start (sent at the pool's next tick, within 50 ms).
  RunOptions run;
  // Called about every 50 ms from the pool's thread while the run lasts: a reason to stop it (a
  // local node process died, the wall-clock limit passed) or nothing. `finished[k]`: partition k
  // has sent its results.
  std::function<std::optional<std::string>(const std::vector<bool>& finished)> watchdog;
  // Called on the pool's thread for each heartbeat of one of the run's nodes (its partition's
  // progress and model samples, for an observer); quick, must not throw. May be empty.
  // A node hosting several partitions reports their sum, counted on the first of `hosted`.
  std::function<void(const std::vector<uint32_t>& hosted, const proto::HeartbeatMessage& beat)> onHeartbeat;
  // With CURVE: the public key of the placement service the run's nodes ask; "": the key of the
  // one registered with the pool, else the pool's own (a service started with the coordinator's
  // key files).
  std::string placementKey;
};

class NodePool {
 public:
  // Binds the control socket, e.g. "tcp://127.0.0.1:*" (an ephemeral port) or "tcp://*:5555".
  explicit NodePool(const std::string& bind = "tcp://127.0.0.1:*", PoolOptions options = {});
  ~NodePool();  // stops the I/O thread; runs still in progress fail (their nodes are told to abort)
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // The endpoint nodes connect to ("tcp://127.0.0.1:41234"; a wildcard host reads as 127.0.0.1).
  const std::string& endpoint() const;

  std::vector<PoolNode> nodes() const;  // sorted by name
  size_t size() const;
  size_t idle() const;

  // Waits until `names` are all registered, or at least `count` nodes when `names` is empty.
  // `check` is called about every 50 ms: a reason to give up (thrown as Error{Disconnected}).
  // Throws Error{Disconnected} naming what is missing when the timeout passes.
  void waitForNodes(size_t count, const std::vector<std::string>& names, std::chrono::milliseconds timeout,
                    const std::function<std::optional<std::string>()>& check = {});

  // Waits until at least `count` nodes are idle, or the timeout passes; returns whether they are.
  bool waitIdle(size_t count, std::chrono::milliseconds timeout) const;

  // Reserves `count` idle nodes for `runId` (sorted by name), or exactly `names` when given;
  // nothing when they are not all idle.
  std::optional<std::vector<std::string>> reserve(const std::string& runId, uint32_t count,
                                                  const std::vector<std::string>& names = {});
  // Gives back nodes reserved and not used by run().
  void unreserve(const std::string& runId);

  // Runs on the nodes reserved for it (run.nodes). Blocks until the run ends. Throws Error naming
  // the node and the reason when the run fails; its nodes have been told to abort by then and come
  // back to the pool once they say they are free.
  RunReport run(const PoolRun& run);

  // A run's progress as its nodes' heartbeats report it (nothing when the run is not in progress).
  struct Progress {
    uint64_t events = 0;      // all partitions
    int64_t simulatedPs = 0;  // the latest committed event time of any partition
  };
  std::optional<Progress> progress(const std::string& runId) const;
  // Waits until the run's nodes report at least `events` committed events; false on timeout or
  // when the run is not in progress.
  bool waitForProgress(const std::string& runId, uint64_t events, std::chrono::milliseconds timeout) const;

  // Changes the heartbeat for every node from now on (assignments carry it to the nodes).
  void setHeartbeat(uint32_t intervalMs, uint32_t timeoutMs);

  // A node known to be gone (its local process died): dropped at once, failing its run.
  void nodeLost(const std::string& name, const std::string& reason);
  // Tells the node to exit and drops it from the pool at once (failing its run, if it has one).
  void removeNode(const std::string& name, const std::string& reason);
  // Tells every registered node to exit (one-shot runs; the service's shutdown).
  void shutdownNodes();

  // The endpoint of a placement service registered with the pool (wafersim-placement
  // --coordinator), or "" when none is.
  std::string placementEndpoint() const;
  bool waitForPlacement(std::chrono::milliseconds timeout) const;  // until one has registered

  // wafersim_zmq_auth_*_total{socket="control"} for the process's /metrics (held by the pool, as
  // long as it lives); null without CURVE.
  std::shared_ptr<prometheus::Collectable> authMetrics() const;
  uint64_t authRefused() const;  // CURVE clients refused on the control socket (0 without CURVE)

  struct Counters {
    uint64_t rejected = 0;       // undecodable, from unknown peers, unexpected kinds
    uint64_t stale = 0;          // naming a run the sender is not in
    uint64_t nodesLost = 0;
    uint64_t runsStarted = 0;
  };
  Counters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "node-3" -> "node 3"; other names -> "node NAME": how messages name a node.
std::string describeNode(const std::string& name);

}  // namespace wafersim
