// The service's access rules against a real embedded service (coordinator/service.h, access.h):
// every route that changes state refuses a caller without a token, with an unknown token and with
// too small a role, and nothing changes; owners and admins; protected reads; the rate limit; ids,
// file names and scenario files that try to leave the data folder; per-run bounds; no user text
// through a shell.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/coordinator/service_support.h"
#include "tests/support.h"

namespace wafersim::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;

const std::string kReader = "reader-token-00000000000001";
const std::string kAlice = "alice-token-000000000000002";
const std::string kBob = "bob-token-00000000000000003";

std::map<std::string, std::string> bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
const std::map<std::string, std::string> kNoToken = {{"Authorization", ""}};

std::string quickstart() { return sourceFileText("examples/quickstart.yaml"); }

class ServiceSecurity : public ::testing::Test {
 protected:
  void start(uint32_t nodes, const std::function<void(ServiceOptions&)>& adjust = {}) {
    useBuildTreeBinaries();
    ServiceOptions options = serviceOptions(dir_.path);
    options.access.environment = "admin tester " + kAdminToken + ";read reader " + kReader + ";submit alice " + kAlice +
                                 ";submit bob " + kBob;
    if (adjust) adjust(options);
    service_ = std::make_unique<EmbeddedService>(options, nodes);
    url_ = service_->url();
    if (nodes > 0) service_->pool().waitForNodes(nodes, {}, std::chrono::seconds(30));
  }
  Reply as(const std::string& token, const std::string& method, const std::string& target, const json& body = nullptr) {
    return call(url_, method, target, body.is_null() ? "" : body.dump(), token.empty() ? kNoToken : bearer(token));
  }
  double metric(const std::string& line) {
    const std::string text = call(url_, "GET", "/metrics").text;
    const size_t at = text.find(line + " ");
    return at == std::string::npos ? 0 : std::stod(text.substr(at + line.size() + 1));
  }

  TempDir dir_{"wafersim-security"};
  std::unique_ptr<EmbeddedService> service_;
  std::string url_;
};

TEST_F(ServiceSecurity, EveryMutatingRouteRefusesNoTokenAWrongTokenAndAReadTokenAndChangesNothing) {
  start(1);
  // One of everything a mutation could act on: a long run, a sweep, the node.
  ASSERT_EQ(as(kAlice, "POST", "/api/v1/runs", {{"scenario", phold("1 s")}, {"id", "long"}, {"wall_limit_s", 120}}).status,
            201);
  ASSERT_EQ(as(kAlice, "POST", "/api/v1/sweeps",
               {{"scenario", phold("1 s")}, {"grid", {{"simulation.seed", {1, 2}}}}, {"id", "sw"}})
                .status,
            201);
  ASSERT_EQ(waitFor(url_, "long", "running")["state"], "RUNNING");
  const std::string node = call(url_, "GET", "/api/v1/nodes").body["nodes"][0]["name"];
  auto snapshot = [&] {
    return json{{"runs", call(url_, "GET", "/api/v1/runs").body["runs"].size()},
                {"long", call(url_, "GET", "/api/v1/runs/long").body["state"]},
                {"sweep", call(url_, "GET", "/api/v1/sweeps/sw").body["cancelled"]},
                {"nodes", call(url_, "GET", "/api/v1/nodes").body["nodes"].size()}};
  };
  const json before = snapshot();

  // Every route the service serves that is not a read, found from the router: a new one is covered.
  size_t mutating = 0;
  for (const auto& [method, pattern] : service_->routes()) {
    if (method == "GET" || method == "HEAD") continue;
    ++mutating;
    std::string target = std::regex_replace(pattern, std::regex("\\{id\\}"), pattern.find("sweeps") != std::string::npos ? "sw" : "long");
    target = std::regex_replace(target, std::regex("\\{name\\}"), node);
    const json body = {{"scenario", phold("1 us")}, {"grid", {{"simulation.seed", {5}}}}};
    SCOPED_TRACE(method + " " + target);
    const Reply none = as("", method, target, body);
    EXPECT_EQ(none.status, 401) << none.text;
    EXPECT_EQ(none.body["error"]["code"], "unauthorized");
    EXPECT_THAT(none.text, HasSubstr("Authorization: Bearer TOKEN"));
    const Reply wrong = as("not-a-token-of-this-service", method, target, body);
    EXPECT_EQ(wrong.status, 401) << wrong.text;
    EXPECT_THAT(wrong.text, HasSubstr("not one this service knows"));
    const Reply reader = as(kReader, method, target, body);
    EXPECT_EQ(reader.status, 403) << reader.text;
    EXPECT_THAT(reader.text, HasSubstr("reader has read"));
  }
  EXPECT_GE(mutating, 5u) << "runs, sweeps, their cancels, node removal";
  EXPECT_EQ(snapshot(), before) << "a refused call changed something";
  EXPECT_EQ(metric("wafersim_http_auth_refused_total{reason=\"missing\"}"), static_cast<double>(mutating));
  EXPECT_EQ(metric("wafersim_http_auth_refused_total{reason=\"invalid\"}"), static_cast<double>(mutating));
  EXPECT_EQ(metric("wafersim_http_auth_refused_total{reason=\"forbidden\"}"), static_cast<double>(mutating));

  // A submitter acts on its own: bob may not cancel alice's run or sweep, alice may, an admin may.
  EXPECT_EQ(as(kBob, "POST", "/api/v1/runs/long/cancel").status, 403);
  EXPECT_THAT(as(kBob, "POST", "/api/v1/sweeps/sw/cancel").text, HasSubstr("sweep sw belongs to alice"));
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(as(kAlice, "POST", "/api/v1/sweeps/sw/cancel").status, 202);
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs/long").body["owner"], "alice");
  EXPECT_EQ(as(kAdminToken, "POST", "/api/v1/runs/long/cancel").status, 202);
  EXPECT_EQ(waitForEnd(url_, "long")["state"], "CANCELLED");
  // Node removal is the admin's, and only for an idle node.
  ASSERT_TRUE(pollUntil(std::chrono::seconds(30), [&] { return call(url_, "GET", "/api/v1/nodes").body["nodes"][0]["state"] == "idle"; }));
  EXPECT_EQ(as(kAlice, "POST", "/api/v1/nodes/" + node + "/remove").status, 403);
  EXPECT_EQ(as(kAdminToken, "POST", "/api/v1/nodes/nobody/remove").status, 404);
  const Reply removed = as(kAdminToken, "POST", "/api/v1/nodes/" + node + "/remove");
  EXPECT_EQ(removed.status, 202) << removed.text;
  // Reads stay open unless protected.
  EXPECT_EQ(as("", "GET", "/api/v1/runs").status, 200);
}

