// One node process: serves run after run, hosting one or more partitions of each (a hybrid node
// runs several on threads), against its peers over ZeroMQ.
//
// Two threads (STYLE.md P11):
//   - the I/O thread (the caller of runNode) owns the DEALER socket to the coordinator: it says
//     hello (name, capacity), takes assignments, relays start, aborts, releases and quiescence
//     probes to the simulation thread of the run in progress, relays ready, results, failures and
//     idle reports back, and exchanges heartbeats. Every control message names its run
//     (Envelope.runId): one for another run than the one in progress is dropped and counted.
//   - one simulation thread per run owns the model, the Partitions and the peer sockets
//     (NodeLink, zmq_transport.h), and runs the first hosted partition; each further hosted
//     partition runs on a thread of its own for the run. The data PULL socket is the node's and
//     outlives runs (late frames of an earlier run are dropped by run id). The I/O and simulation
//     threads talk over an inproc PAIR with Cap'n Proto envelopes, like everything else; ready and
//     results go once per hosted partition, a failure once for the node.
// A run ends for the node with release (done everywhere) or abort; the node then waits for the
// next assignment. Shutdown ends the process. A one-shot node (pool = false) exits when it loses
// the coordinator; a pool node says hello again and waits for it to come back.
// Each run is watched by an obs::RunObserver: engine figures on the node's /metrics, model samples
// sent to the coordinator with the heartbeats (observing never changes the run).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "protocol/curve_keys.h"

namespace wafersim {
namespace obs {
class MetricsRegistry;
}

struct NodeOptions {
  std::string coordinator;             // "tcp://host:port" of the coordinator's control socket
  int rank = -1;                       // this node's rank (one-shot runs), or -1 (pool nodes)
  std::string name;                    // unique in the pool; "" -> "node-<rank>" or "<host>-<pid>"
  bool pool = false;                   // serve the pool until shut down; outlive a lost coordinator
  std::string bindHost = "127.0.0.1";  // interface for this node's data socket
  int registrationTimeoutMs = 30000;   // how long to wait for the coordinator's first word
  int heartbeatTimeoutMs = 3000;       // silence of the coordinator that counts as lost, once heard
  // Where this node's Prometheus metrics go (its runs' engine figures, runs served, busy, refused
  // messages: docs/metrics.md); null: none. Borrowed; outlives runNode.
  obs::MetricsRegistry* metrics = nullptr;
  std::string metricsUrl;  // "http://host:port" of that /metrics, told to the coordinator in hello
  // CURVE (protocol/curve_auth.h), loaded from the node's key files; null: plaintext. With it the
  // node is a CURVE client of the coordinator (curve->coordinatorKey) and of the placement service
  // and its peers (keys from the assignment), and its data socket a CURVE server that lets in only
  // curve->allowed; refusals are counted on its /metrics (socket "data").
  std::shared_ptr<const proto::CurveSecurity> curve;
};

enum NodeExit : int {
  kNodeOk = 0,
  kNodeRunFailed = 1,       // the last run failed (here or elsewhere) and was aborted
  kNodeBadConfig = 2,       // the node's own options are unusable
  kNodeLostCoordinator = 3  // one-shot node: no word from the coordinator within the timeout
};

// Runs the node until the coordinator shuts it down or (one-shot) is lost; returns the exit code.
int runNode(const NodeOptions& options);

// The rank from the environment, in a fixed order: JOB_COMPLETION_INDEX (Kubernetes indexed
// jobs), SLURM_PROCID, OMPI_COMM_WORLD_RANK. Returns -1 when none is set.
int rankFromEnvironment();

}  // namespace wafersim
