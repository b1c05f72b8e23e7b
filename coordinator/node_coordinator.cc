#include "coordinator/node_coordinator.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "protocol/codec.h"
#include "sim/error.h"
#include "sim/wall_timer.h"

namespace wafersim {
namespace {

using Clock = std::chrono::steady_clock;

// "node-3" -> 3, anything else -> nullopt.
std::optional<uint32_t> nodeOfIdentity(const zmq::message_t& id) {
  const std::string s = id.to_string();
  if (s.rfind("node-", 0) != 0 || s.size() == 5 || s.size() > 12) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 5; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  return v <= 0xFFFFFFFFu ? std::optional<uint32_t>(static_cast<uint32_t>(v)) : std::nullopt;
}

}  // namespace

struct NodeCoordinator::State {
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router};
  proto::Encoder encoder{0};
  std::map<std::string, proto::RejectCounter> rejects;  // by sender identity
};

NodeCoordinator::NodeCoordinator(const std::string& bind) : state_(std::make_unique<State>()) {
  auto& router = state_->router;
  router.set(zmq::sockopt::linger, 1000);
  router.set(zmq::sockopt::router_mandatory, 1);
  router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::DecodeLimits{}.maxFrameBytes));
  router.bind(bind);
  endpoint_ = router.get(zmq::sockopt::last_endpoint);
  // "tcp://0.0.0.0:5555" is where we listen, not an address to hand out.
  if (endpoint_.find("0.0.0.0") != std::string::npos)
    endpoint_.replace(endpoint_.find("0.0.0.0"), 7, "127.0.0.1");
}

NodeCoordinator::~NodeCoordinator() = default;

