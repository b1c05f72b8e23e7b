// Round trips of every message kind through the codec, exact to the bit.
#include "protocol/codec.h"

#include <gtest/gtest.h>
#include <capnp/any.h>
#include <capnp/orphan.h>
#include <capnp/schema.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sim/results.h"
#include "tests/protocol/sample_messages.h"

namespace wafersim::proto {
namespace {

using testing::expectEqual;
using testing::sameEvents;
using testing::sampleAssign;
using testing::sampleBatch;
using testing::sampleFailure;
using testing::sampleHello;
using testing::sampleResults;
using testing::sampleWindowReport;

// Encodes with `sender`, decodes the frame and reads it back as T.
template <typename T>
T roundTrip(const T& value, uint32_t sender = 1) {
  Encoder encoder;
  RejectCounter rejects;
  auto decoded = tryDecode(encoder.encode(sender, value), rejects);
  EXPECT_TRUE(decoded.has_value()) << decoded.error().describe();
  if (!decoded) return T{};
  EXPECT_EQ(decoded->kind(), MessageKind<T>::value);
  EXPECT_EQ(decoded->sender(), sender);
  EXPECT_EQ(decoded->envelope().getProtocolVersion(), kProtocolVersion);
  auto read = tryRead<T>(*decoded, rejects);
  EXPECT_TRUE(read.has_value()) << read.error().describe();
  EXPECT_EQ(rejects.total(), 0u) << rejects.summary();
  return read ? *read : T{};
}

TEST(ProtocolCodec, HelloRoundTrips) {
  EXPECT_EQ(roundTrip(sampleHello(), 7), sampleHello());
  EXPECT_EQ(roundTrip(HelloMessage{}), HelloMessage{});
}

// Every message may name its run (contract 9); the encoder's run id is the default, encodeFor
// names another for one message.
TEST(ProtocolCodec, RunIdsTravelOnTheEnvelope) {
  Encoder encoder;
  RejectCounter rejects;
  EXPECT_EQ(tryDecode(encoder.encode(1, StartMessage{}), rejects)->runId(), "");
  encoder.setRunId("r-0123456789ab");
  EXPECT_EQ(tryDecode(encoder.encode(1, StartMessage{}), rejects)->runId(), "r-0123456789ab");
  EXPECT_EQ(tryDecode(encoder.encodeFor(1, "other", ReleaseMessage{}), rejects)->runId(), "other");
  EXPECT_EQ(encoder.runId(), "r-0123456789ab");
  auto release = tryDecode(encoder.encode(1, ReleaseMessage{}), rejects);
  EXPECT_EQ(release->kind(), Envelope::RELEASE);
  EXPECT_TRUE(tryRead<ReleaseMessage>(*release, rejects).has_value());
  // A run id longer than any this build makes names no run.
  encoder.setRunId(std::string(kMaxRunIdBytes + 1, 'x'));
  EXPECT_EQ(tryDecode(encoder.encode(1, StartMessage{}), rejects)->runId(), "");
  EXPECT_EQ(rejects.total(), 0u);
}

TEST(ProtocolCodec, HeartbeatsCarryProgress) {
  HeartbeatMessage beat{3, 1234, 5'000'000, 7'000'000'000};
  const HeartbeatMessage back = roundTrip(beat);
  EXPECT_EQ(back, beat);
}

TEST(ProtocolCodec, HeartbeatsCarryModelSamples) {
  HeartbeatMessage beat{4, 99, 1000, 2000};
  wafersim::PartitionSample s;
  s.partition = 1;
  s.atPs = 1'000'000'000;
  s.wallNs = 12345;
  s.final = true;
  s.energyPj = {{"compute", 1.5e12}, {"link", 3.0}};
  s.staticMicrowatts = 1e8;
  s.requestsFinished = 16;
  s.outputTokens = 128;
  s.hasHost = true;
  s.kvTokens = 300;
  s.kvCapacity = 1e6;
  s.dieBusyPs = {{{3, "xpu"}, 5e8}, {{4, "pim"}, 1e8}};
  s.linkBytes = {{{7, 2}, 4096}};
  s.histograms["ttft_ps"] = {{10, 20}, {1, 2, 3}, 6, 90};
  beat.samples = {s, s};
  beat.samples[1].partition = 0;
  EXPECT_EQ(roundTrip(beat), beat);
}

TEST(ProtocolCodec, AHeartbeatWithAMalformedSampleIsRejected) {
  HeartbeatMessage beat{4, 99, 1000, 2000};
  wafersim::PartitionSample s;
  s.histograms["ttft_ps"] = {{10, 20}, {1, 2}, 3, 0};  // counts must be bounds + 1
  beat.samples = {s};
  Encoder encoder(1);
  RejectCounter rejects;
  auto decoded = tryDecode(encoder.encode(1, beat), rejects);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_FALSE(tryRead<HeartbeatMessage>(*decoded, rejects).has_value());
  EXPECT_EQ(rejects.total(), 1u);
}

TEST(ProtocolCodec, AssignRoundTrips) {
  AssignMessage in = sampleAssign();
  AssignMessage out = roundTrip(in, kCoordinatorSender);
  EXPECT_EQ(out.scenario, in.scenario);
  EXPECT_EQ(out.overrides, in.overrides);
  EXPECT_EQ(out.partitionCount, in.partitionCount);
  EXPECT_EQ(out.partition, in.partition);
  EXPECT_EQ(out.partitionMap, in.partitionMap);
  EXPECT_EQ(out.options.sync, in.options.sync);
  EXPECT_EQ(out.options.lookahead, in.options.lookahead);
  EXPECT_EQ(out.options.end, in.options.end);
  EXPECT_EQ(out.options.seed, in.options.seed);
  EXPECT_EQ(out.options.checker, in.options.checker);
  EXPECT_EQ(out.options.digest, in.options.digest);
  EXPECT_EQ(out.options.checkpoint.dir, in.options.checkpoint.dir);
  EXPECT_EQ(out.options.checkpoint.every, in.options.checkpoint.every);
  EXPECT_EQ(out.options.checkpoint.fingerprint, in.options.checkpoint.fingerprint);
  EXPECT_EQ(out.options.checkpoint.resumeFrom, in.options.checkpoint.resumeFrom);
  EXPECT_EQ(out.options.checkpoint.everyWallSeconds, 60.0);
  EXPECT_FALSE(out.checkpointOnDemand);
  std::atomic<bool> asked{false};
  in.options.checkpoint.requested = &asked;  // the coordinator's flag travels as checkpointOnDemand
  EXPECT_TRUE(roundTrip(in, kCoordinatorSender).checkpointOnDemand);
  in.options.checkpoint.requested = nullptr;
  EXPECT_EQ(out.dataEndpoints, in.dataEndpoints);
  EXPECT_EQ(out.heartbeatIntervalMs, in.heartbeatIntervalMs);
  EXPECT_EQ(out.heartbeatTimeoutMs, in.heartbeatTimeoutMs);
  EXPECT_EQ(out.hosted, std::vector<PartitionId>{2});  // no list: the partition alone

  // A hybrid node: partitions 0 and 2 share its data endpoint.
  in.dataEndpoints = {"tcp://a:1", "tcp://b:2", "tcp://a:1"};
  in.hosted = {0, 2};
  EXPECT_EQ(roundTrip(in, kCoordinatorSender).hosted, (std::vector<PartitionId>{0, 2}));
}

TEST(ProtocolCodec, RunOptionsDefaultsRoundTrip) {
  // The kernel's defaults: window, model, end = never, seed 1, no checker, digest on.
  AssignMessage in = sampleAssign();
  in.options = wafersim::RunOptions{};
  AssignMessage out = roundTrip(in, kCoordinatorSender);
  EXPECT_EQ(out.options.sync, wafersim::SyncKind::Window);
  EXPECT_EQ(out.options.lookahead, wafersim::LookaheadMode::Model);
  EXPECT_TRUE(out.options.end.isNever());
  EXPECT_EQ(out.options.seed, 1u);
  EXPECT_FALSE(out.options.checker);
  EXPECT_TRUE(out.options.digest);
  EXPECT_FALSE(out.options.checkpoint.enabled());
  EXPECT_TRUE(out.options.checkpoint.resumeFrom.empty());
}

TEST(ProtocolCodec, SchemaDefaultsMatchTheKernel) {
  // A RunOptions struct nobody wrote (all-zero wire bytes) reads as the kernel's defaults.
  capnp::MallocMessageBuilder message;
  auto wire = message.initRoot<proto::RunOptions>();
  wafersim::RunOptions out;
  out.seed = 99;
  out.digest = false;
  fromWire(wire.asReader(), out);
  wafersim::RunOptions defaults;
  EXPECT_EQ(out.sync, defaults.sync);
  EXPECT_EQ(out.lookahead, defaults.lookahead);
  EXPECT_EQ(out.end, defaults.end);
  EXPECT_EQ(out.seed, defaults.seed);
  EXPECT_EQ(out.checker, defaults.checker);
  EXPECT_EQ(out.digest, defaults.digest);
}

TEST(ProtocolCodec, ControlMessagesRoundTrip) {
  EXPECT_EQ(roundTrip(ReadyMessage{2, 1234}), (ReadyMessage{2, 1234}));
  EXPECT_EQ(roundTrip(StartMessage{}, kCoordinatorSender), StartMessage{});
  EXPECT_EQ(roundTrip(HeartbeatMessage{UINT64_MAX, INT64_MIN}), (HeartbeatMessage{UINT64_MAX, INT64_MIN}));
  EXPECT_EQ(roundTrip(HeartbeatMessage{3, 1'700'000'000'123'456'789}, kCoordinatorSender),
            (HeartbeatMessage{3, 1'700'000'000'123'456'789}));
  EXPECT_EQ(roundTrip(QuiescenceMessage{true, 100, 99, 7}), (QuiescenceMessage{true, 100, 99, 7}));
  EXPECT_EQ(roundTrip(QuiescenceMessage{false, 0, 0, 0}), (QuiescenceMessage{false, 0, 0, 0}));
  EXPECT_EQ(roundTrip(TerminateMessage{7}, kCoordinatorSender), TerminateMessage{7});
  EXPECT_EQ(roundTrip(AbortMessage{"node 2: disconnected"}, kCoordinatorSender), AbortMessage{"node 2: disconnected"});
  EXPECT_EQ(roundTrip(ShutdownMessage{}, kCoordinatorSender), ShutdownMessage{});
  EXPECT_EQ(roundTrip(CheckpointNowMessage{}, kCoordinatorSender), CheckpointNowMessage{});
}

TEST(ProtocolCodec, FailureRoundTripsEveryErrorKind) {
  for (wafersim::ErrorKind kind : {wafersim::ErrorKind::InvalidConfig, wafersim::ErrorKind::Overloaded, wafersim::ErrorKind::Disconnected,
                         wafersim::ErrorKind::Unimplemented, wafersim::ErrorKind::Internal}) {
    FailureMessage in{kind, std::string("failed: ") + toString(kind)};
    EXPECT_EQ(roundTrip(in), in);
    EXPECT_EQ(fromWire(toWire(kind)), kind);
  }
}

TEST(ProtocolCodec, EnumConversionsAreExact) {
  for (wafersim::SyncKind k : {wafersim::SyncKind::Window, wafersim::SyncKind::NullMessage}) EXPECT_EQ(fromWire(toWire(k)), k);
  for (wafersim::LookaheadMode m : {wafersim::LookaheadMode::Links, wafersim::LookaheadMode::Model}) EXPECT_EQ(fromWire(toWire(m)), m);
  // An error kind from a newer peer is still a failure: it reads as Internal.
  EXPECT_EQ(fromWire(static_cast<proto::ErrorKind>(42)), wafersim::ErrorKind::Internal);
  EXPECT_THROW(fromWire(static_cast<proto::SyncKind>(42)), Error);
  EXPECT_THROW(fromWire(static_cast<proto::LookaheadMode>(42)), Error);
}

TEST(ProtocolCodec, EventBatchRoundTripsBitForBit) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{4000}}) {
    wafersim::EventBatch in = sampleBatch(n, n + 11);
    wafersim::EventBatch out = roundTrip(in);
    EXPECT_EQ(out.from, in.from);
    EXPECT_EQ(out.to, in.to);
    EXPECT_EQ(out.round, in.round);
    EXPECT_EQ(out.bound, in.bound);
    EXPECT_TRUE(sameEvents(out.events, in.events)) << n << " events";
  }
}