TEST_F(ServiceSecurity, ProtectedReadsNeedATokenButProbesMetricsAndThePageDoNot) {
  start(0, [](ServiceOptions& o) { o.access.protectReads = true; });
  for (const char* target : {"/api/v1/runs", "/api/v1/sweeps", "/api/v1/nodes", "/api/v1/openapi.json", "/api/v1/runs/x"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(as("", "GET", target).status, 401);
    EXPECT_EQ(as("wrong-token-00000000000000", "GET", target).status, 401);
  }
  EXPECT_EQ(as(kReader, "GET", "/api/v1/runs").status, 200);
  EXPECT_EQ(as(kReader, "GET", "/api/v1/runs/x").status, 404);
  for (const char* target : {"/healthz", "/readyz", "/metrics"}) EXPECT_EQ(as("", "GET", target).status, 200) << target;
  EXPECT_NE(as("", "GET", "/").status, 401);  // the page loads (200, or 503 without a web build) and asks
}

TEST_F(ServiceSecurity, AClientOverItsRateGets429WithRetryAfterAndTheServiceKeepsServing) {
  start(0, [](ServiceOptions& o) { o.rateLimit = {5, 5}; });
  int ok = 0, refused = 0;
  std::string retryAfter;
  for (int i = 0; i < 30; ++i) {
    http::ClientRequest request;
    request.target = "/api/v1/runs";
    const http::ClientResponse r = http::request(url_, request);
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++refused;
      for (const auto& [k, v] : r.headers)
        if (k == "retry-after" || k == "Retry-After") retryAfter = v;
      EXPECT_THAT(r.body, HasSubstr("too_many_requests"));
    }
  }
  EXPECT_GE(ok, 5);
  EXPECT_GE(refused, 1);
  EXPECT_FALSE(retryAfter.empty());
  EXPECT_GE(std::stoi(retryAfter), 1);
  // Refused requests are counted like any other.
  EXPECT_TRUE(pollUntil(std::chrono::seconds(10), [&] {
    http::ClientRequest request;
    request.target = "/metrics";
    const http::ClientResponse r = http::request(url_, request);
    return r.status == 200 && r.body.find("status=\"429\"") != std::string::npos;
  }));
}

