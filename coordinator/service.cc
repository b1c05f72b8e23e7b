#include "coordinator/service.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stop_token>
#include <thread>

#include "coordinator/content_hash.h"
#include "coordinator/http_server.h"
#include "coordinator/job_store.h"
#include "coordinator/node_coordinator.h"
#include "coordinator/run.h"
#include "coordinator/service_api.h"
#include "coordinator/sweep.h"
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
  NodePool pool;
  std::unique_ptr<http::Server> server;
  std::vector<std::pair<std::string, std::string>> routeList;

  std::map<std::string, Active> active;
  uint64_t attempts = 0;
  // Threads of earlier attempts of a run started again before they were joined: joined by the
  // scheduler outside the lock (they may still be on their way to retire()).
  std::vector<std::thread> finishing;
  bool started = false;
  std::thread scheduler;

  Impl(ServiceOptions o)
      : options(std::move(o)),
        data(options.dataDir),
        store((fs::create_directories(data), data)),
        pool(options.control, PoolOptions{250, options.heartbeatTimeoutMs, 300000, [this] { nudge(); }}) {
    fs::create_directories(data / "runs");
    fs::create_directories(data / "files");
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

  // Checks a submission's scenario and works out what the run is: the identity and its parts.
  struct Checked {
    std::string scenarioText;
    std::string identity;
    json resolved;
  };
  Checked check(const std::string& scenarioText, const std::vector<std::string>& overrides, uint32_t nodes,
                bool build) {
    ModelCatalog catalog;
    registerBuiltinModels(catalog);
    Scenario s = parseScenario(scenarioText, "scenario", overrides);
    s.modelParams.setBaseDir((data / "files").string());
    if (!s.partitionMapFile.empty() && fs::path(s.partitionMapFile).is_relative())
      s.partitionMapFile = (data / "files" / s.partitionMapFile).string();
    if (build) {
      ComponentRegistry registry;
      registerBuiltinComponents(registry);
      SystemGraph graph = catalog.build(s.model, s.modelParams, "scenario: params", s.run.seed);
      graph.validate(registry);
    }
    Checked c;
    c.scenarioText = scenarioText;
    c.resolved = resolvedScenario(s, catalog);
    Sha256 h;
    h.update(c.resolved.dump());
    h.update("\nnodes=" + std::to_string(nodes));
    for (const auto& [key, path] : scenarioFiles(s, catalog)) {
      WAFERSIM_REQUIRE(fs::is_regular_file(path), key, ": no such file: ", path);
      h.update("\n" + key + "=" + sha256File(path));
    }
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

  http::Response submitRun(const http::Request& req) {
    const api::RunSubmission sub = api::parseRunSubmission(req.body, options.maxNodesPerRun);
    RunRecord r;
    r.id = sub.id.empty() ? makeRunId() : sub.id;
    r.bodyHash = sub.bodyHash;
    r.request = sub.request;
    r.labels = sub.labels;
    r.nodes = sub.nodes;
    r.useCache = sub.cache;
    r.wallLimitSeconds = sub.wallLimitSeconds;
    r.createdNs = systemClockNs();
    if (!sub.id.empty())  // an idempotent resubmission is answered before any work
      if (auto existing = store.run(sub.id)) return resubmitted(*existing, sub.bodyHash);
    Checked c;
    try {
      c = check(sub.scenarioText, sub.overrides, sub.nodes, true);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::InvalidConfig) throw;
      return http::Response::json(400, api::errorBody(400, "invalid_scenario", e.what()));
    }
    r.identity = c.identity;
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

  http::Response submitSweep(const http::Request& req) {
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
    std::vector<RunRecord> runs;
    for (size_t i = 0; i < points.size(); ++i) {
      std::vector<std::string> overrides = sub.overrides;
      overrides.insert(overrides.end(), points[i].overrides.begin(), points[i].overrides.end());
      Checked c;
      try {  // every point parsed and resolved; the first built too (the others share its shape)
        c = check(sub.scenarioText, overrides, sub.nodes, i == 0);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::InvalidConfig) throw;
        return http::Response::json(
            400, api::errorBody(400, "invalid_scenario", "sweep point " + std::to_string(i) + " (" +
                                                             points[i].values.dump() + "): " + e.what()));
      }
      RunRecord r;
      r.id = sweep.id + "-" + std::to_string(i);
      r.bodyHash = sub.bodyHash;
      r.sweepId = sweep.id;
      r.sweepIndex = static_cast<int64_t>(i);
      r.request = {{"scenario", sub.scenarioText}, {"set", overrides}, {"nodes", sub.nodes}};
      r.point = points[i].values;
      r.labels = sub.labels;
      r.identity = c.identity;
      r.nodes = sub.nodes;
      r.useCache = sub.cache;
      r.wallLimitSeconds = sub.wallLimitSeconds;
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
    int64_t cached = 0;
    for (const auto& r : store.sweepRuns(s.id)) cached += r.cached ? 1 : 0;
    j["cached"] = cached;
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
    a.thread = std::thread([this, record, nodes, token = a.stop.get_token(), attempt = a.attempt] {
      execute(record, nodes, token, attempt);
    });
  }

  void execute(RunRecord record, std::vector<std::string> nodes, std::stop_token stop, uint64_t attempt) {
    const fs::path dir = runDir(record.id);
    std::error_code ec;
    fs::remove_all(dir, ec);  // a re-queued run starts its folder afresh
    fs::create_directories(dir);
    std::ofstream logFile(dir / "log.txt", std::ios::app);
    std::mutex logMutex;
    auto log = [&](const std::string& line) {
      std::lock_guard<std::mutex> lock(logMutex);
      logFile << line << "\n";
      logFile.flush();
    };
    log("attempt " + std::to_string(record.attempts + 1) + " on " + std::to_string(nodes.size()) + " node(s)");
    RunRecord ended = record;
    try {
      RunSpec spec;
      spec.runId = record.id;
      spec.scenarioText = record.request.value("scenario", "");
      spec.source = "scenario.yaml";
      spec.baseDir = (data / "files").string();
      spec.overrides = record.request.value("set", std::vector<std::string>{});
      spec.outDir = dir.string();
      spec.pool = &pool;
      spec.poolNodes = nodes;
      spec.placementEndpoint =
          options.placementEndpoint.empty() ? pool.placementEndpoint() : options.placementEndpoint;
      spec.stop = stop;
      spec.log = log;
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
    retire(record.id, attempt);
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
  // Every handler answers 404 for an id it does not know (api::NotFound).
  auto add = [&router](const std::string& method, const std::string& pattern, http::Handler handler) {
    router.add(method, pattern, api::guarded(std::move(handler)));
  };
  add("POST", "/api/v1/runs", [this](const http::Request& req) { return submitRun(req); });
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
  add("POST", "/api/v1/runs/{id}/cancel", [this](const http::Request& req) {
    const RunRecord r = requireRun(req.param("id"));
    if (!cancelRun(r, "CANCELLED_BY_USER", "cancelled through the API"))
      return http::Response::json(409, api::errorBody(409, "conflict",
                                                      "run " + r.id + " has already ended (" + toString(r.state) + ")"));
    nudge();
    return http::Response::json(202, runJson(requireRun(r.id)));
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
  add("POST", "/api/v1/sweeps", [this](const http::Request& req) { return submitSweep(req); });
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
  add("POST", "/api/v1/sweeps/{id}/cancel", [this](const http::Request& req) {
    const SweepRecord s = requireSweep(req.param("id"));
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
                       {"silent_s", n.silentSeconds}, {"runs_served", n.runsServed}});
    const std::string placement =
        options.placementEndpoint.empty() ? pool.placementEndpoint() : options.placementEndpoint;
    return http::Response::json(
        200, {{"nodes", nodes}, {"control", pool.endpoint()}, {"placement", placement.empty() ? json(nullptr) : json(placement)}});
  });
  add("GET", "/healthz", [](const http::Request&) { return http::Response::json(200, {{"status", "ok"}}); });
  add("GET", "/readyz", [this](const http::Request&) {
    store.countRuns();  // the store answers
    return http::Response::json(200, {{"status", "ready"}, {"nodes", pool.size()}, {"idle_nodes", pool.idle()}});
  });
  add("GET", "/metrics", [this](const http::Request&) {
    return http::Response::text(200, api::basicMetrics(store.countByState(), pool.size(), pool.idle()),
                                "text/plain; version=0.0.4; charset=utf-8");
  });
  add("GET", "/api/v1/openapi.json", [](const http::Request&) { return http::Response::json(200, api::openApi()); });
  return router;
}

CoordinatorService::CoordinatorService(ServiceOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  http::ServerOptions http;
  http.host = impl_->options.httpHost;
  http.port = impl_->options.httpPort;
  http.maxBodyBytes = impl_->options.maxBodyBytes;
  http.threads = impl_->options.httpThreads;
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
