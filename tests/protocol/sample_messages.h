// Sample values of every message kind and exact comparisons, shared by the protocol tests.
#pragma once

#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "protocol/codec.h"
#include "protocol/placement_convert.h"

namespace wafersim::proto::testing {

inline wafersim::Event randomEvent(std::mt19937_64& rng) {
  wafersim::Event e;
  e.time = SimTime::fromPs(static_cast<int64_t>(rng() >> 1));
  e.order = rng();
  e.seq = rng();
  e.target = static_cast<ComponentId>(rng());
  e.port = static_cast<PortId>(rng());
  for (size_t i = 0; i < Payload::kCapacity; ++i) e.payload.data()[i] = static_cast<unsigned char>(rng());
  return e;
}

inline wafersim::EventBatch sampleBatch(size_t events, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  wafersim::EventBatch batch;
  batch.from = 3;
  batch.to = 4;
  batch.round = 0x1234567890ull;
  batch.bound = SimTime::fromPs(987'654'321);
  batch.events.reserve(events);
  for (size_t i = 0; i < events; ++i) batch.events.push_back(randomEvent(rng));
  if (events > 0) batch.events[0].time = SimTime::never();
  if (events > 1) batch.events[1].port = kSelfPort;
  if (events > 2) batch.events[2].time = SimTime::zero();
  return batch;
}

inline HelloMessage sampleHello() {
  return HelloMessage{kProtocolVersion, 7,      {"sync.window", "sync.null"}, "tcp://127.0.0.1:41234", 4242, "host-a",
                      "host-a-4242",    16,     uint64_t{64} << 30,           true};
}

inline AssignMessage sampleAssign() {
  AssignMessage m;
  m.scenario = "system:\n  chiplets: 4\nworkload:\n  model: deepseek-v3\n";
  m.overrides = {"system.chiplets=8", "seed=9"};
  m.partitionCount = 3;
  m.partition = 2;
  m.partitionMap = {0, 1, 2, 2, 1, 0};
  m.options.sync = wafersim::SyncKind::NullMessage;
  m.options.lookahead = wafersim::LookaheadMode::Links;
  m.options.end = SimTime::fromPs(5'000'000);
  m.options.seed = 0xDEADBEEFCAFEull;
  m.options.checker = true;
  m.options.digest = false;
  m.options.checkpoint.dir = "/srv/wafersim/runs/r-1/checkpoints";
  m.options.checkpoint.every = Duration::fromPs(100'000'000);
  m.options.checkpoint.fingerprint = 0x0123456789ABCDEFull;
  m.options.checkpoint.resumeFrom = "/srv/wafersim/runs/r-0/checkpoints";
  m.options.checkpoint.everyWallSeconds = 60;
  m.dataEndpoints = {"tcp://a:1", "tcp://b:2", "tcp://c:3"};
  m.heartbeatIntervalMs = 250;
  m.heartbeatTimeoutMs = 3000;
  return m;
}

inline WindowReportMessage sampleWindowReport() {
  WindowReportMessage m;
  m.from = 1;
  m.round = 77;
  m.report.nextEvent = SimTime::never();
  m.report.counter = 12;
  m.report.peers = {{0, SimTime::fromPs(100), SimTime::fromPs(200), Duration::fromPs(300), SimTime::fromPs(400)},
                    {2, SimTime::never(), SimTime::zero(), Duration::max(), SimTime::never()}};
  return m;
}

inline ResultsMessage sampleResults() {
  ResultsMessage m;
  m.report.id = 2;
  m.report.events = 123456;
  m.report.sync = {10, 20, 5, 300, 0.125};
  m.report.wallSeconds = 1.0 / 3.0;
  m.report.peakRssKiB = 123'456;
  m.report.checkpoint = {3, 4096, 0.25};
  m.lastEventTime = SimTime::fromPs(999'999);
  wafersim::ComponentRecord a;
  a.id = 4;
  a.name = "chiplet[0,1]";
  a.type = "compute_chiplet";
  a.eventDigest = 0xFEEDFACE12345678ull;
  a.eventsCommitted = 1000;
  a.counters = {{"flops", 1ull << 50}, {"messages_sent", 17}};
  a.histograms["latency_ps"] = {{0, 100, 1000}, {1, 2, 3, 4}, 10, -5, -100, 4000};
  a.tables["requests"] = {{"id", "arrival_ps", "finish_ps"}, {0, 10, 900, 1, -20, 1000}};
  wafersim::ComponentRecord b;
  b.id = 9;
  b.name = "router[3]";
  b.type = "router";
  b.eventDigest = 1;
  b.eventsCommitted = 0;
  m.components = {a, b};
  return m;
}

inline FailureMessage sampleFailure() { return {wafersim::ErrorKind::Disconnected, "peer 3 went away"}; }

inline bool sameEvents(const std::vector<wafersim::Event>& a, const std::vector<wafersim::Event>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(wafersim::Event)) == 0);
}

