#include "coordinator/service_api.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <set>
#include <sstream>

#include "coordinator/content_hash.h"
#include "sim/error.h"

namespace wafersim::api {
namespace {

using nlohmann::json;

json parseBody(const std::string& body) {
  if (body.empty()) fail(ErrorKind::InvalidConfig, "body: empty; expected a JSON object");
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    fail(ErrorKind::InvalidConfig, "body: not valid JSON: ", e.what());
  }
  if (!j.is_object()) fail(ErrorKind::InvalidConfig, "body: expected a JSON object, got ", j.type_name());
  return j;
}

// Client ids name folders and travel in URLs: a conservative alphabet.
bool validId(const std::string& id) {
  if (id.empty() || id.size() > 64 || id[0] == '.' || id[0] == '-') return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

void readCommon(const json& j, RunSubmission& s, uint32_t maxNodes, const std::set<std::string>& extra) {
  std::set<std::string> known{"scenario", "set", "nodes", "id", "labels", "cache", "wall_limit_s"};
  known.insert(extra.begin(), extra.end());
  for (const auto& [key, value] : j.items())
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(ErrorKind::InvalidConfig, "body.", key, ": unknown field (known: ", list, ")");
    }
  if (!j.contains("scenario")) fail(ErrorKind::InvalidConfig, "body.scenario: missing (the scenario's YAML text or a JSON object)");
  const json& scenario = j["scenario"];
  if (scenario.is_string()) s.scenarioText = scenario.get<std::string>();
  else if (scenario.is_object()) s.scenarioText = scenario.dump();  // YAML reads JSON
  else fail(ErrorKind::InvalidConfig, "body.scenario: expected YAML text or a JSON object, got ", scenario.type_name());
  if (s.scenarioText.empty()) fail(ErrorKind::InvalidConfig, "body.scenario: empty");
  if (j.contains("set")) {
    if (!j["set"].is_array()) fail(ErrorKind::InvalidConfig, "body.set: expected a list of \"key=value\" strings");
    for (size_t i = 0; i < j["set"].size(); ++i) {
      const json& o = j["set"][i];
      if (!o.is_string() || o.get<std::string>().find('=') == std::string::npos || o.get<std::string>()[0] == '=')
        fail(ErrorKind::InvalidConfig, "body.set[", i, "]: expected \"key=value\", got ", o.dump());
      s.overrides.push_back(o.get<std::string>());
    }
  }
  if (j.contains("nodes")) {
    const json& n = j["nodes"];
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > maxNodes)
      fail(ErrorKind::InvalidConfig, "body.nodes: expected an integer from 1 to ", maxNodes, ", got ", n.dump());
    s.nodes = static_cast<uint32_t>(n.get<int64_t>());
  }
  if (j.contains("id")) {
    if (!j["id"].is_string() || !validId(j["id"].get<std::string>()))
      fail(ErrorKind::InvalidConfig, "body.id: expected 1 to 64 of [A-Za-z0-9_.-], not starting with '.' or '-', got ",
           j["id"].dump());
    s.id = j["id"].get<std::string>();
  }
  if (j.contains("labels")) {
    if (!j["labels"].is_object()) fail(ErrorKind::InvalidConfig, "body.labels: expected an object of strings");
    if (j["labels"].size() > 32) fail(ErrorKind::InvalidConfig, "body.labels: at most 32 labels");
    for (const auto& [k, v] : j["labels"].items())
      if (!v.is_string() || k.empty() || k.size() > 64 || v.get<std::string>().size() > 256)
        fail(ErrorKind::InvalidConfig, "body.labels.", k, ": expected a string of at most 256 bytes (keys 1 to 64)");
    s.labels = j["labels"];
  }
  if (j.contains("cache")) {
    if (!j["cache"].is_boolean()) fail(ErrorKind::InvalidConfig, "body.cache: expected true or false");
    s.cache = j["cache"].get<bool>();
  }
  if (j.contains("wall_limit_s")) {
    const json& w = j["wall_limit_s"];
    if (!w.is_number() || !std::isfinite(w.get<double>()) || w.get<double>() < 0)
      fail(ErrorKind::InvalidConfig, "body.wall_limit_s: expected seconds >= 0 (0: no limit), got ", w.dump());
    s.wallLimitSeconds = w.get<double>();
  }
  s.request = {{"scenario", s.scenarioText}, {"set", s.overrides}, {"nodes", s.nodes}};
  s.bodyHash = sha256Hex(j.dump());
}

