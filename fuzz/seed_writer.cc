// fuzz_seed_writer CORPUS_DIR: writes the binary seeds of the Cap'n Proto harnesses into
// CORPUS_DIR/{control_message,data_message,placement_message}/ (tests/fuzz/corpus/ in the tree):
// one small valid frame per message kind, and one placement request per policy so that the fuzzer
// starts inside every policy; and CORPUS_DIR/checkpoint/: the parts of a real cut of a small relay
// grid on two partitions (statistics with counters and histograms, pending events). Run it again
// after a schema or checkpoint-format change; the text seeds (scenarios, HTTP requests, bodies,
// traces) are written by hand.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "models/synthetic/synthetic.h"
#include "placement/policy.h"
#include "protocol/codec.h"
#include "protocol/placement_convert.h"
#include "sim/checkpoint.h"
#include "sim/simulation.h"

namespace fs = std::filesystem;
using wafersim::ComponentId;
using wafersim::Duration;
using wafersim::Event;
using wafersim::SimTime;
using namespace wafersim::proto;
namespace placement = wafersim::placement;

namespace {

fs::path root;

template <typename T>
void write(const std::string& target, const std::string& name, uint32_t sender, const T& value,
           const std::string& runId = "r-1") {
  Encoder encoder(0);
  encoder.setRunId(runId);
  const zmq::message_t frame = encoder.encode(sender, value);
  fs::create_directories(root / target);
  std::ofstream out(root / target / (name + ".bin"), std::ios::binary);
  out.write(static_cast<const char*>(frame.data()), static_cast<std::streamsize>(frame.size()));
}

wafersim::EventBatch batch() {
  wafersim::EventBatch b;
  b.from = 1;
  b.round = 7;
  b.bound = SimTime::fromPs(5000);
  for (uint64_t i = 0; i < 3; ++i) {
    Event e;
    e.time = SimTime::fromPs(1000 * (i + 1));
    e.order = i;
    e.seq = i;
    e.target = static_cast<ComponentId>(i + 2);
    e.port = 0;
    e.payload.data()[0] = static_cast<unsigned char>(i);
    b.events.push_back(e);
  }
  return b;
}

ResultsMessage results() {
  ResultsMessage m;
  m.report.id = 1;
  m.report.events = 40;
  m.lastEventTime = SimTime::fromPs(999);
  wafersim::ComponentRecord c;
  c.id = 4;
  c.name = "chiplet[0]";
  c.type = "compute_chiplet";
  c.eventDigest = 0x1234;
  c.eventsCommitted = 40;
  c.counters = {{"flops", 1000}};
  c.histograms["latency_ps"] = {{0, 100}, {1, 2, 0}, 3, 150, 10, 90};
  c.tables["requests"] = {{"id", "arrival_ps"}, {0, 10, 1, 20}};
  m.components = {c};
  return m;
}

PlacementRequestMessage placementRequest(const std::string& policy) {
  PlacementRequestMessage r;
  r.runId = "r-1";
  r.epoch = 1;
  r.policy = policy;
  placement::Problem& p = r.problem;
  p.fabric = placement::Fabric::mesh(2, 2, 1e14, 1e12, 1e11, 1ull << 34);
  p.model = {2, 4, 2, 1024, 512, true, 3ull * 1024 * 512 * 2, 2};
  p.profile = placement::LoadProfile(2, 4, 4, true, true);
  const std::vector<uint64_t> request{7, 7, 8};
  const std::vector<uint32_t> position{0, 1, 0}, die{0, 1, 3}, choices{0, 1, 1, 2, 3, 0};
  for (uint32_t l = 0; l < 2; ++l) p.profile.record(l, request, position, die, choices, 2);
  p.current = placement::expertParallel(p);
  p.tokensPerStep = 3;
  p.attentionSeconds = 1e-4;
  return r;
}

// Runs a 3x3 relay grid on two partitions with a checkpoint every 2 ns and copies the parts of
// its last cut.
void writeCheckpointSeeds() {
  wafersim::ComponentRegistry registry;
  wafersim::synthetic::registerSyntheticComponents(registry);
  const wafersim::SystemGraph g = wafersim::synthetic::buildRelayGrid({3, 3, 2, Duration::fromPs(500)});
  const fs::path dir = fs::temp_directory_path() / "wafersim-checkpoint-seeds";
  fs::remove_all(dir);
  wafersim::RunOptions options;
  options.end = SimTime::fromPs(5'000);
  options.checkpoint.dir = dir.string();
  options.checkpoint.every = Duration::fromPs(2'000);
  wafersim::runInProcess(g, registry, wafersim::PartitionMap::linear(g.components().size(), 2), options);
  const wafersim::CheckpointImage image = wafersim::loadLatestCheckpoint(dir.string());
  fs::create_directories(root / "checkpoint");
  for (uint32_t k = 0; k < image.partitions; ++k)
    fs::copy_file(dir / wafersim::checkpointPartName(image.time, k), root / "checkpoint" / ("part-" + std::to_string(k)),
                  fs::copy_options::overwrite_existing);
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_writer CORPUS_DIR (tests/fuzz/corpus)\n");
    return 2;
  }
  root = argv[1];
  const std::string control = "control_message", data = "data_message", placement = "placement_message";

  HelloMessage hello{kProtocolVersion, 1, {"sync.window", "sync.null"}, "tcp://127.0.0.1:5600", 42, "host-a", "node-a",
                     4, uint64_t{8} << 30, true};
  write(control, "hello", 1, hello, "");
  AssignMessage assign;
  assign.scenario = "model: phold\nparams: {lps: 4, lookahead: 100 ps}\nsimulation:\n  partitions: 2\n  end: 1 us\n";
  assign.overrides = {"simulation.seed=3"};
  assign.partitionCount = 2;
  assign.partition = 1;
  assign.partitionMap = {0, 0, 1, 1};
  assign.options.sync = wafersim::SyncKind::NullMessage;
  assign.options.end = SimTime::fromPs(1'000'000);
  assign.dataEndpoints = {"tcp://127.0.0.1:5601", "tcp://127.0.0.1:5602"};
  assign.heartbeatIntervalMs = 250;
  assign.heartbeatTimeoutMs = 3000;
  write(control, "assign", kCoordinatorSender, assign);
  write(control, "ready", 1, ReadyMessage{1, 4});
  write(control, "start", kCoordinatorSender, StartMessage{});
  write(control, "heartbeat", 1, HeartbeatMessage{5, 1'700'000'000'000'000'000});
  write(control, "quiescence", 1, QuiescenceMessage{true, 10, 9, 4});
  write(control, "terminate", kCoordinatorSender, TerminateMessage{4});
  write(control, "results", 1, results());
  write(control, "failure", 1, FailureMessage{wafersim::ErrorKind::Disconnected, "peer 3 went away"});
  write(control, "abort", kCoordinatorSender, AbortMessage{"node 2 failed"});
  write(control, "shutdown", kCoordinatorSender, ShutdownMessage{});
  write(control, "release", kCoordinatorSender, ReleaseMessage{});
  write(control, "checkpoint-now", kCoordinatorSender, CheckpointNowMessage{});

  write(data, "event_batch", 1, batch());
  WindowReportMessage report;
  report.from = 1;
  report.round = 7;
  report.report.counter = 3;
  report.report.peers = {{0, SimTime::fromPs(100), SimTime::fromPs(200), Duration::fromPs(300)}};
  write(data, "window_report", 1, report);

  for (const placement::PolicyType& type : placement::policyTypes())
    write(placement, "request_" + type.name, 1, placementRequest(type.name));
  PlacementReplyMessage reply;
  reply.runId = "r-1";
  reply.epoch = 1;
  reply.outcome = DecisionOutcome::Applied;
  reply.decision.placement = placementRequest("ep").problem.current;
  reply.decision.reason = "seed";
  write(placement, "reply", kPlacementServiceSender, reply);
  writeCheckpointSeeds();
  std::printf("wrote the Cap'n Proto and checkpoint seeds under %s\n", root.c_str());
  return 0;
}