RunReport NodeCoordinator::run(const NodeRunOptions& options) {
  auto& router = state_->router;
  auto& encoder = state_->encoder;
  const uint32_t n = options.nodes;
  WAFERSIM_REQUIRE(n >= 1 && options.map.partitions == n, "the partition map has ", options.map.partitions,
                   " partitions for ", n, " nodes");

  std::vector<std::optional<proto::HelloMessage>> hello(n);
  std::vector<bool> ready(n), finished(n);
  std::vector<Clock::time_point> lastHeard(n, Clock::now());
  std::vector<std::optional<proto::QuiescenceMessage>> idleReport(n), probeAnswer(n);
  std::vector<proto::QuiescenceMessage> probeSnapshot;
  uint64_t probeEpoch = 0;
  bool probing = false;
  RunReport report;
  report.partitions.resize(n);

  auto sendTo = [&](uint32_t node, zmq::message_t&& frame) {
    try {
      router.send(zmq::message_t("node-" + std::to_string(node)), zmq::send_flags::sndmore);
      router.send(std::move(frame), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      // EHOSTUNREACH under router_mandatory: the node is gone; its silence will be reported.
    }
  };
  auto broadcast = [&](const auto& message) {
    for (uint32_t k = 0; k < n; ++k)
      if (hello[k]) sendTo(k, encoder.encode(proto::kCoordinatorSender, message));
  };
  auto abortAll = [&](ErrorKind kind, const std::string& reason) -> void {
    broadcast(proto::AbortMessage{reason});
    fail(kind, reason);
  };

  // Receives and dispatches one message; returns false on timeout.
  enum class Phase { Registering, Starting, Running };
  Phase phase = Phase::Registering;
  uint32_t registered = 0, readyCount = 0, finishedCount = 0;
  Clock::time_point lastHeartbeat = Clock::now();
  uint64_t heartbeatSeq = 0;

  auto handle = [&](uint32_t node, proto::DecodedMessage& msg, proto::RejectCounter& rejects) {
    switch (msg.kind()) {
      case proto::Envelope::HELLO: {
        auto h = proto::tryRead<proto::HelloMessage>(msg, rejects);
        if (!h) return;
        if (h->node != node) {
          std::fprintf(stderr, "wafersim: node-%u says it is node %u; ignored\n", node, h->node);
          return;
        }
        if (hello[node]) {
          std::fprintf(stderr, "wafersim: node %u registered twice (pid %u on %s, then pid %u on %s); ignored\n",
                       node, hello[node]->pid, hello[node]->hostname.c_str(), h->pid, h->hostname.c_str());
          return;
        }
        if (phase != Phase::Registering) return;
        hello[node] = std::move(*h);
        ++registered;
        return;
      }
      case proto::Envelope::READY:
        if (!ready[node]) {
          ready[node] = true;
          ++readyCount;
        }
        return;
      case proto::Envelope::HEARTBEAT:
        return;
      case proto::Envelope::FAILURE: {
        auto f = proto::tryRead<proto::FailureMessage>(msg, rejects);
        const std::string why = f ? f->message : "node " + std::to_string(node) + " failed (unreadable reason)";
        abortAll(f ? f->kind : ErrorKind::Internal, why);
        return;
      }
      case proto::Envelope::RESULTS: {
        auto r = proto::tryRead<proto::ResultsMessage>(msg, rejects);
        if (!r) abortAll(ErrorKind::Internal, "node " + std::to_string(node) + " sent unreadable results: " +
                                                  r.error().describe());
        if (finished[node]) return;
        finished[node] = true;
        ++finishedCount;
        for (auto& rec : r->components) report.results.add(std::move(rec));
        report.results.noteSimulatedTime(r->lastEventTime);
        report.partitions[node] = r->report;
        report.partitions[node].id = node;
        report.wallSeconds = std::max(report.wallSeconds, r->report.wallSeconds);
        return;
      }
      case proto::Envelope::QUIESCENCE: {
        auto q = proto::tryRead<proto::QuiescenceMessage>(msg, rejects);
        if (!q) return;
        if (q->epoch == 0) {
          idleReport[node] = *q;
        } else if (probing && q->epoch == probeEpoch) {
          probeAnswer[node] = *q;
        }
        return;
      }
      default:
        rejects.record(proto::RejectReason::UnexpectedKind);
        std::fprintf(stderr, "wafersim: ignored a %s message from node %u\n", proto::kindName(msg.kind()), node);
    }
  };

  auto pumpOnce = [&](int timeoutMs) {
    zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 1, std::chrono::milliseconds(timeoutMs));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
      return;  // a signal: the watchdog decides what it means
    }
    if (!(items[0].revents & ZMQ_POLLIN)) return;
    for (int i = 0; i < 256; ++i) {
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(router, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
      const std::string identity = parts.empty() ? "" : parts[0].to_string();
      auto& rejects = state_->rejects[identity.size() <= 64 ? identity : identity.substr(0, 64)];
      const auto node = parts.empty() ? std::nullopt : nodeOfIdentity(parts[0]);
      if (!node || *node >= n || parts.size() != 2) {
        rejects.record(proto::RejectReason::InvalidContent);
        std::fprintf(stderr, "wafersim: rejected a message from unknown peer \"%s\" (%zu frames); total from it: %s\n",
                     identity.c_str(), parts.size(), rejects.summary().c_str());
        continue;
      }
      lastHeard[*node] = Clock::now();
      auto decoded = proto::tryDecode(std::move(parts[1]), rejects);
      if (!decoded) {
        std::fprintf(stderr, "wafersim: rejected a message from node %u: %s (total from it: %s)\n", *node,
                     decoded.error().describe().c_str(), rejects.summary().c_str());
        continue;
      }
      handle(*node, *decoded, rejects);
    }
  };

  auto watch = [&] {
    const auto now = Clock::now();
    if (options.watchdog)
      if (auto reason = options.watchdog(finished)) abortAll(ErrorKind::Disconnected, *reason);
    if (phase != Phase::Registering) {
      for (uint32_t k = 0; k < n; ++k) {
        const double silent = std::chrono::duration<double>(now - lastHeard[k]).count();
        if (!finished[k] && silent * 1000 > options.heartbeatTimeoutMs) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.1f", silent);
          abortAll(ErrorKind::Disconnected, "node " + std::to_string(k) + " stopped answering (pid " +
                                                std::to_string(hello[k]->pid) + " on " + hello[k]->hostname +
                                                ", silent for " + buf + " s)");
        }
      }
      if (now - lastHeartbeat >= std::chrono::milliseconds(options.heartbeatIntervalMs)) {
        broadcast(proto::HeartbeatMessage{++heartbeatSeq, 0});
        lastHeartbeat = now;
      }
    }
  };

  // 1. Registration.
  const auto registrationDeadline = Clock::now() + std::chrono::milliseconds(options.registrationTimeoutMs);
  while (registered < n) {
    pumpOnce(50);
    watch();
    if (Clock::now() > registrationDeadline) {
      std::string missing;
      for (uint32_t k = 0; k < n; ++k)
        if (!hello[k]) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
      abortAll(ErrorKind::Disconnected, "node(s) " + missing + " did not register within " +
                                            std::to_string(options.registrationTimeoutMs / 1000) + " s at " + endpoint_);
    }
  }

  // 2. Assignment.
  phase = Phase::Starting;
  std::vector<std::string> endpoints(n);
  for (uint32_t k = 0; k < n; ++k) endpoints[k] = hello[k]->dataEndpoint;
  for (uint32_t k = 0; k < n; ++k) {
    lastHeard[k] = Clock::now();
    proto::AssignMessage assign{options.scenarioText, options.overrides,         n, k, options.map.of, options.run,
                                endpoints,            options.heartbeatIntervalMs, options.heartbeatTimeoutMs};
    sendTo(k, encoder.encode(proto::kCoordinatorSender, assign));
  }
  while (readyCount < n) {
    pumpOnce(50);
    watch();
  }

  // 3. Run.
  phase = Phase::Running;
  broadcast(proto::StartMessage{});
  while (finishedCount < n) {
    pumpOnce(50);
    watch();
    // Quiescence for null-message runs without an end time.
    if (!probing) {
      bool allIdle = true;
      uint64_t sent = 0, received = 0;
      for (uint32_t k = 0; k < n && allIdle; ++k) {
        allIdle = idleReport[k] && idleReport[k]->idle;
        if (allIdle) {
          sent += idleReport[k]->eventsSent;
          received += idleReport[k]->eventsReceived;
        }
      }
      if (allIdle && sent == received) {
        probing = true;
        ++probeEpoch;
        probeSnapshot.clear();
        for (uint32_t k = 0; k < n; ++k) probeSnapshot.push_back(*idleReport[k]);
        std::fill(probeAnswer.begin(), probeAnswer.end(), std::nullopt);
        broadcast(proto::QuiescenceMessage{false, 0, 0, probeEpoch});
      }
    } else {
      bool answered = true, quiet = true;
      for (uint32_t k = 0; k < n; ++k) {
        if (!probeAnswer[k]) {
          answered = false;
          break;
        }
        quiet = quiet && probeAnswer[k]->idle && probeAnswer[k]->eventsSent == probeSnapshot[k].eventsSent &&
                probeAnswer[k]->eventsReceived == probeSnapshot[k].eventsReceived;
      }
      if (answered) {
        probing = false;
        if (quiet) broadcast(proto::TerminateMessage{probeEpoch});
        // Otherwise someone moved: the next idle report starts a new probe.
        for (uint32_t k = 0; k < n && !quiet; ++k)
          if (!probeAnswer[k]->idle) idleReport[k].reset();
      }
    }
  }
  broadcast(proto::ShutdownMessage{});
  for (const auto& [identity, rejects] : state_->rejects)
    if (rejects.total() > 0)
      std::fprintf(stderr, "wafersim: rejected %llu messages from \"%s\": %s\n",
                   static_cast<unsigned long long>(rejects.total()), identity.c_str(), rejects.summary().c_str());
  return report;
}

}  // namespace wafersim
