#include "models/hardware/array_split.h"

#include <algorithm>

#include "sim/error.h"

namespace wafersim::hw {
namespace {

FlopRate scaled(FlopRate rate, uint64_t rows, uint64_t of) {
  return FlopRate{static_cast<uint64_t>(static_cast<unsigned __int128>(rate.flopsPerSecond) * rows / of)};
}

uint64_t mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  WAFERSIM_REQUIRE(!__builtin_mul_overflow(a, b, &r), "GEMV-mode bytes overflow 64 bits");
  return r;
}

// GEMV mode (see array_split.h): `rows` rows each read the `matrix` bytes (weights, or K/V);
// `once` bytes (activations, Q/O) move once. Staged through the SRAM tier where it can hold a
// double-buffered tile and the operands come from the DRAM; else re-streamed from `memory`.
OpCost gemvMode(const ComputeDieSpec& array, const ComputeDieSpec& spec, DataType dtype, OpCost c, uint64_t matrix,
                uint64_t rows, uint64_t once, Bandwidth memory, OperandSource source) {
  const uint64_t buffer = mul(mul(2 * array.tile.m, array.tile.n), widthBytes(dtype));
  const bool staged = source == OperandSource::Dram && array.sramBandwidth.bytesPerSecond > 0 &&
                      array.sramCapacity.value >= buffer;
  uint64_t bytes = 0;
  WAFERSIM_REQUIRE(!__builtin_add_overflow(staged ? matrix : mul(matrix, rows), once, &bytes),
                   "GEMV-mode bytes overflow 64 bits");
  c.bytes = Bytes{bytes};
  c.sramBytes = Bytes{staged ? mul(matrix, rows) : 0};
  c.memoryTime = memory.transferTime(c.bytes);
  if (staged) c.memoryTime = std::max(c.memoryTime, array.sramBandwidth.transferTime(c.sramBytes));
  c.idealTime = std::max(spec.peak(dtype).timeFor(c.flops), c.memoryTime);
  c.time = std::max(c.computeTime, c.memoryTime);
  return c;
}

OpCost costOf(const ComputeDieSpec& array, ArrayPartition partition, const SplitOp& op) {
  const OperandSource source = op.fromDram ? OperandSource::Dram : OperandSource::Sram;
  return op.attention ? attentionOnPartition(array, partition, op.attn, op.memory, source)
                      : gemmOnPartition(array, partition, op.gemm, op.memory, source);
}

}  // namespace

OpCost gemmOnPartition(const ComputeDieSpec& array, ArrayPartition partition, const Gemm& op, Bandwidth memory,
                       OperandSource source) {
  const ComputeDieSpec spec = partitionSpec(array, partition);
  const OpCost c = gemmCost(spec, op, memory);
  if (!partition.vectorMode || op.m <= 1) return c;
  const uint64_t w = widthBytes(op.dtype);
  return gemvMode(array, spec, op.dtype, c, mul(mul(op.k, op.n), w), op.m, mul(mul(op.m, op.k) + mul(op.m, op.n), w),
                  memory, source);
}

OpCost attentionOnPartition(const ComputeDieSpec& array, ArrayPartition partition, const Attention& op,
                            Bandwidth memory, OperandSource source) {
  const ComputeDieSpec spec = partitionSpec(array, partition);
  const OpCost c = attentionCost(spec, op, memory);
  const uint64_t rows = op.queryLength * (op.heads / op.kvHeads);  // query rows sharing one K/V read
  if (!partition.vectorMode || rows <= 1) return c;
  const uint64_t w = widthBytes(op.dtype);
  const uint64_t kv = mul(mul(mul(mul(op.batch, op.kvHeads), op.contextLength), op.headDim), 2 * w);
  return gemvMode(array, spec, op.dtype, c, kv, rows, c.bytes.value - kv, memory, source);
}

