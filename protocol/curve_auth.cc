#include "protocol/curve_auth.h"

#include <array>
#include <cstdio>
#include <vector>

#include <zmq_addon.hpp>

#include "obs/metrics.h"
#include "sim/error.h"

namespace wafersim::proto {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";  // RFC 27's fixed name

}  // namespace

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, std::set<std::string> allowed)
    : allowed_(std::move(allowed)) {
  auto socket = std::make_shared<zmq::socket_t>(context, zmq::socket_type::rep);
  socket->set(zmq::sockopt::linger, 0);
  try {
    socket->bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    fail(ErrorKind::Internal, "cannot start the CURVE authenticator (", kZapEndpoint, "): ", e.what());
  }
  // Bound before the constructor returns: no CURVE server of this context can take a client before
  // the handler is there (libzmq would let every client in without one).
  thread_ = std::thread([this, socket] { serve(*socket); });
}

ZapAuthenticator::~ZapAuthenticator() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ZapAuthenticator::serve(zmq::socket_t& socket) {
  uint64_t logged = 0;
  while (!stop_.load()) {
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 1, std::chrono::milliseconds(50));
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      continue;
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    std::vector<zmq::message_t> request;
    try {
      if (!zmq::recv_multipart(socket, std::back_inserter(request), zmq::recv_flags::dontwait)) continue;
    } catch (const zmq::error_t&) {
      continue;
    }
    // version, request id, domain, address, identity, mechanism, credentials...
    auto frame = [&](size_t i) { return i < request.size() ? request[i].to_string() : std::string(); };
    const std::string requestId = frame(1), domain = frame(2), address = frame(3), mechanism = frame(5);
    std::string key;
    bool ok = false;
    std::string why;
    if (frame(0) != "1.0") {
      why = "unknown ZAP version";
    } else if (mechanism != "CURVE" || request.size() < 7 || request[6].size() != 32) {
      why = "not a CURVE client";
    } else {
      char z85[41] = {};
      zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32);
      key = z85;
      ok = allowed_.count(key) > 0;
      if (!ok) why = "key not allowed";
    }
    {
      std::lock_guard<std::mutex> lock(counts_->mutex);
      auto& c = counts_->bySocket[domain.substr(0, 32)];
      (ok ? c.first : c.second) += 1;
    }
    if (!ok && (logged++ < 10 || logged % 100 == 0))
      std::fprintf(stderr, "wafersim: refused a CURVE client on the %s socket from %s (key %s): %s\n",
                   domain.c_str(), address.c_str(), key.empty() ? "-" : key.c_str(), why.c_str());
    const std::string status = ok ? "200" : "400", text = ok ? "OK" : why;
    std::array<zmq::const_buffer, 6> reply = {zmq::str_buffer("1.0"), zmq::buffer(requestId), zmq::buffer(status),
                                              zmq::buffer(text),        zmq::buffer(key),       zmq::const_buffer()};
    try {
      zmq::send_multipart(socket, reply);
    } catch (const zmq::error_t&) {
    }
  }
}

uint64_t ZapAuthenticator::refused(const std::string& socket) const {
  std::lock_guard<std::mutex> lock(counts_->mutex);
  auto it = counts_->bySocket.find(socket);
  return it == counts_->bySocket.end() ? 0 : it->second.second;
}

uint64_t ZapAuthenticator::accepted(const std::string& socket) const {
  std::lock_guard<std::mutex> lock(counts_->mutex);
  auto it = counts_->bySocket.find(socket);
  return it == counts_->bySocket.end() ? 0 : it->second.first;
}

std::shared_ptr<prometheus::Collectable> ZapAuthenticator::metrics(std::set<std::string> sockets) const {
  return obs::makeCollectable([shared = counts_, sockets] {
    std::map<std::string, std::pair<uint64_t, uint64_t>> counts;
    for (const auto& s : sockets) counts[s];
    {
      std::lock_guard<std::mutex> lock(shared->mutex);
      for (const auto& [s, c] : shared->bySocket) counts[s] = c;
    }
    obs::FamilySet out;
    for (const auto& [socket, c] : counts) {
      out.counter("wafersim_zmq_auth_refused_total",
                  "CURVE clients refused by ZAP (key not in the allowed set), by server socket.", {{"socket", socket}},
                  static_cast<double>(c.second));
      out.counter("wafersim_zmq_auth_accepted_total", "CURVE clients let in by ZAP, by server socket.",
                  {{"socket", socket}}, static_cast<double>(c.first));
    }
    return out.take();
  });
}

void makeCurveServer(zmq::socket_t& socket, const CurveSecurity& security, const std::string& name) {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, security.own.secretKey);
  socket.set(zmq::sockopt::zap_domain, name);
}

void makeCurveClient(zmq::socket_t& socket, const CurveSecurity& security, const std::string& serverKey) {
  WAFERSIM_REQUIRE(isZ85Key(serverKey), "CURVE: no usable server key for this connection (\"", serverKey, "\")");
  socket.set(zmq::sockopt::curve_serverkey, serverKey);
  socket.set(zmq::sockopt::curve_publickey, security.own.publicKey);
  socket.set(zmq::sockopt::curve_secretkey, security.own.secretKey);
}

}  // namespace wafersim::proto
