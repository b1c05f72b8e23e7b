#include "coordinator/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sim/error.h"

extern char** environ;

namespace wafersim {

pid_t spawnChild(const ChildSpec& spec) {
  WAFERSIM_REQUIRE(!spec.argv.empty(), "spawnChild: no program");
  // Everything the child touches is made here, before the fork.
  std::vector<std::string> envStrings;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    bool overridden = key == "WAFERSIM_PARENT_PID";
    for (const auto& extra : spec.env) overridden = overridden || extra.substr(0, extra.find('=')) == key;
    if (!overridden) envStrings.push_back(entry);
  }
  for (const auto& extra : spec.env) envStrings.push_back(extra);
  envStrings.push_back("WAFERSIM_PARENT_PID=" + std::to_string(::getpid()));
  std::vector<char*> envp, argv;
  for (auto& s : envStrings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t group = spec.processGroup;

  const pid_t pid = ::fork();
  if (pid < 0) fail(ErrorKind::Overloaded, "cannot start ", spec.argv[0], ": fork failed: ", std::strerror(errno));
  if (pid == 0) {  // async-signal-safe calls only
    if (group >= 0) ::setpgid(0, group);
    if (spec.stdoutFd >= 0) ::dup2(spec.stdoutFd, STDOUT_FILENO);
    if (spec.stderrFd >= 0) ::dup2(spec.stderrFd, STDERR_FILENO);
    // Nothing else of the parent's (its listening sockets, its job store) stays open in the child:
    // sockets without close-on-exec would otherwise outlive the parent in its children.
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  if (group >= 0) ::setpgid(pid, group == 0 ? pid : group);  // also here: the group exists before anyone signals it
  return pid;
}

StartedChild spawnAndReadFirstLine(ChildSpec spec, std::chrono::milliseconds timeout) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) fail(ErrorKind::Overloaded, "cannot make a pipe: ", std::strerror(errno));
  spec.stdoutFd = out[1];
  StartedChild started;
  try {
    started.pid = spawnChild(spec);
  } catch (...) {
    ::close(out[0]);
    ::close(out[1]);
    throw;
  }
  ::close(out[1]);
  std::string text;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < until) {
    pollfd fd{out[0], POLLIN, 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    char buffer[512];
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(out[0]);
  if (const auto newline = text.find('\n'); newline != std::string::npos) started.firstLine = text.substr(0, newline);
  return started;
}

}  // namespace wafersim
