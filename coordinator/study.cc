#include "coordinator/study.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "scenario/scenario.h"
#include "sim/error.h"

namespace wafersim::study {
namespace {

namespace fs = std::filesystem;

int lineOf(const YAML::Node& node) { return node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

[[noreturn]] void bad(const std::string& file, int line, const std::string& path, const std::string& message) {
  fail(ErrorKind::InvalidConfig, file, line ? ":" + std::to_string(line) : "", ": ", path, ": ", message);
}
[[noreturn]] void bad(const std::string& file, const YAML::Node& node, const std::string& path,
                      const std::string& message) {
  bad(file, lineOf(node), path, message);
}

void checkKeys(const std::string& file, const YAML::Node& map, const std::string& path,
               const std::set<std::string>& known) {
  if (!map.IsMap()) bad(file, map, path, "expected a mapping");
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      bad(file, kv.first, path == "(document)" ? key : path + "." + key, "unknown key (known: " + list + ")");
    }
  }
}

// A required (or, with `parent` given, present) scalar.
std::string text(const std::string& file, const YAML::Node& parent, const std::string& key, const std::string& path,
                 bool required) {
  const YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) {
    if (required) bad(file, parent, path, "missing (required)");
    return "";
  }
  if (!node.IsScalar()) bad(file, node, path, "expected a single value");
  if (required && node.Scalar().empty()) bad(file, node, path, "must not be empty");
  return node.Scalar();
}

double number(const std::string& file, const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) bad(file, node, path, "expected a number");
  try {
    const double v = node.as<double>();
    if (!std::isfinite(v) || v <= 0) bad(file, node, path, "expected a positive number, got " + node.Scalar());
    return v;
  } catch (const YAML::BadConversion&) {
    bad(file, node, path, "expected a number, got \"" + node.Scalar() + "\"");
  }
}

std::string folderName(const std::string& runName) {
  std::string s = runName;
  for (char& c : s)
    if (c == '/') c = '_';
  return s;
}

std::string readText(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::InvalidConfig, path, ": cannot open the ", what);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// A left-aligned first column, the others right-aligned.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  std::string out;
  for (size_t k = 0; k < rows.size(); ++k) {
    std::string line;
    for (size_t i = 0; i < rows[k].size(); ++i) {
      const std::string& c = rows[k][i];
      const std::string pad(width[i] - c.size(), ' ');
      line += "  " + (i == 0 ? c + pad : pad + c);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (k == 0) {
      size_t total = 0;
      for (size_t w : width) total += w + 2;
      out += "  " + std::string(total - 2, '-') + "\n";
    }
  }
  return out;
}

Metric parseMetric(const std::string& file, const YAML::Node& metric, const std::string& path, const YAML::Node& parent) {
  if (!metric.IsDefined() || metric.IsNull()) bad(file, parent, path, "missing (required)");
  checkKeys(file, metric, path, {"key", "name", "lower_is_better"});
  Metric m;
  m.key = text(file, metric, "key", path + ".key", true);
  m.line = lineOf(metric["key"]);
  if (m.key.front() == '.' || m.key.back() == '.' || m.key.find("..") != std::string::npos)
    bad(file, metric["key"], path + ".key", "empty part in the dotted path \"" + m.key + "\"");
  m.name = text(file, metric, "name", path + ".name", false);
  if (m.name.empty()) m.name = m.key;
  if (metric["lower_is_better"].IsDefined()) {
    try {
      m.lowerIsBetter = metric["lower_is_better"].as<bool>();
    } catch (const YAML::BadConversion&) {
      bad(file, metric["lower_is_better"], path + ".lower_is_better", "expected true or false");
    }
  }
  return m;
}

}  // namespace

