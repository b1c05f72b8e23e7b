// The compute die's operator model (models/hardware/compute_die.h): closed-form times exact to the
// picosecond. Test die: 100 TFLOPS fp16 (1 FLOP = 0.01 ps), 200 TFLOPS fp8, no int8, tile
// 128 x 128 x 1; operands stream at 500 GB/s (1 byte = 2 ps) unless a test says otherwise.
//   compute = ceil(2 * pad(M) * pad(N) * pad(K) * 1e12 / peak)    memory = ceil(bytes * 1e12 / B)
//   bytes   = (M*K + K*N + M*N) * width                            time   = max(compute, memory)
#include <cstdint>

#include <gtest/gtest.h>

#include "models/hardware/compute_die.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

constexpr uint64_t kPeak = 100'000'000'000'000ull;  // FLOP/s
const Bandwidth kMem = parseBandwidth("500 GB/s");
const Bandwidth kFast = parseBandwidth("100 TB/s");

ComputeDieSpec testDie() {
  ComputeDieSpec d;
  d.name = "die[0]";
  d.peakFp16 = FlopRate{kPeak};
  d.peakFp8 = FlopRate{2 * kPeak};
  d.sramCapacity = parseBytes("64 MB");
  d.sramBandwidth = kFast;
  d.clockHz = 1'000'000'000;
  d.tile = TileShape{128, 128, 1};
  return d;
}

// ceil(a * 1e12 / perSecond), 128-bit, for the hand computations.
int64_t ceilPs(uint64_t a, uint64_t perSecond) {
  const unsigned __int128 n = static_cast<unsigned __int128>(a) * 1'000'000'000'000ull;
  return static_cast<int64_t>((n + perSecond - 1) / perSecond);
}

