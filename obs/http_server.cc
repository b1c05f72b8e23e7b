// The HTTP/1.1 server of every wafersim process (see http_server.h for the contract).
//
// Choices the header leaves open, made here:
//   - Trailing slash: tolerated. One trailing '/' is ignored when matching, so "/api/v1/runs/"
//     reaches the route "/api/v1/runs"; Request::path keeps the path as sent (decoded).
//   - Routing: among the patterns that match the path, the most specific one names the resource
//     (at the first segment where two patterns differ, a literal beats a {param}); the methods
//     registered for that pattern decide between running a handler and 405 with their Allow list.
//   - Refusals before routing are 400 "bad_request" (malformed request line or header, a target
//     that is not a path, a bad %-escape, a segment that decodes to '/', NUL, "." or ".."), 413
//     "payload_too_large" (body over ServerOptions::maxBodyBytes, refused as soon as the
//     Content-Length is read), 431 "headers_too_large" (request line and header over 64 KiB).
//     413 and 431 and the parser's 400 close the connection after a lingering close: the server
//     shuts down its sending side and discards what the client still sends (at most 16 MiB, and
//     for at most 5 s or idleTimeout if shorter), so a client still writing its body reads the
//     answer instead of a reset. The other 400s (path, query) keep the connection.
//   - Router::dispatch derives path and query from Request::target when it is set (the server
//     sets only the target); with no target it matches Request::path as already decoded.
//   - Timeouts: the connection is closed when a read waits longer than ServerOptions::idleTimeout
//     for bytes (between requests or inside one), or a response is not written within idleTimeout
//     plus 1 ms per 64 bytes of body (so a client reading slower than 64 KB/s loses a large one).
//   - "Expect: 100-continue" is answered before the body is read.
//   - HEAD is routed like any method (405 unless registered); a registered HEAD handler's body is
//     not sent, only its length.
//   - ServerOptions::onRequest runs on the server thread after the handler, before the response
//     is written, with the handler's time; also for the refusals above (method and target as far
//     as parsed, 0 s). Its exceptions are swallowed.
//   - stop() must not be called from a handler (it joins the server's threads).
#include "obs/http_server.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "sim/error.h"

namespace wafersim::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr uint32_t kHeaderLimitBytes = 64u << 10;
constexpr size_t kLingerBytes = 16u << 20;
constexpr std::chrono::milliseconds kLingerTime{5000};
constexpr std::chrono::milliseconds kAcceptRetry{50};

std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isParamSegment(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// "/a/b/" -> {"a", "b"}: the leading '/' is dropped and one trailing '/' tolerated; "/" -> {}.
std::vector<std::string_view> splitPath(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string_view> segments;
  if (path.empty()) return segments;
  for (size_t start = 0;;) {
    const size_t slash = path.find('/', start);
    segments.push_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return segments;
    start = slash + 1;
  }
}

// The decoded segments of a raw (still %-encoded) path; throws Error{InvalidConfig} for a segment
// that names no plain file: one decoding to '/', NUL, "." or "..".
std::vector<std::string> decodeSegments(std::string_view rawPath, bool decode) {
  std::vector<std::string> segments;
  for (std::string_view raw : splitPath(rawPath)) {
    std::string segment = decode ? percentDecode(raw) : std::string(raw);
    WAFERSIM_REQUIRE(segment.find('/') == std::string::npos, "path segment '", raw, "' contains an encoded '/'");
    WAFERSIM_REQUIRE(segment.find('\0') == std::string::npos, "path segment '", raw, "' contains a NUL byte");
    WAFERSIM_REQUIRE(segment != "." && segment != "..", "path segment '", raw, "' is '", segment, "'");
    segments.push_back(std::move(segment));
  }
  return segments;
}

std::map<std::string, std::string> decodeQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key = percentDecode(pair.substr(0, eq), true);
    out[std::move(key)] = eq == std::string_view::npos ? std::string() : percentDecode(pair.substr(eq + 1), true);
  }
  return out;
}

struct ErrorMapping {
  int status;
  const char* code;
};

ErrorMapping mappingOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidConfig:
      return {400, "invalid_request"};
    case ErrorKind::Overloaded:
      return {503, "overloaded"};
    case ErrorKind::Disconnected:
      return {502, "bad_gateway"};
    case ErrorKind::Unimplemented:
      return {501, "not_implemented"};
    case ErrorKind::Internal:
      return {500, "internal"};
  }
  return {500, "internal"};
}

