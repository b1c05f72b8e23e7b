#include "coordinator/service.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stop_token>
#include <thread>

#include <unistd.h>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "coordinator/content_hash.h"
#include "obs/http_server.h"
#include "obs/metrics.h"
#include "obs/run_observer.h"
#include "coordinator/job_store.h"
#include "coordinator/node_coordinator.h"
#include "coordinator/run.h"
#include "coordinator/run_bounds.h"
#include "coordinator/service_api.h"
#include "coordinator/sweep.h"
#include "sim/checkpoint.h"
#include "coordinator/web_assets.h"
#include "sim/error.h"
#include "sim/wall_timer.h"

namespace wafersim {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The build's identity for the result cache: this executable's bytes.
const std::string& buildIdentity() {
  static const std::string id = [] {
    try {
      return sha256File(fs::read_symlink("/proc/self/exe"));
    } catch (const std::exception&) {
      return std::string("unknown-build");
    }
  }();
  return id;
}

// A run the scheduler started, and how to stop it.
struct Active {
  std::thread thread;
  std::stop_source stop;
  std::string stopReason;   // why stop was requested: CANCELLED_BY_USER, SWEEP_CANCELLED, WALL_LIMIT, COORDINATOR_RESTART
  Clock::time_point started;
  double wallLimitSeconds = 0;
  std::vector<std::string> nodes;
  uint64_t attempt = 0;     // which execution of the run this is (a re-queued run runs again)
  bool done = false;
  std::shared_ptr<CheckpointRequests> cuts = std::make_shared<CheckpointRequests>();  // this attempt's
};

}  // namespace

struct CoordinatorService::Impl {
  // First, so that they exist before the pool's thread can call nudge().
  std::mutex mutex;  // guards active, started
  std::condition_variable wake;
  std::mutex changeMutex;
  std::condition_variable changeCv;
  uint64_t changes = 0;
  std::atomic<bool> stopping{false};

  ServiceOptions options;
  fs::path data;
  JobStore store;
  AccessControl access;
  NodePool pool;
  std::unique_ptr<http::Server> server;
  std::vector<std::pair<std::string, std::string>> routeList;

  std::map<std::string, Active> active;
  uint64_t attempts = 0;

  // Metrics (docs/metrics.md): this process's registry, the API's request counter and latency
  // histogram, and the runs' observers (the running ones and the last kKeptObservers ended).
  obs::MetricsRegistry metrics{"coordinator"};
  prometheus::Family<prometheus::Counter>& httpRequests =
      prometheus::BuildCounter()
          .Name("wafersim_http_requests_total")
          .Help("API requests by route, method and status.")
          .Register(metrics.registry());
  prometheus::Family<prometheus::Histogram>& httpLatency =
      prometheus::BuildHistogram()
          .Name("wafersim_http_request_duration_seconds")
          .Help("API request latency by route, method and status (long polls wait up to their timeout).")
          .Register(metrics.registry());
  prometheus::Family<prometheus::Counter>& authRefused =
      prometheus::BuildCounter()
          .Name("wafersim_http_auth_refused_total")
          .Help("API requests refused for their credential: missing, invalid (401) or forbidden (403).")
          .Register(metrics.registry());
  prometheus::Family<prometheus::Counter>& runsRefused =
      prometheus::BuildCounter()
          .Name("wafersim_service_runs_refused_total")
          .Help("Submissions refused before they were stored, by reason (a file outside the allowed folders, a per-run bound).")
          .Register(metrics.registry());
  std::shared_ptr<prometheus::Collectable> serviceMetrics;
  std::atomic<uint64_t> cacheHits{0};
  static constexpr size_t kKeptObservers = 32;
  std::mutex observersMutex;  // guards observers, endedObservers, runsEnded
  std::map<std::string, std::shared_ptr<obs::RunObserver>> observers;
  std::deque<std::string> endedObservers;  // oldest first
  std::map<std::string, uint64_t> runsEnded;  // state -> runs ended since start
  // Threads of earlier attempts of a run started again before they were joined: joined by the
  // scheduler outside the lock (they may still be on their way to retire()).
  std::vector<std::thread> finishing;
  bool started = false;
  std::thread scheduler;

  Impl(ServiceOptions o)
      : options(std::move(o)),
        data(options.dataDir),
        store((fs::create_directories(data), data)),
        access(options.access, data),
        pool(options.control, PoolOptions{250, options.heartbeatTimeoutMs, 300000, [this] { nudge(); },
                                          proto::loadCurveSecurity(options.curve)}) {
    fs::create_directories(data / "runs");
    fs::create_directories(data / "files");
    serviceMetrics = obs::makeCollectable([this] { return collectService(); });
    metrics.add(serviceMetrics);
    if (auto auth = pool.authMetrics()) metrics.add(auth);  // the pool keeps it
    buildIdentity();  // hashes this executable (tens of MB) now, not in the first request
    const auto requeued =
        store.requeueAllRunning("COORDINATOR_RESTART", "the coordinator restarted while the run was in progress");
    for (const auto& id : requeued) std::fprintf(stderr, "wafersim-coordinator: re-queued %s (was running)\n", id.c_str());
  }

  // A run's state may have changed: wake the scheduler and the requests waiting on states.
  void nudge() {
    {
      std::lock_guard<std::mutex> lock(changeMutex);
      ++changes;
    }
    changeCv.notify_all();
    wake.notify_all();
  }

  fs::path runDir(const std::string& id) const { return data / "runs" / id; }

  // ---- submissions ----

  // A submission refused by the service's rules rather than the scenario's validator: a file outside
  // the allowed folders, a per-run bound. `code` is the error body's code (and the metric's reason).
  struct Refusal : Error {
    std::string code;
    Refusal(std::string c, const std::string& message) : Error(ErrorKind::InvalidConfig, message), code(std::move(c)) {}
  };

  // The folders a scenario may read from, resolved (symlinks and all): DATA/files and fileDirs.
  std::vector<fs::path> allowedDirs() const {
    std::vector<fs::path> dirs;
    std::error_code ec;
    dirs.push_back(fs::weakly_canonical(data / "files", ec));
    for (const auto& d : options.fileDirs) dirs.push_back(fs::weakly_canonical(d, ec));
    return dirs;
  }

