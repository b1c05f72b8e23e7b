// A die as the simulator runs it (issue 4): one or more compute engines sharing one DRAM, with
// operator times from the roofline model (compute_die.h), contention on the engines and on the
// DRAM, capacity bookkeeping (memory.h) and energy by category. DieModel is the timing core; a
// component owns one and turns its completion times into events (die_program.h runs a scripted
// program; the MoE workloads drive it the same way).
//
// ENGINES. Each engine has its own roofline (ComputeDieSpec) and its own path to the DRAM:
//   a GPU-class die or chiplet: one engine, path OffStack at the HBM bandwidth;
//   a 3D-NMP node (HD-MoE, A3D-MoE stack): one engine on the logic die, path LogicDie at the
//     stack's internal bandwidth;
//   a Duplex device: engine 0 the xPU (OffStack, 3.35 TB/s), engine 1 the Logic-PIM (LogicDie,
//     4x the bandwidth). An op names its engine; engines run in parallel.
// Ops on one engine run FIFO in submission order.
//
// TIMING of an op submitted at t on engine e, with cost C from the roofline at the engine's
// bandwidth B_e (or the SRAM bandwidth when its operands are resident there):
//   start   = max(t, free_e)
//   DRAM:   the DRAM is one server of the die's internal bandwidth B_int = max_e B_e. The op
//           reserves it for bytes / B_int from max(start, free_dram) (FIFO), so engines sharing the
//           DRAM never exceed its total bandwidth; on its own path the op still needs bytes / B_e.
//           memEnd = max(start + C.memoryTime, reserveEnd). SRAM-resident ops skip the DRAM; a
//           GEMV-mode op's staged SRAM traffic (C.sramBytes) is inside C.memoryTime and loads only
//           the SRAM, which is not a contended server.
//   end     = max(start + C.computeTime, memEnd);  free_e = end.
// On an idle die this is exactly the roofline time C.time.
//
// ENERGY (fJ, exact; counters "energy_<category>_pj", units.h EnergyMeter):
//   compute            padded FLOPs x energyPerFlop (the tile runs full);
//   sram               bytes x 8 x sramEnergy, for SRAM-resident ops, for the bytes an op writes
//                      into the SRAM tier (sramFill: a V-Cache fill, vcache.h) and for the bytes a
//                      GEMV-mode op stages through it (OpCost::sramBytes, array_split.h); counter
//                      "sram_bytes";
//   dram_off_stack / dram_logic_die / dram_in_bank: the DRAM access energy of the engine's path,
//                      row activations included (memory.h);
//   static             not a counter: "static_power_uw" x the run's simulated time (results.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/hardware/array_split.h"
#include "models/hardware/compute_die.h"
#include "models/hardware/memory.h"
#include "models/hardware/units.h"
#include "sim/statistics.h"
#include "sim/time.h"

namespace wafersim::hw {

struct EngineSpec {
  std::string name;  // "xpu", "pim", "core"
  ComputeDieSpec compute;
  MemoryPath path = MemoryPath::OffStack;
  Bandwidth dramBandwidth;  // what this engine streams from the die's DRAM
};

struct DieSpec {
  std::string name;
  std::vector<EngineSpec> engines;  // at least one; engine 0 is the default
  MemorySpec dram;
  uint64_t staticPowerMicrowatts = 0;  // leakage and idle power, whole die

  void validate() const;  // throws Error{InvalidConfig} naming the die and the field
  uint32_t engineIndex(const std::string& name) const;  // throws listing the engines
};

// One operator for a die: a GEMM, an attention, or a stream of `bytes` through memory with no
// arithmetic to speak of (an optimizer step reading and writing weights and states), on an
// engine, reading DRAM or on-die SRAM.
struct DieOp {
  enum class Kind : uint8_t { Gemm, Attention, Stream };
  Kind kind = Kind::Gemm;
  Gemm gemm;
  Attention attention;
  Bytes bytes;  // Stream
  uint32_t engine = 0;
  OperandSource source = OperandSource::Dram;
  // The share of the engine's array the op runs on (array_split.h); rows 0: the whole array.
  ArrayPartition partition;
  Bytes sramFill;  // bytes also written into the on-die SRAM (a cache fill of what the op reads)
};

struct OpTiming {
  SimTime start;
  SimTime end;
  OpCost cost;
};

class DieModel {
 public:
  // Registers its counters in `stats`; `component` names the owner in error messages.
  DieModel(const DieSpec& spec, StatSet& stats, const std::string& component);

  // Queues `op` at `now` on its engine and returns when it starts and ends; accounts its energy.
  OpTiming submit(SimTime now, const DieOp& op);
  // The op's cost on this die without running it.
  OpCost cost(const DieOp& op) const;

  SimTime engineFreeAt(uint32_t engine) const { return engines_.at(engine).free; }
  SimTime dramFreeAt() const { return dramFree_; }
  const DieSpec& spec() const { return spec_; }
  MemoryAllocator& memory() { return memory_; }

  // Checkpoints: when each engine and the DRAM are free, the energy not yet counted. (The memory
  // allocations are made at construction and never change.)
  void save(StateWriter& out) const;
  void restore(StateReader& in);

 private:
  struct EngineState {
    SimTime free = SimTime::zero();
    Counter* ops = nullptr;
    Counter* busyPs = nullptr;
    Counter* flops = nullptr;
  };
  const DieSpec spec_;
  const std::string component_;
  Bandwidth internal_;
  std::vector<EngineState> engines_;
  SimTime dramFree_ = SimTime::zero();
  MemoryAllocator memory_;
  Counter& dramBytes_;
  Counter& sramBytes_;
  EnergyMeter compute_;
  EnergyMeter sram_;
  EnergyMeter dramOffStack_;
  EnergyMeter dramLogicDie_;
  EnergyMeter dramInBank_;
};

}  // namespace wafersim::hw