TEST(ProtocolCodec, EventPayloadKeepsItsByteOrder) {
  // p0 holds payload bytes 0..7 as a little-endian word, so a reader on any host sees the same bytes.
  struct Sample {
    uint8_t bytes[32];
  } sample;
  for (int i = 0; i < 32; ++i) sample.bytes[i] = static_cast<uint8_t>(i + 1);
  wafersim::Event e;
  e.payload = Payload::of(sample);
  capnp::MallocMessageBuilder message;
  auto wire = message.initRoot<WireEvent>();
  toWire(e, wire);
  EXPECT_EQ(wire.getP0(), 0x0807060504030201ull);
  EXPECT_EQ(wire.getP3(), 0x201F1E1D1C1B1A19ull);
}

TEST(ProtocolCodec, BulkEventCopyWritesWhatTheFieldSettersWrite) {
  // The batch conversion copies events as one block when the layouts agree; build the same list
  // field by field and compare the frames byte for byte.
  wafersim::EventBatch batch = sampleBatch(257, 5);
  batch.events[7].reserved = 0xABCD;  // not carried: must not leak into the padding
  Encoder encoder;
  zmq::message_t bulk = encoder.encode(1, batch);

  auto root = encoder.begin(1);
  auto wire = root.initEventBatch();
  wire.setFrom(batch.from);
  wire.setTo(batch.to);
  wire.setRound(batch.round);
  wire.setBound(batch.bound.ps());
  auto events = wire.initEvents(static_cast<unsigned>(batch.events.size()));
  for (unsigned i = 0; i < batch.events.size(); ++i) toWire(batch.events[i], events[i]);
  zmq::message_t fieldwise = encoder.finish();
  ASSERT_EQ(bulk.size(), fieldwise.size());
  EXPECT_EQ(std::memcmp(bulk.data(), fieldwise.data(), bulk.size()), 0);

  RejectCounter rejects;
  auto decoded = tryDecode(std::move(bulk), rejects);
  ASSERT_TRUE(decoded);
  auto list = decoded->envelope().getEventBatch().getEvents();
  batch.events[7].reserved = 0;
  for (unsigned i = 0; i < list.size(); ++i) {
    wafersim::Event e;
    fromWire(list[i], e);
    EXPECT_EQ(std::memcmp(&e, &batch.events[i], sizeof e), 0) << i;
  }
  auto out = tryRead<wafersim::EventBatch>(*decoded, rejects);
  ASSERT_TRUE(out);
  EXPECT_TRUE(sameEvents(out->events, batch.events));
}

