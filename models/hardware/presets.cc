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
  // Duplex's LLMSimulator (seeds.md section 4.1): MAC energy 0.23 pJ per FLOP.
  d.energyPerFlop = Energy{230};
  // ASSUMPTION: SRAM (L2) access 0.1 pJ/bit (order of magnitude for a large on-die SRAM at 4-5 nm).
  d.sramEnergy = EnergyPerBit{100};
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

namespace {

EngineSpec engine(std::string name, ComputeDieSpec compute, MemoryPath path, Bandwidth dram) {
  EngineSpec e;
  e.name = std::move(name);
  e.compute = std::move(compute);
  e.path = path;
  e.dramBandwidth = dram;
  return e;
}

}  // namespace

DieSpec h100DieSpec() {
  DieSpec d;
  d.name = "H100-class die";
  d.dram = h100Hbm3();
  d.engines = {engine("xpu", h100Die(), MemoryPath::OffStack, d.dram.bandwidth)};
  // ASSUMPTION: 100 W of static (leakage and idle) power out of the 700 W board power.
  d.staticPowerMicrowatts = 100'000'000;
  return d;
}

DieSpec duplexDevice() {
  DieSpec d = h100DieSpec();
  d.name = "Duplex (xPU + Logic-PIM)";
  // Duplex / LLMSimulator (seeds.md 4.1): Logic-PIM on the HBM logic dies, modelled as 4x the
  // device memory bandwidth (13.4 TB/s) with compute for Op/B = 8 (8 FLOP per byte: 107.2 TFLOPS).
  const Bandwidth pimBandwidth{4 * d.dram.bandwidth.bytesPerSecond};
  ComputeDieSpec pim;
  pim.name = "Logic-PIM";
  pim.peakFp16 = FlopRate{8 * pimBandwidth.bytesPerSecond};
  // ASSUMPTION: int8 at twice the fp16 rate, no fp8; 1 GHz; vector units without tile padding
  // (GEMV-shaped work is what PIM is for); the same 0.23 pJ/FLOP MAC energy as the xPU.
  pim.peakInt8 = FlopRate{2 * pim.peakFp16.flopsPerSecond};
  pim.clockHz = 1'000'000'000;
  pim.tile = TileShape{1, 1, 1};
  pim.energyPerFlop = Energy{230};
  d.engines.push_back(engine("pim", pim, MemoryPath::LogicDie, pimBandwidth));
  return d;
}

DieSpec hdMoeNodeDie(HdMoeConfig config) {
  const NmpNodePreset p = hdMoeNode(config);
  DieSpec d;
  d.name = p.die.name;
  d.dram = p.dram;
  ComputeDieSpec c = p.die;
  // ASSUMPTION: 0.23 pJ/FLOP (Duplex's MAC energy); no static power given by the paper.
  c.energyPerFlop = Energy{230};
  d.engines = {engine("nmp", c, MemoryPath::LogicDie, p.dram.bandwidth)};
  return d;
}

DieSpec a3dMoeStack() {
  // A3D-MoE (arXiv 2507.19142) publishes no numbers (seeds.md section 1): every value below is an
  // ASSUMPTION that gives the structure the paper describes: a systolic-array logic die hybrid-bonded
  // under DRAM dies, whose internal (through-die) bandwidth far exceeds an HBM's external one.
  DieSpec d;
  d.name = "A3D-MoE-style 3D stack";
  ComputeDieSpec c;
  c.name = "A3D-MoE logic die";
  c.clockHz = 1'000'000'000;
  c.tile = TileShape{128, 128, 1};                       // ASSUMPTION: 128 x 128 array
  c.peakFp16 = FlopRate{128ull * 128 * 2 * c.clockHz};   // 32.8 TFLOPS
  c.peakInt8 = FlopRate{2 * c.peakFp16.flopsPerSecond};
  c.sramCapacity = parseBytes("32 MB");                  // ASSUMPTION: the "V-Cache" tier
  c.sramBandwidth = parseBandwidth("8 TB/s");
  c.sramEnergy = EnergyPerBit{100};
  c.energyPerFlop = Energy{230};
  d.dram.name = "A3D-MoE stacked DRAM";
  d.dram.capacity = parseBytes("16 GB");                 // ASSUMPTION
  d.dram.bandwidth = parseBandwidth("2 TB/s");           // ASSUMPTION: internal, through-die
  d.dram = fgdramEnergies(d.dram);
  d.engines = {engine("array", c, MemoryPath::LogicDie, d.dram.bandwidth)};
  return d;
}

DieSpec mozartChipletDie() {
  const ChipletPreset p = mozartChiplet();
  DieSpec d;
  d.name = p.die.name;
  d.dram = p.dram;
  ComputeDieSpec c = p.die;
  c.energyPerFlop = Energy{230};  // ASSUMPTION (Duplex's MAC energy; Mozart gives only totals)
  c.sramEnergy = EnergyPerBit{100};
  d.engines = {engine("array", c, MemoryPath::OffStack, p.dram.bandwidth)};
  return d;
}

namespace {

WaferPreset h100Wafer(std::string name, uint32_t x, uint32_t y) {
  // The wafer-scale case study (seeds.md section 3.3, its hardware table): H100-class dies,
  // 989 TFLOPS, 80 GB HBM at 3.35 TB/s per die, 1.7 TB/s die-to-die to each neighbour.
  WaferPreset w;
  w.name = std::move(name);
  w.die = h100DieSpec();
  w.x = x;
  w.y = y;
  w.dieToDie = parseBandwidth("1.7 TB/s");
  // ASSUMPTION: 20 ns per die-to-die hop (PHY + router pipeline) and 0.5 pJ/bit (advanced-package
  // die-to-die links); the paper gives neither.
  w.hopLatency = parseDuration("20 ns");
  w.linkEnergy = EnergyPerBit{500};
  return w;
}

}  // namespace

WaferPreset dojoWafer() { return h100Wafer("Dojo 5x5", 5, 5); }
WaferPreset tsmcSowWafer() { return h100Wafer("TSMC-SoW 3x8", 3, 8); }

WaferPreset dojoEnhancedWafer() {
  // Same table: Dojo-Enhanced, 4500 TFLOPS, 180 GB at 8 TB/s per die, 2 TB/s die-to-die.
  WaferPreset w = h100Wafer("Dojo-Enhanced 5x5", 5, 5);
  w.die.name = "Dojo-Enhanced die";
  ComputeDieSpec& c = w.die.engines[0].compute;
  c.name = "Dojo-Enhanced die";
  c.peakFp16 = 4500_TFLOPS;
  // ASSUMPTION: fp8 and int8 at twice the fp16 rate, as on the H100 class.
  c.peakFp8 = c.peakInt8 = 9000_TFLOPS;
  w.die.dram.capacity = parseBytes("180 GB");
  w.die.dram.bandwidth = parseBandwidth("8 TB/s");
  w.die.engines[0].dramBandwidth = w.die.dram.bandwidth;
  w.dieToDie = parseBandwidth("2 TB/s");
  return w;
}

}  // namespace wafersim::hw
