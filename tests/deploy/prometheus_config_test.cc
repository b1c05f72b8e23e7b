// deploy/prometheus/: promtool accepts the scrape configuration and the alert rules and passes the
// rules' unit tests (alerts_test.yml); every alert is tested both firing and silent; the rules and
// the scrape jobs name only what docs/metrics.md documents. The promtool checks skip, saying why,
// when promtool is not installed (Debian package prometheus).
#include <map>
#include <regex>
#include <set>
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

const std::filesystem::path kDir = sourceDir() / "deploy" / "prometheus";

// Skips the test, saying why, when promtool is not installed.
#define REQUIRE_PROMTOOL()                                                                   \
  if (!havePromtool()) GTEST_SKIP() << "promtool is not installed (Debian package prometheus; " \
                                       "scripts/deps.sh installs it)"

TEST(PrometheusConfig, PromtoolAcceptsTheScrapeConfiguration) {
  REQUIRE_PROMTOOL();
  const ToolOutput out = promtool("check config " + shellQuoted(kDir / "prometheus.yml"));
  EXPECT_EQ(out.code, 0) << out.text;
  EXPECT_THAT(out.text, ::testing::Not(::testing::HasSubstr("WARNING"))) << out.text;
}

TEST(PrometheusConfig, PromtoolAcceptsTheAlertRules) {
  REQUIRE_PROMTOOL();
  const ToolOutput out = promtool("check rules " + shellQuoted(kDir / "alerts.yml"));
  EXPECT_EQ(out.code, 0) << out.text;
  EXPECT_THAT(out.text, ::testing::HasSubstr("SUCCESS")) << out.text;
}

TEST(PrometheusConfig, TheAlertRulesPassTheirUnitTests) {
  REQUIRE_PROMTOOL();
  const ToolOutput out = promtool("test rules " + shellQuoted(kDir / "alerts_test.yml"));
  EXPECT_EQ(out.code, 0) << out.text;
  EXPECT_THAT(out.text, ::testing::HasSubstr("SUCCESS")) << out.text;
}

TEST(PrometheusConfig, ScrapesEveryKindOfProcessOftenAndLoadsTheAlerts) {
  const YAML::Node config = YAML::LoadFile((kDir / "prometheus.yml").string());
  const std::string interval = config["global"]["scrape_interval"].as<std::string>();
  EXPECT_THAT(interval, ::testing::MatchesRegex("[1-5]s")) << "simulations change quickly";
  std::set<std::string> jobs;
  for (const auto& job : config["scrape_configs"]) jobs.insert(job["job_name"].as<std::string>());
  EXPECT_EQ(jobs,
            (std::set<std::string>{"wafersim-coordinator", "wafersim-node", "wafersim-placement", "wafersim-run"}));
  std::set<std::string> ruleFiles;
  for (const auto& f : config["rule_files"]) ruleFiles.insert(f.as<std::string>());
  EXPECT_EQ(ruleFiles, std::set<std::string>{"alerts.yml"});
}

// Each alert has a test where it fires and one where it is expected silent (exp_alerts empty,
// which promtool checks as "nothing fires").
TEST(PrometheusConfig, EveryAlertIsTestedFiringAndSilent) {
  const YAML::Node rules = YAML::LoadFile((kDir / "alerts.yml").string());
  std::set<std::string> alerts;
  for (const auto& group : rules["groups"])
    for (const auto& rule : group["rules"])
      if (rule["alert"]) alerts.insert(rule["alert"].as<std::string>());
  EXPECT_GE(alerts.size(), 4u);
  const YAML::Node tests = YAML::LoadFile((kDir / "alerts_test.yml").string());
  std::set<std::string> firing, silent;
  for (const auto& test : tests["tests"])
    for (const auto& check : test["alert_rule_test"]) {
      const std::string name = check["alertname"].as<std::string>();
      (check["exp_alerts"] && check["exp_alerts"].size() > 0 ? firing : silent).insert(name);
    }
  for (const auto& a : alerts) {
    EXPECT_TRUE(firing.count(a)) << a << " is never shown firing";
    EXPECT_TRUE(silent.count(a)) << a << " is never shown silent";
  }
}

// The rules name documented metrics (and Prometheus's own `up`) with documented labels.
TEST(PrometheusConfig, AlertRulesNameOnlyDocumentedMetrics) {
  const MetricCatalogue metrics = MetricCatalogue::load(sourceDir() / "docs" / "metrics.md");
  const YAML::Node rules = YAML::LoadFile((kDir / "alerts.yml").string());
  size_t checked = 0;
  for (const auto& group : rules["groups"])
    for (const auto& rule : group["rules"]) {
      const std::string name = rule["alert"] ? rule["alert"].as<std::string>() : rule["record"].as<std::string>();
      const PromqlScan scan = scanPromql(rule["expr"].as<std::string>());
      EXPECT_TRUE(scan.errors.empty()) << name;
      std::set<std::string> available = {"job", "instance"};
      for (const auto& sel : scan.selectors) {
        if (sel.metric == "up") continue;
        ASSERT_NE(metrics.find(sel.metric), nullptr) << name << ": " << sel.metric << " is not in docs/metrics.md";
        const std::set<std::string> labels = metrics.labelsOf(sel.metric);
        available.insert(labels.begin(), labels.end());
        for (const auto& l : sel.matcherLabels) {
          EXPECT_TRUE(labels.count(l)) << name << ": " << sel.metric << "{" << l << "}";
        }
      }
      for (const auto& l : scan.groupingLabels) EXPECT_TRUE(available.count(l)) << name << ": by/on " << l;
      for (const auto& f : scan.functions) EXPECT_TRUE(promqlFunctions().count(f)) << name << ": " << f;
      // Annotations name labels the alert's series carry.
      for (const auto& a : rule["annotations"]) {
        static const std::regex label(R"(\$labels\.([A-Za-z_][A-Za-z0-9_]*))");
        const std::string text = a.second.as<std::string>();
        for (auto it = std::sregex_iterator(text.begin(), text.end(), label); it != std::sregex_iterator(); ++it)
          EXPECT_TRUE(available.count((*it)[1])) << name << ": annotation names $labels." << (*it)[1];
      }
      ++checked;
    }
  EXPECT_GE(checked, 4u);
}

}  // namespace
}  // namespace wafersim::testing