TEST(ProtocolCodec, WiderEventsFromAnotherSchemaVersionAreReadFieldByField) {
  // A sender whose WireEvent has grown (here: 9 data words and a pointer, borrowed from Results)
  // still reads correctly: the known fields come from their slots, the rest is ignored.
  Encoder encoder;
  auto root = encoder.begin(1);
  auto batch = root.initEventBatch();
  batch.setFrom(2);
  auto orphan = capnp::Orphanage::getForMessageContaining(batch).newOrphan<capnp::List<proto::Results>>(3);
  auto wide = orphan.get();
  for (unsigned i = 0; i < 3; ++i) {
    wide[i].setPartition(1000 + i);                                  // word 0 low half: time
    wide[i].setEvents(2000 + i);                                     // word 1: order
    wide[i].setSyncRounds(3000 + i);                                 // word 2: seq
    wide[i].setSyncBatchesSent((uint64_t{0xBEEF} << 32) | (4000 + i));  // word 3: target | port
    wide[i].setSyncNullMessages(0x0807060504030201ull);              // word 4: p0
    wide[i].setLastEventTimePs(77);                                  // word 8: beyond WireEvent
    wide[i].initComponents(1);
  }
  capnp::toAny(batch).getPointerSection()[0].adopt(kj::mv(orphan));
  RejectCounter rejects;
  auto decoded = tryDecode(encoder.finish(), rejects);
  ASSERT_TRUE(decoded) << decoded.error().describe();
  auto out = tryRead<wafersim::EventBatch>(*decoded, rejects);
  ASSERT_TRUE(out) << out.error().describe();
  ASSERT_EQ(out->events.size(), 3u);
  for (unsigned i = 0; i < 3; ++i) {
    const wafersim::Event& e = out->events[i];
    EXPECT_EQ(e.time.ps(), 1000 + i);
    EXPECT_EQ(e.order, 2000u + i);
    EXPECT_EQ(e.seq, 3000u + i);
    EXPECT_EQ(e.target, 4000u + i);
    EXPECT_EQ(e.port, 0xBEEF);
    EXPECT_EQ(e.payload.data()[0], 1);
    EXPECT_EQ(e.payload.data()[7], 8);
    EXPECT_EQ(e.payload.data()[8], 0);
  }
}

