// The coordinator's HTTP server and client (obs/http_server.h, http_client.h): a real
// Server on 127.0.0.1, port 0, driven by the client and, where the client cannot produce the
// request (malformed lines, oversized headers, NUL bytes), by raw sockets. No test sleeps: every
// wait is bounded by a client timeout or a socket receive timeout.
#include "obs/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/http_client.h"
#include "sim/error.h"

namespace wafersim::http {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr std::chrono::milliseconds kClientTimeout{10000};

std::unique_ptr<Server> startServer(Router router, ServerOptions options = {}) {
  auto server = std::make_unique<Server>(std::move(options), std::move(router));
  server->start();
  return server;
}

ClientResponse call(const Server& server, const std::string& method, const std::string& target, std::string body = "",
                    std::map<std::string, std::string> headers = {}) {
  ClientRequest request;
  request.method = method;
  request.target = target;
  request.body = std::move(body);
  request.headers = std::move(headers);
  request.timeout = kClientTimeout;
  return http::request(server.url(), request);
}

ClientResponse get(const Server& server, const std::string& target) { return call(server, "GET", target); }

// The "error" object of a JSON error body (and a test failure if the body is not one).
json errorOf(const ClientResponse& response) {
  const json body = json::parse(response.body, nullptr, false);
  EXPECT_TRUE(body.is_object() && body.contains("error")) << response.body;
  if (!body.is_object() || !body.contains("error")) return json::object();
  EXPECT_EQ(body["error"]["status"], response.status);
  return body["error"];
}

// The Error a call throws, or a test failure.
Error errorFrom(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no wafersim::Error thrown";
  return Error(ErrorKind::Internal, "none");
}

// A router every server test shares: echo routes, error routes, literal-vs-param routes.
Router testRouter() {
  Router router;
  router.add("GET", "/", [](const Request&) { return Response::text(200, "root"); });
  router.add("GET", "/api/v1/runs", [](const Request&) { return Response::json(200, {{"route", "list"}}); });
  router.add("POST", "/api/v1/runs", [](const Request& request) {
    return Response::json(201, {{"route", "create"}, {"body", request.body}, {"type", request.header("Content-Type")}});
  });
  router.add("GET", "/api/v1/runs/{id}", [](const Request& request) {
    return Response::json(200, {{"route", "run"}, {"id", request.param("id")}});
  });
  router.add("DELETE", "/api/v1/runs/{id}", [](const Request& request) {
    return Response::json(200, {{"route", "delete"}, {"id", request.param("id")}});
  });
  router.add("GET", "/api/v1/runs/stats", [](const Request&) { return Response::json(200, {{"route", "stats"}}); });
  router.add("POST", "/api/v1/runs/batch", [](const Request&) { return Response::json(200, {{"route", "batch"}}); });
  router.add("GET", "/api/v1/runs/{id}/files/{name}", [](const Request& request) {
    return Response::json(200, {{"route", "file"}, {"id", request.param("id")}, {"name", request.param("name")}});
  });
  router.add("GET", "/a/{x}/c", [](const Request& request) {
    return Response::json(200, {{"route", "x"}, {"x", request.param("x")}});
  });
  router.add("GET", "/a/b/{y}", [](const Request& request) {
    return Response::json(200, {{"route", "y"}, {"y", request.param("y")}});
  });
  router.add("GET", "/echo/{name}", [](const Request& request) {
    return Response::json(200, {{"name", request.param("name")},
                                {"path", request.path},
                                {"target", request.target},
                                {"query", request.query},
                                {"remote", request.remote},
                                {"accept", request.header("ACCEPT")},
                                {"custom", request.headers.count("x-custom") ? request.headers.at("x-custom") : ""}});
  });
  router.add("POST", "/echo",
             [](const Request& request) { return Response::text(200, request.body, "application/octet-stream"); });
  router.add("GET", "/throw/{kind}", [](const Request& request) -> Response {
    const std::string& kind = request.param("kind");
    if (kind == "invalid") fail(ErrorKind::InvalidConfig, "bad key 'x'");
    if (kind == "overloaded") fail(ErrorKind::Overloaded, "queue full");
    if (kind == "disconnected") fail(ErrorKind::Disconnected, "node 3 went away");
    if (kind == "unimplemented") fail(ErrorKind::Unimplemented, "not built");
    if (kind == "internal") fail(ErrorKind::Internal, "a bug");
    if (kind == "missing-param") (void)request.param("nope");
    throw std::runtime_error("plain runtime error");
  });
  router.add("GET", "/empty", [](const Request&) { return Response::text(204, ""); });
  router.add("GET", "/big", [](const Request&) { return Response::text(200, std::string(2u << 20, 'z')); });
  router.add("GET", "/headers", [](const Request&) {
    Response response = Response::text(200, "ok");
    response.headers.emplace_back("X-Run-Id", "r-42");
    return response;
  });
  router.add("HEAD", "/head", [](const Request&) { return Response::text(200, "hello"); });
  return router;
}

// ---- Raw sockets --------------------------------------------------------------------------------

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased
  std::string body;

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A blocking TCP connection to 127.0.0.1:port whose reads and writes give up after 10 s.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const timeval limit{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    const bool connected = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    EXPECT_TRUE(connected) << "cannot connect to port " << port;
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Whether all of `data` was sent (false once the server has closed the connection).
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  // Everything the server sends until it closes the connection.
  std::string readToEnd() {
    std::string out = std::move(pending_);
    pending_.clear();
    char chunk[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return out;
      if (n < 0) {
        if (errno == ECONNRESET) return out;
        ADD_FAILURE() << "the server did not close the connection: " << std::strerror(errno);
        return out;
      }
      out.append(chunk, static_cast<size_t>(n));
    }
  }

  // The next response on the connection (Content-Length framed; none for 204 or `noBody`).
  RawResponse readResponse(bool noBody = false) {
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!receiveMore()) return {};
    }
    RawResponse response = parseHead(pending_.substr(0, end + 4));
    pending_.erase(0, end + 4);
    size_t length = 0;
    if (!noBody && response.headers.count("content-length")) length = std::stoul(response.header("content-length"));
    while (pending_.size() < length) {
      if (!receiveMore()) return {};
    }
    response.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return response;
  }

  // Status line and header fields of `text` ("HTTP/1.1 200 OK\r\nName: value\r\n\r\nbody").
  static RawResponse parseHead(const std::string& text) {
    RawResponse response;
    if (text.rfind("HTTP/1.", 0) != 0 || text.size() < 12) {
      ADD_FAILURE() << "not an HTTP response: '" << text << "'";
      return response;
    }
    response.status = std::stoi(text.substr(9, 3));
    size_t line = text.find("\r\n") + 2;
    for (size_t next; (next = text.find("\r\n", line)) != std::string::npos && next != line; line = next + 2) {
      const std::string field = text.substr(line, next - line);
      const size_t colon = field.find(':');
      std::string name = field.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = field.substr(field.find_first_not_of(' ', colon + 1));
    }
    return response;
  }

 private:
  bool receiveMore() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      ADD_FAILURE() << "connection ended or timed out inside a response";
      return false;
    }
    pending_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string pending_;
};

