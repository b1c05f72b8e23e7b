// Hardware presets for the compute-die and memory models, each value with its source; values the
// sources do not give are marked ASSUMPTION in presets.cc (sweep them, do not quote them).
//
//  h100Die() / h100Hbm3()   H100-class (SXM) die: the xPU of Duplex, the per-die figures of the
//                           wafer-scale scenarios (Dojo / TSMC-SoW tables in seeds.md).
//  hdMoeNode(config)        HD-MoE's 3D near-memory-processing node, in its three compute / link
//                           pairs: ComputeRich 10 TFLOPS / 25 GB/s, Balanced 5 / 50, LinkRich 2.5 / 75.
//  mozartChiplet()          Mozart's expert chiplet: 28 nm, 1 GHz, HBM2 at 256 GB/s.
#pragma once

#include "models/hardware/compute_die.h"
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

}  // namespace wafersim::hw
