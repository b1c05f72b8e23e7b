// Helpers for the service tests: an embedded service on loopback (real wafersim-node and
// wafersim-placement processes), JSON calls to it, and bounded waits on run states.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <algorithm>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "coordinator/embedded_service.h"
#include "coordinator/http_client.h"
#include "tests/support.h"

namespace wafersim::testing {

inline std::string binaryDir() { return WAFERSIM_BINARY_DIR; }

inline void useBuildTreeBinaries() {
  ::setenv("WAFERSIM_NODE_BINARY", (binaryDir() + "/nodes/wafersim-node").c_str(), 1);
  ::setenv("WAFERSIM_PLACEMENT_BINARY", (binaryDir() + "/placement/wafersim-placement").c_str(), 1);
}

// The services the tests start take this admin token (docs/security.md), and call() sends it
// unless the call names its own Authorization header ("" for none).
inline const std::string kAdminToken = "test-admin-token-0123456789";

// For tests that start `wafersim serve` or `wafersim-coordinator` processes and run `wafersim`
// clients: those processes take the test's admin token from the environment they inherit.
inline void useTestToken() {
  ::setenv("WAFERSIM_API_TOKENS", ("admin tester " + kAdminToken).c_str(), 1);
  ::setenv("WAFERSIM_TOKEN", kAdminToken.c_str(), 1);
}

inline ServiceOptions serviceOptions(const std::filesystem::path& data) {
  ServiceOptions o;
  o.access.environment = "admin tester " + kAdminToken;
  o.rateLimit = {};  // tests call as fast as they like; the rate limit has its own test
  o.dataDir = data.string();
  o.httpHost = "127.0.0.1";
  o.httpPort = 0;
  o.control = "tcp://127.0.0.1:*";
  o.heartbeatTimeoutMs = 2000;
  return o;
}

struct Reply {
  int status = 0;
  nlohmann::json body;
  std::string text;
};

inline Reply call(const std::string& url, const std::string& method, const std::string& target,
                  const std::string& body = "", std::map<std::string, std::string> headers = {}) {
  http::ClientRequest request;
  request.method = method;
  request.target = target;
  request.body = body;
  if (!headers.count("Authorization")) headers["Authorization"] = "Bearer " + kAdminToken;
  if (headers["Authorization"].empty()) headers.erase("Authorization");
  request.headers = std::move(headers);
  const http::ClientResponse response = http::request(url, request);
  Reply r;
  r.status = response.status;
  r.text = response.body;
  r.body = nlohmann::json::parse(response.body, nullptr, false);
  return r;
}

inline Reply post(const std::string& url, const std::string& target, const nlohmann::json& body) {
  return call(url, "POST", target, body.dump());
}

// Waits on the service for the run to start ("running") or end ("ended"), at most `seconds`.
inline nlohmann::json waitFor(const std::string& url, const std::string& id, const std::string& what,
                              double seconds = 60) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  nlohmann::json run;
  while (std::chrono::steady_clock::now() < until) {
    const double left = std::chrono::duration<double>(until - std::chrono::steady_clock::now()).count();
    const int slice = std::max(1, std::min(20, static_cast<int>(left)));  // under the client's 30 s timeout
    run = call(url, "GET", "/api/v1/runs/" + id + "?wait=" + what + "&timeout_s=" + std::to_string(slice)).body;
    const std::string state = run.value("state", "");
    if (state != "PENDING" && (what == "running" || state != "RUNNING")) return run;
  }
  ADD_FAILURE() << "run " << id << " did not get " << what << " in " << seconds << " s; last: " << run.dump();
  return run;
}

inline nlohmann::json waitForEnd(const std::string& url, const std::string& id, double seconds = 60) {
  return waitFor(url, id, "ended", seconds);
}

// A PHOLD scenario: `end` of simulated time (a few microseconds run in milliseconds; "1 s" runs
// for far longer than any test).
inline std::string phold(const std::string& end, int lps = 16) {
  return "model: phold\nparams: {lps: " + std::to_string(lps) + ", lookahead: 100 ps, mean: 900 ps}\n" +
         "simulation: {end: " + end + ", seed: 1}\n";
}

}  // namespace wafersim::testing
