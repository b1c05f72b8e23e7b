// HTML reports (coordinator/run_report.h) from hand-made results folders: what is read from each
// file, what a missing file leaves out, what is refused, and the page's self-contained shape. The
// report drawn in a browser is tests/web/report_integration_test.cc.
#include "coordinator/run_report.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/error.h"
#include "tests/coordinator/service_support.h"

namespace wafersim::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Error errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorKind::Internal, "no error");
}

const char* kSummary = R"({"digest": "abc", "events": 10, "simulated_time_s": 0.002, "wall_seconds": 0.5,
  "energy": {"total_j": 3.0, "by_category_j": {"compute": 2.0, "link": 1.0},
             "by_component_j": {"endpoint[0,0]": {"compute": 2.0}, "router[0,0]": {"link": 1.0}}}})";

// A serving run's folder: every file but links.csv and placement_log.json.
fs::path servingRun(const fs::path& root, const std::string& name) {
  const fs::path dir = root / name;
  write(dir / "summary.json", kSummary);
  write(dir / "run.json", R"({"events": 10, "partitions": [{"id": 0, "events": 10}]})");
  write(dir / "partition.json", R"({"partitions": 1, "imbalance": 1.0, "components": [{"id": 0}]})");
  write(dir / "requests.csv",
        "id,arrival_ps,prompt_tokens,output_tokens,first_scheduled_ps,first_token_ps,finish_ps,preemptions\r\n"
        "0,0,8,4,0,1000,4000,0\r\n1,500,8,4,500,1500,6000,0\r\n");
  write(dir / "dies.csv", "die,type,busy_ps_xpu\n\"endpoint[0,0]\",moe.Die,1000000000\n\"endpoint[0,1]\",\"a \"\"q\"\"\",0\n");
  write(dir / "results.json", R"({"simulated_time_ps": 2000000000, "components": {
      "host": {"tables": {
        "expert_load": {"columns": ["moe_layer", "expert", "tokens"], "rows": [[0, 0, 5], [0, 1, 7]]},
        "placement_log": {"columns": ["epoch", "decided_ps", "policy", "outcome", "reason", "load_max_over_mean_ppm",
                                      "optimality_gap_ppm"],
                          "rows": [[1, 100, 0, 1, 2, 1500000, -1]], "strings": ["eplb", "applied", "why"]}}}}})");
  write(dir / "scenario.yaml", "model: moe_serving\n# </script> in a comment\n");
  return dir;
}

TEST(RunReport, ReadsEveryFileOfAResultsFolder) {
  TempDir tmp("wafersim-report");
  const fs::path dir = servingRun(tmp.path, "first");
  const json data = readReportData({dir.string()});
  EXPECT_EQ(data["title"], "wafersim report: first");
  ASSERT_EQ(data["runs"].size(), 1u);
  const json& run = data["runs"][0];
  EXPECT_EQ(run["name"], "first");
  EXPECT_EQ(run["summary"]["digest"], "abc");
  EXPECT_EQ(run["run"]["events"], 10);
  EXPECT_EQ(run["partition"], json({{"partitions", 1}, {"imbalance", 1.0}}));  // scalars only
  EXPECT_EQ(run["simulated_time_ps"], 2000000000);
  EXPECT_EQ(run["requests"]["columns"][5], "first_token_ps");
  EXPECT_EQ(run["requests"]["rows"], json::parse("[[0,0,8,4,0,1000,4000,0],[1,500,8,4,500,1500,6000,0]]"));
  EXPECT_EQ(run["dies"]["rows"][0][0], "endpoint[0,0]");  // quoted, with a comma
  EXPECT_EQ(run["dies"]["rows"][1][1], "a \"q\"");
  EXPECT_EQ(run["expert_load"]["rows"], json::parse("[[0,0,5],[0,1,7]]"));
  ASSERT_EQ(run["placement_log"].size(), 1u);  // from results.json's table, strings resolved
  EXPECT_EQ(run["placement_log"][0]["policy"], "eplb");
  EXPECT_EQ(run["placement_log"][0]["outcome"], "applied");
  EXPECT_DOUBLE_EQ(run["placement_log"][0]["load_max_over_mean"].get<double>(), 1.5);
  EXPECT_TRUE(run["placement_log"][0]["optimality_gap"].is_null());
  // The one missing file is named, with what it leaves out.
  EXPECT_TRUE(run["links"].is_null());
  ASSERT_EQ(run["notes"].size(), 1u);
  EXPECT_THAT(run["notes"][0].get<std::string>(), HasSubstr("no links.csv"));
}

