// wafersim-coordinator: the coordinator service on its own (docs/service.md), for clusters: node
// pools register on --control (wafersim-node --pool --coordinator ...), clients use --http. Stops
// on SIGINT or SIGTERM, leaving runs in progress queued for its next start.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "coordinator/service.h"
#include "coordinator/service_flags.h"
#include "sim/error.h"

int main(int argc, char** argv) {
  CLI::App app{"wafersim-coordinator: the wafersim coordinator service (HTTP API, job store, node pool)"};
  app.set_version_flag("--version", "wafersim-coordinator 0.1.0");
  wafersim::ServiceOptions options;
  std::string http = "127.0.0.1:8080";
  app.add_option("--data", options.dataDir, "data folder: job store, results, files")
      ->envname("WAFERSIM_DATA")->capture_default_str();
  app.add_option("--http", http, "HTTP API address HOST:PORT")->envname("WAFERSIM_HTTP")->capture_default_str();
  app.add_option("--control", options.control, "the node pool's control endpoint (tcp://HOST:PORT)")
      ->envname("WAFERSIM_CONTROL")->capture_default_str();
  app.add_option("--placement", options.placementEndpoint, "a wafersim-placement endpoint shared by runs")
      ->envname("WAFERSIM_PLACEMENT");
  app.add_option("--max-retries", options.maxRetries, "re-queues of a run lost with its node")->capture_default_str();
  app.add_option("--max-body-bytes", options.maxBodyBytes, "larger request bodies are refused (413)")->capture_default_str();
  app.add_option("--heartbeat-timeout-ms", options.heartbeatTimeoutMs, "node silence that counts as lost")
      ->capture_default_str();
  // No envname: findWebDist() reads WAFERSIM_WEB_DIR itself.
  app.add_option("--web-dir", options.webDir,
                 "the built live page served at / (default $WAFERSIM_WEB_DIR, the build's web/dist, or ../share/wafersim/web)");
  app.add_option("--curve-key", options.curve.keyFile,
                 "CURVE on the control socket with this key pair file (wafersim keygen; mode 0600; docs/deploy.md)")
      ->envname("WAFERSIM_CURVE_KEY");
  app.add_option("--curve-allow", options.curve.allowFile,
                 "with --curve-key: the node and placement public keys accepted, one per line (the key's own is always)")
      ->envname("WAFERSIM_CURVE_ALLOW");
  wafersim::addAccessFlags(app, options);
  CLI11_PARSE(app, argc, argv);
  const auto colon = http.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "wafersim-coordinator: --http \"%s\": expected HOST:PORT\n", http.c_str());
    return 2;
  }
  options.httpHost = http.substr(0, colon);
  options.httpPort = static_cast<uint16_t>(std::atoi(http.c_str() + colon + 1));

  signal(SIGPIPE, SIG_IGN);  // a closed stdout or socket is an error to report, not a death
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // every thread from here on: the signal is taken below
  try {
    wafersim::CoordinatorService service(options);
    service.start();
    std::printf("wafersim-coordinator: API %s, control %s, data %s\n", service.url().c_str(),
                service.controlEndpoint().c_str(), options.dataDir.c_str());
    wafersim::printAccess("wafersim-coordinator", options);
    std::fflush(stdout);
    int signal = 0;
    sigwait(&set, &signal);
    std::printf("wafersim-coordinator: stopping on signal %d\n", signal);
    service.stop();
    return 0;
  } catch (const wafersim::Error& e) {
    std::fprintf(stderr, "wafersim-coordinator: %s: %s\n", wafersim::toString(e.kind()), e.what());
    return e.kind() == wafersim::ErrorKind::InvalidConfig ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wafersim-coordinator: %s\n", e.what());
    return 1;
  }
}
