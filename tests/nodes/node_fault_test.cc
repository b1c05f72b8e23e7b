// Faults in a distributed run: a node killed outright, the coordinator killed outright, Ctrl-C.
// Every case must end within its bound, with a reason naming who failed, and leave no process.
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/prctl.h>

#include <dirent.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"
#include "tests/nodes/node_test_support.h"
#include "tests/support.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;
using testing::build;
using testing::processAlive;
using testing::runNodes;
using Clock = std::chrono::steady_clock;

// A run long enough to be killed in the middle of.
const std::string kLongRun = "model: phold\nparams: {lps: 256}\nsimulation: {end: 1 ms, seed: 1}\n";

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Kills node 1 (SIGKILL) a second into a run of `partitions` partitions laid out on nodes by
// `nodeOf` (empty: one each); the run must fail within 5 s naming it, and leave no process.
void killNodeOneMidRun(uint32_t partitions, const std::vector<uint32_t>& nodeOf) {
  const auto b = build(kLongRun, partitions);
  const auto started = Clock::now();
  std::optional<Clock::time_point> killedAt;
  std::vector<pid_t> pids;
  try {
    runNodes(
        kLongRun, b, {},
        [&](LocalLauncher& launcher, const std::vector<bool>&) -> std::optional<std::string> {
          pids = launcher.pids();
          if (!killedAt && secondsSince(started) > 1.0) {
            ::kill(launcher.pids()[1], SIGKILL);
            killedAt = Clock::now();
          }
          return std::nullopt;
        },
        3000, nodeOf);
    FAIL() << "the run survived a killed node";
  } catch (const Error& e) {
    ASSERT_TRUE(killedAt.has_value()) << "the run ended before the kill: " << e.what();
    EXPECT_LT(secondsSince(*killedAt), 5.0);
    EXPECT_THAT(e.what(), HasSubstr("node 1"));
    EXPECT_THAT(e.what(), HasSubstr("signal 9"));
  }
  // runNodes' launcher is gone: every node process has been reaped or killed.
  for (pid_t pid : pids) EXPECT_FALSE(processAlive(pid)) << "node process " << pid << " outlived the run";
}

TEST(NodeFault, KilledNodeFailsTheRunWithinFiveSeconds) { killNodeOneMidRun(3, {}); }

// A hybrid node (two partitions on threads) killed: the same outcome, and the surviving node's two
// partitions, waiting at their local barrier or on the dead node's reports, are aborted with it.
TEST(NodeFault, KilledHybridNodeFailsTheRunWithinFiveSeconds) { killNodeOneMidRun(4, {0, 1, 0, 1}); }

// Without the launcher's help (a node on another machine), silence is noticed by heartbeats.
TEST(NodeFault, StoppedNodeIsNoticedByHeartbeat) {
  const auto b = build(kLongRun, 2);
  const auto started = Clock::now();
  std::optional<Clock::time_point> stoppedAt;
  pid_t stopped = 0;
  try {
    NodeCoordinator coordinator;
    LocalLauncher launcher(testing::nodeBinary());
    launcher.start(2, coordinator.endpoint());
    NodeRunOptions options;
    options.nodes = 2;
    options.scenarioText = kLongRun;
    options.map = b.map;
    options.run = b.scenario.run;
    options.heartbeatTimeoutMs = 1500;
    options.watchdog = [&](const std::vector<bool>&) -> std::optional<std::string> {
      if (!stoppedAt && secondsSince(started) > 1.0) {
        stopped = launcher.pids()[0];
        ::kill(stopped, SIGSTOP);  // alive but silent: only heartbeats can tell
        stoppedAt = Clock::now();
      }
      return std::nullopt;
    };
    coordinator.run(options);
    FAIL() << "the run survived a silent node";
  } catch (const Error& e) {
    ASSERT_TRUE(stoppedAt.has_value()) << e.what();
    EXPECT_LT(secondsSince(*stoppedAt), 5.0);
    EXPECT_THAT(e.what(), HasSubstr("node 0 stopped answering"));
  }
  EXPECT_FALSE(processAlive(stopped));  // the launcher's destructor killed it (SIGKILL works on stopped ones)
}

// Starts a program with stdout and stderr into `logFile` (and stdout also into a pipe when `out` is
// given: its read end is stored there).
pid_t spawn(std::vector<std::string> args, const std::string& logFile, int* out = nullptr) {
  int pipeFds[2] = {-1, -1};
  if (out && ::pipe2(pipeFds, O_CLOEXEC) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(out ? pipeFds[1] : fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (out) {
    ::close(pipeFds[1]);
    *out = pipeFds[0];
  }
  return pid;
}

// Reads `fd` until a line containing `marker` arrives (or `seconds` pass, or it closes): that
// line, or "".
std::string readLineWith(int fd, const std::string& marker, double seconds) {
  std::string text;
  const auto start = Clock::now();
  while (secondsSince(start) < seconds) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) != 1) continue;
    char buffer[1024];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    const auto at = text.find(marker);
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      const auto begin = text.rfind('\n', at);
      const auto from = begin == std::string::npos ? 0 : begin + 1;
      return text.substr(from, text.find('\n', at) - from);
    }
  }
  return "";
}

