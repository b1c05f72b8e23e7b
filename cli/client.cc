#include "cli/client.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/progress.h"

#include "coordinator/http_client.h"
#include "coordinator/run.h"
#include "coordinator/service_api.h"
#include "models/model_catalog.h"
#include "scenario/scenario.h"
#include "sim/error.h"

namespace wafersim::cli {
namespace {

using nlohmann::json;

// Every request carries the token when there is one (reads too: a service may protect them).
void authorize(const ClientOptions& options, http::ClientRequest& request) {
  const std::string token = apiToken(options);
  if (!token.empty()) request.headers["Authorization"] = "Bearer " + token;
}

// A reply's JSON, or an Error carrying the service's own message.
json call(const ClientOptions& options, const std::string& method, const std::string& target, const json& body = nullptr,
          int* status = nullptr) {
  http::ClientRequest request;
  request.method = method;
  request.target = target;
  if (!body.is_null()) request.body = body.dump();
  authorize(options, request);
  const http::ClientResponse response = http::request(serverUrl(options), request);
  if (status) *status = response.status;
  json reply;
  try {
    reply = json::parse(response.body);
  } catch (const json::exception&) {
    if (response.status >= 400)
      fail(ErrorKind::InvalidConfig, "the service answered ", response.status, ": ", response.body);
    return json(response.body);
  }
  if (response.status >= 400) {
    const std::string message = reply.contains("error") ? reply["error"].value("message", response.body) : response.body;
    fail(response.status >= 500 ? ErrorKind::Disconnected : ErrorKind::InvalidConfig, message, " (HTTP ",
         response.status, ")");
  }
  return reply;
}

// "32" -> 32, "1.5" -> 1.5, "true" -> true, anything else a string.
json scalarOf(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  char* end = nullptr;
  const long long i = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0') return i;
  const double d = std::strtod(text.c_str(), &end);
  if (!text.empty() && *end == '\0') return d;
  return text;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, sep);) out.push_back(part);
  return out;
}

std::pair<std::string, std::string> keyValue(const std::string& arg, const char* what) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) fail(ErrorKind::InvalidConfig, what, " \"", arg, "\": expected key=values");
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

// The submission body for a scenario file: its text, and its files by absolute path (the service
// reads them where they are: on this machine, or the cluster's shared storage).
json submission(const SubmitArgs& args) {
  const std::string text = readScenarioFile(args.file);
  std::vector<std::string> overrides = args.overrides;
  {
    ModelCatalog catalog;
    registerBuiltinModels(catalog);
    const Scenario s = parseScenario(text, args.file, args.overrides);
    for (const auto& [key, path] : scenarioFiles(s, catalog))
      if (key.rfind("params.", 0) == 0) overrides.push_back(key + "=" + path);
  }
  json body{{"scenario", text}, {"set", overrides}, {"nodes", args.nodes}};
  if (!args.id.empty()) body["id"] = args.id;
  if (!args.labels.empty()) {
    body["labels"] = json::object();
    for (const auto& l : args.labels) {
      const auto [k, v] = keyValue(l, "--label");
      body["labels"][k] = v;
    }
  }
  if (args.noCache) body["cache"] = false;
  if (args.wallLimitSeconds > 0) body["wall_limit_s"] = args.wallLimitSeconds;
  return body;
}

void printRun(const json& r) {
  std::printf("run %s: %s", r.value("id", "").c_str(), r.value("state", "").c_str());
  if (!r.value("reason", "").empty()) std::printf(" (%s)", r.value("reason", "").c_str());
  if (r.value("cached", false)) std::printf(", from the cache (run %s)", r["cached_from"].get<std::string>().c_str());
  std::printf("\n");
  if (!r.value("message", "").empty()) std::printf("  %s\n", r.value("message", "").c_str());
  if (r.contains("progress"))
    std::printf("  simulated %.6g s, %llu events, %.3g events/s\n", r["progress"].value("simulated_time_s", 0.0),
                static_cast<unsigned long long>(r["progress"].value("events", uint64_t{0})),
                r["progress"].value("events_per_s", 0.0));
  if (r.contains("digest")) std::printf("  digest %s\n", r["digest"].get<std::string>().c_str());
  if (r.contains("summary") && r["summary"].contains("serving")) {
    const json& s = r["summary"]["serving"];
    std::printf("  %.1f tokens/s, TTFT mean %.3f ms, TPOT mean %.3f ms\n", s.value("output_tokens_per_s", 0.0),
                s.contains("ttft") ? s["ttft"].value("mean_s", 0.0) * 1e3 : 0.0,
                s.contains("tpot") ? s["tpot"].value("mean_s", 0.0) * 1e3 : 0.0);
  }
}

