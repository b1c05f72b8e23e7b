// `wafersim report` and `wafersim compare` end to end: real runs (the quick start, and a short
// online-placement run), their reports opened from disk in headless Chromium
// (web/tests/report.cjs): every figure drawn, no console error, nothing fetched from the network.
// Screenshots: <build>/test-artifacts/report-*.png.

#include <cstdio>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support.h"
#include "tests/web/browser_support.h"

namespace wafersim::testing {
namespace {

using ::testing::HasSubstr;

using Output = CommandOutput;

Output wafersim(const std::string& args) { return runCommand(binaryDir() + "/cli/wafersim " + args); }

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = absentBrowserTools(tools_)) GTEST_SKIP() << "no browser to draw reports in: " << *why;
    const std::string missing = missingWebBuild(tools_);
    ASSERT_TRUE(missing.empty()) << missing;
  }

  // Runs a scenario of examples/ into dir_/name on one partition (quick on a busy machine).
  std::string run(const std::string& name, const std::string& scenario, const std::string& sets = "") {
    const std::string out = (dir_.path / name).string();
    const Output r = wafersim("run " + sourceDir() + "/examples/" + scenario + " --no-progress --set simulation.partitions=1 " +
                              sets + " --out " + out);
    EXPECT_EQ(r.code, 0) << r.text;
    return out;
  }

  // Opens the report in Chromium; figures must be drawn, dropped must be left out with a note.
  // dies: the cells the first run's wafer must have (0: no wafer to check).
  void check(const std::string& file, const std::string& name, int runs, const std::string& figures,
             const std::string& dropped = "", int dies = 4) {
    std::vector<std::string> args{"--file", file, "--out", artifactsDir(), "--name", name, "--runs", std::to_string(runs),
                                  "--figures", figures, "--dropped", dropped};
    if (dies > 0) args.insert(args.end(), {"--dies", std::to_string(dies)});
    const DriverRun d = runDriver(tools_, "report.cjs", args, std::chrono::seconds(120));
    EXPECT_EQ(d.exitCode, 0) << d.output;
    EXPECT_THAT(d.output, HasSubstr("screenshot: " + artifactsDir() + "/" + name + ".png"));
  }

  BrowserTools tools_;
  TempDir dir_{"wafersim-report-it"};
};

const char* kServingFigures = "latency-cdf,throughput,wafer,links,expert-load,energy-category,energy-component";

TEST_F(Report, OneRunAndAComparisonDrawEveryFigure) {
  const std::string quick = run("quickstart", "quickstart.yaml");
  // Online expert re-placement, small: 8 requests of 8 tokens, 2 layers, an epoch of 500 us.
  const std::string online = run("online", "placement/online_eplb.yaml",
                                 "--set params.workload.count=8 --set params.workload.output_tokens=8 "
                                 "--set params.model.layers=2 --set \"params.mapping.epoch=500 us\"");
  ASSERT_TRUE(std::filesystem::exists(online + "/placement_log.json"));

  const Output one = wafersim("report " + quick);
  EXPECT_EQ(one.code, 0) << one.text;
  EXPECT_THAT(one.text, HasSubstr(quick + "/report.html written (1 run)"));
  check(quick + "/report.html", "report-quickstart", 1, kServingFigures, "placement");

  const std::string placed = (dir_.path / "online.html").string();
  EXPECT_EQ(wafersim("report " + online + " -o " + placed).code, 0);
  check(placed, "report-online-placement", 1, std::string(kServingFigures) + ",placement");

  const std::string both = (dir_.path / "compare.html").string();
  const Output compared = wafersim("compare " + quick + " " + online + " -o " + both);
  EXPECT_EQ(compared.code, 0) << compared.text;
  EXPECT_THAT(compared.text, HasSubstr("(2 runs)"));
  check(both, "report-compare", 2, std::string(kServingFigures) + ",placement");
}

TEST_F(Report, AMissingFileDropsItsFigureAndAStrayFolderIsRefused) {
  const std::string quick = run("quickstart", "quickstart.yaml");
  std::filesystem::remove(quick + "/links.csv");
  std::filesystem::remove(quick + "/requests.csv");
  const Output partial = wafersim("report " + quick);
  EXPECT_EQ(partial.code, 0) << partial.text;
  check(quick + "/report.html", "report-missing-files", 1, "wafer,expert-load,energy-category", "latency-cdf,throughput,links");

  const Output stray = wafersim("report " + dir_.path.string());
  EXPECT_EQ(stray.code, 2);
  EXPECT_THAT(stray.text, HasSubstr(dir_.path.string() + ": not a results folder"));
  const Output none = wafersim("compare " + quick + " " + (dir_.path / "absent").string());
  EXPECT_EQ(none.code, 2);
  EXPECT_THAT(none.text, HasSubstr("absent: not a results folder"));
}

TEST_F(Report, ComparesASweepFetchedFromTheService) {
  useBuildTreeBinaries();
  EmbeddedService service(serviceOptions(dir_.path / "data"), 1);
  service.pool().waitForNodes(1, {}, std::chrono::seconds(30));
  const Reply sweep = post(service.url(), "/api/v1/sweeps",
                           {{"scenario", phold("2 us")}, {"grid", {{"simulation.seed", {1, 2}}}}, {"id", "pair"}});
  ASSERT_EQ(sweep.status, 201) << sweep.text;
  for (const char* run : {"pair-0", "pair-1"}) EXPECT_EQ(waitForEnd(service.url(), run)["state"], "SUCCEEDED");
  const std::string runs = (dir_.path / "fetched").string();
  const std::string file = (dir_.path / "pair.html").string();
  const Output compared =
      wafersim("compare --sweep pair --server " + service.url() + " --runs-dir " + runs + " -o " + file);
  EXPECT_EQ(compared.code, 0) << compared.text;
  EXPECT_THAT(compared.text, HasSubstr("sweep pair: 2 runs in " + runs));
  EXPECT_TRUE(std::filesystem::exists(runs + "/pair-1/summary.json"));
  // PHOLD has no requests, dies, experts or energy: every figure but the summary is left out, each
  // with its note.
  check(file, "report-sweep", 2, "", "latency-cdf,throughput,wafer,links,expert-load,energy-category,energy-component,placement", 0);
}

}  // namespace
}  // namespace wafersim::testing
