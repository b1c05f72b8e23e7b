// The placement service's messages, conversions, decision and in-process service (over loopback
// ZeroMQ, the service on a thread of this process). tests/placement/
// placement_service_integration_test.cc runs the real wafersim-placement process.
#include "placement/placement_service.h"

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <atomic>
#include <random>
#include <thread>

#include "placement/placement_client.h"
#include "protocol/codec.h"
#include "protocol/placement_convert.h"
#include "tests/placement/placement_service_support.h"

namespace wafersim::placement {
namespace {

using namespace std::chrono_literals;
using testing::decideInProcess;
using testing::expectSameProblem;
using testing::expectSameReply;
using testing::meshProblem;

// A problem that exercises every field: unusable die, groups, capacities, heatmaps, a current
// placement with replicas, shards, engines, a node map and a split rule, options.
Problem richProblem() {
  Problem p = meshProblem(4, 2, 3, 16, /*heatmaps=*/true, 64, 2);
  p.fabric.unusable = {false, false, false, false, false, true, false, false};
  p.fabric.groupOf = {0, 0, 1, 1, 0, 0, 1, 1};
  p.fabric.expertCapacityBytes[3] = 12345;
  p.current.putSplit(0, 1, {0, 1, 2});
  p.current.replicas(1, 2) = {Replica{{Shard{3, kWhole, 1}}}, Replica{{Shard{4, kWhole / 2, 0}, Shard{6, kWhole / 2}}}};
  p.current.split = Split::Nearest;
  p.current.nodeMap = {7, 6, 5, 4, 3, 2, 1, 0};
  p.options.set("layer_shift", "3");
  p.options.set("zeta", "a value");
  p.seed = 0xDEADBEEFCAFEull;
  return p;
}

proto::PlacementRequestMessage request(const std::string& runId, uint64_t epoch, const std::string& policy, Problem p) {
  proto::PlacementRequestMessage r;
  r.runId = runId;
  r.epoch = epoch;
  r.policy = policy;
  r.problem = std::move(p);
  return r;
}

template <typename T>
tl::expected<T, proto::Rejection> roundTrip(const T& value, proto::RejectCounter& rejects) {
  auto decoded = proto::tryDecode(proto::encode(3, value), rejects);
  if (!decoded) return tl::unexpected(decoded.error());
  return proto::tryRead<T>(*decoded, rejects);
}

// ---- wire -------------------------------------------------------------------------------------

TEST(PlacementWire, ProblemRoundTripsExactly) {
  const Problem p = richProblem();
  ASSERT_TRUE(p.profile.hasPairs() && p.profile.hasNext());
  proto::RejectCounter rejects;
  auto back = roundTrip(request("run-7", 12, "ep", p), rejects);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(back->runId, "run-7");
  EXPECT_EQ(back->epoch, 12u);
  EXPECT_EQ(back->policy, "ep");
  expectSameProblem(back->problem, p);
  EXPECT_EQ(rejects.total(), 0u);

  // A recorded profile keeps recording after the trip (the cross-token memory is fresh).
  std::vector<uint64_t> req{1};
  std::vector<uint32_t> pos{0}, die{0}, choices{1, 2};
  back->problem.profile.record(0, req, pos, die, choices, 2);
  EXPECT_EQ(back->problem.profile.load(0, 1), p.profile.load(0, 1) + 1);
}

TEST(PlacementWire, EmptyCurrentPlacementAndNoHeatmapsRoundTrip) {
  Problem p = meshProblem(2, 2, 2, 8, false);
  p.current = Placement();
  proto::RejectCounter rejects;
  auto back = roundTrip(request("r", 0, "tp", p), rejects);
  ASSERT_TRUE(back) << back.error().describe();
  expectSameProblem(back->problem, p);
  EXPECT_FALSE(back->problem.profile.hasPairs());
}

TEST(PlacementWire, DecisionRoundTripsExactly) {
  proto::PlacementReplyMessage reply;
  reply.runId = "run-7";
  reply.epoch = 3;
  reply.outcome = proto::DecisionOutcome::Applied;
  reply.decision.placement = richProblem().current;
  reply.decision.reason = "because";
  reply.decision.predictedGain = 0.1 + 0.2;  // not a short decimal
  reply.decision.optimalityGap = 1e-9;
  reply.decisionMicros = 1234567;
  proto::RejectCounter rejects;
  auto back = roundTrip(reply, rejects);
  ASSERT_TRUE(back) << back.error().describe();
  expectSameReply(*back, reply);

  reply.outcome = proto::DecisionOutcome::Kept;
  reply.decision = {};
  reply.decision.reason = "policy x took longer than 5 ms";
  back = roundTrip(reply, rejects);
  ASSERT_TRUE(back) << back.error().describe();
  expectSameReply(*back, reply);
  EXPECT_EQ(back->decision.optimalityGap, -1);
}

// Encodes a valid request, lets `mutate` break it through the builder, and expects a counted
// InvalidContent (or Malformed) rejection naming `expected`.
template <typename Mutate>
void expectRefused(Mutate mutate, const std::string& expected) {
  const Problem p = richProblem();
  proto::Encoder encoder(0);
  auto root = encoder.begin(1);
  proto::toWire(request("r", 1, "ep", p), root);
  mutate(root.getPlacementRequest());
  proto::RejectCounter rejects;
  auto decoded = proto::tryDecode(encoder.finish(), rejects);
  ASSERT_TRUE(decoded) << decoded.error().describe();
  auto read = proto::tryRead<proto::PlacementRequestMessage>(*decoded, rejects);
  ASSERT_FALSE(read) << "accepted; expected a refusal naming " << expected;
  EXPECT_NE(read.error().detail.find(expected), std::string::npos) << read.error().describe();
  EXPECT_EQ(rejects.total(), 1u);
}

TEST(PlacementWire, InconsistentRequestsAreRefusedAndCounted) {
  using B = proto::PlacementRequest::Builder;
  expectRefused([](B r) { r.getFabric().setDies(0); }, "fabric: 0 dies");
  expectRefused([](B r) { r.getFabric().setDies(1u << 30); }, "fabric: 1073741824 dies");
  expectRefused([](B r) { r.getFabric().initHops(5); }, "fabric.hops: 5 elements");
  expectRefused([](B r) { r.getFabric().initExpertFlops(0); }, "fabric.expertFlops: 0 elements");
  expectRefused([](B r) { r.getFabric().getLinkBandwidth().set(0, std::nan("")); }, "fabric.linkBandwidth[0]");
  expectRefused([](B r) { r.getFabric().getLinkBandwidth().set(1, 0.0); }, "fabric.linkBandwidth[1]");
  expectRefused([](B r) { r.getFabric().getPathLinks().set(0, 999999); }, "uses link 999999");
  expectRefused([](B r) { r.getFabric().getPathOffsets().set(3, 0); }, "fabric.pathOffsets: path 2");
  expectRefused([](B r) { r.getFabric().getGroupOf().set(2, 8); }, "fabric.groupOf: die 2");
  expectRefused([](B r) { r.getFabric().setGridX(3); }, "grid");
  expectRefused([](B r) { r.getModel().setTopK(17); }, "top-17 of 16");
  expectRefused([](B r) { r.getModel().setLayers(4); }, "profile of 3 layers");
  expectRefused([](B r) { r.getProfile().initTokens(2); }, "profile.tokens: 2 elements");
  expectRefused([](B r) { r.getProfile().getPairs()[0].setLayer(3); }, "profile.pairs: cell (3,");
  expectRefused([](B r) { r.getProfile().getPairs()[1].setCount(0); }, "count 0");
  expectRefused(
      [](B r) {
        auto pairs = r.getProfile().getPairs();
        pairs[1].setLayer(pairs[0].getLayer());
        pairs[1].setA(pairs[0].getA());
        pairs[1].setB(pairs[0].getB());
      },
      "out of ascending order or repeated");
  expectRefused([](B r) { r.getProfile().setHasNext(false); }, "profile.next:");
  expectRefused(
      [](B r) {
        // A layers x experts x experts heatmap far beyond the limit, with none of it on the wire.
        r.getModel().setLayers(1024);
        r.getModel().setExperts(1024);
        auto prof = r.getProfile();
        prof.setLayers(1024);
        prof.setExperts(1024);
        prof.initTokens(1024);
        prof.initLoads(1024 * 1024);
        prof.initPairs(0);
        prof.initNext(0);
      },
      "cells");
  expectRefused([](B r) { r.getCurrent().getShards()[0].setDie(8); }, "die 8");
  expectRefused([](B r) { r.getCurrent().getShards()[0].setParts(7); }, "parts");
  expectRefused([](B r) { r.getCurrent().getReplicaCounts().set(0, 0); }, "has 0 replicas");
  expectRefused([](B r) { r.getCurrent().getShardCounts().set(0, 2); }, "placement");
  expectRefused([](B r) { r.getCurrent().getNodeMap().set(0, 9); }, "placement.nodeMap: node 0 on die 9");
  expectRefused([](B r) { r.getCurrent().setSplit(static_cast<proto::PlacementSplit>(9)); }, "split rule 9");
  expectRefused([](B r) { r.getCurrent().setExperts(15); }, "placement.replicaCounts");
  expectRefused([](B r) { r.getOptions()[1].setKey("layer_shift"); }, "option layer_shift twice");
  expectRefused([](B r) { r.setRunId(std::string(5000, 'x')); }, "run id: 5000 bytes");
  expectRefused([](B r) { r.setAttentionSeconds(-1); }, "attentionSeconds");
}

TEST(PlacementWire, CorruptedFramesNeverThrow) {
  const auto frame = proto::encode(1, request("r", 1, "ep", richProblem()));
  const auto* bytes = static_cast<const std::byte*>(frame.data());
  std::vector<std::byte> copy(bytes, bytes + frame.size());
  std::mt19937_64 rng(11);
  proto::RejectCounter rejects;
  int accepted = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<std::byte> bad = copy;
    for (int flips = 1 + static_cast<int>(rng() % 8); flips > 0; --flips)
      bad[8 + rng() % (bad.size() - 8)] = static_cast<std::byte>(rng());
    auto decoded = proto::tryDecode(std::span<const std::byte>(bad), rejects);
    if (!decoded) continue;
    proto::PlacementRequestMessage out;
    accepted += proto::tryRead(*decoded, out, rejects).has_value();
  }
  EXPECT_GT(rejects.total(), 0u);
  EXPECT_EQ(rejects.total() + static_cast<uint64_t>(accepted), 400u);
}

TEST(PlacementWire, KindNames) {
  EXPECT_STREQ(proto::kindName(proto::Envelope::PLACEMENT_REQUEST), "placementRequest");
  EXPECT_STREQ(proto::kindName(proto::Envelope::PLACEMENT_REPLY), "placementReply");
}

// ---- runPolicy --------------------------------------------------------------------------------

TEST(PlacementRunPolicy, AnswersWhatThePolicyDecidesInProcess) {
  const Problem p = meshProblem(4, 4, 4, 32, false);
  for (const std::string name : {"tp", "ep", "ep_random"}) {
    const Decision here = decideInProcess(name, p);
    const auto reply = runPolicy(request("r", 1, name, p));
    ASSERT_TRUE(reply.applied()) << name << ": " << reply.decision.reason;
    EXPECT_EQ(reply.decision.placement, here.placement) << name;
    EXPECT_EQ(reply.decision.reason, here.reason) << name;
    EXPECT_EQ(reply.decision.predictedGain, here.predictedGain) << name;
    EXPECT_EQ(reply.decision.optimalityGap, here.optimalityGap) << name;
  }
}

TEST(PlacementRunPolicy, ResolvesTheOptions) {
  Problem p = meshProblem(4, 4, 4, 32, false);
  p.options.set("layer_shift", "5");
  const auto reply = runPolicy(request("r", 1, "ep", p));
  ASSERT_TRUE(reply.applied()) << reply.decision.reason;
  EXPECT_EQ(reply.decision.placement, decideInProcess("ep", p, p.options).placement);
  EXPECT_NE(reply.decision.placement, decideInProcess("ep", p).placement);
}

TEST(PlacementRunPolicy, AFailingPolicyKeepsTheMapping) {
  Problem p = meshProblem(4, 4, 4, 32, false);
  p.fabric.expertCapacityBytes.assign(16, 1000);  // nothing fits
  auto reply = runPolicy(request("r", 1, "ep", p));
  EXPECT_FALSE(reply.applied());
  EXPECT_EQ(reply.decision.placement, Placement());
  EXPECT_EQ(reply.decision.reason.rfind("policy ep failed: placement policy ep: the model does not fit die 0", 0), 0u)
      << reply.decision.reason;

  p = meshProblem(4, 4, 4, 32, false);
  reply = runPolicy(request("r", 1, "no_such_policy", p));
  EXPECT_FALSE(reply.applied());
  EXPECT_NE(reply.decision.reason.find("policy no_such_policy failed: "), std::string::npos) << reply.decision.reason;
  EXPECT_NE(reply.decision.reason.find("unknown placement policy"), std::string::npos) << reply.decision.reason;

  p.options.set("no_such_option", "1");
  reply = runPolicy(request("r", 1, "ep", p));
  EXPECT_FALSE(reply.applied());
  EXPECT_NE(reply.decision.reason.find("no_such_option"), std::string::npos) << reply.decision.reason;

  p = meshProblem(4, 4, 4, 32, false);
  p.fabric.unusable.assign(16, true);  // no usable die
  reply = runPolicy(request("r", 1, "ep", p));
  EXPECT_FALSE(reply.applied());
  EXPECT_NE(reply.decision.reason.find("no usable die"), std::string::npos) << reply.decision.reason;
}

// ---- the service, on a thread ------------------------------------------------------------------

class ServiceThread {
 public:
  explicit ServiceThread(ServiceOptions options) {
    options.bind = "tcp://127.0.0.1:*";
    options.log = false;
    service_ = std::make_unique<PlacementService>(std::move(options));
    thread_ = std::thread([this] { service_->run(stop_); });
  }
  ~ServiceThread() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  PlacementService& service() { return *service_; }
  const std::string& endpoint() const { return service_->endpoint(); }

