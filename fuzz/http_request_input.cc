// targets.h: http_request. The bytes are what a client sends on a connection: parsed into one
// request by Beast's parser with the server's limits and turned into an http::Request the way
// obs/http_server.cc does (method, target, lower-cased headers joined with ", ", body), then
// dispatched on a router holding every route of the coordinator's API (api::openApi(), so the set
// follows the service's). The routes' handlers run the API's pure request readers (run and sweep
// bodies with the scenario and the sweep expansion, the run filter, file names); an id names
// nothing (404). Bytes the parser refuses are answered 400/413/431 by the server without
// dispatching, so they end here.
//
// Findings besides crashes: a 5xx answer (an exception the API should have mapped to 4xx), an
// answer with a status outside 200..599, a JSON answer whose body is not JSON, a 405 without Allow.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "coordinator/service_api.h"
#include "coordinator/sweep.h"
#include "fuzz/rejections.h"
#include "fuzz/targets.h"
#include "obs/http_server.h"
#include "scenario/scenario.h"

namespace wafersim::fuzz {

namespace {
namespace bhttp = boost::beast::http;
constexpr const char* kTarget = "http_request";
constexpr uint32_t kMaxNodes = 256;        // ServiceOptions::maxNodesPerRun
constexpr size_t kMaxSweepPoints = 10000;  // ServiceOptions::maxSweepPoints
constexpr size_t kHeaderLimitBytes = 64u << 10;
constexpr size_t kMaxBodyBytes = 1u << 20;

http::Response handle(const std::string& method, const std::string& pattern, const http::Request& req) {
  using nlohmann::json;
  if (method == "POST" && pattern == "/api/v1/runs") {
    const api::RunSubmission sub = api::parseRunSubmission(req.body, kMaxNodes);
    parseScenario(sub.scenarioText, "scenario", sub.overrides);
    return http::Response::json(201, {{"id", sub.id}});
  }
  if (method == "POST" && pattern == "/api/v1/sweeps") {
    const api::SweepSubmission sub = api::parseSweepSubmission(req.body, kMaxNodes);
    const auto points = expandSweep(parseSweepSpec(sub.spec, kMaxSweepPoints));
    return http::Response::json(201, {{"points", points.size()}});
  }
  if (method == "GET" && pattern == "/api/v1/runs") {
    const RunFilter filter = api::parseRunFilter(req.query);
    return http::Response::json(200, {{"runs", json::array()}, {"limit", filter.limit}});
  }
  if (req.params.count("name") && !api::plainFileName(req.param("name")))
    return http::Response::json(400, api::errorBody(400, "invalid_request", "bad file name"));
  if (!req.params.empty()) throw api::NotFound("nothing is named " + req.params.begin()->second);
  return http::Response::json(200, json::object());
}

const http::Router& router() {
  static const http::Router instance = [] {
    http::Router r;
    const nlohmann::json doc = api::openApi();
    for (const auto& path : doc.at("paths").items()) {
      const std::string pattern = path.key();
      for (const auto& operation : path.value().items()) {
        std::string method = operation.key();
        std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
        r.add(method, pattern, api::guarded([method, pattern](const http::Request& req) {
                return handle(method, pattern, req);
              }));
      }
    }
    return r;
  }();
  return instance;
}

std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One request from the bytes, as the server's parser sees a connection's first request.
bool parse(const uint8_t* data, size_t size, http::Request& request) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.header_limit(kHeaderLimitBytes);
  parser.body_limit(kMaxBodyBytes);
  boost::beast::error_code ec;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty() && !parser.is_done()) {
    const size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    rest.remove_prefix(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      break;  // every byte has been offered
    }
    if (ec) return false;
    if (used == 0) break;
  }
  if (!parser.is_done()) return false;  // incomplete: the server would wait for the rest
  auto message = parser.release();
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    std::string& value = request.headers[lowerCase(std::string_view(field.name_string().data(), field.name_string().size()))];
    value += (value.empty() ? "" : ", ") + std::string(field.value());
  }
  request.body = std::move(message.body());
  request.remote = "127.0.0.1:1";
  return true;
}
}  // namespace

void httpRequestInput(const uint8_t* data, size_t size) {
  http::Request request;
  bool parsed = false;
  try {
    parsed = parse(data, size, request);
  } catch (const std::exception& e) {
    throw Finding(std::string(kTarget) + ": the request parser threw " + typeName(e) + ": " + e.what());
  }
  if (!parsed) return;
  const http::Response response = router().dispatch(request);
  const std::string what = request.method + " " + request.target.substr(0, 200);
  if (response.status < 200 || response.status > 599)
    throw Finding(std::string(kTarget) + ": " + what + " answered status " + std::to_string(response.status));
  if (response.status >= 500)
    throw Finding(std::string(kTarget) + ": " + what + " answered " + std::to_string(response.status) + ": " +
                  response.body.substr(0, 500));
  if (response.contentType == "application/json" && !nlohmann::json::accept(response.body))
    throw Finding(std::string(kTarget) + ": " + what + " answered a JSON body that is not JSON");
  if (response.status == 405 &&
      std::none_of(response.headers.begin(), response.headers.end(), [](const auto& h) { return h.first == "Allow"; }))
    throw Finding(std::string(kTarget) + ": " + what + " answered 405 without Allow");
}

}  // namespace wafersim::fuzz