// Waits (a pidfd, bounded) for `pid` to exit and reaps it: its exit code, 128 + the signal, or -1
// when it was still running after `seconds`.
int waitExit(pid_t pid, double seconds) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(seconds * 1000));
    ::close(fd);
  }
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string scenarioFile(const std::string& text) {
  const std::string path = ::testing::TempDir() + "/fault_scenario_" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << text;
  return path;
}

// The run is under way on every node once its first checkpoint is committed (every partition has
// written its part of a cut): a state to wait on instead of a time.
bool waitForFirstCut(const std::string& runDir, pid_t coordinator) {
  return testing::pollUntil(std::chrono::seconds(60), [&] {
    return std::filesystem::exists(runDir + "/checkpoints/latest") || !processAlive(coordinator);
  }, std::chrono::milliseconds(10)) && std::filesystem::exists(runDir + "/checkpoints/latest");
}

TEST(NodeFault, NodesLeaveWhenTheCoordinatorIsKilled) {
  const std::string file = scenarioFile(kLongRun);
  const std::string log = ::testing::TempDir() + "/fault_coordinator.log";
  const std::string runDir = ::testing::TempDir() + "/fault_coordinator_run_" + std::to_string(::getpid());
  std::filesystem::remove_all(runDir);
  // The coordinator listens on a port the OS assigns and says which.
  int out = -1;
  const pid_t coordinator = spawn({testing::cliBinary(), "run", file, "--nodes", "2", "--no-launch", "--listen",
                                   "tcp://127.0.0.1:*", "--heartbeat-timeout-ms", "1500", "--no-progress", "--out",
                                   runDir, "--set", "simulation.checkpoint_every=1us"},
                                  log, &out);
  const std::string waiting = readLineWith(out, "wafersim-node --coordinator ", 30);
  const auto at = waiting.find("--coordinator ");
  ASSERT_NE(at, std::string::npos) << "the coordinator did not say where it listens; see " << log;
  const std::string endpoint = waiting.substr(at + 14, waiting.find(' ', at + 14) - at - 14);
  std::vector<pid_t> nodes;
  for (int k = 0; k < 2; ++k)
    nodes.push_back(spawn({testing::nodeBinary(), "--coordinator", endpoint, "--node", std::to_string(k),
                           "--heartbeat-timeout-ms", "1500"},
                          ::testing::TempDir() + "/fault_node" + std::to_string(k) + ".log"));
  ASSERT_TRUE(waitForFirstCut(runDir, coordinator)) << "the run did not get under way; see " << log;
  ASSERT_TRUE(processAlive(coordinator)) << "the coordinator ended early; see " << log;
  ::kill(coordinator, SIGKILL);
  const auto killedAt = Clock::now();
  waitExit(coordinator, 2);
  ::close(out);
  for (pid_t node : nodes) {
    const int code = waitExit(node, 6);
    EXPECT_EQ(code, 3) << "a node should exit with 3 (lost coordinator); -1 means it was still running";
    if (code == -1) ::kill(node, SIGKILL), waitExit(node, 2);
  }
  // The nodes' silence limit (1.5 s) plus a poll slice or two and their exit.
  EXPECT_LT(secondsSince(killedAt), 4.0);
  std::filesystem::remove_all(runDir);
}

std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  for (dirent* e; proc && (e = ::readdir(proc));) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent && state != 'Z')
      out.push_back(pid);
  }
  if (proc) ::closedir(proc);
  return out;
}

TEST(NodeFault, CtrlCStopsEverythingAndLeavesNoOrphans) {
  // Orphaned grandchildren get re-parented to this process, where the test can see them.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  const std::string file = scenarioFile(kLongRun);
  const std::string runDir = ::testing::TempDir() + "/ctrlc_run_" + std::to_string(::getpid());
  std::filesystem::remove_all(runDir);
  const pid_t cli = spawn({testing::cliBinary(), "run", file, "--nodes", "3", "--out", runDir, "--set",
                           "simulation.checkpoint_every=100ns"},
                          ::testing::TempDir() + "/ctrlc.log");
  ASSERT_TRUE(waitForFirstCut(runDir, cli)) << "the run did not get under way";
  const auto nodesBefore = childrenOf(cli);
  EXPECT_EQ(nodesBefore.size(), 3u) << "expected 3 node processes under the CLI";
  ::kill(cli, SIGINT);
  EXPECT_EQ(waitExit(cli, 6), 128 + SIGINT);
  // Its nodes were re-parented here if they outlived it: each must be gone within a bound.
  for (pid_t node : nodesBefore) {
    if (waitExit(node, 5) == -1 && processAlive(node)) {
      ADD_FAILURE() << "process " << node << " outlived the CLI";
      ::kill(node, SIGKILL);
      waitExit(node, 2);
    }
  }
  for (pid_t orphan : childrenOf(::getpid())) {
    ADD_FAILURE() << "process " << orphan << " outlived the CLI";
    ::kill(orphan, SIGKILL);
    waitExit(orphan, 2);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  std::filesystem::remove_all(runDir);
}

}  // namespace
}  // namespace wafersim
