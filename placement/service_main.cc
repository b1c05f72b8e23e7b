// wafersim-placement: the online placement service process (placement_service.h). Started by the
// CLI in local mode or as its own deployment; node processes reach it with PlacementClient.
//
// Prints "wafersim-placement listening on ENDPOINT" on stdout once bound (with the port resolved,
// so that `--bind tcp://127.0.0.1:*` can be used by a launcher), logs decisions on stderr, and
// exits 0 on SIGINT or SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>

#include "protocol/curve_flags.h"
#include "obs/metrics.h"
#include "placement/placement_client.h"
#include "placement/placement_service.h"

namespace {

std::atomic<bool> stopRequested{false};  // lock-free: safe to set from a signal handler
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void onSignal(int) { stopRequested.store(true); }

// The service's figures on /metrics (docs/metrics.md).
std::vector<prometheus::MetricFamily> collectMetrics(const wafersim::placement::PlacementService::Stats& s) {
  wafersim::obs::FamilySet out;
  const char* requests = "Frames received, and of the questions decided: applied, kept, past the deadline.";
  out.counter("wafersim_placement_requests_total", requests, {{"kind", "received"}}, static_cast<double>(s.requests));
  out.counter("wafersim_placement_requests_total", requests, {{"kind", "applied"}}, static_cast<double>(s.applied));
  out.counter("wafersim_placement_requests_total", requests, {{"kind", "kept"}}, static_cast<double>(s.kept));
  out.counter("wafersim_placement_requests_total", requests, {{"kind", "deadline"}}, static_cast<double>(s.deadlines));
  out.counter("wafersim_placement_requests_total", requests, {{"kind", "memoized"}}, static_cast<double>(s.memoHits));
  out.counter("wafersim_placement_rejected_messages_total", "Frames refused: malformed or not a placement request.", {},
              static_cast<double>(s.rejected));
  std::vector<double> upper(std::begin(wafersim::placement::PlacementService::kDecisionBounds),
                            std::end(wafersim::placement::PlacementService::kDecisionBounds));
  std::vector<uint64_t> cumulative;
  uint64_t running = 0;
  for (size_t i = 0; i < upper.size(); ++i) cumulative.push_back(running += s.decisionBuckets[i]);
  out.histogram("wafersim_placement_decision_seconds", "Wall time of one placement decision.", {}, upper, cumulative,
                s.decisions, s.decisionSeconds);
  return out.take();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wafersim-placement: decides expert placements for running simulations"};
  app.set_version_flag("--version", "wafersim-placement 0.1.0");
  wafersim::placement::ServiceOptions options;
  int64_t deadlineMs = options.deadline.count();
  size_t cacheMiB = options.cacheBytes >> 20;
  bool quiet = false;
  app.add_option("--bind", options.bind, "the ZeroMQ endpoint to serve on (tcp://host:port, port * for any)")
      ->envname("WAFERSIM_PLACEMENT_BIND")
      ->capture_default_str();
  app.add_option("--deadline-ms", deadlineMs, "wall-clock budget of one decision; past it the mapping is kept")
      ->check(CLI::Range(int64_t{0}, int64_t{24} * 3600 * 1000))
      ->capture_default_str();
  app.add_option("--workers", options.workers, "policies decided at once")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--cache-entries", options.cacheEntries, "replies remembered (by run id and epoch)")
      ->capture_default_str();
  app.add_option("--cache-mib", cacheMiB, "memory for remembered replies, MiB")->capture_default_str();
  app.add_flag("--quiet", quiet, "no log line per decision");
  std::string coordinator, advertise;
  std::string metricsAddress;
  app.add_option("--metrics", metricsAddress,
                 "serve Prometheus metrics at HOST:PORT/metrics (port 0: any free one; docs/metrics.md)")
      ->envname("WAFERSIM_METRICS");
  app.add_option("--coordinator", coordinator,
                 "register with this coordinator's control endpoint (tcp://host:port), so its runs share this service")
      ->envname("WAFERSIM_COORDINATOR");
  app.add_option("--advertise", advertise,
                 "the endpoint runs reach this service at (default: the bound one, the host's name for a wildcard)")
      ->envname("WAFERSIM_PLACEMENT_ADVERTISE");
  wafersim::proto::CurveFiles curve;
  wafersim::proto::addCurveOptions(app, curve, "this service", "client (node)");
  CLI11_PARSE(app, argc, argv);
  options.deadline = std::chrono::milliseconds(deadlineMs);
  options.cacheBytes = cacheMiB << 20;
  options.log = !quiet;

  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: the poll returns EINTR and the loop looks at the flag
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Started by a launcher (coordinator/child_process.h): leave with it, whichever of its threads
  // started us.
  std::thread parentWatch;
  if (const char* v = std::getenv("WAFERSIM_PARENT_PID"); v && *v) {
    const pid_t parent = static_cast<pid_t>(std::atoi(v));
    parentWatch = std::thread([parent] {
      while (!stopRequested.load()) {
        if (::getppid() != parent) stopRequested.store(true);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  struct Join {
    std::thread& t;
    ~Join() {
      stopRequested.store(true);
      if (t.joinable()) t.join();
    }
  } join{parentWatch};
  try {
    options.curve = wafersim::proto::loadCurveSecurity(curve);
    wafersim::placement::PlacementService service(options);
    std::printf("wafersim-placement listening on %s\n", service.endpoint().c_str());
    std::fflush(stdout);
    wafersim::obs::MetricsRegistry metrics("placement");
    std::optional<wafersim::obs::MetricsServer> metricsServer;
    const auto serviceMetrics = wafersim::obs::makeCollectable([&service] { return collectMetrics(service.stats()); });
    const auto authMetrics = service.authMetrics();  // held here: the registry holds it weakly
    if (!metricsAddress.empty()) {
      metrics.add(serviceMetrics);
      if (authMetrics) metrics.add(authMetrics);
      metricsServer.emplace(metricsAddress, metrics);
      std::fprintf(stderr, "wafersim-placement: metrics at %s/metrics\n", metricsServer->url().c_str());
    }
    std::thread registration;
    if (!coordinator.empty()) {
      if (advertise.empty()) advertise = wafersim::placement::advertisedEndpoint(service.endpoint());
      registration = std::thread([&] { wafersim::placement::registerWithCoordinator(coordinator, advertise, stopRequested, options.curve); });
    }
    service.run(stopRequested);
    stopRequested.store(true);
    if (registration.joinable()) registration.join();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wafersim-placement: %s\n", e.what());
    return 1;
  }
}
