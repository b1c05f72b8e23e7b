// CURVE between two sockets with the ZAP handler (protocol/curve_auth.h): a client with an allowed
// key gets a Cap'n Proto message through; one with another key, or without CURVE, gets nothing
// through, and the refusal is counted on the process's metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <zmq.hpp>

#include "obs/metrics.h"
#include "protocol/codec.h"
#include "protocol/curve_auth.h"
#include "tests/support.h"

namespace wafersim::proto {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<CurveSecurity> securityWith(CurveKeyPair own, std::set<std::string> allowed = {}) {
  auto s = std::make_shared<CurveSecurity>();
  s->own = std::move(own);
  s->allowed = std::move(allowed);
  s->allowed.insert(s->own.publicKey);
  return s;
}

struct Server {
  zmq::context_t context{1};
  std::shared_ptr<CurveSecurity> security;
  std::unique_ptr<ZapAuthenticator> zap;
  zmq::socket_t socket{context, zmq::socket_type::pull};
  std::string endpoint;
  explicit Server(std::shared_ptr<CurveSecurity> s) : security(std::move(s)) {
    zap = std::make_unique<ZapAuthenticator>(context, security->allowed);
    makeCurveServer(socket, *security, "test");
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("tcp://127.0.0.1:*");
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  }
  ~Server() {
    socket.close();
    zap.reset();
  }
  // The next frame, or nothing within `ms`.
  std::optional<zmq::message_t> receive(int ms) {
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(ms));
    if (!(items[0].revents & ZMQ_POLLIN)) return std::nullopt;
    zmq::message_t m;
    if (!socket.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
    return m;
  }
};

struct Client {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::push};
  Client(const std::string& endpoint, const CurveSecurity* security, const std::string& serverKey) {
    socket.set(zmq::sockopt::linger, 0);
    if (security) makeCurveClient(socket, *security, serverKey);
    socket.connect(endpoint);
  }
};

HelloMessage hello(const std::string& name) {
  HelloMessage h;
  h.name = name;
  h.hostname = "host";
  return h;
}

TEST(CurveAuth, AnAllowedClientExchangesACapnProtoMessage) {
  ASSERT_TRUE(zmq_has("curve"));
  const CurveKeyPair client = generateCurveKeyPair();
  Server server(securityWith(generateCurveKeyPair(), {client.publicKey}));
  auto clientSecurity = securityWith(client);
  Client c(server.endpoint, clientSecurity.get(), server.security->own.publicKey);
  c.socket.send(encode(7, hello("allowed-node")), zmq::send_flags::none);
  auto frame = server.receive(10000);
  ASSERT_TRUE(frame);
  RejectCounter rejects;
  auto decoded = tryDecode(std::move(*frame), rejects);
  ASSERT_TRUE(decoded);
  auto h = tryRead<HelloMessage>(*decoded, rejects);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "allowed-node");
  EXPECT_EQ(server.zap->accepted("test"), 1u);
  EXPECT_EQ(server.zap->refused("test"), 0u);
}

TEST(CurveAuth, AClientWithAnotherKeyIsRefusedAndCounted) {
  Server server(securityWith(generateCurveKeyPair(), {generateCurveKeyPair().publicKey}));
  obs::MetricsRegistry metrics("test");
  const auto auth = server.zap->metrics({"test"});
  metrics.add(auth);
  EXPECT_THAT(metrics.render(), HasSubstr("wafersim_zmq_auth_refused_total{socket=\"test\"} 0"));

  auto stranger = securityWith(generateCurveKeyPair());  // right server key, key not allowed
  Client c(server.endpoint, stranger.get(), server.security->own.publicKey);
  c.socket.send(encode(7, hello("stranger")), zmq::send_flags::none);
  ASSERT_TRUE(testing::pollUntil(std::chrono::seconds(10), [&] { return server.zap->refused("test") >= 1; },
                                 std::chrono::milliseconds(10)));
  EXPECT_FALSE(server.receive(300)) << "a refused client's message was delivered";
  EXPECT_EQ(server.zap->accepted("test"), 0u);
  EXPECT_THAT(metrics.render(), ::testing::ContainsRegex("wafersim_zmq_auth_refused_total\\{socket=\"test\"\\} [1-9]"));
}

TEST(CurveAuth, APlaintextClientGetsNothingThrough) {
  Server server(securityWith(generateCurveKeyPair()));
  Client plain(server.endpoint, nullptr, "");
  plain.socket.send(encode(7, hello("plain")), zmq::send_flags::none);
  // A CURVE client with the wrong server key fails its handshake too.
  auto other = securityWith(generateCurveKeyPair());
  Client wrongServer(server.endpoint, other.get(), generateCurveKeyPair().publicKey);
  wrongServer.socket.send(encode(7, hello("wrong-server-key")), zmq::send_flags::none);
  // And an allowed client, sent after them, is the only one that arrives.
  auto allowed = securityWith(server.security->own);
  Client good(server.endpoint, allowed.get(), server.security->own.publicKey);
  good.socket.send(encode(7, hello("good")), zmq::send_flags::none);
  auto frame = server.receive(10000);
  ASSERT_TRUE(frame);
  RejectCounter rejects;
  auto decoded = tryDecode(std::move(*frame), rejects);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(tryRead<HelloMessage>(*decoded, rejects)->name, "good");
  EXPECT_FALSE(server.receive(300));
}

TEST(CurveAuth, OneHandlerPerContext) {
  zmq::context_t context(1);
  ZapAuthenticator first(context, {});
  EXPECT_THROW({ ZapAuthenticator second(context, {}); }, Error);
}

}  // namespace
}  // namespace wafersim::proto
