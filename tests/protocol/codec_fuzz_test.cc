// A small deterministic fuzz loop: random bytes and random mutations of valid messages of every
// kind. Nothing may throw or crash; every frame is either accepted (and readable as its kind) or
// rejected with a counted reason.
#include "protocol/codec.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "tests/protocol/sample_messages.h"

namespace wafersim::proto {
namespace {

using testing::asSpan;
using testing::readAny;
using testing::sampleFrames;

struct Tally {
  RejectCounter rejects;
  uint64_t frames = 0, accepted = 0, rejected = 0;

  // Decodes, then reads the body with the type of its kind, as a receive loop would.
  void feed(std::span<const std::byte> bytes) {
    ++frames;
    uint64_t before = rejects.total();
    tl::expected<DecodedMessage, Rejection> decoded = tl::unexpected(Rejection{});
    ASSERT_NO_THROW(decoded = tryDecode(bytes, rejects));
    if (!decoded) {
      ++rejected;
      ASSERT_EQ(rejects.total(), before + 1);
      ASSERT_EQ(rejects.count(decoded.error().reason) > 0, true);
      return;
    }
    ASSERT_EQ(rejects.total(), before);
    ASSERT_EQ(decoded->envelope().getProtocolVersion(), kProtocolVersion);
    tl::expected<void, Rejection> read;
    ASSERT_NO_THROW(read = readAny(*decoded, rejects));
    if (read) {
      ++accepted;
      ASSERT_EQ(rejects.total(), before);
    } else {
      ++rejected;
      ASSERT_EQ(rejects.total(), before + 1);
    }
  }
};

std::vector<std::byte> randomBytes(std::mt19937_64& rng, size_t size) {
  std::vector<std::byte> bytes(size);
  for (auto& b : bytes) b = static_cast<std::byte>(rng());
  return bytes;
}

TEST(ProtocolFuzz, RandomBytes) {
  std::mt19937_64 rng(20240601);
  Tally tally;
  for (int i = 0; i < 3000; ++i) {
    size_t words = rng() % 64;
    size_t size = words * 8 + (rng() % 4 == 0 ? rng() % 8 : 0);
    std::vector<std::byte> bytes = randomBytes(rng, size);
    if (size >= 8 && rng() % 2 == 0) {
      // A plausible one-segment table so that the bytes reach Cap'n Proto's pointer checks.
      uint32_t zero = 0, segmentWords = static_cast<uint32_t>(size / 8 - 1);
      std::memcpy(bytes.data(), &zero, 4);
      std::memcpy(bytes.data() + 4, &segmentWords, 4);
      if (size >= 24 && rng() % 2 == 0) {
        uint32_t version = kProtocolVersion;  // and a valid version, so that the kind and body are reached
        uint64_t root = (uint64_t{1} << 48) | (uint64_t{2} << 32);
        std::memcpy(bytes.data() + 8, &root, 8);
        std::memcpy(bytes.data() + 16, &version, 4);
      }
    }
    ASSERT_NO_FATAL_FAILURE(tally.feed(asSpan(bytes)));
  }
  EXPECT_EQ(tally.accepted + tally.rejected, tally.frames);
  EXPECT_EQ(tally.rejects.total(), tally.rejected);
  EXPECT_GT(tally.rejected, 2000u);
  std::printf("random bytes: %llu frames, %llu accepted, rejected: %s\n",
              static_cast<unsigned long long>(tally.frames), static_cast<unsigned long long>(tally.accepted),
              tally.rejects.summary().c_str());
}

TEST(ProtocolFuzz, MutatedValidMessages) {
  const std::vector<std::vector<std::byte>> seeds = sampleFrames();
  {
    Tally clean;
    for (const auto& seed : seeds) ASSERT_NO_FATAL_FAILURE(clean.feed(asSpan(seed)));
    ASSERT_EQ(clean.accepted, seeds.size()) << clean.rejects.summary();
  }
  std::mt19937_64 rng(7);
  Tally tally;
  for (int i = 0; i < 7000; ++i) {
    std::vector<std::byte> bytes = seeds[rng() % seeds.size()];
    int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations && bytes.size() >= 8; ++m) {
      switch (rng() % 6) {
        case 0:  // flip one bit
          bytes[rng() % bytes.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
          break;
        case 1:  // overwrite a byte
          bytes[rng() % bytes.size()] = static_cast<std::byte>(rng());
          break;
        case 2: {  // overwrite a whole word with a pointer-looking value
          size_t w = rng() % (bytes.size() / 8);
          uint64_t v = rng() & ~uint64_t{0xFFFFFFF0ull << 2};  // small offsets, random sizes
          std::memcpy(bytes.data() + w * 8, &v, 8);
          break;
        }
        case 3: {  // truncate, mostly to a word boundary
          size_t keep = rng() % bytes.size() + 1;
          if (rng() % 4 != 0) keep = (keep + 7) / 8 * 8;
          bytes.resize(keep);
          break;
        }
        case 4: {  // extend with junk, mostly whole words
          size_t extra = rng() % 4 != 0 ? 8 * (1 + rng() % 3) : rng() % 8;
          for (; extra > 0; --extra) bytes.push_back(static_cast<std::byte>(rng()));
          break;
        }
        case 5: {  // poke a 16-bit value (discriminants, enums)
          size_t at = rng() % (bytes.size() - 1);
          uint16_t v = static_cast<uint16_t>(rng() % 20);
          std::memcpy(bytes.data() + at, &v, 2);
          break;
        }
      }
    }
    ASSERT_NO_FATAL_FAILURE(tally.feed(asSpan(bytes)));
  }
  EXPECT_EQ(tally.accepted + tally.rejected, tally.frames);
  EXPECT_EQ(tally.rejects.total(), tally.rejected);
  EXPECT_GT(tally.accepted, 0u);
  EXPECT_GT(tally.rejected, 0u);
  std::printf("mutations: %llu frames, %llu accepted, rejected: %s\n",
              static_cast<unsigned long long>(tally.frames), static_cast<unsigned long long>(tally.accepted),
              tally.rejects.summary().c_str());
}

}  // namespace
}  // namespace wafersim::proto
