// Hostile or broken messages on a node's data socket and on the coordinator's control socket
// are rejected, counted and logged; the process keeps running and the run's results are intact
// (ARCHITECTURE.md contract 6).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <zmq.hpp>

#include "nodes/zmq_transport.h"
#include "protocol/codec.h"
#include "tests/nodes/node_test_support.h"

namespace wafersim {
namespace {

zmq::message_t bytes(const std::string& s) { return zmq::message_t(s.data(), s.size()); }

TEST(RogueMessages, DataSocketRejectsGarbageAndKeepsReceiving) {
  zmq::context_t context(1);
  zmq::socket_t data(context, zmq::socket_type::pull);
  data.set(zmq::sockopt::linger, 0);
  data.bind("tcp://127.0.0.1:*");
  const std::string endpoint = data.get(zmq::sockopt::last_endpoint);
  zmq::socket_t ioEnd(context, zmq::socket_type::pair), simEnd(context, zmq::socket_type::pair);
  ioEnd.bind("inproc://test-control");
  simEnd.connect("inproc://test-control");
  NodeLink link(context, {0}, {endpoint, "tcp://127.0.0.1:9"}, data, simEnd);
  auto endpoint0 = link.endpoint(0);
  Transport& transport = *endpoint0;

  zmq::socket_t rogue(context, zmq::socket_type::push);
  rogue.set(zmq::sockopt::linger, 1000);
  rogue.connect(endpoint);
  proto::Encoder encoder(0);
  rogue.send(bytes("not a capnp message at all"), zmq::send_flags::none);                 // not a word multiple
  rogue.send(bytes(std::string(16, '\xff')), zmq::send_flags::none);                        // bad segment table
  rogue.send(zmq::message_t(), zmq::send_flags::none);                                      // empty frame
  rogue.send(encoder.encode(1, proto::HelloMessage{}), zmq::send_flags::none);              // wrong kind here
  EventBatch forged;
  forged.from = 0;  // claims to come from the receiver itself
  forged.events.resize(1);
  rogue.send(encoder.encode(1, forged), zmq::send_flags::none);
  EventBatch misrouted;
  misrouted.from = 1;
  misrouted.to = 1;  // for a partition this node does not host
  misrouted.events.resize(1);
  rogue.send(encoder.encode(1, misrouted), zmq::send_flags::none);
  auto valid = encoder.encode(1, [] {
    EventBatch b;
    b.from = 1;
    b.round = 7;
    b.bound = SimTime::fromPs(1234);
    b.events.resize(3);
    for (size_t i = 0; i < 3; ++i) b.events[i].time = SimTime::fromPs(100 + static_cast<int64_t>(i));
    return b;
  }());
  // Truncate a copy of the valid message: the rest must still be read.
  rogue.send(zmq::message_t(valid.data(), valid.size() - 8), zmq::send_flags::none);
  rogue.send(std::move(valid), zmq::send_flags::none);

  EventBatch got;
  ASSERT_TRUE(transport.receive(got, Wait::Yes));
  EXPECT_EQ(got.from, 1u);
  EXPECT_EQ(got.round, 7u);
  EXPECT_EQ(got.bound, SimTime::fromPs(1234));
  ASSERT_EQ(got.events.size(), 3u);
  EXPECT_EQ(got.events[2].time, SimTime::fromPs(102));
  EXPECT_EQ(link.rejects().total(), 7u) << link.rejects().summary();
  EXPECT_EQ(link.eventsReceived(), 3u);
}

TEST(RogueMessages, CoordinatorIgnoresRoguePeersDuringARun) {
  const std::string text = "model: phold\nparams: {lps: 32}\nsimulation: {end: 100 ns, seed: 4}\n";
  const auto b = testing::build(text, 2);
  const auto reference = testing::runThreads(b);

  NodeCoordinator coordinator;
  LocalLauncher launcher(testing::nodeBinary());
  launcher.start(2, coordinator.endpoint());
  zmq::context_t context(1);
  zmq::socket_t stranger(context, zmq::socket_type::dealer), impostor(context, zmq::socket_type::dealer);
  stranger.set(zmq::sockopt::routing_id, "stranger");
  impostor.set(zmq::sockopt::routing_id, "node-7");  // a rank the run does not have
  for (auto* s : {&stranger, &impostor}) {
    s->set(zmq::sockopt::linger, 0);
    s->connect(coordinator.endpoint());
  }
  bool sent = false;
  NodeRunOptions options;
  options.nodes = 2;
  options.scenarioText = text;
  options.map = b.map;
  options.run = b.scenario.run;
  options.watchdog = [&](const std::vector<bool>& finished) -> std::optional<std::string> {
    if (!sent) {
      stranger.send(bytes("garbage"), zmq::send_flags::none);
      stranger.send(proto::encode(0, proto::FailureMessage{ErrorKind::Internal, "forged failure"}),
                    zmq::send_flags::none);
      impostor.send(proto::encode(7, proto::AbortMessage{"forged"}), zmq::send_flags::none);
      sent = true;
    }
    return launcher.checkChildren(finished);
  };
  const RunReport r = coordinator.run(options);
  EXPECT_TRUE(sent);
  EXPECT_EQ(r.results.digestHex(), reference.results.digestHex());
}

}  // namespace
}  // namespace wafersim
