// Soak (issue 16): a 500-point sweep through `wafersim serve` with 4 local nodes while faults are
// injected: a node killed (SIGKILL) once a fifth of the points ended and again at two fifths (the
// service replaces each with a new node process), and the coordinator itself killed (SIGKILL) at
// three fifths and started again on the same data folder (its nodes leave with it; the new one
// starts its own, re-queues what was running and goes on). Points are a small PHOLD that takes a
// cut every microsecond, so a re-queued point resumes from its last cut.
//
// Exits 1 unless every point ends SUCCEEDED with the digest the same scenario gives alone (run
// here in process). Prints the faults injected and the runs that recovered from them (more than
// one attempt, SUCCEEDED), and the resident memory of the coordinator and of the largest node at
// the start of each coordinator's life, at its peak and at its end.
//
//   bench_soak [--points 500] [--nodes 4]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/child_process.h"
#include "coordinator/http_client.h"
#include "coordinator/partitioner.h"
#include "models/model_catalog.h"
#include "scenario/scenario.h"
#include "sim/simulation.h"

using namespace wafersim;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

const char* kScenario =
    "model: phold\nparams: {lps: 32, initial_events: 2, lookahead: 1 ns, mean: 9 ns}\n"
    "simulation: {end: 6 us, checkpoint_every: 1 us}\n";
const char* kToken = "soak-admin-token-0123456789";

json call(const std::string& url, const std::string& method, const std::string& target, const json& body = nullptr) {
  http::ClientRequest request;
  request.method = method;
  request.target = target;
  request.headers["Authorization"] = std::string("Bearer ") + kToken;
  if (!body.is_null()) request.body = body.dump();
  const http::ClientResponse response = http::request(url, request);
  return json::parse(response.body, nullptr, false);
}

uint64_t rssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      uint64_t kib = 0;
      in >> kib;
      return kib;
    }
    std::getline(in, key);
  }
  return 0;
}

// One `wafersim serve` process's life.
struct Serve {
  pid_t pid = -1;
  std::string url;
  uint64_t coordinatorStart = 0, coordinatorPeak = 0, coordinatorEnd = 0;
  uint64_t nodeStart = 0, nodePeak = 0, nodeEnd = 0;
};

std::optional<Serve> startServe(const std::string& cli, const fs::path& data, int nodes) {
  ChildSpec spec;
  spec.argv = {cli, "serve", "--data", data.string(), "--http", "127.0.0.1:0", "--control", "tcp://127.0.0.1:*",
               "--nodes", std::to_string(nodes)};
  const StartedChild started = spawnAndReadFirstLine(spec, std::chrono::seconds(60));
  const auto at = started.firstLine.find("API ");
  if (at == std::string::npos) {
    std::printf("WRONG: wafersim serve did not start: %s\n", started.firstLine.c_str());
    return std::nullopt;
  }
  Serve s;
  s.pid = started.pid;
  s.url = started.firstLine.substr(at + 4, started.firstLine.find(',', at) - at - 4);
  // Polling a service in another process: there is no event to wait on.
  while (call(s.url, "GET", "/api/v1/nodes")["nodes"].size() < static_cast<size_t>(nodes))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return s;
}

// The pids of the pool's nodes, and of one in a run (0: none).
std::vector<pid_t> nodePids(const std::string& url, pid_t* busy = nullptr) {
  std::vector<pid_t> pids;
  const json nodes = call(url, "GET", "/api/v1/nodes");
  if (!nodes.contains("nodes")) return pids;
  for (const auto& n : nodes["nodes"]) {
    pids.push_back(n.value("pid", 0));
    if (busy && !n["run"].is_null()) *busy = n.value("pid", 0);
  }
  return pids;
}

void sample(Serve& s, bool first) {
  const uint64_t coordinator = rssKiB(s.pid);
  uint64_t node = 0;
  for (pid_t p : nodePids(s.url)) node = std::max(node, rssKiB(p));
  if (first) {
    s.coordinatorStart = coordinator;
    s.nodeStart = node;
  }
  s.coordinatorPeak = std::max(s.coordinatorPeak, coordinator);
  s.nodePeak = std::max(s.nodePeak, node);
  if (coordinator) s.coordinatorEnd = coordinator;
  if (node) s.nodeEnd = node;
}

}  // namespace

