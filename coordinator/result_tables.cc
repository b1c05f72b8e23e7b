#include "coordinator/result_tables.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "obs/wafer_layout.h"

namespace wafersim {
namespace {


}  // namespace

// A CSV field, quoted when it holds a comma or a quote (component names like "router[2,3]").
std::string csvField(const std::string& text) {
  if (text.find_first_of(",\"") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

// placement_log.json from the serving host's placement_log and placement_map tables: every online
// decision with its inputs, outcome, reason and predicted gain, and each applied placement as
// experts[layer * E + e] = replicas, each a list of [die, parts, engine?] (mapping.replay reads it).
std::string writePlacementLog(const std::string& dir, const Results& results) {
  for (const ComponentRecord& c : results.components()) {
    auto log = c.tables.find("placement_log");
    if (log == c.tables.end()) continue;
    const TableRecord& t = log->second;
    const size_t width = t.columns.size();
    auto text = [&](int64_t i) { return i >= 0 && size_t(i) < t.strings.size() ? t.strings[size_t(i)] : ""; };
    // Applied placements, by epoch.
    std::map<int64_t, nlohmann::json> placed;
    if (auto map = c.tables.find("placement_map"); map != c.tables.end()) {
      const TableRecord& m = map->second;  // epoch, moe_layer, expert, replica, die, parts, engine
      int64_t experts = 0;
      for (size_t r = 0; r < m.rows(); ++r) experts = std::max(experts, m.values[r * 7 + 2] + 1);
      for (size_t r = 0; r < m.rows(); ++r) {
        const int64_t* v = &m.values[r * 7];
        nlohmann::json& list = placed[v[0]];
        const auto index = static_cast<size_t>(v[1] * experts + v[2]);
        while (list.size() <= index) list.push_back(nlohmann::json::array());
        nlohmann::json& replicas = list[index];
        while (replicas.size() <= static_cast<size_t>(v[3])) replicas.push_back(nlohmann::json::array());
        nlohmann::json shard = {v[4], v[5]};
        if (v[6] >= 0) shard.push_back(v[6]);
        replicas[static_cast<size_t>(v[3])].push_back(std::move(shard));
      }
    }
    nlohmann::json decisions = nlohmann::json::array();
    for (size_t r = 0; r < t.rows(); ++r) {
      nlohmann::json d;
      for (size_t k = 0; k < width; ++k) {
        const std::string& column = t.columns[k];
        const int64_t v = t.values[r * width + k];
        if (column == "policy" || column == "outcome" || column == "reason" || column == "split") d[column] = text(v);
        else if (column.ends_with("_ppm")) d[column.substr(0, column.size() - 4)] = v == -1 && column == "optimality_gap_ppm" ? nlohmann::json(nullptr) : nlohmann::json(double(v) * 1e-6);
        else d[column] = v;
      }
      if (auto it = placed.find(d["epoch"].get<int64_t>()); it != placed.end())
        d["placement"] = {{"split", d["split"]}, {"experts", std::move(it->second)}};
      d.erase("split");
      decisions.push_back(std::move(d));
    }
    std::ofstream(dir + "/placement_log.json") << nlohmann::json{{"decisions", std::move(decisions)}}.dump(1) << "\n";
    return " placement_log.json";
  }
  return "";
}

std::string writeResultTables(const std::string& dir, const Results& results, const SystemGraph& graph) {
  std::string written;
  for (const ComponentRecord& c : results.components()) {
    auto it = c.tables.find("requests");
    if (it == c.tables.end()) continue;
    std::ofstream out(dir + "/requests.csv");
    const TableRecord& t = it->second;
    for (size_t i = 0; i < t.columns.size(); ++i) out << (i ? "," : "") << t.columns[i];
    out << "\n";
    for (size_t r = 0; r < t.rows(); ++r) {
      for (size_t i = 0; i < t.columns.size(); ++i) out << (i ? "," : "") << t.values[r * t.columns.size() + i];
      out << "\n";
    }
    written += " requests.csv";
    break;
  }

  std::set<std::string> columns;
  for (const ComponentRecord& c : results.components())
    if (obs::isDieType(c.type))
      for (const auto& [name, v] : c.counters) columns.insert(name);
  if (!columns.empty()) {
    std::ofstream out(dir + "/dies.csv");
    out << "die,type";
    for (const auto& col : columns) out << "," << col;
    out << "\n";
    for (const ComponentRecord& c : results.components()) {
      if (!obs::isDieType(c.type)) continue;
      out << csvField(c.name) << "," << c.type;
      for (const auto& col : columns) {
        auto v = c.counters.find(col);
        out << "," << (v == c.counters.end() ? 0 : v->second);
      }
      out << "\n";
    }
    written += " dies.csv";
  }

  // Router ports: the peer and the bandwidth from the layout (obs/wafer_layout.h).
  const double seconds = static_cast<double>(results.simulatedTime().ps()) * 1e-12;
  const obs::WaferLayout layout = obs::WaferLayout::of(graph);
  bool any = false;
  std::ofstream links;
  for (const ComponentRecord& c : results.components()) {
    if (c.type != "hw.Router") continue;
    for (const auto& [name, bytes] : c.counters) {
      if (!name.starts_with("bytes_p")) continue;
      const std::string port = name.substr(6);  // "pK"
      const obs::LinkSite* link = layout.link(c.id, static_cast<uint32_t>(std::stoul(port.substr(1))));
      const uint64_t rate = link ? link->bandwidthBytesPerSecond : 0;
      if (!any) {
        links.open(dir + "/links.csv");
        links << "from,port,to,bytes,bandwidth_bytes_per_s,utilization\n";
        any = true;
      }
      links << csvField(c.name) << "," << port << "," << csvField(link ? link->to : "?") << "," << bytes << ","
            << rate << ","
            << (rate && seconds > 0 ? static_cast<double>(bytes) / (static_cast<double>(rate) * seconds) : 0.0)
            << "\n";
    }
  }
  if (any) written += " links.csv";

  // Chrome / Perfetto trace (chrome://tracing, ui.perfetto.dev) from the "trace" tables: one
  // process per component, one thread per track; times in microseconds.
  nlohmann::json events = nlohmann::json::array();
  static const char* kKinds[] = {"GEMM", "attention", "message", "step", "stream"};
  for (const ComponentRecord& c : results.components()) {
    auto it = c.tables.find("trace");
    if (it == c.tables.end()) continue;
    const TableRecord& t = it->second;
    if (t.columns.size() != 6) continue;
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", c.id}, {"args", {{"name", c.name}}}});
    for (size_t r = 0; r < t.rows(); ++r) {
      const int64_t* v = &t.values[r * 6];
      const auto kind = static_cast<size_t>(v[3]);
      nlohmann::json args;
      if (kind <= 1 || kind == 4) args = {{"flops", v[4]}, {"bytes", v[5]}};
      else if (kind == 2) args = {{"bytes", v[4]}, {"to", v[5]}};
      else args = {{"step", v[4]}, {"tokens", v[5]}};
      events.push_back({{"name", kind < 5 ? kKinds[kind] : "?"}, {"ph", "X"}, {"pid", c.id}, {"tid", v[2]},
                        {"ts", static_cast<double>(v[0]) * 1e-6}, {"dur", static_cast<double>(v[1] - v[0]) * 1e-6},
                        {"args", args}});
    }
  }
  written += writePlacementLog(dir, results);
  if (!events.empty()) {
    std::ofstream(dir + "/trace.json") << nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ns"}}.dump()
                                       << "\n";
    written += " trace.json";
  }
  return written;
}

}  // namespace wafersim