Study parseStudy(const std::string& source, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(source);
  } catch (const YAML::ParserException& e) {
    fail(ErrorKind::InvalidConfig, file, ":", e.mark.line + 1, ": not valid YAML: ", e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) fail(ErrorKind::InvalidConfig, file, ": empty study file");
  checkKeys(file, root, "(document)", {"study", "source", "metric", "metrics", "runs", "comparisons"});
  Study s;
  s.file = file;
  s.title = text(file, root, "study", "study", true);
  s.citation = text(file, root, "source", "source", false);

  s.metric = parseMetric(file, root["metric"], "metric", root);
  const YAML::Node extra = root["metrics"];
  if (extra.IsDefined() && !extra.IsNull()) {
    if (!extra.IsSequence()) bad(file, extra, "metrics", "expected a list of {key, name, lower_is_better}");
    std::map<std::string, int> keys{{s.metric.key, s.metric.line}};
    for (size_t i = 0; i < extra.size(); ++i) {
      Metric m = parseMetric(file, extra[i], "metrics[" + std::to_string(i) + "]", extra);
      if (keys.count(m.key))
        bad(file, extra[i]["key"], "metrics[" + std::to_string(i) + "].key",
            "\"" + m.key + "\" is already the metric on line " + std::to_string(keys[m.key]));
      keys[m.key] = m.line;
      s.extraMetrics.push_back(std::move(m));
    }
  }

  const YAML::Node runs = root["runs"];
  if (!runs.IsDefined() || runs.IsNull()) bad(file, root, "runs", "missing (required)");
  if (!runs.IsSequence() || runs.size() == 0) bad(file, runs, "runs", "expected a non-empty list of runs");
  std::map<std::string, int> names, folders;
  for (size_t i = 0; i < runs.size(); ++i) {
    const YAML::Node r = runs[i];
    const std::string path = "runs[" + std::to_string(i) + "]";
    checkKeys(file, r, path, {"name", "scenario", "set"});
    StudyRun run;
    run.line = lineOf(r);
    run.name = text(file, r, "name", path + ".name", true);
    if (run.name == "." || run.name == ".." || run.name.find_first_of("\\\n") != std::string::npos)
      bad(file, r["name"], path + ".name", "\"" + run.name + "\" cannot name a results folder");
    if (names.count(run.name))
      bad(file, r["name"], path + ".name",
          "\"" + run.name + "\" is already the name of the run on line " + std::to_string(names[run.name]));
    if (folders.count(folderName(run.name)))
      bad(file, r["name"], path + ".name",
          "\"" + run.name + "\" would share the results folder " + folderName(run.name) + " with the run on line " +
              std::to_string(folders[folderName(run.name)]));
    names[run.name] = folders[folderName(run.name)] = run.line;
    run.scenario = text(file, r, "scenario", path + ".scenario", true);
    const YAML::Node set = r["set"];
    if (set.IsDefined() && !set.IsNull()) {
      if (!set.IsSequence()) bad(file, set, path + ".set", "expected a list of key.path=value overrides");
      for (size_t k = 0; k < set.size(); ++k) {
        const std::string p = path + ".set[" + std::to_string(k) + "]";
        if (!set[k].IsScalar()) bad(file, set[k], p, "expected key.path=value");
        const std::string a = set[k].Scalar();
        const auto eq = a.find('=');
        if (eq == std::string::npos || eq == 0) bad(file, set[k], p, "expected key.path=value, got \"" + a + "\"");
        run.set.push_back(a);
      }
    }
    s.runs.push_back(std::move(run));
  }

  const YAML::Node comparisons = root["comparisons"];
  if (comparisons.IsDefined() && !comparisons.IsNull()) {
    if (!comparisons.IsSequence()) bad(file, comparisons, "comparisons", "expected a list of comparisons");
    for (size_t i = 0; i < comparisons.size(); ++i) {
      const YAML::Node c = comparisons[i];
      const std::string path = "comparisons[" + std::to_string(i) + "]";
      checkKeys(file, c, path, {"name", "metric", "numerator", "denominator", "paper", "paper_range", "paper_up_to"});
      Comparison cmp;
      cmp.line = lineOf(c);
      cmp.name = text(file, c, "name", path + ".name", true);
      cmp.metric = text(file, c, "metric", path + ".metric", false);
      if (cmp.metric.empty()) cmp.metric = s.metric.key;
      bool known = cmp.metric == s.metric.key;
      std::string list = s.metric.key;
      for (const Metric& m : s.extraMetrics) known |= cmp.metric == m.key, list += ", " + m.key;
      if (!known) bad(file, c["metric"], path + ".metric", "\"" + cmp.metric + "\" is not a metric of the study (metrics: " + list + ")");
      for (const char* side : {"numerator", "denominator"}) {
        std::string& run = side[0] == 'n' ? cmp.numerator : cmp.denominator;
        run = text(file, c, side, path + "." + side, true);
        if (!names.count(run)) {
          std::string list;
          for (const auto& r : s.runs) list += (list.empty() ? "" : ", ") + r.name;
          bad(file, c[side], path + "." + side, "no run named \"" + run + "\" (runs: " + list + ")");
        }
      }
      if (c["paper"].IsDefined() && !c["paper"].IsNull()) cmp.paper = number(file, c["paper"], path + ".paper");
      const YAML::Node range = c["paper_range"];
      if (range.IsDefined() && !range.IsNull()) {
        if (!range.IsSequence() || range.size() != 2) bad(file, range, path + ".paper_range", "expected [low, high]");
        const double lo = number(file, range[0], path + ".paper_range[0]");
        const double hi = number(file, range[1], path + ".paper_range[1]");
        if (lo > hi) bad(file, range, path + ".paper_range", "low is above high");
        cmp.paperRange = std::make_pair(lo, hi);
      }
      if (c["paper_up_to"].IsDefined() && !c["paper_up_to"].IsNull()) {
        cmp.paperUpTo = number(file, c["paper_up_to"], path + ".paper_up_to");
        if (cmp.paperRange) bad(file, c["paper_up_to"], path + ".paper_up_to", "give paper_range or paper_up_to, not both");
        if (*cmp.paperUpTo == 1.0) bad(file, c["paper_up_to"], path + ".paper_up_to", "\"up to 1\" claims no change");
      }
      s.comparisons.push_back(std::move(cmp));
    }
  }
  return s;
}

