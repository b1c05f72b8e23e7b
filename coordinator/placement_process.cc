#include "coordinator/placement_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "coordinator/child_process.h"
#include "coordinator/local_launcher.h"
#include "sim/error.h"

namespace wafersim {

std::string findPlacementBinary() { return findSiblingBinary("wafersim-placement", "placement"); }

LocalPlacementService::LocalPlacementService() {
  const std::string binary = findPlacementBinary();
  int out[2];
  WAFERSIM_REQUIRE(::pipe2(out, O_CLOEXEC) == 0, "placement service: cannot make a pipe");
  ChildSpec child;
  child.argv = {binary, "--bind", "tcp://127.0.0.1:*", "--quiet"};
  child.stdoutFd = out[1];
  try {
    pid_ = spawnChild(child);
  } catch (...) {
    ::close(out[0]);
    ::close(out[1]);
    throw;
  }
  ::close(out[1]);
  // Its first line: "wafersim-placement listening on ENDPOINT".
  std::string text;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < until) {
    pollfd fd{out[0], POLLIN, 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    char buffer[256];
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(out[0]);
  const std::string prefix = "wafersim-placement listening on ";
  if (text.rfind(prefix, 0) != 0 || text.find('\n') == std::string::npos) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    fail(ErrorKind::Internal, "placement service (", binary, ") did not say where it listens: ", text);
  }
  endpoint_ = text.substr(prefix.size(), text.find('\n') - prefix.size());
}

LocalPlacementService::~LocalPlacementService() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {  // up to 2 s, then kill
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    ::usleep(10'000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace wafersim
