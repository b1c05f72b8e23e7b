// The serving model's side of placement (placement/): the system as a placement Fabric, the
// model's experts as an ExpertShape, and the offline profiling pass that gives an offline policy
// the routing statistics it decides from.
#pragma once

#include <string>
#include <vector>

#include "models/hardware/systems.h"
#include "models/moe/model_config.h"
#include "models/workload/routing.h"
#include "placement/policy.h"
#include "placement/problem.h"

namespace wafersim::moe {

// Dies, failures, hops and directed router-to-router links (bandwidth per direction) from the
// system's routes; the expert engine's peak for `computeType` and the DRAM bandwidth per die;
// grid dimensions for meshes; chiplet groups where several dies share a router (NoP-tree leaves).
// expertCapacityBytes is left empty (the caller sets it).
placement::Fabric fabricOf(const hw::HardwareSystem& system, const std::string& expertEngine, hw::DataType computeType);

placement::ExpertShape expertShapeOf(const MoeModelConfig& model, uint32_t activationBytes);

// Routes `tokens` profiling tokens through every MoE layer: requests of `sequence` tokens each,
// as prefill, dealt to the usable dies in turn; returns their statistics.
placement::LoadProfile profileRouting(workload::ExpertRouter& router, const placement::Fabric& fabric,
                                      uint64_t tokens, uint32_t sequence, placement::PolicyNeeds needs);

}  // namespace wafersim::moe