inline void expectEqual(const wafersim::HistogramRecord& a, const wafersim::HistogramRecord& b) {
  EXPECT_EQ(a.bounds, b.bounds);
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.sum, b.sum);
  EXPECT_EQ(a.min, b.min);
  EXPECT_EQ(a.max, b.max);
}

inline void expectEqual(const wafersim::ComponentRecord& a, const wafersim::ComponentRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.eventDigest, b.eventDigest);
  EXPECT_EQ(a.eventsCommitted, b.eventsCommitted);
  EXPECT_EQ(a.counters, b.counters);
  ASSERT_EQ(a.histograms.size(), b.histograms.size());
  for (auto ia = a.histograms.begin(), ib = b.histograms.begin(); ia != a.histograms.end(); ++ia, ++ib) {
    EXPECT_EQ(ia->first, ib->first);
    expectEqual(ia->second, ib->second);
  }
  ASSERT_EQ(a.tables.size(), b.tables.size());
  for (auto ia = a.tables.begin(), ib = b.tables.begin(); ia != a.tables.end(); ++ia, ++ib) {
    EXPECT_EQ(ia->first, ib->first);
    EXPECT_EQ(ia->second.columns, ib->second.columns);
    EXPECT_EQ(ia->second.values, ib->second.values);
  }
}

inline std::vector<std::byte> toBytes(const zmq::message_t& frame) {
  auto p = static_cast<const std::byte*>(frame.data());
  return std::vector<std::byte>(p, p + frame.size());
}

inline std::span<const std::byte> asSpan(const std::vector<std::byte>& bytes) {
  return std::span<const std::byte>(bytes.data(), bytes.size());
}

// A small placement question: 2 x 2 mesh, 2 MoE layers of 4 experts, a few tokens recorded with
// both heatmaps on, the EP placement in force, one option.
inline PlacementRequestMessage samplePlacementRequest() {
  PlacementRequestMessage r;
  r.runId = "run-1";
  r.epoch = 3;
  r.policy = "ep";
  placement::Problem& p = r.problem;
  p.fabric = placement::Fabric::mesh(2, 2, 1e14, 1e12, 1e11, 1ull << 34);
  p.model = {2, 4, 2, 1024, 512, true, 3ull * 1024 * 512 * 2, 2};
  p.profile = placement::LoadProfile(2, 4, 4, true, true);
  const std::vector<uint64_t> request{7, 7, 8};
  const std::vector<uint32_t> position{0, 1, 0}, die{0, 1, 3}, choices{0, 1, 1, 2, 3, 0};
  for (uint32_t l = 0; l < 2; ++l) p.profile.record(l, request, position, die, choices, 2);
  p.current = placement::expertParallel(p);
  p.options.set("layer_shift", "1");
  p.tokensPerStep = 3;
  p.attentionSeconds = 1e-4;
  return r;
}

inline PlacementReplyMessage samplePlacementReply() {
  PlacementReplyMessage r;
  r.runId = "run-1";
  r.epoch = 3;
  r.outcome = DecisionOutcome::Applied;
  r.decision.placement = samplePlacementRequest().problem.current;
  r.decision.placement.putSplit(1, 2, {0, 1, 3});
  r.decision.reason = "sample";
  r.decision.predictedGain = 0.25;
  r.decisionMicros = 1200;
  return r;
}

