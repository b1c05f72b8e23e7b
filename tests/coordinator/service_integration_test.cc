// The coordinator service against real processes on loopback: an embedded service (HTTP API, job
// store, node pool) with wafersim-node and wafersim-placement children. Every endpoint, every state
// transition, idempotent resubmission, cancellation, wall-clock limits, sweeps with the result
// cache, a node killed mid-run, bad requests. No test sleeps to wait: each polls the state it
// waits for, with a bound.
#include <signal.h>

#include <fstream>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/run.h"
#include "tests/coordinator/service_support.h"

namespace wafersim::testing {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

class Service : public ::testing::Test {
 protected:
  void start(uint32_t nodes, uint32_t maxRetries = 2) {
    useBuildTreeBinaries();
    ServiceOptions options = serviceOptions(dir_.path);
    options.maxRetries = maxRetries;
    service_ = std::make_unique<EmbeddedService>(options, nodes);
    url_ = service_->url();
    service_->pool().waitForNodes(nodes, {}, std::chrono::seconds(30));
  }
  json submit(const json& body, int expect = 201) {
    const Reply r = post(url_, "/api/v1/runs", body);
    EXPECT_EQ(r.status, expect) << r.text;
    return r.body;
  }
  // A list from the API, by value (a range-for over call(...).body["x"] would outlive its reply).
  json list(const std::string& target, const char* key) { return call(url_, "GET", target).body[key]; }
  // PHOLD with a 1 ns lookahead on 2 pool nodes for 40 us, a cut every 4 us.
  static std::string checkpointedScenario(uint64_t seed) {
    return "model: phold\nparams: {lps: 32, initial_events: 2, lookahead: 1 ns, mean: 9 ns}\n"
           "simulation: {end: 40 us, seed: " + std::to_string(seed) + "}\n";
  }
  // Submits it and returns its id once its first cut is committed ("" on a failure).
  std::string startCheckpointedRun(const std::string& scenario) {
    const json run = submit({{"scenario", scenario}, {"nodes", 2}, {"cache", false},
                             {"set", {"simulation.checkpoint_every=4us"}}});
    const std::string id = run.value("id", "");
    EXPECT_EQ(waitFor(url_, id, "running")["state"], "RUNNING");
    const auto latest = dir_.path / "runs" / id / "checkpoints" / "latest";
    const bool cut = pollUntil(std::chrono::seconds(60), [&] { return std::filesystem::exists(latest); },
                               std::chrono::milliseconds(5));
    EXPECT_TRUE(cut) << "no checkpoint committed";
    return cut ? id : "";
  }
  // The run ended SUCCEEDED, resumed from its cut, with the digest of a clean run of `scenario`.
  void expectResumedToTheCleanDigest(const std::string& id, const json& done, const std::string& scenario) {
    EXPECT_EQ(done["state"], "SUCCEEDED") << done.dump();
    EXPECT_EQ(done["attempts"], 2) << done.dump();
    const std::string log = call(url_, "GET", "/api/v1/runs/" + id + "/logs").text;
    EXPECT_THAT(log, HasSubstr("attempt 2 on 2 node(s), resuming from its checkpoint at "));
    const json clean = submit({{"scenario", scenario}, {"cache", false}});
    EXPECT_EQ(waitForEnd(url_, clean["id"].get<std::string>(), 120)["digest"], done["digest"]);
  }
  // The pid of a node process the run `id` is on (0: none).
  int pidOfNodeRunning(const std::string& id) {
    for (const auto& n : list("/api/v1/nodes", "nodes"))
      if (n["run"] == id) return n["pid"];
    return 0;
  }
  // Sends `signal` to a node process the run `id` is on; returns its pid (0: none, which fails).
  int signalNodeRunning(const std::string& id, int signal) {
    const int pid = pidOfNodeRunning(id);
    EXPECT_GT(pid, 0) << "run " << id << " is on no node (has it ended already?)";
    if (pid > 0) EXPECT_EQ(::kill(pid, signal), 0);
    return pid;
  }
  size_t idleNodes() {
    size_t idle = 0;
    for (const auto& n : list("/api/v1/nodes", "nodes")) idle += n["state"] == "idle" ? 1 : 0;
    return idle;
  }