Study loadStudy(const std::string& dir) {
  const std::string file = (fs::path(dir) / "study.yaml").string();
  return parseStudy(readText(file, "study file"), file);
}

std::optional<double> metricValue(const nlohmann::json& summary, const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  if (parts.empty()) return std::nullopt;
  const nlohmann::json* node = &summary;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->is_object() || !node->contains(parts[i])) return std::nullopt;
    node = &(*node)[parts[i]];
  }
  if (!node->is_object()) return std::nullopt;
  const std::string& last = parts.back();
  if (node->contains(last)) {
    const auto& v = (*node)[last];
    if (v.is_number()) return v.get<double>();
    return std::nullopt;
  }
  static const std::pair<const char*, double> units[] = {{"_ms", 1e3}, {"_us", 1e6}, {"_ns", 1e9}};
  for (const auto& [suffix, scale] : units) {
    const std::string sfx = suffix;
    if (last.size() > sfx.size() && last.compare(last.size() - sfx.size(), sfx.size(), sfx) == 0) {
      const std::string seconds = last.substr(0, last.size() - sfx.size()) + "_s";
      if (node->contains(seconds) && (*node)[seconds].is_number()) return (*node)[seconds].get<double>() * scale;
    }
  }
  return std::nullopt;
}

const char* toString(Verdict verdict) {
  switch (verdict) {
    case Verdict::InRange: return "in range";
    case Verdict::Outside: return "outside";
    case Verdict::DirectionWrong: return "direction wrong";
    case Verdict::Close: return "within 15%";
    case Verdict::RightDirection: return "right direction";
    case Verdict::NoPaper: return "-";
  }
  return "?";
}

Verdict classify(double ratio, const PaperClaim& claim) {
  // The side of 1 the paper is on: its value, else its range's middle, else its "up to".
  std::optional<double> reference = claim.value;
  if (!reference && claim.range) reference = 0.5 * (claim.range->first + claim.range->second);
  if (!reference && claim.upTo) reference = claim.upTo;
  if (!reference) return Verdict::NoPaper;
  if (*reference != 1.0 && (ratio == 1.0 || (*reference > 1.0) != (ratio > 1.0))) return Verdict::DirectionWrong;
  if (claim.range) return ratio >= claim.range->first && ratio <= claim.range->second ? Verdict::InRange : Verdict::Outside;
  if (claim.upTo) {
    const bool within = *claim.upTo > 1.0 ? ratio <= *claim.upTo : ratio >= *claim.upTo;
    return within ? Verdict::InRange : Verdict::Outside;
  }
  return std::abs(ratio / *claim.value - 1.0) <= kCloseTolerance ? Verdict::Close : Verdict::RightDirection;
}

