// The metric catalogue of docs/metrics.md, read from the Markdown itself, so that dashboards and
// alert rules can be checked against what is documented: every metric name, its type and the
// labels it carries.
//
// How the document is read (its shape as written, not a general Markdown parser):
//   - Tables: a header row names the columns (`metric`, `type`, `labels`); each row whose first
//     cell holds a backticked `wafersim_...` name is a metric. Its labels are the row's `labels`
//     cell plus the section's labels: those a heading names after the word "label(s)" (the Model
//     heading's "label `run`") or a paragraph starting with "Labels " (the Engine section's).
//   - Prose: a backticked `wafersim_name{a,b}` names a metric with labels a and b; a "(label `x`)"
//     in the same paragraph adds x (the run-level paragraph); "(histogram" right after the name
//     makes it a histogram; a name ending in _total is a counter.
//   - `sweep` is in the document's bounded label set without a metric that names it; we read it as
//     the run's sweep, allowed wherever `run` is (reported to the metrics owner as a gap).
//   - A histogram `x` also gives the series `x_bucket` (with `le`), `x_sum` and `x_count`.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace wafersim::testing {

struct DocumentedMetric {
  std::string name;
  std::string type;  // counter, gauge, histogram ("" when the document does not say)
  std::set<std::string> labels;
};

class MetricCatalogue {
 public:
  static MetricCatalogue load(const std::filesystem::path& markdown) {
    std::ifstream in(markdown);
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str());
  }

  static MetricCatalogue parse(const std::string& markdown) {
    MetricCatalogue c;
    std::set<std::string> sectionLabels;
    std::vector<std::string> columns;  // of the table being read
    std::string paragraph;  // prose lines joined, read when it ends
    auto endParagraph = [&] {
      if (paragraph.rfind("Labels ", 0) == 0) sectionLabels = backticked(withoutParentheses(paragraph));
      else if (!paragraph.empty()) readProse(paragraph, c);
      paragraph.clear();
    };
    std::istringstream lines(markdown);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("#", 0) == 0) {
        endParagraph();
        sectionLabels = labelsAfterWordLabel(line);
        columns.clear();
        continue;
      }
      if (line.rfind("|", 0) == 0) {
        endParagraph();
        std::vector<std::string> cells = tableCells(line);
        if (cells.empty()) continue;
        if (cells[0].find("---") != std::string::npos) continue;  // the rule below the header
        if (cells[0].find('`') == std::string::npos) {             // a header row
          columns.clear();
          for (auto& cell : cells) columns.push_back(lower(cell));
          continue;
        }
        for (const auto& name : backticked(cells[0])) {
          if (name.rfind("wafersim_", 0) != 0) continue;
          DocumentedMetric& m = c.metrics_[name];
          m.name = name;
          m.labels.insert(sectionLabels.begin(), sectionLabels.end());
          for (size_t i = 1; i < cells.size() && i < columns.size(); ++i) {
            if (columns[i] == "type") m.type = cells[i];
            if (columns[i] == "labels")
              for (const auto& l : words(cells[i])) m.labels.insert(l);
          }
        }
        continue;
      }
      columns.clear();
      if (trim(line).empty()) {
        endParagraph();
      } else {
        paragraph += (paragraph.empty() ? "" : " ") + trim(line);
      }
    }
    endParagraph();
    for (auto& [name, m] : c.metrics_)
      if (m.labels.count("run")) m.labels.insert("sweep");
    return c;
  }

  // The documented metric that a series name belongs to ("x_bucket" -> histogram x), or nullptr.
  const DocumentedMetric* find(const std::string& series) const {
    if (auto it = metrics_.find(series); it != metrics_.end()) return &it->second;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (series.size() > s.size() && series.compare(series.size() - s.size(), s.size(), s) == 0) {
        auto it = metrics_.find(series.substr(0, series.size() - s.size()));
        if (it != metrics_.end() && it->second.type == "histogram") return &it->second;
      }
    }
    return nullptr;
  }

  // The labels a series may carry: the metric's, `le` on buckets, and Prometheus's target labels.
  std::set<std::string> labelsOf(const std::string& series) const {
    std::set<std::string> out = {"job", "instance"};
    if (const DocumentedMetric* m = find(series)) out.insert(m->labels.begin(), m->labels.end());
    if (series.size() > 7 && series.compare(series.size() - 7, 7, "_bucket") == 0) out.insert("le");
    return out;
  }

  const std::map<std::string, DocumentedMetric>& metrics() const { return metrics_; }

 private:
  static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
    return s;
  }
  static std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
  }
  static std::vector<std::string> tableCells(const std::string& line) {
    std::vector<std::string> cells;
    std::string cell;
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '|') {
        cells.push_back(trim(cell));
        cell.clear();
      } else {
        cell += line[i];
      }
    }
    return cells;
  }
  // Identifiers in backticks ("`run`, `node`" -> {run, node}); "`a{b,c} 1`" -> {a}.
  static std::set<std::string> backticked(const std::string& text) {
    std::set<std::string> out;
    static const std::regex ticked("`([A-Za-z_][A-Za-z0-9_]*)[^`]*`");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), ticked); it != std::sregex_iterator(); ++it)
      out.insert((*it)[1]);
    return out;
  }
  static std::string withoutParentheses(const std::string& text) {
    std::string out;
    int depth = 0;
    for (char ch : text) {
      if (ch == '(') ++depth;
      else if (ch == ')') depth = std::max(0, depth - 1);
      else if (depth == 0) out += ch;
    }
    return out;
  }
  static std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    static const std::regex word("[A-Za-z_][A-Za-z0-9_]*");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), word); it != std::sregex_iterator(); ++it)
      out.push_back(it->str());
    return out;
  }
  // "... label `run`)" or "labels `a`, `b`" -> the backticked names after the word.
  static std::set<std::string> labelsAfterWordLabel(const std::string& line) {
    static const std::regex after("[Ll]abels? ((?:`[A-Za-z_][A-Za-z0-9_]*`(?:, | and |,)?)+)");
    std::set<std::string> out;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), after); it != std::sregex_iterator(); ++it) {
      const std::string list = (*it)[1];
      for (const auto& l : backticked(list)) out.insert(l);
    }
    return out;
  }
  // A paragraph of prose.
  static void readProse(const std::string& line, MetricCatalogue& c) {
    static const std::regex named("`(wafersim_[a-z0-9_]+)(\\{([a-z_, ]*)\\})?[^`]*`( \\(histogram)?");
    std::set<std::string> lineLabels;
    static const std::regex parenthesised("\\(labels? ((?:`[a-z_]+`(?:, )?)+)\\)");
    for (auto it = std::sregex_iterator(line.begin(), line.end(), parenthesised); it != std::sregex_iterator(); ++it)
      for (const auto& l : backticked((*it)[1])) lineLabels.insert(l);
    for (auto it = std::sregex_iterator(line.begin(), line.end(), named); it != std::sregex_iterator(); ++it) {
      DocumentedMetric& m = c.metrics_[(*it)[1]];
      m.name = (*it)[1];
      for (const auto& l : words((*it)[3])) m.labels.insert(l);
      m.labels.insert(lineLabels.begin(), lineLabels.end());
      const bool total = m.name.size() > 6 && m.name.compare(m.name.size() - 6, 6, "_total") == 0;
      if ((*it)[4].matched) {
        m.type = "histogram";
      } else if (m.type.empty() && total) {
        m.type = "counter";
      }
    }
  }

  std::map<std::string, DocumentedMetric> metrics_;
};

}  // namespace wafersim::testing
