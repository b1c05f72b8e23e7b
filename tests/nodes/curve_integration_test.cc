// CURVE between the coordinator and real wafersim-node processes (protocol/curve_auth.h,
// ARCHITECTURE.md contract 12): nodes with allowed keys run with the plaintext run's digest; a node
// with a key the coordinator does not allow never joins and the refusal is counted on the
// coordinator's metrics; and what crosses the wire, recorded by a TCP tap between a node and the
// coordinator, carries the run's plaintext marker without CURVE and not with it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/run.h"
#include "obs/metrics.h"
#include "protocol/curve_keys.h"
#include "tests/nodes/node_test_support.h"
#include "tests/support.h"

namespace wafersim {
namespace {

namespace fs = std::filesystem;
using testing::build;

// Key files for one test: the coordinator's pair, the nodes' pair (shared by the good nodes), a
// stranger's pair, and the coordinator's allow file listing the nodes' key.
struct Keys {
  fs::path dir;
  Keys() {
    std::string t = (fs::temp_directory_path() / "wafersim-curve-it-XXXXXX").string();
    dir = ::mkdtemp(t.data());
    for (const char* who : {"coordinator", "node", "stranger"})
      proto::writeCurveKeyFiles((dir / who).string(), proto::generateCurveKeyPair());
    std::ofstream(dir / "coordinator.allow") << "# the pool's nodes\n" << proto::readCurvePublicKey(path("node.pub")) << "\n";
  }
  ~Keys() { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  proto::CurveFiles coordinator() const { return {path("coordinator.key"), path("coordinator.allow"), ""}; }
  proto::CurveFiles node(const std::string& who = "node") const {
    return {path(who + ".key"), "", path("coordinator.pub")};
  }
};

// A TCP forwarder on loopback that records every byte it passes, both ways.
class TcpTap {
 public:
  explicit TcpTap(uint16_t targetPort) : target_(targetPort) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 16);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~TcpTap() {
    stop_ = true;
    thread_.join();
    for (auto [a, b] : pairs_) {
      ::close(a);
      ::close(b);
    }
    ::close(listen_);
  }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  std::string bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
  }

 private:
  void loop() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_, POLLIN, 0}};
      for (auto [a, b] : pairs_) fds.insert(fds.end(), {{a, POLLIN, 0}, {b, POLLIN, 0}});
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int in = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        const int out = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(target_);
        if (in >= 0 && ::connect(out, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) pairs_.emplace_back(in, out);
        else {
          ::close(in);
          ::close(out);
        }
      }
      for (size_t i = 0; i < pairs_.size(); ++i) {
        auto [a, b] = pairs_[i];
        for (auto [from, to, slot] : {std::tuple{a, b, 1 + 2 * i}, std::tuple{b, a, 2 + 2 * i}}) {
          if (!(fds[slot].revents & (POLLIN | POLLHUP))) continue;
          char buffer[65536];
          const ssize_t n = ::read(from, buffer, sizeof buffer);
          if (n <= 0) continue;  // a closed pair stays idle until the end
          {
            std::lock_guard<std::mutex> lock(mutex_);
            bytes_.append(buffer, static_cast<size_t>(n));
          }
          for (ssize_t sent = 0; sent < n;) {
            const ssize_t w = ::write(to, buffer + sent, static_cast<size_t>(n - sent));
            if (w <= 0) break;
            sent += w;
          }
        }
      }
    }
  }

  uint16_t target_, port_ = 0;
  int listen_ = -1;
  std::vector<std::pair<int, int>> pairs_;  // (accepted, to the target); the loop's
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::string bytes_;
  std::thread thread_;
};