TEST_F(ServiceSecurity, RunIdsAndFileNamesCannotLeaveTheDataFolder) {
  start(1);
  ASSERT_EQ(post(url_, "/api/v1/runs", {{"scenario", phold("1 us")}, {"id", "r1"}}).status, 201);
  ASSERT_EQ(waitForEnd(url_, "r1")["state"], "SUCCEEDED");
  // A secret beside the data folder, and a link to it planted in the run's folder.
  std::ofstream(dir_.path / "secret.txt") << "do not serve";
  fs::create_symlink(dir_.path / "secret.txt", dir_.path / "runs" / "r1" / "link.txt");
  fs::create_symlink(dir_.path / "secret.txt", dir_.path / "runs" / "r1" / "link.json");
  for (const std::string target : std::vector<std::string>{"/api/v1/runs/..%2F..%2Fsecret.txt", "/api/v1/runs/r1/files/..%2Fsecret.txt", "/api/v1/runs/r1/files/%2Fetc%2Fpasswd",
        "/api/v1/runs/r1/files/..", "/api/v1/runs/r1/files/%2e%2e", "/api/v1/runs/%2e%2e/files/jobs.sqlite",
        "/api/v1/runs/r1/files/summary.json%00.txt", "/api/v1/runs/r1/files/link.txt", "/api/v1/runs/r1/files/link.json",
        "/api/v1/runs/../jobs.sqlite", "/api/v1/runs/r1/files/..%5Csecret.txt", "/api/v1/runs/r1%2F..%2F..%2Fsecret.txt/files"}) {
    const Reply r = call(url_, "GET", target);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << target << ": " << r.status << " " << r.text;
    EXPECT_THAT(r.text, ::testing::Not(HasSubstr("do not serve"))) << target;
    EXPECT_THAT(r.text, ::testing::Not(HasSubstr("SQLite format"))) << target;
  }
  // Links are not listed either; the run's own files are served.
  const json files = call(url_, "GET", "/api/v1/runs/r1/files").body["files"];
  for (const auto& f : files) EXPECT_THAT(f["name"].get<std::string>(), ::testing::Not(HasSubstr("link")));
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs/r1/files/summary.json").status, 200);
  // Ids a client chooses are names, never paths.
  for (const std::string& id : std::vector<std::string>{"../x", "a/b", "..", ".hidden", "a\\b", std::string("a\0b", 3)}) {
    const Reply r = post(url_, "/api/v1/runs", {{"scenario", phold("1 us")}, {"id", id}});
    EXPECT_EQ(r.status, 400) << id << ": " << r.text;
  }
}

TEST_F(ServiceSecurity, AScenarioReadsFilesOnlyFromTheAllowedFolders) {
  TempDir elsewhere("wafersim-security-elsewhere");
  TempDir allowed("wafersim-security-allowed");
  start(0, [&](ServiceOptions& o) { o.fileDirs = {allowed.path.string()}; });
  std::ofstream(elsewhere.path / "trace.json") << "{}";
  std::ofstream(allowed.path / "trace.json") << "{}";
  fs::create_directories(dir_.path / "files");
  std::ofstream(dir_.path / "files" / "mine.json") << "{}";
  fs::create_symlink(elsewhere.path / "trace.json", dir_.path / "files" / "escape.json");
  fs::create_symlink(elsewhere.path, dir_.path / "files" / "outside");
  auto submit = [&](const std::string& file) {
    return post(url_, "/api/v1/runs", {{"scenario", quickstart()}, {"set", {"params.routing.trace_file=" + file}}});
  };
  for (const std::string& file : std::vector<std::string>{"/etc/passwd", "../../../../etc/passwd", "../jobs.sqlite", (elsewhere.path / "trace.json").string(), "escape.json",
        "outside/trace.json", allowed.path.string() + "/../" + elsewhere.path.filename().string() + "/trace.json"}) {
    const Reply r = submit(file);
    EXPECT_EQ(r.status, 400) << file << ": " << r.text;
    EXPECT_EQ(r.body["error"]["code"], "file_not_allowed") << file;
    EXPECT_THAT(r.text, HasSubstr("params.routing.trace_file")) << file;
    EXPECT_THAT(r.text, HasSubstr("outside the folders this service reads scenario files from")) << file;
  }
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs").body["runs"].size(), 0u) << "nothing refused was stored";
  // Inside DATA/files, and inside a folder the service was given.
  const Reply mine = submit("mine.json");
  EXPECT_EQ(mine.status, 201) << mine.text;
  const Reply given = submit((allowed.path / "trace.json").string());
  EXPECT_EQ(given.status, 201) << given.text;
  // The placement service is the service's own.
  const Reply service = post(url_, "/api/v1/runs", {{"scenario", quickstart()},
                                                   {"set", {"params.mapping.online_policy=hd_dynamic",
                                                            "params.mapping.service=tcp://198.51.100.1:5570"}}});
  EXPECT_EQ(service.status, 400) << service.text;
  EXPECT_THAT(service.text, HasSubstr("params.mapping.service"));
  EXPECT_GE(metric("wafersim_service_runs_refused_total{reason=\"file_not_allowed\"}"), 8.0);
}