  TempDir dir_{"wafersim-service"};
  std::unique_ptr<EmbeddedService> service_;
  std::string url_;
};

TEST_F(Service, ARunSucceedsWithTheDigestOfALocalRun) {
  start(2);
  const json run = submit({{"scenario", phold("2 us")}, {"nodes", 2}, {"labels", {{"team", "a"}}}});
  EXPECT_EQ(run["state"], "PENDING");
  const json done = waitForEnd(url_, run["id"].get<std::string>());
  ASSERT_EQ(done["state"], "SUCCEEDED") << done.dump();
  EXPECT_EQ(done["reason"], "COMPLETED");
  EXPECT_EQ(done["attempts"], 1);
  EXPECT_FALSE(done["cached"].get<bool>());
  EXPECT_TRUE(done["started"].is_string() && done["finished"].is_string());
  EXPECT_GT(done["progress"]["events"].get<uint64_t>(), 0u);

  RunSpec local;  // the same scenario, one process, threads: `wafersim run`
  local.scenarioText = phold("2 us");
  local.source = "scenario.yaml";
  local.outDir = (dir_.path / "local").string();
  EXPECT_EQ(done["digest"], executeRun(local).digest);

  // Its files and logs.
  const json files = call(url_, "GET", "/api/v1/runs/" + run["id"].get<std::string>() + "/files").body;
  std::set<std::string> names;
  for (const auto& f : files["files"]) names.insert(f["name"].get<std::string>());
  for (const char* expected : {"summary.json", "results.json", "run.json", "scenario.yaml", "log.txt"})
    EXPECT_TRUE(names.count(expected)) << expected << " missing from " << files.dump();
  const Reply summary = call(url_, "GET", "/api/v1/runs/" + run["id"].get<std::string>() + "/files/summary.json");
  EXPECT_EQ(summary.status, 200);
  EXPECT_EQ(summary.body["digest"], done["digest"]);
  const Reply log = call(url_, "GET", "/api/v1/runs/" + run["id"].get<std::string>() + "/logs");
  EXPECT_THAT(log.text, HasSubstr("results digest"));
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs/" + run["id"].get<std::string>() + "/files/nothing.json").status, 404);
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs/" + run["id"].get<std::string>() + "/files/..").status, 400);
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs/" + run["id"].get<std::string>() + "/files/%2e%2e%2fjobs.sqlite").status, 400);
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs/no-such-run").status, 404);
  EXPECT_TRUE(service_->pool().waitIdle(2, std::chrono::seconds(5))) << "the run's nodes come back to the pool";
}

TEST_F(Service, ResubmittingTheSameIdIsIdempotentAndAnotherBodyConflicts) {
  start(1);
  const json body{{"scenario", phold("1 us")}, {"id", "my-run"}};
  const json first = submit(body);
  EXPECT_EQ(first["id"], "my-run");
  const Reply again = post(url_, "/api/v1/runs", body);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["id"], "my-run");
  const Reply other = post(url_, "/api/v1/runs", {{"scenario", phold("3 us")}, {"id", "my-run"}});
  EXPECT_EQ(other.status, 409);
  EXPECT_THAT(other.body["error"]["message"].get<std::string>(), HasSubstr("my-run"));
  EXPECT_EQ(waitForEnd(url_, "my-run")["state"], "SUCCEEDED");
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs").body["runs"].size(), 1u);
}

TEST_F(Service, CancellingAPendingAndARunningRun) {
  start(1);
  const json running = submit({{"scenario", phold("1 s")}});
  const std::string runningId = running["id"];
  EXPECT_EQ(waitFor(url_, runningId, "running")["state"], "RUNNING");
  ASSERT_TRUE(service_->pool().waitForProgress(runningId, 1, std::chrono::seconds(30)));
  const json pending = submit({{"scenario", phold("2 s")}});
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs/" + pending["id"].get<std::string>()).body["state"], "PENDING");

  const Reply cancelPending = call(url_, "POST", "/api/v1/runs/" + pending["id"].get<std::string>() + "/cancel");
  EXPECT_EQ(cancelPending.status, 202);
  EXPECT_EQ(cancelPending.body["state"], "CANCELLED");
  EXPECT_EQ(cancelPending.body["reason"], "CANCELLED_BY_USER");

  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(call(url_, "POST", "/api/v1/runs/" + runningId + "/cancel").status, 202);
  const json cancelled = waitForEnd(url_, runningId, 10);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  EXPECT_EQ(cancelled["state"], "CANCELLED");
  EXPECT_EQ(cancelled["reason"], "CANCELLED_BY_USER");
  EXPECT_LT(took, 1.0) << "a running run must stop within a second of its cancel";
  // Its node is back in the pool, and a cancel of an ended run is a conflict.
  EXPECT_TRUE(service_->pool().waitIdle(1, std::chrono::seconds(5)));
  EXPECT_EQ(idleNodes(), 1u);
  EXPECT_EQ(call(url_, "POST", "/api/v1/runs/" + runningId + "/cancel").status, 409);
  // The pool serves the next run.
  const json next = submit({{"scenario", phold("1 us")}});
  EXPECT_EQ(waitForEnd(url_, next["id"].get<std::string>())["state"], "SUCCEEDED");
}

