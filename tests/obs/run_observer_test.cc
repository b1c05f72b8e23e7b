// Watching a run (obs/run_observer.h): observing never changes the run (the digest with an
// observer equals the digest without, on threads and on one partition), what it sees adds up to the
// run's own results (tokens, requests, energy), the live view draws the wafer, and bounded labels.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/run.h"
#include "obs/metrics.h"
#include "obs/run_observer.h"
#include "sim/error.h"
#include "tests/support.h"

namespace wafersim::obs {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;

std::string quickstart() { return testing::sourceFileText("examples/quickstart.yaml"); }

struct Outcome {
  std::string digest;
  json summary;
};

Outcome run(const std::string& name, std::vector<std::string> overrides, const std::shared_ptr<RunObserver>& observer) {
  const auto dir = std::filesystem::temp_directory_path() / ("wafersim-observer-" + name + "-" + std::to_string(::getpid()));
  RunSpec spec;
  spec.scenarioText = quickstart();
  spec.source = "quickstart.yaml";
  spec.baseDir = std::string(WAFERSIM_SOURCE_DIR) + "/examples";
  overrides.push_back("params.workload.count=16");
  overrides.push_back("params.workload.output_tokens=8");
  overrides.push_back("params.model.layers=4");  // a tenth of the events: these tests run under ASan too
  spec.overrides = overrides;
  spec.outDir = dir.string();
  spec.observer = observer;
  const RunOutcome out = executeRun(spec);
  std::filesystem::remove_all(dir);
  return {out.digest, out.summary};
}

TEST(RunObserver, ObservingNeverChangesTheRun) {
  for (const char* partitions : {"1", "2"}) {
    SCOPED_TRACE(std::string("partitions ") + partitions);
    const std::vector<std::string> set = {std::string("simulation.partitions=") + partitions,
                                          "simulation.metrics_epoch=50us"};
    const Outcome plain = run("plain", set, nullptr);
    auto observer = std::make_shared<RunObserver>(RunObserverOptions{.runId = "r-test"});
    const Outcome watched = run("watched", set, observer);
    EXPECT_EQ(plain.digest, watched.digest);
    // It saw many epochs, all of the run by the end.
    const json live = observer->live();
    EXPECT_GT(live["series"].size(), 20u);
    EXPECT_LE(live["series"].size(), RunObserver::kMaxSeriesPoints);
    const json& last = live["series"].back();
    EXPECT_EQ(last["output_tokens"].get<double>(), watched.summary["serving"]["output_tokens"].get<double>());
    EXPECT_EQ(last["requests_finished"].get<double>(), 16.0);
    EXPECT_EQ(live["progress"]["requests_done"].get<double>(), 16.0);
    EXPECT_EQ(live["progress"]["events"].get<uint64_t>(), watched.summary["events"].get<uint64_t>());
  }
}

TEST(RunObserver, TheLiveViewDrawsTheWafer) {
  auto observer = std::make_shared<RunObserver>(RunObserverOptions{.runId = "r-wafer"});
  run("wafer", {"simulation.partitions=2"}, observer);
  const json live = observer->live();
  EXPECT_EQ(live["wafer"]["rows"], 2);
  EXPECT_EQ(live["wafer"]["cols"], 2);
  ASSERT_EQ(live["wafer"]["dies"].size(), 4u);
  for (const json& d : live["wafer"]["dies"]) {
    EXPECT_THAT(d["name"].get<std::string>(), HasSubstr("endpoint["));
    ASSERT_TRUE(d["busy"].is_number()) << d.dump();
    EXPECT_GE(d["busy"].get<double>(), 0.0);
    EXPECT_LE(d["busy"].get<double>(), 1.0);
  }
  EXPECT_FALSE(live["wafer"]["links"].empty());
  // Throughput over simulated time: some epoch generated tokens.
  double best = 0;
  for (const json& p : live["series"]) best = std::max(best, p["tokens_per_s"].get<double>());
  EXPECT_GT(best, 0);
}

TEST(RunObserver, MetricsAddUpToTheRunsResults) {
  auto observer = std::make_shared<RunObserver>(RunObserverOptions{.runId = "r-metrics", .sweep = "s-1"});
  const Outcome out = run("metrics", {"simulation.partitions=2"}, observer);
  observer->ended("SUCCEEDED");
  MetricsRegistry registry("run");
  registry.add(observer);
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("wafersim_build_info{"));
  EXPECT_THAT(text, HasSubstr("wafersim_run_progress_ratio{run=\"r-metrics\",sweep=\"s-1\"} 1"));
  EXPECT_THAT(text, HasSubstr("wafersim_model_requests_finished_total{run=\"r-metrics\",sweep=\"s-1\"} 16"));
  EXPECT_THAT(text, HasSubstr("wafersim_engine_events_committed_total{run=\"r-metrics\",sweep=\"s-1\",node=\"local\",partition=\"1\"}"));
  EXPECT_THAT(text, HasSubstr("wafersim_model_die_busy_ratio{run=\"r-metrics\",sweep=\"s-1\",die=\"endpoint[0,0]\",engine=\"xpu\"}"));
  EXPECT_THAT(text, HasSubstr("wafersim_model_ttft_seconds_bucket{"));
  EXPECT_THAT(text, HasSubstr("wafersim_model_energy_joules_total{run=\"r-metrics\",sweep=\"s-1\",category=\"compute\"}"));
  // The energy it reports is the run's (summary.json, category compute).
  const double compute = out.summary["energy"]["by_category_j"]["compute"].get<double>();
  const auto at = text.find("category=\"compute\"} ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NEAR(std::stod(text.substr(at + 20)), compute, compute * 1e-9);
}

TEST(RunObserver, LabelsAreBoundedDiesBeyondTheBoundAreAggregated) {
  auto observer = std::make_shared<RunObserver>(RunObserverOptions{.runId = "r-bound"});
  run("bound", {"simulation.metrics_max_series=2"}, observer);
  MetricsRegistry registry("run");
  registry.add(observer);
  const std::string text = registry.render();
  size_t dies = 0;
  for (size_t at = text.find("wafersim_model_die_busy_ratio{"); at != std::string::npos;
       at = text.find("wafersim_model_die_busy_ratio{", at + 1))
    ++dies;
  EXPECT_EQ(dies, 3u) << text;  // two dies by name, the other two as one
  EXPECT_THAT(text, HasSubstr("die=\"other\""));
  EXPECT_THAT(text, HasSubstr("link=\"other\""));
}

TEST(RunObserver, ANodesSamplesOfAnotherPartitionAreRefused) {
  RunObserver observer(RunObserverOptions{.runId = "r-absorb"});
  PartitionSample good;
  good.partition = 0;
  good.atPs = 1000;
  PartitionSample bad = good;
  bad.partition = 1;
  observer.absorbHeartbeat({0}, 10, 1000, {good, bad});  // no partitions attached: all refused
  EXPECT_EQ(observer.refusedSamples(), 2u);
}

TEST(Metrics, FamiliesOfTheSameNameAreMergedAndDeadCollectablesDropOut) {
  MetricsRegistry registry("test");
  auto a = makeCollectable([] {
    FamilySet f;
    f.gauge("wafersim_x", "X.", {{"run", "a"}}, 1);
    return f.take();
  });
  auto b = makeCollectable([] {
    FamilySet f;
    f.gauge("wafersim_x", "X.", {{"run", "b"}}, 2);
    return f.take();
  });
  registry.add(a);
  registry.add(b);
  std::string text = registry.render();
  EXPECT_EQ(text.find("# TYPE wafersim_x gauge"), text.rfind("# TYPE wafersim_x gauge"));
  EXPECT_THAT(text, HasSubstr("wafersim_x{run=\"a\"} 1"));
  EXPECT_THAT(text, HasSubstr("wafersim_x{run=\"b\"} 2"));
  EXPECT_THAT(text, HasSubstr("process=\"test\""));
  b.reset();
  text = registry.render();
  EXPECT_THAT(text, Not(HasSubstr("run=\"b\"")));
  registry.remove(a.get());
  EXPECT_THAT(registry.render(), Not(HasSubstr("wafersim_x")));
}

TEST(Metrics, AddressesAreHostAndPort) {
  EXPECT_EQ(parseHostPort("127.0.0.1:9100", "--metrics"), (std::pair<std::string, uint16_t>{"127.0.0.1", 9100}));
  EXPECT_EQ(parseHostPort("0.0.0.0:0", "--metrics").second, 0);
  for (const char* bad : {"9100", ":9100", "host:", "host:99999", "host:12x"}) {
    try {
      parseHostPort(bad, "--metrics");
      ADD_FAILURE() << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("--metrics"));
      EXPECT_THAT(e.what(), HasSubstr(bad));
    }
  }
}

TEST(WaferLayout, GridPositionsComeFromNames) {
  EXPECT_EQ(gridPosition("endpoint[3,12]"), (std::pair<uint32_t, uint32_t>{3, 12}));
  EXPECT_FALSE(gridPosition("endpoint[3]"));
  EXPECT_FALSE(gridPosition("endpoint[a,1]"));
  EXPECT_FALSE(gridPosition("die7"));
}

}  // namespace
}  // namespace wafersim::obs
