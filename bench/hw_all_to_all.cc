// Network-on-package throughput: an all-to-all on an 8 x 8 mesh of dies (models/hardware), for 1
// and 2 partitions and both synchronization strategies.
//
// Every die (endpoint) sends S bytes to every other die: 64 x 63 = 4,032 flows, all starting at 0
// (or staggered, --stagger), XY routing. Cut-through with chunks of C bytes (one event per chunk
// per router plus one at the receiving endpoint, about 7.3 events per chunk on average) and
// store-and-forward (one chunk per message).
//
// Parameters: links of 1.7 TB/s (die-to-die bandwidth of the Tesla Dojo / TSMC SoW class) on
// every router-to-router and endpoint link; a link latency of 20 ns on every link, which is an
// ASSUMPTION of this bench (a plausible die-to-die PHY + router pipeline figure, not a measured
// one). Digest hashing is off for the timed runs (like bench_phold); one extra run per
// configuration and partitioning with the digest on checks that 1 and 2 partitions agree.
//
// Columns: events committed, wall seconds (setup to finish, slowest partition), events/s, events/s
// per core (per partition), simulated completion time (the last delivery), the fraction of wall
// time partitions spent waiting for each other, synchronization rounds, events that crossed
// partitions, and balance (events of the busiest partition / mean). On a shared 2-core machine the
// 2-partition rows swing widely: a partition thread preempted by another process stalls the other
// at the barrier, which shows as sync_wait with a balance of 1.000.
//
// Usage: bench_hw_all_to_all [--quick] [--bytes N] [--chunk N] [--stagger PS] [--repeat K]
//   --quick       S = 8 KiB (about a tenth of the events), for smoke runs
//   --bytes N     S, bytes per flow (default 65536)
//   --chunk N     cut-through chunk, bytes (default 256)
//   --stagger PS  flow s -> d starts at ((d - s) mod 64 - 1) * PS ps (a shifted-permutation
//                 schedule: in phase k every die sends to die s + k); default 0, all at once
//   --repeat K    time every configuration K times (the machine is noisy; default 1)
//   --only C      for profiling: run only configuration C (1, 2w: 2 partitions window, 2n: 2
//                 partitions null-message), cut-through only, and skip the digest check
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "models/hardware/topology.h"
#include "sim/simulation.h"

using namespace wafersim;
using namespace wafersim::hw;

