// The Grafana dashboards of dashboards/json/ as the tests see them: each dashboard's uid, its
// template variables and every panel query, with Grafana's variable syntax substituted away so
// that the expression can go to promtool or to a live Prometheus.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace wafersim::testing {

inline std::filesystem::path sourceDir() { return WAFERSIM_SOURCE_DIR; }

struct DashboardVariable {
  std::string name;
  std::string type;
  std::string query;  // label_values(...) for a query variable
  nlohmann::json json;
};

struct PanelQuery {
  std::string panel;  // the panel's title
  std::string refId;
  std::string expr;
  std::string legendFormat;
  bool instant = false;
  nlohmann::json datasource;  // the target's own
};

struct Dashboard {
  std::filesystem::path file;
  nlohmann::json json;
  std::string uid;
  std::string title;
  std::vector<DashboardVariable> variables;
  std::vector<nlohmann::json> panels;  // rows flattened, rows themselves left out
  std::vector<PanelQuery> queries;
};

namespace dashboard_detail {

inline void collectPanels(const nlohmann::json& list, std::vector<nlohmann::json>& out) {
  for (const auto& p : list) {
    if (p.value("type", "") == "row") {
      if (p.contains("panels")) collectPanels(p["panels"], out);
      continue;
    }
    out.push_back(p);
  }
}

}  // namespace dashboard_detail

inline Dashboard loadDashboard(const std::filesystem::path& file) {
  Dashboard d;
  d.file = file;
  std::ifstream in(file);
  d.json = nlohmann::json::parse(in);
  d.uid = d.json.value("uid", "");
  d.title = d.json.value("title", "");
  if (d.json.contains("templating"))
    for (const auto& v : d.json["templating"].value("list", nlohmann::json::array())) {
      DashboardVariable var{v.value("name", ""), v.value("type", ""), "", v};
      if (v.contains("query")) {
        if (v["query"].is_string()) var.query = v["query"].get<std::string>();
        else if (v["query"].is_object()) var.query = v["query"].value("query", "");
      }
      d.variables.push_back(var);
    }
  dashboard_detail::collectPanels(d.json.value("panels", nlohmann::json::array()), d.panels);
  for (const auto& p : d.panels)
    for (const auto& t : p.value("targets", nlohmann::json::array()))
      d.queries.push_back({p.value("title", ""), t.value("refId", ""), t.value("expr", ""), t.value("legendFormat", ""),
                           t.value("instant", false), t.value("datasource", nlohmann::json())});
  return d;
}

inline std::filesystem::path dashboardFolder() { return sourceDir() / "dashboards" / "json"; }

// Every dashboard of the folder (*.json), in file-name order.
inline std::vector<Dashboard> loadDashboards(const std::filesystem::path& folder = dashboardFolder()) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(folder))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Dashboard> out;
  for (const auto& f : files) out.push_back(loadDashboard(f));
  return out;
}

// The names of the variables an expression uses: $name, ${name}, ${name:format}, [[name]]
// (Grafana's built-ins, $__..., included).
inline std::vector<std::string> variablesUsed(const std::string& text) {
  static const std::regex use(R"(\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\])");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), use); it != std::sregex_iterator(); ++it)
    for (int g = 1; g <= 3; ++g)
      if ((*it)[g].matched) out.push_back((*it)[g]);
  return out;
}

// The expression as Grafana would send it: each variable in `values` replaced by its value, and
// the interval built-ins by `interval` ($__rate_interval, $__interval, $__range). Anything else
// that looks like a variable is left as it is (label_replace's "$1" among them).
inline std::string substituteVariables(const std::string& text, const std::map<std::string, std::string>& values,
                                       const std::string& interval) {
  static const std::regex use(R"(\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\])");
  std::string out;
  auto last = text.cbegin();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), use); it != std::sregex_iterator(); ++it) {
    std::string name;
    for (int g = 1; g <= 3; ++g)
      if ((*it)[g].matched) name = (*it)[g];
    out.append(last, (*it)[0].first);
    if (name == "__rate_interval" || name == "__interval" || name == "__range") {
      out += interval;
    } else if (auto v = values.find(name); v != values.end()) {
      out += v->second;
    } else {
      out += it->str();
    }
    last = (*it)[0].second;
  }
  out.append(last, text.cend());
  return out;
}

// "label_values(metric{matchers}, label)" -> (selector, label); nullopt for any other query.
inline std::optional<std::pair<std::string, std::string>> parseLabelValues(const std::string& query) {
  static const std::regex form(R"(^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$)");
  std::smatch m;
  if (!std::regex_match(query, m, form)) return std::nullopt;
  return std::make_pair(m[1].str(), m[2].str());
}

// The labels a legend names ("{{run}} {{node}}" -> {run, node}).
inline std::vector<std::string> legendLabels(const std::string& legend) {
  static const std::regex use(R"(\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\})");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(legend.begin(), legend.end(), use); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

}  // namespace wafersim::testing
