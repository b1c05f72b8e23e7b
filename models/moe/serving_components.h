// The serving engine's components (models/moe):
//   "moe.Host"  the global command processor: announces each engine step to every die over the
//               control fabric, collects their completions, ends the step, records per-request
//               latencies (TTFT, TPOT, end-to-end, queueing) from the ServingPlan.
//   "moe.Die"   a die (die_program.h ProgramDie) that runs, for each step, the dataflow of every
//               layer for the tokens of its requests and the experts it holds:
//                 attention  QKV (or MLA) projections, one attention op per request (its context
//                            read from the KV cache), output projection;
//                 dense FFN  on dense layers;
//                 MoE        gate; shared experts; dispatch of its tokens to the dies of their
//                            experts (one message per destination die, hidden x activation bytes
//                            per token); once every source's dispatch arrived, its experts' FFNs
//                            (M = tokens routed to the expert); combine back to each source;
//                 LM head    for the tokens it emits.
// A step ends on a die when its engines are idle and every combine has arrived; it then tells
// the host. Both live on the "ctl" fabric (host member 0, die i member i + 1), whose latency is
// the command latency.
#pragma once

#include "sim/component_registry.h"

namespace wafersim::moe {

void registerServingComponents(ComponentRegistry& registry);

}  // namespace wafersim::moe
