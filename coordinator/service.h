// The coordinator service: a long-running process that takes runs and sweeps over an HTTP/JSON API
// (/api/v1, documented by its OpenAPI document at /api/v1/openapi.json and in docs/service.md),
// keeps them in the job store (SQLite, the source of truth), and runs them on its node pool.
//
// Runs: PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELLED | TIMED_OUT, each end with a reason
// (COMPLETED, CACHED, INVALID_SCENARIO, RUN_FAILED, NODE_LOST, CANCELLED_BY_USER, SWEEP_CANCELLED,
// WALL_LIMIT) and a message. A run lost with its node is re-queued up to `maxRetries` times (reason
// NODE_LOST); runs that were running when the coordinator stopped are re-queued when it starts
// again (COORDINATOR_RESTART).
//
// Scheduling: pending runs wait for free nodes; sweeps take turns in the order they came (one
// point of each waiting sweep per turn, round robin, so a long sweep does not starve a later one),
// each up to its own concurrency cap; standalone runs count as sweeps of one.
//
// Result cache: a run's identity is the SHA-256 of its resolved scenario (every default filled in,
// keys sorted), its node count, the contents of the files it reads, and the build (this
// executable's own hash). A submission whose identity already SUCCEEDED is answered at once from
// that run's results (SUCCEEDED, reason CACHED, "cached": true) unless it says "cache": false.
//
// Files: DATA/jobs.sqlite, DATA/runs/<run id>/ (results folder and log.txt), DATA/files/ (where
// relative file names in submitted scenarios resolve; on a cluster, a shared volume).
//
// Access (access.h, docs/security.md): every call that changes state needs a bearer token with the
// role for it (401 without a valid token, 403 with too small a role; nothing changes either way),
// reads too when ServiceOptions::access.protectReads. /healthz, /readyz, /metrics and the page's
// files are always open. A submitter cancels only what it submitted; an admin cancels anything and
// drains nodes. Requests are rate-limited per client address (429). A scenario's files must lie in
// DATA/files or a folder of ServiceOptions::fileDirs once symlinks are resolved, and a run must fit
// the per-run bounds (components, memory estimate, wall-clock limit): the refusal names the bound.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/access.h"
#include "coordinator/node_pool.h"
#include "obs/rate_limiter.h"

namespace wafersim {

struct ServiceOptions {
  std::string dataDir = "wafersim-data";
  std::string httpHost = "127.0.0.1";
  uint16_t httpPort = 8080;            // 0: an ephemeral port (see url())
  std::string control = "tcp://127.0.0.1:5555";  // the node pool's control socket
  std::string placementEndpoint;       // a placement service shared by runs ("": each run starts one as needed)
  size_t maxBodyBytes = 8u << 20;      // larger request bodies: 413
  unsigned httpThreads = 4;
  uint32_t maxRetries = 2;             // NODE_LOST re-queues before a run fails
  uint32_t maxNodesPerRun = 256;
  size_t maxSweepPoints = 10000;
  uint32_t heartbeatTimeoutMs = 3000;
  std::string webDir;                  // the built live page ("": found as web_assets.h says)
  AccessOptions access;                // tokens and roles (access.h); on by default
  http::RateLimit rateLimit{50, 100};  // requests a second per client address, and the burst
  std::vector<std::string> fileDirs;   // folders, besides DATA/files, a scenario may read files from
  // Per-run bounds, so that one submission cannot take the pool (0: none).
  uint64_t maxComponentsPerRun = 1u << 20;
  uint64_t maxMemoryBytesPerRun = 0;   // 0: the coordinator machine's memory
  double maxWallLimitSeconds = 0;      // 0: none; else a run's limit, and the largest it may ask
  // CURVE on the control socket (protocol/curve_auth.h, docs/deploy.md): key files, never keys.
  // Placement services and nodes this process starts get the same files. Off: plaintext.
  proto::CurveFiles curve;
};

class CoordinatorService {
 public:
  // Opens the job store (re-queueing runs left RUNNING by a previous process), binds the control
  // socket and the HTTP port. Throws Error{InvalidConfig} naming what cannot be opened or bound.
  explicit CoordinatorService(ServiceOptions options);
  ~CoordinatorService();  // stop()
  CoordinatorService(const CoordinatorService&) = delete;
  CoordinatorService& operator=(const CoordinatorService&) = delete;

  void start();  // the HTTP threads and the scheduler; returns at once
  // Stops taking requests; runs in progress are stopped and left PENDING (COORDINATOR_RESTART) for
  // the next start. Safe to call twice.
  void stop();

  std::string url() const;                 // "http://127.0.0.1:8080"
  const std::string& controlEndpoint() const;
  NodePool& pool();
  std::vector<std::pair<std::string, std::string>> routes() const;  // every (method, pattern) served

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wafersim