 private:
  std::atomic<bool> stop_{false};
  std::unique_ptr<PlacementService> service_;
  std::thread thread_;
};

TEST(PlacementService, AnswersLikeThePolicyInProcess) {
  ServiceThread svc({});
  PlacementClient client(svc.endpoint(), 10s);
  const Problem p = meshProblem(4, 4, 4, 32, false);
  uint64_t epoch = 0;
  for (const std::string name : {"tp", "ep", "ep_random"}) {
    const auto reply = client.ask("run", epoch++, name, {}, p);
    ASSERT_TRUE(reply.applied()) << name << ": " << reply.decision.reason;
    const Decision here = decideInProcess(name, p);
    EXPECT_EQ(reply.decision.placement, here.placement) << name;
    EXPECT_EQ(reply.decision.reason, here.reason) << name;
    EXPECT_EQ(reply.decision.predictedGain, here.predictedGain) << name;
  }
  EXPECT_EQ(client.tries(), 1u);
  svc.stop();
  EXPECT_EQ(svc.service().stats().decisions, 3u);
  EXPECT_EQ(svc.service().stats().applied, 3u);
}

TEST(PlacementService, OneQuestionOneAnswer) {
  ServiceThread svc({});
  const Problem p = meshProblem(4, 4, 4, 32, false);
  PlacementClient first(svc.endpoint(), 10s, 2, 0);
  const auto a = first.ask("run", 5, "ep", {}, p);
  ASSERT_TRUE(a.applied()) << a.decision.reason;
  // Another node asks the same question with other content (even another policy): same answer,
  // to the microsecond of the recorded decision time.
  PlacementClient second(svc.endpoint(), 10s, 2, 1);
  Problem other = meshProblem(4, 4, 4, 32, false);
  other.seed = 99;
  const auto b = second.ask("run", 5, "tp", {}, other);
  expectSameReply(a, b);
  // Another epoch or another run is another question.
  const auto c = second.ask("run", 6, "tp", {}, other);
  EXPECT_NE(c.decision.placement, a.decision.placement);
  const auto d = second.ask("other run", 5, "tp", {}, other);
  EXPECT_EQ(d.decision.placement, c.decision.placement);
  svc.stop();
  EXPECT_EQ(svc.service().stats().decisions, 3u);
  EXPECT_EQ(svc.service().stats().memoHits, 1u);
}

TEST(PlacementService, ConcurrentAskersShareOneDecision) {
  ServiceThread svc({});
  const Problem p = testing::deepSeekProblem();
  constexpr int kAskers = 6;
  std::vector<proto::PlacementReplyMessage> replies(kAskers);
  std::vector<std::thread> askers;
  for (int i = 0; i < kAskers; ++i)
    askers.emplace_back([&, i] {
      PlacementClient client(svc.endpoint(), 20s, 0, static_cast<uint32_t>(i));
      replies[i] = client.ask("run", 1, "tp", {}, p);
    });
  for (auto& t : askers) t.join();
  ASSERT_TRUE(replies[0].applied()) << replies[0].decision.reason;
  for (int i = 1; i < kAskers; ++i) expectSameReply(replies[i], replies[0]);
  svc.stop();
  EXPECT_EQ(svc.service().stats().decisions, 1u);
  EXPECT_EQ(svc.service().stats().memoHits, uint64_t{kAskers - 1});
}

TEST(PlacementService, AFailingPolicyIsKeptWithItsReason) {
  ServiceThread svc({});
  PlacementClient client(svc.endpoint(), 10s);
  Problem p = meshProblem(4, 4, 4, 32, false);
  p.fabric.expertCapacityBytes.assign(16, 1000);
  const auto reply = client.ask("run", 1, "ep", {}, p);
  EXPECT_FALSE(reply.applied());
  EXPECT_EQ(reply.decision.reason.rfind("policy ep failed: placement policy ep: the model does not fit die 0", 0), 0u)
      << reply.decision.reason;
}

TEST(PlacementService, PastTheDeadlineTheMappingIsKeptForEveryone) {
  ServiceOptions options;
  options.deadline = 0ms;  // always past: decided "kept" before any worker can answer
  ServiceThread svc(options);
  PlacementClient client(svc.endpoint(), 10s);
  const Problem p = meshProblem(4, 4, 4, 32, false);
  const auto a = client.ask("run", 1, "ep", {}, p);
  EXPECT_FALSE(a.applied());
  EXPECT_EQ(a.decision.reason, "policy ep took longer than 0 ms");
  std::this_thread::sleep_for(50ms);  // the policy's late result arrives and is dropped
  const auto b = client.ask("run", 1, "ep", {}, p);
  expectSameReply(a, b);
  svc.stop();
  EXPECT_EQ(svc.service().stats().deadlines, 1u);
  EXPECT_EQ(svc.service().stats().decisions, 1u);
}

TEST(PlacementService, RogueFramesAreRejectedAndTheServiceGoesOn) {
  ServiceThread svc({});
  zmq::context_t context;
  zmq::socket_t rogue(context, zmq::socket_type::dealer);
  rogue.set(zmq::sockopt::linger, 0);
  rogue.connect(svc.endpoint());
  rogue.send(zmq::message_t(), zmq::send_flags::none);                       // empty
  rogue.send(zmq::message_t(std::string("GET / HTTP/1.1")), zmq::send_flags::none);  // not words
  rogue.send(zmq::message_t(std::string(16, '\xff')), zmq::send_flags::none);        // segment table
  rogue.send(proto::encode(4, proto::HeartbeatMessage{1, 2}), zmq::send_flags::none);  // wrong kind
  std::string noise(4096, '\0');
  std::mt19937_64 rng(3);
  for (char& c : noise) c = static_cast<char>(rng());
  rogue.send(zmq::message_t(noise), zmq::send_flags::none);
  // A request whose content is refused is answered "kept" with the refusal.
  {
    proto::Encoder encoder(0);
    auto root = encoder.begin(4);
    proto::toWire(request("bad", 1, "ep", meshProblem(2, 2, 1, 4, false)), root);
    root.getPlacementRequest().getFabric().setDies(3);
    rogue.send(zmq::message_t(), zmq::send_flags::sndmore);  // REQ-style delimiter
    rogue.send(encoder.finish(), zmq::send_flags::none);
    zmq::pollitem_t items[] = {{rogue.handle(), 0, ZMQ_POLLIN, 0}};
    ASSERT_EQ(zmq::poll(items, 1, 10s), 1);
    zmq::message_t delimiter, body;
    ASSERT_TRUE(rogue.recv(delimiter));
    EXPECT_EQ(delimiter.size(), 0u);
    ASSERT_TRUE(rogue.recv(body));
    proto::RejectCounter rejects;
    auto decoded = proto::tryDecode(std::move(body), rejects);
    ASSERT_TRUE(decoded);
    auto reply = proto::tryRead<proto::PlacementReplyMessage>(*decoded, rejects);
    ASSERT_TRUE(reply);
    EXPECT_FALSE(reply->applied());
    EXPECT_EQ(reply->runId, "bad");
    EXPECT_NE(reply->decision.reason.find("placement service refused the request: invalid-content"),
              std::string::npos)
        << reply->decision.reason;
  }
  PlacementClient client(svc.endpoint(), 10s);
  const auto good = client.ask("run", 1, "ep", {}, meshProblem(4, 4, 4, 32, false));
  EXPECT_TRUE(good.applied()) << good.decision.reason;
  svc.stop();
  EXPECT_EQ(svc.service().stats().rejected, 6u) << svc.service().rejectSummary();
  EXPECT_EQ(svc.service().stats().decisions, 1u);
}

TEST(PlacementClient, NoServiceMeansTheMappingIsKept) {
  // Bind and close a socket to find a port nobody listens on.
  std::string endpoint;
  {
    zmq::context_t context;
    zmq::socket_t probe(context, zmq::socket_type::router);
    probe.set(zmq::sockopt::linger, 0);
    probe.bind("tcp://127.0.0.1:*");
    endpoint = probe.get(zmq::sockopt::last_endpoint);
  }
  PlacementClient client(endpoint, 100ms, 1);
  const auto start = std::chrono::steady_clock::now();
  const auto reply = client.ask("run", 4, "ep", {}, meshProblem(2, 2, 1, 4, false));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(reply.applied());
  EXPECT_EQ(reply.runId, "run");
  EXPECT_EQ(reply.epoch, 4u);
  EXPECT_EQ(reply.decision.reason, "placement service at " + endpoint + " did not answer in 200 ms (2 tries of 100 ms)");
  EXPECT_EQ(client.tries(), 2u);
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 5s);
}

TEST(PlacementClient, ALateServiceIsFoundOnRetry) {
  // The client's first try goes unanswered; the service starts and the second try gets through.
  zmq::context_t context;
  std::string endpoint;
  {
    zmq::socket_t probe(context, zmq::socket_type::router);
    probe.set(zmq::sockopt::linger, 0);
    probe.bind("tcp://127.0.0.1:*");
    endpoint = probe.get(zmq::sockopt::last_endpoint);
  }
  std::atomic<bool> stop{false};
  std::thread late([&] {
    std::this_thread::sleep_for(300ms);
    ServiceOptions options;
    options.bind = endpoint;
    options.log = false;
    PlacementService service(options);
    service.run(stop);
  });
  PlacementClient client(endpoint, 500ms, 5);
  const auto reply = client.ask("run", 1, "ep", {}, meshProblem(2, 2, 1, 4, false));
  stop = true;
  late.join();
  EXPECT_TRUE(reply.applied()) << reply.decision.reason;
  EXPECT_GE(client.tries(), 1u);
}

}  // namespace
}  // namespace wafersim::placement
