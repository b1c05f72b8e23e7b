// The Grafana dashboards and their provisioning, checked without Grafana: stable, unique uids;
// every panel on the provisioned data source; the template variables each dashboard needs; every
// query naming only metrics and labels that docs/metrics.md documents; every query parsing (by
// promtool, when it is installed: Debian's `prometheus` package).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "tests/dashboards/dashboard_set.h"
#include "tests/dashboards/metric_catalogue.h"
#include "tests/dashboards/promql_scan.h"
#include "tests/deploy/promtool.h"

namespace wafersim::testing {
namespace {

const char* kDatasourceUid = "wafersim-prometheus";

// The dashboards, by uid, and the variables each must offer.
const std::map<std::string, std::set<std::string>> kDashboards = {
    {"wafersim-run-overview", {"sweep", "run", "node"}},
    {"wafersim-hardware", {"sweep", "run"}},
    {"wafersim-serving", {"sweep", "run"}},
    {"wafersim-placement", {"sweep", "run"}},
    {"wafersim-service", {"route", "node"}},
};

MetricCatalogue catalogue() { return MetricCatalogue::load(sourceDir() / "docs" / "metrics.md"); }

// Every variable of the dashboard as a match-anything regex: the expression Grafana sends for All.
std::map<std::string, std::string> allValues(const Dashboard& d) {
  std::map<std::string, std::string> values;
  for (const auto& v : d.variables) values[v.name] = ".*";
  return values;
}

// Checks one expression against the catalogue; returns what is wrong, one line each.
std::vector<std::string> problems(const std::string& expr, const std::vector<std::string>& legend,
                                  const MetricCatalogue& metrics) {
  std::vector<std::string> out;
  const PromqlScan scan = scanPromql(expr);
  out.insert(out.end(), scan.errors.begin(), scan.errors.end());
  std::set<std::string> available = scan.createdLabels;
  available.insert({"job", "instance"});
  if (scan.selectors.empty()) out.push_back("names no metric");
  for (const auto& sel : scan.selectors) {
    if (!metrics.find(sel.metric)) {
      out.push_back("metric " + sel.metric + " is not in docs/metrics.md");
      continue;
    }
    const std::set<std::string> labels = metrics.labelsOf(sel.metric);
    available.insert(labels.begin(), labels.end());
    for (const auto& l : sel.matcherLabels)
      if (!labels.count(l)) out.push_back("matcher label " + l + " is not documented on " + sel.metric);
  }
  for (const auto& l : scan.groupingLabels)
    if (!available.count(l)) out.push_back("grouping label " + l + " is on none of its metrics");
  for (const auto& l : legend)
    if (!available.count(l)) out.push_back("legend label " + l + " is on none of its metrics");
  for (const auto& f : scan.functions)
    if (!promqlFunctions().count(f)) out.push_back("unknown function " + f);
  return out;
}

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(MetricCatalogue, ReadsEveryKindOfEntryOfTheDocument) {
  const MetricCatalogue m = catalogue();
  EXPECT_GE(m.metrics().size(), 45u);
  ASSERT_NE(m.find("wafersim_engine_events_committed_total"), nullptr);
  EXPECT_EQ(m.find("wafersim_engine_events_committed_total")->type, "counter");
  EXPECT_THAT(m.labelsOf("wafersim_engine_sync_wait_seconds_total"),
              ::testing::IsSupersetOf({"run", "node", "partition"}));
  EXPECT_THAT(m.labelsOf("wafersim_model_die_busy_ratio"), ::testing::IsSupersetOf({"run", "die", "engine"}));
  EXPECT_FALSE(m.labelsOf("wafersim_model_die_busy_ratio").count("node"));
  EXPECT_THAT(m.labelsOf("wafersim_run_progress_ratio"), ::testing::Contains("run"));
  EXPECT_THAT(m.labelsOf("wafersim_http_requests_total"), ::testing::IsSupersetOf({"route", "method", "status"}));
  EXPECT_THAT(m.labelsOf("wafersim_node_busy"), ::testing::Contains("node"));
  EXPECT_THAT(m.labelsOf("wafersim_placement_requests_total"), ::testing::Contains("kind"));
  EXPECT_THAT(m.labelsOf("wafersim_build_info"), ::testing::IsSupersetOf({"version", "commit", "process"}));
  EXPECT_NE(m.find("wafersim_model_ttft_seconds_bucket"), nullptr);
  EXPECT_NE(m.find("wafersim_placement_decision_seconds_bucket"), nullptr) << "documented in prose as a histogram";
  EXPECT_NE(m.find("wafersim_http_request_duration_seconds_count"), nullptr);
  EXPECT_EQ(m.find("wafersim_engine_queue_depth_bucket"), nullptr) << "a gauge has no buckets";
  EXPECT_EQ(m.find("wafersim_no_such_metric"), nullptr);
}

TEST(PromqlScan, FindsSelectorsGroupingAndCreatedLabels) {
  const PromqlScan s = scanPromql(
      R"promql(max by (row) (label_replace(a_total{x="1", y=~"b|c"}[5m] offset 1m, "row", "$1", "die", "(.*)")))promql"
      R"promql( / on (run) group_left () b)promql");
  ASSERT_EQ(s.selectors.size(), 2u);
  EXPECT_EQ(s.selectors[0].metric, "a_total");
  EXPECT_THAT(s.selectors[0].matcherLabels, ::testing::ElementsAre("x", "y"));
  EXPECT_EQ(s.selectors[1].metric, "b");
  EXPECT_EQ(s.groupingLabels, (std::set<std::string>{"row", "run"}));
  EXPECT_EQ(s.createdLabels, (std::set<std::string>{"row"}));
  EXPECT_EQ(s.functions, (std::set<std::string>{"max", "label_replace"}));
  EXPECT_TRUE(s.errors.empty());
  EXPECT_FALSE(scanPromql("rate(x[$__rate_interval])").errors.empty()) << "variables must be substituted first";
}

TEST(Dashboards, ProvisioningNamesTheDataSourceAndTheDashboardFolder) {
  const std::filesystem::path base = sourceDir() / "dashboards";
  const YAML::Node ds = YAML::LoadFile((base / "provisioning/datasources/prometheus.yaml").string());
  ASSERT_EQ(ds["datasources"].size(), 1u);
  const YAML::Node source = ds["datasources"][0];
  EXPECT_EQ(source["uid"].as<std::string>(), kDatasourceUid);
  EXPECT_EQ(source["type"].as<std::string>(), "prometheus");
  EXPECT_EQ(source["url"].as<std::string>(), "${WAFERSIM_PROMETHEUS_URL}");
  const YAML::Node dash = YAML::LoadFile((base / "provisioning/dashboards/wafersim.yaml").string());
  ASSERT_EQ(dash["providers"].size(), 1u);
  EXPECT_EQ(dash["providers"][0]["type"].as<std::string>(), "file");
  EXPECT_EQ(dash["providers"][0]["options"]["path"].as<std::string>(), "${WAFERSIM_DASHBOARDS_DIR}");
  // Both variables have their defaults in grafana.env.
  const std::string env = readFile(base / "grafana.env");
  EXPECT_THAT(env, ::testing::ContainsRegex("\nWAFERSIM_PROMETHEUS_URL=http://[^\n]+"));
  EXPECT_THAT(env, ::testing::ContainsRegex("\nWAFERSIM_DASHBOARDS_DIR=/[^\n]+"));
}

TEST(Dashboards, UidsAreTheStableOnesAndUnique) {
  std::set<std::string> uids, titles;
  for (const Dashboard& d : loadDashboards()) {
    SCOPED_TRACE(d.file.string());
    EXPECT_EQ(d.uid, d.file.stem().string()) << "the file is named by its uid";
    EXPECT_LE(d.uid.size(), 40u) << "Grafana's limit";
    EXPECT_TRUE(d.json["id"].is_null()) << "a provisioned dashboard has no database id";
    EXPECT_TRUE(uids.insert(d.uid).second) << "uid " << d.uid << " twice";
    EXPECT_TRUE(titles.insert(d.title).second) << "title " << d.title << " twice";
    EXPECT_FALSE(d.panels.empty());
    std::set<int> ids;
    for (const auto& p : d.panels) {
      EXPECT_TRUE(ids.insert(p.value("id", -1)).second) << "panel id " << p.value("id", -1) << " twice";
      EXPECT_TRUE(p.contains("gridPos")) << p.value("title", "");
    }
  }
  std::set<std::string> expected;
  for (const auto& [uid, vars] : kDashboards) expected.insert(uid);
  EXPECT_EQ(uids, expected);
}

TEST(Dashboards, EveryPanelAndVariableUsesTheProvisionedDataSource) {
  size_t panels = 0;
  for (const Dashboard& d : loadDashboards()) {
    for (const auto& p : d.panels) {
      ++panels;
      EXPECT_EQ(p["datasource"].value("uid", ""), kDatasourceUid) << d.uid << ": " << p.value("title", "");
      EXPECT_FALSE(p.value("targets", nlohmann::json::array()).empty()) << d.uid << ": " << p.value("title", "");
    }
    for (const auto& q : d.queries) {
      EXPECT_EQ(q.datasource.value("uid", ""), kDatasourceUid) << d.uid << ": " << q.panel;
    }
    for (const auto& v : d.variables) {
      EXPECT_EQ(v.json["datasource"].value("uid", ""), kDatasourceUid) << d.uid << ": $" << v.name;
    }
  }
  EXPECT_GT(panels, 0u);
}

TEST(Dashboards, TemplateVariablesAreMultiSelectLabelValuesOverDocumentedMetrics) {
  const MetricCatalogue metrics = catalogue();
  for (const Dashboard& d : loadDashboards()) {
    SCOPED_TRACE(d.uid);
    std::set<std::string> names, used;
    for (const auto& v : d.variables) {
      names.insert(v.name);
      EXPECT_EQ(v.type, "query") << "$" << v.name;
      EXPECT_TRUE(v.json.value("multi", false)) << "$" << v.name;
      EXPECT_TRUE(v.json.value("includeAll", false)) << "$" << v.name;
      const auto lv = parseLabelValues(v.query);
      ASSERT_TRUE(lv) << "$" << v.name << ": " << v.query;
      for (const auto& p : problems(substituteVariables(lv->first, allValues(d), "1m"), {}, metrics))
        ADD_FAILURE() << "$" << v.name << ": " << p;
      const PromqlScan scan = scanPromql(substituteVariables(lv->first, allValues(d), "1m"));
      ASSERT_EQ(scan.selectors.size(), 1u) << v.query;
      EXPECT_TRUE(metrics.labelsOf(scan.selectors[0].metric).count(lv->second))
          << "$" << v.name << ": " << lv->second << " is not a label of " << scan.selectors[0].metric;
      for (const auto& u : variablesUsed(v.query)) used.insert(u);
    }
    ASSERT_TRUE(kDashboards.count(d.uid));
    EXPECT_EQ(names, kDashboards.at(d.uid));
    for (const auto& q : d.queries)
      for (const auto& u : variablesUsed(q.expr)) {
        used.insert(u);
        EXPECT_TRUE(names.count(u) || u.rfind("__", 0) == 0) << q.panel << ": $" << u << " is not a variable";
      }
    for (const auto& n : names) EXPECT_TRUE(used.count(n)) << "$" << n << " is never used";
  }
}

TEST(Dashboards, EveryQueryNamesOnlyDocumentedMetricsAndLabels) {
  const MetricCatalogue metrics = catalogue();
  size_t dashboards = 0, panels = 0, queries = 0;
  std::set<std::string> metricsUsed;
  for (const Dashboard& d : loadDashboards()) {
    ++dashboards;
    panels += d.panels.size();
    for (const auto& q : d.queries) {
      ++queries;
      const std::string expr = substituteVariables(q.expr, allValues(d), "1m");
      for (const auto& p : problems(expr, legendLabels(q.legendFormat), metrics))
        ADD_FAILURE() << d.uid << " / " << q.panel << " / " << q.refId << ": " << p << "\n  " << q.expr;
      for (const auto& s : scanPromql(expr).selectors)
        if (const DocumentedMetric* m = metrics.find(s.metric)) metricsUsed.insert(m->name);
    }
  }
  std::printf("checked %zu dashboards, %zu panels, %zu queries against %zu documented metrics (%zu of them used)\n",
              dashboards, panels, queries, metrics.metrics().size(), metricsUsed.size());
  EXPECT_EQ(dashboards, kDashboards.size());
}

// promtool parses every query: each becomes a recording rule of a throwaway rules file.
TEST(Dashboards, EveryQueryParses) {
  if (!havePromtool())
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus; scripts/deps.sh installs it)";
  const std::filesystem::path rules =
      std::filesystem::temp_directory_path() / ("wafersim-dashboard-queries-" + std::to_string(::getpid()) + ".yml");
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq;
  size_t n = 0;
  for (const Dashboard& d : loadDashboards()) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << d.uid << YAML::Key << "rules" << YAML::Value
        << YAML::BeginSeq;
    for (const auto& q : d.queries) {
      out << YAML::BeginMap << YAML::Key << "record" << YAML::Value << "dashboard:query_" + std::to_string(++n)
          << YAML::Key << "expr" << YAML::Value << substituteVariables(q.expr, allValues(d), "1m") << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  std::ofstream(rules) << out.c_str() << "\n";
  const ToolOutput checked = promtool("check rules " + shellQuoted(rules));
  std::filesystem::remove(rules);
  EXPECT_EQ(checked.code, 0) << checked.text;
  EXPECT_THAT(checked.text, ::testing::HasSubstr("SUCCESS: " + std::to_string(n) + " rules found")) << checked.text;
}

}  // namespace
}  // namespace wafersim::testing