void flatten(const json& value, const std::string& prefix, std::map<std::string, json>& out) {
  if (value.is_object()) {
    for (const auto& [k, v] : value.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else if (value.is_primitive() && !value.is_null()) {
    out[prefix] = value;
  }
}

std::string csvCell(const json& v) {
  std::string text = v.is_null() ? "" : v.is_string() ? v.get<std::string>() : v.dump();
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

json operation(const std::string& summary, const std::vector<int>& statuses, bool body = false,
               const std::vector<std::string>& params = {}) {
  json op{{"summary", summary}, {"responses", json::object()}};
  for (int s : statuses) {
    const std::string description = s < 300 ? "success" : s == 404 ? "no such resource" : s == 409 ? "conflict"
                                    : s == 413 ? "body too large" : s == 503 ? "unavailable"
                                    : s == 401 ? "no valid bearer token" : s == 403 ? "the token's role does not allow it"
                                    : "bad request";
    op["responses"][std::to_string(s)] = {{"description", description}};
  }
  if (body)
    op["requestBody"] = {{"required", true},
                         {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
  if (!params.empty()) {
    op["parameters"] = json::array();
    for (const auto& p : params)
      op["parameters"].push_back({{"name", p}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
  }
  return op;
}

}  // namespace

http::Handler guarded(http::Handler handler) {
  return [handler = std::move(handler)](const http::Request& request) {
    try {
      return handler(request);
    } catch (const NotFound& e) {
      return http::Response::json(404, errorBody(404, "not_found", e.what()));
    }
  };
}

json errorBody(int status, const std::string& code, const std::string& message) {
  return {{"error", {{"status", status}, {"code", code}, {"message", message}}}};
}

RunSubmission parseRunSubmission(const std::string& body, uint32_t maxNodes) {
  RunSubmission s;
  readCommon(parseBody(body), s, maxNodes, {});
  return s;
}

SweepSubmission parseSweepSubmission(const std::string& body, uint32_t maxNodes) {
  const json j = parseBody(body);
  SweepSubmission s;
  readCommon(j, s, maxNodes, {"grid", "zip", "random", "concurrency"});
  for (const char* part : {"grid", "zip", "random"})
    if (j.contains(part)) s.spec[part] = j[part];
  if (j.contains("concurrency")) {
    const json& c = j["concurrency"];
    if (!c.is_number_integer() || c.get<int64_t>() < 0 || c.get<int64_t>() > 100000)
      fail(ErrorKind::InvalidConfig, "body.concurrency: expected an integer >= 0 (0: no cap), got ", c.dump());
    s.concurrency = static_cast<uint32_t>(c.get<int64_t>());
  }
  s.request["grid"] = s.spec.value("grid", json::object());
  return s;
}

RunFilter parseRunFilter(const std::map<std::string, std::string>& query) {
  RunFilter f;
  for (const auto& [key, value] : query) {
    if (key == "state") {
      f.state = runStateFromString(value);
      if (!f.state)
        fail(ErrorKind::InvalidConfig, "query state: unknown state \"", value,
             "\" (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, TIMED_OUT)");
    } else if (key == "sweep") {
      f.sweepId = value;
    } else if (key == "label") {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) fail(ErrorKind::InvalidConfig, "query label: expected key=value");
      f.labelKey = value.substr(0, eq);
      f.labelValue = value.substr(eq + 1);
    } else if (key == "limit") {
      char* end = nullptr;
      const long v = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end || v < 1 || v > 1000) fail(ErrorKind::InvalidConfig, "query limit: expected 1 to 1000");
      f.limit = static_cast<uint32_t>(v);
    } else if (key == "after") {
      char* end = nullptr;
      const long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end || v < 0) fail(ErrorKind::InvalidConfig, "query after: expected the cursor a page gave");
      f.afterSeq = v;
    } else {
      fail(ErrorKind::InvalidConfig, "query ", key, ": unknown parameter (state, label, sweep, limit, after)");
    }
  }
  return f;
}

std::string isoTime(int64_t ns) {
  if (ns <= 0) return "";
  const std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buffer, static_cast<int>((ns / 1'000'000) % 1000));
  return out;
}

json runView(const RunRecord& r) {
  auto time = [](int64_t ns) { return ns > 0 ? json(isoTime(ns)) : json(nullptr); };
  json j{{"id", r.id},
         {"state", toString(r.state)},
         {"reason", r.reason},
         {"message", r.message},
         {"nodes", r.nodes},
         {"labels", r.labels},
         {"sweep", r.sweepId.empty() ? json(nullptr) : json(r.sweepId)},
         {"cached", r.cached},
         {"cached_from", r.cachedFrom.empty() ? json(nullptr) : json(r.cachedFrom)},
         {"attempts", r.attempts},
         {"identity", r.identity},
         {"created", time(r.createdNs)},
         {"started", time(r.startedNs)},
         {"finished", time(r.finishedNs)},
         {"wall_limit_s", r.wallLimitSeconds},
         {"set", r.request.value("set", json::array())},
         {"owner", r.owner.empty() ? json(nullptr) : json(r.owner)},
         {"cursor", std::to_string(r.seq)}};
  if (r.sweepIndex >= 0) {
    j["point"] = r.point;
    j["sweep_index"] = r.sweepIndex;
  }
  if (!r.digest.empty()) j["digest"] = r.digest;
  if (!r.summary.is_null()) {
    j["summary"] = r.summary;
    j["progress"] = {{"simulated_time_s", r.summary.value("simulated_time_s", 0.0)},
                     {"events", r.summary.value("events", uint64_t{0})},
                     {"events_per_s", r.summary.value("wall_seconds", 0.0) > 0
                                          ? r.summary.value("events", 0.0) / r.summary.value("wall_seconds", 1.0)
                                          : 0.0}};
  }
  return j;
}

json sweepView(const SweepRecord& s) {
  json j{{"id", s.id},
         {"labels", s.labels},
         {"concurrency", s.concurrency},
         {"cancelled", s.cancelled},
         {"owner", s.owner.empty() ? json(nullptr) : json(s.owner)},
         {"created", isoTime(s.createdNs)}};
  for (const char* part : {"grid", "zip", "random"})
    if (s.request.contains(part)) j[part] = s.request[part];
  return j;
}

Table sweepTable(const SweepRecord&, const std::vector<RunRecord>& runs) {
  Table t;
  std::set<std::string> pointKeys, figureKeys;
  std::vector<std::map<std::string, json>> figures(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    for (const auto& [k, v] : runs[i].point.items()) pointKeys.insert(k);
    if (!runs[i].summary.is_null()) flatten(runs[i].summary, "", figures[i]);
    for (const auto& [k, v] : figures[i]) figureKeys.insert(k);
  }
  t.columns = {"index", "run", "state", "reason", "cached"};
  t.columns.insert(t.columns.end(), pointKeys.begin(), pointKeys.end());
  t.columns.insert(t.columns.end(), figureKeys.begin(), figureKeys.end());
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& r = runs[i];
    std::vector<json> row{r.sweepIndex, r.id, toString(r.state), r.reason, r.cached};
    for (const auto& k : pointKeys) row.push_back(r.point.contains(k) ? r.point[k] : json(nullptr));
    for (const auto& k : figureKeys) {
      auto it = figures[i].find(k);
      row.push_back(it == figures[i].end() ? json(nullptr) : it->second);
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string toCsv(const Table& table) {
  std::string out;
  for (size_t c = 0; c < table.columns.size(); ++c) out += (c ? "," : "") + csvCell(table.columns[c]);
  out += "\r\n";
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + csvCell(row[c]);
    out += "\r\n";
  }
  return out;
}

json toJson(const Table& table, const std::string& sweepId) {
  json rows = json::array();
  for (const auto& row : table.rows) {
    json r = json::object();
    for (size_t c = 0; c < row.size(); ++c) r[table.columns[c]] = row[c];
    rows.push_back(std::move(r));
  }
  return {{"sweep", sweepId}, {"columns", table.columns}, {"rows", rows}};
}

bool plainFileName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

std::string contentTypeOf(const std::string& name) {
  auto ends = [&](const char* ext) {
    const std::string e = ext;
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".json")) return "application/json";
  if (ends(".csv")) return "text/csv; charset=utf-8";
  if (ends(".yaml") || ends(".yml")) return "application/yaml";
  if (ends(".txt") || ends(".log")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

json openApi() {
  json paths = json::object();
  paths["/api/v1/runs"]["post"] = operation(
      "Submit a run: {scenario, set, nodes, id, labels, cache, wall_limit_s}. Idempotent on id. Role: submit.",
      {200, 201, 400, 401, 403, 409, 413}, true);
  paths["/api/v1/runs"]["get"] = operation("List runs (query: state, label=k=v, sweep, limit, after).", {200, 400});
  paths["/api/v1/runs/{id}"]["get"] = operation(
      "A run: state, reason, message, times, progress, summary. ?wait=running|ended&timeout_s=N answers once the "
      "run has started (or ended), or after N seconds (at most 60).",
      {200, 400, 404}, false, {"id"});
  paths["/api/v1/runs/{id}/cancel"]["post"] =
      operation("Cancel a pending or running run. Role: submit (its own runs) or admin.", {202, 401, 403, 404, 409},
                false, {"id"});
  paths["/api/v1/runs/{id}/checkpoint"]["post"] = operation(
      "Take a checkpoint of a running run at its next window start, into its folder's checkpoints/ (a re-queued "
      "run resumes from the latest). 409 when the run is not running or cannot take one (simulation.sync null). "
      "Role: submit (its own runs) or admin.",
      {202, 401, 403, 404, 409}, false, {"id"});
  paths["/api/v1/runs/{id}/logs"]["get"] = operation("The run's log (text).", {200, 404}, false, {"id"});
  paths["/api/v1/runs/{id}/files"]["get"] = operation("The files of the run's results folder.", {200, 404}, false, {"id"});
  paths["/api/v1/runs/{id}/files/{name}"]["get"] =
      operation("One file of the results folder (summary.json, results.json, requests.csv, ...).", {200, 400, 404}, false,
                {"id", "name"});
  paths["/api/v1/sweeps"]["post"] = operation(
      "Submit a sweep: a run submission plus grid, zip or random over --set keys, and concurrency. Role: submit.",
      {200, 201, 400, 401, 403, 409, 413}, true);
  paths["/api/v1/sweeps"]["get"] = operation("List sweeps.", {200});
  paths["/api/v1/sweeps/{id}"]["get"] = operation("A sweep with its runs counted by state.", {200, 404}, false, {"id"});
  paths["/api/v1/sweeps/{id}/table"]["get"] = operation(
      "One row per point: the varied keys and every summary.json figure (JSON, or CSV with Accept: text/csv).",
      {200, 404}, false, {"id"});
  paths["/api/v1/sweeps/{id}/cancel"]["post"] = operation(
      "Cancel a sweep's pending and running points. Role: submit (its own sweeps) or admin.", {202, 401, 403, 404}, false,
      {"id"});
  paths["/api/v1/nodes"]["get"] = operation("Registered nodes: capacity, state, the run each is in.", {200});
  paths["/api/v1/nodes/{name}/remove"]["post"] = operation(
      "Tell an idle node to exit and drop it from the pool (409 while it is in a run). Role: admin.",
      {202, 401, 403, 404, 409}, false, {"name"});
  paths["/api/v1/openapi.json"]["get"] = operation("This document.", {200});
  paths["/healthz"]["get"] = operation("Liveness.", {200});
  paths["/readyz"]["get"] = operation("Readiness: the job store answers and the control socket is bound.", {200});
  paths["/metrics"]["get"] = operation("Prometheus metrics (docs/metrics.md).", {200});
  paths["/api/v1/runs/{id}/live"]["get"] = operation(
      "A run's live view: progress, one point per epoch of simulated time (throughput, latency, KV occupancy) and "
      "the wafer (die busy, link utilization) over the last epoch (docs/metrics.md).",
      {200, 404}, false, {"id"});
  paths["/api/v1/prometheus/targets"]["get"] =
      operation("Prometheus HTTP service discovery: the pool nodes that serve /metrics.", {200});
  paths["/"]["get"] = operation("The live page (HTML); 503 when it was not built (web/).", {200, 503});
  paths["/static/{name}"]["get"] =
      operation("The live page's scripts and styles, by plain file name.", {200, 404, 503}, false, {"name"});
  json security = {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}};
  return {{"openapi", "3.0.3"},
          {"components", {{"securitySchemes", security}}},
          {"info",
           {{"title", "wafersim coordinator API"},
            {"version", "1"},
            {"description", "Runs and sweeps of wafersim scenarios on a node pool (docs/service.md)."}}},
          {"paths", paths}};
}

}  // namespace wafersim::api
