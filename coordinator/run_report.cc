#include "coordinator/run_report.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "sim/error.h"

namespace wafersim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxRequestRows = 100000;
constexpr size_t kMaxScenarioBytes = 64 * 1024;

std::string readFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(ErrorKind::InvalidConfig, file.string(), ": cannot be read");
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

bool present(const fs::path& file) {
  std::error_code ec;
  return fs::is_regular_file(file, ec);
}

json parseJsonFile(const fs::path& file) {
  try {
    return json::parse(readFile(file));
  } catch (const json::exception& e) {
    fail(ErrorKind::InvalidConfig, file.string(), ": not valid JSON: ", e.what());
  }
}

// A CSV cell as JSON: an integer, a number, or the text.
json csvValue(const std::string& text) {
  if (text.empty()) return nullptr;
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(begin, &end, 10);
  if (*end == '\0' && errno == 0) return static_cast<int64_t>(i);
  errno = 0;
  const double d = std::strtod(begin, &end);
  if (*end == '\0' && errno == 0) return d;
  return text;
}

// RFC 4180 CSV (quoted fields, "" inside quotes, CRLF or LF) -> {"columns": [...], "rows": [[...]]}.
// Rows past `maxRows` are sampled evenly; "sampled_every" says by how much (1: every row).
json readCsv(const fs::path& file, size_t maxRows) {
  const std::string text = readFile(file);
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, fieldStarted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
      fieldStarted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      fieldStarted = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (fieldStarted || !field.empty()) {
        record.push_back(std::move(field));
        records.push_back(std::move(record));
      }
      record.clear();
      field.clear();
      fieldStarted = false;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) fail(ErrorKind::InvalidConfig, file.string(), ": a quoted field is not closed");
  if (fieldStarted || !field.empty()) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  if (records.empty()) fail(ErrorKind::InvalidConfig, file.string(), ": empty (no header line)");
  json columns = records[0];
  const size_t body = records.size() - 1;
  const size_t every = body > maxRows ? (body + maxRows - 1) / maxRows : 1;
  json rows = json::array();
  for (size_t r = 1; r < records.size(); r += every) {
    if (records[r].size() != records[0].size())
      fail(ErrorKind::InvalidConfig, file.string(), ":", r + 1, ": ", records[r].size(), " fields, the header has ",
           records[0].size());
    json row = json::array();
    for (const auto& cell : records[r]) row.push_back(csvValue(cell));
    rows.push_back(std::move(row));
  }
  return {{"columns", std::move(columns)}, {"rows", std::move(rows)}, {"sampled_every", every}, {"total_rows", body}};
}

// The first component table of that name in results.json ({"columns", "rows"[, "strings"]}).
const json* findTable(const json& results, const std::string& name) {
  if (!results.contains("components") || !results["components"].is_object()) return nullptr;
  for (const auto& [component, record] : results["components"].items()) {
    if (!record.is_object() || !record.contains("tables")) continue;
    const json& tables = record["tables"];
    if (tables.is_object() && tables.contains(name)) return &tables[name];
  }
  return nullptr;
}

// Decisions from the placement_log table: the same fields as placement_log.json's (result_tables.cc),
// without the placements themselves.
json decisionsFromTable(const json& table) {
  json decisions = json::array();
  const auto& columns = table.value("columns", json::array());
  const auto& strings = table.value("strings", json::array());
  for (const auto& row : table.value("rows", json::array())) {
    json d = json::object();
    for (size_t k = 0; k < columns.size() && k < row.size(); ++k) {
      const std::string column = columns[k].get<std::string>();
      const json& v = row[k];
      if (column == "policy" || column == "outcome" || column == "reason" || column == "split") {
        const auto i = v.is_number_integer() ? v.get<int64_t>() : -1;
        d[column] = i >= 0 && static_cast<size_t>(i) < strings.size() ? strings[static_cast<size_t>(i)] : json("");
      } else if (column.size() > 4 && column.ends_with("_ppm")) {
        const std::string name = column.substr(0, column.size() - 4);
        d[name] = column == "optimality_gap_ppm" && v == -1 ? json(nullptr) : json(v.get<double>() * 1e-6);
      } else {
        d[column] = v;
      }
    }
    decisions.push_back(std::move(d));
  }
  return decisions;
}

// Every scalar at the top of an object (partition.json's figures without its per-component lists).
json scalars(const json& object) {
  json out = json::object();
  if (!object.is_object()) return out;
  for (const auto& [k, v] : object.items())
    if (!v.is_structured()) out[k] = v;
  return out;
}

