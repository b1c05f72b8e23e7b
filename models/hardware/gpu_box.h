// A switched all-to-all GPU box (seeds.md 3.4, 4.1): N GPUs, each an endpoint on one switch
// router (NVSwitch), like an 8xH100 NVLink box. Any GPU reaches any other over 2 links: its own
// link into the switch and the destination's link out of it, so store-and-forward of S bytes
// takes 2 * (T(S) + L) on an idle box, and messages to one GPU queue FIFO on its switch port.
//
// Defaults: NVLink 450 GB/s per direction and 0.8 us end to end (Duplex), split evenly over the
// two links: 400 ns each.
//
// Indices and names: router 0 = "nvswitch"; endpoint i = "gpu[i]" on switch port p<i>.
#pragma once

#include <cstdint>
#include <vector>

#include "models/hardware/topology.h"

namespace wafersim::hw {

struct GpuBoxConfig {
  uint32_t gpus = 8;  // 1..15
  Duration linkLatency = Duration::fromPs(400'000);
  Bandwidth linkBandwidth{450'000'000'000};  // each direction
  EnergyPerBit energyPerBit{0};
  ForwardingMode mode = ForwardingMode::StoreAndForward;
  Bytes chunk{256};
  std::vector<FlowSpec> flows;  // endpoint index == GPU index
};

inline constexpr uint32_t kGpuBoxMaxGpus = 15;

NetworkDescription describeGpuBox(const GpuBoxConfig& config);
std::vector<std::vector<PortId>> gpuBoxRoutes(const GpuBoxConfig& config);  // shortest path
Network buildGpuBox(const GpuBoxConfig& config);

}  // namespace wafersim::hw
