// The `wafersim` commands that talk to a coordinator service over its HTTP API (docs/service.md):
// submit, sweep, status, watch, cancel, results, table, and the downloads behind compare --sweep.
// Each prints for people and returns the process's exit code; HTTP errors print the service's message.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

namespace wafersim::cli {

struct ClientOptions {
  std::string server;     // "http://host:port"; "" -> WAFERSIM_SERVER, else http://127.0.0.1:8080
  std::string tokenFile;  // the API token (docs/security.md); "" -> WAFERSIM_TOKEN, else WAFERSIM_TOKEN_FILE
};
std::string serverUrl(const ClientOptions& options);
// The bearer token to send, or "" for none. A token file holds the token alone or "ROLE NAME TOKEN"
// lines (the service's own api-tokens file): the first entry's last word. Throws Error{InvalidConfig}
// naming a file that cannot be read or holds no token.
std::string apiToken(const ClientOptions& options);

struct SubmitArgs {
  std::string file;
  std::vector<std::string> overrides;
  uint32_t nodes = 1;
  std::string id;
  std::vector<std::string> labels;  // "k=v"
  bool noCache = false;
  double wallLimitSeconds = 0;
  bool watch = false;
};
int submit(const ClientOptions& options, const SubmitArgs& args, std::stop_token stop);

struct SweepArgs {
  SubmitArgs run;
  std::vector<std::string> grid;     // "key=v1,v2,v3"
  std::vector<std::string> zip;      // "key=v1,v2"
  uint32_t random = 0;               // samples
  uint64_t seed = 1;
  std::vector<std::string> ranges;   // "key=lo:hi" (":int", ":log" suffixes)
  std::vector<std::string> choices;  // "key=a,b,c"
  uint32_t concurrency = 0;
};
int sweep(const ClientOptions& options, const SweepArgs& args, std::stop_token stop);

int status(const ClientOptions& options, const std::string& id);
int watch(const ClientOptions& options, const std::string& id, std::stop_token stop);
int cancel(const ClientOptions& options, const std::string& id);
// POST /api/v1/runs/{id}/checkpoint: a cut of a running run at its next window start.
int checkpoint(const ClientOptions& options, const std::string& id);
int results(const ClientOptions& options, const std::string& id, std::string outDir);
int table(const ClientOptions& options, const std::string& sweepId, bool csv);

// `wafersim compare --sweep ID`: every SUCCEEDED point's results folder, downloaded into
// dir/<run id> (a folder already holding summary.json is kept as it is), in the table's order.
// Throws Error{InvalidConfig} when no point has succeeded.
std::vector<std::string> downloadSweepRuns(const ClientOptions& options, const std::string& sweepId,
                                           const std::string& dir);

}  // namespace wafersim::cli
