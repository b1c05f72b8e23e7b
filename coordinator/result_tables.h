// The CSV tables of a results folder, written from the results and the graph:
//   requests.csv  one row per finished request (the serving host's "requests" table);
//   dies.csv      one row per die (hw.Die, moe.Die, hw.Endpoint): every counter of theirs;
//   links.csv     one row per router output port that carried traffic: from, port, to, bytes,
//                 bandwidth and utilization over the run's simulated time;
//   trace.json    a Chrome/Perfetto trace of the components' "trace" tables (serving.trace_start
//                 and serving.trace_end choose the window).
#pragma once

#include <string>

#include "sim/results.h"
#include "sim/system_graph.h"

namespace wafersim {

// Writes the tables that apply into `dir`; returns their file names, space separated.
std::string writeResultTables(const std::string& dir, const Results& results, const SystemGraph& graph);

}  // namespace wafersim
