// The synthetic models that exercise and benchmark the kernel: PHOLD, MessageMesh, RelayGrid.
#pragma once

#include "models/synthetic/message_mesh.h"
#include "models/synthetic/phold.h"
#include "models/synthetic/relay_grid.h"

namespace wafersim::synthetic {

inline void registerSyntheticComponents(ComponentRegistry& registry) {
  registerPhold(registry);
  registerMessageMesh(registry);
  registerRelayGrid(registry);
}

}  // namespace wafersim::synthetic