  // `path` (absolute, from scenarioFiles) once every symlink is resolved must lie inside an allowed
  // folder: "..", absolute names and links out of the folder are all refused the same way.
  void requireAllowedFile(const std::string& key, const std::string& path) const {
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(path, ec);
    if (!ec && path.find('\0') == std::string::npos)
      for (const fs::path& dir : allowedDirs()) {
        const auto [d, r] = std::mismatch(dir.begin(), dir.end(), real.begin(), real.end());
        if (d == dir.end() && r != real.end()) return;
      }
    std::string allowed;
    for (const fs::path& dir : allowedDirs()) allowed += (allowed.empty() ? "" : ", ") + dir.string();
    throw Refusal("file_not_allowed", key + ": " + path + " is outside the folders this service reads scenario files from (" +
                                          allowed + ")");
  }

  void requireWithinBounds(const SystemGraph& graph, uint64_t fileBytes, uint32_t nodes) const {
    const uint64_t components = graph.components().size();
    if (options.maxComponentsPerRun > 0 && components > options.maxComponentsPerRun)
      throw Refusal("run_too_large", "the run has " + std::to_string(components) +
                                         " simulated components; this service allows at most " +
                                         std::to_string(options.maxComponentsPerRun) + " a run (maxComponentsPerRun)");
    const uint64_t bound = options.maxMemoryBytesPerRun > 0 ? options.maxMemoryBytesPerRun : machineMemoryBytes();
    const uint64_t perNode =
        RunMemoryModel::kBaselineBytes + estimateRunMemoryBytes(graph, fileBytes) / std::max<uint32_t>(1, nodes);
    if (bound > 0 && perNode > bound)
      throw Refusal("run_too_large", "the run needs an estimated " + std::to_string(perNode >> 20) +
                                         " MiB a node; this service allows at most " + std::to_string(bound >> 20) +
                                         " MiB a run (memory estimate: docs/security.md)");
  }

