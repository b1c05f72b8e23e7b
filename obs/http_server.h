// The HTTP/1.1 server of every wafersim process (Boost.Beast on Boost.Asio): the coordinator's API
// and page, and /metrics everywhere. A Router of (method, pattern) routes with path parameters, and
// a Server that accepts connections on a pool of threads.
//
// Contract:
//   - Handlers run on the server's threads, concurrently; they must be thread-safe.
//   - dispatch() never throws: an unknown path is 404, a known path with another method 405 (with
//     an Allow header), a wafersim::Error thrown by a handler maps by kind (InvalidConfig 400,
//     Overloaded 503, Disconnected 502, Unimplemented 501, Internal 500), any other exception 500.
//     Every error body is JSON: {"error": {"status": 404, "code": "not_found", "message": "..."}}.
//   - A request whose body exceeds ServerOptions::maxBodyBytes gets 413 and the connection is
//     closed; a malformed request line or header gets 400; neither stops the server.
//   - With ServerOptions::rateLimit set, a client over its rate gets 429 "too_many_requests" with a
//     Retry-After header, before its request is routed; the connection stays open.
//   - Path parameters never contain '/' once decoded ("%2F" in a segment is refused with 400), so
//     a {name} can be checked as a plain file name by the handler.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "obs/rate_limiter.h"

namespace wafersim::http {

struct Request {
  std::string method;                         // "GET", "POST", ...
  std::string target;                         // as received: "/api/v1/runs?state=RUNNING"
  std::string path;                           // percent-decoded path without the query
  std::map<std::string, std::string> query;   // percent-decoded query parameters (last one wins)
  std::map<std::string, std::string> headers; // names lower-cased
  std::map<std::string, std::string> params;  // path parameters of the matched route
  std::string route;                          // the matched route's pattern ("/api/v1/runs/{id}"), or ""
  std::string body;
  std::string remote;                         // "127.0.0.1:53122"

  // The header's value, or "" (name is case-insensitive).
  std::string header(std::string_view name) const;
  // The path parameter (throws Error{Internal} if the route has none of that name).
  const std::string& param(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static Response json(int status, const nlohmann::json& body);
  static Response text(int status, std::string body, std::string contentType = "text/plain; charset=utf-8");
  // {"error": {"status": status, "code": code, "message": message}}
  static Response error(int status, std::string_view code, std::string_view message);
};

using Handler = std::function<Response(const Request&)>;

class Router {
 public:
  // `pattern`: "/api/v1/runs/{id}/files/{name}"; a {param} matches one non-empty path segment.
  // Literal segments win over parameters when both match.
  void add(const std::string& method, const std::string& pattern, Handler handler);
  // Matches, fills request.params and runs the handler; never throws (see the contract above).
  Response dispatch(Request& request) const;
  // Every (method, pattern) registered, in registration order (the OpenAPI test reads it).
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // "0.0.0.0" for every interface
  uint16_t port = 0;               // 0: an ephemeral port (see Server::port())
  size_t maxBodyBytes = 8u << 20;  // larger bodies: 413
  unsigned threads = 4;
  std::chrono::milliseconds idleTimeout{30000};  // a connection silent this long is closed
  // Requests per client address (rate_limiter.h); a request over it gets 429 with Retry-After,
  // before routing. Off by default.
  RateLimit rateLimit;
  // Called after every request with (request, response status, seconds taken); may be empty.
  std::function<void(const Request&, int status, double seconds)> onRequest;
};

class Server {
 public:
  // Binds and listens (throws Error{InvalidConfig} naming the address if it cannot).
  Server(ServerOptions options, Router router);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:PORT"
  void start();             // starts the threads; returns at once
  void stop();              // stops accepting, closes connections, joins the threads

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "%2e%2E" -> "..": decodes %XX and, in queries, '+' as space. Throws Error{InvalidConfig} on a
// bad escape or a decoded NUL byte.
std::string percentDecode(std::string_view text, bool plusIsSpace = false);

}  // namespace wafersim::http