// Every kind, as frames from the coordinator or node 1: the seeds of the fuzz tests.
inline std::vector<std::vector<std::byte>> sampleFrames() {
  Encoder enc;
  std::vector<std::vector<std::byte>> frames;
  frames.push_back(toBytes(enc.encode(1, sampleHello())));
  frames.push_back(toBytes(enc.encode(kCoordinatorSender, sampleAssign())));
  frames.push_back(toBytes(enc.encode(1, ReadyMessage{1, 40})));
  frames.push_back(toBytes(enc.encode(kCoordinatorSender, StartMessage{})));
  frames.push_back(toBytes(enc.encode(1, sampleBatch(20))));
  frames.push_back(toBytes(enc.encode(1, sampleWindowReport())));
  frames.push_back(toBytes(enc.encode(1, HeartbeatMessage{5, 1'700'000'000'000'000'000})));
  frames.push_back(toBytes(enc.encode(1, QuiescenceMessage{true, 10, 9, 4})));
  frames.push_back(toBytes(enc.encode(kCoordinatorSender, TerminateMessage{4})));
  frames.push_back(toBytes(enc.encode(1, sampleResults())));
  frames.push_back(toBytes(enc.encode(1, sampleFailure())));
  frames.push_back(toBytes(enc.encode(kCoordinatorSender, AbortMessage{"node 2 failed"})));
  frames.push_back(toBytes(enc.encode(kCoordinatorSender, ShutdownMessage{})));
  frames.push_back(toBytes(enc.encode(1, samplePlacementRequest())));
  frames.push_back(toBytes(enc.encode(kPlacementServiceSender, samplePlacementReply())));
  return frames;
}

// Reads the body of any decoded message with the type of its kind; what a real receive loop does.
inline tl::expected<void, Rejection> readAny(const DecodedMessage& m, RejectCounter& rejects) {
  switch (m.kind()) {
    case Envelope::HELLO: return tryRead<HelloMessage>(m, rejects).map([](auto&&) {});
    case Envelope::ASSIGN: return tryRead<AssignMessage>(m, rejects).map([](auto&&) {});
    case Envelope::READY: return tryRead<ReadyMessage>(m, rejects).map([](auto&&) {});
    case Envelope::START: return tryRead<StartMessage>(m, rejects).map([](auto&&) {});
    case Envelope::EVENT_BATCH: return tryRead<wafersim::EventBatch>(m, rejects).map([](auto&&) {});
    case Envelope::WINDOW_REPORT: return tryRead<WindowReportMessage>(m, rejects).map([](auto&&) {});
    case Envelope::HEARTBEAT: return tryRead<HeartbeatMessage>(m, rejects).map([](auto&&) {});
    case Envelope::QUIESCENCE: return tryRead<QuiescenceMessage>(m, rejects).map([](auto&&) {});
    case Envelope::TERMINATE: return tryRead<TerminateMessage>(m, rejects).map([](auto&&) {});
    case Envelope::RESULTS: return tryRead<ResultsMessage>(m, rejects).map([](auto&&) {});
    case Envelope::FAILURE: return tryRead<FailureMessage>(m, rejects).map([](auto&&) {});
    case Envelope::ABORT: return tryRead<AbortMessage>(m, rejects).map([](auto&&) {});
    case Envelope::SHUTDOWN: return tryRead<ShutdownMessage>(m, rejects).map([](auto&&) {});
    case Envelope::RELEASE: return tryRead<ReleaseMessage>(m, rejects).map([](auto&&) {});
    case Envelope::CHECKPOINT_NOW: return tryRead<CheckpointNowMessage>(m, rejects).map([](auto&&) {});
    case Envelope::PLACEMENT_REQUEST: return tryRead<PlacementRequestMessage>(m, rejects).map([](auto&&) {});
    case Envelope::PLACEMENT_REPLY: return tryRead<PlacementReplyMessage>(m, rejects).map([](auto&&) {});
  }
  ADD_FAILURE() << "tryDecode let an unknown kind through";
  return {};
}

}  // namespace wafersim::proto::testing
