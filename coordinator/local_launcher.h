// Starts N wafersim-node processes on this machine for a local distributed run, watches them,
// and makes sure none outlives the run: they share a process group that is signalled on
// shutdown, on failure and from the destructor, and each node dies with its parent (Linux
// PR_SET_PDEATHSIG) should the launching process be killed outright.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wafersim {

class LocalLauncher {
 public:
  // `nodeBinary`: path of wafersim-node; see findNodeBinary().
  explicit LocalLauncher(std::string nodeBinary);
  ~LocalLauncher();  // kills whatever still runs
  LocalLauncher(const LocalLauncher&) = delete;
  LocalLauncher& operator=(const LocalLauncher&) = delete;

  void start(uint32_t nodes, const std::string& coordinatorEndpoint);
  // A node process that ended since the last call and had not finished its part of the run:
  // "node 1 (pid 4242) was killed by signal 9". Nodes marked finished may exit quietly.
  std::optional<std::string> checkChildren(const std::vector<bool>& finished);
  // Waits up to timeoutMs for every node to exit by itself, then kills the rest.
  void waitAll(int timeoutMs);
  void killAll();
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  // Reaps exited nodes until none runs (true) or the deadline passes (false).
  bool reapUntil(std::chrono::steady_clock::time_point deadline);

  std::string binary_;
  std::vector<pid_t> pids_;
  std::vector<bool> exited_;
  pid_t group_ = 0;
};

// WAFERSIM_NODE_BINARY, else wafersim-node beside this executable, else ../nodes/wafersim-node
// relative to it (the build tree). Throws Error{InvalidConfig} when none exists.
std::string findNodeBinary();

// "exited with code 3", "was killed by signal 9".
std::string describeWaitStatus(int status);

}  // namespace wafersim