TEST(RunReport, PrefersPlacementLogJsonWithoutThePlacements) {
  TempDir tmp("wafersim-report");
  const fs::path dir = servingRun(tmp.path, "online");
  write(dir / "placement_log.json",
        R"({"decisions": [{"epoch": 1, "decided_ps": 5, "outcome": "unchanged", "placement": {"experts": [[[[0, 1]]]]}},
                          {"epoch": 2, "decided_ps": 9, "outcome": "applied"}]})");
  const json run = readReportData({dir.string()})["runs"][0];
  ASSERT_EQ(run["placement_log"].size(), 2u);
  EXPECT_FALSE(run["placement_log"][0].contains("placement"));
  EXPECT_EQ(run["placement_log"][1]["outcome"], "applied");
}

TEST(RunReport, AFolderWithOnlyASummaryDropsEveryOtherFigureWithANote) {
  TempDir tmp("wafersim-report");
  write(tmp.path / "bare" / "summary.json", kSummary);
  const json run = readReportData({(tmp.path / "bare").string()})["runs"][0];
  for (const char* key : {"run", "requests", "dies", "links", "expert_load", "placement_log", "scenario"})
    EXPECT_TRUE(run[key].is_null()) << key;
  EXPECT_EQ(run["simulated_time_ps"], 2000000000);  // from the summary
  std::string notes = run["notes"].dump();
  for (const char* file : {"run.json", "results.json", "requests.csv", "dies.csv", "links.csv"})
    EXPECT_THAT(notes, HasSubstr(file));
}

TEST(RunReport, RefusesWhatIsNotAResultsFolderNamingIt) {
  TempDir tmp("wafersim-report");
  const fs::path empty = tmp.path / "empty";
  fs::create_directories(empty);
  for (const fs::path& dir : {empty, tmp.path / "absent"}) {
    const Error e = errorOf([&] { readReportData({dir.string()}); });
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_THAT(e.what(), HasSubstr(dir.string()));
    EXPECT_THAT(e.what(), HasSubstr("not a results folder"));
  }
  write(tmp.path / "broken" / "summary.json", "{not json");
  const Error broken = errorOf([&] { readReportData({(tmp.path / "broken").string()}); });
  EXPECT_EQ(broken.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(broken.what(), HasSubstr("summary.json: not valid JSON"));
  const fs::path ragged = servingRun(tmp.path, "ragged");
  write(ragged / "links.csv", "from,to,utilization\na,b\n");
  const Error csv = errorOf([&] { readReportData({ragged.string()}); });
  EXPECT_THAT(csv.what(), HasSubstr("links.csv:2: 2 fields, the header has 3"));
}

TEST(RunReport, NamesRunsInAComparisonApart) {
  TempDir tmp("wafersim-report");
  const fs::path a = servingRun(tmp.path / "a", "run");
  const fs::path b = servingRun(tmp.path / "b", "run");
  const json data = readReportData({a.string(), (b.string() + "/")});
  EXPECT_EQ(data["title"], "wafersim comparison: run, run (2)");
  EXPECT_EQ(data["runs"][1]["name"], "run (2)");
}

TEST(RunReport, WritesOneSelfContainedPage) {
  TempDir tmp("wafersim-report");
  const fs::path dir = servingRun(tmp.path, "first");
  const fs::path dist = tmp.path / "dist";
  write(dist / "report.js", "var s = \"</script>\"; document.body.dataset.rendered = '1';");
  write(dist / "report.css", "body { color: black }");
  const fs::path out = tmp.path / "out" / "deep" / "report.html";
  writeRunReport({dir.string()}, out.string(), dist.string());
  const std::string page = read(out);
  EXPECT_THAT(page, HasSubstr("<title>wafersim report: first</title>"));
  EXPECT_THAT(page, HasSubstr("body { color: black }"));
  EXPECT_THAT(page, HasSubstr("var s = \"<\\/script>\""));  // cannot close its element early
  // The data parses back, and no "</" in it closes its element either.
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const auto begin = page.find(open);
  ASSERT_NE(begin, std::string::npos);
  const auto end = page.find("</script>", begin);
  const std::string text = page.substr(begin + open.size(), end - begin - open.size());
  EXPECT_EQ(text.find("</"), std::string::npos);
  const json data = json::parse(text);
  EXPECT_THAT(data["runs"][0]["scenario"].get<std::string>(), HasSubstr("# </script> in a comment"));
  // Nothing is fetched from elsewhere.
  EXPECT_EQ(page.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.find("href=\"http"), std::string::npos);
}

TEST(RunReport, WithoutTheWebBuildSaysHowToMakeIt) {
  TempDir tmp("wafersim-report");
  const fs::path dir = servingRun(tmp.path, "first");
  for (const std::string& dist : {std::string(), (tmp.path / "no-dist").string()}) {
    const Error e = errorOf([&] { writeRunReport({dir.string()}, (tmp.path / "r.html").string(), dist); });
    EXPECT_EQ(e.kind(), ErrorKind::Unimplemented);
    EXPECT_THAT(e.what(), HasSubstr("wafersim_web"));
  }
  EXPECT_FALSE(fs::exists(tmp.path / "r.html"));
}

}  // namespace
}  // namespace wafersim::testing
