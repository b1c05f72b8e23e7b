#include "cli/placement_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "sim/error.h"

namespace wafersim {

std::string findPlacementBinary() {
  if (const char* env = std::getenv("WAFERSIM_PLACEMENT_BINARY"); env && *env) {
    WAFERSIM_REQUIRE(::access(env, X_OK) == 0, "WAFERSIM_PLACEMENT_BINARY=", env, " is not an executable");
    return env;
  }
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (const auto& candidate :
         {self.parent_path() / "wafersim-placement", self.parent_path() / ".." / "placement" / "wafersim-placement"})
      if (::access(candidate.c_str(), X_OK) == 0) return std::filesystem::weakly_canonical(candidate).string();
  fail(ErrorKind::InvalidConfig, "cannot find the wafersim-placement executable beside ", self.string(),
       " (set WAFERSIM_PLACEMENT_BINARY)");
}

LocalPlacementService::LocalPlacementService() {
  const std::string binary = findPlacementBinary();
  int out[2];
  WAFERSIM_REQUIRE(::pipe2(out, O_CLOEXEC) == 0, "placement service: cannot make a pipe");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(out[1], STDOUT_FILENO);
    std::vector<std::string> args{binary, "--bind", "tcp://127.0.0.1:*", "--quiet"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  if (pid_ < 0) {
    ::close(out[0]);
    fail(ErrorKind::Overloaded, "placement service: fork failed");
  }
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