namespace {

constexpr uint32_t kSide = 8;

struct Options {
  uint64_t bytes = 64 * 1024;
  uint64_t chunk = 256;
  int64_t staggerPs = 0;
  int repeat = 1;
  std::string only;  // empty: every configuration
};

Network build(const Options& o, ForwardingMode mode) {
  MeshConfig c;
  c.x = c.y = kSide;
  c.linkLatency = c.endpointLatency = Duration::fromPs(20'000);  // assumption, see above
  c.linkBandwidth = c.endpointBandwidth = parseBandwidth("1.7 TB/s");
  c.energyPerBit = parseEnergyPerBit("0 fJ/bit");
  c.routing = Routing::XY;
  c.mode = mode;
  c.chunk = Bytes{o.chunk};
  const uint32_t n = kSide * kSide;
  for (uint32_t s = 0; s < n; ++s)
    for (uint32_t d = 0; d < n; ++d) {
      if (s == d) continue;
      const int64_t phase = static_cast<int64_t>((d + n - s) % n) - 1;
      c.flows.push_back({s, d, Bytes{o.bytes}, SimTime::fromPs(phase * o.staggerPs)});
    }
  return buildMesh(c);
}

RunReport run(const Network& net, uint32_t partitions, SyncKind sync, bool digest) {
  ComponentRegistry registry;
  registerNetworkComponents(registry);
  RunOptions options;
  options.sync = sync;
  options.seed = 7;
  options.digest = digest;
  return runInProcess(net.graph, registry, PartitionMap::linear(net.graph.components().size(), partitions), options);
}

uint64_t counterTotal(const Results& r, const char* name) {
  uint64_t sum = 0;
  for (const auto& c : r.components())
    if (auto it = c.counters.find(name); it != c.counters.end()) sum += it->second;
  return sum;
}

void header(const char* title) {
  std::printf("\n%s\n%-18s %5s %-12s %10s %8s %10s %15s %14s %9s %8s %10s %8s\n", title, "mode", "parts", "sync",
              "events", "wall_s", "Mevents/s", "Mevents/s/core", "completion_ns", "sync_wait", "rounds", "crossing",
              "balance");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (std::strcmp(argv[i], "--quick") == 0) o.bytes = 8 * 1024;
    else if (std::strcmp(argv[i], "--bytes") == 0) o.bytes = std::strtoull(value("--bytes"), nullptr, 10);
    else if (std::strcmp(argv[i], "--chunk") == 0) o.chunk = std::strtoull(value("--chunk"), nullptr, 10);
    else if (std::strcmp(argv[i], "--stagger") == 0) o.staggerPs = std::strtoll(value("--stagger"), nullptr, 10);
    else if (std::strcmp(argv[i], "--repeat") == 0) o.repeat = std::max(1, std::atoi(value("--repeat")));
    else if (std::strcmp(argv[i], "--only") == 0) o.only = value("--only");
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--bytes N] [--chunk N] [--stagger PS] [--repeat K] [--only 1|2w|2n]\n", argv[0]);
      return 2;
    }
  }
  if (!o.only.empty() && o.only != "1" && o.only != "2w" && o.only != "2n") {
    std::fprintf(stderr, "--only takes 1, 2w or 2n\n");
    return 2;
  }
  if (o.bytes == 0 || o.chunk == 0) {
    std::fprintf(stderr, "--bytes and --chunk must be positive\n");
    return 2;
  }

  std::printf("All-to-all, %ux%u mesh, XY routing, 1.7 TB/s links, 20 ns link latency (assumed), %llu B per flow, "
              "%u flows, stagger %lld ps\n",
              kSide, kSide, static_cast<unsigned long long>(o.bytes), kSide * kSide * (kSide * kSide - 1),
              static_cast<long long>(o.staggerPs));

  bool allAgree = true;
  double bestPerCore1 = 0, bestPerCore2 = 0;
  for (ForwardingMode mode : {ForwardingMode::CutThrough, ForwardingMode::StoreAndForward}) {
    if (!o.only.empty() && mode != ForwardingMode::CutThrough) continue;
    const Network net = build(o, mode);
    const std::string modeName = mode == ForwardingMode::CutThrough
                                     ? "cut_through/" + std::to_string(o.chunk) + "B"
                                     : std::string("store_and_fwd");
    header(("Forwarding: " + modeName).c_str());
    struct Config {
      uint32_t parts;
      SyncKind sync;
    };
    const Config configs[] = {{1, SyncKind::Window}, {2, SyncKind::Window}, {2, SyncKind::NullMessage}};
    auto selected = [&](const Config& cfg) {
      if (o.only.empty()) return true;
      if (o.only == "1") return cfg.parts == 1;
      return cfg.parts == 2 && (o.only == "2w") == (cfg.sync == SyncKind::Window);
    };
    for (const Config& cfg : configs) {
      if (!selected(cfg)) continue;
      for (int k = 0; k < o.repeat; ++k) {
        const RunReport r = run(net, cfg.parts, cfg.sync, false);
        const double eps = static_cast<double>(r.events()) / r.wallSeconds;
        const double perCore = eps / cfg.parts;
        if (mode == ForwardingMode::CutThrough) (cfg.parts == 1 ? bestPerCore1 : bestPerCore2) =
            std::max(cfg.parts == 1 ? bestPerCore1 : bestPerCore2, perCore);
        // rounds: windows (or null-message iterations) of the busiest partition; crossing: events
        // sent to the other partition; balance: events of the busiest partition / mean.
        uint64_t rounds = 0, crossing = 0, busiest = 0;
        for (const auto& p : r.partitions) {
          rounds = std::max(rounds, p.sync.rounds);
          crossing += p.sync.eventsSent;
          busiest = std::max(busiest, p.events);
        }
        const double balance = static_cast<double>(busiest) * cfg.parts / static_cast<double>(r.events());
        std::printf("%-18s %5u %-12s %10llu %8.3f %10.2f %15.2f %14.1f %9.3f %8llu %10llu %8.3f\n", modeName.c_str(),
                    cfg.parts, cfg.parts == 1 ? "-" : toString(cfg.sync), static_cast<unsigned long long>(r.events()),
                    r.wallSeconds, eps / 1e6, perCore / 1e6,
                    static_cast<double>(r.results.simulatedTime().ps()) / 1e3, r.syncWaitFraction(),
                    static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(crossing), balance);
        std::fflush(stdout);
      }
    }
    if (!o.only.empty()) continue;
    // Digest on: 1 and 2 partitions (both strategies) must give the same results.
    std::string reference;
    for (const Config& cfg : configs) {
      const RunReport r = run(net, cfg.parts, cfg.sync, true);
      const std::string hex = r.results.digestHex();
      if (reference.empty()) reference = hex;
      const bool same = hex == reference;
      allAgree = allAgree && same;
      if (cfg.parts == 1) {
        // Contention: the routers' queue waits (histogram queue_wait_ps, bucket 1 is [0, 1) ps).
        uint64_t chunks = 0, waited = 0;
        int64_t waitSum = 0, waitMax = 0;
        for (const auto& c : r.results.components())
          if (auto it = c.histograms.find("queue_wait_ps"); it != c.histograms.end()) {
            chunks += it->second.count;
            waited += it->second.count - it->second.counts[1];
            waitSum += it->second.sum;
            waitMax = std::max(waitMax, it->second.max);
          }
        std::printf("  router hops %llu, %.1f%% queued behind another chunk, mean wait %.1f ps, max %.1f ns\n",
                    static_cast<unsigned long long>(chunks), chunks ? 100.0 * waited / chunks : 0.0,
                    chunks ? static_cast<double>(waitSum) / chunks : 0.0, waitMax / 1e3);
      }
      std::printf("  digest %u partition(s) %-12s %s  %s  (bytes received %llu, messages %llu)\n", cfg.parts,
                  cfg.parts == 1 ? "-" : toString(cfg.sync), hex.c_str(), same ? "same" : "DIFFERENT",
                  static_cast<unsigned long long>(counterTotal(r.results, "bytes_received")),
                  static_cast<unsigned long long>(counterTotal(r.results, "messages_received")));
    }
  }
  std::printf("\nCut-through, best of the runs: %.2f M events/s per core on 1 partition, %.2f on 2 "
              "(target 3.0); digests %s\n",
              bestPerCore1 / 1e6, bestPerCore2 / 1e6,
              !o.only.empty() ? "not checked (--only)" : allAgree ? "equal across partitions" : "DIFFER");
  return allAgree ? 0 : 1;
}
