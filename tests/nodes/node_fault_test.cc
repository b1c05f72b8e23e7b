// Faults in a distributed run: a node killed outright, the coordinator killed outright, Ctrl-C.
// Every case must end within its bound, with a reason naming who failed, and leave no process.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <dirent.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"
#include "tests/nodes/node_test_support.h"

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

uint16_t freePort() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(s);
  return ntohs(addr.sin_port);
}

pid_t spawn(std::vector<std::string> args, const std::string& logFile) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int waitExit(pid_t pid, double timeoutSeconds) {
  const auto start = Clock::now();
  while (secondsSince(start) < timeoutSeconds) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string scenarioFile(const std::string& text) {
  const std::string path = ::testing::TempDir() + "/fault_scenario_" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << text;
  return path;
}

TEST(NodeFault, NodesLeaveWhenTheCoordinatorIsKilled) {
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(freePort());
  const std::string file = scenarioFile(kLongRun);
  const std::string log = ::testing::TempDir() + "/fault_coordinator.log";
  const pid_t coordinator = spawn({testing::cliBinary(), "run", file, "--nodes", "2", "--no-launch", "--listen",
                                   endpoint, "--heartbeat-timeout-ms", "1500"},
                                  log);
  std::vector<pid_t> nodes;
  for (int k = 0; k < 2; ++k)
    nodes.push_back(spawn({testing::nodeBinary(), "--coordinator", endpoint, "--node", std::to_string(k)},
                          ::testing::TempDir() + "/fault_node" + std::to_string(k) + ".log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // registered and running
  ASSERT_TRUE(processAlive(coordinator)) << "the coordinator ended early; see " << log;
  ::kill(coordinator, SIGKILL);
  const auto killedAt = Clock::now();
  waitExit(coordinator, 2);
  for (pid_t node : nodes) {
    const int code = waitExit(node, 6);
    EXPECT_EQ(code, 3) << "a node should exit with 3 (lost coordinator); -1 means it was still running";
    if (code == -1) ::kill(node, SIGKILL), waitExit(node, 2);
  }
  // Heartbeat timeout 1.5 s plus a poll slice or two.
  EXPECT_LT(secondsSince(killedAt), 4.0);
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
  const pid_t cli = spawn({testing::cliBinary(), "run", file, "--nodes", "3"}, ::testing::TempDir() + "/ctrlc.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto nodesBefore = childrenOf(cli);
  EXPECT_EQ(nodesBefore.size(), 3u) << "expected 3 node processes under the CLI";
  ::kill(cli, SIGINT);
  EXPECT_EQ(waitExit(cli, 6), 128 + SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (pid_t orphan : childrenOf(::getpid())) {
    ADD_FAILURE() << "process " << orphan << " outlived the CLI";
    ::kill(orphan, SIGKILL);
    waitExit(orphan, 2);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

}  // namespace
}  // namespace wafersim
