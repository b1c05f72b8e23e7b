// HTML reports of results folders (`wafersim report`, `wafersim compare`): one self-contained file
// that opens from disk with no network, holding the chart library and the report script (the web
// build's report.js and report.css, inlined) and the runs' data as JSON in a
// <script type="application/json" id="report-data">.
//
// Figures per run: the summary figures, latency CDFs (TTFT, TPOT, end-to-end) and throughput over
// simulated time (requests.csv), the wafer heatmap of die busy ratios and link utilizations
// (dies.csv, links.csv), per-link utilization (links.csv), expert load per layer (results.json's
// expert_load table), energy by category and by component (summary.json), placement decisions over
// time (placement_log.json, else results.json's placement_log table), the engine's partitions
// (run.json, partition.json). With several folders the report is a comparison: CDFs overlaid, one
// bar per run, summary figures side by side.
//
// Contract:
//   - A results folder is a folder holding summary.json (as `wafersim run --out` and
//     `wafersim results` write). Anything else, or a file that does not parse, is
//     Error{InvalidConfig} naming the folder or file.
//   - Every other file is optional: a missing one drops its figures, and the report says which
//     and why.
//   - requests.csv with more than 100,000 rows is sampled evenly (every k-th row; the report says
//     so), so that a report stays small enough for a browser.
//   - Without the web build (no report.js in webDist) it throws Error{Unimplemented} saying how to
//     build it. The output file's folder is created; a file that cannot be written is
//     Error{InvalidConfig}.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace wafersim {

// The data a report shows: {"title", "runs": [one object per folder, in order]} (run_report.cc
// documents the fields). Separate from writing so that tests can check what was read.
nlohmann::json readReportData(const std::vector<std::string>& runDirs);

// Reads the folders and writes the report to outFile; webDist is findWebDist()'s folder.
void writeRunReport(const std::vector<std::string>& runDirs, const std::string& outFile, const std::string& webDist);

}  // namespace wafersim
