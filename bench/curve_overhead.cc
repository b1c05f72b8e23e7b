// The cost of CURVE (protocol/curve_auth.h) on wafersim's ZeroMQ traffic, plaintext and CURVE
// measured in the same run on the same machine:
//   1. the round trip of one window report (a Cap'n Proto Envelope with a peer's report, what
//      the window strategy's allGather sends) between two processes over tcp loopback, echoed back
//      and checked byte for byte (median of N);
//   2. one synchronization window of a real run: PHOLD with 2 LPs on each of 2 wafersim-node
//      processes (windows nearly empty, so the window is all synchronization), wall time per
//      window, plaintext against CURVE on the control and data sockets; the two runs must give
//      the same digest.
// A wrong result (an echo that differs, digests that differ, a refused node) exits 1.
//
// Usage: bench_curve_overhead [--quick]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "coordinator/local_launcher.h"
#include "coordinator/node_coordinator.h"
#include "models/model_catalog.h"
#include "protocol/codec.h"
#include "protocol/curve_auth.h"
#include "protocol/curve_keys.h"
#include "scenario/scenario.h"

using namespace wafersim;
namespace fs = std::filesystem;

namespace {

// A window report as the window strategy sends it (one peer).
zmq::message_t windowReportFrame() {
  proto::WindowReportMessage m;
  m.from = 1;
  m.round = 123456;
  m.report.nextEvent = SimTime::zero() + Duration::fromPs(987654321);
  m.report.counter = 42;
  m.report.peers.push_back({0, SimTime::zero() + Duration::fromPs(987654000), SimTime::zero(), Duration::fromPs(100)});
  proto::Encoder encoder(0);
  encoder.setRunId("r-0123456789ab");
  return encoder.encode(1, m);
}

// Median round trip in µs of the frame between this process and a forked echo, over tcp loopback.
// Returns a negative value when an echo differs from what was sent.
double roundTripUs(int rounds, const std::shared_ptr<const proto::CurveSecurity>& curve) {
  // Fork before either side makes a ZeroMQ context (a context does not survive fork); the server's
  // endpoint reaches the echo through a pipe.
  int pipeFds[2];
  if (::pipe(pipeFds) != 0) return -1;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipeFds[1]);
    char buffer[256] = {};
    ssize_t got = 0;
    while (got < static_cast<ssize_t>(sizeof buffer) - 1) {
      const ssize_t n = ::read(pipeFds[0], buffer + got, sizeof buffer - 1 - static_cast<size_t>(got));
      if (n <= 0) break;
      got += n;
    }
    zmq::context_t c(1);
    zmq::socket_t b(c, zmq::socket_type::pair);
    b.set(zmq::sockopt::linger, 0);
    b.set(zmq::sockopt::rcvtimeo, 10000);
    if (curve) proto::makeCurveClient(b, *curve, curve->own.publicKey);
    b.connect(std::string(buffer, static_cast<size_t>(got)));
    for (int i = 0; i < rounds + 10; ++i) {
      zmq::message_t m;
      if (!b.recv(m)) _exit(1);
      b.send(m, zmq::send_flags::none);
    }
    // The last echo must leave before the process does: close with a linger, then exit.
    b.set(zmq::sockopt::linger, 5000);
    b.close();
    c.close();
    _exit(0);
  }
  ::close(pipeFds[0]);
  zmq::context_t ctx(1);
  std::unique_ptr<proto::ZapAuthenticator> zap;
  if (curve) zap = std::make_unique<proto::ZapAuthenticator>(ctx, curve->allowed);
  zmq::socket_t a(ctx, zmq::socket_type::pair);
  a.set(zmq::sockopt::linger, 0);
  a.set(zmq::sockopt::rcvtimeo, 10000);  // a lost echo is a failure, not a hang
  if (curve) proto::makeCurveServer(a, *curve, "bench");
  a.bind("tcp://127.0.0.1:*");
  const std::string endpoint = a.get(zmq::sockopt::last_endpoint);
  const bool told = ::write(pipeFds[1], endpoint.data(), endpoint.size()) == static_cast<ssize_t>(endpoint.size());
  ::close(pipeFds[1]);
  if (!told) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return -1;
  }
  const zmq::message_t frame = windowReportFrame();
  std::vector<double> us;
  bool same = true;
  for (int i = 0; i < rounds + 10; ++i) {
    zmq::message_t out;
    out.copy(const_cast<zmq::message_t&>(frame));
    const auto t0 = std::chrono::steady_clock::now();
    a.send(out, zmq::send_flags::none);
    zmq::message_t back;
    if (!a.recv(back)) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
      return -1;
    }
    const auto t1 = std::chrono::steady_clock::now();
    same = same && back.size() == frame.size() && std::memcmp(back.data(), frame.data(), frame.size()) == 0;
    if (i >= 10) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!same || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

