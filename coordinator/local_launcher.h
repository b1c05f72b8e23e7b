// Starts wafersim-node processes on this machine (Launcher), watches them, and makes sure none
// outlives its launcher: they share a process group that is signalled on shutdown, on failure and
// from the destructor, and each exits when this process dies (child_process.h: parent watch), which
// holds whichever thread started them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/launcher.h"

namespace wafersim {

class LocalLauncher final : public Launcher {
 public:
  // `nodeBinary`: path of wafersim-node; see findNodeBinary().
  explicit LocalLauncher(std::string nodeBinary);
  ~LocalLauncher() override;  // kills whatever still runs
  LocalLauncher(const LocalLauncher&) = delete;
  LocalLauncher& operator=(const LocalLauncher&) = delete;

  void start(const LaunchSpec& spec) override;
  // One-shot nodes ranked 0..nodes-1 (kept for the tests and `wafersim run --nodes`).
  void start(uint32_t nodes, const std::string& coordinatorEndpoint) {
    start(LaunchSpec{nodes, coordinatorEndpoint, false, "", ""});
  }
  std::optional<std::string> checkChildren(const std::vector<bool>& finished) override;
  std::vector<std::string> names() const override { return names_; }
  // Every node process that ended since the last call: (name, "pid 4242 was killed by signal 9").
  std::vector<std::pair<std::string, std::string>> reapExited();
  void waitAll(int timeoutMs) override;
  void killAll() override;
  const std::vector<pid_t>& pids() const { return pids_; }
  std::vector<pid_t> runningPids() const;  // not yet seen to exit

 private:
  // Reaps exited nodes until none runs (true) or the deadline passes (false).
  bool reapUntil(std::chrono::steady_clock::time_point deadline);

  std::string binary_;
  std::vector<pid_t> pids_;
  std::vector<std::string> names_;
  std::vector<bool> exited_;
  pid_t group_ = 0;
};

// WAFERSIM_NODE_BINARY, else wafersim-node beside this executable, else ../nodes/wafersim-node
// relative to it (the build tree). Throws Error{InvalidConfig} when none exists.
std::string findNodeBinary();
// The same search for any of wafersim's executables: WAFERSIM_<NAME>_BINARY (upper case, '-' as
// '_'), beside this executable, or ../<folder>/<name> in the build tree.
std::string findSiblingBinary(const std::string& name, const std::string& buildFolder);

// Appends --curve-key, --curve-allow and --coordinator-key for the files `curve` names (paths only:
// keys never appear on a command line).
void appendCurveArguments(std::vector<std::string>& argv, const proto::CurveFiles& curve);

// "exited with code 3", "was killed by signal 9".
std::string describeWaitStatus(int status);

}  // namespace wafersim
