// The adaptive GEMV/GEMM array split (models/hardware/array_split.h): partition rooflines and the
// per-phase choice, on a 128 x 128 array at 1 GHz (32.768 TFLOPS fp16) with 2 TB/s of DRAM,
// worked out by hand.
#include <gtest/gtest.h>

#include "models/hardware/array_split.h"
#include "models/hardware/presets.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

ComputeDieSpec array() {
  ComputeDieSpec c;
  c.name = "array";
  c.clockHz = 1'000'000'000;
  c.tile = TileShape{128, 128, 1};
  c.peakFp16 = FlopRate{128ull * 128 * 2 * c.clockHz};
  return c;
}

const Bandwidth kDram{2'000'000'000'000};

SplitUnit gemmUnit(uint64_t m, uint64_t n, uint64_t k) {
  return {SplitOp{false, Gemm{m, n, k, DataType::Fp16}, {}, kDram, true}};
}

TEST(ArraySplit, PartitionRooflines) {
  const ComputeDieSpec gemv = partitionSpec(array(), {32, true});
  EXPECT_EQ(gemv.peakFp16.flopsPerSecond, 32ull * 128 * 2 * 1'000'000'000);
  EXPECT_EQ(gemv.tile, (TileShape{1, 1, 1}));
  const ComputeDieSpec gemm = partitionSpec(array(), {96, false});
  EXPECT_EQ(gemm.peakFp16.flopsPerSecond, 96ull * 128 * 2 * 1'000'000'000);
  EXPECT_EQ(gemm.tile, (TileShape{96, 128, 1}));
  EXPECT_EQ(partitionSpec(array(), {}).tile, array().tile);  // rows 0: the whole array as it is
  EXPECT_THROW(partitionSpec(array(), {129, true}), Error);
}

TEST(ArraySplit, AGemvInGemvModeIsBoundByItsWeightsNotByTheTile) {
  // M = 1, N = K = 2048 fp16: 8,388,608 useful FLOPs, 8,396,800 B (weights 8,388,608 + 2 x 4096).
  const Gemm g{1, 2048, 2048, DataType::Fp16};
  // Static array: M padded to 128 rows: 128 x 8,388,608 FLOPs / 32.768 TFLOPS = 32.768 us.
  EXPECT_EQ(gemmCost(array(), g, kDram).time, Duration::fromPs(32'768'000));
  // GEMV mode on all 128 rows: 8,388,608 FLOPs take 256 ns; the 8,396,800 B take 4.1984 us.
  const OpCost v = gemmCost(partitionSpec(array(), {128, true}), g, kDram);
  EXPECT_EQ(v.computeTime, Duration::fromPs(256'000));
  EXPECT_EQ(v.time, Duration::fromPs(4'198'400));
}

TEST(ArraySplit, GemvModeStreamsTheWeightsOncePerRow) {
  // 4 rows: the weights 4 times, (4 x 2048 + 4 x 2048 x 2048 + 4 x 2048) x 2 B = 33,587,200 B,
  // 16.7936 us at 2 TB/s; the GEMM mode reads them once but pads to 128 rows (32.768 us).
  const Gemm g{4, 2048, 2048, DataType::Fp16};
  const OpCost v = gemmOnPartition(array(), {128, true}, g, kDram, OperandSource::Dram);
  EXPECT_EQ(v.bytes.value, 33'587'200u);
  EXPECT_EQ(v.time, Duration::fromPs(16'793'600));
  EXPECT_EQ(gemmOnPartition(array(), {}, g, kDram, OperandSource::Dram).time, Duration::fromPs(32'768'000));
  // MLA decode attention (16 heads on one 576-wide KV head, 1000 keys): 16 query rows share each
  // K/V read on the GEMM partition; in GEMV mode each streams it: 16 x 2,304,000 + 36,864 B.
  const Attention a = Attention::decode(1, 16, 1, 576, 1000, DataType::Fp16);
  EXPECT_EQ(attentionOnPartition(array(), {}, a, kDram, OperandSource::Dram).bytes.value, 2'304'000u + 36'864u);
  EXPECT_EQ(attentionOnPartition(array(), {128, true}, a, kDram, OperandSource::Dram).bytes.value,
            16u * 2'304'000 + 36'864);
}

// The array with an A3D-MoE-style SRAM tier (8 TB/s, 32 MB) to stage GEMV-mode weights in.
ComputeDieSpec arrayWithSram(uint64_t capacity = 32'000'000) {
  ComputeDieSpec c = array();
  c.sramCapacity = Bytes{capacity};
  c.sramBandwidth = Bandwidth{8'000'000'000'000};
  c.sramEnergy = EnergyPerBit{100};
  return c;
}

TEST(ArraySplit, GemvModeStagesTheWeightsThroughTheSramTier) {
  // 16 rows of 2048 x 2048 fp16 weights (W = 8,388,608 B), activations 16 x 2048 x 2 x 2 B =
  // 131,072 B. The DRAM gives W and the activations once: 8,519,680 B, 4.25984 us at 2 TB/s. The
  // SRAM takes W written once and read by the other 15 rows: 16 W = 134,217,728 B, 16.777216 us at
  // 8 TB/s, the bound (the two streams overlap). Compute: 134,217,728 FLOPs at 32.768 TFLOPS,
  // 4.096 us. Re-streamed without the SRAM tier it was 16 W + 131,072 B from the DRAM, 67.1744 us.
  const Gemm g{16, 2048, 2048, DataType::Fp16};
  const OpCost v = gemmOnPartition(arrayWithSram(), {128, true}, g, kDram, OperandSource::Dram);
  EXPECT_EQ(v.bytes.value, 8'519'680u);
  EXPECT_EQ(v.sramBytes.value, 134'217'728u);
  EXPECT_EQ(v.computeTime, Duration::fromPs(4'096'000));
  EXPECT_EQ(v.memoryTime, Duration::fromPs(16'777'216));
  EXPECT_EQ(v.time, Duration::fromPs(16'777'216));
  EXPECT_EQ(gemmOnPartition(array(), {128, true}, g, kDram, OperandSource::Dram).time, Duration::fromPs(67'174'400));
  // 4 rows: DRAM W + 32,768 B (4.210688 us) now bounds the SRAM's 4 W (4.194304 us).
  const OpCost four = gemmOnPartition(arrayWithSram(), {128, true}, Gemm{4, 2048, 2048, DataType::Fp16}, kDram,
                                      OperandSource::Dram);
  EXPECT_EQ(four.bytes.value, 8'421'376u);
  EXPECT_EQ(four.sramBytes.value, 33'554'432u);
  EXPECT_EQ(four.time, Duration::fromPs(4'210'688));
  // GEMM mode keeps its weights in the PEs: nothing staged; one row has nothing to reuse.
  EXPECT_EQ(gemmOnPartition(arrayWithSram(), {112, false}, g, kDram, OperandSource::Dram).sramBytes.value, 0u);
  EXPECT_EQ(gemmOnPartition(arrayWithSram(), {128, true}, Gemm{1, 2048, 2048, DataType::Fp16}, kDram,
                            OperandSource::Dram)
                .sramBytes.value,
            0u);
  // MLA decode attention: its K/V (2,304,000 B) once from the DRAM with Q/O (36,864 B); the 16
  // query rows read it through the SRAM: 16 x 2,304,000 B.
  const Attention a = Attention::decode(1, 16, 1, 576, 1000, DataType::Fp16);
  const OpCost at = attentionOnPartition(arrayWithSram(), {128, true}, a, kDram, OperandSource::Dram);
  EXPECT_EQ(at.bytes.value, 2'304'000u + 36'864u);
  EXPECT_EQ(at.sramBytes.value, 16u * 2'304'000);
}

TEST(ArraySplit, GemvModeStagesOnlyFromDramAndWhereTwoTilesFit) {
  const Gemm g{16, 2048, 2048, DataType::Fp16};
  // Already SRAM-resident (a V-Cache hit): every row reads the SRAM, 16 W + activations, nothing staged.
  const Bandwidth sram = arrayWithSram().sramBandwidth;
  const OpCost resident = gemmOnPartition(arrayWithSram(), {128, true}, g, sram, OperandSource::Sram);
  EXPECT_EQ(resident.bytes.value, 16u * 8'388'608 + 131'072);
  EXPECT_EQ(resident.sramBytes.value, 0u);
  // Double buffering needs two 128 x 128 fp16 tiles: 65,536 B.
  EXPECT_EQ(gemmOnPartition(arrayWithSram(65'535), {128, true}, g, kDram, OperandSource::Dram).sramBytes.value, 0u);
  EXPECT_EQ(gemmOnPartition(arrayWithSram(65'536), {128, true}, g, kDram, OperandSource::Dram).sramBytes.value,
            16u * 8'388'608);
}

TEST(ArraySplit, StagingLetsGemvModeTakeMoreTokensThanTheStaticArray) {
  // 16 tokens: static 32.768 us (padded to 128 rows); GEMV mode re-streamed 67.1744 us, so the
  // split keeps the static array; staged 16.777216 us, so the whole array goes to GEMV mode.
  EXPECT_EQ(chooseSplit(array(), kDram, {gemmUnit(16, 2048, 2048), gemmUnit(16, 2048, 2048)}, 16).gemvRows, 0u);
  const SplitPlan p = chooseSplit(arrayWithSram(), kDram, {gemmUnit(16, 2048, 2048), gemmUnit(16, 2048, 2048)}, 16);
  EXPECT_GT(p.gemvRows, 0u);
  EXPECT_LT(p.estimate, p.staticEstimate);
}

TEST(ArraySplit, GemmWorkKeepsTheStaticArray) {
  // Two 128 x 2048 x 2048 GEMMs: full tiles, compute-bound (1.073741824 GFLOP, 32.768 us each on
  // the whole array); any GEMV partition only slows them.
  const SplitPlan p = chooseSplit(array(), kDram, {gemmUnit(128, 2048, 2048), gemmUnit(128, 2048, 2048)}, 16);
  EXPECT_EQ(p.gemvRows, 0u);
  EXPECT_EQ(p.estimate, p.staticEstimate);
  EXPECT_EQ(p.estimate, Duration::fromPs(2 * 32'768'000));
}

TEST(ArraySplit, GemvWorkTakesTheWholeArrayInGemvMode) {
  // Two GEMVs: 32.768 us each on the static array; in GEMV mode each is 4.1984 us of DRAM, and
  // the two share the DRAM: 8.3968 us whatever the split, so the fewest GEMV rows that reach it
  // win. With 16 rows (4.096 TFLOPS) one GEMV computes in 2.048 us < 4.1984 us: the DRAM bound.
  const SplitPlan p = chooseSplit(array(), kDram, {gemmUnit(1, 2048, 2048), gemmUnit(1, 2048, 2048)}, 16);
  EXPECT_EQ(p.staticEstimate, Duration::fromPs(2 * 32'768'000));
  EXPECT_EQ(p.estimate, Duration::fromPs(2 * 4'198'400));
  EXPECT_GT(p.gemvRows, 0u);
  EXPECT_EQ(p.onGemv, (std::vector<uint8_t>{1, 1}));
}

TEST(ArraySplit, AMixedPhaseRunsBothPartitionsAtOnce) {
  // A 448-token prefill GEMM beside a decode GEMV. Static: the GEMM in 4 passes of 128 rows
  // (32.768 us each: a pass of r rows takes 2 r N K / (r x 256 GFLOP/s) whatever r), then the GEMV
  // padded to a pass: 5 x 32.768 us. Split 16 GEMV rows: the GEMM in 4 passes of 112 rows
  // (131.072 us) while the GEMV streams its weights (4.1984 us) beside it.
  const std::vector<SplitUnit> units = {gemmUnit(448, 2048, 2048), gemmUnit(1, 2048, 2048)};
  const SplitPlan p = chooseSplit(array(), kDram, units, 16);
  EXPECT_EQ(p.staticEstimate, Duration::fromPs(5 * 32'768'000));
  EXPECT_EQ(p.gemvRows, 16u);
  EXPECT_EQ(p.onGemv, (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(p.estimate, Duration::fromPs(4 * 32'768'000));
}

TEST(ArraySplit, NeverAboveTheStaticEstimate) {
  for (uint64_t m : {1, 3, 17, 128, 300})
    for (uint64_t m2 : {1, 64, 1000}) {
      const SplitPlan p = chooseSplit(array(), kDram, {gemmUnit(m, 2816, 2048), gemmUnit(m2, 2048, 1408)}, 16);
      EXPECT_LE(p.estimate, p.staticEstimate) << m << " " << m2;
    }
}

TEST(ArraySplit, AGranularityThatDoesNotDivideTheRowsIsRefused) {
  EXPECT_THROW(chooseSplit(array(), kDram, {gemmUnit(1, 8, 8)}, 48), Error);
  EXPECT_THROW(chooseSplit(array(), kDram, {gemmUnit(1, 8, 8)}, 0), Error);
}

}  // namespace
}  // namespace wafersim::hw