TEST(ProtocolCodec, EventBatchReadReusesCapacity) {
  Encoder encoder;
  RejectCounter rejects;
  wafersim::EventBatch out;
  out.events.reserve(4000);
  const wafersim::Event* storage = out.events.data();
  for (int i = 0; i < 3; ++i) {
    wafersim::EventBatch in = sampleBatch(4000 - i * 1000, i);
    auto decoded = tryDecode(encoder.encode(1, in), rejects);
    ASSERT_TRUE(decoded);
    ASSERT_TRUE(tryRead(*decoded, out, rejects));
    EXPECT_TRUE(sameEvents(out.events, in.events));
    EXPECT_EQ(out.events.data(), storage);  // no reallocation
  }
}

TEST(ProtocolCodec, WindowReportRoundTrips) {
  WindowReportMessage in = sampleWindowReport();
  WindowReportMessage out = roundTrip(in);
  EXPECT_EQ(out.from, in.from);
  EXPECT_EQ(out.round, in.round);
  EXPECT_EQ(out.report.nextEvent, in.report.nextEvent);
  EXPECT_EQ(out.report.counter, in.report.counter);
  ASSERT_EQ(out.report.peers.size(), in.report.peers.size());
  for (size_t i = 0; i < in.report.peers.size(); ++i) {
    EXPECT_EQ(out.report.peers[i].peer, in.report.peers[i].peer);
    EXPECT_EQ(out.report.peers[i].minSent, in.report.peers[i].minSent);
    EXPECT_EQ(out.report.peers[i].promise, in.report.peers[i].promise);
    EXPECT_EQ(out.report.peers[i].reaction, in.report.peers[i].reaction);
    EXPECT_EQ(out.report.peers[i].quiet, in.report.peers[i].quiet);
  }
}