TEST_F(Service, ARunPastItsWallLimitTimesOut) {
  start(1);
  const json run = submit({{"scenario", phold("1 s")}, {"wall_limit_s", 0.5}});
  const json ended = waitForEnd(url_, run["id"].get<std::string>(), 20);
  EXPECT_EQ(ended["state"], "TIMED_OUT");
  EXPECT_EQ(ended["reason"], "WALL_LIMIT");
}

TEST_F(Service, ABadScenarioFailsWithTheValidatorsMessage) {
  start(1);
  const Reply yaml = post(url_, "/api/v1/runs", {{"scenario", "model: phold\nparams: [1, 2\n"}});
  EXPECT_EQ(yaml.status, 400);
  EXPECT_THAT(yaml.body["error"]["message"].get<std::string>(), HasSubstr("not valid YAML"));
  const Reply key = post(url_, "/api/v1/runs", {{"scenario", "model: phold\nparams:\n  lsp: 4\n"}});
  EXPECT_EQ(key.status, 400);
  EXPECT_THAT(key.body["error"]["message"].get<std::string>(), HasSubstr("scenario:3: params: unknown parameter \"lsp\""));
  const Reply sim = post(url_, "/api/v1/runs", {{"scenario", "model: phold\nsimulation: {sync: windw}\n"}});
  EXPECT_EQ(sim.status, 400);
  EXPECT_THAT(sim.body["error"]["message"].get<std::string>(), HasSubstr("simulation.sync"));
  const Reply set = post(url_, "/api/v1/runs", {{"scenario", phold("1 us")}, {"set", {"params.lps=zero"}}});
  EXPECT_EQ(set.status, 400);
  EXPECT_THAT(set.body["error"]["message"].get<std::string>(), HasSubstr("lps"));
  const Reply model = post(url_, "/api/v1/runs", {{"scenario", "model: nothing\n"}});
  EXPECT_EQ(model.status, 400);
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs").body["runs"].size(), 0u) << "nothing invalid is stored";
}

TEST_F(Service, BadRequestsGetA4xxAndTheServiceKeepsServing) {
  start(1);
  EXPECT_EQ(call(url_, "POST", "/api/v1/runs", "{not json").status, 400);
  EXPECT_EQ(call(url_, "POST", "/api/v1/runs", "").status, 400);
  EXPECT_EQ(call(url_, "POST", "/api/v1/runs", R"({"scenario": "model: phold", "nodez": 1})").status, 400);
  EXPECT_EQ(call(url_, "POST", "/api/v1/runs", R"({"scenario": "model: phold", "nodes": 100000})").status, 400);
  EXPECT_EQ(call(url_, "POST", "/api/v1/runs", std::string(9u << 20, ' ')).status, 413);
  EXPECT_EQ(call(url_, "GET", "/api/v1/nothing").status, 404);
  EXPECT_EQ(call(url_, "DELETE", "/api/v1/runs").status, 405);
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs?state=BOGUS").status, 400);
  EXPECT_EQ(call(url_, "GET", "/api/v1/sweeps/none").status, 404);
  EXPECT_EQ(call(url_, "POST", "/api/v1/sweeps", R"({"scenario": "model: phold", "grid": {"params.lps": []}})").status, 400);
  EXPECT_EQ(call(url_, "GET", "/healthz").status, 200);
  const json run = submit({{"scenario", phold("1 us")}});
  EXPECT_EQ(waitForEnd(url_, run["id"].get<std::string>())["state"], "SUCCEEDED");
}

