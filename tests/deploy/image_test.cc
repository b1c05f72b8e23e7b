// The container image as far as a machine without a Docker engine can check it: deploy/Dockerfile
// is a two-stage build on a pinned Debian 12 tag (the one .env passes), with a non-root user, a
// data volume, the ports the stack uses, a HEALTHCHECK and the entrypoint; its runtime package
// list (deploy/image/runtime-packages.txt) provides every shared library the built binaries name,
// and nothing they do not; the entrypoint fills in "auto" addresses and starts the coordinator by
// default; wafersim-healthcheck answers from a real /healthz. The image itself, built without
// Docker, is run by image_rootfs_integration_test.cc.
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "obs/metrics.h"
#include "tests/deploy/container_support.h"

namespace wafersim::testing {
namespace {

using namespace container;
namespace fs = std::filesystem;

const fs::path kImageDir = sourceRoot() / "deploy" / "image";
const fs::path kEntrypoint = kImageDir / "wafersim-entrypoint";

// The Dockerfile's instructions: (INSTRUCTION, arguments) in order, continuation lines joined.
std::vector<std::pair<std::string, std::string>> dockerfile() {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream lines(readText(sourceRoot() / "deploy" / "Dockerfile"));
  std::string logical;
  for (std::string line; std::getline(lines, line);) {
    if (logical.empty() && (line.empty() || line[0] == '#')) continue;
    if (!line.empty() && line.back() == '\\') {
      logical += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    logical += line;
    const auto space = logical.find(' ');
    out.emplace_back(logical.substr(0, space), space == std::string::npos ? "" : logical.substr(space + 1));
    logical.clear();
  }
  return out;
}

std::vector<std::string> instruction(const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [i, args] : dockerfile())
    if (i == name) out.push_back(args);
  return out;
}

TEST(ContainerImage, TwoStagesOnThePinnedDebianTagThatDotEnvPasses) {
  const std::vector<std::string> from = instruction("FROM");
  ASSERT_EQ(from.size(), 2u);
  EXPECT_EQ(from[0], "debian:${DEBIAN_TAG} AS build");
  EXPECT_EQ(from[1], "debian:${DEBIAN_TAG}");
  std::string tag;
  for (const auto& a : instruction("ARG"))
    if (a.rfind("DEBIAN_TAG=", 0) == 0) tag = a.substr(11);
  EXPECT_TRUE(std::regex_match(tag, std::regex(R"(12\.[0-9]+(-slim)?)"))) << "a Debian 12 point release: " << tag;
  EXPECT_EQ(tag, envFile(sourceRoot() / ".env").at("DEBIAN_TAG")) << ".env's DEBIAN_TAG and the Dockerfile's differ";
}

TEST(ContainerImage, TheBuildStageUsesDepsShAndTheReleasePreset) {
  const std::vector<std::string> run = instruction("RUN");
  ASSERT_GE(run.size(), 3u);
  EXPECT_THAT(run[0], ::testing::HasSubstr("scripts/deps.sh"));
  EXPECT_THAT(run[1], ::testing::HasSubstr("cmake --preset release -DWAFERSIM_BUILD_TESTS=OFF -DWAFERSIM_BUILD_BENCH=OFF"));
  EXPECT_THAT(run[1], ::testing::HasSubstr("cmake --install build/release --prefix /opt/wafersim"));
  EXPECT_THAT(instruction("COPY"), ::testing::Contains("--from=build /opt/wafersim/ /usr/local/"));
  // The runtime stage installs its packages through setup-runtime.sh, the script build-rootfs.sh runs.
  EXPECT_THAT(run.back(), ::testing::HasSubstr("setup-runtime.sh"));
  EXPECT_THAT(readText(kImageDir / "build-rootfs.sh"), ::testing::HasSubstr("setup-runtime.sh"));
  EXPECT_THAT(readText(kImageDir / "setup-runtime.sh"), ::testing::HasSubstr("runtime-packages.txt"));
}

TEST(ContainerImage, TheRuntimeStageRunsAsAUserWithAVolumePortsAndAHealthCheck) {
  EXPECT_EQ(instruction("USER"), std::vector<std::string>{"10001:10001"}) << "numeric: runAsNonRoot can check it";
  EXPECT_EQ(instruction("VOLUME"), std::vector<std::string>{R"(["/var/lib/wafersim"])"});
  EXPECT_EQ(instruction("ENTRYPOINT"), std::vector<std::string>{R"(["wafersim-entrypoint"])"});
  EXPECT_EQ(instruction("CMD"), std::vector<std::string>{R"(["wafersim-coordinator"])"});
  const std::vector<std::string> health = instruction("HEALTHCHECK");
  ASSERT_EQ(health.size(), 1u);
  EXPECT_THAT(health[0], ::testing::EndsWith(R"(CMD ["wafersim-healthcheck"])"));
  const std::vector<std::string> env = instruction("ENV");
  ASSERT_EQ(env.size(), 1u);
  EXPECT_THAT(env[0], ::testing::HasSubstr("WAFERSIM_DATA=/var/lib/wafersim"));
  // Every port a process listens on in docker-compose.yml is exposed.
  std::set<std::string> exposed;
  std::istringstream ports(instruction("EXPOSE").at(0));
  for (std::string p; ports >> p;) exposed.insert(p);
  EXPECT_EQ(exposed, (std::set<std::string>{"8080", "5555", "5570", "9470", "9471"}));
  // setup-runtime.sh makes that user and the volume's folder, owned by it.
  const std::string setup = readText(kImageDir / "setup-runtime.sh");
  EXPECT_THAT(setup, ::testing::HasSubstr("--uid 10001"));
  EXPECT_THAT(setup, ::testing::HasSubstr("install -d -o wafersim -g wafersim -m 0750 /var/lib/wafersim"));
}

TEST(ContainerImage, TheBuildContextLeavesOutBuildOutputs) {
  const std::vector<std::string> ignored = listFile(sourceRoot() / ".dockerignore");
  for (const char* p : {"build/", "**/node_modules/", "web/dist/"}) EXPECT_THAT(ignored, ::testing::Contains(p));
  EXPECT_THAT(ignored, ::testing::Not(::testing::Contains("deploy/")));
  EXPECT_THAT(ignored, ::testing::Not(::testing::Contains("scripts/")));
}

// readelf -d of the built binaries -> their NEEDED libraries -> `dpkg -S` -> packages: the list
// holds each of them (but for the base's libc6 and libgcc-s1) and no other.
TEST(ContainerImage, TheRuntimePackagesAreExactlyWhatTheBinariesNeed) {
  if (findTool("readelf").empty() || findTool("dpkg").empty() || findTool("ldconfig").empty())
    GTEST_SKIP() << "readelf, dpkg or ldconfig is missing (a Debian build machine has them)";
  const std::vector<std::string> binaries = {"cli/wafersim", "coordinator/wafersim-coordinator", "nodes/wafersim-node",
                                             "placement/wafersim-placement"};
  std::set<std::string> needed;
  for (const auto& b : binaries) {
    const fs::path path = buildRoot() / b;
    ASSERT_TRUE(fs::exists(path)) << path << " is not built (cmake --build build/release)";
    const CommandOutput out = runCommand("readelf -d " + shellQuoted(path));
    ASSERT_EQ(out.code, 0) << out.text;
    static const std::regex lib(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
    for (auto it = std::sregex_iterator(out.text.begin(), out.text.end(), lib); it != std::sregex_iterator(); ++it)
      needed.insert((*it)[1]);
  }
  ASSERT_GE(needed.size(), 5u);
  std::set<std::string> packages;
  for (const auto& lib : needed) {
    // The library's file as the loader finds it, then the package that installed it.
    const CommandOutput where = runCommand("ldconfig -p | awk -v l=" + shellQuoted(lib) +
                                           " '$1 == l && /x86-64|AArch64/ { print $NF; exit }'");
    const std::string file = where.text.substr(0, where.text.find('\n'));
    ASSERT_FALSE(file.empty()) << lib << " is not in the loader's cache";
    // dpkg knows each file by the path its package installed it at: /lib or /usr/lib (merged
    // /usr makes both work for the loader), the link or its target.
    std::vector<std::string> candidates = {file, fs::canonical(file).string()};
    for (const std::string& c : std::vector<std::string>(candidates)) {
      if (c.rfind("/usr/lib/", 0) == 0) candidates.push_back(c.substr(4));
      if (c.rfind("/lib/", 0) == 0) candidates.push_back("/usr" + c);
    }
    std::string package;
    for (const auto& c : candidates) {
      const CommandOutput owner = runCommand("dpkg -S " + shellQuoted(c));
      if (owner.code == 0) {
        package = owner.text.substr(0, owner.text.find(':'));
        break;
      }
    }
    ASSERT_FALSE(package.empty()) << lib << " (" << file << ") belongs to no package";
    packages.insert(package);
  }
  packages.erase("libc6");
  packages.erase("libgcc-s1");
#ifdef WAFERSIM_SANITIZED
  // The sanitizers' runtimes: this build's, not the image's (built from the release preset).
  packages.erase("libasan8");
  packages.erase("libubsan1");
#endif
  const std::vector<std::string> listed = listFile(kImageDir / "runtime-packages.txt");
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), packages)
      << "deploy/image/runtime-packages.txt and the binaries' libraries differ";
  for (const auto& p : listed) EXPECT_EQ(p.find("-dev"), std::string::npos) << p;
}

// ---- the entrypoint and the health check, run on this machine ----

// This machine's host name's first IPv4 address, as the entrypoint finds it ("" when none).
std::string ownAddress() {
  utsname u{};
  ::uname(&u);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* found = nullptr;
  if (::getaddrinfo(u.nodename, nullptr, &hints, &found) != 0 || !found) return "";
  char text[NI_MAXHOST] = {};
  ::getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  ::freeaddrinfo(found);
  return text;
}

// A folder holding a stand-in wafersim-coordinator (prints its arguments) and the health check
// under its name, removed at the end.
struct ScriptDir {
  fs::path path = fs::temp_directory_path() / ("wafersim-entrypoint-" + std::to_string(::getpid()));
  ScriptDir() {
    fs::create_directories(path);
    std::ofstream(path / "wafersim-coordinator") << "#!/bin/sh\necho \"coordinator:$*\"\n";
    fs::permissions(path / "wafersim-coordinator", fs::perms::owner_all);
    fs::create_symlink(kEntrypoint, path / "wafersim-healthcheck");
  }
  ~ScriptDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  // `env -i PATH=<here>:$PATH VARS... COMMAND...`
  CommandOutput run(const std::vector<std::string>& vars, const std::vector<std::string>& command) const {
    const char* p = std::getenv("PATH");
    std::vector<std::string> words = {"env", "-i", "PATH=" + path.string() + ":" + (p ? p : "/usr/bin:/bin")};
    words.insert(words.end(), vars.begin(), vars.end());
    words.insert(words.end(), command.begin(), command.end());
    return runCommand(shellLine(words));
  }
};

TEST(ContainerImage, TheEntrypointStartsTheCoordinatorByDefault) {
  ScriptDir dir;
  EXPECT_EQ(dir.run({}, {kEntrypoint.string()}).text, "coordinator:\n");
  EXPECT_EQ(dir.run({}, {kEntrypoint.string(), "--http", "0.0.0.0:8080"}).text, "coordinator:--http 0.0.0.0:8080\n");
  const CommandOutput echo = dir.run({}, {kEntrypoint.string(), "echo", "a node"});
  EXPECT_EQ(echo.code, 0);
  EXPECT_EQ(echo.text, "a node\n");
}

TEST(ContainerImage, TheEntrypointWritesInTheContainersAddressForAuto) {
  const std::string address = ownAddress();
  if (address.empty()) GTEST_SKIP() << "this machine's host name has no IPv4 address to find";
  ScriptDir dir;
  const CommandOutput out = dir.run({"WAFERSIM_BIND_HOST=auto", "WAFERSIM_METRICS=auto:9471"},
                                    {kEntrypoint.string(), "sh", "-c", "echo $WAFERSIM_BIND_HOST $WAFERSIM_METRICS"});
  EXPECT_EQ(out.code, 0) << out.text;
  EXPECT_EQ(out.text, address + " " + address + ":9471\n");
  // Anything else is left as it is.
  const CommandOutput given = dir.run({"WAFERSIM_BIND_HOST=10.1.2.3", "WAFERSIM_METRICS=0.0.0.0:9471"},
                                      {kEntrypoint.string(), "sh", "-c", "echo $WAFERSIM_BIND_HOST $WAFERSIM_METRICS"});
  EXPECT_EQ(given.text, "10.1.2.3 0.0.0.0:9471\n");
}

TEST(ContainerImage, TheHealthCheckAsksHealthzAndFailsWithoutAnAnswer) {
  obs::MetricsRegistry registry("node");
  obs::MetricsServer server("127.0.0.1:0", registry);
  const std::string port = std::to_string(server.port());
  ScriptDir dir;
  const CommandOutput ok = dir.run({}, {"wafersim-healthcheck", "127.0.0.1:" + port});
  EXPECT_EQ(ok.code, 0) << ok.text;
  EXPECT_THAT(ok.text, ::testing::HasSubstr("/healthz: HTTP/1.1 200"));
  // Without an address: WAFERSIM_METRICS (a node), a wildcard host as loopback; then WAFERSIM_HTTP.
  EXPECT_EQ(dir.run({"WAFERSIM_METRICS=0.0.0.0:" + port}, {"wafersim-healthcheck"}).code, 0);
  EXPECT_EQ(dir.run({"WAFERSIM_HTTP=0.0.0.0:" + port}, {"wafersim-healthcheck"}).code, 0);
  // A path that is not there, a port nobody listens on, not an address.
  const CommandOutput missing = dir.run({}, {"wafersim-healthcheck", "127.0.0.1:" + port, "/nowhere"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.text, ::testing::HasSubstr("404"));
  const uint16_t closed = [] {
    obs::MetricsRegistry r("node");
    obs::MetricsServer s("127.0.0.1:0", r);
    return s.port();
  }();  // was free a moment ago, and its server is gone
  const CommandOutput none = dir.run({}, {"wafersim-healthcheck", "127.0.0.1:" + std::to_string(closed)});
  EXPECT_EQ(none.code, 1);
  EXPECT_THAT(none.text, ::testing::HasSubstr("no answer"));
  EXPECT_EQ(dir.run({}, {"wafersim-healthcheck", "no-port"}).code, 1);
}

}  // namespace
}  // namespace wafersim::testing