  static uint64_t machineMemoryBytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(size) : 0;
  }

  // The wall-clock limit a run gets: its own, bounded by the service's.
  double wallLimitFor(double asked) const {
    if (options.maxWallLimitSeconds <= 0) return asked;
    if (asked > options.maxWallLimitSeconds)
      throw Refusal("run_too_large", "wall_limit_s " + std::to_string(asked) + " is over this service's bound of " +
                                         std::to_string(options.maxWallLimitSeconds) + " s (maxWallLimitSeconds)");
    return asked > 0 ? asked : options.maxWallLimitSeconds;
  }

  // Checks a submission's scenario and works out what the run is: the identity and its parts.
  struct Checked {
    std::string scenarioText;
    std::vector<std::string> overrides;  // as given, with relative files anchored in DATA/files
    std::string identity;
    json resolved;
  };
  Checked check(const std::string& scenarioText, const std::vector<std::string>& overrides, uint32_t nodes,
                bool build) {
    ModelCatalog catalog;
    registerBuiltinModels(catalog);
    Scenario s = parseScenario(scenarioText, "scenario", overrides);
    s.modelParams.setBaseDir((data / "files").string());
    // A submission has no working directory: a relative file given with "set" is in DATA/files, as
    // one in the scenario is, and the run is stored with it anchored there.
    std::vector<std::string> anchored = overrides;
    for (std::string& o : anchored) {
      const size_t eq = o.find('=');
      if (eq == std::string::npos || o.compare(0, 7, "params.") != 0) continue;
      const std::string name = o.substr(7, eq - 7), value = o.substr(eq + 1);
      for (const ParamSpec& p : catalog.get(s.model).params)
        if (p.name == name && p.type == ParamType::Path && !value.empty() && fs::path(value).is_relative()) {
          o = o.substr(0, eq + 1) + (data / "files" / value).lexically_normal().string();
          s.modelParams.set(name, o.substr(eq + 1));
        }
    }
    if (!s.partitionMapFile.empty() && fs::path(s.partitionMapFile).is_relative())
      s.partitionMapFile = (data / "files" / s.partitionMapFile).string();
    if (!s.partitionProfile.empty() && fs::path(s.partitionProfile).is_relative())
      s.partitionProfile = (data / "files" / s.partitionProfile).string();
    // A run's placement service is the pool's: a scenario may not send nodes to another endpoint.
    if (s.modelParams.has("mapping.service") && !s.modelParams.text("mapping.service").empty())
      throw Refusal("file_not_allowed", "params.mapping.service: a submitted run uses the service's placement "
                                         "service; naming another endpoint is not allowed");
    const auto files = scenarioFiles(s, catalog);
    uint64_t fileBytes = 0;
    for (const auto& [key, path] : files) {
      requireAllowedFile(key, path);
      WAFERSIM_REQUIRE(fs::is_regular_file(path), key, ": no such file: ", path);
      fileBytes += fs::file_size(path);
    }
    if (build) {
      ComponentRegistry registry;
      registerBuiltinComponents(registry);
      SystemGraph graph = catalog.build(s.model, s.modelParams, "scenario: params", s.run.seed);
      graph.validate(registry);
      requireWithinBounds(graph, fileBytes, nodes);
    }
    Checked c;
    c.scenarioText = scenarioText;
    c.overrides = anchored;
    c.resolved = resolvedScenario(s, catalog);
    Sha256 h;
    h.update(c.resolved.dump());
    h.update("\nnodes=" + std::to_string(nodes));
    for (const auto& [key, path] : files) h.update("\n" + key + "=" + sha256File(path));
    h.update("\nbuild=" + buildIdentity());
    c.identity = h.finishHex();
    return c;
  }

  // Ends `r` with the results of an earlier run of the same identity, when one SUCCEEDED and `r`
  // may use the cache; returns whether it did.
  bool answerFromCache(RunRecord& r, int64_t finishedNs) {
    if (!r.useCache || r.identity.empty()) return false;
    auto hit = store.succeededWithIdentity(r.identity);
    if (!hit) return false;
    cacheHits.fetch_add(1, std::memory_order_relaxed);
    r.state = RunState::Succeeded;
    r.reason = "CACHED";
    r.message = "answered from run " + hit->id + " (same scenario, files and build)";
    r.cached = true;
    r.cachedFrom = hit->id;
    r.summary = hit->summary;
    r.digest = hit->digest;
    r.finishedNs = finishedNs;
    return true;
  }

  // A refusal's answer: 400 with its code (the scenario's own errors: "invalid_scenario").
  http::Response refused(const Error& e, const std::string& prefix = "") {
    std::string code = "invalid_scenario";
    if (auto* r = dynamic_cast<const Refusal*>(&e)) code = r->code;
    if (code != "invalid_scenario") runsRefused.Add({{"reason", code}}).Increment();
    return http::Response::json(400, api::errorBody(400, code, prefix + e.what()));
  }

  http::Response submitRun(const http::Request& req, const Principal& who) {
    const api::RunSubmission sub = api::parseRunSubmission(req.body, options.maxNodesPerRun);
    RunRecord r;
    r.id = sub.id.empty() ? makeRunId() : sub.id;
    r.bodyHash = sub.bodyHash;
    r.request = sub.request;
    r.labels = sub.labels;
    r.nodes = sub.nodes;
    r.useCache = sub.cache;
    r.createdNs = systemClockNs();
    r.owner = access.enabled() ? who.name : "";
    if (!sub.id.empty())  // an idempotent resubmission is answered before any work
      if (auto existing = store.run(sub.id)) return resubmitted(*existing, sub.bodyHash);
    Checked c;
    try {
      r.wallLimitSeconds = wallLimitFor(sub.wallLimitSeconds);
      c = check(sub.scenarioText, sub.overrides, sub.nodes, true);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::InvalidConfig) throw;
      return refused(e);
    }
    r.identity = c.identity;
    r.request["set"] = c.overrides;
    answerFromCache(r, r.createdNs);
    auto inserted = store.insertRun(r);
    if (!inserted.inserted) return resubmitted(inserted.run, sub.bodyHash);
    nudge();
    return http::Response::json(201, runJson(inserted.run));
  }

  http::Response resubmitted(const RunRecord& existing, const std::string& bodyHash) {
    if (existing.bodyHash != bodyHash)
      return http::Response::json(
          409, api::errorBody(409, "conflict", "run " + existing.id + " exists with another body; choose another id"));
    return http::Response::json(200, runJson(existing));
  }

  http::Response submitSweep(const http::Request& req, const Principal& who) {
    const api::SweepSubmission sub = api::parseSweepSubmission(req.body, options.maxNodesPerRun);
    if (!sub.id.empty())
      if (auto existing = store.sweep(sub.id)) {
        if (existing->bodyHash != sub.bodyHash)
          return http::Response::json(409, api::errorBody(409, "conflict", "sweep " + sub.id + " exists with another body"));
        return http::Response::json(200, sweepJson(*existing));
      }
    SweepSpec spec;
    std::vector<SweepPoint> points;
    try {
      spec = parseSweepSpec(sub.spec, options.maxSweepPoints);
      points = expandSweep(spec);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::InvalidConfig) throw;
      return http::Response::json(400, api::errorBody(400, "invalid_sweep", e.what()));
    }
    SweepRecord sweep;
    sweep.id = sub.id.empty() ? "s-" + makeRunId().substr(2) : sub.id;
    sweep.bodyHash = sub.bodyHash;
    sweep.request = sub.request;
    sweep.labels = sub.labels;
    sweep.concurrency = sub.concurrency;
    sweep.createdNs = systemClockNs();
    sweep.owner = access.enabled() ? who.name : "";
    double wallLimit = 0;
    try {
      wallLimit = wallLimitFor(sub.wallLimitSeconds);
    } catch (const Error& e) {
      return refused(e);
    }
    std::vector<RunRecord> runs;
    for (size_t i = 0; i < points.size(); ++i) {
      std::vector<std::string> overrides = sub.overrides;
      overrides.insert(overrides.end(), points[i].overrides.begin(), points[i].overrides.end());
      Checked c;
      try {  // every point parsed and resolved; the first built too (the others share its shape)
        c = check(sub.scenarioText, overrides, sub.nodes, i == 0);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::InvalidConfig) throw;
        return refused(e, "sweep point " + std::to_string(i) + " (" + points[i].values.dump() + "): ");
      }
      RunRecord r;
      r.id = sweep.id + "-" + std::to_string(i);
      r.bodyHash = sub.bodyHash;
      r.sweepId = sweep.id;
      r.sweepIndex = static_cast<int64_t>(i);
      r.request = {{"scenario", sub.scenarioText}, {"set", c.overrides}, {"nodes", sub.nodes}};
      r.point = points[i].values;
      r.labels = sub.labels;
      r.identity = c.identity;
      r.nodes = sub.nodes;
      r.useCache = sub.cache;
      r.wallLimitSeconds = wallLimit;
      r.owner = sweep.owner;
      r.createdNs = sweep.createdNs;
      answerFromCache(r, r.createdNs);
      runs.push_back(std::move(r));
    }
    auto inserted = store.insertSweep(sweep, std::move(runs));
    if (!inserted.inserted) {
      if (inserted.sweep.bodyHash != sub.bodyHash)
        return http::Response::json(409, api::errorBody(409, "conflict", "sweep " + sweep.id + " exists with another body"));
      return http::Response::json(200, sweepJson(inserted.sweep));
    }
    nudge();
    return http::Response::json(201, sweepJson(inserted.sweep));
  }

  // ---- views ----

  json runJson(const RunRecord& r) {
    json j = api::runView(r);
    if (r.state == RunState::Running) {
      if (auto p = pool.progress(r.id)) {
        const double wall = r.startedNs > 0 ? static_cast<double>(systemClockNs() - r.startedNs) * 1e-9 : 0;
        j["progress"] = {{"simulated_time_s", static_cast<double>(p->simulatedPs) * 1e-12},
                         {"events", p->events},
                         {"events_per_s", wall > 0 ? static_cast<double>(p->events) / wall : 0.0}};
        if (auto observer = observerOf(r.id)) j["progress"]["ratio"] = observer->progressRatio();
      }
    }
    return j;
  }

  json sweepJson(const SweepRecord& s) {
    json j = api::sweepView(s);
    json counts = json::object();
    int64_t total = 0;
    for (const auto& [state, n] : store.countByState(s.id)) {
      counts[toString(state)] = n;
      total += n;
    }
    j["counts"] = counts;
    j["points"] = total;
    j["cached"] = store.countCached(s.id);
    return j;
  }

  RunRecord requireRun(const std::string& id) {
    auto r = store.run(id);
    if (!r) throw api::NotFound("no run " + id);
    return *r;
  }
  SweepRecord requireSweep(const std::string& id) {
    auto s = store.sweep(id);
    if (!s) throw api::NotFound("no sweep " + id);
    return *s;
  }

  // ---- cancellation ----

  // Ends a pending run at once, or asks a running one to stop; false if it had already ended.
  bool cancelRun(const RunRecord& r, const std::string& reason, const std::string& message) {
    if (isFinal(r.state)) return false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (auto it = active.find(r.id); it != active.end()) {
        if (it->second.stopReason.empty()) it->second.stopReason = reason;
        it->second.stop.request_stop();
        return true;
      }
    }
    RunRecord ended = r;
    ended.state = RunState::Cancelled;
    ended.reason = reason;
    ended.message = message;
    ended.finishedNs = systemClockNs();
    if (store.finish(ended)) return true;
    // It started in the meantime: stop it.
    if (auto now = store.run(r.id)) return cancelRun(*now, reason, message);
    return false;
  }

  // ---- scheduling ----

  void schedule() {
    // Nothing can start without a free node; a pass reads every pending run, so skipping it
    // keeps a long queue from slowing submissions down (cancelled sweeps end their pending runs
    // themselves, and a cache hit is checked again when a node is free).
    const size_t idle = pool.idle();
    if (idle == 0) return;
    // Each queue can start at most `idle` runs in this pass (a cache hit or a cancelled sweep's
    // point ends at once, so a few more keep the pass busy).
    std::vector<RunRecord> pending = store.pendingHeads(static_cast<uint32_t>(idle) + 8);
    if (pending.empty()) return;
    std::map<std::string, uint32_t> runningBySweep;
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (const auto& [id, a] : active)
        if (!a.done)
          if (auto r = store.run(id)) ++runningBySweep[r->sweepId];
    }
    std::map<std::string, std::optional<SweepRecord>> sweeps;
    // Queues in the order their first pending run came; a standalone run is a queue of its own.
    std::vector<std::pair<std::string, std::vector<RunRecord>>> queues;
    std::map<std::string, size_t> queueOf;
    for (auto& r : pending) {
      const std::string key = r.sweepId.empty() ? "run:" + r.id : r.sweepId;
      auto it = queueOf.find(key);
      if (it == queueOf.end()) {
        queueOf[key] = queues.size();
        queues.push_back({key, {}});
        it = queueOf.find(key);
      }
      queues[it->second].second.push_back(std::move(r));
    }
    std::vector<size_t> next(queues.size(), 0);
    for (bool progress = true; progress;) {
      progress = false;
      for (size_t q = 0; q < queues.size(); ++q) {
        auto& runs = queues[q].second;
        if (next[q] >= runs.size()) continue;
        RunRecord& r = runs[next[q]];
        if (!r.sweepId.empty()) {
          auto& sw = sweeps[r.sweepId];
          if (!sw) sw = store.sweep(r.sweepId);
          if (sw && sw->cancelled) {
            cancelRun(r, "SWEEP_CANCELLED", "the sweep was cancelled");
            ++next[q];
            progress = true;
            continue;
          }
          if (sw && sw->concurrency > 0 && runningBySweep[r.sweepId] >= sw->concurrency) continue;
        }
        // An identical run may have finished since this one was queued.
        if (RunRecord ended = r; answerFromCache(ended, systemClockNs())) {
          store.finish(ended);
          ++next[q];
          progress = true;
          continue;
        }
        auto nodes = pool.reserve(r.id, r.nodes);
        if (!nodes) continue;  // waits for free nodes; smaller runs of other queues may still fit
        if (!store.markRunning(r.id, systemClockNs())) {
          pool.unreserve(r.id);
          ++next[q];
          continue;
        }
        ++runningBySweep[r.sweepId];
        launch(r, *nodes);
        nudge();
        ++next[q];
        progress = true;
      }
    }
  }

  void launch(const RunRecord& record, const std::vector<std::string>& nodes) {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto old = active.find(record.id); old != active.end()) {
      finishing.push_back(std::move(old->second.thread));
      active.erase(old);
    }
    Active& a = active[record.id];
    a.started = Clock::now();
    a.wallLimitSeconds = record.wallLimitSeconds;
    a.nodes = nodes;
    a.attempt = ++attempts;
    a.thread = std::thread([this, record, nodes, token = a.stop.get_token(), attempt = a.attempt, cuts = a.cuts] {
      execute(record, nodes, token, attempt, cuts);
    });
  }

  void execute(RunRecord record, std::vector<std::string> nodes, std::stop_token stop, uint64_t attempt,
               std::shared_ptr<CheckpointRequests> cuts) {
    const fs::path dir = runDir(record.id);
    // A re-queued run (its node lost, the coordinator restarted) goes on from its last committed
    // checkpoint when it has a usable one (sim/checkpoint.h); otherwise its folder starts afresh.
    std::string resumeNote;
    std::shared_ptr<const CheckpointImage> cut;
    if (fs::exists(dir / "checkpoints" / "latest") && fs::exists(dir / "run-spec.json")) {
      try {
        cut = std::make_shared<const CheckpointImage>(loadLatestCheckpoint((dir / "checkpoints").string()));
        resumeNote = "resuming from its checkpoint at " + toString(cut->time);
      } catch (const Error& e) {
        resumeNote = std::string("its checkpoint is unusable, starting afresh: ") + e.what();
      }
    }
    const bool resume = cut != nullptr;
    std::error_code ec;
    if (!resume) fs::remove_all(dir, ec);
    fs::create_directories(dir);
    std::ofstream logFile(dir / "log.txt", std::ios::app);
    std::mutex logMutex;
    auto log = [&](const std::string& line) {
      std::lock_guard<std::mutex> lock(logMutex);
      logFile << line << "\n";
      logFile.flush();
    };
    log("attempt " + std::to_string(record.attempts + 1) + " on " + std::to_string(nodes.size()) + " node(s)" +
        (resumeNote.empty() ? "" : ", " + resumeNote));
    RunRecord ended = record;
    auto observer = std::make_shared<obs::RunObserver>(
        obs::RunObserverOptions{.runId = record.id, .node = "pool", .sweep = record.sweepId, .exportEngine = false});
    {
      std::lock_guard<std::mutex> lock(observersMutex);
      if (auto old = observers.find(record.id); old != observers.end()) metrics.remove(old->second.get());
      std::erase(endedObservers, record.id);
      observers[record.id] = observer;
    }
    metrics.add(observer);
    try {
      RunSpec spec;
      spec.runId = record.id;
      spec.observer = observer;
      spec.scenarioText = record.request.value("scenario", "");
      spec.source = "scenario.yaml";
      spec.baseDir = (data / "files").string();
      spec.overrides = record.request.value("set", std::vector<std::string>{});
      spec.outDir = dir.string();
      spec.pool = &pool;
      spec.poolNodes = nodes;
      spec.placementEndpoint =
          options.placementEndpoint.empty() ? pool.placementEndpoint() : options.placementEndpoint;
      spec.flags.curve = options.curve;  // a placement service the run starts gets the same keys
      spec.stop = stop;
      spec.log = log;
      spec.checkpointRequests = std::move(cuts);
      if (resume) {
        spec.resumeFrom = dir.string();
        spec.resumeCut = cut;
      }
      const RunOutcome out = executeRun(spec);
      ended.state = RunState::Succeeded;
      ended.reason = "COMPLETED";
      ended.message = "finished on " + std::to_string(nodes.size()) + " node(s)";
      ended.summary = out.summary;
      ended.digest = out.digest;
    } catch (const Error& e) {
      log(std::string("error: ") + e.what());
      std::string stopReason;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (auto it = active.find(record.id); it != active.end() && it->second.attempt == attempt)
          stopReason = it->second.stopReason;
      }
      ended.message = e.what();
      if (stopReason == "COORDINATOR_RESTART") {
        pool.unreserve(record.id);
        store.requeue(record.id, "COORDINATOR_RESTART", "the coordinator stopped while the run was in progress");
        observerEnded(record.id, "PENDING");
        retire(record.id, attempt);
        return;
      }
      if (!stopReason.empty()) {
        ended.state = stopReason == "WALL_LIMIT" ? RunState::TimedOut : RunState::Cancelled;
        ended.reason = stopReason;
        if (stopReason == "WALL_LIMIT")
          ended.message = "stopped at its wall-clock limit of " + std::to_string(record.wallLimitSeconds) + " s";
      } else if (e.kind() == ErrorKind::InvalidConfig) {
        ended.state = RunState::Failed;
        ended.reason = "INVALID_SCENARIO";
      } else if (e.kind() == ErrorKind::Disconnected) {
        // A node went away (or never answered): run it again on the nodes that are left.
        if (record.attempts + 1 <= static_cast<int>(options.maxRetries)) {
          pool.unreserve(record.id);
          store.requeue(record.id, "NODE_LOST", e.what());
          log("re-queued: " + std::string(e.what()));
          observerEnded(record.id, "PENDING");
          retire(record.id, attempt);
          return;
        }
        ended.state = RunState::Failed;
        ended.reason = "NODE_LOST";
      } else {
        ended.state = RunState::Failed;
        ended.reason = "RUN_FAILED";
      }
    } catch (const std::exception& e) {
      log(std::string("internal error: ") + e.what());
      ended.state = RunState::Failed;
      ended.reason = "RUN_FAILED";
      ended.message = std::string("internal error: ") + e.what();
    }
    ended.finishedNs = systemClockNs();
    pool.unreserve(record.id);
    store.finish(ended);
    observerEnded(record.id, toString(ended.state));
    retire(record.id, attempt);
  }

  // The run's observer stays for its live view and last metrics until kKeptObservers newer runs
  // have ended (bounded label cardinality).
  void observerEnded(const std::string& id, const std::string& state) {
    std::lock_guard<std::mutex> lock(observersMutex);
    auto it = observers.find(id);
    if (it == observers.end()) return;
    it->second->ended(state);
    if (state != "PENDING") ++runsEnded[state];
    std::erase(endedObservers, id);
    endedObservers.push_back(id);
    while (endedObservers.size() > kKeptObservers) {
      if (auto old = observers.find(endedObservers.front()); old != observers.end()) {
        metrics.remove(old->second.get());
        observers.erase(old);
      }
      endedObservers.pop_front();
    }
  }

  std::shared_ptr<obs::RunObserver> observerOf(const std::string& id) {
    std::lock_guard<std::mutex> lock(observersMutex);
    auto it = observers.find(id);
    return it == observers.end() ? nullptr : it->second;
  }

  std::vector<prometheus::MetricFamily> collectService() {
    obs::FamilySet out;
    int64_t pending = 0;
    std::map<RunState, int64_t> byState;
    for (const auto& [state, n] : store.countByState()) byState[state] = n;
    for (RunState state : {RunState::Pending, RunState::Running, RunState::Succeeded, RunState::Failed,
                           RunState::Cancelled, RunState::TimedOut})
      out.gauge("wafersim_service_runs", "Runs in the job store by state.", {{"state", toString(state)}},
                static_cast<double>(byState[state]));
    pending = byState[RunState::Pending];
    out.gauge("wafersim_service_queue_length", "Runs waiting for nodes (PENDING).", {}, static_cast<double>(pending));
    const auto [activeSweeps, doneSweeps] = store.countSweeps();
    out.gauge("wafersim_service_sweeps", "Sweeps: active (a point not ended) or done.", {{"state", "active"}},
              static_cast<double>(activeSweeps));
    out.gauge("wafersim_service_sweeps", "Sweeps: active (a point not ended) or done.", {{"state", "done"}},
              static_cast<double>(doneSweeps));
    out.counter("wafersim_service_cache_hits_total", "Submissions answered from the result cache.", {},
                static_cast<double>(cacheHits.load(std::memory_order_relaxed)));
    {
      std::lock_guard<std::mutex> lock(observersMutex);
      for (RunState state : {RunState::Succeeded, RunState::Failed, RunState::Cancelled, RunState::TimedOut})
        out.counter("wafersim_service_runs_ended_total", "Runs that ended since this process started, by state.",
                    {{"state", toString(state)}}, static_cast<double>(runsEnded[toString(state)]));
    }
    const size_t nodes = pool.size(), idle = pool.idle();
    out.gauge("wafersim_service_nodes_registered", "Pool nodes registered.", {}, static_cast<double>(nodes));
    out.gauge("wafersim_service_nodes_busy", "Pool nodes running a partition of a run.", {},
              static_cast<double>(nodes - std::min(nodes, idle)));
    return out.take();
  }

  // The caller of `req` if it holds `need` or more; else the 401 (no valid token; with a
  // WWW-Authenticate challenge) or 403 (too small a role) to answer, counted.
  std::pair<std::optional<Principal>, std::optional<http::Response>> authorize(const http::Request& req, Role need) {
    const std::string header = req.header("authorization");
    const auto who = access.authenticate(header);
    if (!who) {
      const bool missing = header.empty();
      authRefused.Add({{"reason", missing ? "missing" : "invalid"}}).Increment();
      auto response = http::Response::json(
          401, api::errorBody(401, "unauthorized",
                              missing ? "this call needs a token: send \"Authorization: Bearer TOKEN\" (docs/security.md)"
                                      : "the token is not one this service knows"));
      response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"wafersim\"");
      return {std::nullopt, std::move(response)};
    }
    if (who->role < need) {
      authRefused.Add({{"reason", "forbidden"}}).Increment();
      return {std::nullopt, http::Response::json(403, api::errorBody(403, "forbidden",
                                                                    "this call needs the " + std::string(toString(need)) +
                                                                        " role; " + who->name + " has " +
                                                                        std::string(toString(who->role))))};
    }
    return {who, std::nullopt};
  }

  // A submitter acts on what it submitted; an admin on anything.
  std::optional<http::Response> requireOwner(const Principal& who, const std::string& what, const std::string& owner) {
    if (!access.enabled() || who.role >= Role::Admin || (!owner.empty() && owner == who.name)) return std::nullopt;
    authRefused.Add({{"reason", "forbidden"}}).Increment();
    return http::Response::json(
        403, api::errorBody(403, "forbidden",
                            what + " belongs to " + (owner.empty() ? std::string("no one") : owner) +
                                "; acting on another's needs the admin role"));
  }

  void countRequest(const http::Request& req, int status, double seconds) {
    const std::map<std::string, std::string> labels = {
        {"route", req.route.empty() ? "unmatched" : req.route}, {"method", req.method}, {"status", std::to_string(status)}};
    httpRequests.Add(labels).Increment();
    static const prometheus::Histogram::BucketBoundaries kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                      0.1,    0.25,  0.5,    1,     2.5,  5,    10, 60};
    httpLatency.Add(labels, kBuckets).Observe(seconds);
  }

  void retire(const std::string& id, uint64_t attempt) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (auto it = active.find(id); it != active.end() && it->second.attempt == attempt) it->second.done = true;
    }
    nudge();
  }

  void schedulerLoop() {
    std::unique_lock<std::mutex> lock(mutex);
    while (!stopping) {
      // Join finished workers; stop runs past their wall-clock limit.
      for (auto it = active.begin(); it != active.end();) {
        if (it->second.done) {
          if (it->second.thread.joinable()) it->second.thread.join();
          it = active.erase(it);
          continue;
        }
        const double ran = std::chrono::duration<double>(Clock::now() - it->second.started).count();
        if (it->second.wallLimitSeconds > 0 && ran > it->second.wallLimitSeconds && it->second.stopReason.empty()) {
          it->second.stopReason = "WALL_LIMIT";
          it->second.stop.request_stop();
        }
        ++it;
      }
      std::vector<std::thread> earlier;
      earlier.swap(finishing);
      lock.unlock();
      for (auto& t : earlier) t.join();
      try {
        schedule();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "wafersim-coordinator: scheduling failed: %s\n", e.what());
      }
      lock.lock();
      wake.wait_for(lock, std::chrono::milliseconds(200));
    }
  }

  http::Router routes();
};