// Sends `text` on a fresh connection, half-closes it and returns the one response the server
// sends before it closes (its body is what follows the header).
RawResponse rawExchange(uint16_t port, std::string_view text) {
  RawConnection connection(port);
  connection.send(text);
  connection.shutdownWrite();
  const std::string all = connection.readToEnd();
  const size_t end = all.find("\r\n\r\n");
  if (end == std::string::npos) {
    ADD_FAILURE() << "no complete response: '" << all << "'";
    return {};
  }
  RawResponse response = RawConnection::parseHead(all.substr(0, end + 4));
  response.body = all.substr(end + 4);
  return response;
}

json rawErrorOf(const RawResponse& response) {
  const json body = json::parse(response.body, nullptr, false);
  EXPECT_TRUE(body.is_object() && body.contains("error")) << response.body;
  if (!body.is_object() || !body.contains("error")) return json::object();
  EXPECT_EQ(body["error"]["status"], response.status);
  EXPECT_EQ(response.headers.at("content-type"), "application/json");
  return body["error"];
}

void expectStillServing(const Server& server) {
  const ClientResponse response = get(server, "/api/v1/runs/7");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body)["id"], "7");
}

// ---- percentDecode, Router without a server -----------------------------------------------------

TEST(PercentDecode, DecodesEscapesAndOptionallyPlus) {
  EXPECT_EQ(percentDecode("%2e%2E"), "..");
  EXPECT_EQ(percentDecode("a%20b+c"), "a b+c");
  EXPECT_EQ(percentDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(percentDecode("caf%C3%A9"), "caf\xC3\xA9");
  EXPECT_EQ(percentDecode(""), "");
}

TEST(PercentDecode, RefusesBadEscapesAndNul) {
  for (const char* bad : {"%", "%2", "a%zz", "%g0", "%00", "x%00y"}) {
    const Error e = errorFrom([&] { percentDecode(bad); });
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig) << bad;
  }
}