// Whether the response to `status` carries no body and no Content-Length (RFC 9110 §6.4.1).
bool isBodyless(int status) { return status < 200 || status == 204 || status == 304; }

bool isValidHeader(const std::string& name, const std::string& value) {
  const auto bad = [](char c) { return c == '\r' || c == '\n' || c == '\0'; };
  return !name.empty() && name.find_first_of(" \t:") == std::string::npos &&
         std::none_of(name.begin(), name.end(), bad) && std::none_of(value.begin(), value.end(), bad);
}

}  // namespace

// ---- Request, Response --------------------------------------------------------------------------

std::string Request::header(std::string_view name) const {
  const auto it = headers.find(lowerCase(name));
  return it == headers.end() ? std::string() : it->second;
}

const std::string& Request::param(const std::string& name) const {
  const auto it = params.find(name);
  if (it == params.end())
    fail(ErrorKind::Internal, "the route for ", method, " ", path, " has no parameter {", name, "}");
  return it->second;
}

Response Response::json(int status, const nlohmann::json& body) {
  Response response;
  response.status = status;
  response.contentType = "application/json";
  // Bodies echo request bytes too (a 404's "no run <id>"): replace what is not UTF-8 rather than
  // throw, which turned GET /api/v1/runs/%FF into a 500 (found by fuzz_http_request).
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Response Response::text(int status, std::string body, std::string contentType) {
  Response response;
  response.status = status;
  response.contentType = std::move(contentType);
  response.body = std::move(body);
  return response;
}

Response Response::error(int status, std::string_view code, std::string_view message) {
  const nlohmann::json body = {{"error", {{"status", status}, {"code", code}, {"message", message}}}};
  Response response;
  response.status = status;
  // The message may echo request bytes that are not UTF-8: replace them rather than throw.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

std::string percentDecode(std::string_view text, bool plusIsSpace) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      WAFERSIM_REQUIRE(i + 2 < text.size() && hexValue(text[i + 1]) >= 0 && hexValue(text[i + 2]) >= 0,
                       "bad percent-escape at offset ", i, " in '", text, "'");
      c = static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      c = ' ';
    }
    WAFERSIM_REQUIRE(c != '\0', "NUL byte in '", text, "'");
    out.push_back(c);
  }
  return out;
}

// ---- Router -------------------------------------------------------------------------------------

namespace {

// Whether `a` is more specific than `b` (both match the same path): at the first segment where
// one is a literal and the other a parameter, the literal wins.
template <typename Route>
bool moreSpecific(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    const bool aParam = isParamSegment(a.segments[i]), bParam = isParamSegment(b.segments[i]);
    if (aParam != bParam) return bParam;
  }
  return false;
}

// Whether two patterns match the same paths ("/runs/{id}" and "/runs/{name}" do).
template <typename Route>
bool sameShape(const Route& a, const Route& b) {
  if (a.segments.size() != b.segments.size()) return false;
  for (size_t i = 0; i < a.segments.size(); ++i) {
    const bool aParam = isParamSegment(a.segments[i]), bParam = isParamSegment(b.segments[i]);
    if (aParam != bParam || (!aParam && a.segments[i] != b.segments[i])) return false;
  }
  return true;
}

template <typename Route>
bool matches(const Route& route, const std::vector<std::string>& segments) {
  if (route.segments.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (isParamSegment(route.segments[i]) ? segments[i].empty() : route.segments[i] != segments[i]) return false;
  }
  return true;
}

}  // namespace

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
  if (method.empty() || !isValidHeader(method, ""))
    fail(ErrorKind::Internal, "route ", pattern, ": bad method '", method, "'");
  if (pattern.empty() || pattern.front() != '/')
    fail(ErrorKind::Internal, "route pattern '", pattern, "' must start with '/'");
  if (!handler) fail(ErrorKind::Internal, "route ", method, " ", pattern, " has no handler");
  Route route{method, pattern, {}, std::move(handler)};
  std::vector<std::string_view> names;
  for (std::string_view segment : splitPath(pattern)) {
    if (isParamSegment(segment)) {
      const std::string_view name = segment.substr(1, segment.size() - 2);
      const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
      if (!plain || std::find(names.begin(), names.end(), name) != names.end())
        fail(ErrorKind::Internal, "route pattern '", pattern, "': bad or repeated parameter ", segment);
      names.push_back(name);
    } else if (segment.empty() || segment.find_first_of("{}%?") != std::string_view::npos || segment == "." ||
               segment == "..") {
      fail(ErrorKind::Internal, "route pattern '", pattern, "': bad segment '", segment, "'");
    }
    route.segments.emplace_back(segment);
  }
  for (const Route& other : routes_) {
    if (other.method == method && sameShape(other, route))
      fail(ErrorKind::Internal, "route ", method, " ", pattern, " duplicates ", other.method, " ", other.pattern);
  }
  routes_.push_back(std::move(route));
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const Route& route : routes_) out.emplace_back(route.method, route.pattern);
  return out;
}