TEST(ProtocolCodec, ResultsRoundTripWithTheSameDigest) {
  ResultsMessage in = sampleResults();
  ResultsMessage out = roundTrip(in);
  EXPECT_EQ(out.report.id, in.report.id);
  EXPECT_EQ(out.report.events, in.report.events);
  EXPECT_EQ(out.report.sync.rounds, in.report.sync.rounds);
  EXPECT_EQ(out.report.sync.batchesSent, in.report.sync.batchesSent);
  EXPECT_EQ(out.report.sync.nullMessages, in.report.sync.nullMessages);
  EXPECT_EQ(out.report.sync.eventsSent, in.report.sync.eventsSent);
  // Doubles travel as their IEEE bits.
  EXPECT_EQ(std::memcmp(&out.report.sync.waitSeconds, &in.report.sync.waitSeconds, sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(&out.report.wallSeconds, &in.report.wallSeconds, sizeof(double)), 0);
  EXPECT_EQ(out.report.peakRssKiB, in.report.peakRssKiB);
  EXPECT_EQ(out.report.checkpoint.written, 3u);
  EXPECT_EQ(out.report.checkpoint.bytes, 4096u);
  EXPECT_EQ(out.report.checkpoint.seconds, 0.25);
  EXPECT_EQ(out.lastEventTime, in.lastEventTime);
  ASSERT_EQ(out.components.size(), in.components.size());
  for (size_t i = 0; i < in.components.size(); ++i) expectEqual(out.components[i], in.components[i]);

  // The coordinator rebuilds the results document from the records: the digest is unchanged.
  wafersim::Results sent, received;
  for (const auto& c : in.components) sent.add(c);
  for (auto& c : out.components) received.add(std::move(c));
  sent.noteSimulatedTime(in.lastEventTime);
  received.noteSimulatedTime(out.lastEventTime);
  EXPECT_EQ(received.digest(), sent.digest());
  EXPECT_EQ(received.toJson(), sent.toJson());
}

TEST(ProtocolCodec, WordArraysDecodeInPlace) {
  Encoder encoder;
  RejectCounter rejects;
  wafersim::EventBatch in = sampleBatch(100);
  kj::Array<capnp::word> words = encoder.encodeWords(5, in);
  size_t bytes = words.size() * sizeof(capnp::word);
  auto decoded = tryDecode(std::move(words), rejects);
  ASSERT_TRUE(decoded) << decoded.error().describe();
  EXPECT_FALSE(decoded->copied());
  EXPECT_EQ(decoded->frameBytes(), bytes);
  EXPECT_EQ(decoded->sender(), 5u);
  auto out = tryRead<wafersim::EventBatch>(*decoded, rejects);
  ASSERT_TRUE(out);
  EXPECT_TRUE(sameEvents(out->events, in.events));
}

TEST(ProtocolCodec, FrameAndWordEncodingsAreTheSameBytes) {
  Encoder encoder;
  ResultsMessage results = sampleResults();
  zmq::message_t frame = encoder.encode(1, results);
  kj::Array<capnp::word> words = encoder.encodeWords(1, results);
  ASSERT_EQ(frame.size(), words.asBytes().size());
  EXPECT_EQ(std::memcmp(frame.data(), words.asBytes().begin(), frame.size()), 0);
}

TEST(ProtocolCodec, AlignedFramesAreReadInPlace) {
  Encoder encoder;
  RejectCounter rejects;
  zmq::message_t frame = encoder.encode(1, sampleBatch(50));
  bool aligned = reinterpret_cast<uintptr_t>(frame.data()) % 8 == 0;
  auto decoded = tryDecode(std::move(frame), rejects);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->copied(), !aligned);
}

