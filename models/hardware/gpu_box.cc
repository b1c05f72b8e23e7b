#include "models/hardware/gpu_box.h"

#include <string>

#include "sim/error.h"

namespace wafersim::hw {

NetworkDescription describeGpuBox(const GpuBoxConfig& c) {
  WAFERSIM_REQUIRE(c.gpus >= 1 && c.gpus <= kGpuBoxMaxGpus, "gpu box: ", c.gpus, " GPUs (1..", kGpuBoxMaxGpus,
                   ")");
  NetworkDescription d;
  d.routerNames = {"nvswitch"};
  for (uint32_t g = 0; g < c.gpus; ++g) {
    d.endpointNames.push_back("gpu[" + std::to_string(g) + "]");
    d.endpoints.push_back({0, static_cast<PortId>(g), c.linkLatency, c.linkBandwidth});
  }
  d.energyPerBit = c.energyPerBit;
  d.mode = c.mode;
  d.chunk = c.chunk;
  d.flows = c.flows;
  return d;
}

std::vector<std::vector<PortId>> gpuBoxRoutes(const GpuBoxConfig& config) {
  return shortestPathRoutes(describeGpuBox(config));
}

Network buildGpuBox(const GpuBoxConfig& config) {
  const NetworkDescription d = describeGpuBox(config);
  return buildNetwork(d, shortestPathRoutes(d));
}

}  // namespace wafersim::hw
