// The live page against a real service (an embedded coordinator with two wafersim-node processes),
// in headless Chromium (web/tests/live_page.cjs): a run listed RUNNING, its events and progress
// moving, its charts and a wafer heatmap of one cell per die (4 for the quick start's 2x2 wafer),
// cancelled from the page and shown CANCELLED; a sweep's table sorted and plotted with its Pareto
// front; a run without a live view shown by its state and summary. Screenshots:
// <build>/test-artifacts/live-*.png.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/web/browser_support.h"

namespace wafersim::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string quickstart() {
  std::ifstream in(sourceDir() + "/examples/quickstart.yaml");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class LivePage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = absentBrowserTools(tools_)) GTEST_SKIP() << "no browser to test the page in: " << *why;
    const std::string missing = missingWebBuild(tools_);
    ASSERT_TRUE(missing.empty()) << missing;
    useBuildTreeBinaries();
    ServiceOptions options = serviceOptions(dir_.path / "data");
    options.webDir = tools_.dist;
    service_ = std::make_unique<EmbeddedService>(options, 2);
    service_->pool().waitForNodes(2, {}, std::chrono::seconds(30));
    url_ = service_->url();
  }

  BrowserTools tools_;
  TempDir dir_{"wafersim-live-page"};
  std::unique_ptr<EmbeddedService> service_;
  std::string url_;
};

TEST_F(LivePage, ServesThePageAndItsFiles) {
  const Reply page = call(url_, "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.text, HasSubstr("static/app.js"));
  const Reply script = call(url_, "GET", "/static/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_GT(script.text.size(), 1000u);
  EXPECT_EQ(call(url_, "GET", "/static/app.css").status, 200);
  EXPECT_EQ(call(url_, "GET", "/static/nothing.js").status, 404);
}

TEST_F(LivePage, WatchesARunAndCancelsItSortsAndPlotsASweep) {
  // A run that has ended (the driver answers 404 for its live view, as for a run older than them).
  const Reply ended = post(url_, "/api/v1/runs", {{"scenario", quickstart()}, {"id", "finished"}});
  ASSERT_EQ(ended.status, 201) << ended.text;
  // A sweep of three PHOLD points.
  const Reply sweep = post(url_, "/api/v1/sweeps",
                           {{"scenario", phold("2 us")}, {"grid", {{"simulation.seed", {1, 2, 3}}}}, {"id", "seeds"}});
  ASSERT_EQ(sweep.status, 201) << sweep.text;
  EXPECT_EQ(waitForEnd(url_, "finished", 120)["state"], "SUCCEEDED");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(waitForEnd(url_, "seeds-" + std::to_string(i), 60)["state"], "SUCCEEDED");
  // The run to watch: the quick start with far more requests than the test waits for (a full run
  // takes minutes); it is cancelled from the page, or stopped by its wall limit at the latest.
  const Reply watched = post(url_, "/api/v1/runs",
                             {{"scenario", quickstart()},
                              {"set", {"params.workload.count=20000"}},
                              {"id", "watched"},
                              {"wall_limit_s", 240}});
  ASSERT_EQ(watched.status, 201) << watched.text;
  ASSERT_EQ(waitFor(url_, "watched", "running", 60)["state"], "RUNNING");

  const DriverRun d = runDriver(tools_, "live_page.cjs",
                                {"--url", url_, "--run", "watched", "--dies", "4", "--out", artifactsDir(), "--sweep",
                                 "seeds", "--sweep-points", "3", "--ended-run", "finished", "--ended-state", "SUCCEEDED", "--token",
                                 kAdminToken},
                                std::chrono::seconds(180));
  EXPECT_EQ(d.exitCode, 0) << d.output;
  EXPECT_THAT(d.output, HasSubstr("token: asked, a wrong one refused, the right one taken"));
  for (const char* shot : {"live-runs.png", "live-sweep.png", "live-run.png", "live-token.png", "live-cancelled.png",
                           "live-no-live-view.png"})
    EXPECT_THAT(d.output, HasSubstr("screenshot: " + artifactsDir() + "/" + shot));
  // The service agrees with the page: the user cancelled it.
  const json end = waitForEnd(url_, "watched", 60);
  EXPECT_EQ(end["state"], "CANCELLED");
  EXPECT_EQ(end["reason"], "CANCELLED_BY_USER");
}

}  // namespace
}  // namespace wafersim::testing
