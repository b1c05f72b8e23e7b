// What a PromQL expression names: its series selectors (metric names with the labels their
// matchers use), the labels of its grouping clauses, the labels label_replace creates, and the
// functions it calls. Enough to check dashboards and alert rules against docs/metrics.md; whether
// the expression parses is promtool's job (the tests run it too).
//
// Grafana's variables must be substituted first (dashboard_set.h); an identifier that is not a
// keyword, an operator word or a function call is taken for a metric name, which is what makes
// the check strict: a typo in a metric name or an undocumented metric cannot slip through.
#pragma once

#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace wafersim::testing {

struct PromqlSelector {
  std::string metric;
  std::vector<std::string> matcherLabels;
};

struct PromqlScan {
  std::vector<PromqlSelector> selectors;
  std::set<std::string> groupingLabels;  // by, without, on, ignoring, group_left, group_right
  std::set<std::string> createdLabels;   // label_replace's and label_join's destination labels
  std::set<std::string> functions;
  std::vector<std::string> errors;  // what the scanner could not read
};

inline const std::set<std::string>& promqlFunctions() {
  static const std::set<std::string> names = {
      // aggregations
      "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
      "quantile",
      // functions
      "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
      "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_quantile",
      "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace", "ln", "log2", "log10",
      "minute", "month", "predict_linear", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt",
      "time", "timestamp", "vector", "year", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
      "count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time", "last_over_time",
      "present_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan",
      "tanh", "deg", "rad", "pi"};
  return names;
}

namespace promql_detail {

inline bool identStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
inline bool identChar(char c) { return identStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

struct Cursor {
  const std::string& s;
  size_t i = 0;
  void skipSpace() {
    while (i < s.size()) {
      if (std::isspace(static_cast<unsigned char>(s[i]))) {
        ++i;
      } else if (s[i] == '#') {  // a comment runs to the end of the line
        while (i < s.size() && s[i] != '\n') ++i;
      } else {
        break;
      }
    }
  }
  char peek() {
    skipSpace();
    return i < s.size() ? s[i] : '\0';
  }
  std::string ident() {
    size_t b = i;
    while (i < s.size() && identChar(s[i])) ++i;
    return s.substr(b, i - b);
  }
  // A quoted string starting at i ("...", '...' or `...`); returns its text without escapes.
  std::string quoted() {
    const char q = s[i++];
    std::string out;
    while (i < s.size() && s[i] != q) {
      if (s[i] == '\\' && q != '`' && i + 1 < s.size()) ++i;
      out += s[i++];
    }
    ++i;
    return out;
  }
  // "{a="x", b=~"y"}" (at the brace) -> {a, b}
  std::vector<std::string> matcherLabels() {
    std::vector<std::string> out;
    ++i;
    while (peek() != '}' && i < s.size()) {
      if (identStart(s[i])) {
        out.push_back(ident());
      } else if (s[i] == '"' || s[i] == '\'' || s[i] == '`') {
        quoted();
      } else {
        ++i;
      }
    }
    ++i;
    return out;
  }
  // "(a, b)" -> {a, b}
  std::vector<std::string> labelList() {
    std::vector<std::string> out;
    if (peek() != '(') return out;
    ++i;
    while (peek() != ')' && i < s.size()) {
      if (identStart(s[i])) {
        out.push_back(ident());
      } else {
        ++i;
      }
    }
    ++i;
    return out;
  }
};

}  // namespace promql_detail

inline PromqlScan scanPromql(const std::string& expr) {
  using promql_detail::Cursor;
  using promql_detail::identStart;
  static const std::set<std::string> grouping = {"by", "without", "on", "ignoring", "group_left", "group_right"};
  static const std::set<std::string> aggregations = {"sum",   "min",          "max",     "avg",  "group",   "stddev",
                                                     "stdvar", "count", "count_values", "bottomk", "topk", "quantile"};
  static const std::set<std::string> operatorWords = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"};
  PromqlScan out;
  Cursor c{expr};
  // label_replace(v, "dst", ...) and label_join(v, "dst", ...): the second argument is a label the
  // expression creates. Tracked by the depth of the call's parentheses.
  std::vector<std::pair<int, int>> labelCalls;  // (paren depth inside the call, commas seen)
  int depth = 0;
  while (c.peek() != '\0') {
    const char ch = c.s[c.i];
    if (ch == '"' || ch == '\'' || ch == '`') {
      const std::string text = c.quoted();
      if (!labelCalls.empty() && labelCalls.back().first == depth && labelCalls.back().second == 1)
        out.createdLabels.insert(text);
    } else if (ch == '[') {  // a range or subquery: durations only
      while (c.i < c.s.size() && c.s[c.i] != ']') {
        if (c.s[c.i] == '$') out.errors.push_back("an unsubstituted variable at " + c.s.substr(c.i, 20));
        ++c.i;
      }
      ++c.i;
    } else if (ch == '{') {  // a selector with no metric name
      out.selectors.push_back({"", c.matcherLabels()});
    } else if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '.') {  // a number or a duration
      while (c.i < c.s.size() && (std::isalnum(static_cast<unsigned char>(c.s[c.i])) || c.s[c.i] == '.')) ++c.i;
    } else if (identStart(ch)) {
      const std::string word = c.ident();
      if (grouping.count(word)) {
        for (const auto& l : c.labelList()) out.groupingLabels.insert(l);
      } else if (operatorWords.count(word)) {
        // nothing to record
      } else if (c.peek() == '(' || aggregations.count(word)) {  // "sum (x) by (a)" or "sum by (a) (x)"
        out.functions.insert(word);
        if (word == "label_replace" || word == "label_join") labelCalls.push_back({depth + 1, 0});
      } else {
        out.selectors.push_back({word, c.peek() == '{' ? c.matcherLabels() : std::vector<std::string>{}});
      }
    } else if (ch == '(') {
      ++depth;
      ++c.i;
    } else if (ch == ')') {
      if (!labelCalls.empty() && labelCalls.back().first == depth) labelCalls.pop_back();
      --depth;
      ++c.i;
    } else if (ch == ',') {
      if (!labelCalls.empty() && labelCalls.back().first == depth) ++labelCalls.back().second;
      ++c.i;
    } else if (ch == '$') {
      out.errors.push_back("an unsubstituted variable at " + c.s.substr(c.i, 20));
      ++c.i;
    } else {
      ++c.i;  // operators
    }
  }
  if (depth != 0) out.errors.push_back("unbalanced parentheses");
  return out;
}

}  // namespace wafersim::testing
