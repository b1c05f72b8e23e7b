// A real multi-host run on one machine: the coordinator and three pool nodes each in a network
// namespace of its own (tests/deploy/network_namespaces.h), each binding only its namespace's
// address, reached through a bridge. A 3-node simulation gives the digest of one process, and a
// sweep submitted across them completes. Skips, saying why, where namespaces cannot be made.
// Waits poll states with bounds; processes and namespaces are removed whatever happens.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/child_process.h"
#include "coordinator/run.h"
#include "tests/coordinator/service_support.h"
#include "tests/deploy/network_namespaces.h"

namespace wafersim::testing {
namespace {

using ::testing::StartsWith;
using nlohmann::json;

constexpr size_t kNodes = 3;

// The processes of the test's hosts: each in a process group of its own, stopped at the end.
class Processes {
 public:
  explicit Processes(std::filesystem::path logs) : logs_(std::move(logs)) {}
  ~Processes() {
    for (pid_t pid : pids_) ::kill(-pid, SIGTERM);
    for (pid_t pid : pids_) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      int status = 0;
      while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > until) {
          ::kill(-pid, SIGKILL);
          ::waitpid(pid, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling pace for an exit
      }
    }
  }
  void start(const std::string& name, std::vector<std::string> argv) {
    const std::string log = (logs_ / (name + ".log")).string();
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.processGroup = 0;
    spec.stdoutFd = spec.stderrFd = fd;
    pids_.push_back(spawnChild(spec));
    ::close(fd);
    names_.push_back(name);
  }
  std::string logs() const {
    std::string all;
    for (const auto& name : names_) {
      std::ifstream in(logs_ / (name + ".log"));
      std::stringstream text;
      text << in.rdbuf();
      all += "--- " + name + "\n" + text.str();
    }
    return all;
  }

 private:
  std::filesystem::path logs_;
  std::vector<pid_t> pids_;
  std::vector<std::string> names_;
};

TEST(MultiHost, ThreeNodesOnTheirOwnAddressesGiveTheDigestOfOneProcessAndRunASweep) {
  if (auto why = NetworkNamespaces::unavailable()) GTEST_SKIP() << "no multi-host test here: " << *why;
  useTestToken();
  TempDir dir("wafersim-multi-host");
  NetworkNamespaces net(1 + kNodes);  // host 0: the coordinator; hosts 1..3: the nodes
  Processes processes(dir.path);
  const std::string coordinator = net.address(0);
  processes.start("coordinator",
                  net.inside(0, {binaryDir() + "/coordinator/wafersim-coordinator", "--data", (dir.path / "data").string(),
                                 "--http", coordinator + ":8080", "--control", "tcp://" + coordinator + ":5555"}));
  for (size_t k = 1; k <= kNodes; ++k)
    processes.start("node" + std::to_string(k),
                    net.inside(k, {binaryDir() + "/nodes/wafersim-node", "--coordinator", "tcp://" + coordinator + ":5555",
                                   "--pool", "--name", "host-" + std::to_string(k), "--bind-host", net.address(k),
                                   "--metrics", net.address(k) + ":9471"}));
  const std::string url = "http://" + coordinator + ":8080";

  // The pool fills: every node registered from its own address.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  json nodes;
  while (std::chrono::steady_clock::now() < until) {
    try {
      nodes = call(url, "GET", "/api/v1/nodes").body["nodes"];
      if (nodes.size() == kNodes) break;
    } catch (const std::exception&) {  // the coordinator is not listening yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling pace
  }
  ASSERT_EQ(nodes.size(), kNodes) << processes.logs();
  for (const json& n : nodes) {
    const size_t k = std::stoul(n["name"].get<std::string>().substr(5));
    EXPECT_THAT(n["data_endpoint"].get<std::string>(), StartsWith("tcp://" + net.address(k) + ":")) << n.dump();
    EXPECT_EQ(n["metrics_url"], "http://" + net.address(k) + ":9471") << n.dump();
  }

  // A 3-node run: the digest of the same scenario in one process. (PHOLD: windows are what crosses
  // the hosts, and three node processes share this machine's cores with everything else.)
  const std::string scenario = phold("2 us", 12);
  const Reply submitted = post(url, "/api/v1/runs", {{"scenario", scenario}, {"nodes", kNodes}});
  ASSERT_EQ(submitted.status, 201) << submitted.text;
  const json done = waitForEnd(url, submitted.body["id"], 180);
  ASSERT_EQ(done["state"], "SUCCEEDED") << done.dump() << processes.logs();
  RunSpec local;
  local.scenarioText = scenario;
  local.source = "phold.yaml";
  local.overrides = {"simulation.partitions=1"};
  local.outDir = (dir.path / "local").string();
  EXPECT_EQ(done["digest"], executeRun(local).digest);

  // A sweep across the hosts completes.
  json sweep = {{"scenario", scenario}, {"nodes", kNodes}, {"grid", {{"simulation.seed", {2, 3, 4}}}}};
  const Reply s = post(url, "/api/v1/sweeps", sweep);
  ASSERT_EQ(s.status, 201) << s.text;
  const json runs = call(url, "GET", "/api/v1/runs?sweep=" + s.body["id"].get<std::string>()).body["runs"];
  ASSERT_EQ(runs.size(), 3u);
  for (const json& r : runs) EXPECT_EQ(waitForEnd(url, r["id"].get<std::string>(), 120)["state"], "SUCCEEDED");
  EXPECT_EQ(call(url, "GET", "/api/v1/sweeps/" + s.body["id"].get<std::string>()).body["counts"]["SUCCEEDED"], 3);
}

}  // namespace
}  // namespace wafersim::testing
