// `wafersim study`: the study file's checks, the comparisons' verdicts, and a tiny study end to end.
#include "coordinator/study.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"

namespace wafersim::study {
namespace {

using ::testing::HasSubstr;

const char* kStudy = R"y(study: "tiny"
source: "a test"
metric: {key: serving.tpot.mean_ms, name: "TPOT (ms)", lower_is_better: true}
runs:
  - {name: a/short, scenario: tiny.yaml, set: [params.workload.output_tokens=4]}
  - {name: a/long, scenario: tiny.yaml, set: [params.workload.output_tokens=8]}
comparisons:
  - {name: "long vs short", numerator: a/long, denominator: a/short, paper: 1.5, paper_range: [1.1, 1.8]}
  - {name: "no paper", numerator: a/short, denominator: a/long}
)y";

std::string errorOf(const std::string& text) {
  try {
    parseStudy(text, "dir/study.yaml");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    return e.what();
  }
  return "no error";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(StudyFile, Parses) {
  const Study s = parseStudy(kStudy, "dir/study.yaml");
  EXPECT_EQ(s.title, "tiny");
  EXPECT_EQ(s.citation, "a test");
  EXPECT_EQ(s.metric.key, "serving.tpot.mean_ms");
  EXPECT_EQ(s.metric.name, "TPOT (ms)");
  ASSERT_EQ(s.runs.size(), 2u);
  EXPECT_EQ(s.runs[1].name, "a/long");
  EXPECT_EQ(s.runs[1].line, 6);
  EXPECT_EQ(s.runs[1].set, std::vector<std::string>{"params.workload.output_tokens=8"});
  ASSERT_EQ(s.comparisons.size(), 2u);
  EXPECT_EQ(*s.comparisons[0].paper, 1.5);
  EXPECT_EQ(s.comparisons[0].paperRange->second, 1.8);
  EXPECT_FALSE(s.comparisons[1].paper);
  EXPECT_FALSE(s.comparisons[1].paperRange);
}

TEST(StudyFile, ErrorsNameTheFileLineAndField) {
  EXPECT_THAT(errorOf(replace(kStudy, "source:", "sauce:")), HasSubstr("dir/study.yaml:2: sauce: unknown key"));
  EXPECT_THAT(errorOf(replace(kStudy, "scenario: tiny.yaml, set: [params.workload.output_tokens=8]",
                              "scenario: tiny.yaml, sett: []")),
              HasSubstr("dir/study.yaml:6: runs[1].sett: unknown key"));
  EXPECT_THAT(errorOf(replace(kStudy, "{name: a/short, scenario: tiny.yaml,", "{name: a/short,")),
              HasSubstr("dir/study.yaml:5: runs[0].scenario: missing"));
  EXPECT_THAT(errorOf(replace(kStudy, "denominator: a/short, paper", "denominator: a/shorts, paper")),
              HasSubstr("dir/study.yaml:8: comparisons[0].denominator: no run named \"a/shorts\""));
  EXPECT_THAT(errorOf(replace(kStudy, "name: a/long", "name: a/short")),
              HasSubstr("dir/study.yaml:6: runs[1].name: \"a/short\" is already the name of the run on line 5"));
  EXPECT_THAT(errorOf(replace(kStudy, "name: a/long", "name: a_short")),
              HasSubstr("dir/study.yaml:6: runs[1].name: \"a_short\" would share the results folder"));
  EXPECT_THAT(errorOf(replace(kStudy, "paper_range: [1.1, 1.8]", "paper_range: [1.8, 1.1]")),
              HasSubstr("dir/study.yaml:8: comparisons[0].paper_range: low is above high"));
  EXPECT_THAT(errorOf(replace(kStudy, "paper: 1.5", "paper: fast")),
              HasSubstr("dir/study.yaml:8: comparisons[0].paper: expected a number"));
  EXPECT_THAT(errorOf(replace(kStudy, "output_tokens=4]", "output_tokens]")),
              HasSubstr("dir/study.yaml:5: runs[0].set[0]: expected key.path=value"));
  EXPECT_THAT(errorOf(replace(kStudy, "metric: {key: serving.tpot.mean_ms, ", "metric: {")),
              HasSubstr("dir/study.yaml:3: metric.key: missing"));
  EXPECT_THAT(errorOf(replace(kStudy, "study: \"tiny\"\n", "")), HasSubstr("dir/study.yaml:1: study: missing"));
  const std::string broken = errorOf("study: x\nmetric: {key: a}\nruns: [\n");
  EXPECT_THAT(broken, HasSubstr("dir/study.yaml:"));
  EXPECT_THAT(broken, HasSubstr("not valid YAML"));
}

TEST(StudyMetric, ReadsDottedPathsAndScalesSeconds) {
  const nlohmann::json summary = nlohmann::json::parse(
      R"({"wall_seconds": 2, "events": 10, "serving": {"output_tokens": 100, "tpot": {"mean_s": 0.0025}, "mode": "x"}})");
  EXPECT_EQ(*metricValue(summary, "wall_seconds"), 2.0);
  EXPECT_EQ(*metricValue(summary, "serving.output_tokens"), 100.0);
  EXPECT_DOUBLE_EQ(*metricValue(summary, "serving.tpot.mean_s"), 0.0025);
  EXPECT_DOUBLE_EQ(*metricValue(summary, "serving.tpot.mean_ms"), 2.5);
  EXPECT_DOUBLE_EQ(*metricValue(summary, "serving.tpot.mean_us"), 2500.0);
  EXPECT_FALSE(metricValue(summary, "serving.tpot.p99_ms"));
  EXPECT_FALSE(metricValue(summary, "serving.mode"));  // not a number
  EXPECT_FALSE(metricValue(summary, "serving.nothing.mean_s"));
}

TEST(StudyFile, PaperUpToIsABoundAlone) {
  const Study s = parseStudy(replace(kStudy, "paper: 1.5, paper_range: [1.1, 1.8]", "paper_up_to: 2.67"),
                             "dir/study.yaml");
  EXPECT_FALSE(s.comparisons[0].paper);
  EXPECT_FALSE(s.comparisons[0].paperRange);
  EXPECT_DOUBLE_EQ(*s.comparisons[0].paperUpTo, 2.67);
  EXPECT_THAT(errorOf(replace(kStudy, "paper_range: [1.1, 1.8]", "paper_range: [1.1, 1.8], paper_up_to: 2")),
              HasSubstr("dir/study.yaml:8: comparisons[0].paper_up_to: give paper_range or paper_up_to, not both"));
  EXPECT_THAT(errorOf(replace(kStudy, "paper: 1.5, paper_range: [1.1, 1.8]", "paper_up_to: fast")),
              HasSubstr("comparisons[0].paper_up_to"));
}

TEST(StudyComparison, ClassifiesByTheWrittenRules) {
  const std::pair<double, double> range{1.1, 1.8};
  auto claim = [](std::optional<double> value, std::optional<std::pair<double, double>> r = std::nullopt,
                  std::optional<double> upTo = std::nullopt) { return PaperClaim{value, r, upTo}; };
  // A range: inside (ends included) or outside.
  EXPECT_EQ(classify(1.5, claim(1.81, range)), Verdict::InRange);
  EXPECT_EQ(classify(1.1, claim(1.81, range)), Verdict::InRange);
  EXPECT_EQ(classify(2.5, claim(1.81, range)), Verdict::Outside);
  EXPECT_EQ(classify(1.05, claim(1.81, range)), Verdict::Outside);
  EXPECT_EQ(classify(0.9, claim(1.81, range)), Verdict::DirectionWrong);
  EXPECT_EQ(classify(0.9, claim(std::nullopt, range)), Verdict::DirectionWrong);  // the range's side of 1
  EXPECT_EQ(classify(1.2, claim(0.7, std::pair{0.5, 0.8})), Verdict::DirectionWrong);
  EXPECT_EQ(classify(0.6, claim(0.7, std::pair{0.5, 0.8})), Verdict::InRange);
  // A value alone: within 15% of it, or only the right direction.
  EXPECT_EQ(classify(1.3, claim(1.5)), Verdict::Close);
  EXPECT_EQ(classify(1.1, claim(1.5)), Verdict::RightDirection);
  EXPECT_EQ(classify(0.7, claim(1.5)), Verdict::DirectionWrong);
  EXPECT_EQ(classify(1.0, claim(1.155)), Verdict::DirectionWrong);  // no change where the paper has one
  // "Up to X": any gain up to X; beyond it is outside, a loss the wrong direction.
  EXPECT_EQ(classify(1.05, claim(std::nullopt, std::nullopt, 2.67)), Verdict::InRange);
  EXPECT_EQ(classify(2.67, claim(std::nullopt, std::nullopt, 2.67)), Verdict::InRange);
  EXPECT_EQ(classify(3.1, claim(std::nullopt, std::nullopt, 2.67)), Verdict::Outside);
  EXPECT_EQ(classify(0.9, claim(std::nullopt, std::nullopt, 2.67)), Verdict::DirectionWrong);
  EXPECT_EQ(classify(0.8, claim(std::nullopt, std::nullopt, 0.5)), Verdict::InRange);  // "down to 0.5"
  EXPECT_EQ(classify(0.4, claim(std::nullopt, std::nullopt, 0.5)), Verdict::Outside);
  // Nothing from the paper.
  EXPECT_EQ(classify(1.3, claim(std::nullopt)), Verdict::NoPaper);
  EXPECT_STREQ(toString(Verdict::DirectionWrong), "direction wrong");
  EXPECT_STREQ(toString(Verdict::Close), "within 15%");
}

TEST(StudyComparison, ReportHasRatiosAndVerdicts) {
  const Study s = parseStudy(kStudy, "dir/study.yaml");
  const nlohmann::json fast = nlohmann::json::parse(R"({"wall_seconds": 1, "events": 50, "serving": {"tpot": {"mean_s": 0.002}}})");
  const nlohmann::json slow = nlohmann::json::parse(R"({"wall_seconds": 2, "events": 50, "serving": {"output_tokens": 8, "tpot": {"mean_s": 0.004}}})");
  const nlohmann::json doc = report(s, {figures(s, s.runs[0], "a_short", fast), figures(s, s.runs[1], "a_long", slow)});
  EXPECT_DOUBLE_EQ(doc["runs"][0]["value"].get<double>(), 2.0);
  EXPECT_TRUE(doc["runs"][0]["tokens_per_wall_s"].is_null());
  EXPECT_DOUBLE_EQ(doc["runs"][1]["tokens_per_wall_s"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(doc["runs"][1]["events_per_s"].get<double>(), 25.0);
  // A training run counts the tokens it trained.
  const nlohmann::json trained = nlohmann::json::parse(
      R"({"wall_seconds": 4, "events": 50, "serving": {"mode": "training", "trained_tokens": 100, "tpot": {"mean_s": 0.002}}})");
  EXPECT_DOUBLE_EQ(*figures(s, s.runs[0], "a_short", trained).tokensPerWallSecond, 25.0);
  EXPECT_DOUBLE_EQ(doc["comparisons"][0]["ratio"].get<double>(), 2.0);
  EXPECT_NEAR(doc["comparisons"][0]["ratio_over_paper"].get<double>(), 2.0 / 1.5, 1e-12);
  EXPECT_EQ(doc["comparisons"][0]["verdict"], "outside");
  EXPECT_EQ(doc["comparisons"][1]["verdict"], "-");
  const std::string text = formatReport(doc);
  EXPECT_THAT(text, HasSubstr("long vs short"));
  EXPECT_THAT(text, HasSubstr("outside"));
  EXPECT_THAT(text, HasSubstr("TPOT (ms)"));
  // The Markdown tables: the runs' values and every comparison, no wall times.
  const std::string markdown = formatMarkdown(doc);
  EXPECT_THAT(markdown, HasSubstr("### tiny\n"));
  EXPECT_THAT(markdown, HasSubstr("| `a/short` | 2 |\n"));
  EXPECT_THAT(markdown, HasSubstr("| long vs short | 1.5 | 1.1 - 1.8 | 2.000 | 1.333 | outside |\n"));
  EXPECT_THAT(markdown, HasSubstr("| no paper | - | - | 0.500 | - | - |\n"));
  EXPECT_THAT(markdown, ::testing::Not(HasSubstr("wall")));
  // A metric missing from a summary names the study file's metric line.
  Study other = s;
  other.metric.key = "serving.nothing";
  try {
    figures(other, s.runs[0], "a_short", fast);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("dir/study.yaml:3: metric.key: \"serving.nothing\" is not a number"));
  }
}

// Extra metrics: each run reports every metric, and a comparison names the one it divides.
TEST(StudyComparison, ExtraMetricsAreComparedByKey) {
  const std::string text = R"yaml(study: two metrics
metric: {key: serving.tpot.mean_ms, name: "TPOT (ms)"}
metrics:
  - {key: serving.energy_j, name: "energy (J)"}
  - {key: serving.output_tokens_per_s, name: "tokens/s", lower_is_better: false}
runs:
  - {name: base, scenario: s.yaml}
  - {name: new, scenario: s.yaml}
comparisons:
  - {name: latency, numerator: base, denominator: new, paper: 1.8}
  - {name: energy, metric: serving.energy_j, numerator: base, denominator: new, paper: 3, paper_range: [2, 4]}
  - {name: throughput, metric: serving.output_tokens_per_s, numerator: new, denominator: base, paper: 1.5}
)yaml";
  const Study s = parseStudy(text, "dir/study.yaml");
  ASSERT_EQ(s.extraMetrics.size(), 2u);
  EXPECT_FALSE(s.extraMetrics[1].lowerIsBetter);
  EXPECT_EQ(s.comparisons[0].metric, "serving.tpot.mean_ms");
  EXPECT_EQ(s.comparisons[1].metric, "serving.energy_j");
  const nlohmann::json base = nlohmann::json::parse(
      R"({"serving": {"tpot": {"mean_s": 0.004}, "energy_j": 9, "output_tokens_per_s": 100}})");
  const nlohmann::json faster = nlohmann::json::parse(
      R"({"serving": {"tpot": {"mean_s": 0.002}, "energy_j": 3, "output_tokens_per_s": 80}})");
  const nlohmann::json doc = report(s, {figures(s, s.runs[0], "base", base), figures(s, s.runs[1], "new", faster)});
  EXPECT_DOUBLE_EQ(doc["runs"][1]["values"]["serving.energy_j"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(doc["comparisons"][0]["ratio"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(doc["comparisons"][1]["ratio"].get<double>(), 3.0);
  EXPECT_EQ(doc["comparisons"][1]["verdict"], "in range");
  EXPECT_DOUBLE_EQ(doc["comparisons"][2]["ratio"].get<double>(), 0.8);
  EXPECT_EQ(doc["comparisons"][2]["verdict"], "direction wrong");
  const std::string printed = formatReport(doc);
  EXPECT_THAT(printed, HasSubstr("energy (J)"));
  EXPECT_THAT(printed, HasSubstr("tokens/s"));
  // A run whose summary lacks an extra metric names that metric's line.
  const nlohmann::json partial = nlohmann::json::parse(R"({"serving": {"tpot": {"mean_s": 0.004}, "energy_j": 9}})");
  try {
    figures(s, s.runs[0], "base", partial);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("dir/study.yaml:5: metrics: \"serving.output_tokens_per_s\" is not a number"));
  }
}

TEST(StudyFile, RejectsUnknownOrRepeatedMetrics) {
  auto error = [](const std::string& text) {
    try {
      parseStudy(text, "dir/study.yaml");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string head = "study: x\nmetric: {key: a.b}\n";
  const std::string runs = "runs:\n  - {name: r1, scenario: s.yaml}\n  - {name: r2, scenario: s.yaml}\n";
  EXPECT_THAT(error(head + "metrics:\n  - {key: a.b}\n" + runs),
              HasSubstr("dir/study.yaml:4: metrics[0].key: \"a.b\" is already the metric on line 2"));
  EXPECT_THAT(error(head + "metrics: {key: c}\n" + runs), HasSubstr("metrics: expected a list"));
  EXPECT_THAT(error(head + "metrics:\n  - {name: c}\n" + runs), HasSubstr("metrics[0].key: missing (required)"));
  EXPECT_THAT(error(head + runs + "comparisons:\n  - {name: c, metric: x.y, numerator: r1, denominator: r2}\n"),
              HasSubstr("dir/study.yaml:7: comparisons[0].metric: \"x.y\" is not a metric of the study (metrics: a.b)"));
}

// Two runs of a tiny serving scenario in this process: results folders, study.json, a ratio; then
// --reuse reads the folders back to the same report.
TEST(StudyEndToEnd, RunsInProcessAndWritesStudyJson) {
  const std::string dir = ::testing::TempDir() + "/study_e2e/tiny";
  const std::string out = ::testing::TempDir() + "/study_e2e/out";
  std::filesystem::remove_all(::testing::TempDir() + "/study_e2e");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tiny.yaml") << R"(model: moe_serving
params:
  hardware: {system: dojo, x: 2, y: 2}
  model: {preset: mixtral-8x7b, layers: 1}
  workload: {kind: closed, concurrency: 4, count: 4, prompt_tokens: 32, output_tokens: 4}
  routing: {kind: synthetic, zipf: 0.6}
  scheduler: {max_running: 4, token_budget: 512}
simulation: {partitions: 2, sync: window}
)";
  std::ofstream(dir + "/study.yaml") << replace(kStudy, "serving.tpot.mean_ms", "serving.makespan_s");
  StudyOptions options;
  options.outDir = out;
  const nlohmann::json doc = runStudy(dir, options);
  ASSERT_EQ(doc["runs"].size(), 2u);
  EXPECT_EQ(doc["runs"][0]["name"], "a/short");
  EXPECT_EQ(doc["runs"][1]["folder"], "a_long");
  EXPECT_TRUE(std::filesystem::exists(out + "/a_short/summary.json"));
  EXPECT_TRUE(std::filesystem::exists(out + "/a_long/results.json"));
  EXPECT_TRUE(std::filesystem::exists(out + "/study.yaml"));
  ASSERT_TRUE(doc["comparisons"][0]["ratio"].is_number());
  const double ratio = doc["comparisons"][0]["ratio"].get<double>();
  EXPECT_GT(ratio, 1.0);  // twice the output tokens take longer
  EXPECT_GT(doc["runs"][0]["tokens_per_wall_s"].get<double>(), 0.0);
  std::ifstream in(out + "/study.json");
  const nlohmann::json written = nlohmann::json::parse(in);
  EXPECT_EQ(written, doc);
  EXPECT_EQ(written.dump().find(dir), std::string::npos) << "study.json names the study's folder";

  options.reuse = true;
  const nlohmann::json reused = runStudy(dir, options);
  EXPECT_EQ(reused, doc);
}

}  // namespace
}  // namespace wafersim::study