TEST(Router, ListsRoutesInRegistrationOrder) {
  Router router;
  router.add("GET", "/b", [](const Request&) { return Response::text(200, ""); });
  router.add("POST", "/a/{id}", [](const Request&) { return Response::text(200, ""); });
  EXPECT_THAT(router.routes(), ElementsAre(Pair("GET", "/b"), Pair("POST", "/a/{id}")));
}

TEST(Router, RefusesDuplicateAndMalformedPatterns) {
  Router router;
  const Handler ok = [](const Request&) { return Response::text(200, ""); };
  router.add("GET", "/runs/{id}", ok);
  EXPECT_EQ(errorFrom([&] { router.add("GET", "/runs/{name}", ok); }).kind(), ErrorKind::Internal);
  EXPECT_EQ(errorFrom([&] { router.add("GET", "runs", ok); }).kind(), ErrorKind::Internal);
  EXPECT_EQ(errorFrom([&] { router.add("GET", "/runs/{}", ok); }).kind(), ErrorKind::Internal);
  EXPECT_EQ(errorFrom([&] { router.add("GET", "/x/{a}/{a}", ok); }).kind(), ErrorKind::Internal);
  router.add("PUT", "/runs/{name}", ok);  // another method on the same shape is fine
}

TEST(Router, DispatchesWithoutAServer) {
  const Router router = testRouter();
  Request request;
  request.method = "GET";
  request.target = "/api/v1/runs/r%201/files/out.csv?x=1";
  const Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(request.path, "/api/v1/runs/r 1/files/out.csv");
  EXPECT_EQ(request.param("id"), "r 1");
  EXPECT_EQ(request.query.at("x"), "1");
  EXPECT_EQ(errorFrom([&] { request.param("nope"); }).kind(), ErrorKind::Internal);

  Request byPath;  // no target: the path is taken as already decoded
  byPath.method = "GET";
  byPath.path = "/api/v1/runs/stats";
  EXPECT_EQ(json::parse(router.dispatch(byPath).body)["route"], "stats");
}

TEST(Response, ErrorBodyShape) {
  const Response response = Response::error(404, "not_found", "no such run");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.contentType, "application/json");
  EXPECT_EQ(json::parse(response.body),
            json::parse(R"({"error":{"status":404,"code":"not_found","message":"no such run"}})"));
}

// ---- Routing through the server -----------------------------------------------------------------

TEST(HttpServer, RoutesWithParameters) {
  const auto server = startServer(testRouter());
  const ClientResponse response = get(*server, "/api/v1/runs/r-17/files/latency.csv");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.contentType, "application/json");
  EXPECT_EQ(response.headers.at("server"), "wafersim");
  EXPECT_EQ(response.headers.at("content-length"), std::to_string(response.body.size()));
  EXPECT_EQ(json::parse(response.body), json({{"route", "file"}, {"id", "r-17"}, {"name", "latency.csv"}}));
}

