// Kernel throughput: PHOLD with ROSS's parameters and SST-core's MessageMesh, for 1, 2 and 4
// partitions and both synchronization strategies, plus the lookahead a model can promise.
//
// Time unit: 1 PHOLD time unit = 1 ns. Lookahead (minimum delay) 0.1 = 100 ps, mean increment
// 1.0 (each event schedules its successor at now + 0.1 + Exp(0.9) units), remote fraction 0.25,
// one initial event per LP, 16 and 1,024 LPs per partition (weak scaling, as ROSS reports).
// MessageMesh: X x Y torus, 1 ns links. Digest hashing is off (neither ROSS nor SST hash events).
//
// Usage: bench_phold [--quick] [--processes]
//   --quick      about a tenth of the events, for smoke runs
//   --processes  the multi-process mode: node processes over ZeroMQ on loopback, with the cost of
//                one synchronization window next to raw ZeroMQ and TCP round trips measured here
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "bench/node_runs.h"
#include "models/model_catalog.h"
#include "models/synthetic/synthetic.h"
#include "sim/simulation.h"

using namespace wafersim;

namespace {

struct Row {
  std::string model;
  std::string config;
  uint32_t partitions;
  const char* sync;
  RunReport report;
  SimTime end;
};

double eventsPerSecond(const RunReport& r) { return static_cast<double>(r.events()) / r.wallSeconds; }

Row run(const std::string& model, const std::string& config, const SystemGraph& graph,
        const ComponentRegistry& registry, uint32_t partitions, SyncKind sync, SimTime end,
        LookaheadMode lookahead = LookaheadMode::Model) {
  RunOptions options;
  options.sync = sync;
  options.end = end;
  options.seed = 7;
  options.digest = false;
  options.lookahead = lookahead;
  RunReport r = runInProcess(graph, registry, PartitionMap::linear(graph.components().size(), partitions), options);
  return {model, config, partitions, partitions == 1 ? "-" : toString(sync), std::move(r), end};
}

void print(const Row& row) {
  const RunReport& r = row.report;
  uint64_t rounds = 0;
  for (const auto& p : r.partitions) rounds = std::max(rounds, p.sync.rounds);
  const double simSeconds = static_cast<double>(row.end.ps()) * 1e-12;
  std::printf("%-12s %-22s %5u %-6s %12llu %8.3f %10.2f %14.3g %9.3f\n", row.model.c_str(), row.config.c_str(),
              row.partitions, row.sync, static_cast<unsigned long long>(r.events()), r.wallSeconds,
              eventsPerSecond(r) / 1e6, row.partitions == 1 ? 0.0 : static_cast<double>(rounds) / simSeconds,
              r.syncWaitFraction());
  std::fflush(stdout);
}

void header(const char* title) {
  std::printf("\n%s\n%-12s %-22s %5s %-6s %12s %8s %10s %14s %9s\n", title, "model", "config", "parts", "sync",
              "events", "wall_s", "Mevents/s", "rounds/sim_s", "sync_wait");
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Median round trip of a 64-byte message between two processes over tcp loopback, in µs.
// The child is forked before either side makes a ZeroMQ context (a context does not survive a
// fork: the echo hung for ever with one made before); the endpoint goes to it through a pipe.
double zmqRoundTripUs(int rounds) {
  int endpointPipe[2];
  if (pipe(endpointPipe) != 0) return 0;
  const pid_t child = fork();
  if (child == 0) {
    close(endpointPipe[1]);
    char endpoint[256] = {};
    if (read(endpointPipe[0], endpoint, sizeof endpoint - 1) <= 0) _exit(1);
    {
      zmq::context_t c(1);
      zmq::socket_t b(c, zmq::socket_type::pair);
      b.set(zmq::sockopt::linger, 1000);  // the last reply leaves before the context closes
      b.connect(endpoint);
      for (int i = 0; i < rounds + 10; ++i) {
        zmq::message_t m;
        if (!b.recv(m)) break;
        b.send(m, zmq::send_flags::none);
      }
    }
    _exit(0);
  }
  close(endpointPipe[0]);
  zmq::context_t ctx(1);
  zmq::socket_t a(ctx, zmq::socket_type::pair);
  a.set(zmq::sockopt::linger, 0);
  a.bind("tcp://127.0.0.1:*");
  const std::string endpoint = a.get(zmq::sockopt::last_endpoint);
  if (write(endpointPipe[1], endpoint.c_str(), endpoint.size()) != static_cast<ssize_t>(endpoint.size())) return 0;
  close(endpointPipe[1]);
  std::vector<double> samples;
  char payload[64] = {};
  for (int i = 0; i < rounds + 10; ++i) {
    const double t0 = now();
    a.send(zmq::buffer(payload, sizeof payload), zmq::send_flags::none);
    zmq::message_t m;
    (void)a.recv(m);
    if (i >= 10) samples.push_back((now() - t0) * 1e6);
  }
  waitpid(child, nullptr, 0);
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

double tcpRoundTripUs(int rounds) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(listener, 1);
  const pid_t child = fork();
  if (child == 0) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[64];
    for (int i = 0; i < rounds + 10; ++i) {
      if (recv(s, buf, sizeof buf, MSG_WAITALL) != sizeof buf) break;
      send(s, buf, sizeof buf, 0);
    }
    _exit(0);
  }
  const int s = accept(listener, nullptr, nullptr);
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<double> samples;
  char buf[64] = {};
  for (int i = 0; i < rounds + 10; ++i) {
    const double t0 = now();
    send(s, buf, sizeof buf, 0);
    recv(s, buf, sizeof buf, MSG_WAITALL);
    if (i >= 10) samples.push_back((now() - t0) * 1e6);
  }
  waitpid(child, nullptr, 0);
  close(s);
  close(listener);
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// One run in `nodes` wafersim-node processes on this machine.
Row runProcesses(const std::string& model, const std::string& config, const std::string& scenario,
                 const SystemGraph& graph, uint32_t nodes, SyncKind sync, SimTime end) {
  RunOptions run;
  run.sync = sync;
  run.end = end;
  run.seed = 7;
  run.digest = false;
  RunReport r = bench::runInNodeProcesses(scenario, {}, PartitionMap::linear(graph.components().size(), nodes), run);
  return {model, config, nodes, nodes == 1 ? "-" : toString(sync), std::move(r), end};
}

uint64_t maxRounds(const RunReport& r) {
  uint64_t rounds = 0;
  for (const auto& p : r.partitions) rounds = std::max(rounds, p.sync.rounds);
  return rounds;
}

int runProcessMode(double targetEvents) {
  const double zmqRtt = zmqRoundTripUs(2000);
  const double tcpRtt = tcpRoundTripUs(2000);
  std::printf("Raw round trips on this machine (64 bytes, tcp loopback, two processes, median of 2,000):\n");
  std::printf("  ZeroMQ PAIR %.1f us, plain TCP %.1f us\n", zmqRtt, tcpRtt);

  header("PHOLD in node processes over ZeroMQ (1,024 LPs per node, ROSS parameters)");
  double single = 0, best2 = 0;
  for (uint32_t nodes : {1u, 2u, 4u}) {
    synthetic::PholdConfig c;
    c.lps = 1024 * nodes;
    const SystemGraph g = synthetic::buildPhold(c);
    const SimTime end = SimTime::zero() + Duration::fromPs(static_cast<int64_t>(targetEvents / c.lps * 1000));
    const std::string scenario = "model: phold\nparams: {lps: " + std::to_string(c.lps) + "}\n";
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
      if (nodes == 1 && sync == SyncKind::NullMessage) continue;
      Row row = runProcesses("phold", "1024 LPs/node", scenario, g, nodes, sync, end);
      print(row);
      const double eps = eventsPerSecond(row.report);
      if (nodes == 1) single = eps;
      if (nodes == 2) best2 = std::max(best2, eps);
    }
  }
  // Wider lookaheads: the same PHOLD with a 10 ns and a 100 ns minimum delay (mean increment
  // lookahead + 0.9 ns) holds thousands of events per window.
  double wide1 = 0, wide2 = 0, wider1 = 0, wider2 = 0;
  for (int64_t lookaheadPs : {10'000, 100'000}) {
    header(("PHOLD, 1,024 LPs per node, lookahead " + toString(Duration::fromPs(lookaheadPs))).c_str());
    for (uint32_t nodes : {1u, 2u}) {
      synthetic::PholdConfig c;
      c.lps = 1024 * nodes;
      c.lookahead = Duration::fromPs(lookaheadPs);
      const SystemGraph g = synthetic::buildPhold(c);
      const SimTime end =
          SimTime::zero() + Duration::fromPs(static_cast<int64_t>(targetEvents / c.lps * (lookaheadPs + 900)));
      const std::string scenario = "model: phold\nparams: {lps: " + std::to_string(c.lps) +
                                   ", lookahead: " + std::to_string(lookaheadPs) + " ps}\n";
      Row row = runProcesses("phold-wide", "1024 LPs/node", scenario, g, nodes, SyncKind::Window, end);
      print(row);
      const double eps = eventsPerSecond(row.report);
      if (lookaheadPs == 10'000) (nodes == 1 ? wide1 : wide2) = eps;
      else (nodes == 1 ? wider1 : wider2) = eps;
      if (nodes == 2)
        std::printf("  events per window: %.0f\n", static_cast<double>(row.report.events()) / maxRounds(row.report));
    }
  }

  header("MessageMesh 32x32 in node processes (1 ns windows, about 4,100 events per window)");
  double mesh1 = 0, mesh2 = 0;
  {
    const SystemGraph g = synthetic::buildMessageMesh({32, 32, Duration::fromPs(1000)});
    const SimTime end = SimTime::zero() + Duration::fromPs(static_cast<int64_t>(targetEvents / 4096.0 * 1000));
    const std::string scenario = "model: message_mesh\nparams: {x: 32, y: 32}\n";
    Row single = runProcesses("messagemesh", "32x32", scenario, g, 1, SyncKind::Window, end);
    print(single);
    mesh1 = eventsPerSecond(single.report);
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
      Row row = runProcesses("messagemesh", "32x32", scenario, g, 2, sync, end);
      print(row);
      mesh2 = std::max(mesh2, eventsPerSecond(row.report));
    }
  }

  // The cost of one window: 2 nodes, 2 LPs each, so windows carry almost no events.
  header("Synchronization cost: PHOLD with 2 LPs per node, 2 nodes (windows nearly empty)");
  double windowUs = 0;
  // Round trips on loopback vary several-fold with the state of this virtual machine's cores (16.9
  // and 83.0 us for plain TCP in two runs of this bench), so the window is compared with TCP
  // measured just before and just after it.
  const double tcpBefore = tcpRoundTripUs(2000);
  {
    synthetic::PholdConfig c;
    c.lps = 4;
    const SystemGraph g = synthetic::buildPhold(c);
    // 20 us of simulated time: about 60,000 windows, so that starting the nodes (part of the run's
    // wall time) weighs little in the per-window figure.
    const SimTime end = SimTime::zero() + Duration::fromPs(20'000'000);
    Row row = runProcesses("phold", "2 LPs/node", "model: phold\nparams: {lps: 4}\n", g, 2, SyncKind::Window, end);
    print(row);
    windowUs = row.report.wallSeconds / static_cast<double>(maxRounds(row.report)) * 1e6;
  }

  const double tcpAfter = tcpRoundTripUs(2000);
  std::printf("\nMulti-process figures:\n");
  std::printf("  one synchronization window     %6.1f us   (raw ZeroMQ round trip %.1f us, TCP %.1f us)\n", windowUs,
              zmqRtt, tcpRtt);
  std::printf("  window / TCP round trip        %6.2fx - %.2fx (target 1.2x; TCP just before %.1f us, just after %.1f us)\n",
              windowUs / std::max(tcpBefore, tcpAfter), windowUs / std::min(tcpBefore, tcpAfter), tcpBefore, tcpAfter);
  std::printf("  PHOLD 2 nodes / 1 node         %6.2fx     (ROSS parameters, 0.1 ns lookahead)\n", best2 / single);
  std::printf("  PHOLD lookahead 10 ns, 2 / 1   %6.2fx     (target 1.5x)\n", wide2 / wide1);
  std::printf("  PHOLD lookahead 100 ns, 2 / 1  %6.2fx\n", wider2 / wider1);
  std::printf("  MessageMesh 32x32, 2 nodes     %6.2f M events/s, %.2fx of 1 node (SST-core, 2 MPI ranks: 13.7, "
              "quoted, not measured here: README)\n", mesh2 / 1e6, mesh2 / mesh1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, processes = false;
  for (int i = 1; i < argc; ++i) {
    quick = quick || std::strcmp(argv[i], "--quick") == 0;
    processes = processes || std::strcmp(argv[i], "--processes") == 0;
  }
  const double targetEvents = quick ? 1.5e6 : 1.2e7;  // per configuration
  if (processes) return runProcessMode(targetEvents);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);

  // ---- PHOLD, ROSS parameters -------------------------------------------------------------
  header("PHOLD (ROSS parameters: lookahead 0.1, mean 1.0, remote 0.25, 1 event/LP; 1 unit = 1 ns)");
  double seq16 = 0, seq1024 = 0, par1024 = 0;
  for (uint32_t lpsPerPartition : {16u, 1024u}) {
    for (uint32_t parts : {1u, 2u, 4u}) {
      synthetic::PholdConfig c;
      c.lps = lpsPerPartition * parts;
      const SystemGraph g = synthetic::buildPhold(c);
      // About one event per LP per ns of simulated time. With 16 LPs per partition a window holds
      // about 3 events and the run is all synchronization: fewer events keep it short.
      const double events = lpsPerPartition == 16 && parts > 1 ? targetEvents / 8 : targetEvents;
      const SimTime end = SimTime::zero() + Duration::fromPs(static_cast<int64_t>(events / c.lps * 1000));
      for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
        if (parts == 1 && sync == SyncKind::NullMessage) continue;
        Row row = run("phold", std::to_string(lpsPerPartition) + " LPs/partition", g, registry, parts, sync, end);
        print(row);
        const double eps = eventsPerSecond(row.report);
        if (parts == 1 && lpsPerPartition == 16) seq16 = eps;
        if (parts == 1 && lpsPerPartition == 1024) seq1024 = eps;
        if (parts == 2 && lpsPerPartition == 1024) par1024 = std::max(par1024, eps);
      }
    }
  }

