// `wafersim serve`: the coordinator service with everything it needs on this machine, no setup —
// a placement service shared by its runs and N local pool nodes (logs under DATA/nodes/), watched:
// a node process that dies is dropped from the pool at once (failing, and so re-queueing, its run)
// and replaced by a fresh one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "coordinator/service.h"

namespace wafersim {

class EmbeddedService {
 public:
  // Starts everything; throws Error naming what could not start.
  EmbeddedService(ServiceOptions options, uint32_t nodes);
  ~EmbeddedService();  // stop()
  EmbeddedService(const EmbeddedService&) = delete;
  EmbeddedService& operator=(const EmbeddedService&) = delete;

  std::string url() const;
  const std::string& controlEndpoint() const;
  const std::string& placementEndpoint() const;
  // The pids of the node processes running now (tests kill them).
  std::vector<int> nodePids() const;
  NodePool& pool();
  std::vector<std::pair<std::string, std::string>> routes() const;  // the API's (method, pattern)
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wafersim
