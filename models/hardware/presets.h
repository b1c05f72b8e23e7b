// Hardware presets for the compute-die and memory models, each value with its source; values the
// sources do not give are marked ASSUMPTION in presets.cc (sweep them, do not quote them).
//
//  h100Die() / h100Hbm3()   H100-class (SXM) die: the xPU of Duplex, the per-die figures of the
//                           wafer-scale scenarios (Dojo / TSMC-SoW tables in seeds.md).
//  hdMoeNode(config)        HD-MoE's 3D near-memory-processing node, in its three compute / link
//                           pairs: ComputeRich 10 TFLOPS / 25 GB/s, Balanced 5 / 50, LinkRich 2.5 / 75.
//  mozartChiplet()          Mozart's expert chiplet: 28 nm, 1 GHz, HBM2 at 256 GB/s.
//
// As simulated dies (die.h: engines on a DRAM, energy, static power):
//  h100DieSpec()            one engine "xpu" on HBM3 (off-stack path).
//  duplexDevice()           Duplex: "xpu" (H100-class, off-stack, 3.35 TB/s) and "pim" (Logic-PIM on
//                           the HBM logic dies: 4x the bandwidth, compute for Op/B = 8), one HBM3.
//  hdMoeNodeDie(config)     an HD-MoE 3D-NMP node: one engine "nmp" on the logic die (logic-die
//                           path) at the node's 625 GB/s.
//  a3dMoeStack()            an A3D-MoE-style 3D stack: a systolic-array logic die bonded to DRAM
//                           dies (internal bandwidth far above the external link); all ASSUMPTION.
//  mozartChipletDie()       the Mozart expert chiplet with its HBM2.
// Wafers of dies (the grid, the die-to-die links): dojoWafer() 5x5, tsmcSowWafer() 3x8,
// dojoEnhancedWafer() 5x5, of the wafer-scale case study (seeds.md section 3.3).
#pragma once

#include <cstdint>
#include <string>

#include "models/hardware/compute_die.h"
#include "models/hardware/die.h"
#include "models/hardware/memory.h"
#include "sim/time.h"

namespace wafersim::hw {

ComputeDieSpec h100Die();
MemorySpec h100Hbm3();

enum class HdMoeConfig : uint8_t { ComputeRich, Balanced, LinkRich };

const char* toString(HdMoeConfig c);

struct NmpNodePreset {
  ComputeDieSpec die;
  MemorySpec dram;          // the node's local, hybrid-bonded DRAM
  Bandwidth linkBandwidth;  // per mesh link
  Duration hopLatency;      // per mesh hop
};

NmpNodePreset hdMoeNode(HdMoeConfig config);

struct ChipletPreset {
  ComputeDieSpec die;
  MemorySpec dram;
};

ChipletPreset mozartChiplet();

DieSpec h100DieSpec();
DieSpec duplexDevice();
DieSpec hdMoeNodeDie(HdMoeConfig config);
DieSpec a3dMoeStack();
DieSpec mozartChipletDie();

struct WaferPreset {
  std::string name;
  DieSpec die;
  uint32_t x = 0, y = 0;     // die grid
  Bandwidth dieToDie;        // per direction, neighbour links
  Duration hopLatency;       // per die-to-die hop
  EnergyPerBit linkEnergy;   // per bit per die-to-die link
};

WaferPreset dojoWafer();
WaferPreset tsmcSowWafer();
WaferPreset dojoEnhancedWafer();

}  // namespace wafersim::hw