  // ---- MessageMesh, SST-core's test model ---------------------------------------------------
  header("MessageMesh (SST-core test model: torus, 1 ns links, forward on a random link)");
  double mesh4 = 0, mesh32 = 0, mesh32par = 0;
  for (uint32_t side : {4u, 32u}) {
    const SystemGraph g = synthetic::buildMessageMesh({side, side, Duration::fromPs(1000)});
    const SimTime end = SimTime::zero() + Duration::fromPs(static_cast<int64_t>(targetEvents / (4.0 * side * side) * 1000));
    for (uint32_t parts : {1u, 2u}) {
      for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
        if (parts == 1 && sync == SyncKind::NullMessage) continue;
        if (side == 4 && parts > 1) continue;
        Row row = run("messagemesh", std::to_string(side) + "x" + std::to_string(side), g, registry, parts, sync, end);
        print(row);
        const double eps = eventsPerSecond(row.report);
        if (parts == 1) (side == 4 ? mesh4 : mesh32) = eps;
        if (side == 32 && parts == 2) mesh32par = std::max(mesh32par, eps);
      }
    }
  }

  // ---- Lookahead a component can promise ----------------------------------------------------
  // PHOLD in compute mode: every LP is a FIFO server taking 2 ns per event before it sends,
  // over a 100 ps fabric. Links alone give 100 ps windows; the model's reaction delay and
  // busy-until promises give windows of about the service time.
  header("Model lookahead: PHOLD compute mode (service 2 ns per event, 100 ps fabric), 2 partitions");
  double linksRounds = 0, modelRounds = 0;
  for (LookaheadMode mode : {LookaheadMode::Links, LookaheadMode::Model}) {
    synthetic::PholdConfig c;
    c.lps = 2048;
    c.service = Duration::fromPs(2000);
    const SystemGraph g = synthetic::buildPhold(c);
    const SimTime end = SimTime::zero() + Duration::fromPs(static_cast<int64_t>(targetEvents / c.lps * 3000));
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
      Row row = run("phold-comp", std::string("lookahead=") + toString(mode), g, registry, 2, sync, end, mode);
      print(row);
      if (sync == SyncKind::Window) {
        uint64_t rounds = 0;
        for (const auto& p : row.report.partitions) rounds = std::max(rounds, p.sync.rounds);
        (mode == LookaheadMode::Links ? linksRounds : modelRounds) = static_cast<double>(rounds);
      }
    }
  }

  // ---- Two runs at once --------------------------------------------------------------------
  // What CI and a sweep do: two simulations of 2 partitions each on one machine, so 4 threads
  // share its cores and a partition waiting at the window barrier may hold the core the partition
  // it awaits needs. Small windows (16 LPs per partition) make the barrier the whole cost. Each run
  // must give the events it gives alone; the wall time of the pair is set against the two runs
  // one after the other.
  header("Two runs at once: PHOLD 16 LPs/partition, 2 partitions each, window sync");
  double alone = 0, together = 0;
  {
    synthetic::PholdConfig c;
    c.lps = 32;
    const SystemGraph g = synthetic::buildPhold(c);
    const SimTime end = SimTime::zero() + Duration::fromPs(static_cast<int64_t>(targetEvents / 8 / c.lps * 1000));
    const Row first = run("phold", "alone", g, registry, 2, SyncKind::Window, end);
    print(first);
    alone = 2 * first.report.wallSeconds;
    std::vector<Row> pair(2);
    const double t0 = now();
    {
      std::jthread other([&] { pair[1] = run("phold", "beside another", g, registry, 2, SyncKind::Window, end); });
      pair[0] = run("phold", "beside another", g, registry, 2, SyncKind::Window, end);
    }
    together = now() - t0;
    for (const Row& row : pair) {
      print(row);
      if (row.report.events() != first.report.events()) {
        std::fprintf(stderr, "a run beside another gave %llu events, alone %llu\n",
                     static_cast<unsigned long long>(row.report.events()),
                     static_cast<unsigned long long>(first.report.events()));
        return 1;
      }
    }
  }

  std::printf("\nAgainst the anchors measured on this machine class (2 cores):\n");
  std::printf("  PHOLD sequential, 16 LPs      %6.2f M events/s   (ROSS: 5.7, quoted)\n", seq16 / 1e6);
  std::printf("  PHOLD sequential, 1,024 LPs   %6.2f M events/s   (ROSS: 3.3, quoted)\n", seq1024 / 1e6);
  std::printf("  PHOLD 2 partitions/1 (1,024)  %6.2fx             (target 1.7x; ROSS conservative: 1.15x, quoted)\n",
              par1024 / seq1024);
  std::printf("  MessageMesh 4x4 serial        %6.2f M events/s   (SST-core: 13.4, quoted)\n", mesh4 / 1e6);
  std::printf("  MessageMesh 32x32 serial      %6.2f M events/s   (SST-core: 6.4, quoted)\n", mesh32 / 1e6);
  std::printf("  MessageMesh 32x32, 2 parts    %6.2f M events/s   (SST-core, 2 MPI ranks: 13.7, quoted)\n", mesh32par / 1e6);
  std::printf("  Model lookahead: windows %.0f (links only) -> %.0f (model), %.1fx wider\n", linksRounds,
              modelRounds, modelRounds > 0 ? linksRounds / modelRounds : 0.0);
  std::printf("  Two runs at once              %6.3f s vs %.3f s one after the other (%.2fx)\n", together, alone,
              alone > 0 ? together / alone : 0.0);
  return 0;
}