ComputeDieSpec partitionSpec(const ComputeDieSpec& array, ArrayPartition partition) {
  if (partition.rows == 0 && !partition.vectorMode) return array;
  const uint64_t R = array.tile.m;
  WAFERSIM_REQUIRE(partition.rows > 0 && partition.rows <= R, "die ", array.name, ": an array partition of ",
                   partition.rows, " rows (the array has ", R, ")");
  ComputeDieSpec p = array;
  p.name = array.name + (partition.vectorMode ? " (GEMV partition)" : " (GEMM partition)");
  p.peakFp16 = scaled(array.peakFp16, partition.rows, R);
  p.peakFp8 = scaled(array.peakFp8, partition.rows, R);
  p.peakInt8 = scaled(array.peakInt8, partition.rows, R);
  p.tile = partition.vectorMode ? TileShape{1, 1, 1} : TileShape{partition.rows, array.tile.n, array.tile.k};
  return p;
}

SplitPlan chooseSplit(const ComputeDieSpec& array, Bandwidth dram, const std::vector<SplitUnit>& units,
                      uint32_t granularity) {
  const uint32_t R = static_cast<uint32_t>(array.tile.m);
  WAFERSIM_REQUIRE(granularity > 0 && granularity <= R && R % granularity == 0, "die ", array.name,
                   ": array split granularity ", granularity, " rows does not divide the array's ", R, " rows");
  SplitPlan best;
  bool first = true;
  const size_t n = units.size();
  std::vector<uint8_t> onGemv(n, 0);
  std::vector<Duration> expectedStart(n);
  std::vector<uint32_t> order(n);
  for (uint32_t rows = 0; rows <= R; rows += granularity) {
    const bool hasGemm = rows < R, hasGemv = rows > 0;
    // Static (rows 0): the whole array as it is; else the two partitions.
    const ArrayPartition gemmPart = rows == 0 ? ArrayPartition{} : ArrayPartition{R - rows, false};
    const ArrayPartition gemvPart{rows, true};
    std::vector<std::vector<OpCost>> costs(n);  // per unit, its ops on its partition
    Duration gemmBusy = Duration::zero(), gemvBusy = Duration::zero();
    for (size_t i = 0; i < n; ++i) {
      std::vector<OpCost> onGemm, onVector;
      Duration gemmTime = Duration::zero(), vectorTime = Duration::zero();
      for (const SplitOp& op : units[i]) {
        if (hasGemm) {
          onGemm.push_back(costOf(array, gemmPart, op));
          gemmTime = gemmTime + onGemm.back().time;
        }
        if (hasGemv) {
          onVector.push_back(costOf(array, gemvPart, op));
          vectorTime = vectorTime + onVector.back().time;
        }
      }
      const bool vector = !hasGemm || (hasGemv && gemvBusy + vectorTime < gemmBusy + gemmTime);
      onGemv[i] = vector ? 1 : 0;
      Duration& busy = vector ? gemvBusy : gemmBusy;
      expectedStart[i] = busy;
      busy = busy + (vector ? vectorTime : gemmTime);
      costs[i] = vector ? std::move(onVector) : std::move(onGemm);
    }
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return expectedStart[a] < expectedStart[b]; });
    // The replay (die.h's timing, from an idle die).
    Duration free[2] = {Duration::zero(), Duration::zero()}, dramFree = Duration::zero(), end = Duration::zero();
    for (uint32_t i : order) {
      Duration& engine = free[onGemv[i]];
      for (size_t k = 0; k < units[i].size(); ++k) {
        const OpCost& c = costs[i][k];
        const Duration start = engine;
        Duration memEnd = start + c.memoryTime;
        if (units[i][k].fromDram && c.bytes.value > 0) {
          dramFree = std::max(start, dramFree) + dram.transferTime(c.bytes);
          memEnd = std::max(memEnd, dramFree);
        }
        engine = std::max(start + c.computeTime, memEnd);
        end = std::max(end, engine);
      }
    }
    if (first) best.staticEstimate = end;
    if (first || end < best.estimate) {
      best.gemvRows = rows;
      best.onGemv = onGemv;
      best.order = order;
      best.estimate = end;
    }
    first = false;
  }
  return best;
}

}  // namespace wafersim::hw
