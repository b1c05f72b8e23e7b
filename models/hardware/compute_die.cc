#include "models/hardware/compute_die.h"

#include <algorithm>
#include <limits>

#include "sim/error.h"

namespace wafersim::hw {
namespace {

using u128 = unsigned __int128;

uint64_t checkedMul(uint64_t a, uint64_t b, const char* what) {
  uint64_t r = 0;
  WAFERSIM_REQUIRE(!__builtin_mul_overflow(a, b, &r), what, " overflows 64 bits (", a, " x ", b, ")");
  return r;
}

uint64_t checkedAdd(uint64_t a, uint64_t b, const char* what) {
  uint64_t r = 0;
  WAFERSIM_REQUIRE(!__builtin_add_overflow(a, b, &r), what, " overflows 64 bits");
  return r;
}

// 2 * m * n * k, checked.
uint64_t gemmFlops(uint64_t m, uint64_t n, uint64_t k) {
  return checkedMul(2, checkedMul(checkedMul(m, n, "GEMM FLOPs"), k, "GEMM FLOPs"), "GEMM FLOPs");
}

uint64_t paddedGemmFlops(const TileShape& t, uint64_t m, uint64_t n, uint64_t k) {
  return gemmFlops(padTo(m, t.m), padTo(n, t.n), padTo(k, t.k));
}

OpCost finish(const ComputeDieSpec& die, DataType dtype, uint64_t flops, uint64_t paddedFlops, Bytes bytes,
              Bandwidth memory) {
  const FlopRate peak = die.peak(dtype);
  WAFERSIM_REQUIRE(memory.bytesPerSecond != 0, "die ", die.name, ": operator over a zero memory bandwidth");
  OpCost c;
  c.flops = flops;
  c.paddedFlops = paddedFlops;
  c.bytes = bytes;
  c.computeTime = peak.timeFor(paddedFlops);
  c.memoryTime = memory.transferTime(bytes);
  c.idealTime = std::max(peak.timeFor(flops), c.memoryTime);
  c.time = std::max(c.computeTime, c.memoryTime);
  return c;
}

}  // namespace

const char* toString(DataType t) {
  switch (t) {
    case DataType::Fp16: return "fp16";
    case DataType::Bf16: return "bf16";
    case DataType::Fp8: return "fp8";
    case DataType::Int8: return "int8";
  }
  return "?";
}

uint64_t widthBytes(DataType t) {
  switch (t) {
    case DataType::Fp16:
    case DataType::Bf16: return 2;
    case DataType::Fp8:
    case DataType::Int8: return 1;
  }
  fail(ErrorKind::Internal, "unknown data type ", static_cast<int>(t));
}

Duration FlopRate::timeFor(uint64_t flops) const {
  WAFERSIM_REQUIRE(flopsPerSecond != 0, "compute at a zero FLOP rate");
  const u128 num = static_cast<u128>(flops) * 1'000'000'000'000ull;  // < 2^104
  const u128 ps = (num + flopsPerSecond - 1) / flopsPerSecond;
  WAFERSIM_REQUIRE(ps <= static_cast<u128>(std::numeric_limits<int64_t>::max()), flops, " FLOPs at ",
                   flopsPerSecond, " FLOP/s exceeds 64-bit picoseconds");
  return Duration::fromPs(static_cast<int64_t>(ps));
}

FlopRate ComputeDieSpec::peak(DataType t) const {
  FlopRate r;
  switch (t) {
    case DataType::Fp16:
    case DataType::Bf16: r = peakFp16; break;
    case DataType::Fp8: r = peakFp8; break;
    case DataType::Int8: r = peakInt8; break;
  }
  WAFERSIM_REQUIRE(r.flopsPerSecond != 0, "die ", name, ": data type ", toString(t), " is not supported (zero peak)");
  return r;
}

void ComputeDieSpec::validate() const {
  WAFERSIM_REQUIRE(peakFp16.flopsPerSecond != 0, "die ", name, ": zero fp16 peak");
  WAFERSIM_REQUIRE(clockHz != 0, "die ", name, ": zero clock");
  WAFERSIM_REQUIRE(tile.m != 0 && tile.n != 0 && tile.k != 0, "die ", name, ": tile dimensions must be nonzero (",
                   tile.m, " x ", tile.n, " x ", tile.k, ")");
}

uint64_t padTo(uint64_t x, uint64_t tile) {
  WAFERSIM_REQUIRE(tile != 0, "padding to a zero tile");
  const uint64_t tiles = x / tile + (x % tile != 0 ? 1 : 0);
  return checkedMul(tiles, tile, "padded dimension");
}

Attention Attention::decode(uint64_t batch, uint64_t heads, uint64_t kvHeads, uint64_t headDim,
                            uint64_t contextLength, DataType dtype) {
  return Attention{batch, heads, kvHeads, headDim, contextLength, 1, dtype};
}

Attention Attention::prefill(uint64_t batch, uint64_t heads, uint64_t kvHeads, uint64_t headDim,
                             uint64_t promptLength, DataType dtype) {
  return Attention{batch, heads, kvHeads, headDim, promptLength, promptLength, dtype};
}

OpCost gemmCost(const ComputeDieSpec& die, const Gemm& op, Bandwidth memory) {
  die.validate();
  WAFERSIM_REQUIRE(op.m != 0 && op.n != 0 && op.k != 0, "die ", die.name, ": empty GEMM (", op.m, " x ", op.n,
                   " x ", op.k, ")");
  const uint64_t w = widthBytes(op.dtype);
  const uint64_t elements =
      checkedAdd(checkedAdd(checkedMul(op.m, op.k, "GEMM bytes"), checkedMul(op.k, op.n, "GEMM bytes"), "GEMM bytes"),
                 checkedMul(op.m, op.n, "GEMM bytes"), "GEMM bytes");
  return finish(die, op.dtype, gemmFlops(op.m, op.n, op.k), paddedGemmFlops(die.tile, op.m, op.n, op.k),
                Bytes{checkedMul(elements, w, "GEMM bytes")}, memory);
}

OpCost attentionCost(const ComputeDieSpec& die, const Attention& op, Bandwidth memory) {
  die.validate();
  WAFERSIM_REQUIRE(op.batch != 0 && op.heads != 0 && op.kvHeads != 0 && op.headDim != 0 && op.contextLength != 0 &&
                       op.queryLength != 0,
                   "die ", die.name, ": empty attention");
  WAFERSIM_REQUIRE(op.heads % op.kvHeads == 0, "die ", die.name, ": ", op.heads, " heads are not a multiple of ",
                   op.kvHeads, " KV heads");
  const uint64_t w = widthBytes(op.dtype);
  const uint64_t groups = checkedMul(op.batch, op.kvHeads, "attention size");  // independent (sequence, KV head)
  const uint64_t m = checkedMul(op.queryLength, op.heads / op.kvHeads, "attention size");
  const uint64_t perGroup = checkedAdd(gemmFlops(m, op.contextLength, op.headDim),
                                       gemmFlops(m, op.headDim, op.contextLength), "attention FLOPs");
  const uint64_t perGroupPadded =
      checkedAdd(paddedGemmFlops(die.tile, m, op.contextLength, op.headDim),
                 paddedGemmFlops(die.tile, m, op.headDim, op.contextLength), "attention FLOPs");
  const uint64_t kv = checkedMul(checkedMul(checkedMul(groups, op.contextLength, "KV bytes"), op.headDim, "KV bytes"),
                                 2 * w, "KV bytes");
  const uint64_t qo = checkedMul(
      checkedMul(checkedMul(checkedMul(op.batch, op.queryLength, "Q/O bytes"), op.heads, "Q/O bytes"), op.headDim,
                 "Q/O bytes"),
      2 * w, "Q/O bytes");
  return finish(die, op.dtype, checkedMul(groups, perGroup, "attention FLOPs"),
                checkedMul(groups, perGroupPadded, "attention FLOPs"), Bytes{checkedAdd(kv, qo, "attention bytes")},
                memory);
}

Duration gemmTime(const ComputeDieSpec& die, const Gemm& op, Bandwidth memory) {
  return gemmCost(die, op, memory).time;
}

Duration attentionTime(const ComputeDieSpec& die, const Attention& op, Bandwidth memory) {
  return attentionCost(die, op, memory).time;
}

Efficiency efficiency(const OpCost& cost) { return Efficiency{cost.idealTime.ps(), cost.time.ps()}; }

Efficiency gemmEfficiency(const ComputeDieSpec& die, const Gemm& op, Bandwidth memory) {
  return efficiency(gemmCost(die, op, memory));
}

double Efficiency::value() const {
  if (modelledPs == 0) return 1.0;
  return static_cast<double>(idealPs) / static_cast<double>(modelledPs);
}

}  // namespace wafersim::hw
