// The compute die's operator model (issue 4): closed-form, integer-picosecond execution times of a
// GEMM and of attention on one die, from a roofline corrected by tile quantization.
//
//  time(op) = max( ceil(paddedFlops * 1e12 / peak(dtype)), ceil(bytesMoved * 1e12 / memory) ) ps
//
//  * paddedFlops = 2 * ceil(M / tile.m) tile.m * ceil(N / tile.n) tile.n * ceil(K / tile.k) tile.k:
//    the systolic array / tensor-core tile always runs full, so a GEMV (M = 1) pays for tile.m rows.
//    This is why small-M, decode-time work runs far below peak.
//  * bytesMoved = (M*K activations in + K*N weights + M*N activations out) * width(dtype), unpadded
//    (padding is free in memory traffic: the padded rows are never fetched). The output is written
//    in the input data type (a simplification: no fp32 accumulators spilled).
//  * memory is the bandwidth the operands stream from (HBM, or the die's SRAM when they are
//    resident): the caller picks it, the model does not guess residency.
//  * sramBytes (OpCost) is zero here: only an array's GEMV mode stages operands through the SRAM
//    tier (array_split.h).
//
// Everything that reaches the results is integer: rates are uint64 FLOP/s, times are ps rounded up
// (128-bit intermediates). The efficiency factor is an exact ratio of two integer times; value() as
// a double is for reports only, never for event ordering.
#pragma once

#include <cstdint>
#include <string>

#include "models/hardware/units.h"
#include "sim/time.h"

namespace wafersim::hw {

enum class DataType : uint8_t { Fp16, Bf16, Fp8, Int8 };

const char* toString(DataType t);
uint64_t widthBytes(DataType t);  // 2, 2, 1, 1

// Operations (FLOP, or integer OP for int8) per second.
struct FlopRate {
  uint64_t flopsPerSecond = 0;
  constexpr auto operator<=>(const FlopRate&) const = default;
  // ceil(flops * 1e12 / rate) ps; a zero rate or a result past int64 throws Error{InvalidConfig}.
  Duration timeFor(uint64_t flops) const;
};

inline namespace literals {
constexpr FlopRate operator""_TFLOPS(unsigned long long v) { return FlopRate{v * 1'000'000'000'000ull}; }
constexpr FlopRate operator""_GFLOPS(unsigned long long v) { return FlopRate{v * 1'000'000'000ull}; }
}  // namespace literals

// The unit of work the die's matrix engine executes; every GEMM dimension is padded up to it.
// {1, 1, 1} disables quantization.
struct TileShape {
  uint64_t m = 1;
  uint64_t n = 1;
  uint64_t k = 1;
  constexpr auto operator<=>(const TileShape&) const = default;
};

struct ComputeDieSpec {
  std::string name;
  FlopRate peakFp16;  // also bf16
  FlopRate peakFp8;   // zero: not supported (an op in fp8 throws Error{InvalidConfig})
  FlopRate peakInt8;  // dense INT8 OP/s; zero: not supported
  Bytes sramCapacity;
  Bandwidth sramBandwidth;
  uint64_t clockHz = 0;
  TileShape tile;
  Energy energyPerFlop;       // dynamic energy per executed (padded) FLOP, fJ
  EnergyPerBit sramEnergy;    // on-die SRAM access energy

  FlopRate peak(DataType t) const;  // throws Error{InvalidConfig} naming the die when zero
  void validate() const;            // nonzero fp16 peak, clock and tile dims
};

// C[M x N] = A[M x K] * B[K x N]; B is the weight matrix.
struct Gemm {
  uint64_t m = 0;
  uint64_t n = 0;
  uint64_t k = 0;
  DataType dtype = DataType::Fp16;
};

// Multi-head (or grouped-query) attention of `batch` sequences, each with `queryLength` new tokens
// attending to `contextLength` keys: decode is queryLength = 1 (KV-cache read bound), prefill is
// queryLength = contextLength (FLOP bound). heads % kvHeads == 0; the heads of one KV group share
// its K/V reads, so each (sequence, KV head) runs two GEMMs with M = queryLength * heads / kvHeads:
//   scores = Q K^T  (M, N = contextLength, K = headDim)
//   out    = P V    (M, N = headDim,       K = contextLength)
// Bytes moved = K and V (batch * contextLength * kvHeads * headDim * 2 * width)
//             + Q in and O out (2 * batch * queryLength * heads * headDim * width).
// The full score matrix is computed (causal masking is not exploited), softmax FLOPs are ignored.
struct Attention {
  uint64_t batch = 1;
  uint64_t heads = 0;
  uint64_t kvHeads = 0;
  uint64_t headDim = 0;
  uint64_t contextLength = 0;
  uint64_t queryLength = 1;
  DataType dtype = DataType::Fp16;

  static Attention decode(uint64_t batch, uint64_t heads, uint64_t kvHeads, uint64_t headDim,
                          uint64_t contextLength, DataType dtype = DataType::Fp16);
  static Attention prefill(uint64_t batch, uint64_t heads, uint64_t kvHeads, uint64_t headDim,
                           uint64_t promptLength, DataType dtype = DataType::Fp16);
};

// Where an op's operands stream from: the die's DRAM, or its on-die SRAM tier (resident there).
enum class OperandSource : uint8_t { Dram, Sram };

// The exact breakdown of one operator's cost; every field is an integer.
struct OpCost {
  uint64_t flops = 0;        // useful FLOPs (unpadded)
  uint64_t paddedFlops = 0;  // FLOPs the tiles execute
  Bytes bytes;               // bytes moved to / from `memory`
  // Bytes moved through the die's SRAM tier besides `bytes` (written into it and read back from
  // it): GEMV mode's staged weights (array_split.h); zero for every other op. Timed at the SRAM
  // bandwidth, in parallel with `bytes`, and charged at the SRAM's energy.
  Bytes sramBytes;
  Duration computeTime;      // paddedFlops / peak, rounded up
  // max(bytes / memory bandwidth, sramBytes / SRAM bandwidth), each rounded up
  Duration memoryTime;
  Duration idealTime;        // max(flops / peak, memoryTime): the unquantized roofline
  Duration time;             // max(computeTime, memoryTime): the modelled time
  bool memoryBound() const { return memoryTime >= computeTime; }
};

// idealTime / modelledTime, exactly; value() in (0, 1] is for reports only.
struct Efficiency {
  int64_t idealPs = 0;
  int64_t modelledPs = 0;
  double value() const;
};

OpCost gemmCost(const ComputeDieSpec& die, const Gemm& op, Bandwidth memory);
OpCost attentionCost(const ComputeDieSpec& die, const Attention& op, Bandwidth memory);

Duration gemmTime(const ComputeDieSpec& die, const Gemm& op, Bandwidth memory);
Duration attentionTime(const ComputeDieSpec& die, const Attention& op, Bandwidth memory);

Efficiency efficiency(const OpCost& cost);
Efficiency gemmEfficiency(const ComputeDieSpec& die, const Gemm& op, Bandwidth memory);

// ceil(x / tile) * tile, checked.
uint64_t padTo(uint64_t x, uint64_t tile);

}  // namespace wafersim::hw
