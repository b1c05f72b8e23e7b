// The checkpoint format (sim/checkpoint.h): values and parts survive a round trip; a truncated,
// extended, bit-flipped, foreign or future-format file is refused with an error that names the
// file and the defect, never half-read; statistics restore to their saved values; a folder's
// latest cut is loaded whole or not at all.
#include "sim/checkpoint.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/statistics.h"
#include "tests/support.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;


CheckpointPart samplePart(uint32_t partition, uint32_t partitions, SimTime time) {
  CheckpointPart part;
  part.fingerprint = 0xFEEDu;
  part.time = time;
  part.lastEventTime = time - Duration::fromPs(7);
  part.partition = partition;
  part.partitions = partitions;
  part.window = 42;
  for (ComponentId id = partition; id < 6; id += partitions) {
    ComponentCheckpoint& c = part.components.emplace_back();
    c.id = id;
    c.type = "test.Type";
    c.nextSeq = 100 + id;
    c.promise = time + Duration::fromPs(id);
    for (int w = 0; w < 4; ++w) c.random[w] = id * 10 + static_cast<uint64_t>(w);
    c.eventDigest = 0xABCD0000u + id;
    c.eventsCommitted = 1000 + id;
    c.stats = "stats" + std::to_string(id);
    c.state = std::string("state\0with nul", 14);
    Event e;
    e.time = time + Duration::fromPs(100 * (id + 1));
    e.order = Event::makeOrder(0, id);
    e.seq = c.nextSeq - 1;
    e.target = id;
    e.payload = Payload::of(uint64_t{id});
    part.events.push_back(e);
  }
  return part;
}

void writeBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(StateWriterReader, ValuesRoundTripAndReadsAreBounded) {
  StateWriter w;
  w.u8(7);
  w.u32(0xDEADBEEF);
  w.u64(1ull << 60);
  w.i64(-5);
  w.f64(0.25);
  w.boolean(true);
  w.time(SimTime::fromPs(123));
  w.text("hello");
  w.podVector(std::vector<int64_t>{1, -2, 3});
  StateReader r(w.data(), "sample");
  EXPECT_EQ(r.u8(), 7);
  EXPECT_EQ(r.u32(), 0xDEADBEEFu);
  EXPECT_EQ(r.u64(), 1ull << 60);
  EXPECT_EQ(r.i64(), -5);
  EXPECT_EQ(r.f64(), 0.25);
  EXPECT_TRUE(r.boolean());
  EXPECT_EQ(r.time(), SimTime::fromPs(123));
  EXPECT_EQ(r.text(), "hello");
  EXPECT_EQ(r.podVector<int64_t>(), (std::vector<int64_t>{1, -2, 3}));
  r.expectEnd();
  EXPECT_THAT(testing::invalidConfigOf([&] { r.u8(); }), HasSubstr("sample: truncated"));

  // A length larger than what is left is refused before anything is allocated.
  StateWriter huge;
  huge.u64(uint64_t{1} << 62);
  StateReader h(huge.data(), "huge");
  EXPECT_THAT(testing::invalidConfigOf([&] { h.podVector<uint64_t>(); }), HasSubstr("huge: truncated"));
  StateWriter two;
  two.u8(2);
  StateReader b(two.data(), "flag");
  EXPECT_THAT(testing::invalidConfigOf([&] { b.boolean(); }), HasSubstr("a boolean holds 2"));
  StateReader left(w.data(), "partial");
  left.u8();
  EXPECT_THAT(testing::invalidConfigOf([&] { left.expectEnd(); }), HasSubstr("bytes left over"));
}

