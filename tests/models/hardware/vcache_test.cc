// The V-Cache (models/hardware/vcache.h): an expert-weight cache in a die's SRAM tier, LRU or
// score-aware LFU, with hand-worked access sequences.
#include <gtest/gtest.h>

#include "models/hardware/vcache.h"
#include "sim/checkpoint.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

TEST(VCache, LruKeepsTheMostRecentlyUsed) {
  ExpertWeightCache c(200, VCachePolicy::Lru);
  EXPECT_EQ(c.access(0, 1, 1, 100, 1).filledBytes, 100u);  // miss, admitted
  EXPECT_EQ(c.access(0, 2, 1, 100, 1).filledBytes, 100u);  // miss, admitted: full
  EXPECT_TRUE(c.access(0, 1, 1, 100, 1).hit);              // 1 is now the most recent
  EXPECT_FALSE(c.access(0, 3, 1, 100, 1).hit);             // evicts 2
  EXPECT_TRUE(c.resident(0, 1, 1));
  EXPECT_FALSE(c.resident(0, 2, 1));
  EXPECT_TRUE(c.resident(0, 3, 1));
  EXPECT_EQ(c.hits(), 1u);
  EXPECT_EQ(c.misses(), 3u);
  EXPECT_EQ(c.used(), 200u);
}

TEST(VCache, LruThrashesOnAScanLargerThanItself) {
  // Three experts read in the same order every step through room for two: never a hit.
  ExpertWeightCache c(200, VCachePolicy::Lru);
  for (int step = 0; step < 4; ++step)
    for (uint32_t e = 0; e < 3; ++e) EXPECT_FALSE(c.access(0, e, 1, 100, 1).hit);
}

TEST(VCache, LfuKeepsTheHotExpertsThroughTheSameScan) {
  // The same scan, expert 2 the hottest: LFU keeps the first two it met until 2's count passes
  // theirs, then 2 replaces the less counted one for good.
  ExpertWeightCache c(200, VCachePolicy::Lfu);
  const uint64_t tokens[3] = {1, 2, 5};
  uint64_t hits = 0;
  for (int step = 0; step < 4; ++step)
    for (uint32_t e = 0; e < 3; ++e) hits += c.access(0, e, 1, 100, tokens[e]).hit;
  EXPECT_TRUE(c.resident(0, 2, 1));
  EXPECT_TRUE(c.resident(0, 1, 1));
  EXPECT_FALSE(c.resident(0, 0, 1));
  // Step 1: 0 and 1 admitted, 2 (count 5 > 1) evicts 0. Steps 2-4: 0 misses (count <= residents'),
  // 1 and 2 hit: 6 hits.
  EXPECT_EQ(hits, 6u);
}

TEST(VCache, ARefusedNewcomerLeavesTheCacheAsItWas) {
  ExpertWeightCache c(300, VCachePolicy::Lfu);
  c.access(0, 0, 1, 100, 10);
  c.access(0, 1, 1, 100, 1);
  // Needs 250 B: 100 free plus expert 1's 100 is not enough, and expert 0 (10 tokens) outranks
  // the newcomer (5): nothing is evicted.
  EXPECT_EQ(c.access(0, 2, 1, 250, 5).filledBytes, 0u);
  EXPECT_TRUE(c.resident(0, 0, 1));
  EXPECT_TRUE(c.resident(0, 1, 1));
  EXPECT_EQ(c.used(), 200u);
}

TEST(VCache, AnExpertLargerThanTheCacheIsNeverAdmitted) {
  ExpertWeightCache c(99, VCachePolicy::Lru);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(c.access(0, 0, 1, 100, 1).hit);
  EXPECT_EQ(c.used(), 0u);
}

TEST(VCache, ShardsAndLayersAreDistinctEntries) {
  ExpertWeightCache c(1000, VCachePolicy::Lru);
  c.access(0, 0, 1, 100, 1);
  EXPECT_FALSE(c.access(1, 0, 1, 100, 1).hit);
  EXPECT_FALSE(c.access(0, 0, 2, 100, 1).hit);
  EXPECT_TRUE(c.access(0, 0, 1, 100, 1).hit);
}

TEST(VCache, UnknownPolicyNamesTheField) {
  try {
    parseVCachePolicy("fifo", "serving.vcache_policy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("serving.vcache_policy"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("fifo"), std::string::npos);
  }
}

// Checkpoints: a restored cache answers every later access as the one saved would, under either
// policy (contents, token counts and recency all matter to lfu's choices); a saved cache that
// holds more than it counts is refused.
TEST(VCache, ARestoredCacheAnswersLaterAccessesAsTheSavedOne) {
  for (VCachePolicy policy : {VCachePolicy::Lru, VCachePolicy::Lfu}) {
    SCOPED_TRACE(toString(policy));
    ExpertWeightCache original(500, policy);
    auto expert = [](uint32_t i) { return (i * 7 + i / 3) % 9; };
    for (uint32_t i = 0; i < 40; ++i) original.access(i % 2, expert(i), 1, 100 + 20 * (i % 3), 1 + i % 5);
    StateWriter out;
    original.save(out);
    ExpertWeightCache restored(500, policy);
    StateReader in(out.data(), "cache");
    restored.restore(in);
    in.expectEnd();
    EXPECT_EQ(restored.used(), original.used());
    EXPECT_EQ(restored.hits(), original.hits());
    for (uint32_t i = 40; i < 120; ++i) {
      const auto a = original.access(i % 2, expert(i), 1, 100 + 20 * (i % 3), 1 + i % 5);
      const auto b = restored.access(i % 2, expert(i), 1, 100 + 20 * (i % 3), 1 + i % 5);
      EXPECT_EQ(a.hit, b.hit) << "access " << i;
      EXPECT_EQ(a.filledBytes, b.filledBytes) << "access " << i;
    }
  }
  ExpertWeightCache c(500, VCachePolicy::Lru);
  c.access(0, 0, 1, 100, 1);
  StateWriter out;
  c.save(out);
  std::string bytes = out.take();
  bytes[0] = 7;  // used_: 7 B counted, 100 B held
  ExpertWeightCache broken(500, VCachePolicy::Lru);
  StateReader in(bytes, "cache");
  EXPECT_THROW(broken.restore(in), Error);
}

}  // namespace
}  // namespace wafersim::hw
