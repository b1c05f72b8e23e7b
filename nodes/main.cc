// wafersim-node: a worker process. Started by `wafersim run --nodes N` on this machine (one-shot,
// with a rank), by `wafersim serve` or a cluster launcher for the coordinator's node pool (--pool),
// or by srun / a Kubernetes indexed job with the rank taken from the environment.
#include <unistd.h>

#include <cstdio>
#include <optional>

#include <CLI/CLI.hpp>

#include "protocol/curve_flags.h"
#include "nodes/node_runtime.h"
#include "obs/metrics.h"
#include "sim/error.h"

int main(int argc, char** argv) {
  CLI::App app{"wafersim-node: runs partitions of wafersim simulations, run after run"};
  app.set_version_flag("--version", "wafersim-node 0.1.0");
  wafersim::NodeOptions options;
  app.add_option("--coordinator", options.coordinator, "the coordinator's control endpoint, tcp://host:port")
      ->required()->envname("WAFERSIM_COORDINATOR");
  app.add_option("--node", options.rank,
                 "this node's rank for a one-shot run (default: JOB_COMPLETION_INDEX, SLURM_PROCID or "
                 "OMPI_COMM_WORLD_RANK; none with --pool)");
  app.add_flag("--pool", options.pool,
               "serve the coordinator's node pool: run after run, and register again if the coordinator restarts")
      ->envname("WAFERSIM_POOL");
  app.add_option("--name", options.name, "the node's name in the pool (default <hostname>-<pid>, or node-<rank>)")
      ->envname("WAFERSIM_NODE_NAME");
  app.add_option("--bind-host", options.bindHost, "interface for this node's data socket")->envname("WAFERSIM_BIND_HOST");
  app.add_option("--registration-timeout-ms", options.registrationTimeoutMs, "how long to wait for the coordinator");
  app.add_option("--heartbeat-timeout-ms", options.heartbeatTimeoutMs,
                 "coordinator silence that counts as lost, once it has answered")
      ->check(CLI::Range(100, 600000));
  std::string metricsAddress;
  app.add_option("--metrics", metricsAddress,
                 "serve Prometheus metrics at HOST:PORT/metrics (port 0: any free one; docs/metrics.md)")
      ->envname("WAFERSIM_METRICS");
  wafersim::proto::CurveFiles curve;
  wafersim::proto::addCurveOptions(app, curve, "this node", "peer (node)");
  CLI11_PARSE(app, argc, argv);
  if (options.rank < 0 && !options.pool) options.rank = wafersim::rankFromEnvironment();
  if (options.rank < 0 && !options.pool) {
    std::fprintf(stderr,
                 "wafersim-node: no rank: pass --node, set JOB_COMPLETION_INDEX, SLURM_PROCID or "
                 "OMPI_COMM_WORLD_RANK, or serve a pool with --pool\n");
    return wafersim::kNodeBadConfig;
  }
  try {
    options.curve = wafersim::proto::loadCurveSecurity(curve);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wafersim-node: %s\n", e.what());
    return wafersim::kNodeBadConfig;
  }
  try {
    wafersim::obs::MetricsRegistry metrics("node");
    std::optional<wafersim::obs::MetricsServer> server;
    if (!metricsAddress.empty()) {
      server.emplace(metricsAddress, metrics);
      options.metrics = &metrics;
      // What the coordinator lists for Prometheus: a wildcard address names no host to reach, so
      // a node bound to one advertises its host name.
      options.metricsUrl = server->url();
      const std::string bound = wafersim::obs::parseHostPort(metricsAddress, "--metrics").first;
      if (bound == "0.0.0.0" || bound == "::" || bound == "[::]") {
        char host[256] = {};
        gethostname(host, sizeof host - 1);
        options.metricsUrl = "http://" + std::string(host) + ":" + std::to_string(server->port());
      }
      std::fprintf(stderr, "wafersim-node: metrics at %s/metrics\n", server->url().c_str());
    }
    return wafersim::runNode(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wafersim-node %s: %s\n", options.name.c_str(), e.what());
    return wafersim::kNodeRunFailed;
  }
}
