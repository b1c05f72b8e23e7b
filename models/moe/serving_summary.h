// The headline figures of a serving run, from its results (summary.json and the CLI's report):
// requests, tokens, throughput, latency statistics (TTFT, TPOT, end-to-end, queueing: mean, min,
// max exactly; p50/p90/p99 as the upper bound of the histogram bucket holding the quantile, 8
// buckets per decade, so within 33 %), energy in total and per output token, bytes moved by
// dispatch and combine, byte-hops on the network.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "sim/results.h"

namespace wafersim::moe {

// nullopt when the run has no serving host (another model).
std::optional<nlohmann::json> servingSummary(const Results& results);

}  // namespace wafersim::moe
