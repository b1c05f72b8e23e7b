// One node process: hosts one partition and runs it against its peers over ZeroMQ.
//
// Two threads (STYLE.md P11):
//   - the I/O thread (the caller of runNode) owns the DEALER socket to the coordinator: it says
//     hello, relays the assignment, start, aborts and quiescence probes to the simulation thread,
//     relays ready, results, failures and idle reports back, and exchanges heartbeats. If the
//     coordinator stays silent past the heartbeat timeout it aborts the run and the node exits.
//   - the simulation thread owns the model, the Partition and the data sockets (ZmqTransport).
// The two talk over an inproc PAIR with Cap'n Proto envelopes, like everything else.
#pragma once

#include <cstdint>
#include <string>

namespace wafersim {

struct NodeOptions {
  std::string coordinator;             // "tcp://host:port" of the coordinator's control socket
  uint32_t node = 0;                   // this node's rank
  std::string bindHost = "127.0.0.1";  // interface for this node's data socket
  int registrationTimeoutMs = 30000;   // how long to wait for an assignment after hello
};

enum NodeExit : int {
  kNodeOk = 0,
  kNodeRunFailed = 1,       // the run failed (here or elsewhere) and was aborted
  kNodeBadConfig = 2,       // the assignment could not be built
  kNodeLostCoordinator = 3  // no word from the coordinator within the heartbeat timeout
};

// Runs the node until the coordinator shuts it down or is lost; returns the exit code.
int runNode(const NodeOptions& options);

// The rank from the environment, in a fixed order: JOB_COMPLETION_INDEX (Kubernetes indexed
// jobs), SLURM_PROCID, OMPI_COMM_WORLD_RANK. Returns -1 when none is set.
int rankFromEnvironment();

}  // namespace wafersim