RunFigures figures(const Study& study, const StudyRun& run, const std::string& folder, const nlohmann::json& summary) {
  RunFigures f;
  f.name = run.name;
  f.folder = folder;
  const std::optional<double> v = metricValue(summary, study.metric.key);
  if (!v)
    bad(study.file, study.metric.line, "metric.key",
        "\"" + study.metric.key + "\" is not a number in the summary.json of run \"" + run.name + "\" (" + folder +
            "/summary.json)");
  f.value = *v;
  for (const Metric& m : study.extraMetrics) {
    const std::optional<double> x = metricValue(summary, m.key);
    if (!x)
      bad(study.file, m.line, "metrics", "\"" + m.key + "\" is not a number in the summary.json of run \"" + run.name +
                                            "\" (" + folder + "/summary.json)");
    f.extraValues.push_back(*x);
  }
  f.wallSeconds = summary.value("wall_seconds", 0.0);
  const double events = summary.contains("events") && summary["events"].is_number() ? summary["events"].get<double>() : 0;
  f.eventsPerSecond = f.wallSeconds > 0 ? events / f.wallSeconds : 0;
  // Simulated tokens: output tokens served, or tokens trained (a training run's summary).
  if (summary.contains("serving") && summary["serving"].is_object() && f.wallSeconds > 0)
    for (const char* key : {"output_tokens", "trained_tokens"})
      if (summary["serving"].contains(key) && summary["serving"][key].is_number()) {
        f.tokensPerWallSecond = summary["serving"][key].get<double>() / f.wallSeconds;
        break;
      }
  return f;
}

nlohmann::json report(const Study& study, const std::vector<RunFigures>& runs) {
  auto metricJson = [](const Metric& m) {
    return nlohmann::json{{"key", m.key}, {"name", m.name}, {"lower_is_better", m.lowerIsBetter}};
  };
  nlohmann::json doc{{"study", study.title}, {"source", study.citation}, {"metric", metricJson(study.metric)}};
  doc["metrics"] = nlohmann::json::array();
  for (const Metric& m : study.extraMetrics) doc["metrics"].push_back(metricJson(m));
  std::map<std::string, std::string> metricName{{study.metric.key, study.metric.name}};
  for (const Metric& m : study.extraMetrics) metricName[m.key] = m.name;
  doc["runs"] = nlohmann::json::array();
  std::map<std::string, std::map<std::string, double>> value;  // metric key -> run -> value
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunFigures& f = runs[i];
    value[study.metric.key][f.name] = f.value;
    nlohmann::json r{{"name", f.name}, {"folder", f.folder}, {"value", f.value}, {"wall_seconds", f.wallSeconds},
                     {"events_per_s", f.eventsPerSecond}};
    nlohmann::json values = nlohmann::json::object();
    for (size_t m = 0; m < study.extraMetrics.size() && m < f.extraValues.size(); ++m) {
      value[study.extraMetrics[m].key][f.name] = f.extraValues[m];
      values[study.extraMetrics[m].key] = f.extraValues[m];
    }
    r["values"] = std::move(values);
    if (i < study.runs.size()) {
      r["scenario"] = study.runs[i].scenario;
      r["set"] = study.runs[i].set;
    }
    r["tokens_per_wall_s"] = f.tokensPerWallSecond ? nlohmann::json(*f.tokensPerWallSecond) : nlohmann::json(nullptr);
    doc["runs"].push_back(r);
  }
  doc["comparisons"] = nlohmann::json::array();
  for (const Comparison& c : study.comparisons) {
    const std::string key = c.metric.empty() ? study.metric.key : c.metric;
    auto& v = value[key];
    WAFERSIM_ASSERT(v.count(c.numerator) && v.count(c.denominator), c.name);
    const double den = v[c.denominator];
    nlohmann::json j{{"name", c.name}, {"metric", key}, {"metric_name", metricName[key]}, {"numerator", c.numerator},
                     {"denominator", c.denominator}};
    j["paper"] = c.paper ? nlohmann::json(*c.paper) : nlohmann::json(nullptr);
    j["paper_range"] = c.paperRange ? nlohmann::json::array({c.paperRange->first, c.paperRange->second})
                                    : nlohmann::json(nullptr);
    j["paper_up_to"] = c.paperUpTo ? nlohmann::json(*c.paperUpTo) : nlohmann::json(nullptr);
    if (den == 0 || !std::isfinite(v[c.numerator] / den)) {
      j["ratio"] = nullptr;
      j["ratio_over_paper"] = nullptr;
      j["verdict"] = "undefined (denominator 0)";
    } else {
      const double ratio = v[c.numerator] / den;
      j["ratio"] = ratio;
      j["ratio_over_paper"] = c.paper ? nlohmann::json(ratio / *c.paper) : nlohmann::json(nullptr);
      j["verdict"] = toString(classify(ratio, PaperClaim{c.paper, c.paperRange, c.paperUpTo}));
    }
    doc["comparisons"].push_back(j);
  }
  return doc;
}

