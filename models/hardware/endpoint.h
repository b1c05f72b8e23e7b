// "hw.Endpoint": a traffic endpoint on one router port ("net").
//
// Injects the plan's flows whose source is its "index" at their start times, serialized FIFO on
// its injection link at "bandwidth" and split into chunks by "mode" ("store_and_forward": one
// chunk per message; "cut_through": chunks of "chunk"). Counts bytes and messages received and
// records each message's latency (arrival of its last byte minus the flow's start) in the
// histogram "latency_ps". All sends happen in setup(); afterwards it promises no more output.
#pragma once

#include <memory>
#include <string>

#include "models/hardware/network.h"
#include "sim/component_registry.h"

namespace wafersim::hw {

void registerEndpoint(ComponentRegistry& registry);
ForwardingMode parseForwardingMode(const std::string& text);

}  // namespace wafersim::hw
