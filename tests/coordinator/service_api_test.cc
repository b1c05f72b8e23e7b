// The API's wire forms (coordinator/service_api.h): submissions checked field by field, filters,
// sweep tables as JSON and CSV, file names, and an OpenAPI document that lists every route.
#include "coordinator/service_api.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"

namespace wafersim::api {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

std::string errorOf(const std::string& body) {
  try {
    parseRunSubmission(body, 16);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << body;
  return "";
}

TEST(ServiceApi, ARunSubmissionReadsEveryField) {
  const RunSubmission s = parseRunSubmission(
      R"({"scenario": "model: phold\n", "set": ["params.lps=8"], "nodes": 2, "id": "my-run_1", "labels": {"team": "a"},
          "cache": false, "wall_limit_s": 30})",
      16);
  EXPECT_EQ(s.scenarioText, "model: phold\n");
  EXPECT_EQ(s.overrides, std::vector<std::string>{"params.lps=8"});
  EXPECT_EQ(s.nodes, 2u);
  EXPECT_EQ(s.id, "my-run_1");
  EXPECT_EQ(s.labels["team"], "a");
  EXPECT_FALSE(s.cache);
  EXPECT_EQ(s.wallLimitSeconds, 30);
  EXPECT_EQ(s.bodyHash.size(), 64u);
}

TEST(ServiceApi, AScenarioObjectBecomesJsonText) {
  const RunSubmission s = parseRunSubmission(R"({"scenario": {"model": "phold", "params": {"lps": 4}}})", 16);
  EXPECT_EQ(json::parse(s.scenarioText)["params"]["lps"], 4);
  EXPECT_EQ(s.nodes, 1u);
  EXPECT_TRUE(s.cache);
}

TEST(ServiceApi, TheBodyHashIgnoresKeyOrderAndSpacing) {
  EXPECT_EQ(parseRunSubmission(R"({"scenario": "a", "nodes": 1})", 4).bodyHash,
            parseRunSubmission(R"({ "nodes":1,"scenario":"a" })", 4).bodyHash);
  EXPECT_NE(parseRunSubmission(R"({"scenario": "a", "nodes": 1})", 4).bodyHash,
            parseRunSubmission(R"({"scenario": "a", "nodes": 2})", 4).bodyHash);
}

TEST(ServiceApi, EveryBadFieldIsNamed) {
  EXPECT_THAT(errorOf(""), HasSubstr("body: empty"));
  EXPECT_THAT(errorOf("{"), HasSubstr("body: not valid JSON"));
  EXPECT_THAT(errorOf("[1]"), HasSubstr("expected a JSON object"));
  EXPECT_THAT(errorOf(R"({"set": []})"), HasSubstr("body.scenario: missing"));
  EXPECT_THAT(errorOf(R"({"scenario": 3})"), HasSubstr("body.scenario: expected YAML text or a JSON object"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "scenaro": 1})"), HasSubstr("body.scenaro: unknown field"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "set": "a=b"})"), HasSubstr("body.set: expected a list"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "set": ["nokey"]})"), HasSubstr("body.set[0]: expected \"key=value\""));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "nodes": 0})"), HasSubstr("body.nodes: expected an integer from 1 to 16"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "nodes": 17})"), HasSubstr("body.nodes"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "nodes": 1.5})"), HasSubstr("body.nodes"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "id": "../etc"})"), HasSubstr("body.id"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "id": "a/b"})"), HasSubstr("body.id"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "id": ""})"), HasSubstr("body.id"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "labels": {"a": 1}})"), HasSubstr("body.labels.a"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "cache": "no"})"), HasSubstr("body.cache"));
  EXPECT_THAT(errorOf(R"({"scenario": "x", "wall_limit_s": -1})"), HasSubstr("body.wall_limit_s"));
}

TEST(ServiceApi, ASweepSubmissionKeepsItsSpecAndConcurrency) {
  const SweepSubmission s = parseSweepSubmission(
      R"({"scenario": "model: phold\n", "grid": {"params.lps": [4, 8]}, "concurrency": 3})", 8);
  EXPECT_EQ(s.spec["grid"]["params.lps"], json({4, 8}));
  EXPECT_EQ(s.concurrency, 3u);
  EXPECT_THROW(parseSweepSubmission(R"({"scenario": "x", "concurrency": -1})", 8), Error);
  EXPECT_THROW(parseSweepSubmission(R"({"scenario": "x", "gird": {}})", 8), Error);
}

