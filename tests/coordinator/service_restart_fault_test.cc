// `wafersim serve` killed with SIGKILL while runs are pending and running, then started again on
// the same data folder: nothing accepted is lost, the running run is re-queued with reason
// COORDINATOR_RESTART and runs again, the pending ones run, and the killed service's node
// processes do not outlive it. A running run that took checkpoints goes on from its last one.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/child_process.h"
#include "tests/coordinator/service_support.h"

namespace wafersim::testing {
namespace {

using nlohmann::json;

// A `wafersim serve` process; reads the API's URL from its first line.
struct ServeProcess {
  pid_t pid = -1;
  std::string url;
  std::string firstLine;

  ServeProcess(const std::filesystem::path& data, uint32_t nodes) {
    ChildSpec spec;
    spec.argv = {binaryDir() + "/cli/wafersim", "serve", "--data", data.string(), "--http", "127.0.0.1:0", "--control",
                 "tcp://127.0.0.1:*", "--nodes", std::to_string(nodes)};
    const StartedChild started = spawnAndReadFirstLine(spec, std::chrono::seconds(90));  // a bound: sanitized builds start slower
    pid = started.pid;
    firstLine = started.firstLine;
    const auto at = firstLine.find("API ");
    if (at != std::string::npos) url = firstLine.substr(at + 4, firstLine.find(',', at) - at - 4);
  }
  int kill(int signal) {
    ::kill(pid, signal);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
  ~ServeProcess() {
    if (pid > 0) kill(SIGTERM);
  }
};

// Process ids whose parent is `parent` (from /proc).
std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    std::getline(stat, text);
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return out;
}

TEST(ServiceRestart, AKilledCoordinatorLosesNothingAndRequeuesWhatWasRunning) {
  useTestToken();
  TempDir dir("wafersim-restart");
  std::vector<std::string> pendingIds;
  std::string runningId;
  std::vector<pid_t> orphans;
  {
    ServeProcess first(dir.path, 1);
    ASSERT_FALSE(first.url.empty()) << first.firstLine;
    const Reply running = post(first.url, "/api/v1/runs", {{"scenario", phold("1 s")}, {"id", "long"}});
    ASSERT_EQ(running.status, 201) << running.text;
    runningId = "long";
    ASSERT_EQ(waitFor(first.url, runningId, "running")["state"], "RUNNING");
    for (int i = 0; i < 5; ++i) {
      const Reply r = post(first.url, "/api/v1/runs", {{"scenario", phold(std::to_string(i + 1) + " us")}});
      ASSERT_EQ(r.status, 201) << r.text;
      pendingIds.push_back(r.body["id"]);
    }
    orphans = childrenOf(first.pid);
    EXPECT_GE(orphans.size(), 2u) << "a node and the placement service";
    first.kill(SIGKILL);  // right after the last answer
  }
  // Its children notice their parent is gone and leave (waited on through a pidfd each).
  for (pid_t p : orphans) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, p, 0));
    if (fd < 0) continue;  // already gone
    pollfd exited{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&exited, 1, 5000), 1) << "process " << p << " outlived the killed service";
    ::close(fd);
  }

  ServeProcess second(dir.path, 1);
  ASSERT_FALSE(second.url.empty()) << second.firstLine;
  const json all = call(second.url, "GET", "/api/v1/runs").body["runs"];
  EXPECT_EQ(all.size(), 6u) << "every accepted submission survives the kill";
  const json again = call(second.url, "GET", "/api/v1/runs/" + runningId).body;
  EXPECT_EQ(again["reason"], "COORDINATOR_RESTART") << again.dump();
  EXPECT_TRUE(again["state"] == "PENDING" || again["state"] == "RUNNING") << again.dump();
  // The pending runs wait behind the re-queued one (one node): cancel it and they all run.
  EXPECT_EQ(waitFor(second.url, runningId, "running")["state"], "RUNNING");
  EXPECT_EQ(call(second.url, "GET", "/api/v1/runs/" + runningId).body["attempts"], 2);
  EXPECT_EQ(call(second.url, "POST", "/api/v1/runs/" + runningId + "/cancel").status, 202);
  for (const auto& id : pendingIds) EXPECT_EQ(waitForEnd(second.url, id)["state"], "SUCCEEDED") << id;
}

TEST(ServiceRestart, ARunningRunGoesOnFromItsCheckpointAfterACoordinatorKill) {
  useTestToken();
  TempDir dir("wafersim-restart");
  const std::string scenario = phold("400 us");
  const json body{{"scenario", scenario}, {"id", "cut"}, {"cache", false}, {"set", {"simulation.checkpoint_every=20us"}}};
  {
    ServeProcess first(dir.path, 1);
    ASSERT_FALSE(first.url.empty()) << first.firstLine;
    const Reply r = post(first.url, "/api/v1/runs", body);
    ASSERT_EQ(r.status, 201) << r.text;
    ASSERT_EQ(waitFor(first.url, "cut", "running")["state"], "RUNNING");
    const auto latest = dir.path / "runs" / "cut" / "checkpoints" / "latest";
    ASSERT_TRUE(pollUntil(std::chrono::seconds(60), [&] { return std::filesystem::exists(latest); },
                          std::chrono::milliseconds(5)))
        << "no checkpoint committed";
    first.kill(SIGKILL);
  }
  ServeProcess second(dir.path, 1);
  ASSERT_FALSE(second.url.empty()) << second.firstLine;
  const json done = waitForEnd(second.url, "cut", 240);
  EXPECT_EQ(done["state"], "SUCCEEDED") << done.dump();
  EXPECT_EQ(done["attempts"], 2) << done.dump();
  const std::string log = call(second.url, "GET", "/api/v1/runs/cut/logs").text;
  EXPECT_THAT(log, ::testing::HasSubstr("attempt 2 on 1 node(s), resuming from its checkpoint at ")) << log;
  const Reply clean = post(second.url, "/api/v1/runs", {{"scenario", scenario}, {"cache", false}});
  ASSERT_EQ(clean.status, 201) << clean.text;
  EXPECT_EQ(waitForEnd(second.url, clean.body["id"].get<std::string>(), 240)["digest"], done["digest"]);
}

}  // namespace
}  // namespace wafersim::testing
