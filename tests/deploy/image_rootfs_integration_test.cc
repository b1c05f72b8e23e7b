// The image's runtime for real, without a Docker engine: a Debian 12 root filesystem made by
// deploy/image/build-rootfs.sh (debootstrap, then setup-runtime.sh, the script the Dockerfile's
// runtime stage runs, then the installed wafersim) runs the coordinator, the placement service and
// two pool nodes as the containers of docker-compose.yml would: each in its own mount and UTS
// namespace, chrooted into the root filesystem as the image's user (10001), through the image's
// entrypoint, with a folder of the test mounted as the data volume and a hosts file that gives
// each "container" its own loopback address (127.0.0.2, 127.0.0.3), which the nodes find with
// WAFERSIM_BIND_HOST=auto and WAFERSIM_METRICS=auto:PORT as in Compose. A 2-node run submitted to
// the coordinator must succeed with the digest of the build tree's one-process run; the health
// checks of docker-compose.yml must pass inside the root filesystem; the web page, the CLI and
// the data volume must work there.
//
// Opt-in, because building the root filesystem needs root, the network and minutes:
//   sudo deploy/image/build-rootfs.sh /tmp/wafersim-rootfs /tmp/wafersim-prefix   (docs/deploy.md)
//   WAFERSIM_IMAGE_ROOTFS=/tmp/wafersim-rootfs ctest --test-dir build/release -R '^ImageRootfs[.]'
// Skips, saying why, without WAFERSIM_IMAGE_ROOTFS, without root, or where namespaces cannot be made.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/child_process.h"
#include "tests/coordinator/service_support.h"
#include "tests/deploy/container_support.h"
#include "tests/deploy/prometheus_server.h"
#include "tests/deploy/test_process.h"

namespace wafersim::testing {
namespace {

namespace fs = std::filesystem;
using container::listFile;
using container::readText;
using container::shellLine;

constexpr uid_t kImageUser = 10001;  // deploy/image/setup-runtime.sh

// What a container of the image gets: its root filesystem, a volume, a hosts file, a host name.
struct Rootfs {
  fs::path root, data, hosts;