TEST(HttpServer, LiteralSegmentsBeatParameters) {
  const auto server = startServer(testRouter());
  EXPECT_EQ(json::parse(get(*server, "/api/v1/runs/stats").body)["route"], "stats");
  EXPECT_EQ(json::parse(get(*server, "/api/v1/runs/other").body)["route"], "run");
  // "/a/b/c" matches both "/a/{x}/c" and "/a/b/{y}": the literal 'b' decides at the first difference.
  EXPECT_EQ(json::parse(get(*server, "/a/b/c").body), json({{"route", "y"}, {"y", "c"}}));
  EXPECT_EQ(json::parse(get(*server, "/a/q/c").body), json({{"route", "x"}, {"x", "q"}}));
  // The most specific pattern names the resource: GET on the literal "batch" (POST only) is 405,
  // not the {id} route.
  const ClientResponse batch = get(*server, "/api/v1/runs/batch");
  EXPECT_EQ(batch.status, 405);
  EXPECT_EQ(batch.headers.at("allow"), "POST");
}

TEST(HttpServer, TrailingSlashIsTolerated) {
  const auto server = startServer(testRouter());
  EXPECT_EQ(json::parse(get(*server, "/api/v1/runs/").body)["route"], "list");
  EXPECT_EQ(json::parse(get(*server, "/api/v1/runs/9/").body)["id"], "9");
  EXPECT_EQ(get(*server, "/").body, "root");
  EXPECT_EQ(get(*server, "/api/v1/runs//").status, 404);  // an empty segment matches no {param}
}

TEST(HttpServer, UnknownPathIs404) {
  const auto server = startServer(testRouter());
  const ClientResponse response = get(*server, "/api/v2/nothing");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.contentType, "application/json");
  const json error = errorOf(response);
  EXPECT_EQ(error["code"], "not_found");
  EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("/api/v2/nothing"));
}

TEST(HttpServer, OtherMethodIs405WithAllow) {
  const auto server = startServer(testRouter());
  const ClientResponse put = call(*server, "PUT", "/api/v1/runs");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.headers.at("allow"), "GET, POST");
  EXPECT_EQ(errorOf(put)["code"], "method_not_allowed");
  const ClientResponse head = call(*server, "HEAD", "/api/v1/runs/3");
  EXPECT_EQ(head.status, 405);
  EXPECT_EQ(head.headers.at("allow"), "GET, DELETE");
  EXPECT_EQ(json::parse(call(*server, "DELETE", "/api/v1/runs/3").body)["route"], "delete");
}

TEST(HttpServer, HandlerErrorsMapByKind) {
  const auto server = startServer(testRouter());
  struct Case {
    const char* kind;
    int status;
    const char* code;
    const char* message;
  };
  for (const Case& c :
       {Case{"invalid", 400, "invalid_request", "bad key 'x'"}, Case{"overloaded", 503, "overloaded", "queue full"},
        Case{"disconnected", 502, "bad_gateway", "node 3 went away"},
        Case{"unimplemented", 501, "not_implemented", "not built"}, Case{"internal", 500, "internal", "a bug"},
        Case{"missing-param", 500, "internal", "no parameter {nope}"},
        Case{"runtime", 500, "internal", "plain runtime error"}}) {
    const ClientResponse response = get(*server, std::string("/throw/") + c.kind);
    EXPECT_EQ(response.status, c.status) << c.kind;
    EXPECT_EQ(response.contentType, "application/json") << c.kind;
    const json error = errorOf(response);
    EXPECT_EQ(error["code"], c.code) << c.kind;
    EXPECT_THAT(error["message"].get<std::string>(), HasSubstr(c.message)) << c.kind;
  }
  expectStillServing(*server);
}