Response Router::dispatch(Request& request) const {
  try {
    std::vector<std::string> segments;
    try {
      if (!request.target.empty()) {
        // Derive path and query from the target as received: segments are checked before
        // decoding so that "%2F" cannot hide inside one.
        const std::string_view target = request.target;
        WAFERSIM_REQUIRE(target.front() == '/', "request target '", target, "' is not a path");
        const size_t mark = target.find('?');
        const std::string_view rawPath = target.substr(0, mark);
        segments = decodeSegments(rawPath, true);
        request.path = percentDecode(rawPath);
        request.query = mark == std::string_view::npos ? std::map<std::string, std::string>{}
                                                       : decodeQuery(target.substr(mark + 1));
      } else {
        segments = decodeSegments(request.path.empty() ? "/" : request.path, false);
      }
    } catch (const Error& e) {
      return Response::error(400, "bad_request", e.what());
    }

    const Route* best = nullptr;
    for (const Route& route : routes_) {
      if (matches(route, segments) && (!best || moreSpecific(route, *best))) best = &route;
    }
    if (!best) return Response::error(404, "not_found", "no route for " + request.method + " " + request.path);
    request.route = best->pattern;

    const Route* chosen = nullptr;
    std::string allow;
    for (const Route& route : routes_) {
      if (!sameShape(route, *best)) continue;
      if (route.method == request.method) chosen = &route;
      allow += (allow.empty() ? "" : ", ") + route.method;
    }
    if (!chosen) {
      Response response =
          Response::error(405, "method_not_allowed",
                          request.method + " is not allowed on " + request.path + " (allowed: " + allow + ")");
      response.headers.emplace_back("Allow", allow);
      return response;
    }

    request.params.clear();
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string& segment = chosen->segments[i];
      if (isParamSegment(segment)) request.params[segment.substr(1, segment.size() - 2)] = segments[i];
    }
    Response response = chosen->handler(request);
    if (response.status < 200 || response.status > 599)
      return Response::error(500, "internal",
                             "the handler for " + chosen->method + " " + chosen->pattern + " returned status " +
                                 std::to_string(response.status));
    for (const auto& [name, value] : response.headers) {
      if (!isValidHeader(name, value))
        return Response::error(500, "internal",
                               "the handler for " + chosen->method + " " + chosen->pattern +
                                   " returned a malformed header '" + name + "'");
    }
    return response;
  } catch (const Error& e) {
    const ErrorMapping mapping = mappingOf(e.kind());
    return Response::error(mapping.status, mapping.code, e.what());
  } catch (const std::exception& e) {
    return Response::error(500, "internal", e.what());
  } catch (...) {
    return Response::error(500, "internal", "unknown exception");
  }
}

// ---- Server -------------------------------------------------------------------------------------

