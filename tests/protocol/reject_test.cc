// Every way a frame can be refused: each one is counted under its reason and nothing throws.
#include "protocol/codec.h"

#include <gtest/gtest.h>
#include <capnp/any.h>
#include <capnp/orphan.h>

#include <cstring>
#include <vector>

#include "tests/protocol/sample_messages.h"

namespace wafersim::proto {
namespace {

using testing::asSpan;
using testing::sampleAssign;
using testing::sampleBatch;
using testing::sampleHello;
using testing::sampleResults;
using testing::toBytes;

std::vector<std::byte> encodeBytes(Encoder& encoder) { return toBytes(encoder.finish()); }

void putLe32(std::vector<std::byte>& bytes, size_t offset, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<std::byte>(v >> (8 * i));
}

// Decodes and expects a rejection for `reason`, counted exactly once.
void expectRejected(std::span<const std::byte> bytes, RejectReason reason, const DecodeLimits& limits = {}) {
  RejectCounter rejects;
  tl::expected<DecodedMessage, Rejection> decoded = tl::unexpected(Rejection{});
  ASSERT_NO_THROW(decoded = tryDecode(bytes, rejects, limits));
  ASSERT_FALSE(decoded.has_value()) << "accepted, expected " << toString(reason);
  EXPECT_EQ(decoded.error().reason, reason) << decoded.error().describe();
  EXPECT_EQ(rejects.count(reason), 1u);
  EXPECT_EQ(rejects.total(), 1u) << rejects.summary();
}

// Decodes (which must succeed) and expects tryRead<T> to reject for `reason`.
template <typename T>
void expectReadRejected(std::span<const std::byte> bytes, RejectReason reason) {
  RejectCounter rejects;
  auto decoded = tryDecode(bytes, rejects);
  ASSERT_TRUE(decoded) << decoded.error().describe();
  T out{};
  tl::expected<void, Rejection> read;
  ASSERT_NO_THROW(read = tryRead(*decoded, out, rejects));
  ASSERT_FALSE(read.has_value()) << "read, expected " << toString(reason);
  EXPECT_EQ(read.error().reason, reason) << read.error().describe();
  EXPECT_EQ(rejects.count(reason), 1u);
  EXPECT_EQ(rejects.total(), 1u) << rejects.summary();
}

TEST(ProtocolReject, EmptyFrame) {
  expectRejected({}, RejectReason::EmptyFrame);
  RejectCounter rejects;
  EXPECT_FALSE(tryDecode(zmq::message_t(), rejects));
  EXPECT_EQ(rejects.count(RejectReason::EmptyFrame), 1u);
}

TEST(ProtocolReject, SizeNotAWordMultiple) {
  std::vector<std::byte> bytes = toBytes(encode(1, sampleHello()));
  for (size_t cut : {1, 3, 7}) {
    std::vector<std::byte> odd(bytes.begin(), bytes.end() - static_cast<long>(cut));
    expectRejected(asSpan(odd), RejectReason::NotWordMultiple);
  }
  std::vector<std::byte> three{std::byte{1}, std::byte{2}, std::byte{3}};
  expectRejected(asSpan(three), RejectReason::NotWordMultiple);
}

TEST(ProtocolReject, Oversized) {
  std::vector<std::byte> bytes = toBytes(encode(1, sampleBatch(4000)));
  DecodeLimits limits;
  limits.maxFrameBytes = 64 * 1024;
  expectRejected(asSpan(bytes), RejectReason::Oversized, limits);
  limits.maxFrameBytes = bytes.size();
  RejectCounter rejects;
  EXPECT_TRUE(tryDecode(asSpan(bytes), rejects, limits));  // the limit itself is allowed
}

TEST(ProtocolReject, TruncatedFrames) {
  std::vector<std::byte> bytes = toBytes(encode(1, sampleBatch(10)));
  for (size_t words = 1; words < bytes.size() / 8; words += 7) {
    std::vector<std::byte> cut(bytes.begin(), bytes.begin() + static_cast<long>(words * 8));
    expectRejected(asSpan(cut), RejectReason::Truncated);
  }
  // A segment table promising three segments whose sizes are not all there.
  std::vector<std::byte> table(8);
  putLe32(table, 0, 2);
  putLe32(table, 4, 1);
  expectRejected(asSpan(table), RejectReason::Truncated);
}

TEST(ProtocolReject, ImpossibleSegmentCount) {
  std::vector<std::byte> bytes = toBytes(encode(1, sampleHello()));
  putLe32(bytes, 0, 0xFFFFFFFF);  // 2^32 segments
  expectRejected(asSpan(bytes), RejectReason::BadSegmentTable);
  putLe32(bytes, 0, 512);
  expectRejected(asSpan(bytes), RejectReason::BadSegmentTable);
}

TEST(ProtocolReject, TrailingBytes) {
  std::vector<std::byte> bytes = toBytes(encode(1, sampleHello()));
  bytes.resize(bytes.size() + 16);
  expectRejected(asSpan(bytes), RejectReason::TrailingData);
}

TEST(ProtocolReject, WrongProtocolVersion) {
  Encoder encoder;
  for (uint32_t version : {0u, kProtocolVersion - 1, kProtocolVersion + 1, 0xFFFFFFFFu}) {
    auto root = encoder.begin(1);
    toWire(sampleHello(), root);
    root.setProtocolVersion(version);
    std::vector<std::byte> bytes = encodeBytes(encoder);
    expectRejected(asSpan(bytes), RejectReason::WrongVersion);
  }
}

TEST(ProtocolReject, UnknownKind) {
  Encoder encoder;
  for (uint16_t kind : {uint16_t{17}, uint16_t{200}, uint16_t{0xFFFF}}) {  // 17 kinds are known
    auto root = encoder.begin(1);
    toWire(HeartbeatMessage{1, 2}, root);
    // The union discriminant: the fifth 16-bit slot of the envelope's data section.
    capnp::AnyStruct::Builder raw = capnp::toAny(root);
    auto data = raw.getDataSection();
    ASSERT_GE(data.size(), 10u);
    data[8] = static_cast<kj::byte>(kind & 0xFF);
    data[9] = static_cast<kj::byte>(kind >> 8);
    ASSERT_EQ(static_cast<uint16_t>(root.which()), kind);
    std::vector<std::byte> bytes = encodeBytes(encoder);
    expectRejected(asSpan(bytes), RejectReason::UnknownKind);
  }
}

TEST(ProtocolReject, OutOfBoundsRootPointer) {
  std::vector<std::byte> bytes = toBytes(encode(1, sampleHello()));
  // Word 1 is the root pointer (after the one-word segment table): point it far past the end.
  putLe32(bytes, 8, 0x1FFFFFFFu << 2);  // the largest forward offset
  expectRejected(asSpan(bytes), RejectReason::Malformed);
}

TEST(ProtocolReject, OutOfBoundsInnerPointer) {
  // A list pointer inside the body that claims more elements than the segment holds.
  Encoder encoder;
  auto root = encoder.begin(1);
  auto batch = root.initEventBatch();
  batch.initEvents(2);
  std::vector<std::byte> bytes = encodeBytes(encoder);
  // Find the events list's tag word (a struct-shaped tag: element count 2, 8 data words) and lie
  // about the count in it and in the pointer.
  bool patched = false;
  for (size_t off = 8; off + 8 <= bytes.size(); off += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + off, 8);
    if (w == ((uint64_t{8} << 32) | (2u << 2))) {  // tag: count 2 << 2 | struct kind 0, data 8, ptrs 0
      uint64_t lie = (uint64_t{8} << 32) | (1000u << 2);
      std::memcpy(bytes.data() + off, &lie, 8);
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  expectRejected(asSpan(bytes), RejectReason::Malformed);
}

TEST(ProtocolReject, CyclicPointersHitTheNestingLimit) {
  // Segment: [root ptr -> envelope] [envelope data: version 1, sender 0] [discriminant: hello]
  //          [envelope pointer -> the envelope itself].
  std::vector<uint64_t> words = {
      0,                                  // segment table: 1 segment, 4 words (patched below)
      (uint64_t{1} << 48) | (uint64_t{2} << 32) | (0u << 2),  // root: struct at +0, 2 data words, 1 ptr
      kProtocolVersion,                   // protocolVersion, sender 0
      0,                                  // discriminant 0 (hello)
      (uint64_t{1} << 48) | (uint64_t{2} << 32) | (static_cast<uint32_t>(-3) << 2),  // -> word 1
  };
  words[0] = uint64_t{4} << 32;
  std::vector<std::byte> bytes(words.size() * 8);
  std::memcpy(bytes.data(), words.data(), bytes.size());
  expectRejected(asSpan(bytes), RejectReason::Malformed);
}

TEST(ProtocolReject, TextWithoutItsNul) {
  std::vector<std::byte> bytes = toBytes(encode(1, sampleHello()));
  const std::string host = "host-a";
  bool patched = false;
  for (size_t i = 0; i + host.size() < bytes.size(); ++i) {
    if (std::memcmp(bytes.data() + i, host.c_str(), host.size() + 1) == 0) {
      bytes[i + host.size()] = std::byte{'!'};
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  expectReadRejected<HelloMessage>(asSpan(bytes), RejectReason::Malformed);
}

TEST(ProtocolReject, UnexpectedKind) {
  std::vector<std::byte> bytes = toBytes(encode(1, sampleHello()));
  expectReadRejected<wafersim::EventBatch>(asSpan(bytes), RejectReason::UnexpectedKind);
  expectReadRejected<ShutdownMessage>(asSpan(bytes), RejectReason::UnexpectedKind);
}

TEST(ProtocolReject, AssignOutOfRange) {
  AssignMessage bad = sampleAssign();
  bad.partition = bad.partitionCount;
  expectReadRejected<AssignMessage>(asSpan(toBytes(encode(kCoordinatorSender, bad))), RejectReason::InvalidContent);
  bad = sampleAssign();
  bad.partitionMap[3] = 17;
  expectReadRejected<AssignMessage>(asSpan(toBytes(encode(kCoordinatorSender, bad))), RejectReason::InvalidContent);
  bad = sampleAssign();
  bad.dataEndpoints.pop_back();
  expectReadRejected<AssignMessage>(asSpan(toBytes(encode(kCoordinatorSender, bad))), RejectReason::InvalidContent);
  bad = sampleAssign();
  bad.partitionCount = 0;
  bad.partition = 0;
  expectReadRejected<AssignMessage>(asSpan(toBytes(encode(kCoordinatorSender, bad))), RejectReason::InvalidContent);
  // Hosted partitions: in range, ascending, the node's own among them, all on its data endpoint.
  for (std::vector<PartitionId> hosted : {std::vector<PartitionId>{2, 3}, {2, 0}, {0, 1}, {1, 2}}) {
    bad = sampleAssign();
    bad.dataEndpoints = {"tcp://a:1", "tcp://b:2", "tcp://a:1"};
    bad.hosted = hosted;
    expectReadRejected<AssignMessage>(asSpan(toBytes(encode(kCoordinatorSender, bad))), RejectReason::InvalidContent);
  }
}

TEST(ProtocolReject, UnknownEnumerant) {
  Encoder encoder;
  auto root = encoder.begin(kCoordinatorSender);
  toWire(sampleAssign(), root);
  root.getAssign().getOptions().setSync(static_cast<proto::SyncKind>(9));
  expectReadRejected<AssignMessage>(asSpan(encodeBytes(encoder)), RejectReason::InvalidContent);

  root = encoder.begin(kCoordinatorSender);
  toWire(sampleAssign(), root);
  root.getAssign().getOptions().setLookahead(static_cast<proto::LookaheadMode>(9));
  expectReadRejected<AssignMessage>(asSpan(encodeBytes(encoder)), RejectReason::InvalidContent);
}

TEST(ProtocolReject, DuplicateCounterNames) {
  Encoder encoder;
  auto root = encoder.begin(1);
  toWire(sampleResults(), root);
  auto counters = root.getResults().getComponents()[0].getCounters();
  ASSERT_EQ(counters.size(), 2u);
  counters[1].setName(counters[0].getName());
  expectReadRejected<ResultsMessage>(asSpan(encodeBytes(encoder)), RejectReason::InvalidContent);
}

TEST(ProtocolReject, RaggedTables) {
  // 6 values under 3 columns become 5: not a whole number of rows.
  Encoder encoder;
  auto root = encoder.begin(1);
  toWire(sampleResults(), root);
  auto table = root.getResults().getComponents()[0].getTables()[0];
  auto values = table.initValues(5);
  for (unsigned i = 0; i < 5; ++i) values.set(i, i);
  expectReadRejected<ResultsMessage>(asSpan(encodeBytes(encoder)), RejectReason::InvalidContent);
}

TEST(ProtocolReject, ZeroSizedEventsCannotAmplify) {
  // 100,000 events that take no bytes on the wire would cost 6.4 MB to read: refused.
  Encoder encoder;
  auto root = encoder.begin(1);
  auto batch = root.initEventBatch();
  auto orphan = capnp::Orphanage::getForMessageContaining(batch).newOrphan<capnp::List<Start>>(100000);
  capnp::AnyStruct::Builder raw = capnp::toAny(batch);
  raw.getPointerSection()[0].adopt(kj::mv(orphan));
  std::vector<std::byte> bytes = encodeBytes(encoder);
  EXPECT_LT(bytes.size(), 100u);
  // Cap'n Proto counts each zero-sized element against the traversal limit...
  expectReadRejected<wafersim::EventBatch>(asSpan(bytes), RejectReason::Malformed);
  // ... and with a limit loose enough to let it through, the conversion refuses the list itself.
  DecodeLimits loose;
  loose.traversalWordsPerFrameWord = 1'000'000;
  RejectCounter rejects;
  auto decoded = tryDecode(asSpan(bytes), rejects, loose);
  ASSERT_TRUE(decoded) << decoded.error().describe();
  wafersim::EventBatch out;
  auto read = tryRead(*decoded, out, rejects);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().reason, RejectReason::InvalidContent) << read.error().describe();
  EXPECT_TRUE(out.events.empty());
}

TEST(ProtocolReject, AliasedPointersHitTheTraversalLimit) {
  // A hello whose 1,000 capabilities all point at the same 8,000-byte text: 16 KB on the wire,
  // 8 MB to read. Crafted by hand, since builders never alias.
  constexpr uint64_t kTexts = 1000, kTextBytes = 8000, kTextWords = kTextBytes / 8;
  auto structPtr = [](int64_t offset, uint64_t data, uint64_t ptrs) {
    return (ptrs << 48) | (data << 32) | (static_cast<uint64_t>(static_cast<uint32_t>(offset)) << 2);
  };
  auto listPtr = [](int64_t offset, uint64_t elementSize, uint64_t count) {
    return (count << 35) | (elementSize << 32) | (static_cast<uint64_t>(static_cast<uint32_t>(offset)) << 2) | 1;
  };
  std::vector<uint64_t> seg;
  seg.push_back(structPtr(0, 2, 1));   // 0: root -> envelope at 1
  seg.push_back(kProtocolVersion);     // 1: version, sender 0
  seg.push_back(0);                    // 2: kind hello
  seg.push_back(structPtr(0, 2, 3));   // 3: -> hello at 4
  seg.push_back(0);                    // 4-5: hello data
  seg.push_back(0);
  seg.push_back(listPtr(2, 6, kTexts));  // 6: capabilities -> pointer list at 9
  seg.push_back(0);                    // 7: dataEndpoint
  seg.push_back(0);                    // 8: hostname
  const uint64_t text = 9 + kTexts;
  for (uint64_t i = 0; i < kTexts; ++i) seg.push_back(listPtr(static_cast<int64_t>(text - (9 + i + 1)), 2, kTextBytes));
  std::vector<uint64_t> body(kTextWords, 0x6161616161616161ull);  // "aaaa..."
  body.back() = 0x0061616161616161ull;                              // ... NUL
  seg.insert(seg.end(), body.begin(), body.end());
  std::vector<std::byte> bytes((seg.size() + 1) * 8);
  uint64_t table = static_cast<uint64_t>(seg.size()) << 32;  // one segment of seg.size() words
  std::memcpy(bytes.data(), &table, 8);
  std::memcpy(bytes.data() + 8, seg.data(), seg.size() * 8);

  expectRejected(asSpan(bytes), RejectReason::Malformed);

  // With a generous limit it decodes, and reading it is what the limit would have stopped.
  DecodeLimits generous;
  generous.traversalWordsPerFrameWord = 1000;
  RejectCounter rejects;
  auto decoded = tryDecode(asSpan(bytes), rejects, generous);
  ASSERT_TRUE(decoded) << decoded.error().describe();
  auto hello = tryRead<HelloMessage>(*decoded, rejects);
  ASSERT_TRUE(hello) << hello.error().describe();
  EXPECT_EQ(hello->capabilities.size(), kTexts);
  EXPECT_EQ(hello->capabilities[999].size(), kTextBytes - 1);
}

TEST(ProtocolReject, TraversalLimitAppliesWhileReading) {
  // An honest message read with no allowance beyond the fixed 1,024 words.
  Encoder encoder;
  auto components = encoder.begin(1).initResults().initComponents(2000);
  components[0].initHistograms(1)[0].initBounds(4000);
  std::vector<std::byte> bytes = encodeBytes(encoder);
  DecodeLimits limits;
  limits.traversalWordsPerFrameWord = 0;
  RejectCounter rejects;
  auto decoded = tryDecode(asSpan(bytes), rejects, limits);
  if (decoded) {
    auto read = tryRead<ResultsMessage>(*decoded, rejects);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().reason, RejectReason::Malformed) << read.error().describe();
  } else {
    EXPECT_EQ(decoded.error().reason, RejectReason::Malformed) << decoded.error().describe();
  }
  EXPECT_EQ(rejects.count(RejectReason::Malformed), 1u);
}

TEST(ProtocolReject, CounterSummarisesByReason) {
  RejectCounter rejects;
  EXPECT_EQ(rejects.summary(), "none");
  rejects.record(RejectReason::Truncated);
  rejects.record(RejectReason::Truncated);
  rejects.record(RejectReason::Malformed);
  EXPECT_EQ(rejects.total(), 3u);
  EXPECT_EQ(rejects.count(RejectReason::Truncated), 2u);
  EXPECT_EQ(rejects.summary(), "truncated=2 malformed=1");
  EXPECT_EQ((Rejection{RejectReason::WrongVersion, "version 2"}).describe(), "wrong-version: version 2");
  for (size_t i = 0; i < kRejectReasonCount; ++i)
    EXPECT_STRNE(toString(static_cast<RejectReason>(i)), "unknown-reason");
  rejects.reset();
  EXPECT_EQ(rejects.total(), 0u);
}

}  // namespace
}  // namespace wafersim::proto
