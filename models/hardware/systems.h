// The hardware systems a scenario can name: a network (topology.h and its builders) whose
// endpoints are dies (die_program.h "hw.Die"), each with a die preset (presets.h).
//
//   system              network                                  dies (default)
//   dojo                5x5 mesh, 1.7 TB/s D2D, XY               H100-class
//   tsmc-sow            3x8 mesh, 1.7 TB/s D2D, XY               H100-class
//   dojo-enhanced       5x5 mesh, 2 TB/s D2D, XY                 4500 TFLOPS / 180 GB / 8 TB/s
//   hd-moe-compute-rich 4x4 mesh, 25 GB/s links, 100 ns hops     HD-MoE NMP node, 10 TFLOPS
//   hd-moe-balanced     4x4 mesh, 50 GB/s, 100 ns                5 TFLOPS
//   hd-moe-link-rich    4x4 mesh, 75 GB/s, 100 ns                2.5 TFLOPS
//   gpu-box             8 GPUs on one NVSwitch, NVLink 450 GB/s, 0.8 us end to end   H100-class
//   duplex-box          the same box of Duplex devices (xPU + Logic-PIM)
//   mozart              NoP-tree {4, 4}: attention chiplet at the root, 16 expert chiplets
//   file                any network read from `network_file` (graph_file.h)
// Parameters (systemParams) override the preset: the grid size of meshes, the die preset, the
// link bandwidth, latency and energy, the forwarding mode and chunk, the routing, and the dies
// that failed (masked out with their routers; meshes then need shortest-path routing).
//
// ASSUMPTION (all mesh systems): a die reaches its own router over a 1 ns link with four times the
// die-to-die bandwidth (it can feed its four neighbour links at once).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/hardware/die_program.h"
#include "models/hardware/topology.h"
#include "sim/params.h"

namespace wafersim::hw {

struct HardwareSystem {
  std::string name;
  NetworkDescription network;
  std::vector<std::vector<PortId>> routes;
  std::vector<DieSpec> specs;
  std::vector<uint32_t> specOf;  // per endpoint
  std::vector<uint32_t> failedDies;  // masked-out endpoints (their routers failed): no work, no traffic
  // The routers are switches of their own, not parts of the dies (the NoP-tree's root and
  // switches): a failed die leaves its router working (Mozart's study masks the attention chiplet).
  bool standaloneRouters = false;
  bool dimensionOrder = false;       // routes are XY / YX (cannot go round failed dies)
  uint32_t gridX = 0, gridY = 0;     // a mesh of gridX x gridY dies (die = y * gridX + x); else 0
  bool failed(uint32_t die) const;
};

std::vector<std::string> systemNames();
std::vector<std::string> diePresetNames();
DieSpec diePreset(const std::string& name);  // throws listing the presets

// The parameters every model running on a named system takes.
std::vector<ParamSpec> systemParams();
// From resolved parameters (systemParams); throws Error{InvalidConfig} naming the parameter.
HardwareSystem describeSystem(const Params& params);

// The graph: routers, one hw.Die per endpoint running programs[endpoint], the DieSystem attached.
Network buildSystem(const HardwareSystem& system, std::vector<std::vector<ProgramStep>> programs,
                    std::vector<std::vector<ResidentData>> resident = {});

}  // namespace wafersim::hw
