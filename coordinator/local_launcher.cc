#include "coordinator/local_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "coordinator/child_process.h"
#include "sim/error.h"

namespace wafersim {

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "ended with status " + std::to_string(status);
}

std::string findSiblingBinary(const std::string& name, const std::string& buildFolder) {
  std::string var = "WAFERSIM_";
  for (char c : name.substr(name.find('-') == std::string::npos ? 0 : name.find('-') + 1))
    var += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  var += "_BINARY";
  if (const char* env = std::getenv(var.c_str()); env && *env) {
    WAFERSIM_REQUIRE(::access(env, X_OK) == 0, var, "=", env, " is not an executable");
    return env;
  }
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& candidate : {self.parent_path() / name, self.parent_path() / ".." / buildFolder / name})
      if (::access(candidate.c_str(), X_OK) == 0) return std::filesystem::weakly_canonical(candidate).string();
  }
  fail(ErrorKind::InvalidConfig, "cannot find the ", name, " executable beside ", self.string(), " (set ", var, ")");
}

std::string findNodeBinary() { return findSiblingBinary("wafersim-node", "nodes"); }

void appendCurveArguments(std::vector<std::string>& argv, const proto::CurveFiles& curve) {
  if (!curve.enabled()) return;
  // Absolute: the child may run elsewhere (its working directory is ours today, but nothing says so).
  auto absolute = [](const std::string& path) { return std::filesystem::absolute(path).lexically_normal().string(); };
  argv.insert(argv.end(), {"--curve-key", absolute(curve.keyFile)});
  if (!curve.allowFile.empty()) argv.insert(argv.end(), {"--curve-allow", absolute(curve.allowFile)});
  if (!curve.serverKeyFile.empty()) argv.insert(argv.end(), {"--coordinator-key", absolute(curve.serverKeyFile)});
}

LocalLauncher::LocalLauncher(std::string nodeBinary) : binary_(std::move(nodeBinary)) {}

LocalLauncher::~LocalLauncher() { killAll(); }

void LocalLauncher::start(const LaunchSpec& spec) {
  if (!spec.logDir.empty()) std::filesystem::create_directories(spec.logDir);
  for (uint32_t k = 0; k < spec.count; ++k) {
    ChildSpec child;
    const std::string name = spec.pool ? spec.namePrefix + std::to_string(names_.size()) : "node-" + std::to_string(k);
    child.argv = {binary_, "--coordinator", spec.coordinator};
    if (spec.pool) child.argv.insert(child.argv.end(), {"--pool", "--name", name});
    else child.argv.insert(child.argv.end(), {"--node", std::to_string(k)});
    if (!spec.metricsHost.empty()) child.argv.insert(child.argv.end(), {"--metrics", spec.metricsHost + ":0"});
    appendCurveArguments(child.argv, spec.curve);
    child.processGroup = group_;  // 0 for the first node: it leads a new group
    int log = -1;
    if (!spec.logDir.empty()) {
      const std::string path = spec.logDir + "/" + name + ".log";
      log = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      child.stdoutFd = child.stderrFd = log;
    }
    pid_t pid = -1;
    try {
      pid = spawnChild(child);
    } catch (...) {
      if (log >= 0) ::close(log);
      killAll();
      throw;
    }
    if (log >= 0) ::close(log);
    if (group_ == 0) group_ = pid;
    pids_.push_back(pid);
    names_.push_back(name);
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
    if (!done || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::string who = names_[k].rfind("node-", 0) == 0 ? "node " + names_[k].substr(5) : "node " + names_[k];
      return who + " (pid " + std::to_string(pids_[k]) + ") " + describeWaitStatus(status) +
             (done ? " after finishing" : " before finishing its part of the run");
    }
  }
  return std::nullopt;
}

std::vector<pid_t> LocalLauncher::runningPids() const {
  std::vector<pid_t> out;
  for (size_t k = 0; k < pids_.size(); ++k)
    if (!exited_[k]) out.push_back(pids_[k]);
  return out;
}

std::vector<std::pair<std::string, std::string>> LocalLauncher::reapExited() {
  std::vector<std::pair<std::string, std::string>> ended;
  for (size_t k = 0; k < pids_.size(); ++k) {
    if (exited_[k]) continue;
    int status = 0;
    if (::waitpid(pids_[k], &status, WNOHANG) != pids_[k]) continue;
    exited_[k] = true;
    ended.emplace_back(names_[k], "pid " + std::to_string(pids_[k]) + " " + describeWaitStatus(status));
  }
  return ended;
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