std::string formatReport(const nlohmann::json& doc) {
  std::string out = "study: " + doc.value("study", "") + "\n";
  if (!doc.value("source", "").empty()) out += "source: " + doc.value("source", "") + "\n";
  const nlohmann::json extra = doc.contains("metrics") ? doc["metrics"] : nlohmann::json::array();
  auto describe = [](const nlohmann::json& m) {
    return m.value("name", "") + " (" + m.value("key", "") + ", " + (m.value("lower_is_better", true) ? "lower" : "higher") +
           " is better)";
  };
  out += "metric: " + describe(doc["metric"]) + "\n";
  for (const auto& m : extra) out += "        " + describe(m) + "\n";
  out += "\n";
  std::vector<std::string> header{"run", doc["metric"].value("name", "")};
  for (const auto& m : extra) header.push_back(m.value("name", ""));
  for (const char* h : {"wall s", "events/s", "sim tokens/wall s"}) header.push_back(h);
  std::vector<std::vector<std::string>> rows{header};
  for (const auto& r : doc["runs"]) {
    std::vector<std::string> row{r["name"].get<std::string>(), fmt("%.6g", r["value"].get<double>())};
    for (const auto& m : extra) {
      const std::string key = m.value("key", "");
      row.push_back(r.contains("values") && r["values"].contains(key) ? fmt("%.6g", r["values"][key].get<double>()) : "-");
    }
    row.push_back(fmt("%.3f", r["wall_seconds"].get<double>()));
    row.push_back(fmt("%.3g", r["events_per_s"].get<double>()));
    row.push_back(r["tokens_per_wall_s"].is_number() ? fmt("%.1f", r["tokens_per_wall_s"].get<double>()) : "-");
    rows.push_back(std::move(row));
  }
  out += table(rows);
  if (!doc["comparisons"].empty()) {
    const bool named = !extra.empty();
    std::vector<std::string> head{"comparison"};
    if (named) head.push_back("metric");
    for (const char* h : {"paper", "range", "wafersim", "wafersim/paper", "verdict"}) head.push_back(h);
    std::vector<std::vector<std::string>> cmp{head};
    for (const auto& c : doc["comparisons"]) {
      std::vector<std::string> row{c["name"].get<std::string>()};
      if (named) row.push_back(c.value("metric_name", ""));
      row.push_back(c["paper"].is_number() ? fmt("%.3f", c["paper"].get<double>()) : "-");
      if (c["paper_range"].is_array())
        row.push_back(fmt("[%.3g, ", c["paper_range"][0].get<double>()) + fmt("%.3g]", c["paper_range"][1].get<double>()));
      else if (c.contains("paper_up_to") && c["paper_up_to"].is_number())
        row.push_back("up to " + fmt("%.3g", c["paper_up_to"].get<double>()));
      else
        row.push_back("-");
      row.push_back(c["ratio"].is_number() ? fmt("%.3f", c["ratio"].get<double>()) : "-");
      row.push_back(c["ratio_over_paper"].is_number() ? fmt("%.3f", c["ratio_over_paper"].get<double>()) : "-");
      row.push_back(c["verdict"].get<std::string>());
      cmp.push_back(std::move(row));
    }
    out += "\n" + table(cmp);
  }
  return out;
}