TEST(CheckpointPart, RoundTripsEveryField) {
  const CheckpointPart part = samplePart(1, 2, SimTime::fromPs(5000));
  const CheckpointPart back = decodeCheckpointPart(encodeCheckpointPart(part), "part");
  EXPECT_EQ(back.fingerprint, part.fingerprint);
  EXPECT_EQ(back.time, part.time);
  EXPECT_EQ(back.lastEventTime, part.lastEventTime);
  EXPECT_EQ(back.partition, 1u);
  EXPECT_EQ(back.partitions, 2u);
  EXPECT_EQ(back.window, 42u);
  ASSERT_EQ(back.components.size(), part.components.size());
  for (size_t i = 0; i < part.components.size(); ++i) {
    const auto& a = part.components[i];
    const auto& b = back.components[i];
    EXPECT_EQ(b.id, a.id);
    EXPECT_EQ(b.type, a.type);
    EXPECT_EQ(b.nextSeq, a.nextSeq);
    EXPECT_EQ(b.promise, a.promise);
    EXPECT_TRUE(std::equal(a.random, a.random + 4, b.random));
    EXPECT_EQ(b.eventDigest, a.eventDigest);
    EXPECT_EQ(b.eventsCommitted, a.eventsCommitted);
    EXPECT_EQ(b.stats, a.stats);
    EXPECT_EQ(b.state, a.state);
  }
  ASSERT_EQ(back.events.size(), part.events.size());
  for (size_t i = 0; i < part.events.size(); ++i)
    EXPECT_EQ(std::memcmp(&back.events[i], &part.events[i], sizeof(Event)), 0);
}

TEST(CheckpointPart, EveryTruncationAndEveryFlippedByteIsRefused) {
  const std::string bytes = encodeCheckpointPart(samplePart(0, 1, SimTime::fromPs(900)));
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE("truncated to " + std::to_string(n));
    EXPECT_THAT(testing::invalidConfigOf([&] { decodeCheckpointPart(bytes.substr(0, n), "part-0"); }), HasSubstr("part-0: "));
  }
  EXPECT_THAT(testing::invalidConfigOf([&] { decodeCheckpointPart(bytes + "x", "part-0"); }),
              HasSubstr("truncated or extended"));
  for (size_t i = 0; i < bytes.size(); ++i) {
    SCOPED_TRACE("byte " + std::to_string(i) + " flipped");
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_THAT(testing::invalidConfigOf([&] { decodeCheckpointPart(bad, "part-0"); }), HasSubstr("part-0: "));
  }
}

TEST(CheckpointPart, NamesTheDefect) {
  const std::string bytes = encodeCheckpointPart(samplePart(0, 1, SimTime::fromPs(900)));
  std::string body = bytes;
  body[bytes.size() / 2] ^= 1;
  EXPECT_THAT(testing::invalidConfigOf([&] { decodeCheckpointPart(body, "f"); }), HasSubstr("checksum mismatch"));
  std::string magic = bytes;
  magic[0] = 'X';
  EXPECT_THAT(testing::invalidConfigOf([&] { decodeCheckpointPart(magic, "f"); }), HasSubstr("not a checkpoint"));
  std::string future = bytes;
  future[8] = static_cast<char>(kCheckpointFormat + 1);
  EXPECT_THAT(testing::invalidConfigOf([&] { decodeCheckpointPart(future, "f"); }),
              HasSubstr("checkpoint format " + std::to_string(kCheckpointFormat + 1)));
  EXPECT_THAT(testing::invalidConfigOf([&] { decodeCheckpointPart("short", "f"); }), HasSubstr("shorter than any"));
}

TEST(StatSetCheckpoint, RestoresSavedValuesAndRefusesOtherShapes) {
  StatSet saved;
  saved.counter("events").add(17);
  Histogram& h = saved.histogram("wait_ps", {0, 10, 100});
  h.add(5);
  h.add(500);
  Table& t = saved.table("log", {"a", "b"});
  t.addRow({1, t.text("x")});
  StateWriter w;
  saved.save(w);

  StatSet restored;  // as a freshly constructed component: registered, all zero
  restored.counter("events");
  restored.histogram("wait_ps", {0, 10, 100});
  StateReader r(w.data(), "stats");
  restored.restore(r);
  r.expectEnd();
  EXPECT_EQ(restored.counters().at("events")->value(), 17u);
  const Histogram& rh = *restored.histograms().at("wait_ps");
  EXPECT_EQ(rh.count(), 2u);
  EXPECT_EQ(rh.sum(), 505);
  EXPECT_EQ(rh.min(), 5);
  EXPECT_EQ(rh.max(), 500);
  EXPECT_EQ(rh.counts(), h.counts());
  const Table& rt = *restored.tables().at("log");
  EXPECT_EQ(rt.values(), t.values());
  EXPECT_EQ(rt.strings(), t.strings());

  StatSet other;
  other.histogram("wait_ps", {0, 20});
  StateReader r2(w.data(), "stats");
  EXPECT_THAT(testing::invalidConfigOf([&] { other.restore(r2); }), HasSubstr("other bounds"));
}