// Every file of a run's results folder into outDir; returns how many.
size_t downloadFiles(const ClientOptions& options, const std::string& id, const std::string& outDir) {
  std::filesystem::create_directories(outDir);
  const json files = call(options, "GET", "/api/v1/runs/" + id + "/files");
  size_t count = 0;
  for (const auto& f : files["files"]) {
    const std::string name = f["name"].get<std::string>();
    // The name comes from the server: it must not lead out of the folder.
    if (!api::plainFileName(name)) fail(ErrorKind::InvalidConfig, "the service listed a file named \"", name, "\": not a plain file name");
    http::ClientRequest request;
    request.target = "/api/v1/runs/" + id + "/files/" + name;
    authorize(options, request);
    const http::ClientResponse response = http::request(serverUrl(options), request);
    if (response.status != 200) fail(ErrorKind::Disconnected, "downloading ", name, ": HTTP ", response.status);
    std::ofstream(std::filesystem::path(outDir) / name, std::ios::binary) << response.body;
    ++count;
  }
  return count;
}

bool isSweepId(const ClientOptions& options, const std::string& id) {
  int status = 0;
  try {
    call(options, "GET", "/api/v1/sweeps/" + id, nullptr, &status);
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

std::string serverUrl(const ClientOptions& options) {
  if (!options.server.empty()) return options.server;
  if (const char* env = std::getenv("WAFERSIM_SERVER"); env && *env) return env;
  return "http://127.0.0.1:8080";
}

std::string apiToken(const ClientOptions& options) {
  std::string file = options.tokenFile;
  if (file.empty()) {
    if (const char* env = std::getenv("WAFERSIM_TOKEN"); env && *env) return env;
    if (const char* env = std::getenv("WAFERSIM_TOKEN_FILE"); env && *env) file = env;
  }
  if (file.empty()) return "";
  std::ifstream in(file);
  if (!in) fail(ErrorKind::InvalidConfig, "token file ", file, ": cannot be read");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string word, last;
    while (words >> word) {
      if (last.empty() && word[0] == '#') break;
      last = word;
    }
    if (!last.empty()) return last;
  }
  fail(ErrorKind::InvalidConfig, "token file ", file, ": holds no token");
}

int submit(const ClientOptions& options, const SubmitArgs& args, std::stop_token stop) {
  const json run = call(options, "POST", "/api/v1/runs", submission(args));
  printRun(run);
  if (args.watch) return watch(options, run["id"].get<std::string>(), stop);
  return 0;
}

int sweep(const ClientOptions& options, const SweepArgs& args, std::stop_token stop) {
  json body = submission(args.run);
  for (const auto& g : args.grid) {
    const auto [key, values] = keyValue(g, "--grid");
    for (const auto& v : split(values, ',')) body["grid"][key].push_back(scalarOf(v));
  }
  for (const auto& z : args.zip) {
    const auto [key, values] = keyValue(z, "--zip");
    for (const auto& v : split(values, ',')) body["zip"][key].push_back(scalarOf(v));
  }
  if (args.random > 0) {
    body["random"] = {{"count", args.random}, {"seed", args.seed}};
    for (const auto& r : args.ranges) {
      const auto [key, spec] = keyValue(r, "--range");
      auto parts = split(spec, ':');
      if (parts.size() < 2) fail(ErrorKind::InvalidConfig, "--range \"", r, "\": expected key=low:high[:int][:log]");
      json range{{"low", std::strtod(parts[0].c_str(), nullptr)}, {"high", std::strtod(parts[1].c_str(), nullptr)}};
      for (size_t i = 2; i < parts.size(); ++i) {
        if (parts[i] == "int") range["integer"] = true;
        else if (parts[i] == "log") range["log"] = true;
        else fail(ErrorKind::InvalidConfig, "--range \"", r, "\": unknown flag \"", parts[i], "\" (int, log)");
      }
      body["random"]["ranges"][key] = range;
    }
    for (const auto& c : args.choices) {
      const auto [key, values] = keyValue(c, "--choice");
      for (const auto& v : split(values, ',')) body["random"]["choices"][key].push_back(scalarOf(v));
    }
  }
  if (args.concurrency > 0) body["concurrency"] = args.concurrency;
  const json s = call(options, "POST", "/api/v1/sweeps", body);
  std::printf("sweep %s: %lld points (%lld from the cache)\n", s["id"].get<std::string>().c_str(),
              static_cast<long long>(s.value("points", 0)), static_cast<long long>(s.value("cached", 0)));
  if (!args.run.watch) return 0;
  return watch(options, s["id"].get<std::string>(), stop);
}

int status(const ClientOptions& options, const std::string& id) {
  if (id.empty()) {
    const json list = call(options, "GET", "/api/v1/runs?limit=1000");
    std::printf("%-28s %-10s %-20s %s\n", "RUN", "STATE", "REASON", "CREATED");
    for (const auto& r : list["runs"])
      std::printf("%-28s %-10s %-20s %s\n", r.value("id", "").c_str(), r.value("state", "").c_str(),
                  r.value("reason", "").c_str(), r["created"].is_string() ? r["created"].get<std::string>().c_str() : "");
    return 0;
  }
  if (isSweepId(options, id)) {
    const json s = call(options, "GET", "/api/v1/sweeps/" + id);
    std::printf("sweep %s: %lld points%s\n", id.c_str(), static_cast<long long>(s.value("points", 0)),
                s.value("cancelled", false) ? " (cancelled)" : "");
    for (const auto& [state, n] : s["counts"].items())
      if (n.get<int64_t>() > 0) std::printf("  %-10s %lld\n", state.c_str(), static_cast<long long>(n.get<int64_t>()));
    return 0;
  }
  printRun(call(options, "GET", "/api/v1/runs/" + id));
  return 0;
}

// A run's progress for the terminal bar, from its live view (nothing while it cannot be read).
static std::optional<ProgressFigures> liveFigures(const ClientOptions& options, const std::string& id) {
  try {
    const json live = call(options, "GET", "/api/v1/runs/" + id + "/live");
    const json& p = live["progress"];
    ProgressFigures f;
    f.state = live.value("state", "");
    f.ratio = p.value("ratio", 0.0);
    f.simulatedSeconds = p.value("simulated_s", 0.0);
    if (p.contains("end_s") && p["end_s"].is_number()) f.endSeconds = p["end_s"].get<double>();
    if (p.contains("requests_total") && p["requests_total"].is_number()) {
      f.requestsTotal = p["requests_total"].get<double>();
      f.requestsDone = p.value("requests_done", 0.0);
    }
    f.eventsPerSecond = p.value("events_per_s", 0.0);
    f.wallSeconds = p.value("wall_s", 0.0);
    return f;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

int watch(const ClientOptions& options, const std::string& id, std::stop_token stop) {
  const bool isSweep = isSweepId(options, id);
  std::string last;
  std::optional<ProgressReporter> bar;
  while (!stop.stop_requested()) {
    if (isSweep) {
      const json s = call(options, "GET", "/api/v1/sweeps/" + id);
      int64_t open = 0, failed = 0;
      std::string line = "sweep " + id + ":";
      for (const auto& [state, n] : s["counts"].items()) {
        const int64_t v = n.get<int64_t>();
        if (v > 0) line += " " + state + " " + std::to_string(v);
        if (state == "PENDING" || state == "RUNNING") open += v;
        if (state == "FAILED" || state == "TIMED_OUT") failed += v;
      }
      if (line != last) std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      last = line;
      if (open == 0) return failed == 0 ? 0 : 1;
    } else {
      const json r = call(options, "GET", "/api/v1/runs/" + id);
      const std::string state = r.value("state", "");
      // On a terminal: a progress bar from the run's live view; otherwise a line when it changes.
      if (!bar && isatty(STDERR_FILENO)) bar.emplace([&options, id]() { return liveFigures(options, id); }, true);
      std::string line = state;
      if (r.contains("progress")) {
        char ratio[32] = "";
        if (r["progress"].contains("ratio"))
          std::snprintf(ratio, sizeof ratio, " %.1f%%,", r["progress"]["ratio"].get<double>() * 100);
        line += std::string(ratio) + " " + std::to_string(r["progress"].value("events", uint64_t{0})) +
                " events, simulated " + std::to_string(r["progress"].value("simulated_time_s", 0.0)) + " s";
      }
      if (line != last && !bar) {
        if (state == "PENDING" || state == "RUNNING") std::printf("run %s: %s\n", id.c_str(), line.c_str());
        std::fflush(stdout);
      }
      last = line;
      if (state != "PENDING" && state != "RUNNING") {
        if (bar) bar->stop();
        printRun(r);
        return state == "SUCCEEDED" ? 0 : 1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // polling a remote service: no event to wait on
  }
  return 130;
}

int cancel(const ClientOptions& options, const std::string& id) {
  if (isSweepId(options, id)) {
    call(options, "POST", "/api/v1/sweeps/" + id + "/cancel");
    std::printf("sweep %s: cancelled\n", id.c_str());
    return 0;
  }
  printRun(call(options, "POST", "/api/v1/runs/" + id + "/cancel"));
  return 0;
}

int checkpoint(const ClientOptions& options, const std::string& id) {
  call(options, "POST", "/api/v1/runs/" + id + "/checkpoint");
  std::printf("run %s: a checkpoint at its next window start was asked for (it lands in its folder's "
              "checkpoints/)\n", id.c_str());
  return 0;
}

int results(const ClientOptions& options, const std::string& id, std::string outDir) {
  const json run = call(options, "GET", "/api/v1/runs/" + id);
  if (run.value("state", "") != "SUCCEEDED")
    fail(ErrorKind::InvalidConfig, "run ", id, " is ", run.value("state", ""), ", not SUCCEEDED: no results");
  if (outDir.empty()) outDir = "runs/" + id;
  const size_t count = downloadFiles(options, id, outDir);
  printRun(run);
  std::printf("  %zu files written to %s/\n", count, outDir.c_str());
  return 0;
}

std::vector<std::string> downloadSweepRuns(const ClientOptions& options, const std::string& sweepId,
                                           const std::string& dir) {
  const json t = call(options, "GET", "/api/v1/sweeps/" + sweepId + "/table");
  std::vector<std::string> folders;
  size_t skipped = 0;
  for (const auto& row : t["rows"]) {
    if (row.value("state", "") != "SUCCEEDED") {
      ++skipped;
      continue;
    }
    const std::string id = row["run"].get<std::string>();
    const std::filesystem::path folder = std::filesystem::path(dir) / id;
    if (!std::filesystem::exists(folder / "summary.json")) downloadFiles(options, id, folder.string());
    folders.push_back(folder.string());
  }
  if (folders.empty())
    fail(ErrorKind::InvalidConfig, "sweep ", sweepId, " has no SUCCEEDED point to compare (", skipped, " others)");
  std::printf("sweep %s: %zu runs in %s/", sweepId.c_str(), folders.size(), dir.c_str());
  if (skipped) std::printf(" (%zu points not SUCCEEDED left out)", skipped);
  std::printf("\n");
  return folders;
}

int table(const ClientOptions& options, const std::string& sweepId, bool csv) {
  if (csv) {
    http::ClientRequest request;
    request.target = "/api/v1/sweeps/" + sweepId + "/table";
    request.headers["Accept"] = "text/csv";
    authorize(options, request);
    const http::ClientResponse response = http::request(serverUrl(options), request);
    if (response.status != 200) fail(ErrorKind::InvalidConfig, "HTTP ", response.status, ": ", response.body);
    std::fwrite(response.body.data(), 1, response.body.size(), stdout);
    return 0;
  }
  const json t = call(options, "GET", "/api/v1/sweeps/" + sweepId + "/table");
  // The varied keys and the headline figures, aligned; every column is in the CSV.
  std::vector<std::string> columns;
  for (const auto& c : t["columns"]) {
    const std::string name = c.get<std::string>();
    if (name == "index" || name == "state" || name == "cached" || name.rfind("params.", 0) == 0 ||
        name.rfind("simulation.", 0) == 0 || name == "serving.output_tokens_per_s" || name == "serving.tpot.mean_s" ||
        name == "serving.ttft.mean_s" || name == "events" || name == "wall_seconds")
      columns.push_back(name);
  }
  for (const auto& c : columns) std::printf("%-*s ", static_cast<int>(std::max<size_t>(c.size(), 10)), c.c_str());
  std::printf("\n");
  for (const auto& row : t["rows"]) {
    for (const auto& c : columns) {
      const json& v = row[c];
      const std::string text = v.is_null() ? "-" : v.is_string() ? v.get<std::string>() : v.dump();
      std::printf("%-*s ", static_cast<int>(std::max<size_t>(c.size(), 10)), text.c_str());
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace wafersim::cli