TEST(ProtocolCodec, MisalignedValidFramesAreAcceptedAfterACopy) {
  Encoder encoder;
  RejectCounter rejects;
  wafersim::EventBatch in = sampleBatch(64);
  std::vector<std::byte> bytes = testing::toBytes(encoder.encode(2, in));
  for (size_t shift = 1; shift < 8; ++shift) {
    // A zero-copy ZeroMQ frame over a buffer at an odd address, like a frame inside a receive buffer.
    std::vector<std::byte> buffer(bytes.size() + 8);
    std::memcpy(buffer.data() + shift, bytes.data(), bytes.size());
    zmq::message_t frame(buffer.data() + shift, bytes.size(), nullptr, nullptr);
    auto decoded = tryDecode(std::move(frame), rejects);
    ASSERT_TRUE(decoded) << "shift " << shift << ": " << decoded.error().describe();
    EXPECT_TRUE(decoded->copied());
    buffer.assign(buffer.size(), std::byte{0});  // the decoded message owns its copy
    auto out = tryRead<wafersim::EventBatch>(*decoded, rejects);
    ASSERT_TRUE(out) << out.error().describe();
    EXPECT_TRUE(sameEvents(out->events, in.events));

    // The same through the span overload.
    std::memcpy(buffer.data() + shift, bytes.data(), bytes.size());
    auto viaSpan = tryDecode(std::span<const std::byte>(buffer.data() + shift, bytes.size()), rejects);
    ASSERT_TRUE(viaSpan);
    EXPECT_TRUE(viaSpan->copied());
  }
  EXPECT_EQ(rejects.total(), 0u) << rejects.summary();
}

