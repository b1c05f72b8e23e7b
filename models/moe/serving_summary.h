// The headline figures of a serving run, from its results (summary.json and the CLI's report):
// requests, tokens, throughput, latency statistics (TTFT, TPOT, end-to-end, queueing: mean, min,
// max exactly; p50/p90/p99 as the upper bound of the histogram bucket holding the quantile, 8
// buckets per decade, so within 33 %), energy in total and per output token, bytes moved by
// dispatch and combine, byte-hops on the network, and the routed experts' FFN time per MoE layer
// (expert_time_s: summed over steps and layers, of the busiest die; expert_time_mean_s: of the
// mean usable die; decode_expert_time_*: the same over the steps without prefill tokens), the MoE
// layer's simulated time (moe_layer: gate to last combine on the die that spent the most, in all,
// per step and per layer; the forward pass, without two-batch overlap), bytes
// the dies streamed from DRAM and through SRAM (in total and DRAM per output token), V-Cache hits.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "sim/results.h"

namespace wafersim::moe {

// nullopt when the run has no serving host (another model).
std::optional<nlohmann::json> servingSummary(const Results& results);

}  // namespace wafersim::moe