  // argv that runs `command` inside the root filesystem as a container of the image named
  // `hostname`, with the Dockerfile's ENV plus `env`: own mount and UTS namespaces (both gone
  // with its last process), the data folder at /var/lib/wafersim, the hosts file at /etc/hosts,
  // /proc, then chroot as the image's user and an environment of only those variables.
  std::vector<std::string> argv(const std::string& hostname, const std::vector<std::string>& env,
                                const std::vector<std::string>& command) const {
    static const char* script =
        "set -e; root=$1; data=$2; hosts=$3; name=$4; shift 4; "
        "mount --bind \"$data\" \"$root/var/lib/wafersim\"; mount --bind \"$hosts\" \"$root/etc/hosts\"; "
        "mount -t proc proc \"$root/proc\"; hostname \"$name\"; "
        "exec chroot --userspec=10001:10001 \"$root\" \"$@\"";
    std::vector<std::string> out = {"/usr/bin/unshare", "--mount", "--uts", "--propagation", "private", "--", "/bin/sh", "-c",
                                    script, "sh", root.string(), data.string(), hosts.string(), hostname,
                                    "/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                    "HOME=/var/lib/wafersim", "WAFERSIM_DATA=/var/lib/wafersim",
                                    "WAFERSIM_HTTP=0.0.0.0:8080", "WAFERSIM_CONTROL=tcp://*:5555"};
    out.insert(out.end(), env.begin(), env.end());
    out.insert(out.end(), command.begin(), command.end());
    return out;
  }
  // The image's ENTRYPOINT with `command` as its CMD.
  std::vector<std::string> entrypoint(const std::string& hostname, const std::vector<std::string>& env,
                                      std::vector<std::string> command) const {
    command.insert(command.begin(), "/usr/local/bin/wafersim-entrypoint");
    return argv(hostname, env, command);
  }
};

// Starts a long-running process of the image, its output in `log`.
TestProcess start(const std::vector<std::string>& argv, const fs::path& log) { return TestProcess(argv, log); }

// Starts a server of the image and reads the line it prints once it listens.
TestProcess startServer(const std::vector<std::string>& argv, const fs::path& log, std::string& firstLine) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ChildSpec spec;
  spec.argv = argv;
  spec.stderrFd = fd;
  spec.processGroup = 0;
  const StartedChild started = spawnAndReadFirstLine(spec, std::chrono::seconds(30));
  if (fd >= 0) ::close(fd);
  firstLine = started.firstLine;
  return TestProcess(started.pid, log);
}

std::string digestOfLocalRun(const fs::path& dir, const std::string& scenario) {
  const fs::path file = dir / "phold.yaml";
  std::ofstream(file) << scenario;
  const CommandOutput out = runCommand(shellLine({binaryDir() + "/cli/wafersim", "run", file.string(), "--out",
                                                  (dir / "local").string(), "--no-progress"}));
  EXPECT_EQ(out.code, 0) << out.text;
  const nlohmann::json summary = nlohmann::json::parse(readText(dir / "local" / "summary.json"), nullptr, false);
  return summary.is_object() ? summary.value("digest", "") : "";
}

TEST(ImageRootfs, TheImagesRuntimeRunsACoordinatorPlacementAndTwoNodes) {
  const char* rootfsVar = std::getenv("WAFERSIM_IMAGE_ROOTFS");
  if (!rootfsVar || !*rootfsVar)
    GTEST_SKIP() << "opt-in: set WAFERSIM_IMAGE_ROOTFS to a root filesystem built by "
                    "`sudo deploy/image/build-rootfs.sh ROOTFS PREFIX` (debootstrap: root, network, minutes)";
  if (::geteuid() != 0) GTEST_SKIP() << "chroot and mount namespaces need root";
  if (runCommand("unshare --mount --uts --propagation private -- true").code != 0)
    GTEST_SKIP() << "cannot make mount and UTS namespaces here (unshare --mount --uts failed)";
  const auto begin = std::chrono::steady_clock::now();
  Rootfs rootfs;
  rootfs.root = fs::canonical(rootfsVar);
  ASSERT_TRUE(fs::exists(rootfs.root / "usr/local/bin/wafersim-coordinator"))
      << rootfs.root << " holds no installed wafersim: build it with deploy/image/build-rootfs.sh";

  // ---- What the root filesystem holds ----
  const fs::path source = WAFERSIM_SOURCE_DIR;
  const CommandOutput packages = runCommand(shellLine({"dpkg-query", "--admindir=" + (rootfs.root / "var/lib/dpkg").string(),
                                                       "-W", "-f=${Package} ${db:Status-Status}\n"}));
  ASSERT_EQ(packages.code, 0) << packages.text;
  const std::string installed = "\n" + packages.text;
  for (const auto& p : listFile(source / "deploy/image/runtime-packages.txt"))
    EXPECT_THAT(installed, ::testing::HasSubstr("\n" + p + " installed\n")) << p << " is not installed";
  for (const char* absent : {"-dev ", "\ng++", "\ncmake ", "\nnodejs ", "\ncurl "})
    EXPECT_THAT(installed, ::testing::Not(::testing::HasSubstr(absent))) << "a build tool in the runtime";
  const CommandOutput ldd = runCommand(shellLine({"chroot", rootfs.root.string(), "/bin/sh", "-c",
                                                  "for b in /usr/local/bin/wafersim*; do ldd \"$b\"; done"}));
  EXPECT_EQ(ldd.code, 0) << ldd.text;
  EXPECT_THAT(ldd.text, ::testing::Not(::testing::HasSubstr("not found")));
  EXPECT_THAT(readText(rootfs.root / "etc/passwd"), ::testing::HasSubstr("wafersim:x:10001:10001:"));
  EXPECT_TRUE(fs::exists(rootfs.root / "usr/local/share/wafersim/web/index.html"));

  // ---- The "containers" ----
  TempDir dir("wafersim-image-rootfs");
  rootfs.data = dir.path / "volume";
  fs::create_directories(rootfs.data);
  ASSERT_EQ(::chown(rootfs.data.c_str(), kImageUser, kImageUser), 0);
  ::chmod(rootfs.data.c_str(), 0750);
  ::chmod(dir.path.c_str(), 0755);
  rootfs.hosts = dir.path / "hosts";
  std::ofstream(rootfs.hosts) << "127.0.0.1 localhost wafersim-coordinator\n"
                                 "127.0.0.2 wafersim-node-0\n"
                                 "127.0.0.3 wafersim-node-1\n"
                                 "127.0.0.4 wafersim-placement\n";
  // One network namespace for all (containers have one each): no two servers on one port.
  const std::vector<uint16_t> ports = freePorts(5);
  const std::string api = std::to_string(ports[0]), control = std::to_string(ports[1]),
                    placementPort = std::to_string(ports[2]), placementMetrics = std::to_string(ports[3]),
                    metrics = std::to_string(ports[4]);
  const std::string url = "http://127.0.0.1:" + api;
  const std::string controlEndpoint = "tcp://wafersim-coordinator:" + control;

  std::string firstLine;
  TestProcess coordinator = startServer(
      rootfs.entrypoint("wafersim-coordinator", {"WAFERSIM_HTTP=0.0.0.0:" + api, "WAFERSIM_CONTROL=tcp://*:" + control},
                        {"wafersim-coordinator"}),
      dir.path / "coordinator.log", firstLine);
  ASSERT_THAT(firstLine, ::testing::StartsWith("wafersim-coordinator: API")) << coordinator.log();
  TestProcess placement = startServer(
      rootfs.entrypoint("wafersim-placement", {},
                        {"wafersim-placement", "--bind", "tcp://*:" + placementPort, "--advertise",
                         "tcp://wafersim-placement:" + placementPort, "--coordinator", controlEndpoint, "--metrics",
                         "0.0.0.0:" + placementMetrics, "--quiet"}),
      dir.path / "placement.log", firstLine);
  ASSERT_THAT(firstLine, ::testing::StartsWith("wafersim-placement listening on")) << placement.log();
  std::vector<TestProcess> nodes;
  for (int i = 0; i < 2; ++i)
    nodes.push_back(start(rootfs.entrypoint("wafersim-node-" + std::to_string(i),
                                            {"WAFERSIM_COORDINATOR=" + controlEndpoint, "WAFERSIM_BIND_HOST=auto",
                                             "WAFERSIM_METRICS=auto:" + metrics},
                                            {"wafersim-node", "--pool"}),
                          dir.path / ("node-" + std::to_string(i) + ".log")));

  // ---- A run across both nodes, as a client of the published API would submit it ----
  const std::string scenario = phold("5 us", 64);
  const Reply submitted =
      post(url, "/api/v1/runs", {{"scenario", scenario}, {"nodes", 2}, {"id", "rootfs-two-nodes"}, {"cache", false}});
  ASSERT_EQ(submitted.status, 201) << submitted.text << coordinator.log();
  const nlohmann::json run = waitForEnd(url, "rootfs-two-nodes", 120);
  ASSERT_EQ(run.value("state", ""), "SUCCEEDED")
      << run.dump() << "\ncoordinator: " << coordinator.log() << "\nnode 0: " << nodes[0].log()
      << "\nnode 1: " << nodes[1].log();
  EXPECT_EQ(run.value("digest", ""), digestOfLocalRun(dir.path, scenario))
      << "the image's binaries on two nodes and the build tree's in one process disagree";

  // The nodes registered at their own addresses, which the coordinator lists for Prometheus.
  const Reply targets = call(url, "GET", "/api/v1/prometheus/targets");
  ASSERT_EQ(targets.status, 200);
  std::set<std::string> listed;
  for (const auto& group : targets.body)
    for (const auto& t : group["targets"]) listed.insert(t.get<std::string>());
  EXPECT_EQ(listed, (std::set<std::string>{"127.0.0.2:" + metrics, "127.0.0.3:" + metrics})) << targets.text;
  for (const auto& t : listed) EXPECT_EQ(call("http://" + t, "GET", "/metrics").status, 200) << t;
  // The placement service registered under the name it advertised.
  const Reply pool = call(url, "GET", "/api/v1/nodes");
  EXPECT_THAT(pool.text, ::testing::HasSubstr("tcp://wafersim-placement:" + placementPort)) << pool.text;

  // docker-compose.yml's health checks, run inside the root filesystem as Docker would.
  const std::vector<std::pair<std::string, std::vector<std::string>>> checks = {
      {"wafersim-coordinator", {"wafersim-healthcheck", "127.0.0.1:" + api, "/healthz"}},
      {"wafersim-placement", {"wafersim-healthcheck", "127.0.0.1:" + placementMetrics, "/healthz"}},
      {"wafersim-node-0", {"wafersim-healthcheck", "auto:" + metrics, "/healthz"}},
      {"wafersim-node-1", {"wafersim-healthcheck", "auto:" + metrics, "/healthz"}}};
  for (const auto& [host, check] : checks) {
    const CommandOutput out = runCommand(shellLine(rootfs.argv(host, {}, check)));
    EXPECT_EQ(out.code, 0) << host << ": " << out.text;
  }
  // The Dockerfile's HEALTHCHECK (no arguments: WAFERSIM_HTTP, the coordinator's).
  const CommandOutput image =
      runCommand(shellLine(rootfs.argv("wafersim-coordinator", {"WAFERSIM_HTTP=0.0.0.0:" + api}, {"wafersim-healthcheck"})));
  EXPECT_EQ(image.code, 0) << image.text;

  // The web page from share/wafersim/web, the CLI of the image, the volume written by its user.
  const Reply page = call(url, "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.text, ::testing::HasSubstr("<html"));
  const CommandOutput status = runCommand(
      shellLine(rootfs.argv("wafersim-client", {}, {"wafersim", "status", "--server", url, "rootfs-two-nodes"})));
  EXPECT_EQ(status.code, 0) << status.text;
  EXPECT_THAT(status.text, ::testing::HasSubstr("SUCCEEDED"));
  struct stat store {};
  ASSERT_EQ(::stat((rootfs.data / "jobs.sqlite").c_str(), &store), 0) << "no job store on the volume";
  EXPECT_EQ(store.st_uid, kImageUser);
  EXPECT_TRUE(fs::exists(rootfs.data / "runs" / "rootfs-two-nodes" / "summary.json"));

  for (auto& n : nodes) n.stop();
  placement.stop();
  coordinator.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(240));
  // Nothing was mounted where this machine can see it.
  EXPECT_THAT(readText("/proc/self/mountinfo"), ::testing::Not(::testing::HasSubstr(rootfs.root.string() + "/proc")));
}

}  // namespace
}  // namespace wafersim::testing
