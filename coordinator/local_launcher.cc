#include "coordinator/local_launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "sim/error.h"

namespace wafersim {

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "ended with status " + std::to_string(status);
}

std::string findNodeBinary() {
  if (const char* env = std::getenv("WAFERSIM_NODE_BINARY"); env && *env) {
    WAFERSIM_REQUIRE(::access(env, X_OK) == 0, "WAFERSIM_NODE_BINARY=", env, " is not an executable");
    return env;
  }
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& candidate : {self.parent_path() / "wafersim-node", self.parent_path() / ".." / "nodes" / "wafersim-node"})
      if (::access(candidate.c_str(), X_OK) == 0) return std::filesystem::weakly_canonical(candidate).string();
  }
  fail(ErrorKind::InvalidConfig, "cannot find the wafersim-node executable beside ", self.string(),
       " (set WAFERSIM_NODE_BINARY)");
}

LocalLauncher::LocalLauncher(std::string nodeBinary) : binary_(std::move(nodeBinary)) {}

LocalLauncher::~LocalLauncher() { killAll(); }

void LocalLauncher::start(uint32_t nodes, const std::string& coordinatorEndpoint) {
  const pid_t parent = ::getpid();
  for (uint32_t k = 0; k < nodes; ++k) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      killAll();
      fail(ErrorKind::Overloaded, "cannot start node ", k, ": fork failed: ", std::strerror(errno));
    }
    if (pid == 0) {
      ::setpgid(0, group_);  // group_ == 0 for the first node: it leads a new group
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
      const std::string node = std::to_string(k);
      ::execl(binary_.c_str(), binary_.c_str(), "--coordinator", coordinatorEndpoint.c_str(), "--node", node.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid, group_);  // also from the parent, so the group exists before anyone signals it
    if (group_ == 0) group_ = pid;
    pids_.push_back(pid);
    exited_.push_back(false);
  }
}

std::optional<std::string> LocalLauncher::checkChildren(const std::vector<bool>& finished) {
  for (size_t k = 0; k < pids_.size(); ++k) {
    if (exited_[k]) continue;
    int status = 0;
    if (::waitpid(pids_[k], &status, WNOHANG) != pids_[k]) continue;
    exited_[k] = true;
    const bool done = k < finished.size() && finished[k];
    if (!done || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return "node " + std::to_string(k) + " (pid " + std::to_string(pids_[k]) + ") " + describeWaitStatus(status) +
             (done ? " after finishing" : " before finishing its part of the run");
  }
  return std::nullopt;
}

bool LocalLauncher::reapUntil(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    bool running = false;
    for (size_t k = 0; k < pids_.size(); ++k) {
      if (exited_[k]) continue;
      int status = 0;
      if (::waitpid(pids_[k], &status, WNOHANG) == pids_[k]) exited_[k] = true;
      else running = true;
    }
    if (!running) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void LocalLauncher::waitAll(int timeoutMs) {
  if (!reapUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs))) killAll();
}

void LocalLauncher::killAll() {
  if (group_ == 0) return;
  bool any = false;
  for (size_t k = 0; k < pids_.size(); ++k) any = any || !exited_[k];
  if (!any) return;
  ::kill(-group_, SIGTERM);
  if (reapUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(1000))) return;
  ::kill(-group_, SIGKILL);
  for (size_t k = 0; k < pids_.size(); ++k)
    if (!exited_[k]) {
      int status = 0;
      ::waitpid(pids_[k], &status, 0);
      exited_[k] = true;
    }
}

}  // namespace wafersim