http::Router CoordinatorService::Impl::routes() {
  http::Router router;
  // Every handler answers 404 for an id it does not know (api::NotFound). Reads need a read token
  // when reads are protected; `change` routes need the role they name (access.h).
  auto add = [this, &router](const std::string& method, const std::string& pattern, http::Handler handler) {
    router.add(method, pattern, api::guarded([this, handler = std::move(handler)](const http::Request& req) {
      if (access.protectsReads())
        if (auto refusal = authorize(req, Role::Read).second) return *refusal;
      return handler(req);
    }));
  };
  auto change = [this, &router](const std::string& method, const std::string& pattern, Role need,
                                std::function<http::Response(const http::Request&, const Principal&)> handler) {
    router.add(method, pattern, api::guarded([this, need, handler = std::move(handler)](const http::Request& req) {
      auto [who, refusal] = authorize(req, need);
      if (refusal) return *refusal;
      return handler(req, *who);
    }));
  };
  // Probes and the page's files: open to all (the page asks for a token when a call needs one).
  auto open = [&router](const std::string& method, const std::string& pattern, http::Handler handler) {
    router.add(method, pattern, api::guarded(std::move(handler)));
  };
  change("POST", "/api/v1/runs", Role::Submit,
         [this](const http::Request& req, const Principal& who) { return submitRun(req, who); });
  add("GET", "/api/v1/runs", [this](const http::Request& req) {
    RunFilter filter = api::parseRunFilter(req.query);
    json runs = json::array();
    int64_t last = 0;
    auto found = store.runs(filter);
    for (const auto& r : found) {
      runs.push_back(runJson(r));
      last = r.seq;
    }
    json body{{"runs", runs}};
    body["next"] = found.size() == filter.limit ? json(std::to_string(last)) : json(nullptr);
    return http::Response::json(200, body);
  });
  // ?wait=running|ended&timeout_s=N: answers when the run has started (or ended), or after N
  // seconds (at most 60) with the state it has then: clients wait on the state, not a timer.
  add("GET", "/api/v1/runs/{id}", [this](const http::Request& req) {
    const std::string id = req.param("id");
    auto wait = req.query.find("wait");
    if (wait == req.query.end()) return http::Response::json(200, runJson(requireRun(id)));
    if (wait->second != "running" && wait->second != "ended")
      fail(ErrorKind::InvalidConfig, "query wait: expected running or ended, got \"", wait->second, "\"");
    double timeout = 30;
    if (auto t = req.query.find("timeout_s"); t != req.query.end()) {
      char* end = nullptr;
      timeout = std::strtod(t->second.c_str(), &end);
      if (t->second.empty() || *end || !(timeout > 0) || timeout > 60)
        fail(ErrorKind::InvalidConfig, "query timeout_s: expected seconds in (0, 60]");
    }
    const bool untilEnded = wait->second == "ended";
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout));
    for (;;) {
      uint64_t seen;
      {
        std::lock_guard<std::mutex> lock(changeMutex);
        seen = changes;
      }
      const RunRecord r = requireRun(id);
      if (isFinal(r.state) || (!untilEnded && r.state != RunState::Pending) || Clock::now() >= deadline)
        return http::Response::json(200, runJson(r));
      std::unique_lock<std::mutex> lock(changeMutex);
      changeCv.wait_until(lock, deadline, [&] { return changes != seen || stopping; });
    }
  });
  change("POST", "/api/v1/runs/{id}/cancel", Role::Submit, [this](const http::Request& req, const Principal& who) {
    const RunRecord r = requireRun(req.param("id"));
    if (auto refusal = requireOwner(who, "run " + r.id, r.owner)) return *refusal;
    if (!cancelRun(r, "CANCELLED_BY_USER", "cancelled through the API"))
      return http::Response::json(409, api::errorBody(409, "conflict",
                                                      "run " + r.id + " has already ended (" + toString(r.state) + ")"));
    nudge();
    return http::Response::json(202, runJson(requireRun(r.id)));
  });
  // A cut of a running run at its next window start (sim/checkpoint.h): the request goes to the
  // run's nodes at the pool's next tick; the cut lands in the run's folder, checkpoints/latest.
  change("POST", "/api/v1/runs/{id}/checkpoint", Role::Submit, [this](const http::Request& req, const Principal& who) {
    const RunRecord r = requireRun(req.param("id"));
    if (auto refusal = requireOwner(who, "run " + r.id, r.owner)) return *refusal;
    std::shared_ptr<CheckpointRequests> cuts;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (auto it = active.find(r.id); it != active.end() && !it->second.done) cuts = it->second.cuts;
    }
    if (!cuts || r.state != RunState::Running)
      return http::Response::json(409, api::errorBody(409, "conflict", "run " + r.id + " is not running (" +
                                                                            toString(r.state) + "): nothing to cut"));
    if (!cuts->armed.load())
      return http::Response::json(
          409, api::errorBody(409, "conflict",
                              "run " + r.id + " cannot take a checkpoint: cuts need simulation.sync: window, and the run "
                              "must have started simulating (ask again in a moment if it has just started)"));
    cuts->pending.store(true);
    nlohmann::json body = runJson(r);
    body["checkpoint"] = "requested";
    return http::Response::json(202, body);
  });
  add("GET", "/api/v1/runs/{id}/logs", [this](const http::Request& req) {
    const RunRecord r = requireRun(req.param("id"));
    std::ifstream in(runDir(r.id) / "log.txt");
    std::stringstream text;
    if (in) text << in.rdbuf();
    if (r.cached) text << "answered from the result cache: run " << r.cachedFrom << "\n";
    if (!r.message.empty() && isFinal(r.state)) text << toString(r.state) << " (" << r.reason << "): " << r.message << "\n";
    return http::Response::text(200, text.str());
  });
  add("GET", "/api/v1/runs/{id}/files", [this](const http::Request& req) {
    const RunRecord r = requireRun(req.param("id"));
    const fs::path dir = runDir(r.cached ? r.cachedFrom : r.id);
    json files = json::array();
    std::error_code ec;
    std::vector<std::pair<std::string, uintmax_t>> found;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.is_regular_file(ec) && !entry.is_symlink(ec))
        found.emplace_back(entry.path().filename().string(), entry.file_size(ec));
    std::sort(found.begin(), found.end());
    for (const auto& [name, size] : found) files.push_back({{"name", name}, {"bytes", size}});
    return http::Response::json(200, {{"run", r.id}, {"files", files}});
  });
  add("GET", "/api/v1/runs/{id}/files/{name}", [this](const http::Request& req) {
    const RunRecord r = requireRun(req.param("id"));
    const std::string name = req.param("name");
    if (!api::plainFileName(name)) return http::Response::json(400, api::errorBody(400, "invalid_request", "bad file name"));
    const fs::path file = runDir(r.cached ? r.cachedFrom : r.id) / name;
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(file, ec)))
      return http::Response::json(404, api::errorBody(404, "not_found", "run " + r.id + " has no file " + name));
    std::ifstream in(file, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return http::Response::text(200, bytes.str(), api::contentTypeOf(name));
  });
  change("POST", "/api/v1/sweeps", Role::Submit,
         [this](const http::Request& req, const Principal& who) { return submitSweep(req, who); });
  add("GET", "/api/v1/sweeps", [this](const http::Request&) {
    json sweeps = json::array();
    for (const auto& s : store.sweeps()) sweeps.push_back(sweepJson(s));
    return http::Response::json(200, {{"sweeps", sweeps}});
  });
  add("GET", "/api/v1/sweeps/{id}", [this](const http::Request& req) {
    return http::Response::json(200, sweepJson(requireSweep(req.param("id"))));
  });
  add("GET", "/api/v1/sweeps/{id}/table", [this](const http::Request& req) {
    const SweepRecord s = requireSweep(req.param("id"));
    const api::Table table = api::sweepTable(s, store.sweepRuns(s.id));
    if (req.header("accept").find("text/csv") != std::string::npos)
      return http::Response::text(200, api::toCsv(table), "text/csv; charset=utf-8");
    return http::Response::json(200, api::toJson(table, s.id));
  });
  change("POST", "/api/v1/sweeps/{id}/cancel", Role::Submit, [this](const http::Request& req, const Principal& who) {
    const SweepRecord s = requireSweep(req.param("id"));
    if (auto refusal = requireOwner(who, "sweep " + s.id, s.owner)) return *refusal;
    store.cancelSweep(s.id);
    for (const auto& r : store.sweepRuns(s.id)) cancelRun(r, "SWEEP_CANCELLED", "the sweep was cancelled");
    nudge();
    return http::Response::json(202, sweepJson(requireSweep(s.id)));
  });
  add("GET", "/api/v1/nodes", [this](const http::Request&) {
    json nodes = json::array();
    for (const auto& n : pool.nodes())
      nodes.push_back({{"name", n.name}, {"hostname", n.hostname}, {"pid", n.pid}, {"cores", n.cores},
                       {"memory_bytes", n.memoryBytes}, {"pool", n.pool}, {"state", n.runId.empty() ? "idle" : "busy"},
                       {"run", n.runId.empty() ? json(nullptr) : json(n.runId)}, {"partition", n.partition},
                       {"silent_s", n.silentSeconds}, {"runs_served", n.runsServed},
                       {"data_endpoint", n.dataEndpoint}, {"metrics_url", n.metricsUrl.empty() ? json(nullptr) : json(n.metricsUrl)}});
    const std::string placement =
        options.placementEndpoint.empty() ? pool.placementEndpoint() : options.placementEndpoint;
    return http::Response::json(
        200, {{"nodes", nodes}, {"control", pool.endpoint()}, {"placement", placement.empty() ? json(nullptr) : json(placement)}});
  });
  // An idle node told to exit and dropped from the pool (a busy one: 409, cancel its run first).
  change("POST", "/api/v1/nodes/{name}/remove", Role::Admin, [this](const http::Request& req, const Principal& who) {
    const std::string name = req.param("name");
    for (const auto& n : pool.nodes()) {
      if (n.name != name) continue;
      if (!n.runId.empty())
        return http::Response::json(409, api::errorBody(409, "conflict", describeNode(name) + " is in run " + n.runId +
                                                                             "; cancel the run first"));
      pool.removeNode(name, "removed through the API by " + who.name);
      return http::Response::json(202, {{"node", name}, {"state", "removed"}});
    }
    throw api::NotFound("no node " + name);
  });
  open("GET", "/healthz", [](const http::Request&) { return http::Response::json(200, {{"status", "ok"}}); });
  open("GET", "/readyz", [this](const http::Request&) {
    store.countRuns();  // the store answers
    return http::Response::json(200, {{"status", "ready"}, {"nodes", pool.size()}, {"idle_nodes", pool.idle()}});
  });
  obs::addMetricsRoute(router, metrics);
  add("GET", "/api/v1/runs/{id}/live", [this](const http::Request& req) {
    const RunRecord r = requireRun(req.param("id"));
    json j;
    if (auto observer = observerOf(r.id)) {
      j = observer->live();
    } else {  // not watched by this process (it ended before it started, or long ago)
      const bool done = r.state == RunState::Succeeded;
      j = {{"progress", {{"ratio", done ? 1.0 : 0.0}}}, {"series", json::array()}, {"wafer", nullptr}};
    }
    j["id"] = r.id;
    j["state"] = toString(r.state);
    return http::Response::json(200, j);
  });
  // Prometheus HTTP service discovery (http_sd_configs): the pool nodes that serve /metrics.
  add("GET", "/api/v1/prometheus/targets", [this](const http::Request&) {
    json groups = json::array();
    for (const auto& n : pool.nodes()) {
      if (n.metricsUrl.empty()) continue;
      std::string target = n.metricsUrl;
      if (target.rfind("http://", 0) == 0) target = target.substr(7);
      groups.push_back({{"targets", {target}}, {"labels", {{"node", n.name}, {"wafersim_process", "node"}}}});
    }
    return http::Response::json(200, groups);
  });
  add("GET", "/api/v1/openapi.json", [](const http::Request&) { return http::Response::json(200, api::openApi()); });
  addWebRoutes(router, findWebDist(options.webDir));  // the live page: / and /static/{name}
  return router;
}