TEST_F(Service, ListingFiltersAndPages) {
  start(1);
  for (int i = 0; i < 5; ++i)
    submit({{"scenario", phold(std::to_string(i + 1) + " us")}, {"labels", {{"parity", i % 2 ? "odd" : "even"}}}});
  const json even = call(url_, "GET", "/api/v1/runs?label=parity%3Deven").body;
  EXPECT_EQ(even["runs"].size(), 3u);
  const json page1 = call(url_, "GET", "/api/v1/runs?limit=2").body;
  ASSERT_EQ(page1["runs"].size(), 2u);
  ASSERT_TRUE(page1["next"].is_string());
  const json page2 = call(url_, "GET", "/api/v1/runs?limit=2&after=" + page1["next"].get<std::string>()).body;
  ASSERT_EQ(page2["runs"].size(), 2u);
  EXPECT_NE(page2["runs"][0]["id"], page1["runs"][0]["id"]);
  for (const auto& r : list("/api/v1/runs", "runs")) waitForEnd(url_, r["id"].get<std::string>());
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs?state=SUCCEEDED").body["runs"].size(), 5u);
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs?state=PENDING").body["runs"].size(), 0u);
}

TEST_F(Service, AnOverlappingSweepRunsOnlyItsNewPoints) {
  start(2);
  const json base{{"scenario", phold("2 us", 8)}};
  json first = base;
  first["grid"] = {{"params.lps", {8, 16}}, {"simulation.seed", {1, 2}}};
  const Reply s1 = post(url_, "/api/v1/sweeps", first);
  ASSERT_EQ(s1.status, 201) << s1.text;
  const std::string id1 = s1.body["id"];
  EXPECT_EQ(s1.body["points"], 4);
  for (const auto& r : list("/api/v1/runs?sweep=" + id1, "runs"))
    EXPECT_EQ(waitForEnd(url_, r["id"].get<std::string>())["state"], "SUCCEEDED");
  EXPECT_EQ(call(url_, "GET", "/api/v1/sweeps/" + id1).body["counts"]["SUCCEEDED"], 4);

  json second = base;  // 6 points, 4 of them the first sweep's
  second["grid"] = {{"params.lps", {8, 16, 24}}, {"simulation.seed", {1, 2}}};
  const Reply s2 = post(url_, "/api/v1/sweeps", second);
  ASSERT_EQ(s2.status, 201) << s2.text;
  const std::string id2 = s2.body["id"];
  EXPECT_EQ(s2.body["cached"], 4);
  size_t executed = 0;
  for (const auto& r : list("/api/v1/runs?sweep=" + id2, "runs")) {
    const json done = waitForEnd(url_, r["id"].get<std::string>());
    EXPECT_EQ(done["state"], "SUCCEEDED");
    executed += done["cached"].get<bool>() ? 0 : 1;
  }
  EXPECT_EQ(executed, 2u);

  // The table: one row per point, the varied keys and the figures; CSV on request.
  const json table = call(url_, "GET", "/api/v1/sweeps/" + id2 + "/table").body;
  ASSERT_EQ(table["rows"].size(), 6u);
  EXPECT_EQ(table["rows"][0]["params.lps"], 8);
  EXPECT_TRUE(table["rows"][0]["digest"].is_string());
  const Reply csv = call(url_, "GET", "/api/v1/sweeps/" + id2 + "/table", "", {{"Accept", "text/csv"}});
  EXPECT_EQ(csv.status, 200);
  EXPECT_THAT(csv.text, HasSubstr("index,run,state,reason,cached,params.lps,simulation.seed"));
  EXPECT_EQ(std::count(csv.text.begin(), csv.text.end(), '\n'), 7);

  // cache: false runs a point again.
  const json forced = submit({{"scenario", phold("2 us", 8)}, {"cache", false}});
  const json forcedDone = waitForEnd(url_, forced["id"].get<std::string>());
  EXPECT_FALSE(forcedDone["cached"].get<bool>());
  const json hit = submit({{"scenario", phold("2 us", 8)}});
  EXPECT_EQ(hit["state"], "SUCCEEDED");
  EXPECT_TRUE(hit["cached"].get<bool>());
  EXPECT_EQ(hit["digest"], forcedDone["digest"]);
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs/" + hit["id"].get<std::string>() + "/files/summary.json").status, 200);
}

TEST_F(Service, ASweepCanBeCancelled) {
  start(1);
  json body{{"scenario", phold("1 s")}, {"zip", {{"simulation.seed", {1, 2, 3}}}}};
  const Reply s = post(url_, "/api/v1/sweeps", body);
  ASSERT_EQ(s.status, 201) << s.text;
  const std::string id = s.body["id"];
  EXPECT_EQ(waitFor(url_, id + "-0", "running")["state"], "RUNNING");
  EXPECT_EQ(call(url_, "POST", "/api/v1/sweeps/" + id + "/cancel").status, 202);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(waitForEnd(url_, id + "-" + std::to_string(i), 10)["state"], "CANCELLED");
  EXPECT_EQ(call(url_, "GET", "/api/v1/sweeps/" + id).body["counts"]["CANCELLED"], 3);
}

