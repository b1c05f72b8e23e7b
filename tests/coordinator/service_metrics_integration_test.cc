// Watching the service's runs (docs/metrics.md) against real node processes on loopback: a pool
// run's live view and model metrics come from its nodes' heartbeats and add up to its results;
// the API counts its requests; the nodes serve their own /metrics and are listed for Prometheus's
// service discovery; a running run's live view moves, and a cancelled one says so. Waits poll
// states with bounds; nothing sleeps.
#include <chrono>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/coordinator/service_support.h"
#include "tests/support.h"

namespace wafersim::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;

std::string quickstart() { return sourceFileText("examples/quickstart.yaml"); }

class ServiceMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    useBuildTreeBinaries();
    service_ = std::make_unique<EmbeddedService>(serviceOptions(dir_.path), 2);
    url_ = service_->url();
    service_->pool().waitForNodes(2, {}, std::chrono::seconds(30));
  }
  std::string submit(std::vector<std::string> set) {
    const Reply r = post(url_, "/api/v1/runs", {{"scenario", quickstart()}, {"set", set}, {"nodes", 2}});
    EXPECT_EQ(r.status, 201) << r.text;
    return r.body.value("id", "");
  }
  TempDir dir_{"wafersim-service-metrics"};
  std::unique_ptr<EmbeddedService> service_;
  std::string url_;
};

TEST_F(ServiceMetrics, APoolRunIsWatchedFromItsNodesHeartbeats) {
  const std::string id = submit({"params.workload.count=24", "params.workload.output_tokens=8"});
  const json done = waitForEnd(url_, id, 180);
  ASSERT_EQ(done["state"], "SUCCEEDED") << done.dump();
  const double tokens = done["summary"]["serving"]["output_tokens"].get<double>();
  EXPECT_EQ(tokens, 24 * 8);

  const Reply live = call(url_, "GET", "/api/v1/runs/" + id + "/live");
  ASSERT_EQ(live.status, 200) << live.text;
  EXPECT_EQ(live.body["state"], "SUCCEEDED");
  EXPECT_EQ(live.body["progress"]["ratio"], 1.0);
  ASSERT_FALSE(live.body["series"].empty());
  EXPECT_EQ(live.body["series"].back()["output_tokens"].get<double>(), tokens);
  EXPECT_EQ(live.body["series"].back()["requests_finished"].get<double>(), 24.0);
  ASSERT_EQ(live.body["wafer"]["dies"].size(), 4u) << live.text;
  for (const json& d : live.body["wafer"]["dies"]) EXPECT_TRUE(d["busy"].is_number()) << d.dump();

  const Reply metrics = call(url_, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string& m = metrics.text;
  EXPECT_THAT(m, HasSubstr("process=\"coordinator\""));
  EXPECT_THAT(m, HasSubstr("wafersim_model_output_tokens_total{run=\"" + id + "\"} 192"));
  EXPECT_THAT(m, HasSubstr("wafersim_run_progress_ratio{run=\"" + id + "\"} 1"));
  EXPECT_THAT(m, HasSubstr("wafersim_service_runs{state=\"SUCCEEDED\"} 1"));
  EXPECT_THAT(m, HasSubstr("wafersim_service_nodes_registered 2"));
  EXPECT_THAT(m, HasSubstr("wafersim_http_requests_total{method=\"POST\",route=\"/api/v1/runs\",status=\"201\"} 1"));
  EXPECT_THAT(m, HasSubstr("wafersim_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/runs/{id}\""));
  EXPECT_THAT(m, Not(HasSubstr("wafersim_engine_events_committed_total{run=\"" + id)));  // the nodes have those

  // The nodes serve their own metrics, found through the coordinator.
  const Reply targets = call(url_, "GET", "/api/v1/prometheus/targets");
  ASSERT_EQ(targets.status, 200);
  ASSERT_EQ(targets.body.size(), 2u) << targets.text;
  for (const json& group : targets.body) {
    const std::string node = group["labels"]["node"];
    const Reply nm = call("http://" + group["targets"][0].get<std::string>(), "GET", "/metrics");
    ASSERT_EQ(nm.status, 200);
    EXPECT_THAT(nm.text, HasSubstr("process=\"node\""));
    EXPECT_THAT(nm.text, HasSubstr("wafersim_node_runs_total{node=\"" + node + "\"} 1"));
    EXPECT_THAT(nm.text, HasSubstr("wafersim_node_busy{node=\"" + node + "\"} 0"));
  }
}

TEST_F(ServiceMetrics, ARunningRunsLiveViewMovesAndACancelledOneSaysSo) {
  const std::string id = submit({"params.workload.count=2000", "params.workload.output_tokens=64"});
  ASSERT_EQ(waitFor(url_, id, "running", 60)["state"], "RUNNING");
  auto live = [&] { return call(url_, "GET", "/api/v1/runs/" + id + "/live").body; };
  // Events advance, the series fills and requests finish while it runs (bounded wait, polling).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  uint64_t first = 0;
  bool moved = false;
  while (!moved && std::chrono::steady_clock::now() < until) {
    const json v = live();
    const uint64_t events = v["progress"].value("events", uint64_t{0});
    if (first == 0) first = events;
    moved = first > 0 && events > first && !v["series"].empty() && v["progress"].value("ratio", 0.0) > 0;
    if (!moved) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling pace, not a wait
  }
  ASSERT_TRUE(moved) << live().dump();
  const json running = live();
  EXPECT_EQ(running["state"], "RUNNING");
  EXPECT_GT(running["progress"]["ratio"].get<double>(), 0.0);
  EXPECT_LT(running["progress"]["ratio"].get<double>(), 1.0);
  EXPECT_EQ(running["progress"]["requests_total"], 2000);

  ASSERT_EQ(post(url_, "/api/v1/runs/" + id + "/cancel", json::object()).status, 202);
  EXPECT_EQ(waitForEnd(url_, id, 60)["state"], "CANCELLED");
  EXPECT_EQ(live()["state"], "CANCELLED");
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs/r-nonesuch/live").status, 404);
}

}  // namespace
}  // namespace wafersim::testing
