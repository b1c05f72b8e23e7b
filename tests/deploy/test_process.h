// A process that an integration test starts and must not leave behind: its own process group,
// stdout and stderr to a log file (shown when a test fails), and a bounded stop — SIGTERM to the
// process (which stops its own children), a wait on its pidfd, then SIGKILL to what is left of
// its group.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "coordinator/child_process.h"

namespace wafersim::testing {

class TestProcess {
 public:
  TestProcess() = default;
  // Starts argv (argv[0]: the executable) with its output appended to `log`.
  TestProcess(std::vector<std::string> argv, std::filesystem::path log) : log_(std::move(log)) {
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.stdoutFd = fd;
    spec.stderrFd = fd;
    spec.processGroup = 0;
    pid_ = spawnChild(spec);
    if (fd >= 0) ::close(fd);
  }
  // Adopts a child started elsewhere (spawnAndReadFirstLine) that leads its own process group.
  TestProcess(pid_t pid, std::filesystem::path log) : pid_(pid), log_(std::move(log)) {}
  TestProcess(TestProcess&& o) noexcept : pid_(o.pid_), log_(std::move(o.log_)) { o.pid_ = -1; }
  TestProcess& operator=(TestProcess&& o) noexcept {
    if (this != &o) {
      stop();
      pid_ = o.pid_;
      log_ = std::move(o.log_);
      o.pid_ = -1;
    }
    return *this;
  }
  ~TestProcess() { stop(); }

  pid_t pid() const { return pid_; }

  // True while the process has not exited (it is not reaped here).
  bool running() const {
    if (pid_ <= 0) return false;
    siginfo_t info{};
    info.si_pid = 0;
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
  }

  // The log so far (the last `limit` bytes).
  std::string log(size_t limit = 4000) const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    return text.size() > limit ? text.substr(text.size() - limit) : text;
  }

  // SIGTERM; after `grace`, SIGKILL. Reaps the process, then kills what is left of its group.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10)) {
    if (pid_ <= 0) return;
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    ::kill(pid_, SIGTERM);
    bool exited = false;
    if (fd >= 0) {
      pollfd p{fd, POLLIN, 0};
      exited = ::poll(&p, 1, static_cast<int>(grace.count())) == 1;
      ::close(fd);
    }
    if (!exited) ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::kill(-pid_, SIGKILL);  // anything of the group left behind
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

}  // namespace wafersim::testing
