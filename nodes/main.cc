// wafersim-node: one worker process of a distributed run. Started by `wafersim run --nodes N`
// on this machine, or by a cluster launcher (srun, a Kubernetes indexed job) with the rank taken
// from the environment.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "nodes/node_runtime.h"
#include "placement/placement_client.h"
#include "sim/error.h"

int main(int argc, char** argv) {
  CLI::App app{"wafersim-node: runs one partition of a wafersim simulation"};
  app.set_version_flag("--version", "wafersim-node 0.1.0");
  wafersim::NodeOptions options;
  int node = -1;
  app.add_option("--coordinator", options.coordinator, "the coordinator's control endpoint, tcp://host:port")
      ->required()->envname("WAFERSIM_COORDINATOR");
  app.add_option("--node", node, "this node's rank (default: JOB_COMPLETION_INDEX, SLURM_PROCID or OMPI_COMM_WORLD_RANK)");
  app.add_option("--bind-host", options.bindHost, "interface for this node's data socket")->envname("WAFERSIM_BIND_HOST");
  app.add_option("--registration-timeout-ms", options.registrationTimeoutMs, "how long to wait for an assignment");
  CLI11_PARSE(app, argc, argv);
  if (node < 0) node = wafersim::rankFromEnvironment();
  if (node < 0) {
    std::fprintf(stderr, "wafersim-node: no rank: pass --node or set JOB_COMPLETION_INDEX, SLURM_PROCID or OMPI_COMM_WORLD_RANK\n");
    return wafersim::kNodeBadConfig;
  }
  options.node = static_cast<uint32_t>(node);
  wafersim::placement::installRemoteDecider();  // scenarios may name a placement service
  try {
    return wafersim::runNode(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wafersim-node %d: %s\n", node, e.what());
    return wafersim::kNodeRunFailed;
  }
}
