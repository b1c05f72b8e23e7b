// A receive loop over real ZeroMQ sockets survives a rogue peer: garbage frames are rejected and
// counted, and valid messages sent after them are still processed (ARCHITECTURE.md contract 6).
#include "protocol/codec.h"

#include <gtest/gtest.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tests/protocol/sample_messages.h"

namespace wafersim::proto {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::sameEvents;
using testing::sampleBatch;
using testing::readAny;
using testing::sampleHello;

constexpr auto kDeadline = 5s;  // the whole exchange; it takes milliseconds when it works

zmq::message_t bytesFrame(std::initializer_list<uint8_t> bytes) {
  zmq::message_t m(bytes.size());
  size_t i = 0;
  for (uint8_t b : bytes) static_cast<uint8_t*>(m.data())[i++] = b;
  return m;
}

// The garbage a rogue peer sends: each is rejected for a different reason.
std::vector<zmq::message_t> garbageFrames() {
  std::vector<zmq::message_t> frames;
  frames.emplace_back();                                   // empty
  frames.push_back(bytesFrame({'G', 'E', 'T', ' ', '/'}));  // not a word multiple
  frames.push_back(bytesFrame({0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0}));  // 2^32 segments
  {
    zmq::message_t valid = encode(9, sampleHello());
    frames.emplace_back(valid.data(), valid.size() - 8);  // truncated
  }
  {
    Encoder encoder;
    auto root = encoder.begin(9);
    toWire(HeartbeatMessage{1, 2}, root);
    root.setProtocolVersion(99);
    frames.push_back(encoder.finish());  // wrong version
  }
  std::mt19937_64 rng(5);
  zmq::message_t noise(4096);
  for (size_t i = 0; i < noise.size(); ++i) static_cast<uint8_t*>(noise.data())[i] = static_cast<uint8_t>(rng());
  frames.push_back(std::move(noise));  // random (most likely an impossible segment table)
  return frames;
}

void configure(zmq::socket_t& socket) { socket.set(zmq::sockopt::linger, 0); }

// A node's event receive loop over a PULL socket: decode, read, deliver; never stops for bad input.
struct PullLoop {
  RejectCounter rejects;
  std::vector<wafersim::EventBatch> delivered;
  std::vector<std::string> log;

  // Runs until `wanted` batches were delivered or the deadline passed.
  void run(zmq::socket_t& pull, size_t wanted, Clock::time_point deadline) {
    wafersim::EventBatch scratch;
    std::vector<zmq_pollitem_t> items{{pull.handle(), 0, ZMQ_POLLIN, 0}};
    while (delivered.size() < wanted && Clock::now() < deadline) {
      zmq::poll(items, 50ms);
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      zmq::message_t frame;
      while (pull.recv(frame, zmq::recv_flags::dontwait)) {
        auto decoded = tryDecode(std::move(frame), rejects);
        if (!decoded) {
          log.push_back(decoded.error().describe());
          continue;
        }
        if (!tryRead(*decoded, scratch, rejects)) {
          log.push_back("unreadable");
          continue;
        }
        delivered.push_back(scratch);
      }
    }
  }
};

TEST(ProtocolRogueSocket, PullLoopSurvivesGarbageThenProcessesValidBatches) {
  zmq::context_t context(1);
  zmq::socket_t pull(context, zmq::socket_type::pull);
  configure(pull);
  pull.bind("tcp://127.0.0.1:*");
  const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);

  zmq::socket_t rogue(context, zmq::socket_type::push);
  configure(rogue);
  rogue.connect(endpoint);

  Encoder encoder;
  const wafersim::EventBatch first = sampleBatch(4000, 1), second = sampleBatch(3, 2);
  std::vector<zmq::message_t> garbage = garbageFrames();
  const size_t garbageCount = garbage.size();
  for (auto& frame : garbage) ASSERT_TRUE(rogue.send(frame, zmq::send_flags::none));
  ASSERT_TRUE(rogue.send(encoder.encode(1, first), zmq::send_flags::none));
  for (auto& frame : garbageFrames()) ASSERT_TRUE(rogue.send(frame, zmq::send_flags::none));
  ASSERT_TRUE(rogue.send(encoder.encode(1, second), zmq::send_flags::none));