TEST(HttpServer, DecodesPathAndQuery) {
  const auto server = startServer(testRouter());
  const ClientResponse response =
      get(*server, "/echo/a%20b+c?name=a+b%2Bc&empty=&flag&x=1&x=2&caf%C3%A9=%E2%82%AC&&sp%20ace=1");
  ASSERT_EQ(response.status, 200);
  const json body = json::parse(response.body);
  EXPECT_EQ(body["name"], "a b+c");  // '+' is a space only in the query
  EXPECT_EQ(body["path"], "/echo/a b+c");
  EXPECT_EQ(body["target"], "/echo/a%20b+c?name=a+b%2Bc&empty=&flag&x=1&x=2&caf%C3%A9=%E2%82%AC&&sp%20ace=1");
  EXPECT_EQ(body["query"], json({{"name", "a b+c"},
                                 {"empty", ""},
                                 {"flag", ""},
                                 {"x", "2"},
                                 {"caf\xC3\xA9", "\xE2\x82\xAC"},
                                 {"sp ace", "1"}}));
  EXPECT_THAT(body["remote"].get<std::string>(), HasSubstr("127.0.0.1:"));

  const ClientResponse bad = get(*server, "/echo/x?q=%zz");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(errorOf(bad)["code"], "bad_request");
}

TEST(HttpServer, HeadersAndBodies) {
  const auto server = startServer(testRouter());
  const ClientResponse echoed =
      call(*server, "GET", "/echo/h", "", {{"Accept", "text/csv"}, {"X-Custom", "Value With Case"}});
  const json body = json::parse(echoed.body);
  EXPECT_EQ(body["accept"], "text/csv");
  EXPECT_EQ(body["custom"], "Value With Case");

  const ClientResponse created = call(*server, "POST", "/api/v1/runs", R"({"scenario":"s.yaml"})");
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(json::parse(created.body),
            json({{"route", "create"}, {"body", R"({"scenario":"s.yaml"})"}, {"type", "application/json"}}));

  std::string binary(100000, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 7);
  const ClientResponse echo = call(*server, "POST", "/echo", binary);
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.contentType, "application/octet-stream");
  EXPECT_EQ(echo.body, binary);

  const ClientResponse big = get(*server, "/big");
  EXPECT_EQ(big.body, std::string(2u << 20, 'z'));

  const ClientResponse extra = get(*server, "/headers");
  EXPECT_EQ(extra.headers.at("x-run-id"), "r-42");
  EXPECT_EQ(extra.contentType, "text/plain; charset=utf-8");

  const ClientResponse empty = get(*server, "/empty");
  EXPECT_EQ(empty.status, 204);
  EXPECT_EQ(empty.body, "");
  EXPECT_EQ(empty.headers.count("content-length"), 0u);
}

TEST(HttpServer, OnRequestSeesEveryRequest) {
  std::mutex mutex;
  std::vector<std::pair<std::string, int>> seen;
  ServerOptions options;
  options.onRequest = [&](const Request& request, int status, double seconds) {
    EXPECT_GE(seconds, 0.0);
    std::lock_guard lock(mutex);
    seen.emplace_back(request.method + " " + request.path, status);
  };
  const auto server = startServer(testRouter(), options);
  get(*server, "/api/v1/runs/5");
  get(*server, "/missing");
  call(*server, "PUT", "/api/v1/runs");
  // Called before the response is written, so all three are recorded once the client has them.
  std::lock_guard lock(mutex);
  EXPECT_THAT(seen,
              ElementsAre(Pair("GET /api/v1/runs/5", 200), Pair("GET /missing", 404), Pair("PUT /api/v1/runs", 405)));
}

// ---- Bad requests (raw sockets) -----------------------------------------------------------------