struct WindowRun {
  double usPerWindow = 0;
  uint64_t windows = 0;
  std::string digest;
  uint64_t refused = 0;
};

// PHOLD, 2 LPs per node on 2 nodes, window synchronization.
WindowRun windowRun(int64_t endPs, const proto::CurveFiles& curve) {
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  const std::string scenario = "model: phold\nparams: {lps: 4}\n";
  const Scenario parsed = parseScenario(scenario, "bench");
  const SystemGraph g = catalog.build(parsed.model, parsed.modelParams, "bench: params", parsed.run.seed);
  RunOptions run;
  run.sync = SyncKind::Window;
  run.end = SimTime::zero() + Duration::fromPs(endPs);
  run.seed = 7;
  run.digest = true;
  NodeCoordinator coordinator("tcp://127.0.0.1:*", proto::loadCurveSecurity(curve));
  LocalLauncher launcher(findNodeBinary());
  LaunchSpec spec;
  spec.count = 2;
  spec.coordinator = coordinator.endpoint();
  spec.curve = curve;
  launcher.start(spec);
  NodeRunOptions options;
  options.nodes = 2;
  options.scenarioText = scenario;
  options.map = PartitionMap::linear(g.components().size(), 2);
  options.run = run;
  options.watchdog = [&](const std::vector<bool>& finished) { return launcher.checkChildren(finished); };
  const RunReport r = coordinator.run(options);
  launcher.waitAll(5000);
  uint64_t rounds = 0;
  for (const auto& p : r.partitions) rounds = std::max(rounds, p.sync.rounds);
  return {r.wallSeconds / static_cast<double>(std::max<uint64_t>(rounds, 1)) * 1e6, rounds, r.results.digestHex(),
          coordinator.pool().authRefused()};
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) quick = quick || std::strcmp(argv[i], "--quick") == 0;
  if (!zmq_has("curve")) {
    std::fprintf(stderr, "bench_curve_overhead: this libzmq has no CURVE\n");
    return 1;
  }
  std::string t = (fs::temp_directory_path() / "wafersim-curve-bench-XXXXXX").string();
  const fs::path dir = ::mkdtemp(t.data());
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { fs::remove_all(dir); }
  } cleanup{dir};
  proto::writeCurveKeyFiles((dir / "cluster").string(), proto::generateCurveKeyPair());
  const proto::CurveFiles files{(dir / "cluster.key").string(), "", ""};
  const auto security = proto::loadCurveSecurity(files);

  const int rounds = quick ? 2000 : 20000;
  const int repeats = quick ? 1 : 3;
  // Interleaved repeats, best median of each: the machine's noise hits both alike.
  double plainRtt = 1e30, curveRtt = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const double p = roundTripUs(rounds, nullptr), c = roundTripUs(rounds, security);
    if (p < 0 || c < 0) {
      std::fprintf(stderr, "bench_curve_overhead: an echoed window report differs from what was sent (%s)\n",
                   p < 0 ? "plaintext" : "CURVE");
      return 1;
    }
    plainRtt = std::min(plainRtt, p);
    curveRtt = std::min(curveRtt, c);
  }
  std::printf("Window report round trip (%zu-byte Cap'n Proto envelope, tcp loopback, two processes,\n"
              "median of %d, best of %d):\n",
              windowReportFrame().size(), rounds, repeats);
  std::printf("  plaintext %8.1f us\n  CURVE     %8.1f us\n  ratio     %8.2fx  (+%.1f us)\n", plainRtt, curveRtt,
              curveRtt / plainRtt, curveRtt - plainRtt);

  const int64_t endPs = quick ? 1'000'000 : 4'000'000;
  WindowRun plain, curve;
  double plainBest = 1e30, curveBest = 1e30;
  for (int i = 0; i < repeats; ++i) {
    plain = windowRun(endPs, {});
    curve = windowRun(endPs, files);
    if (plain.digest != curve.digest || plain.windows != curve.windows || curve.refused != 0) {
      std::fprintf(stderr, "bench_curve_overhead: CURVE changed the run: digest %s vs %s, windows %llu vs %llu, %llu refused\n",
                   plain.digest.c_str(), curve.digest.c_str(), static_cast<unsigned long long>(plain.windows),
                   static_cast<unsigned long long>(curve.windows), static_cast<unsigned long long>(curve.refused));
      return 1;
    }
    plainBest = std::min(plainBest, plain.usPerWindow);
    curveBest = std::min(curveBest, curve.usPerWindow);
  }
  std::printf("\nOne synchronization window (PHOLD, 2 LPs on each of 2 node processes, %llu windows, digest %s,\n"
              "best of %d):\n",
              static_cast<unsigned long long>(plain.windows), plain.digest.c_str(), repeats);
  std::printf("  plaintext %8.1f us\n  CURVE     %8.1f us\n  ratio     %8.2fx  (+%.1f us)\n", plainBest, curveBest,
              curveBest / plainBest, curveBest - plainBest);
  return 0;
}