TEST_F(Service, ANodeKilledMidRunIsReplacedAndTheRunSucceedsElsewhere) {
  start(2);
  const json run = submit({{"scenario", phold("100 us", 32)}, {"cache", false}});
  const std::string id = run["id"];
  ASSERT_EQ(waitFor(url_, id, "running")["state"], "RUNNING");
  ASSERT_TRUE(service_->pool().waitForProgress(id, 1, std::chrono::seconds(30)));
  ASSERT_GT(signalNodeRunning(id, SIGKILL), 0);  // the node it runs on
  const json done = waitForEnd(url_, id, 120);
  EXPECT_EQ(done["state"], "SUCCEEDED") << done.dump();
  EXPECT_EQ(done["attempts"], 2);
  const std::string log = call(url_, "GET", "/api/v1/runs/" + id + "/logs").text;
  EXPECT_THAT(log, HasSubstr("attempt 2"));
  // The retried run's results are those of a clean run.
  const json clean = submit({{"scenario", phold("100 us", 32)}, {"cache", false}});
  EXPECT_EQ(waitForEnd(url_, clean["id"].get<std::string>(), 120)["digest"], done["digest"]);
}

// With checkpoints on, the re-queued run goes on from its last cut (on whatever nodes it gets) and
// ends with the digest of a run never interrupted.
TEST_F(Service, ANodeKilledAfterACheckpointResumesTheRunFromIt) {
  start(2);
  const std::string scenario = checkpointedScenario(2);
  const std::string id = startCheckpointedRun(scenario);
  ASSERT_FALSE(id.empty());
  ASSERT_GT(signalNodeRunning(id, SIGKILL), 0);
  const json done = waitForEnd(url_, id, 120);
  const json runJson = json::parse(std::ifstream(dir_.path / "runs" / id / "run.json"));
  EXPECT_GT(runJson.value("resumed_from_ps", int64_t{0}), 0) << runJson.dump();
  expectResumedToTheCleanDigest(id, done, scenario);
}

// POST /api/v1/runs/{id}/checkpoint: a run that takes no periodic cuts takes one when asked (its
// nodes are told at the pool's next tick, partition 0 brings it to the next window); a node killed
// afterwards, the run resumes from that cut to the clean digest. A run that is not running, or
// cannot cut (null messages), is answered 409 with the reason; an unknown one 404.
TEST_F(Service, ACheckpointAskedForThroughTheApiIsTakenAndTheRunResumesFromIt) {
  start(2);
  EXPECT_EQ(call(url_, "POST", "/api/v1/runs/no-such-run/checkpoint").status, 404);
  const std::string scenario = checkpointedScenario(5);
  const json run = submit({{"scenario", scenario}, {"nodes", 2}, {"cache", false}});
  const std::string id = run.value("id", "");
  ASSERT_EQ(waitFor(url_, id, "running")["state"], "RUNNING");
  ASSERT_TRUE(service_->pool().waitForProgress(id, 1, std::chrono::seconds(30)));
  const auto latest = dir_.path / "runs" / id / "checkpoints" / "latest";
  EXPECT_FALSE(std::filesystem::exists(latest)) << "a cut before any was asked for";
  const Reply asked = call(url_, "POST", "/api/v1/runs/" + id + "/checkpoint");
  ASSERT_EQ(asked.status, 202) << asked.text;
  EXPECT_EQ(asked.body.value("checkpoint", ""), "requested");
  ASSERT_TRUE(pollUntil(std::chrono::seconds(60), [&] { return std::filesystem::exists(latest); },
                        std::chrono::milliseconds(5)))
      << "no checkpoint committed";
  ASSERT_GT(signalNodeRunning(id, SIGKILL), 0) << "the run ended before its node could be killed";
  const json done = waitForEnd(url_, id, 120);
  expectResumedToTheCleanDigest(id, done, scenario);
  const Reply ended = call(url_, "POST", "/api/v1/runs/" + id + "/checkpoint");
  EXPECT_EQ(ended.status, 409);
  EXPECT_THAT(ended.text, HasSubstr("is not running (SUCCEEDED)"));

  // Null messages have no barrier to cut at: refused, and the run goes on untouched.
  const json null = submit({{"scenario", phold("1 s")}, {"nodes", 2}, {"cache", false},
                            {"set", {"simulation.sync=null"}}});
  const std::string nullId = null.value("id", "");
  ASSERT_EQ(waitFor(url_, nullId, "running")["state"], "RUNNING");
  ASSERT_TRUE(service_->pool().waitForProgress(nullId, 1, std::chrono::seconds(30)));
  const Reply refused = call(url_, "POST", "/api/v1/runs/" + nullId + "/checkpoint");
  EXPECT_EQ(refused.status, 409);
  EXPECT_THAT(refused.text, HasSubstr("cuts need simulation.sync: window"));
  EXPECT_EQ(call(url_, "POST", "/api/v1/runs/" + nullId + "/cancel").status, 202);
  EXPECT_EQ(waitForEnd(url_, nullId)["state"], "CANCELLED");
}