TEST(HttpServer, MalformedRequestLineIs400) {
  const auto server = startServer(testRouter());
  for (const char* text : {"GARBAGE\r\n\r\n", "GET /x HTTP/9.9\r\n\r\n", "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
                           "GET /x HTTP/1.1\r\nContent-Length: nope\r\n\r\n"}) {
    const RawResponse response = rawExchange(server->port(), text);
    EXPECT_EQ(response.status, 400) << text;
    EXPECT_EQ(response.header("connection"), "close") << text;
    EXPECT_EQ(rawErrorOf(response)["code"], "bad_request") << text;
    expectStillServing(*server);
  }
}

TEST(HttpServer, OversizedHeaderIs431) {
  const auto server = startServer(testRouter());
  const std::string text = "GET /api/v1/runs HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'h') + "\r\n\r\n";
  const RawResponse response = rawExchange(server->port(), text);
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(rawErrorOf(response)["code"], "headers_too_large");
  expectStillServing(*server);
}

TEST(HttpServer, OversizedBodyIs413AndClosed) {
  ServerOptions options;
  options.maxBodyBytes = 1024;
  const auto server = startServer(testRouter(), options);

  // Refused from the Content-Length alone, before the body arrives.
  const RawResponse declared = rawExchange(
      server->port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + std::string(5000, 'b'));
  EXPECT_EQ(declared.status, 413);
  EXPECT_EQ(declared.header("connection"), "close");
  EXPECT_EQ(rawErrorOf(declared)["code"], "payload_too_large");

  // A chunked body is refused once it grows past the limit.
  const RawResponse chunked =
      rawExchange(server->port(), "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                                      std::string(2048, 'c') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 413);

  // The client, still sending a 4 MiB body, reads the 413 rather than a reset.
  const ClientResponse viaClient = call(*server, "POST", "/echo", std::string(4u << 20, 'q'));
  EXPECT_EQ(viaClient.status, 413);
  EXPECT_EQ(errorOf(viaClient)["code"], "payload_too_large");

  EXPECT_EQ(call(*server, "POST", "/echo", std::string(1024, 'k')).status, 200);  // at the limit
  expectStillServing(*server);
}

TEST(HttpServer, RefusesSegmentsThatAreNotPlainNames) {
  const auto server = startServer(testRouter());
  for (const char* target : {"/api/v1/runs/a%2Fb", "/api/v1/runs/a%2fb/files/x", "/api/v1/runs/..",
                             "/api/v1/runs/%2e%2E", "/api/v1/runs/.", "/api/v1/runs/1/files/%00", "/api/v1/runs/%zz"}) {
    const RawResponse response =
        rawExchange(server->port(), "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(response.status, 400) << target;
    EXPECT_EQ(rawErrorOf(response)["code"], "bad_request") << target;
  }
  // A raw NUL byte in the target is a malformed request line.
  const RawResponse nul =
      rawExchange(server->port(), std::string("GET /api/v1/runs/a\0b HTTP/1.1\r\nHost: x\r\n\r\n", 40));
  EXPECT_EQ(nul.status, 400);
  // Not a path at all.
  EXPECT_EQ(rawExchange(server->port(), "GET * HTTP/1.1\r\nHost: x\r\n\r\n").status, 400);
  expectStillServing(*server);
}

// ---- Connections --------------------------------------------------------------------------------

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  const auto server = startServer(testRouter());
  RawConnection connection(server->port());
  ASSERT_TRUE(connection.send("GET /echo/one HTTP/1.1\r\nHost: x\r\n\r\n"));
  const RawResponse first = connection.readResponse();
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.count("connection"), 0u);  // HTTP/1.1 keeps the connection by default
  ASSERT_TRUE(connection.send("GET /echo/two HTTP/1.1\r\nHost: x\r\n\r\n"));
  const RawResponse second = connection.readResponse();
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(json::parse(first.body)["remote"], json::parse(second.body)["remote"]);  // one connection
  EXPECT_EQ(json::parse(second.body)["name"], "two");

  // Pipelined: two requests in one write, answered in order; then a 404, a 204 and a HEAD, which
  // leave the connection usable.
  ASSERT_TRUE(connection.send("GET /echo/three HTTP/1.1\r\nHost: x\r\n\r\nGET /echo/four HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(json::parse(connection.readResponse().body)["name"], "three");
  EXPECT_EQ(json::parse(connection.readResponse().body)["name"], "four");
  ASSERT_TRUE(connection.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /empty HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(connection.readResponse().status, 404);
  EXPECT_EQ(connection.readResponse().status, 204);
  ASSERT_TRUE(connection.send("HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n"));
  const RawResponse head = connection.readResponse(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "5");

  // Connection: close is honoured.
  ASSERT_TRUE(connection.send("GET /echo/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const RawResponse last = connection.readResponse();
  EXPECT_EQ(last.header("connection"), "close");
  EXPECT_EQ(json::parse(last.body)["name"], "last");
  EXPECT_EQ(connection.readToEnd(), "");
}

TEST(HttpServer, Http10ClosesUnlessAskedToKeepAlive) {
  const auto server = startServer(testRouter());
  RawConnection connection(server->port());
  ASSERT_TRUE(connection.send("GET /api/v1/runs/1 HTTP/1.0\r\n\r\n"));
  const std::string all = connection.readToEnd();
  EXPECT_THAT(all, HasSubstr("HTTP/1.0 200"));
  EXPECT_THAT(all, HasSubstr("\"id\":\"1\""));
}

TEST(HttpServer, AnswersExpect100Continue) {
  const auto server = startServer(testRouter());
  RawConnection connection(server->port());
  ASSERT_TRUE(connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_EQ(connection.readResponse().status, 100);
  ASSERT_TRUE(connection.send("hello"));
  const RawResponse response = connection.readResponse();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
}

TEST(HttpServer, ClosesIdleConnections) {
  ServerOptions options;
  options.idleTimeout = std::chrono::milliseconds(200);
  const auto server = startServer(testRouter(), options);
  RawConnection connection(server->port());
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(connection.readToEnd(), "");  // closed by the server, well before the 10 s receive timeout
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(5));
  expectStillServing(*server);
}

TEST(HttpServer, ManyConcurrentClients) {
  std::atomic<int> handled{0};
  Router router;
  router.add("GET", "/work/{client}/{n}", [&](const Request& request) {
    ++handled;
    return Response::json(
        200, {{"client", request.param("client")}, {"n", request.param("n")}, {"q", request.query.at("q")}});
  });
  ServerOptions options;
  options.threads = 4;
  const auto server = startServer(std::move(router), options);
  constexpr int kClients = 32, kRequests = 20;
  std::atomic<int> correct{0};
  std::mutex mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int n = 0; n < kRequests; ++n) {
        try {
          const ClientResponse response =
              get(*server, "/work/" + std::to_string(c) + "/" + std::to_string(n) + "?q=" + std::to_string(c * n));
          const json body = json::parse(response.body);
          if (response.status == 200 &&
              body == json({{"client", std::to_string(c)}, {"n", std::to_string(n)}, {"q", std::to_string(c * n)}}))
            ++correct;
        } catch (const std::exception& e) {
          std::lock_guard lock(mutex);
          failures.push_back(e.what());
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_THAT(failures, ::testing::IsEmpty());
  EXPECT_EQ(correct, kClients * kRequests);
  EXPECT_EQ(handled, kClients * kRequests);
}

TEST(HttpServer, StopTwiceAndCloseConnections) {
  auto server = startServer(testRouter());
  expectStillServing(*server);
  RawConnection idle(server->port());
  ASSERT_TRUE(idle.send("GET /api/v1/runs/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(idle.readResponse().status, 200);  // now an idle keep-alive connection
  const std::string url = server->url();
  server->stop();
  server->stop();
  EXPECT_EQ(idle.readToEnd(), "");  // stop() closed it
  ClientRequest request;
  request.timeout = kClientTimeout;
  EXPECT_EQ(errorFrom([&] { http::request(url, request); }).kind(), ErrorKind::Disconnected);
  server.reset();  // the destructor's stop() after two is fine too

  // A server that was never started stops cleanly.
  Server unstarted(ServerOptions{}, testRouter());
  unstarted.stop();
}

TEST(HttpServer, BindFailureNamesTheAddress) {
  const auto server = startServer(testRouter());
  ServerOptions taken;
  taken.port = server->port();
  const Error e = errorFrom([&] { Server second(taken, testRouter()); });
  EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(e.what(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(server->port()) + ": "));

  ServerOptions noThreads;
  noThreads.threads = 0;
  EXPECT_EQ(errorFrom([&] { Server bad(noThreads, testRouter()); }).kind(), ErrorKind::InvalidConfig);
  expectStillServing(*server);
}

TEST(HttpServer, ListensOnNamesAndWildcards) {
  for (const char* host : {"localhost", "0.0.0.0"}) {
    ServerOptions options;
    options.host = host;
    const auto server = startServer(testRouter(), options);
    EXPECT_THAT(server->url(), ::testing::EndsWith(":" + std::to_string(server->port()))) << host;
    expectStillServing(*server);
  }
  ServerOptions v6;
  v6.host = "::1";
  std::unique_ptr<Server> server;
  try {
    server = startServer(testRouter(), v6);
  } catch (const Error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  EXPECT_EQ(server->url(), "http://[::1]:" + std::to_string(server->port()));
  expectStillServing(*server);
}

// ---- Client -------------------------------------------------------------------------------------

// A socket on 127.0.0.1 with an ephemeral port: listening (connections complete but are never
// accepted or answered) or merely bound (connections are refused).
class SilentSocket {
 public:
  explicit SilentSocket(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = 0;
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    if (listening) {
      EXPECT_EQ(::listen(fd_, 16), 0);
    }
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentSocket() { ::close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(HttpClient, TimesOutAgainstASilentServer) {
  const SilentSocket silent(true);
  ClientRequest request;
  request.target = "/api/v1/runs";
  request.timeout = std::chrono::milliseconds(300);
  const auto begin = std::chrono::steady_clock::now();
  const Error e = errorFrom([&] { http::request(silent.url(), request); });
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_EQ(e.kind(), ErrorKind::Disconnected);
  EXPECT_THAT(e.what(), HasSubstr(silent.url() + "/api/v1/runs"));
  EXPECT_THAT(e.what(), HasSubstr("no answer within 300 ms"));
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(HttpClient, ConnectionRefused) {
  const SilentSocket closed(false);
  ClientRequest request;
  request.timeout = kClientTimeout;
  const Error e = errorFrom([&] { http::request(closed.url(), request); });
  EXPECT_EQ(e.kind(), ErrorKind::Disconnected);
  EXPECT_THAT(e.what(), HasSubstr("cannot connect to " + closed.url()));
  EXPECT_THAT(e.what(), HasSubstr("refused"));
}

TEST(HttpClient, ParsesBaseUrls) {
  const auto server = startServer(testRouter());
  ClientRequest request;
  request.target = "/api/v1/runs/4";
  request.timeout = kClientTimeout;
  EXPECT_EQ(http::request(server->url() + "/", request).status, 200);
  EXPECT_EQ(http::request("HTTP://localhost:" + std::to_string(server->port()), request).status, 200);
  for (const char* bad : {"https://127.0.0.1:1", "ftp://x", "127.0.0.1:80", "http://", "http://h:0", "http://h:99999",
                          "http://h:8x", "http://h:1/base", "http://[::1"}) {
    const Error e = errorFrom([&] { http::request(bad, request); });
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig) << bad;
  }
  EXPECT_THAT(errorFrom([&] { http::request("https://127.0.0.1:1", request); }).what(), HasSubstr("https"));
  request.target = "no-slash";
  EXPECT_EQ(errorFrom([&] { http::request(server->url(), request); }).kind(), ErrorKind::InvalidConfig);
}

}  // namespace
}  // namespace wafersim::http