int main(int argc, char** argv) {
  int points = 500, nodes = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--points")) points = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--nodes")) nodes = std::atoi(argv[i + 1]);
  }
  ::setenv("WAFERSIM_API_TOKENS", (std::string("admin soak ") + kToken).c_str(), 1);
  const std::string cli = std::string(WAFERSIM_BINARY_DIR) + "/cli/wafersim";
  const fs::path work = fs::temp_directory_path() / ("wafersim-bench-soak-" + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::create_directories(work);
  std::printf("soak: %d points of a PHOLD scenario (32 LPs, 6 us, a cut every 1 us) on %d nodes\n", points, nodes);

  // The digest of every point alone, in this process.
  std::map<int, std::string> alone;
  {
    ComponentRegistry registry;
    registerBuiltinComponents(registry);
    ModelCatalog catalog;
    registerBuiltinModels(catalog);
    for (int seed = 1; seed <= points; ++seed) {
      Scenario s = parseScenario(kScenario, "soak", {"simulation.seed=" + std::to_string(seed),
                                                    "simulation.checkpoint_every=0"});
      const SystemGraph g = catalog.build(s.model, s.modelParams, "soak: params", s.run.seed);
      alone[seed] = runInProcess(g, registry, partitionScenario(s, g).map, s.run).results.digestHex();
    }
  }

  std::vector<Serve> lives;
  auto started = startServe(cli, work / "data", nodes);
  if (!started) return 1;
  lives.push_back(*started);
  sample(lives.back(), true);
  json seeds = json::array();
  for (int i = 1; i <= points; ++i) seeds.push_back(i);
  const auto start = Clock::now();
  const json sweep = call(lives.back().url, "POST", "/api/v1/sweeps",
                          {{"scenario", kScenario}, {"cache", false}, {"grid", {{"simulation.seed", seeds}}}});
  if (!sweep.contains("id")) {
    std::printf("WRONG: the sweep was refused: %s\n", sweep.dump().c_str());
    return 1;
  }
  const std::string id = sweep["id"];
  int nodeKills = 0, coordinatorKills = 0;
  bool ok = true;
  for (;;) {
    Serve& life = lives.back();
    sample(life, false);
    const json now = call(life.url, "GET", "/api/v1/sweeps/" + id);
    int64_t ended = 0;
    const json counts = now.value("counts", json::object());
    for (const auto& [state, n] : counts.items())
      if (state != "PENDING" && state != "RUNNING") ended += n.get<int64_t>();
    if (ended >= points) break;
    if (Clock::now() - start > std::chrono::minutes(20)) {
      std::printf("WRONG: the sweep did not end in 20 minutes (%lld of %d points ended)\n",
                  static_cast<long long>(ended), points);
      ok = false;
      break;
    }
    const int fifth = std::max(1, points / 5);
    if (nodeKills < 2 && ended >= fifth * (nodeKills + 1)) {
      pid_t busy = 0;
      nodePids(life.url, &busy);
      if (busy > 0 && ::kill(busy, SIGKILL) == 0) {
        ++nodeKills;
        std::printf("  %6.1f s  killed node process %d (%lld points ended)\n",
                    std::chrono::duration<double>(Clock::now() - start).count(), busy, static_cast<long long>(ended));
      }
    } else if (nodeKills == 2 && coordinatorKills == 0 && ended >= fifth * 3) {
      ::kill(life.pid, SIGKILL);
      ::waitpid(life.pid, nullptr, 0);
      ++coordinatorKills;
      std::printf("  %6.1f s  killed the coordinator (%lld points ended); starting it again\n",
                  std::chrono::duration<double>(Clock::now() - start).count(), static_cast<long long>(ended));
      auto again = startServe(cli, work / "data", nodes);
      if (!again) return 1;
      lives.push_back(*again);
      sample(lives.back(), true);
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  Serve& last = lives.back();
  sample(last, false);

  json runs = json::array();
  for (std::string after;;) {  // a page at a time
    const json page = call(last.url, "GET", "/api/v1/runs?limit=1000&sweep=" + id + (after.empty() ? "" : "&after=" + after));
    for (const auto& r : page.value("runs", json::array())) runs.push_back(r);
    if (!page.contains("next") || page["next"].is_null()) break;
    after = page["next"].get<std::string>();
  }
  int succeeded = 0, mismatched = 0, recovered = 0, restarts = 0, resumed = 0;
  for (const auto& r : runs) {
    const bool success = r["state"] == "SUCCEEDED";
    succeeded += success ? 1 : 0;
    const int seed = r["point"]["simulation.seed"].get<int>();
    if (success && r.value("digest", "") != alone[seed]) ++mismatched;
    if (!success)
      std::printf("  point %d: %s %s: %s\n", seed, r["state"].get<std::string>().c_str(),
                  r.value("reason", "").c_str(), r.value("message", "").c_str());
    if (success && r.value("attempts", 1) > 1) {
      ++recovered;
      restarts += r.value("attempts", 1) - 1;
      http::ClientRequest logs;
      logs.method = "GET";
      logs.target = "/api/v1/runs/" + r["id"].get<std::string>() + "/logs";
      logs.headers["Authorization"] = std::string("Bearer ") + kToken;
      if (http::request(last.url, logs).body.find("resuming from its checkpoint") != std::string::npos) ++resumed;
    }
  }
  ok = ok && succeeded == points && mismatched == 0 && static_cast<int>(runs.size()) == points;
  ::kill(last.pid, SIGTERM);
  ::waitpid(last.pid, nullptr, 0);

  std::printf("  wall time                         %.1f s\n", wall);
  std::printf("  points succeeded                  %d of %d; digests equal to the point alone: %d\n", succeeded,
              points, succeeded - mismatched);
  std::printf("  faults injected                   %d node kills, %d coordinator kill\n", nodeKills, coordinatorKills);
  std::printf("  runs recovered                    %d (after %d re-queued attempts in all; %d resumed from a cut)\n",
              recovered, restarts, resumed);
  for (size_t i = 0; i < lives.size(); ++i) {
    const Serve& s = lives[i];
    std::printf("  coordinator %zu RSS start/peak/end  %.1f / %.1f / %.1f MiB; largest node %.1f / %.1f / %.1f MiB\n",
                i + 1, s.coordinatorStart / 1024.0, s.coordinatorPeak / 1024.0, s.coordinatorEnd / 1024.0,
                s.nodeStart / 1024.0, s.nodePeak / 1024.0, s.nodeEnd / 1024.0);
  }
  fs::remove_all(work);
  if (!ok) std::printf("WRONG: every point must succeed with the digest it has alone\n");
  return ok ? 0 : 1;
}
