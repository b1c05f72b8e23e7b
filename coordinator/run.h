// Running one scenario, start to results folder: load and check it, partition it, start what it
// needs (a placement service, local node processes), run it in this process on threads or on
// node processes, and write the self-describing results folder (scenario.yaml,
// scenario.resolved.json, results.json, summary.json, partition.json, run.json and the CSV tables).
// `wafersim run`, `wafersim study` and the coordinator service all run through executeRun.
//
// Everything a run uses is its own (ARCHITECTURE.md contract 9): its placement client, its stop
// token, its progress, its node processes or the pool nodes reserved for it. Many runs may execute
// at once in one process. Nothing here installs a signal handler or prints: report lines go to
// RunSpec::log.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/node_pool.h"
#include "obs/run_observer.h"
#include "models/model_catalog.h"
#include "scenario/scenario.h"
#include "sim/checkpoint.h"
#include "sim/partition.h"

namespace wafersim {

struct DistributedFlags {
  uint32_t nodes = 0;         // 0: run in this process, one thread per partition
  std::string listen = "tcp://127.0.0.1:*";
  bool launch = true;         // start the nodes here; otherwise wait for them to connect
  uint32_t heartbeatTimeoutMs = 3000;
  // CURVE between this process, its nodes and its placement service (key files; the processes
  // started here get the same paths). Off: plaintext.
  proto::CurveFiles curve;
};

// Cuts asked for while a run goes on (POST /api/v1/runs/{id}/checkpoint). The run sets `armed`
// once it can take them (the window strategy: its checkpoints folder made, every component type
// with hooks); setting `pending` then asks for one at the next window start, in any run layout.
struct CheckpointRequests {
  std::atomic<bool> armed{false};
  std::atomic<bool> pending{false};
};

struct RunSpec {
  std::string runId;                   // names the run (on the wire, in the folder); "": made up
  std::string scenarioText;            // the scenario document (YAML or JSON)
  std::string source;                  // for messages: "examples/quickstart.yaml"
  std::string baseDir;                 // relative files resolve here; "": the folder of `source`
  std::vector<std::string> overrides;  // "dotted.path=value", in order
  std::string outDir;                  // "": runs/<scenario stem>-<run id>
  DistributedFlags flags;              // flags.nodes > 0: node processes
  // The service's way: run on these pool nodes (reserved for runId by the caller), sharing this
  // placement service. Without a pool, node runs start their own nodes (flags) and, when the
  // scenario places online, their own placement service.
  NodePool* pool = nullptr;
  std::vector<std::string> poolNodes;
  std::string placementEndpoint;
  std::stop_token stop;                // cancels: the run throws Error "run cancelled" within a window
  RunProgress* progress = nullptr;     // in-process runs report here (pool runs: NodePool::progress)
  // When set: watches the run (obs/run_observer.h: /metrics, the live view); its progress is used
  // instead of `progress`. The caller registers it with its metrics and says how the run ended.
  std::shared_ptr<obs::RunObserver> observer;
  std::function<void(const std::string& line)> log;  // the report, line by line; may be empty
  // A run folder to resume from (its checkpoints/ latest cut, sim/checkpoint.h); "": start anew.
  // The scenario must be the one the folder's run was of (resumeSpec reads it back), with any
  // partitioning and synchronization.
  std::string resumeFrom;
  // Its latest cut when the caller has read it already (the service checks that it is usable);
  // null: executeRun reads it.
  std::shared_ptr<const CheckpointImage> resumeCut;
  // Set: the run takes cuts on demand as well (a window-strategy run arms its checkpoints folder
  // for them even without checkpoint_every). Shared with whoever asks.
  std::shared_ptr<CheckpointRequests> checkpointRequests;
};

// The spec that resumes the run whose folder is `runDir`: its scenario (runDir/scenario.yaml), the
// overrides it ran with (runDir/run-spec.json) followed by `overrides`, its run id; results go
// to runDir unless `outDir` says otherwise. Throws Error{InvalidConfig} when the folder is not a
// run's folder.
RunSpec resumeSpec(const std::string& runDir, const std::vector<std::string>& overrides, const std::string& outDir);

struct RunOutcome {
  std::string runId;
  std::string outDir;        // the results folder written
  std::string digest;        // results digest (hex)
  nlohmann::json summary;    // what summary.json holds
};

// Runs the spec. Throws Error on a bad scenario (InvalidConfig, naming file, line and field) or a
// failed or cancelled run.
RunOutcome executeRun(const RunSpec& spec);

// `wafersim run FILE`: reads the file and runs it, printing the report on `report` (stdout).
RunOutcome runScenario(const std::string& file, const std::vector<std::string>& overrides, std::string outDir,
                       const DistributedFlags& flags, std::stop_token stop = {}, std::FILE* report = stdout);

// The files a scenario reads, as (parameter, absolute path): its path parameters with a value,
// and simulation.partition_map. For the result cache's identity and for nodes on other machines.
std::vector<std::pair<std::string, std::string>> scenarioFiles(const Scenario& scenario, const ModelCatalog& catalog);

// The scenario with every default filled in, keys sorted, files named by absolute path:
// {"model", "params": {...}, "simulation": {...}} (the result cache hashes it).
nlohmann::json resolvedScenario(const Scenario& scenario, const ModelCatalog& catalog);

}  // namespace wafersim