TEST(CheckpointFolder, LoadsTheLatestCutWholeOrNotAtAll) {
  testing::TempDir dir("wafersim-checkpoint");
  const std::string folder = (dir / "checkpoints").string();
  EXPECT_THAT(testing::invalidConfigOf([&] { loadLatestCheckpoint(folder); }), HasSubstr("no checkpoint to resume from"));

  const SimTime t = SimTime::fromPs(5000);
  for (uint32_t k = 0; k < 2; ++k)
    writeBytes(std::filesystem::path(folder) / checkpointPartName(t, k), encodeCheckpointPart(samplePart(k, 2, t)));
  // An older cut: commit removes it.
  const SimTime older = SimTime::fromPs(1000);
  writeBytes(std::filesystem::path(folder) / checkpointPartName(older, 0), encodeCheckpointPart(samplePart(0, 1, older)));
  commitCheckpoint(folder, t, 2);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(folder) / "t1000"));
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();

  const CheckpointImage image = loadLatestCheckpoint(folder);
  EXPECT_EQ(image.time, t);
  EXPECT_EQ(image.partitions, 2u);
  EXPECT_EQ(image.components.size(), 6u);
  EXPECT_EQ(image.events.size(), 6u);
  EXPECT_TRUE(std::is_sorted(image.events.begin(), image.events.end(), [](const Event& a, const Event& b) {
    return before(a, b);
  }));
  EXPECT_EQ(image.lastEventTime, t - Duration::fromPs(7));

  // A part of another cut, a missing part, a corrupt part: refused, naming the file.
  const auto part1 = std::filesystem::path(folder) / checkpointPartName(t, 1);
  writeBytes(part1, encodeCheckpointPart(samplePart(1, 2, SimTime::fromPs(6000))));
  EXPECT_THAT(testing::invalidConfigOf([&] { loadLatestCheckpoint(folder); }), HasSubstr("part-1: part 1 of 2 at"));
  CheckpointPart foreign = samplePart(1, 2, t);
  foreign.fingerprint = 1;
  writeBytes(part1, encodeCheckpointPart(foreign));
  EXPECT_THAT(testing::invalidConfigOf([&] { loadLatestCheckpoint(folder); }), HasSubstr("another system"));
  writeBytes(part1, encodeCheckpointPart(samplePart(1, 2, t)).substr(0, 40));
  EXPECT_THAT(testing::invalidConfigOf([&] { loadLatestCheckpoint(folder); }), HasSubstr("part-1: "));
  std::filesystem::remove(part1);
  EXPECT_THAT(testing::invalidConfigOf([&] { loadLatestCheckpoint(folder); }), HasSubstr("is missing"));
  writeBytes(std::filesystem::path(folder) / "latest", "garbage\n");
  EXPECT_THAT(testing::invalidConfigOf([&] { loadLatestCheckpoint(folder); }), HasSubstr("expected \"<time in ps> <parts>\""));
}

TEST(CheckpointSchedule, NextInstantIsTheNextMultiple) {
  const Duration every = Duration::fromPs(100);
  EXPECT_EQ(nextCheckpointAfter(SimTime::zero(), every), SimTime::fromPs(100));
  EXPECT_EQ(nextCheckpointAfter(SimTime::fromPs(99), every), SimTime::fromPs(100));
  EXPECT_EQ(nextCheckpointAfter(SimTime::fromPs(100), every), SimTime::fromPs(200));
}

}  // namespace
}  // namespace wafersim
