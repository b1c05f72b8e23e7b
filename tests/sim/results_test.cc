// The results document and its digest (sim/results.h).
#include "sim/results.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/sim/test_components.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;
using testing::thrownBy;

ComponentRecord record(ComponentId id, const std::string& name, uint64_t digest = 1, uint64_t events = 2) {
  ComponentRecord r;
  r.id = id;
  r.name = name;
  r.type = "test.T";
  r.eventDigest = digest;
  r.eventsCommitted = events;
  r.counters["hits"] = 3;
  r.histograms["lat"] = {{10, 20}, {1, 0, 2}, 3, 75, 5, 40};
  return r;
}

Results sample() {
  Results r;
  r.add(record(2, "c"));
  r.add(record(0, "a"));
  r.add(record(1, "b"));
  r.noteSimulatedTime(SimTime::fromPs(500));
  return r;
}

TEST(ResultsTest, KeepsComponentsSortedById) {
  const Results r = sample();
  ASSERT_EQ(r.components().size(), 3u);
  EXPECT_EQ(r.components()[0].name, "a");
  EXPECT_EQ(r.components()[1].name, "b");
  EXPECT_EQ(r.components()[2].name, "c");
  EXPECT_EQ(r.eventsCommitted(), 6u);
}

TEST(ResultsTest, ADuplicateComponentIsAnError) {
  Results r = sample();
  EXPECT_THAT(thrownBy([&] { r.add(record(1, "b")); }).message, HasSubstr("component b reported twice"));
}

TEST(ResultsTest, SimulatedTimeIsTheLatest) {
  Results r = sample();
  r.noteSimulatedTime(SimTime::fromPs(200));
  EXPECT_EQ(r.simulatedTime(), SimTime::fromPs(500));
  r.noteSimulatedTime(SimTime::fromPs(800));
  EXPECT_EQ(r.simulatedTime(), SimTime::fromPs(800));
}

TEST(ResultsTest, DigestIsIndependentOfInsertionOrder) {
  Results other;
  other.add(record(1, "b"));
  other.add(record(2, "c"));
  other.noteSimulatedTime(SimTime::fromPs(500));
  other.add(record(0, "a"));
  EXPECT_EQ(other.digest(), sample().digest());
  EXPECT_EQ(other.digestHex(), sample().digestHex());
  EXPECT_EQ(sample().digestHex().size(), 16u);
}

TEST(ResultsTest, DigestSeesEveryPart) {
  const uint64_t base = sample().digest();
  auto changed = [&](auto&& change) {
    Results r;
    ComponentRecord a = record(0, "a"), b = record(1, "b"), c = record(2, "c");
    SimTime t = SimTime::fromPs(500);
    change(a, t);
    r.add(a);
    r.add(b);
    r.add(c);
    r.noteSimulatedTime(t);
    return r.digest();
  };
  EXPECT_EQ(changed([](ComponentRecord&, SimTime&) {}), base);
  EXPECT_NE(changed([](ComponentRecord& a, SimTime&) { a.eventDigest ^= 1; }), base);
  EXPECT_NE(changed([](ComponentRecord& a, SimTime&) { a.eventsCommitted += 1; }), base);
  EXPECT_NE(changed([](ComponentRecord& a, SimTime&) { a.counters["hits"] += 1; }), base);
  EXPECT_NE(changed([](ComponentRecord& a, SimTime&) { a.counters["misses"] = 0; }), base);
  EXPECT_NE(changed([](ComponentRecord& a, SimTime&) { a.histograms["lat"].counts[1] += 1; }), base);
  EXPECT_NE(changed([](ComponentRecord& a, SimTime&) { a.histograms["lat"].max += 1; }), base);
  EXPECT_NE(changed([](ComponentRecord& a, SimTime&) { a.histograms["lat"].bounds[0] += 1; }), base);
  EXPECT_NE(changed([](ComponentRecord&, SimTime& t) { t = SimTime::fromPs(501); }), base);
}

TEST(ResultsTest, JsonDocument) {
  const nlohmann::json j = sample().toJson();
  EXPECT_EQ(j["digest"], sample().digestHex());
  EXPECT_EQ(j["events_committed"], 6);
  EXPECT_EQ(j["simulated_time_ps"], 500);
  EXPECT_EQ(j["components"].size(), 3u);
  const auto& b = j["components"]["b"];
  EXPECT_EQ(b["id"], 1);
  EXPECT_EQ(b["type"], "test.T");
  EXPECT_EQ(b["events"], 2);
  EXPECT_EQ(b["stats"]["hits"], 3);
  EXPECT_EQ(b["stats"]["lat"]["counts"], nlohmann::json::array({1, 0, 2}));
  EXPECT_EQ(b["stats"]["lat"]["bounds"], nlohmann::json::array({10, 20}));
  EXPECT_EQ(b["stats"]["lat"]["sum"], 75);
  EXPECT_EQ(b["stats"]["lat"]["min"], 5);
  EXPECT_EQ(b["stats"]["lat"]["max"], 40);
}

TEST(ResultsTest, FromPartitionResults) {
  StatSet stats;
  stats.counter("n").add(7);
  stats.histogram("h", {1}).add(3);
  Results r;
  r.add(std::vector<ComponentResult>{{4, "x", "test.T", 99, 1, &stats}});
  ASSERT_EQ(r.components().size(), 1u);
  const ComponentRecord& rec = r.components()[0];
  EXPECT_EQ(rec.counters.at("n"), 7u);
  EXPECT_EQ(rec.histograms.at("h").counts, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(rec.histograms.at("h").min, 3);
  EXPECT_EQ(rec.eventDigest, 99u);
  // An empty histogram reports min = max = 0 rather than the sentinels.
  StatSet empty;
  empty.histogram("h", {1});
  Results e;
  e.add(std::vector<ComponentResult>{{0, "y", "test.T", 0, 0, &empty}});
  EXPECT_EQ(e.components()[0].histograms.at("h").min, 0);
  EXPECT_EQ(e.components()[0].histograms.at("h").max, 0);
}

}  // namespace
}  // namespace wafersim
