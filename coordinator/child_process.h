// Starting child processes from a threaded process, safely: everything the child needs (argv,
// environment, paths) is built before fork(), and between fork() and exec the child makes only
// async-signal-safe calls (setpgid, dup2, close_range, execve, _exit) — no allocation, no locks another thread
// may have held at the fork; descriptors above stderr are closed (close_range), so a child never
// holds the parent's sockets.
//
// Parent death: PR_SET_PDEATHSIG fires when the *thread* that forked exits, which in a service
// with worker threads is not when the process dies. Instead every child gets
// WAFERSIM_PARENT_PID=<pid> in its environment, and wafersim's own processes exit when their
// parent is no longer that process (the node's and the placement service's main loops check).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace wafersim {

struct ChildSpec {
  std::vector<std::string> argv;      // argv[0]: the executable's path
  std::vector<std::string> env;       // extra KEY=VALUE entries, over the parent's environment
  int stdoutFd = -1;                  // >= 0: becomes the child's stdout
  int stderrFd = -1;                  // >= 0: becomes the child's stderr
  pid_t processGroup = -1;            // -1: the parent's; 0: a new group the child leads; > 0: join it
};

// Forks and execs; returns the child's pid. Throws Error{Overloaded} when fork fails. An exec that
// fails makes the child exit with 127 (seen by waitpid).
pid_t spawnChild(const ChildSpec& spec);

// Starts a child whose stdout is a pipe and reads its first line (servers print where they
// listen): the line without its newline, "" when none came within `timeout` or the child closed
// its stdout first. The pipe is closed then: later writes fail (wafersim's programs ignore SIGPIPE).
struct StartedChild {
  pid_t pid = -1;
  std::string firstLine;
};
StartedChild spawnAndReadFirstLine(ChildSpec spec, std::chrono::milliseconds timeout);


}  // namespace wafersim
