// Helpers for the page tests: the tools they need (node, Debian's Chromium, the web build's npm
// packages and bundle), and running one of the JS drivers under web/tests/ as a child process with
// a deadline: its output is collected (and echoed, so screenshot names show in the test log), and
// at the deadline it gets SIGTERM (playwright closes its browser), then SIGKILL.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/child_process.h"
#include "tests/coordinator/service_support.h"

namespace wafersim::testing {

inline std::string sourceDir() { return WAFERSIM_SOURCE_DIR; }
inline std::string artifactsDir() { return binaryDir() + "/test-artifacts"; }

// The executable named on PATH, or "".
inline std::string onPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

struct BrowserTools {
  std::string node;      // $WAFERSIM_NODE, else node (or Debian's nodejs) on PATH
  std::string chromium;  // $WAFERSIM_CHROMIUM, else /usr/bin/chromium
  std::string modules = binaryDir() + "/web/node_modules";
  std::string dist = binaryDir() + "/web/dist";
};

// Why the page tests cannot run here (node or Chromium absent: they skip), or nullopt.
inline std::optional<std::string> absentBrowserTools(BrowserTools& tools) {
  const char* node = std::getenv("WAFERSIM_NODE");
  tools.node = node && *node ? node : onPath("node");
  if (tools.node.empty()) tools.node = onPath("nodejs");
  const char* chromium = std::getenv("WAFERSIM_CHROMIUM");
  tools.chromium = chromium && *chromium ? chromium : "/usr/bin/chromium";
  if (tools.node.empty()) return "node is not installed (apt-get install nodejs npm, or scripts/deps.sh)";
  if (::access(tools.chromium.c_str(), X_OK) != 0)
    return tools.chromium + " is not installed (apt-get install chromium, or scripts/deps.sh)";
  return std::nullopt;
}

// What the web build must have made; a missing one is a failure, not a skip (node is here).
inline std::string missingWebBuild(const BrowserTools& tools) {
  for (const std::string& need : {tools.modules + "/playwright-core/package.json", tools.dist + "/index.html",
                                  tools.dist + "/report.js"})
    if (!std::filesystem::exists(need)) return need + " is missing: build the wafersim_web target";
  return "";
}

struct DriverRun {
  int exitCode = -1;  // -1: killed at the deadline
  std::string output;
};

// node web/tests/<script> args..., bounded by `limit` of wall time.
inline DriverRun runDriver(const BrowserTools& tools, const std::string& script, const std::vector<std::string>& args,
                           std::chrono::seconds limit) {
  int fds[2];
  DriverRun run;
  if (::pipe(fds) != 0) return run;
  ChildSpec spec;
  spec.argv = {tools.node, sourceDir() + "/web/tests/" + script};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = {"WAFERSIM_WEB_MODULES=" + tools.modules, "WAFERSIM_CHROMIUM=" + tools.chromium};
  spec.stdoutFd = fds[1];
  spec.stderrFd = fds[1];
  spec.processGroup = 0;  // its own group: the deadline stops node and whatever it started
  const pid_t pid = spawnChild(spec);
  ::close(fds[1]);
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + limit;
  auto killAt = Clock::time_point::max();
  bool signalled = false;
  for (;;) {
    const auto now = Clock::now();
    if (!signalled && now >= deadline) {
      ::kill(-pid, SIGTERM);
      signalled = true;
      killAt = now + std::chrono::seconds(10);
    }
    if (signalled && now >= killAt) {
      ::kill(-pid, SIGKILL);
      killAt = Clock::time_point::max();
    }
    const auto until = signalled ? killAt : deadline;
    const int waitMs = until == Clock::time_point::max()
                           ? 1000
                           : static_cast<int>(std::max<int64_t>(
                                 1, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count()));
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, std::min(waitMs, 1000)) > 0) {
      char buffer[4096];
      const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      if (n <= 0) break;  // every writer closed: the driver (and its browser) ended
      run.output.append(buffer, static_cast<size_t>(n));
      std::fwrite(buffer, 1, static_cast<size_t>(n), stdout);
      std::fflush(stdout);
    }
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::kill(-pid, SIGKILL);  // anything of its group still there (nothing, normally)
  run.exitCode = !signalled && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace wafersim::testing
