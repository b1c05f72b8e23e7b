// A small blocking HTTP/1.1 client (Boost.Beast) for the `wafersim` CLI, the tests and the
// benchmarks: one request per connection, a bounded time for the whole exchange.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace wafersim::http {

struct ClientResponse {
  int status = 0;
  std::string contentType;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";               // "/api/v1/runs?state=PENDING"
  std::string body;
  std::string contentType = "application/json";
  std::map<std::string, std::string> headers;  // e.g. {"Accept", "text/csv"}
  std::chrono::milliseconds timeout{30000};
};

// `baseUrl`: "http://host:port" (a trailing '/' is fine; https is refused with Error{InvalidConfig}).
// Throws Error{Disconnected} naming the server when it cannot connect, or the exchange fails or
// times out; any HTTP status is returned, not thrown.
ClientResponse request(const std::string& baseUrl, const ClientRequest& request);

}  // namespace wafersim::http