TEST(ComputeDie, LargeSquareGemmTakesFlopsOverPeak) {
  const uint64_t n = 4096;
  const uint64_t flops = 2 * n * n * n;  // 137438953472, no padding (4096 = 32 tiles)
  const OpCost c = gemmCost(testDie(), Gemm{n, n, n, DataType::Fp16}, kMem);
  EXPECT_EQ(c.flops, flops);
  EXPECT_EQ(c.paddedFlops, flops);
  EXPECT_EQ(c.bytes.value, 3 * n * n * 2);
  EXPECT_EQ(c.computeTime.ps(), 1'374'389'535);  // ceil(1374389534.72)
  EXPECT_EQ(c.memoryTime.ps(), 201'326'592);     // 100663296 B * 2 ps
  EXPECT_FALSE(c.memoryBound());
  EXPECT_EQ(gemmTime(testDie(), Gemm{n, n, n, DataType::Fp16}, kMem).ps(), 1'374'389'535);
  const Efficiency e = efficiency(c);
  EXPECT_EQ(e.idealPs, e.modelledPs);
  EXPECT_EQ(e.value(), 1.0);
}

TEST(ComputeDie, GemvIsMemoryBound) {
  const uint64_t n = 4096;
  const uint64_t bytes = (1 * n + n * n + 1 * n) * 2;  // 33570816
  const OpCost c = gemmCost(testDie(), Gemm{1, n, n, DataType::Fp16}, kMem);
  EXPECT_EQ(c.bytes.value, bytes);
  EXPECT_EQ(c.flops, 2 * n * n);
  EXPECT_EQ(c.paddedFlops, 2 * 128 * n * n);  // M padded to one 128-row tile
  EXPECT_EQ(c.computeTime.ps(), 42'949'673);  // ceil(42949672.96)
  EXPECT_EQ(c.memoryTime.ps(), 67'141'632);
  EXPECT_TRUE(c.memoryBound());
  EXPECT_EQ(c.time.ps(), static_cast<int64_t>(bytes * 2));
  EXPECT_EQ(gemmTime(testDie(), Gemm{1, n, n, DataType::Fp16}, kMem).ps(), 67'141'632);
  // Memory bound: padding costs nothing, the die runs at its roofline.
  EXPECT_EQ(gemmEfficiency(testDie(), Gemm{1, n, n, DataType::Fp16}, kMem).value(), 1.0);
}

TEST(ComputeDie, GemvFromFastMemoryPaysForTheWholeTile) {
  const uint64_t n = 4096;
  const OpCost c = gemmCost(testDie(), Gemm{1, n, n, DataType::Fp16}, kFast);
  EXPECT_EQ(c.memoryTime.ps(), ceilPs((2 * n + n * n) * 2, 100'000'000'000'000ull));  // 335709 (ceil of .16)
  EXPECT_EQ(c.memoryTime.ps(), 335'709);
  EXPECT_EQ(c.time.ps(), 42'949'673);
  EXPECT_FALSE(c.memoryBound());
  const Efficiency e = efficiency(c);
  EXPECT_EQ(e.idealPs, 335'709);  // max(ceil(33554432 FLOP / peak) = 335545, memory 335709)
  EXPECT_EQ(e.modelledPs, 42'949'673);
  EXPECT_DOUBLE_EQ(e.value(), 335709.0 / 42949673.0);
  EXPECT_LT(e.value(), 1.0 / 127);
}

TEST(ComputeDie, TilePaddingInM) {
  const uint64_t n = 4096;
  const ComputeDieSpec die = testDie();
  const OpCost c129 = gemmCost(die, Gemm{129, n, n, DataType::Fp16}, kMem);
  const OpCost c256 = gemmCost(die, Gemm{256, n, n, DataType::Fp16}, kMem);
  EXPECT_FALSE(c129.memoryBound());
  EXPECT_EQ(c129.paddedFlops, 2 * 256 * n * n);
  EXPECT_EQ(c129.time, c256.time);
  EXPECT_EQ(c129.time.ps(), 85'899'346);  // ceil(8589934592 / 100)
  EXPECT_EQ(c129.memoryTime.ps(), 71'335'936);  // (129*4096*2 + 4096^2) * 2 B * 2 ps
  const Efficiency e = efficiency(c129);
  // Unpadded compute ceil(2 * 129 * 4096^2 / 100) = 43285218 ps is below the memory time, so the
  // ideal roofline is memory bound; padding makes the op compute bound.
  EXPECT_EQ(testDie().peak(DataType::Fp16).timeFor(2 * 129 * n * n).ps(), 43'285'218);
  EXPECT_EQ(e.idealPs, 71'335'936);
  EXPECT_EQ(e.modelledPs, 85'899'346);
  EXPECT_DOUBLE_EQ(e.value(), 71335936.0 / 85899346.0);
  // M = 128 fits one tile exactly: no loss.
  EXPECT_EQ(gemmEfficiency(die, Gemm{128, n, n, DataType::Fp16}, kMem).value(), 1.0);
}

TEST(ComputeDie, TilePaddingInNAndK) {
  ComputeDieSpec die = testDie();
  die.tile = TileShape{64, 256, 64};
  const OpCost c = gemmCost(die, Gemm{64, 257, 65, DataType::Fp16}, kFast);
  EXPECT_EQ(c.paddedFlops, 2ull * 64 * 512 * 128);
  EXPECT_EQ(c.computeTime.ps(), ceilPs(2ull * 64 * 512 * 128, kPeak));
  EXPECT_EQ(padTo(0, 64), 0u);
  EXPECT_EQ(padTo(64, 64), 64u);
  EXPECT_EQ(padTo(65, 64), 128u);
}

TEST(ComputeDie, DataTypesSetWidthAndPeak) {
  const uint64_t n = 4096;
  const OpCost c = gemmCost(testDie(), Gemm{n, n, n, DataType::Fp8}, kMem);
  EXPECT_EQ(c.bytes.value, 3 * n * n);                       // 1 byte per element
  EXPECT_EQ(c.computeTime.ps(), 687'194'768);                // ceil(137438953472 / 200)
  EXPECT_EQ(gemmTime(testDie(), Gemm{n, n, n, DataType::Bf16}, kMem).ps(), 1'374'389'535);  // fp16 rate
  EXPECT_EQ(widthBytes(DataType::Int8), 1u);
  try {
    gemmTime(testDie(), Gemm{n, n, n, DataType::Int8}, kMem);
    FAIL() << "int8 on a die without int8 must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_NE(std::string(e.what()).find("die[0]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("int8"), std::string::npos) << e.what();
  }
}

TEST(ComputeDie, RefusesBadInput) {
  EXPECT_THROW(gemmTime(testDie(), Gemm{0, 1, 1, DataType::Fp16}, kMem), Error);
  EXPECT_THROW(gemmTime(testDie(), Gemm{1, 1, 1, DataType::Fp16}, Bandwidth{}), Error);
  ComputeDieSpec noTile = testDie();
  noTile.tile.k = 0;
  EXPECT_THROW(gemmTime(noTile, Gemm{1, 1, 1, DataType::Fp16}, kMem), Error);
  EXPECT_THROW(attentionTime(testDie(), Attention::decode(1, 32, 6, 128, 1024), kMem), Error);  // 32 % 6
  // 2 * 2^22 * 2^22 * 2^22 overflows 64-bit FLOPs.
  EXPECT_THROW(gemmTime(testDie(), Gemm{1ull << 22, 1ull << 22, 1ull << 22, DataType::Fp16}, kMem), Error);
}

TEST(ComputeDie, DecodeAttentionReadsTheKvCache) {
  // 4 sequences, 32 query heads in 8 KV groups (GQA 4), head dim 128, context 1024, fp16.
  const Attention a = Attention::decode(4, 32, 8, 128, 1024);
  const uint64_t kv = 4ull * 1024 * 8 * 128 * 2 * 2;  // 16 MiB of K and V
  const uint64_t qo = 2ull * 4 * 1 * 32 * 128 * 2;    // Q in, O out
  const OpCost c = attentionCost(testDie(), a, kMem);
  EXPECT_EQ(c.bytes.value, kv + qo);
  EXPECT_EQ(c.flops, 32ull * 2 * (2 * 4 * 1024 * 128));        // 32 groups, M = 4 (GQA group)
  EXPECT_EQ(c.paddedFlops, 32ull * 2 * (2 * 128 * 1024 * 128));  // M padded to 128
  EXPECT_EQ(c.computeTime.ps(), 21'474'837);                   // ceil(2147483648 / 100)
  EXPECT_TRUE(c.memoryBound());
  EXPECT_EQ(attentionTime(testDie(), a, kMem).ps(), static_cast<int64_t>((kv + qo) * 2));  // 33685504
}

TEST(ComputeDie, PrefillAttentionIsFlopBound) {
  const Attention a = Attention::prefill(1, 8, 8, 128, 2048);
  const uint64_t flops = 8ull * 2 * (2ull * 2048 * 2048 * 128);  // 17179869184, no padding
  const OpCost c = attentionCost(testDie(), a, kMem);
  EXPECT_EQ(c.flops, flops);
  EXPECT_EQ(c.paddedFlops, flops);
  EXPECT_EQ(c.bytes.value, 2048ull * 8 * 128 * 2 * 2 + 2ull * 2048 * 8 * 128 * 2);
  EXPECT_EQ(c.memoryTime.ps(), 33'554'432);
  EXPECT_FALSE(c.memoryBound());
  EXPECT_EQ(attentionTime(testDie(), a, kMem).ps(), 171'798'692);  // ceil(171798691.84)
  EXPECT_EQ(efficiency(c).value(), 1.0);
}

TEST(ComputeDie, FlopRateRoundsUp) {
  EXPECT_EQ(FlopRate{3}.timeFor(1).ps(), 333'333'333'334);
  EXPECT_EQ((1_TFLOPS).timeFor(1).ps(), 1);
  EXPECT_EQ((1_TFLOPS).timeFor(0).ps(), 0);
  EXPECT_THROW(FlopRate{}.timeFor(1), Error);
}

}  // namespace
}  // namespace wafersim::hw