TEST(ServiceApi, RunFiltersComeFromTheQuery) {
  const RunFilter f = parseRunFilter({{"state", "RUNNING"}, {"label", "team=a=b"}, {"sweep", "s-1"}, {"limit", "5"},
                                      {"after", "12"}});
  EXPECT_EQ(*f.state, RunState::Running);
  EXPECT_EQ(f.labelKey, "team");
  EXPECT_EQ(f.labelValue, "a=b");
  EXPECT_EQ(f.sweepId, "s-1");
  EXPECT_EQ(f.limit, 5u);
  EXPECT_EQ(f.afterSeq, 12);
  EXPECT_THROW(parseRunFilter({{"state", "running"}}), Error);
  EXPECT_THROW(parseRunFilter({{"limit", "0"}}), Error);
  EXPECT_THROW(parseRunFilter({{"limit", "5x"}}), Error);
  EXPECT_THROW(parseRunFilter({{"after", "-3"}}), Error);
  EXPECT_THROW(parseRunFilter({{"label", "=x"}}), Error);
  EXPECT_THROW(parseRunFilter({{"colour", "red"}}), Error);
}

TEST(ServiceApi, ASweepTableHasOneRowPerPointAndEveryFigure) {
  SweepRecord sweep;
  sweep.id = "s-1";
  RunRecord a, b;
  a.id = "s-1-0";
  a.sweepIndex = 0;
  a.point = {{"params.lps", 4}};
  a.state = RunState::Succeeded;
  a.reason = "COMPLETED";
  a.summary = {{"events", 10}, {"serving", {{"tpot", {{"mean_s", 0.5}}}}}, {"digest", "ab,c"}};
  b.id = "s-1-1";
  b.sweepIndex = 1;
  b.point = {{"params.lps", 8}};
  b.state = RunState::Failed;
  b.reason = "RUN_FAILED";
  const Table t = sweepTable(sweep, {a, b});
  EXPECT_EQ(t.columns, (std::vector<std::string>{"index", "run", "state", "reason", "cached", "params.lps", "digest",
                                                 "events", "serving.tpot.mean_s"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][5], 4);
  EXPECT_EQ(t.rows[0][8], 0.5);
  EXPECT_TRUE(t.rows[1][7].is_null());
  const std::string csv = toCsv(t);
  EXPECT_THAT(csv, HasSubstr("index,run,state,reason,cached,params.lps,digest,events,serving.tpot.mean_s\r\n"));
  EXPECT_THAT(csv, HasSubstr("0,s-1-0,SUCCEEDED,COMPLETED,false,4,\"ab,c\",10,0.5\r\n"));
  EXPECT_THAT(csv, HasSubstr("1,s-1-1,FAILED,RUN_FAILED,false,8,,,\r\n"));
  const json j = toJson(t, "s-1");
  EXPECT_EQ(j["rows"][0]["serving.tpot.mean_s"], 0.5);
}

TEST(ServiceApi, FileNamesCannotNameAPath) {
  EXPECT_TRUE(plainFileName("summary.json"));
  EXPECT_TRUE(plainFileName("log.txt"));
  // (std::string: a c_str() of a temporary in the list would dangle; ASan found it.)
  for (const std::string& bad : {std::string(""), std::string("."), std::string(".."), std::string("../x"),
                                 std::string("a/b"), std::string("a\\b"), std::string("x y"), std::string(256, 'a')})
    EXPECT_FALSE(plainFileName(bad)) << bad;
  EXPECT_FALSE(plainFileName(std::string("a\0b", 3)));
  EXPECT_EQ(contentTypeOf("requests.csv"), "text/csv; charset=utf-8");
  EXPECT_EQ(contentTypeOf("summary.json"), "application/json");
}

TEST(ServiceApi, TimesAreIso8601InUtc) {
  EXPECT_EQ(isoTime(0), "");
  EXPECT_EQ(isoTime(1'700'000'000'123'000'000), "2023-11-14T22:13:20.123Z");
}

TEST(ServiceApi, NotFoundBecomesA404) {
  const http::Handler h = guarded([](const http::Request&) -> http::Response { throw NotFound("no run r-1"); });
  http::Request request;
  const http::Response response = h(request);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(json::parse(response.body)["error"]["message"], "no run r-1");
}

}  // namespace
}  // namespace wafersim::api