json readRun(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(ErrorKind::InvalidConfig, dir.string(), ": not a results folder (no such folder)");
  if (!present(dir / "summary.json"))
    fail(ErrorKind::InvalidConfig, dir.string(),
         ": not a results folder (no summary.json; `wafersim run --out DIR` and `wafersim results ID` write one)");
  json run{{"name", name}, {"dir", fs::absolute(dir).lexically_normal().string()}};
  json notes = json::array();
  auto missing = [&](const std::string& file, const std::string& what) {
    notes.push_back("no " + file + ": " + what + " left out");
  };
  run["summary"] = parseJsonFile(dir / "summary.json");
  if (!run["summary"].is_object()) fail(ErrorKind::InvalidConfig, (dir / "summary.json").string(), ": not a JSON object");

  run["run"] = present(dir / "run.json") ? parseJsonFile(dir / "run.json") : json(nullptr);
  if (run["run"].is_null()) missing("run.json", "the engine figures per partition are");
  run["partition"] = present(dir / "partition.json") ? scalars(parseJsonFile(dir / "partition.json")) : json(nullptr);

  json simulatedPs = nullptr, expertLoad = nullptr, decisions = nullptr;
  if (present(dir / "results.json")) {
    const json results = parseJsonFile(dir / "results.json");
    if (results.contains("simulated_time_ps")) simulatedPs = results["simulated_time_ps"];
    if (const json* t = findTable(results, "expert_load")) expertLoad = {{"columns", (*t)["columns"]}, {"rows", (*t)["rows"]}};
    if (!present(dir / "placement_log.json"))
      if (const json* t = findTable(results, "placement_log")) decisions = decisionsFromTable(*t);
  } else {
    missing("results.json", "the expert load per layer is");
  }
  if (simulatedPs.is_null() && run["summary"].contains("simulated_time_s"))
    simulatedPs = std::llround(run["summary"]["simulated_time_s"].get<double>() * 1e12);
  run["simulated_time_ps"] = simulatedPs;
  run["expert_load"] = expertLoad;
  if (present(dir / "placement_log.json")) {
    const json log = parseJsonFile(dir / "placement_log.json");
    decisions = json::array();
    for (json d : log.value("decisions", json::array())) {
      d.erase("placement");  // the expert-to-die maps: large, and not drawn
      decisions.push_back(std::move(d));
    }
  }
  run["placement_log"] = decisions;

  if (present(dir / "requests.csv")) {
    run["requests"] = readCsv(dir / "requests.csv", kMaxRequestRows);
    const auto every = run["requests"]["sampled_every"].get<size_t>();
    if (every > 1)
      notes.push_back("requests.csv has " + std::to_string(run["requests"]["total_rows"].get<size_t>()) +
                      " rows: every " + std::to_string(every) + "th is drawn");
  } else {
    run["requests"] = nullptr;
    missing("requests.csv", "the latency CDFs and the throughput over time are");
  }
  run["dies"] = present(dir / "dies.csv") ? readCsv(dir / "dies.csv", SIZE_MAX) : json(nullptr);
  if (run["dies"].is_null()) missing("dies.csv", "the die utilization heatmap is");
  run["links"] = present(dir / "links.csv") ? readCsv(dir / "links.csv", SIZE_MAX) : json(nullptr);
  if (run["links"].is_null()) missing("links.csv", "the link utilization is");

  if (present(dir / "scenario.yaml")) {
    std::string text = readFile(dir / "scenario.yaml");
    if (text.size() > kMaxScenarioBytes) text = text.substr(0, kMaxScenarioBytes) + "\n# ... (cut)\n";
    run["scenario"] = text;
  } else {
    run["scenario"] = nullptr;
  }
  run["notes"] = notes;
  return run;
}

std::string escapeHtml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Text that is safe inside <script> or <style>: no "</" can close the element early. In JSON, JS
// strings and CSS, "<\/" reads as "</".
std::string inlineSafe(std::string text) {
  for (size_t at = 0; (at = text.find("</", at)) != std::string::npos; at += 3) text.replace(at, 2, "<\\/");
  return text;
}

}  // namespace

json readReportData(const std::vector<std::string>& runDirs) {
  WAFERSIM_REQUIRE(!runDirs.empty(), "a report needs at least one results folder");
  json runs = json::array();
  std::map<std::string, int> seen;
  std::string names;
  for (const auto& dir : runDirs) {
    const fs::path path = fs::path(dir).lexically_normal();
    std::string name = (path.has_filename() ? path.filename() : path.parent_path().filename()).string();
    if (name.empty() || name == ".") name = fs::absolute(path).lexically_normal().filename().string();
    if (const int n = ++seen[name]; n > 1) name += " (" + std::to_string(n) + ")";
    runs.push_back(readRun(path, name));
    names += (names.empty() ? "" : ", ") + name;
  }
  const std::string title = runDirs.size() == 1 ? "wafersim report: " + names : "wafersim comparison: " + names;
  return {{"title", title}, {"runs", std::move(runs)}};
}

void writeRunReport(const std::vector<std::string>& runDirs, const std::string& outFile, const std::string& webDist) {
  const fs::path dist(webDist);
  if (webDist.empty() || !present(dist / "report.js") || !present(dist / "report.css"))
    fail(ErrorKind::Unimplemented, "the report scripts are not built (",
         webDist.empty() ? std::string("no web/dist folder was found") : "no report.js and report.css in " + webDist,
         "): install nodejs and npm (scripts/deps.sh), configure again and build the wafersim_web target, "
         "or point --web-dir or WAFERSIM_WEB_DIR at a built web/dist folder");
  const json data = readReportData(runDirs);
  const std::string script = readFile(dist / "report.js");
  const std::string style = readFile(dist / "report.css");
  std::string page;
  page.reserve(script.size() + style.size() + 4096);
  page += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page += "<meta name=\"generator\" content=\"wafersim report\">\n";
  page += "<title>" + escapeHtml(data["title"].get<std::string>()) + "</title>\n";
  page += "<link rel=\"icon\" href=\"data:,\">\n<style>\n" + inlineSafe(style) + "\n</style>\n</head>\n<body>\n";
  page += "<main class=\"report\" id=\"report\"><p>" + escapeHtml(data["title"].get<std::string>()) +
          ": the figures need JavaScript.</p></main>\n";
  page += "<script type=\"application/json\" id=\"report-data\">" + inlineSafe(data.dump(-1, ' ', false, json::error_handler_t::replace)) + "</script>\n";
  page += "<script>\n" + inlineSafe(script) + "\n</script>\n</body>\n</html>\n";

  const fs::path out(outFile);
  std::error_code ec;
  if (out.has_parent_path()) fs::create_directories(out.parent_path(), ec);
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file << page;
  file.close();
  if (!file) fail(ErrorKind::InvalidConfig, outFile, ": cannot be written");
}

}  // namespace wafersim
