// Sweep overhead: a 200-point sweep of a small scenario through `wafersim serve` with 2 local
// nodes, against the same 200 `wafersim run` commands driven 2 at a time by a shell
// (`xargs -P 2`), in one run of this program. Then the sweep is submitted again with 50 new points
// (250 in all): only those 50 may execute, the rest come from the result cache. Prints both wall
// times, their ratio (the target is at most 1.1) and the runs executed; exits 1 when a point fails,
// digests differ from the shell's, or the resubmission executes anything but the new points.
//
//   bench_service_sweep [--points 200] [--new 50]
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "coordinator/child_process.h"
#include "coordinator/http_client.h"

using namespace wafersim;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// A small scenario: a few milliseconds of simulation, as a sweep point of a parameter study is.
const char* kScenario = "model: phold\nparams: {lps: 64, lookahead: 100 ps, mean: 900 ps}\nsimulation: {end: 5 us}\n";

json call(const std::string& url, const std::string& method, const std::string& target, const json& body = nullptr) {
  http::ClientRequest request;
  request.method = method;
  request.target = target;
  if (!body.is_null()) request.body = body.dump();
  return json::parse(http::request(url, request).body);
}

json sweepBody(int points) {
  json seeds = json::array();
  for (int i = 1; i <= points; ++i) seeds.push_back(i);
  return {{"scenario", kScenario}, {"grid", {{"simulation.seed", seeds}}}};
}

// Waits until the sweep has no pending or running point (each point waited on through the API's
// long poll), at most 10 minutes; returns its runs, or an empty list when it did not finish.
json finish(const std::string& url, const std::string& sweep) {
  const auto until = Clock::now() + std::chrono::minutes(10);
  const json runs = call(url, "GET", "/api/v1/runs?limit=1000&sweep=" + sweep)["runs"];
  for (const auto& r : runs)
    for (;;) {
      const json now = call(url, "GET", "/api/v1/runs/" + r["id"].get<std::string>() + "?wait=ended&timeout_s=10");
      if (now["state"] != "PENDING" && now["state"] != "RUNNING") break;
      if (Clock::now() > until) {
        std::printf("WRONG: sweep %s did not finish in 10 minutes; run %s is %s (%s)\n", sweep.c_str(),
                    now["id"].get<std::string>().c_str(), now["state"].get<std::string>().c_str(),
                    now.value("message", "").c_str());
        return json::array();
      }
    }
  return call(url, "GET", "/api/v1/runs?limit=1000&sweep=" + sweep)["runs"];
}

int main(int argc, char** argv) {
  int points = 200, added = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--points")) points = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--new")) added = std::atoi(argv[i + 1]);
  }
  const std::string cli = std::string(WAFERSIM_BINARY_DIR) + "/cli/wafersim";
  const fs::path work = fs::temp_directory_path() / ("wafersim-bench-sweep-" + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::create_directories(work / "shell");
  std::ofstream(work / "point.yaml") << kScenario;
  std::printf("sweep overhead: %d points of a PHOLD scenario (64 LPs, 5 us), 2 at a time\n", points);

  // 1. The shell: 200 `wafersim run` commands, 2 at a time.
  std::string list;
  for (int i = 1; i <= points; ++i) list += std::to_string(i) + "\n";
  std::ofstream(work / "seeds.txt") << list;
  const std::string command = "cd " + work.string() + " && xargs -P 2 -I{} " + cli +
                              " run point.yaml --set simulation.seed={} --out shell/{} < seeds.txt > shell.log 2>&1";
  const auto shellStart = Clock::now();
  const int shellStatus = std::system(command.c_str());
  const double shellWall = std::chrono::duration<double>(Clock::now() - shellStart).count();
  if (shellStatus != 0) {
    std::printf("WRONG: the shell's runs failed (see %s/shell.log)\n", work.c_str());
    return 1;
  }
  std::map<int, std::string> shellDigest;
  for (int i = 1; i <= points; ++i) {
    std::ifstream in(work / "shell" / std::to_string(i) / "summary.json");
    shellDigest[i] = json::parse(in)["digest"];
  }

  // 2. The service: `wafersim serve --nodes 2`.
  ChildSpec spec;
  spec.argv = {cli, "serve", "--data", (work / "data").string(), "--http", "127.0.0.1:0", "--control",
               "tcp://127.0.0.1:*", "--nodes", "2"};
  const StartedChild started = spawnAndReadFirstLine(spec, std::chrono::seconds(30));
  const pid_t serve = started.pid;
  const std::string& line = started.firstLine;
  const auto at = line.find("API ");
  if (at == std::string::npos) {
    std::printf("WRONG: wafersim serve did not start: %s\n", line.c_str());
    return 1;
  }
  const std::string url = line.substr(at + 4, line.find(',', at) - at - 4);
  while (call(url, "GET", "/api/v1/nodes")["nodes"].size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));

  bool ok = true;
  const auto serviceStart = Clock::now();
  const json first = call(url, "POST", "/api/v1/sweeps", sweepBody(points));
  const double submitted = std::chrono::duration<double>(Clock::now() - serviceStart).count();
  const json runs = finish(url, first["id"]);
  const double serviceWall = std::chrono::duration<double>(Clock::now() - serviceStart).count();
  int succeeded = 0, mismatched = 0;
  for (const auto& r : runs) {
    succeeded += r["state"] == "SUCCEEDED" ? 1 : 0;
    if (r.contains("digest") && r["digest"] != shellDigest[r["point"]["simulation.seed"].get<int>()]) ++mismatched;
  }
  ok = ok && succeeded == points && mismatched == 0;

  // 3. The sweep again with `added` new points: only those execute.
  const auto againStart = Clock::now();
  const json second = call(url, "POST", "/api/v1/sweeps", sweepBody(points + added));
  const json again = finish(url, second["id"]);
  const double againWall = std::chrono::duration<double>(Clock::now() - againStart).count();
  int executed = 0, cached = 0, againOk = 0;
  for (const auto& r : again) {
    (r["cached"].get<bool>() ? cached : executed) += 1;
    againOk += r["state"] == "SUCCEEDED" ? 1 : 0;
  }
  ok = ok && executed == added && cached == points && againOk == points + added;
  ::kill(serve, SIGTERM);
  ::waitpid(serve, nullptr, 0);

  std::printf("  shell (xargs -P 2, %d x wafersim run)  %.2f s\n", points, shellWall);
  std::printf("  service (wafersim serve --nodes 2)      %.2f s (the sweep's submission answered in %.3f s)\n",
              serviceWall, submitted);
  std::printf("  service / shell                         %.3f (target <= 1.1: %s)\n", serviceWall / shellWall,
              serviceWall / shellWall <= 1.1 ? "met" : "NOT met");
  std::printf("  points succeeded                        %d of %d, digests equal to the shell's: %d\n", succeeded, points,
              points - mismatched);
  std::printf("  resubmitted with %d new points         %d executed, %d from the cache, %.2f s\n", added, executed,
              cached, againWall);
  fs::remove_all(work);
  if (!ok) std::printf("WRONG: every point must succeed with the shell's digest, and only the new points run again\n");
  return ok ? 0 : 1;
}