uint16_t portOf(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

const std::string kScenario =
    "model: phold\nparams: {lps: 32, remote: 0.5}\nsimulation: {end: 120 ns, seed: 5, checker: true}\n";

// One-shot nodes ranked 0..n-1 started with `nodeCurve`, connecting to `connectTo` (the pool's
// endpoint, or a tap in front of it).
RunReport runOn(NodeCoordinator& coordinator, const std::string& connectTo, uint32_t n, const proto::CurveFiles& nodeCurve,
                const std::string& runId = "", const std::string& text = kScenario) {
  const auto b = build(text, n);
  LocalLauncher launcher(testing::nodeBinary());
  LaunchSpec spec;
  spec.count = n;
  spec.coordinator = connectTo;
  spec.curve = nodeCurve;
  launcher.start(spec);
  NodeRunOptions options;
  options.nodes = n;
  options.runId = runId;
  options.scenarioText = text;
  options.map = b.map;
  options.run = b.scenario.run;
  options.registrationTimeoutMs = 20000;
  options.watchdog = [&](const std::vector<bool>& finished) { return launcher.checkChildren(finished); };
  RunReport r = coordinator.run(options);
  launcher.waitAll(5000);
  return r;
}

TEST(Curve, AllowedNodesRunWithThePlaintextDigest) {
  Keys keys;
  NodeCoordinator plain;
  const RunReport reference = runOn(plain, plain.endpoint(), 3, {});
  NodeCoordinator secured("tcp://127.0.0.1:*", proto::loadCurveSecurity(keys.coordinator()));
  const RunReport r = runOn(secured, secured.endpoint(), 3, keys.node());
  ASSERT_GT(reference.results.eventsCommitted(), 500u);
  EXPECT_EQ(r.results.digestHex(), reference.results.digestHex());
  EXPECT_EQ(r.results.toJson(), reference.results.toJson());
  EXPECT_EQ(secured.pool().authRefused(), 0u);
}

TEST(Curve, ANodeWithAWrongKeyNeverJoinsAndIsCounted) {
  Keys keys;
  PoolOptions options;
  options.curve = proto::loadCurveSecurity(keys.coordinator());
  NodePool pool("tcp://127.0.0.1:*", options);
  obs::MetricsRegistry metrics("coordinator");
  metrics.add(pool.authMetrics());
  EXPECT_THAT(metrics.render(), ::testing::HasSubstr("wafersim_zmq_auth_refused_total{socket=\"control\"} 0"));

  LocalLauncher stranger(testing::nodeBinary()), good(testing::nodeBinary());
  LaunchSpec spec;
  spec.coordinator = pool.endpoint();
  spec.pool = true;
  spec.namePrefix = "stranger-";
  spec.curve = keys.node("stranger");  // the right coordinator key, a key the coordinator does not allow
  stranger.start(spec);
  spec.namePrefix = "good-";
  spec.curve = keys.node();
  good.start(spec);

  pool.waitForNodes(1, {"good-0"}, std::chrono::seconds(20));
  ASSERT_TRUE(testing::pollUntil(std::chrono::seconds(20), [&] { return pool.authRefused() >= 1; }))
      << "no refusal counted";
  // Its handshake was refused: nothing of it can register after that (libzmq does not reconnect a
  // connection refused by ZAP, and it would be refused again).
  const auto nodes = pool.nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].name, "good-0");
  EXPECT_EQ(pool.counters().rejected, 0u) << "nothing of the stranger reached the pool's message handling";
  EXPECT_THAT(metrics.render(), ::testing::ContainsRegex("wafersim_zmq_auth_refused_total\\{socket=\"control\"\\} [1-9]"));
  EXPECT_THAT(metrics.render(), ::testing::HasSubstr("wafersim_zmq_auth_accepted_total{socket=\"control\"} 1"));
  EXPECT_TRUE(testing::processAlive(stranger.pids()[0])) << "a pool node waits for its coordinator; it never gets in";
  pool.shutdownNodes();
  good.waitAll(5000);
  stranger.killAll();
}

// `wafersim run --nodes 2 --curve-key ...` (executeRun): the nodes and the placement service this
// process starts get the same key files; the nodes reach the placement service over CURVE and the
// run gives the in-process run's results (a placement service out of reach would keep the mapping,
// and the digest would differ).
TEST(Curve, ALocalRunWithOnlinePlacementOverCurveGivesTheInProcessResults) {
  Keys keys;
  RunSpec spec;
  spec.scenarioText = testing::kOnlinePlacementScenario;
  spec.source = "online.yaml";
  spec.outDir = (keys.dir / "threads").string();
  const RunOutcome threads = executeRun(spec);
  spec.outDir = (keys.dir / "nodes").string();
  spec.flags.nodes = 2;
  spec.flags.curve = keys.coordinator();
  std::string printed;
  spec.log = [&](const std::string& line) { printed += line + "\n"; };
  const RunOutcome nodes = executeRun(spec);
  EXPECT_EQ(nodes.digest, threads.digest) << printed;
  EXPECT_THAT(printed, ::testing::HasSubstr("placement service"));
  std::ifstream in(keys.dir / "nodes" / "placement_log.json");
  std::stringstream log;
  log << in.rdbuf();
  EXPECT_THAT(log.str(), ::testing::HasSubstr("applied"));
  EXPECT_THAT(log.str(), ::testing::Not(::testing::HasSubstr("did not answer")));
}

// The marker (the run id) is in plaintext Cap'n Proto on the wire without CURVE — the test would
// see it — and nowhere in the recorded bytes with CURVE.
TEST(Curve, ASniffedFrameIsNotPlaintext) {
  Keys keys;
  const std::string marker = "r-5n1ffed0c0de";
  for (bool curve : {false, true}) {
    NodeCoordinator coordinator("tcp://127.0.0.1:*", curve ? proto::loadCurveSecurity(keys.coordinator()) : nullptr);
    TcpTap tap(portOf(coordinator.endpoint()));
    const RunReport r =
        runOn(coordinator, tap.endpoint(), 1, curve ? keys.node() : proto::CurveFiles{}, marker,
              kScenario + "# scenario-text-marker\n");
    EXPECT_GT(r.results.eventsCommitted(), 0u);
    const std::string wire = tap.bytes();
    ASSERT_GT(wire.size(), 1000u) << "the tap saw the run's traffic";
    if (!curve) {
      EXPECT_NE(wire.find(marker), std::string::npos) << "plaintext: the run id is readable on the wire";
      EXPECT_NE(wire.find("scenario-text-marker"), std::string::npos);
      EXPECT_NE(wire.find("node-0"), std::string::npos);
    } else {
      EXPECT_EQ(wire.find(marker), std::string::npos) << "CURVE: the run id leaked";
      EXPECT_EQ(wire.find("scenario-text-marker"), std::string::npos);
      EXPECT_EQ(wire.find("phold"), std::string::npos);
      EXPECT_NE(wire.find("CURVE"), std::string::npos) << "the ZMTP greeting names the mechanism";
    }
  }
}

}  // namespace
}  // namespace wafersim
