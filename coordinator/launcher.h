// Launchers start the node processes a coordinator runs on: one interface, one implementation per
// kind (local fork/exec here; the cluster engines' recipes live in deploy/ and start
// `wafersim-node --pool` themselves).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/curve_keys.h"

namespace wafersim {

struct LaunchSpec {
  uint32_t count = 1;
  std::string coordinator;    // the control endpoint nodes register at
  bool pool = false;          // pool nodes (named "<name prefix><k>") or one-shot nodes ranked 0..count-1
  std::string namePrefix = "local-";  // pool nodes' names
  std::string logDir;         // "": nodes inherit this process's stdout and stderr; else LOGDIR/<name>.log
  std::string metricsHost;    // nodes serve /metrics on this host at any free port ("": no metrics)
  proto::CurveFiles curve;    // CURVE key files, passed on by path (never the keys themselves)
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts the nodes; throws Error{Overloaded} when a process cannot be started.
  virtual void start(const LaunchSpec& spec) = 0;
  // A node that ended since the last call and had not finished its part of the run: "node 1 (pid
  // 4242) was killed by signal 9" (k indexes the nodes in start order). Nodes marked finished may
  // exit quietly.
  virtual std::optional<std::string> checkChildren(const std::vector<bool>& finished) = 0;
  // The names of the nodes started (in start order), as they register.
  virtual std::vector<std::string> names() const = 0;
  // Waits up to timeoutMs for every node to exit by itself, then kills the rest.
  virtual void waitAll(int timeoutMs) = 0;
  virtual void killAll() = 0;
};

}  // namespace wafersim
