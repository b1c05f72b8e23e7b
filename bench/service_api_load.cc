// API load: 1,000 run submissions in a burst from 16 concurrent clients to a wafersim-coordinator
// process (no nodes, so every run stays PENDING: this measures the API and the job store, not
// simulation). Prints submissions per second and the p50/p99 latency, then kills the coordinator
// with SIGKILL right after the last answer and counts the rows in its job store: all 1,000 must be
// there (exit 1 otherwise).
//
//   bench_service_api_load [--submissions 1000] [--clients 16]
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/child_process.h"
#include "coordinator/http_client.h"
#include "coordinator/job_store.h"

using namespace wafersim;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int submissions = 1000, clients = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--submissions")) submissions = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
  }
  const auto data = std::filesystem::temp_directory_path() / ("wafersim-bench-api-" + std::to_string(::getpid()));
  std::filesystem::remove_all(data);
  ChildSpec spec;
  spec.argv = {std::string(WAFERSIM_BINARY_DIR) + "/coordinator/wafersim-coordinator", "--data", data.string(),
               "--http", "127.0.0.1:0", "--control", "tcp://127.0.0.1:*"};
  const StartedChild started = spawnAndReadFirstLine(spec, std::chrono::seconds(20));
  const pid_t coordinator = started.pid;
  const std::string& line = started.firstLine;
  const auto at = line.find("API ");
  if (at == std::string::npos) {
    std::fprintf(stderr, "the coordinator did not start: %s\n", line.c_str());
    return 1;
  }
  const std::string url = line.substr(at + 4, line.find(',', at) - at - 4);
  std::printf("service API load: %d submissions from %d clients to %s\n", submissions, clients, url.c_str());

  const std::string body =
      nlohmann::json{{"scenario", "model: phold\nparams: {lps: 16}\nsimulation: {end: 2 us}\n"}}.dump();
  std::vector<double> latencies(static_cast<size_t>(submissions));
  std::atomic<int> next{0}, failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < submissions;) {
        http::ClientRequest request;
        request.method = "POST";
        request.target = "/api/v1/runs";
        request.body = body;
        const auto t0 = Clock::now();
        try {
          if (http::request(url, request).status != 201) failures.fetch_add(1);
        } catch (const std::exception&) {
          failures.fetch_add(1);
        }
        latencies[static_cast<size_t>(i)] = std::chrono::duration<double>(Clock::now() - t0).count();
      }
    });
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  ::kill(coordinator, SIGKILL);  // right after the last answer
  ::waitpid(coordinator, nullptr, 0);

  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))]; };
  JobStore store(data);
  const int64_t rows = store.countRuns();
  std::printf("  submissions/s          %.0f\n", submissions / wall);
  std::printf("  latency p50            %.2f ms\n", pct(0.50) * 1e3);
  std::printf("  latency p99            %.2f ms\n", pct(0.99) * 1e3);
  std::printf("  failed submissions     %d\n", failures.load());
  std::printf("  durable after SIGKILL  %lld of %d\n", static_cast<long long>(rows), submissions);
  std::filesystem::remove_all(data);
  const bool ok = failures.load() == 0 && rows == submissions;
  if (!ok) std::printf("WRONG: every submission must be answered 201 and be in the store after the kill\n");
  return ok ? 0 : 1;
}