TEST(ProtocolCodec, EncoderIsReusableAcrossKindsAndSizes) {
  // Messages larger than the scratch segment spill into more segments and still round-trip.
  Encoder encoder(256);
  RejectCounter rejects;
  for (int i = 0; i < 3; ++i) {
    wafersim::EventBatch big = sampleBatch(1000, i);
    auto decoded = tryDecode(encoder.encode(1, big), rejects);
    ASSERT_TRUE(decoded) << decoded.error().describe();
    auto out = tryRead<wafersim::EventBatch>(*decoded, rejects);
    ASSERT_TRUE(out);
    EXPECT_TRUE(sameEvents(out->events, big.events));

    auto hello = tryDecode(encoder.encode(2, sampleHello()), rejects);
    ASSERT_TRUE(hello);
    EXPECT_EQ(*tryRead<HelloMessage>(*hello, rejects), sampleHello());
  }
  EXPECT_EQ(rejects.total(), 0u);
}

TEST(ProtocolCodec, OneOffEncodeMatchesTheEncoder) {
  Encoder encoder;
  zmq::message_t a = encode(kCoordinatorSender, sampleAssign());
  zmq::message_t b = encoder.encode(kCoordinatorSender, sampleAssign());
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0);
}

TEST(ProtocolCodec, DecodedMessagesMove) {
  RejectCounter rejects;
  auto decoded = tryDecode(encode(1, HeartbeatMessage{1, 2}), rejects);
  ASSERT_TRUE(decoded);
  DecodedMessage moved = std::move(*decoded);
  std::vector<DecodedMessage> queue;
  queue.push_back(std::move(moved));
  queue.push_back(std::move(*tryDecode(encode(2, HeartbeatMessage{3, 4}), rejects)));
  EXPECT_EQ(*tryRead<HeartbeatMessage>(queue[0], rejects), (HeartbeatMessage{1, 2}));
  EXPECT_EQ(*tryRead<HeartbeatMessage>(queue[1], rejects), (HeartbeatMessage{3, 4}));
  EXPECT_EQ(queue[1].sender(), 2u);
}

TEST(ProtocolCodec, KindNamesFollowTheSchema) {
  EXPECT_STREQ(kindName(Envelope::HELLO), "hello");
  EXPECT_STREQ(kindName(Envelope::EVENT_BATCH), "eventBatch");
  EXPECT_STREQ(kindName(Envelope::SHUTDOWN), "shutdown");
  EXPECT_STREQ(kindName(static_cast<Envelope::Which>(200)), "unknown");
  EXPECT_STREQ(kindName(Envelope::RELEASE), "release");
  EXPECT_STREQ(kindName(Envelope::CHECKPOINT_NOW), "checkpointNow");
  EXPECT_EQ(capnp::Schema::from<Envelope>().getUnionFields().size(), 17u);
  for (auto field : capnp::Schema::from<Envelope>().getUnionFields()) {
    auto which = static_cast<Envelope::Which>(field.getProto().getDiscriminantValue());
    EXPECT_EQ(std::string(kindName(which)), std::string(field.getProto().getName().cStr()));
  }
}

}  // namespace
}  // namespace wafersim::proto