// A frozen node (SIGSTOP) is noticed by its silence: within 5 s the run is re-queued, and it resumes
// from its last cut on the nodes left, to the clean digest.
TEST_F(Service, AFrozenNodeIsNoticedAndTheRunResumesFromItsCheckpointElsewhere) {
  start(3);
  const std::string scenario = checkpointedScenario(4);
  const std::string id = startCheckpointedRun(scenario);
  ASSERT_FALSE(id.empty());
  const int pid = signalNodeRunning(id, SIGSTOP);
  ASSERT_GT(pid, 0);
  const auto frozenAt = std::chrono::steady_clock::now();
  const bool requeued = pollUntil(std::chrono::seconds(30), [&] {
    return call(url_, "GET", "/api/v1/runs/" + id).body.value("attempts", 0) >= 2;
  }, std::chrono::milliseconds(20));
  const double noticed = std::chrono::duration<double>(std::chrono::steady_clock::now() - frozenAt).count();
  const json done = waitForEnd(url_, id, 120);
  ::kill(pid, SIGKILL);  // the frozen process is the test's to end
  ASSERT_TRUE(requeued);
  EXPECT_LT(noticed, 5.0);
  expectResumedToTheCleanDigest(id, done, scenario);
}

TEST_F(Service, ARunLostWithItsNodePastTheRetryLimitFails) {
  start(1, /*maxRetries=*/0);
  const json run = submit({{"scenario", phold("1 s")}});
  const std::string id = run["id"];
  ASSERT_EQ(waitFor(url_, id, "running")["state"], "RUNNING");
  ASSERT_TRUE(service_->pool().waitForProgress(id, 1, std::chrono::seconds(30)));
  int pid = 0;
  for (const auto& n : list("/api/v1/nodes", "nodes")) pid = n["pid"];
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const json failed = waitForEnd(url_, id);
  EXPECT_EQ(failed["state"], "FAILED");
  EXPECT_EQ(failed["reason"], "NODE_LOST");
  EXPECT_THAT(failed["message"].get<std::string>(), HasSubstr("local-0"));
  // The replacement node serves the next run.
  const json next = submit({{"scenario", phold("1 us")}});
  EXPECT_EQ(waitForEnd(url_, next["id"].get<std::string>())["state"], "SUCCEEDED");
}

TEST_F(Service, EveryRouteIsInTheOpenApiDocumentAndEveryPathInItIsARoute) {
  start(0);
  const json doc = call(url_, "GET", "/api/v1/openapi.json").body;
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::set<std::pair<std::string, std::string>> documented, routed;
  for (const auto& [path, methods] : doc["paths"].items())
    for (const auto& [method, op] : methods.items()) documented.insert({method, path});
  for (const auto& [method, path] : service_->routes()) {
    std::string lower = method;
    for (auto& c : lower) c = static_cast<char>(std::tolower(c));
    routed.insert({lower, path});
  }
  EXPECT_EQ(documented, routed);
  // Each documented operation answers something other than 404/405 for a well-formed request.
  for (const auto& [path, methods] : doc["paths"].items())
    for (const auto& [method, op] : methods.items()) {
      std::string target = path;
      for (const char* p : {"{id}", "{name}"})
        if (auto at = target.find(p); at != std::string::npos) target.replace(at, std::string(p).size(), "x");
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(c));
      const int status = call(url_, upper, target, upper == "POST" ? "{}" : "").status;
      EXPECT_NE(status, 405) << upper << " " << path;
      if (path.find('{') == std::string::npos) EXPECT_NE(status, 404) << upper << " " << path;
    }
  EXPECT_EQ(call(url_, "GET", "/readyz").status, 200);
  const Reply metrics = call(url_, "GET", "/metrics");
  EXPECT_THAT(metrics.text, HasSubstr("wafersim_service_runs{state=\"PENDING\"}"));
}

}  // namespace
}  // namespace wafersim::testing
