// The coordinator API's wire forms: request bodies read and checked, records shown as JSON, sweep
// tables, the OpenAPI document. Pure functions of their inputs (service.cc does the work), so each
// is tested on its own. Every error names the field: 'body.nodes: expected an integer from 1 to 256'.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "obs/http_server.h"
#include "coordinator/job_store.h"

namespace wafersim::api {

// Thrown by handlers for an id that names nothing; guarded() turns it into a 404.
struct NotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};
http::Handler guarded(http::Handler handler);

// {"error": {"status": 400, "code": "invalid_scenario", "message": "..."}}
nlohmann::json errorBody(int status, const std::string& code, const std::string& message);

// POST /api/v1/runs: {"scenario": YAML text or a JSON object, "set": ["k=v", ...], "nodes": N,
// "id": "...", "labels": {"k": "v"}, "cache": true, "wall_limit_s": 0}
struct RunSubmission {
  std::string scenarioText;
  std::vector<std::string> overrides;
  uint32_t nodes = 1;
  std::string id;                 // "" when the client gave none
  nlohmann::json labels = nlohmann::json::object();
  bool cache = true;
  double wallLimitSeconds = 0;
  nlohmann::json request;         // what the run record keeps: scenario text, set, nodes
  std::string bodyHash;           // SHA-256 of the body's canonical JSON (idempotency)
};
RunSubmission parseRunSubmission(const std::string& body, uint32_t maxNodes);

// POST /api/v1/sweeps: a run submission's fields plus "grid", "zip", "random" (sweep.h) and
// "concurrency" (points running at once; 0 or absent: no cap).
struct SweepSubmission : RunSubmission {
  nlohmann::json spec = nlohmann::json::object();  // {"grid": ..., "zip": ..., "random": ...}
  uint32_t concurrency = 0;
};
SweepSubmission parseSweepSubmission(const std::string& body, uint32_t maxNodes);

// GET /api/v1/runs query: state, label (k=v), sweep, limit (1..1000), after (a cursor).
RunFilter parseRunFilter(const std::map<std::string, std::string>& query);

nlohmann::json runView(const RunRecord& run);
nlohmann::json sweepView(const SweepRecord& sweep);

// One row per point: index, run, state, reason, cached, the varied keys, then every scalar of the
// point's summary.json flattened to dotted names (serving.tpot.mean_s, ...).
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;  // null where a row has no such figure
};
Table sweepTable(const SweepRecord& sweep, const std::vector<RunRecord>& runs);
std::string toCsv(const Table& table);  // RFC 4180: quoted where needed, CRLF line ends
nlohmann::json toJson(const Table& table, const std::string& sweepId);

// A name with no path in it: [A-Za-z0-9._-], not "." or "..", at most 255 bytes.
bool plainFileName(const std::string& name);
std::string contentTypeOf(const std::string& name);  // by extension


// The OpenAPI 3 document of every route (the test checks it against the router's).
nlohmann::json openApi();

// "2026-12-07T10:11:12.345Z" from ns since the Unix epoch; "" for 0.
std::string isoTime(int64_t ns);

}  // namespace wafersim::api
