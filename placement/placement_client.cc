#include "placement/placement_client.h"

#include <unistd.h>

#include <map>
#include <mutex>
#include <utility>

#include "protocol/codec.h"
#include "protocol/placement_convert.h"

namespace wafersim::placement {
namespace {

proto::PlacementReplyMessage kept(const std::string& runId, uint64_t epoch, std::string reason) {
  proto::PlacementReplyMessage r;
  r.runId = runId;
  r.epoch = epoch;
  r.outcome = proto::DecisionOutcome::Kept;
  r.decision.reason = std::move(reason);
  return r;
}

}  // namespace

PlacementClient::PlacementClient(std::string endpoint, std::chrono::milliseconds timeout, uint32_t retries,
                                 uint32_t sender, zmq::context_t* context, proto::CurveClient curve)
    : endpoint_(std::move(endpoint)),
      timeout_(timeout),
      retries_(retries),
      sender_(sender),
      curve_(std::move(curve)),
      context_(context) {
  if (!context_) {
    ownContext_ = std::make_unique<zmq::context_t>(1);
    context_ = ownContext_.get();
  }
}

PlacementClient::~PlacementClient() = default;  // sockets linger 0: nothing waits

proto::PlacementReplyMessage PlacementClient::ask(const std::string& runId, uint64_t epoch, const std::string& policy,
                                                  const Params& options, const Problem& problem) {
  proto::Encoder encoder(0);
  proto::toWireRequest(runId, epoch, policy, options, problem, encoder.begin(sender_).initPlacementRequest());
  return exchange(encoder.finish(), runId, epoch, problem);
}

proto::PlacementReplyMessage PlacementClient::ask(const proto::PlacementRequestMessage& request) {
  return exchange(proto::encode(sender_, request), request.runId, request.epoch, request.problem);
}

proto::PlacementReplyMessage PlacementClient::exchange(zmq::message_t&& frame, const std::string& runId,
                                                       uint64_t epoch, const Problem& problem) {
  const std::string who = "placement service at " + endpoint_;
  tries_ = 0;
  for (uint32_t attempt = 0; attempt <= retries_; ++attempt) {
    if (!socket_) {
      socket_.emplace(*context_, zmq::socket_type::req);
      socket_->set(zmq::sockopt::linger, 0);
      socket_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::DecodeLimits{}.maxFrameBytes));
      curve_.apply(*socket_);
      socket_->connect(endpoint_);
    }
    zmq::message_t copy;
    copy.copy(frame);
    ++tries_;
    socket_->send(std::move(copy), zmq::send_flags::none);
    zmq::pollitem_t items[] = {{socket_->handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, timeout_);
    if (!(items[0].revents & ZMQ_POLLIN)) {
      socket_.reset();  // Lazy Pirate: a REQ socket that got no answer cannot send again
      continue;
    }
    zmq::message_t answer;
    if (!socket_->recv(answer, zmq::recv_flags::none)) {
      socket_.reset();
      continue;
    }
    auto decoded = proto::tryDecode(std::move(answer), rejects_);
    if (!decoded) return kept(runId, epoch, who + " sent a reply that was refused: " + decoded.error().describe());
    auto reply = proto::tryRead<proto::PlacementReplyMessage>(*decoded, rejects_);
    if (!reply) return kept(runId, epoch, who + " sent a reply that was refused: " + reply.error().describe());
    if (reply->runId != runId || reply->epoch != epoch) {
      rejects_.record(proto::RejectReason::InvalidContent);
      return kept(runId, epoch,
                  who + " answered run " + reply->runId + " epoch " + std::to_string(reply->epoch) + " instead");
    }
    const Placement& p = reply->decision.placement;
    if (reply->applied() &&
        (p.dies() != problem.fabric.dies || p.layers() != problem.model.layers || p.experts() != problem.model.experts)) {
      rejects_.record(proto::RejectReason::InvalidContent);
      return kept(runId, epoch,
                  who + " answered with a placement of " + std::to_string(p.dies()) + " dies x " +
                      std::to_string(p.layers()) + " layers x " + std::to_string(p.experts()) + " experts");
    }
    return std::move(*reply);
  }
  const auto total = timeout_.count() * (int64_t{retries_} + 1);
  return kept(runId, epoch,
              who + " did not answer in " + std::to_string(total) + " ms (" + std::to_string(retries_ + 1) +
                  " tries of " + std::to_string(timeout_.count()) + " ms)");
}

RemoteDecider makeRemoteDecider(proto::CurveClient curve) {
  struct Clients {
    std::mutex mutex;
    std::map<std::pair<std::string, uint32_t>, std::unique_ptr<PlacementClient>> byEndpoint;
  };
  auto clients = std::make_shared<Clients>();
  return [clients, curve](const std::string& endpoint, uint32_t timeoutMs, const std::string& runId, uint64_t epoch,
                   const std::string& policy, const Params& options, const Problem& problem) {
    std::lock_guard<std::mutex> lock(clients->mutex);
    auto& client = clients->byEndpoint[{endpoint, timeoutMs}];
    if (!client)
      client = std::make_unique<PlacementClient>(endpoint, std::chrono::milliseconds(timeoutMs), 2, 0, nullptr, curve);
    proto::PlacementReplyMessage reply = client->ask(runId, epoch, policy, options, problem);
    RemoteAnswer answer;
    answer.applied = reply.applied();
    answer.reason = reply.decision.reason;
    answer.decision = std::move(reply.decision);
    return answer;
  };
}

std::string advertisedEndpoint(const std::string& bound) {
  const auto at = bound.find("0.0.0.0");
  if (at == std::string::npos) return bound;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return bound.substr(0, at) + host + bound.substr(at + 7);
}

void registerWithCoordinator(const std::string& coordinator, const std::string& advertise,
                             const std::atomic<bool>& stop, const std::shared_ptr<const proto::CurveSecurity>& curve) {
  using Clock = std::chrono::steady_clock;
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string name = "placement-" + std::string(host) + "-" + std::to_string(::getpid());
  socket.set(zmq::sockopt::routing_id, name);
  socket.set(zmq::sockopt::linger, 0);
  if (curve) proto::makeCurveClient(socket, *curve, curve->coordinatorKey);
  socket.connect(coordinator);
  proto::Encoder encoder(0);
  proto::HelloMessage hello;
  hello.node = 0;
  hello.capabilities = {"placement"};
  hello.dataEndpoint = advertise;
  hello.pid = static_cast<uint32_t>(::getpid());
  hello.hostname = host;
  hello.name = name;
  hello.pool = true;
  if (curve) hello.curveKey = curve->own.publicKey;
  socket.send(encoder.encode(0, hello), zmq::send_flags::none);
  auto lastHeard = Clock::now(), lastSent = Clock::now();
  uint64_t seq = 0;
  while (!stop.load()) {
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 1, std::chrono::milliseconds(100));
    } catch (const zmq::error_t&) {
      continue;
    }
    zmq::message_t frame;
    while (socket.recv(frame, zmq::recv_flags::dontwait)) lastHeard = Clock::now();  // heartbeats
    const auto now = Clock::now();
    if (now - lastSent > std::chrono::milliseconds(500)) {
      socket.send(encoder.encode(0, proto::HeartbeatMessage{++seq, 0}), zmq::send_flags::none);
      lastSent = now;
    }
    if (now - lastHeard > std::chrono::seconds(3)) {  // the coordinator restarted, or is not up yet
      socket.send(encoder.encode(0, hello), zmq::send_flags::none);
      lastHeard = now;
    }
  }
}

}  // namespace wafersim::placement