namespace {

// What every connection of one server shares; read-only once the server runs.
struct ServerState {
  ServerOptions options;
  Router router;
  mutable RateLimiter limiter;  // thread-safe; the one thing connections change
};

std::string rateText(double perSecond) {
  std::ostringstream out;
  out << perSecond;
  return out.str();
}

std::string_view toStd(beast::string_view text) { return {text.data(), text.size()}; }

std::string endpointText(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(endpoint.port());
}

// One connection: reads requests one after another (keep-alive), answers each, and closes on
// error, timeout, a refused request or a client that does not keep the connection alive. Every
// step runs on the connection's strand; the pending operation's handler owns the session.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const ServerState& state) : stream_(std::move(socket)), state_(state) {
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    const tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpointText(remote);
  }

  void start() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::readRequest, shared_from_this()));
  }

 private:
  // One request: reads until the parser has the whole message, answering "Expect: 100-continue"
  // once the header is in.
  void readRequest() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimitBytes);
    parser_->body_limit(state_.options.maxBodyBytes);
    continueChecked_ = false;
    read();
  }

  void read() {
    stream_.expires_after(state_.options.idleTimeout);
    bhttp::async_read_some(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::onRead, shared_from_this()));
  }

  void onRead(beast::error_code ec, size_t /*bytes*/) {
    if (ec) return onReadError(ec);
    if (parser_->is_done()) return handle();
    if (parser_->is_header_done() && !continueChecked_) {
      continueChecked_ = true;
      const auto& header = parser_->get();
      if (header.version() >= 11 && lowerCase(toStd(header[bhttp::field::expect])) == "100-continue") {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        stream_.expires_after(state_.options.idleTimeout);
        net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                         beast::bind_front_handler(&Session::onContinueWritten, shared_from_this()));
        return;
      }
    }
    read();
  }

  void onContinueWritten(beast::error_code ec, size_t /*bytes*/) {
    if (ec) return;  // the connection is gone: dropping the last reference closes it
    read();
  }

  void onReadError(beast::error_code ec) {
    // end_of_stream: the client closed between requests; timeout: tcp_stream closed the socket.
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout) return close();
    if (ec.category() != bhttp::make_error_code(bhttp::error::end_of_stream).category()) return close();
    int status = 400;
    const char* code = "bad_request";
    std::string message = "malformed request: " + ec.message();
    if (ec == bhttp::error::body_limit) {
      status = 413;
      code = "payload_too_large";
      message = "the request body exceeds " + std::to_string(state_.options.maxBodyBytes) + " bytes";
    } else if (ec == bhttp::error::header_limit) {
      status = 431;
      code = "headers_too_large";
      message = "the request line and header exceed " + std::to_string(kHeaderLimitBytes) + " bytes";
    }
    Request request;
    request.method = std::string(parser_->get().method_string());
    request.target = std::string(parser_->get().target());
    request.remote = remote_;
    const unsigned version = parser_->get().version();
    version_ = version == 10 || version == 11 ? version : 11;
    send(request, Response::error(status, code, message), false, 0.0);
  }

  void handle() {
    auto message = parser_->release();
    parser_.reset();
    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string& value = request.headers[lowerCase(toStd(field.name_string()))];
      value += (value.empty() ? "" : ", ") + std::string(field.value());
    }
    request.body = std::move(message.body());
    request.remote = remote_;
    version_ = message.version();
    const auto begin = std::chrono::steady_clock::now();
    unsigned retryAfter = 0;
    if (!state_.limiter.admit(clientOf(remote_), begin, &retryAfter)) {
      Response refused = Response::error(429, "too_many_requests",
                                         "more than " + rateText(state_.options.rateLimit.perSecond) +
                                             " requests a second from " + clientOf(remote_) + "; retry after " +
                                             std::to_string(retryAfter) + " s");
      refused.headers.emplace_back("Retry-After", std::to_string(retryAfter));
      return send(request, std::move(refused), message.keep_alive(), 0.0);
    }
    Response response = state_.router.dispatch(request);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    send(request, std::move(response), message.keep_alive(), seconds);
  }

  void send(const Request& request, Response response, bool keepAlive, double seconds) {
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(response.status));
    response_.set(bhttp::field::server, "wafersim");
    for (const auto& [name, value] : response.headers) {
      const std::string lower = lowerCase(name);
      if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection") continue;  // ours
      response_.insert(name, value);
    }
    response_.keep_alive(keepAlive);
    if (!isBodyless(response.status)) {
      if (!response.contentType.empty()) response_.set(bhttp::field::content_type, response.contentType);
      if (request.method == "HEAD") {
        response_.content_length(response.body.size());
      } else {
        response_.body() = std::move(response.body);
        response_.prepare_payload();
      }
    }
    if (state_.options.onRequest) {
      try {
        state_.options.onRequest(request, response.status, seconds);
      } catch (...) {
        // A metrics callback must not take the connection down.
      }
    }
    stream_.expires_after(state_.options.idleTimeout + std::chrono::milliseconds(response_.body().size() / 64));
    bhttp::async_write(stream_, response_,
                       beast::bind_front_handler(&Session::onWritten, shared_from_this(), keepAlive));
  }

  void onWritten(bool keepAlive, beast::error_code ec, size_t /*bytes*/) {
    if (ec) return;
    if (keepAlive) return readRequest();
    lingerClose();
  }

  // Stops sending and discards what the client still sends until it closes (bounded in bytes and
  // time), so that the client reads the response rather than a connection reset.
  void lingerClose() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain_.resize(64u << 10);
    stream_.expires_after(std::min<std::chrono::milliseconds>(state_.options.idleTimeout, kLingerTime));
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(drain_), beast::bind_front_handler(&Session::onDrained, shared_from_this()));
  }

  void onDrained(beast::error_code ec, size_t bytes) {
    drained_ += bytes;
    if (ec || drained_ > kLingerBytes) return close();
    drain();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const ServerState& state_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  unsigned version_ = 11;
  bool continueChecked_ = false;
  std::string remote_;
  std::vector<char> drain_;
  size_t drained_ = 0;
};

}  // namespace

