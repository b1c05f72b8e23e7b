// The blocking HTTP/1.1 client (see http_client.h).
//
// One connection per request (Connection: close). The request is written and the response read
// at the same time, so that an early answer (413 while the body is still being sent) is read
// rather than lost; the exchange is over when the response is complete. One deadline,
// ClientRequest::timeout after the call starts connecting, bounds connect, write and read together
// (beast::tcp_stream's expiry applies to every operation started after it is set). Name
// resolution is a blocking getaddrinfo before that and is not bounded by the timeout.
#include "coordinator/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <optional>

#include "sim/error.h"

namespace wafersim::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr uint64_t kResponseBodyLimit = uint64_t{1} << 30;
constexpr uint32_t kResponseHeaderLimit = 1u << 20;

std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view toStd(beast::string_view text) { return {text.data(), text.size()}; }

struct BaseUrl {
  std::string host;    // "127.0.0.1", "::1", "localhost"
  std::string port;    // "8080"
  std::string origin;  // "http://[::1]:8080": for the Host header (without "http://") and messages
};

// "http://host[:port][/]"; IPv6 addresses in brackets.
BaseUrl parseBaseUrl(const std::string& url) {
  const std::string lower = lowerCase(url);
  WAFERSIM_REQUIRE(lower.rfind("https://", 0) != 0, "cannot request ", url, ": https is not supported, use http://");
  WAFERSIM_REQUIRE(lower.rfind("http://", 0) == 0, "bad server URL '", url, "': expected http://host:port");
  std::string_view rest = std::string_view(url).substr(7);
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  WAFERSIM_REQUIRE(slash == std::string_view::npos || rest.substr(slash) == "/", "bad server URL '", url,
                   "': expected http://host:port with no path");
  WAFERSIM_REQUIRE(authority.find('@') == std::string_view::npos, "bad server URL '", url,
                   "': user information is not supported");

  BaseUrl base;
  std::string_view portText;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    WAFERSIM_REQUIRE(close != std::string_view::npos, "bad server URL '", url, "': unclosed '['");
    base.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    WAFERSIM_REQUIRE(after.empty() || after.front() == ':', "bad server URL '", url, "': junk after ']'");
    if (!after.empty()) portText = after.substr(1);
  } else {
    const size_t colon = authority.find(':');
    base.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
  }
  WAFERSIM_REQUIRE(!base.host.empty(), "bad server URL '", url, "': no host");
  if (portText.empty()) {
    base.port = "80";
  } else {
    unsigned long port = 0;
    for (char c : portText) {
      WAFERSIM_REQUIRE(std::isdigit(static_cast<unsigned char>(c)) && portText.size() <= 5, "bad server URL '", url,
                       "': bad port '", portText, "'");
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    WAFERSIM_REQUIRE(port >= 1 && port <= 65535, "bad server URL '", url, "': port ", port, " is out of range");
    base.port = std::to_string(port);
  }
  const bool bracket = base.host.find(':') != std::string::npos;
  base.origin = "http://" + (bracket ? "[" + base.host + "]" : base.host) + (base.port == "80" ? "" : ":" + base.port);
  return base;
}

}  // namespace

ClientResponse request(const std::string& baseUrl, const ClientRequest& request) {
  const BaseUrl base = parseBaseUrl(baseUrl);
  WAFERSIM_REQUIRE(!request.target.empty() && request.target.front() == '/', "request target '", request.target,
                   "' must start with '/'");
  WAFERSIM_REQUIRE(!request.method.empty() && request.method.find_first_of(" \t\r\n") == std::string::npos,
                   "bad request method '", request.method, "'");
  const std::string what = request.method + " " + base.origin + request.target;

  bhttp::request<bhttp::string_body> message;
  const bhttp::verb verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown) {
    message.method_string(request.method);
  } else {
    message.method(verb);
  }
  message.target(request.target);
  message.version(11);
  message.set(bhttp::field::host, base.origin.substr(7));
  message.set(bhttp::field::user_agent, "wafersim");
  if (!request.body.empty() && !request.contentType.empty())
    message.set(bhttp::field::content_type, request.contentType);
  for (const auto& [name, value] : request.headers) message.set(name, value);
  message.body() = request.body;
  message.keep_alive(false);
  message.prepare_payload();

  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(base.host, base.port, ec);
  if (ec)
    fail(ErrorKind::Disconnected, "cannot reach ", base.origin, ": cannot resolve ", base.host, ": ", ec.message());

  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kResponseBodyLimit);
  parser.header_limit(kResponseHeaderLimit);
  if (verb == bhttp::verb::head) parser.skip(true);

  std::optional<beast::error_code> connectError, writeError, readError;
  stream.expires_after(request.timeout);
  stream.async_connect(endpoints, [&](beast::error_code connected, const tcp::endpoint&) {
    connectError = connected;
    if (connected) return;
    bhttp::async_write(stream, message, [&](beast::error_code written, size_t) { writeError = written; });
    bhttp::async_read(stream, buffer, parser, [&](beast::error_code read, size_t) {
      readError = read;
      // The response is complete (or the exchange failed): a write still under way is moot.
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.socket().close(ignored);
    });
  });
  ioc.run();

  const auto reason = [&](const beast::error_code& error) {
    return error == beast::error::timeout ? "no answer within " + std::to_string(request.timeout.count()) + " ms"
                                          : error.message();
  };
  if (!connectError || *connectError) {
    fail(ErrorKind::Disconnected, "cannot connect to ", base.origin, " (", what,
         "): ", connectError ? reason(*connectError) : std::string("connect did not complete"));
  }
  if (!readError || *readError) {
    // A failed write usually explains the failed read (the server closed the connection).
    const beast::error_code error = readError && *readError == beast::error::timeout ? *readError
                                    : writeError && *writeError                      ? *writeError
                                                                : readError.value_or(beast::error_code{});
    fail(ErrorKind::Disconnected, what, " failed: ", reason(error));
  }

  auto response = parser.release();
  ClientResponse out;
  out.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    std::string& value = out.headers[lowerCase(toStd(field.name_string()))];
    value += (value.empty() ? "" : ", ") + std::string(toStd(field.value()));
  }
  if (const auto it = out.headers.find("content-type"); it != out.headers.end()) out.contentType = it->second;
  out.body = std::move(response.body());
  return out;
}

}  // namespace wafersim::http