  PullLoop loop;
  loop.run(pull, 2, Clock::now() + kDeadline);

  ASSERT_EQ(loop.delivered.size(), 2u) << "rejected: " << loop.rejects.summary();
  EXPECT_TRUE(sameEvents(loop.delivered[0].events, first.events));
  EXPECT_TRUE(sameEvents(loop.delivered[1].events, second.events));
  EXPECT_EQ(loop.rejects.total(), 2 * garbageCount) << loop.rejects.summary();
  EXPECT_EQ(loop.rejects.count(RejectReason::EmptyFrame), 2u);
  EXPECT_EQ(loop.rejects.count(RejectReason::NotWordMultiple), 2u);
  EXPECT_EQ(loop.rejects.count(RejectReason::Truncated), 2u);
  EXPECT_GE(loop.rejects.count(RejectReason::BadSegmentTable), 2u);  // the random frame may add to these
  EXPECT_GE(loop.rejects.count(RejectReason::WrongVersion), 2u);
  std::printf("rejected %llu messages on %s: %s\n", static_cast<unsigned long long>(loop.rejects.total()),
              endpoint.c_str(), loop.rejects.summary().c_str());
}

TEST(ProtocolRogueSocket, RouterCountsRejectsPerPeerAndServesTheOthers) {
  zmq::context_t context(1);
  zmq::socket_t router(context, zmq::socket_type::router);
  configure(router);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);

  zmq::socket_t rogue(context, zmq::socket_type::dealer), node(context, zmq::socket_type::dealer);
  configure(rogue);
  configure(node);
  rogue.set(zmq::sockopt::routing_id, "rogue");
  node.set(zmq::sockopt::routing_id, "node-1");
  rogue.connect(endpoint);
  node.connect(endpoint);

  std::vector<zmq::message_t> garbage = garbageFrames();
  const size_t garbageCount = garbage.size();
  for (auto& frame : garbage) ASSERT_TRUE(rogue.send(frame, zmq::send_flags::none));
  // The rogue then claims to be node 1 with a perfectly valid hello: accepted, but by identity.
  ASSERT_TRUE(rogue.send(encode(1, sampleHello()), zmq::send_flags::none));
  ASSERT_TRUE(node.send(encode(1, sampleHello()), zmq::send_flags::none));
  ASSERT_TRUE(node.send(encode(1, HeartbeatMessage{0, 123}), zmq::send_flags::none));

  // The coordinator's loop: one RejectCounter per peer identity.
  std::map<std::string, RejectCounter> rejects;
  std::map<std::string, std::vector<std::string>> processed;
  std::vector<zmq_pollitem_t> items{{router.handle(), 0, ZMQ_POLLIN, 0}};
  const auto deadline = Clock::now() + kDeadline;
  auto done = [&] { return processed["node-1"].size() == 2 && processed["rogue"].size() == 1; };
  while (!done() && Clock::now() < deadline) {
    zmq::poll(items, 50ms);
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    std::vector<zmq::message_t> parts;
    while (zmq::recv_multipart(router, std::back_inserter(parts), zmq::recv_flags::dontwait)) {
      ASSERT_EQ(parts.size(), 2u);
      const std::string peer = parts[0].to_string();
      RejectCounter& counter = rejects[peer];
      auto decoded = tryDecode(std::move(parts[1]), counter);
      parts.clear();
      if (!decoded) continue;
      if (readAny(*decoded, counter)) processed[peer].push_back(kindName(decoded->kind()));
    }
  }

  ASSERT_TRUE(done()) << "rogue: " << rejects["rogue"].summary();
  EXPECT_EQ(processed["node-1"], (std::vector<std::string>{"hello", "heartbeat"}));
  EXPECT_EQ(rejects["node-1"].total(), 0u);
  EXPECT_EQ(rejects["rogue"].total(), garbageCount);
  for (const auto& [peer, counter] : rejects)
    if (counter.total() > 0)
      std::printf("rejected %llu messages from %s: %s\n", static_cast<unsigned long long>(counter.total()),
                  peer.c_str(), counter.summary().c_str());
}

}  // namespace
}  // namespace wafersim::proto
