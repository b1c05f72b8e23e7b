// The "moe_serving" model: an MoE LLM served on a hardware system of dies (systems.h), with
// continuous batching (batch_scheduler.h), expert routing (serving_plan.h routingParams), a
// request workload (workload/requests.h) and an expert mapping. Parameters come in sections,
// written as nested mappings in a scenario's params (flattened to "section.key"):
//   hardware.*   systems.h systemParams(): system preset, die preset, grid, links, forwarding
//   model.*      moe/model_params.h: a preset (deepseek-v3, mixtral-8x7b, ...) plus overrides, or a
//                custom model
//   workload.*   workload/requests.h: arrivals (poisson, gamma, closed, trace) and lengths
//   routing.*    synthetic router knobs or a routing trace
//   scheduler.*  max_running, token_budget, prefill_chunk, mix_prefill_decode
//   mapping.*    policy (ep: expert e of MoE layer l on die (e + l * layer_shift) mod dies;
//                ep_contiguous: experts in contiguous blocks per die)
//   serving.*    command_latency, step_overhead, compute_type, activation_bytes, kv_memory_fraction
#pragma once

#include <vector>

#include "models/model_catalog.h"

namespace wafersim::moe {

std::vector<ParamSpec> servingParams();  // every section's parameters, prefixed
SystemGraph buildServing(const Params& resolved, const BuildContext& context);
void registerServingModel(ModelCatalog& catalog);

}  // namespace wafersim::moe