TEST_F(ServiceSecurity, ARunPastAPerRunBoundIsRefusedNamingTheBound) {
  start(0, [](ServiceOptions& o) {
    o.maxComponentsPerRun = 8;
    o.maxWallLimitSeconds = 600;
  });
  const Reply big = post(url_, "/api/v1/runs", {{"scenario", phold("1 us", 16)}});
  EXPECT_EQ(big.status, 400) << big.text;
  EXPECT_EQ(big.body["error"]["code"], "run_too_large");
  EXPECT_THAT(big.text, HasSubstr("16 simulated components; this service allows at most 8"));
  const Reply sweep = post(url_, "/api/v1/sweeps", {{"scenario", phold("1 us", 16)}, {"grid", {{"simulation.seed", {1, 2}}}}});
  EXPECT_EQ(sweep.status, 400);
  EXPECT_THAT(sweep.text, HasSubstr("sweep point 0"));
  const Reply slow = post(url_, "/api/v1/runs", {{"scenario", phold("1 us", 4)}, {"wall_limit_s", 3600}});
  EXPECT_EQ(slow.status, 400);
  EXPECT_THAT(slow.text, HasSubstr("over this service's bound of 600"));
  // Within the bounds: the service's wall-clock limit is the run's when it asks for none.
  const Reply fits = post(url_, "/api/v1/runs", {{"scenario", phold("1 us", 4)}});
  EXPECT_EQ(fits.status, 201) << fits.text;
  EXPECT_EQ(fits.body["wall_limit_s"], 600.0);
  EXPECT_EQ(call(url_, "GET", "/api/v1/runs").body["runs"].size(), 1u);
}

TEST_F(ServiceSecurity, ARunPastTheMemoryBoundIsRefusedWithItsEstimate) {
  start(0, [](ServiceOptions& o) { o.maxMemoryBytesPerRun = 48u << 20; });
  // 16384 LPs: about 80 MiB of components and links on top of a run's baseline (run_bounds.h).
  const Reply big = post(url_, "/api/v1/runs", {{"scenario", phold("1 us", 16384)}});
  EXPECT_EQ(big.status, 400) << big.text;
  EXPECT_THAT(big.text, HasSubstr("MiB a node; this service allows at most 48 MiB a run"));
  // Over more nodes, each needs less; a small run fits on one.
  EXPECT_EQ(post(url_, "/api/v1/runs", {{"scenario", phold("1 us", 16384)}, {"nodes", 8}}).status, 201);
  EXPECT_EQ(post(url_, "/api/v1/runs", {{"scenario", phold("1 us", 16)}}).status, 201);
}

// Launchers start processes with argument vectors: shell syntax in what a user submits is text.
TEST_F(ServiceSecurity, ShellSyntaxInASubmissionIsNeverRun) {
  start(1);
  const fs::path marker = dir_.path / "pwned";
  const std::string inject = "$(touch " + marker.string() + ")`touch " + marker.string() + "`;touch " + marker.string();
  const Reply r = post(url_, "/api/v1/runs",
                       {{"scenario", phold("1 us") + "# " + inject + "\n"}, {"labels", {{"x", inject}}}, {"id", "shell"}});
  ASSERT_EQ(r.status, 201) << r.text;
  EXPECT_EQ(waitForEnd(url_, "shell")["state"], "SUCCEEDED");
  const Reply bad = post(url_, "/api/v1/runs", {{"scenario", phold("1 us")}, {"set", {"simulation.seed=1;" + inject}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_FALSE(fs::exists(marker));
  // And no program of this tree starts a shell: no system(), popen() or "sh -c" outside the tests.
  for (const char* folder : {"cli", "coordinator", "nodes", "placement", "obs", "sim", "scenario", "models", "protocol"}) {
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(WAFERSIM_SOURCE_DIR) / folder)) {
      const std::string ext = entry.path().extension().string();
      if (ext != ".cc" && ext != ".h") continue;
      const std::string text = sourceFileText(fs::relative(entry.path(), WAFERSIM_SOURCE_DIR).string());
      for (const char* call : {"system(", "popen(", "\"/bin/sh\"", "\"sh\", \"-c\"", "execl(\"/bin/sh"})
        EXPECT_EQ(text.find(call), std::string::npos) << entry.path() << " has " << call;
    }
  }
}

}  // namespace
}  // namespace wafersim::testing
