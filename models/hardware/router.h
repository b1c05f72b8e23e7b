// "hw.Router": forwards message chunks hop by hop (network.h).
//
// Ports p0..p15, all optional. Each output port is a FIFO with its own bandwidth (parameter
// "bandwidth", per-port override "bandwidth_pK", so the two directions of a link may differ):
// a chunk arriving at t for output port p starts serializing at max(t, busy_p), occupies the port
// for ceil(bytes / bandwidth), and is delivered at the end of it plus the kernel link's latency.
// Energy: bytes * 8 * energy_per_bit per chunk sent, in counter "energy_link_pj" (units.h EnergyMeter).
// Lookahead: every event sends exactly one chunk of at least one byte, after its serialization,
// so the router declares the reaction delay min_p transferTime(1 byte) (true for every event), and
// each output port promises nothing before the end of its queue plus one byte's time (FIFO).
#pragma once

#include <memory>

#include "models/hardware/network.h"
#include "sim/component_registry.h"

namespace wafersim::hw {

void registerRouter(ComponentRegistry& registry);

}  // namespace wafersim::hw