std::string formatMarkdown(const nlohmann::json& doc) {
  std::string out = "### " + doc.value("study", "") + "\n\n";
  if (!doc.value("source", "").empty()) out += "Paper figures: " + doc.value("source", "") + ".\n";
  const nlohmann::json extra = doc.contains("metrics") ? doc["metrics"] : nlohmann::json::array();
  auto describe = [](const nlohmann::json& m) {
    return m.value("name", "") + " (`" + m.value("key", "") + "`, " +
           (m.value("lower_is_better", true) ? "lower" : "higher") + " is better)";
  };
  out += "Metric: " + describe(doc["metric"]);
  for (const auto& m : extra) out += "; " + describe(m);
  out += ".\n\n";
  auto row = [](const std::vector<std::string>& cells) {
    std::string line = "|";
    for (const auto& c : cells) line += " " + c + " |";
    return line + "\n";
  };
  auto rule = [](size_t columns) {
    std::string line = "| --- |";
    for (size_t i = 1; i < columns; ++i) line += " ---: |";
    return line + "\n";
  };
  std::vector<std::string> header{"run", doc["metric"].value("name", "")};
  for (const auto& m : extra) header.push_back(m.value("name", ""));
  out += row(header) + rule(header.size());
  for (const auto& r : doc["runs"]) {
    std::vector<std::string> cells{"`" + r["name"].get<std::string>() + "`", fmt("%.6g", r["value"].get<double>())};
    for (const auto& m : extra) {
      const std::string key = m.value("key", "");
      cells.push_back(r.contains("values") && r["values"].contains(key) ? fmt("%.6g", r["values"][key].get<double>())
                                                                        : "-");
    }
    out += row(cells);
  }
  if (!doc["comparisons"].empty()) {
    const bool named = !extra.empty();
    std::vector<std::string> head{"comparison"};
    if (named) head.push_back("metric");
    for (const char* h : {"paper", "paper's range", "wafersim", "wafersim / paper", "verdict"}) head.push_back(h);
    out += "\n" + row(head) + rule(head.size());
    for (const auto& c : doc["comparisons"]) {
      std::vector<std::string> cells{c["name"].get<std::string>()};
      if (named) cells.push_back(c.value("metric_name", ""));
      cells.push_back(c["paper"].is_number() ? fmt("%.3g", c["paper"].get<double>()) : "-");
      std::string range = "-";
      if (c["paper_range"].is_array())
        range = fmt("%.3g", c["paper_range"][0].get<double>()) + " - " + fmt("%.3g", c["paper_range"][1].get<double>());
      else if (c.contains("paper_up_to") && c["paper_up_to"].is_number())
        range = "up to " + fmt("%.3g", c["paper_up_to"].get<double>());
      cells.push_back(range);
      cells.push_back(c["ratio"].is_number() ? fmt("%.3f", c["ratio"].get<double>()) : "-");
      cells.push_back(c["ratio_over_paper"].is_number() ? fmt("%.3f", c["ratio_over_paper"].get<double>()) : "-");
      cells.push_back(c["verdict"].get<std::string>());
      out += row(cells);
    }
  }
  return out;
}

nlohmann::json runStudy(const std::string& dir, const StudyOptions& options) {
  const Study study = loadStudy(dir);
  std::string outDir = options.outDir;
  if (outDir.empty()) {
    std::string name = fs::path(dir).lexically_normal().filename().string();
    if (name.empty()) name = fs::path(dir).lexically_normal().parent_path().filename().string();
    if (name.empty() || name == "." || name == "..") name = fs::weakly_canonical(fs::absolute(dir)).filename().string();
    outDir = "runs/study-" + name;
  }
  // Everything is checked before anything runs: every run's scenario with its overrides.
  if (!options.reuse)
    for (const StudyRun& run : study.runs) {
      const std::string path = (fs::path(dir) / run.scenario).string();
      if (!fs::is_regular_file(path))
        bad(study.file, run.line, "runs." + run.name + ".scenario", "no scenario file " + path);
      parseScenario(readText(path, "scenario file"), path, run.set);
    }
  std::vector<RunFigures> runs;
  for (size_t i = 0; i < study.runs.size(); ++i) {
    const StudyRun& run = study.runs[i];
    const std::string folder = folderName(run.name);
    const std::string runDir = (fs::path(outDir) / folder).string();
    nlohmann::json summary;
    if (options.reuse) {
      const std::string path = runDir + "/summary.json";
      std::ifstream in(path);
      if (!in) fail(ErrorKind::InvalidConfig, path, ": no results of run \"", run.name, "\" (run the study without --reuse)");
      try {
        summary = nlohmann::json::parse(in);
      } catch (const nlohmann::json::exception& e) {
        fail(ErrorKind::InvalidConfig, path, ": not valid JSON: ", e.what());
      }
    } else {
      std::fprintf(options.markdown ? stderr : stdout, "study run %zu/%zu: %s\n", i + 1, study.runs.size(),
                   run.name.c_str());
      std::fflush(stdout);
      summary = runScenario((fs::path(dir) / run.scenario).string(), run.set, runDir, options.flags, {},
                            options.markdown ? stderr : stdout)
                    .summary;
    }
    runs.push_back(figures(study, run, folder, summary));
  }
  const nlohmann::json doc = report(study, runs);
  if (options.markdown) std::printf("%s", formatMarkdown(doc).c_str());
  else std::printf("\n%s", formatReport(doc).c_str());
  fs::create_directories(outDir);
  {
    std::ofstream copy(outDir + "/study.yaml");
    copy << readText(study.file, "study file");
  }
  std::ofstream(outDir + "/study.json") << doc.dump(2) << "\n";
  std::fprintf(options.markdown ? stderr : stdout, "\nstudy written to %s/study.json\n", outDir.c_str());
  return doc;
}

}  // namespace wafersim::study
