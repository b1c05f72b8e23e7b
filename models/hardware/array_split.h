// The adaptive GEMV/GEMM split of a systolic array (A3D-MoE, research/seeds.md 1): at run time
// the array's rows are divided between a GEMM partition and a GEMV partition that work at once.
//
// A partition of r of the array's R = tile.m rows:
//   GEMM mode   a systolic array of r x tile.n PEs: tile {r, tile.n, tile.k}, peak x r / R; a GEMM
//               pads M to r rows (a decode GEMV on the full array runs 1 of its R rows);
//   GEMV mode   the same PEs as vector MAC units fed with streamed weights (in the 3D stack, over
//               the bond from the DRAM / SRAM tier above): no tile padding, peak x r / R, but the
//               PEs keep no weights: each of the M rows (tokens; for an attention, the query rows
//               of a KV group) reads the weight matrix (the K/V) again. Where the rows' reads come
//               from:
//     staged    the die has an SRAM tier (nonzero bandwidth) with room for two array tiles of the
//               matrix (2 x tile.m x tile.n elements) and the operands come from the DRAM: the
//               matrix streams from the DRAM once, tile by tile, into the SRAM tier (the V-Cache
//               of A3D-MoE); the first row consumes each tile as it arrives and the other M - 1
//               rows re-read it from the SRAM before the tile is replaced. Reuse across the rows
//               needs only the tile that is in use, and a second one to fill meanwhile (double
//               buffering), not the whole matrix: DRAM bytes = matrix + activations (or Q/O), once;
//               SRAM bytes (OpCost::sramBytes) = M x matrix (one write, M - 1 reads). The two
//               streams overlap, so memory time = max(DRAM bytes / DRAM bw, SRAM bytes / SRAM bw).
//     re-streamed  otherwise (no SRAM tier, or the operands are already SRAM-resident, where
//               staging them again gains nothing): every row streams the matrix from `memory`,
//               bytes = (M K + M K N + M N) x width for a GEMM.
//               One token's GEMV costs what it costs on any vector unit; many tokens still belong
//               on the GEMM partition, whose stationary tiles reuse weights without the SRAM round
//               trip. ASSUMPTION: the paper gives no GEMV-mode figures. The SRAM tier is not a
//               contended server (die.h): two partitions reading it at once each get its bandwidth.
// Both partitions stream from the die's one DRAM (die.h shares it between engines).
//
// chooseSplit() picks the rows of the GEMV partition for a phase of independent work units (each
// a list of ops that run in order on one partition: the two GEMMs of one expert's FFN, one
// request's attention), from R/granularity + 1 candidates {0, g, 2g, ..., R}. For each, units are
// list-scheduled in order, each onto the partition where it would finish first, and emitted in
// the order of their expected starts; the candidate's time is then replayed exactly as the die
// (die.h) runs ops submitted at once on an idle die: each partition FIFO, the DRAM one FIFO server
// in submission order. The shortest replay wins; ties keep fewer GEMV rows. Candidate 0 is the
// static array (every unit in GEMM mode on all rows, one after another), so a split phase never
// takes longer than the static array's.
#pragma once

#include <cstdint>
#include <vector>

#include "models/hardware/compute_die.h"
#include "models/hardware/units.h"
#include "sim/time.h"

namespace wafersim::hw {

struct ArrayPartition {
  uint32_t rows = 0;        // of the array's tile.m; 0: the whole array as specified (static)
  bool vectorMode = false;  // GEMV mode
};

// The roofline spec of a partition; throws Error{InvalidConfig} when rows exceed the array's.
ComputeDieSpec partitionSpec(const ComputeDieSpec& array, ArrayPartition partition);

// An op's cost on a partition of `array` (rows 0: the whole array as specified), operands
// streaming from `source` at `memory`; GEMV mode stages or re-streams the weights (K/V) per row as
// above.
OpCost gemmOnPartition(const ComputeDieSpec& array, ArrayPartition partition, const Gemm& op, Bandwidth memory,
                       OperandSource source);
OpCost attentionOnPartition(const ComputeDieSpec& array, ArrayPartition partition, const Attention& op,
                            Bandwidth memory, OperandSource source);

// One op of a work unit, as the split sees it: its shape, the bandwidth its operands stream at
// (the DRAM's, or the SRAM's for a V-Cache hit) and whether its bytes load the shared DRAM.
struct SplitOp {
  bool attention = false;
  Gemm gemm;
  Attention attn;
  Bandwidth memory;
  bool fromDram = true;
};
using SplitUnit = std::vector<SplitOp>;

struct SplitPlan {
  uint32_t gemvRows = 0;          // 0: static (no GEMV partition)
  std::vector<uint8_t> onGemv;    // per unit: 1 on the GEMV partition
  std::vector<uint32_t> order;    // the units in the order to submit them
  Duration estimate;              // the chosen split's replayed time
  Duration staticEstimate;        // the static array's
};

// `granularity` rows per step of the split (divides tile.m; tile.m itself: all-or-nothing);
// `dram` the die's DRAM bandwidth (the shared bound).
SplitPlan chooseSplit(const ComputeDieSpec& array, Bandwidth dram, const std::vector<SplitUnit>& units,
                      uint32_t granularity);

}  // namespace wafersim::hw
