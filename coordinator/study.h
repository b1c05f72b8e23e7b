// `wafersim study DIR`: a paper-reproduction study. DIR/study.yaml names scenario runs (a scenario
// file relative to DIR and overrides), a metric (a dotted path into summary.json) and comparisons
// (ratios of the metric between two runs, against the paper's ratio and an optional range):
//
//   study: "S2 HD-MoE: TP vs EP vs CB vs HD on a 3D-NMP mesh"
//   source: "HD-MoE artifact results"                      # optional
//   metric: {key: serving.tpot.mean_ms, name: "TPOT (ms)", lower_is_better: true}
//   runs:
//     - {name: compute-rich/TP, scenario: decode.yaml, set: [params.mapping.policy=tp]}
//     - {name: compute-rich/HD, scenario: decode.yaml, set: [params.mapping.policy=hd]}
//   metrics:                                               # optional: more figures per run
//     - {key: serving.energy_per_output_token_j, name: "J/token", lower_is_better: true}
//   comparisons:                                           # optional
//     - {name: "HD speedup vs TP", numerator: compute-rich/TP, denominator: compute-rich/HD,
//        paper: 1.81, paper_range: [1.1, 1.8]}             # paper and paper_range optional
//     - {name: "Duplex over GPU", numerator: ..., denominator: ..., paper_up_to: 2.67}  # "up to": a bound alone
//     - {name: "energy gain", metric: serving.energy_per_output_token_j, numerator: ..., denominator: ...}
//
// A comparison's ratio is numerator / denominator of its metric (the study's `metric` unless it
// names one of `metrics` by key).
//
// A metric key whose last part ends in _ms, _us or _ns and is not in summary.json reads the
// matching _s figure, scaled (serving.tpot.mean_ms is serving.tpot.mean_s * 1e3).
// Every run writes its results folder OUT/<run name with / replaced by _> (OUT defaults to
// runs/study-<DIR's name>); --reuse reads those folders instead of running. The tables printed
// are written to OUT/study.json (with relative paths only) beside a copy of study.yaml.
// Errors in the study file name the file, the line and the field.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/run.h"

namespace wafersim::study {

struct Metric {
  std::string key;   // dotted path into summary.json
  std::string name;  // for the tables (default: the key)
  bool lowerIsBetter = true;
  int line = 0;
};

struct StudyRun {
  std::string name;
  std::string scenario;          // as written: relative to the study's folder
  std::vector<std::string> set;  // overrides, "dotted.path=value"
  int line = 0;
};

struct Comparison {
  std::string name;
  std::string metric;  // key of the metric compared: the study's metric or one of its extra metrics
  std::string numerator, denominator;  // run names
  std::optional<double> paper;                          // the paper's value ("1.155 on average")
  std::optional<std::pair<double, double>> paperRange;  // the paper's own range ("1.1-1.8x")
  std::optional<double> paperUpTo;                      // the paper's bound alone ("up to 2.67x")
  int line = 0;
};

struct Study {
  std::string file;  // the study file, for messages
  std::string title;
  std::string citation;  // the study file's "source"
  Metric metric;
  std::vector<Metric> extraMetrics;  // the study file's `metrics`
  std::vector<StudyRun> runs;
  std::vector<Comparison> comparisons;
};

// Parses a study file's text; `file` names it in errors ("DIR/study.yaml:7: runs[1].name: ...").
Study parseStudy(const std::string& text, const std::string& file);
Study loadStudy(const std::string& dir);  // DIR/study.yaml

// The number at `key` (dotted) in a summary, with the _ms/_us/_ns fallback; nullopt when absent.
std::optional<double> metricValue(const nlohmann::json& summary, const std::string& key);

// The verdict rules (written once; docs/reproductions.md quotes them):
//   1. "-": the paper gives no figure for the comparison.
//   2. "direction wrong": the ratio is on the other side of 1 from the paper's claim (its value,
//      else its range's middle, else its bound), or exactly 1 where the paper claims a change.
//   3. With the paper's own range: "in range" inside it (ends included), else "outside".
//   4. With the paper's bound alone ("up to X"): "in range" up to X, else "outside" (beyond it).
//   5. With a value alone: "within 15%" when ratio / value is within 1 +- 0.15, else "right
//      direction".
// A range or a bound is what the paper says, never one chosen here: "up to 2.67" has no lower end,
// "1.155 on average" is a value.
enum class Verdict { InRange, Outside, DirectionWrong, Close, RightDirection, NoPaper };
// "in range", "outside", "direction wrong", "within 15%", "right direction", "-"
const char* toString(Verdict verdict);
inline constexpr double kCloseTolerance = 0.15;

struct PaperClaim {
  std::optional<double> value;
  std::optional<std::pair<double, double>> range;
  std::optional<double> upTo;
};
Verdict classify(double ratio, const PaperClaim& claim);

// One run's figures, read from its summary.json.
struct RunFigures {
  std::string name;
  std::string folder;  // relative to the study's out folder
  double value = 0;    // the metric
  std::vector<double> extraValues;  // the extra metrics, in the study's order
  double wallSeconds = 0;
  double eventsPerSecond = 0;
  std::optional<double> tokensPerWallSecond;  // serving.output_tokens (or trained_tokens) / wall seconds
};
RunFigures figures(const Study& study, const StudyRun& run, const std::string& folder, const nlohmann::json& summary);

// study.json: the study, its runs' figures and the comparisons' ratios and verdicts.
nlohmann::json report(const Study& study, const std::vector<RunFigures>& runs);
// The two tables (runs, comparisons) of a report, as printed.
std::string formatReport(const nlohmann::json& report);
// The same as Markdown (`wafersim study DIR --markdown`; docs/reproductions.md is made of these):
// the title, the source of the paper's figures, the metrics, the runs' values (no wall times: the
// tables are the same on every machine) and every comparison with the paper's value, the paper's
// range or bound, wafersim's ratio and the verdict.
std::string formatMarkdown(const nlohmann::json& report);

struct StudyOptions {
  std::string outDir;  // default runs/study-<DIR's name>
  bool reuse = false;  // read the results folders instead of running
  bool markdown = false;  // print formatMarkdown on stdout (progress on stderr) instead of the tables
  DistributedFlags flags;
};

// Runs (or reads) every run, prints the tables, writes OUT/study.json; returns the report.
nlohmann::json runStudy(const std::string& dir, const StudyOptions& options);

}  // namespace wafersim::study