CoordinatorService::CoordinatorService(ServiceOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  http::ServerOptions http;
  http.host = impl_->options.httpHost;
  http.port = impl_->options.httpPort;
  http.maxBodyBytes = impl_->options.maxBodyBytes;
  http.threads = impl_->options.httpThreads;
  http.rateLimit = impl_->options.rateLimit;
  http.onRequest = [impl = impl_.get()](const http::Request& req, int status, double seconds) {
    impl->countRequest(req, status, seconds);
  };
  http::Router router = impl_->routes();
  impl_->routeList = router.routes();
  impl_->server = std::make_unique<http::Server>(http, std::move(router));
}

CoordinatorService::~CoordinatorService() { stop(); }

void CoordinatorService::start() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->started) return;
  impl_->started = true;
  impl_->server->start();
  impl_->scheduler = std::thread([this] { impl_->schedulerLoop(); });
}

void CoordinatorService::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->stopping = true;
    for (auto& [id, a] : impl_->active) {
      a.stopReason = "COORDINATOR_RESTART";
      a.stop.request_stop();
    }
  }
  impl_->nudge();
  impl_->changeCv.notify_all();
  impl_->server->stop();
  if (impl_->scheduler.joinable()) impl_->scheduler.join();
  std::map<std::string, Active> left;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    left.swap(impl_->active);
  }
  for (auto& [id, a] : left)
    if (a.thread.joinable()) a.thread.join();
  std::vector<std::thread> earlier;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    earlier.swap(impl_->finishing);
  }
  for (auto& t : earlier) t.join();
}

std::string CoordinatorService::url() const { return impl_->server->url(); }
const std::string& CoordinatorService::controlEndpoint() const { return impl_->pool.endpoint(); }
NodePool& CoordinatorService::pool() { return impl_->pool; }
std::vector<std::pair<std::string, std::string>> CoordinatorService::routes() const { return impl_->routeList; }

}  // namespace wafersim