struct Server::Impl {
  ServerState state;
  std::optional<net::io_context> ioc;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> acceptRetry;
  std::vector<std::thread> threads;
  std::mutex mutex;  // start() and stop()
  bool started = false;
  bool stopped = false;
  uint16_t port = 0;
  std::string url;

  Impl(ServerOptions options, Router router) : state{options, std::move(router), RateLimiter(options.rateLimit)} {
    const ServerOptions& o = state.options;
    WAFERSIM_REQUIRE(o.threads >= 1, "ServerOptions::threads must be at least 1");
    WAFERSIM_REQUIRE(o.idleTimeout.count() > 0, "ServerOptions::idleTimeout must be positive");
    const std::string where =
        (o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
    ioc.emplace(static_cast<int>(o.threads));

    std::vector<tcp::endpoint> candidates;
    beast::error_code ec;
    const net::ip::address numeric = net::ip::make_address(o.host, ec);
    const bool isNumeric = !ec;
    if (isNumeric) {
      candidates.emplace_back(numeric, o.port);
    } else {
      tcp::resolver resolver(*ioc);
      const auto results = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive, ec);
      if (ec) fail(ErrorKind::InvalidConfig, "cannot listen on ", where, ": ", ec.message());
      for (const auto& entry : results) candidates.push_back(entry.endpoint());
      if (candidates.empty()) fail(ErrorKind::InvalidConfig, "cannot listen on ", where, ": the name has no address");
    }
    for (const tcp::endpoint& endpoint : candidates) {
      acceptor.emplace(*ioc);
      if (!acceptor->open(endpoint.protocol(), ec) &&
          !acceptor->set_option(net::socket_base::reuse_address(true), ec) && !acceptor->bind(endpoint, ec) &&
          !acceptor->listen(net::socket_base::max_listen_connections, ec)) {
        break;
      }
      acceptor.reset();
    }
    if (!acceptor) fail(ErrorKind::InvalidConfig, "cannot listen on ", where, ": ", ec.message());

    const tcp::endpoint local = acceptor->local_endpoint();
    port = local.port();
    // A URL a local client can use: the wildcard addresses become loopback ones.
    std::string host = o.host;
    if (isNumeric && numeric.is_unspecified()) host = numeric.is_v6() ? "::1" : "127.0.0.1";
    if (isNumeric && numeric.is_v6()) host = "[" + host + "]";
    url = "http://" + host + ":" + std::to_string(port);
  }

  void accept() { acceptor->async_accept(net::make_strand(*ioc), beast::bind_front_handler(&Impl::onAccept, this)); }

  void onAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of file descriptors, say: try again shortly rather than spin or stop accepting.
      acceptRetry.emplace(*ioc, kAcceptRetry);
      acceptRetry->async_wait([this](beast::error_code waitError) {
        if (!waitError) accept();
      });
      return;
    }
    std::make_shared<Session>(std::move(socket), state)->start();
    accept();
  }

  void run() {
    for (;;) {
      try {
        ioc->run();
        return;
      } catch (...) {
        // An exception escaped a completion handler (out of memory, say): that connection is
        // dropped; keep serving the others.
      }
    }
  }
};

Server::Server(ServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() { stop(); }

uint16_t Server::port() const { return impl_->port; }

std::string Server::url() const { return impl_->url; }

void Server::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->stopped) fail(ErrorKind::Internal, "Server::start() after stop()");
  if (impl_->started) return;
  impl_->started = true;
  impl_->accept();
  for (unsigned k = 0; k < impl_->state.options.threads; ++k)
    impl_->threads.emplace_back([impl = impl_.get()] { impl->run(); });
}

void Server::stop() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->ioc->stop();
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  impl_->acceptRetry.reset();
  impl_->acceptor.reset();
  // Destroying the io_context destroys the pending handlers, and with them the sessions they own:
  // every connection is closed.
  impl_->ioc.reset();
}

}  // namespace wafersim::http
