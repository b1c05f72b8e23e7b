#include "models/hardware/presets.h"

#include "sim/error.h"

namespace wafersim::hw {
namespace {

// DRAM access energies from the FGDRAM (O'Connor et al., MICRO'17) components as used by Duplex's
// LLMSimulator (seeds.md section 4.1): ACT 0.909 nJ; a 32-byte read costs 0.891 nJ on the host
// (off-stack) path = 3.48 pJ/bit, 0.464 nJ for Logic-PIM = 1.8125 pJ/bit (rounded to 1813 fJ/bit),
// 0.187 nJ for bank-PIM = 0.7305 pJ/bit (rounded to 730 fJ/bit).
// ASSUMPTION: a 1 KiB row (HBM pseudo-channel page) for the activation count.
MemorySpec fgdramEnergies(MemorySpec m) {
  m.offStack = parseEnergyPerBit("3.48 pJ/bit");
  m.logicDie = EnergyPerBit{1813};
  m.inBank = EnergyPerBit{730};
  m.rowActivation = Energy{909'000};  // 0.909 nJ
  m.rowBytes = parseBytes("1 KiB");
  return m;
}

}  // namespace

ComputeDieSpec h100Die() {
  ComputeDieSpec d;
  d.name = "H100-class";
  // NVIDIA H100 SXM datasheet: 989 TFLOPS dense fp16/bf16 (989.4; 1979 with sparsity), 1979 fp8
  // and 1979 int8 TOPS dense. The scenarios of seeds.md use 989 TFLOPS per die.
  d.peakFp16 = 989_TFLOPS;
  d.peakFp8 = 1979_TFLOPS;
  d.peakInt8 = 1979_TFLOPS;
  // Datasheet: 50 MB L2. ASSUMPTION: L2 bandwidth 5.5 TB/s (microbenchmark order of magnitude, not
  // published by NVIDIA).
  d.sramCapacity = parseBytes("50 MB");
  d.sramBandwidth = parseBandwidth("5.5 TB/s");
  // Derived: 989.4e12 / (132 SMs x 4096 dense fp16 FLOP per clock) = 1.83 GHz boost clock.
  d.clockHz = 1'830'000'000;
  // ASSUMPTION: a GPU-class 64 x 256 output tile with a K step of 64 (typical CUTLASS/cuBLAS tile).
  d.tile = TileShape{64, 256, 64};
  return d;
}

MemorySpec h100Hbm3() {
  MemorySpec m;
  m.name = "HBM3 (H100-class)";
  // Datasheet / Duplex code: 80 GB (5 HBM3 stacks of 16 GB), 3.35 TB/s (3.352).
  m.capacity = parseBytes("80 GB");
  m.bandwidth = parseBandwidth("3.35 TB/s");
  return fgdramEnergies(m);
}

const char* toString(HdMoeConfig c) {
  switch (c) {
    case HdMoeConfig::ComputeRich: return "compute-rich";
    case HdMoeConfig::Balanced: return "balanced";
    case HdMoeConfig::LinkRich: return "link-rich";
  }
  return "?";
}

NmpNodePreset hdMoeNode(HdMoeConfig config) {
  // HD-MoE (ICCAD'25, arXiv 2509.09420), authors' code (seeds.md section 2.1): per-node compute /
  // per-link bandwidth pairs 10 TFLOPS & 25 GB/s, 5 & 50, 2.5 & 75; local DRAM 625 GB/s; XY mesh,
  // per-hop latency 100 ns. The paper gives no capacity, pJ/bit, clock or process.
  NmpNodePreset p;
  p.die.name = std::string("HD-MoE NMP node (") + toString(config) + ")";
  switch (config) {
    case HdMoeConfig::ComputeRich:
      p.die.peakFp16 = 10_TFLOPS;
      p.linkBandwidth = parseBandwidth("25 GB/s");
      break;
    case HdMoeConfig::Balanced:
      p.die.peakFp16 = 5_TFLOPS;
      p.linkBandwidth = parseBandwidth("50 GB/s");
      break;
    case HdMoeConfig::LinkRich:
      p.die.peakFp16 = FlopRate{2'500'000'000'000ull};
      p.linkBandwidth = parseBandwidth("75 GB/s");
      break;
  }
  p.hopLatency = parseDuration("100 ns");
  // ASSUMPTION: the rate is fp16 (the paper's cost model is data-type agnostic); fp8 / int8 not modelled.
  // ASSUMPTION: 1 GHz clock; no on-die SRAM modelled (capacity and bandwidth zero).
  // ASSUMPTION: no tile quantization ({1, 1, 1}), as in HD-MoE's own cost model (FLOPs / C).
  p.die.clockHz = 1'000'000'000;
  p.die.tile = TileShape{1, 1, 1};
  p.dram.name = "HD-MoE NMP DRAM";
  p.dram.bandwidth = parseBandwidth("625 GB/s");
  // ASSUMPTION: 16 GB of DRAM per node; FGDRAM/Duplex access energies (the logic-die path is the
  // NMP node's own path).
  p.dram.capacity = parseBytes("16 GB");
  p.dram = fgdramEnergies(p.dram);
  return p;
}

ChipletPreset mozartChiplet() {
  // Mozart (NeurIPS'25, arXiv 2603.07006), seeds.md section 5.1: 28 nm, 1 GHz, compute logic
  // hybrid-bonded on SRAM, weights in DRAM, HBM2 backend at 256 GB/s. Per-chiplet TFLOPS, SRAM size,
  // DRAM capacity and energies are not published.
  ChipletPreset p;
  p.die.name = "Mozart expert chiplet";
  p.die.clockHz = 1'000'000'000;
  // ASSUMPTION: a 128 x 128 systolic array (2 FLOP per PE per cycle at 1 GHz = 32.768 TFLOPS fp16),
  // int8 at 2x fp16 rate, no fp8.
  p.die.tile = TileShape{128, 128, 1};
  p.die.peakFp16 = FlopRate{128ull * 128 * 2 * p.die.clockHz};
  p.die.peakInt8 = FlopRate{2 * p.die.peakFp16.flopsPerSecond};
  // ASSUMPTION: 64 MB of bonded SRAM at 4 TB/s.
  p.die.sramCapacity = parseBytes("64 MB");
  p.die.sramBandwidth = parseBandwidth("4 TB/s");
  p.dram.name = "HBM2 (Mozart)";
  p.dram.bandwidth = parseBandwidth("256 GB/s");
  // ASSUMPTION: one 8 GB HBM2 stack; FGDRAM/Duplex access energies.
  p.dram.capacity = parseBytes("8 GB");
  p.dram = fgdramEnergies(p.dram);
  return p;
}

}  // namespace wafersim::hw
