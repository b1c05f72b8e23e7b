#include "coordinator/node_pool.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "protocol/codec.h"
#include "protocol/curve_auth.h"
#include "sim/error.h"
#include "sim/wall_timer.h"

namespace wafersim {
namespace {

using Clock = std::chrono::steady_clock;

struct Node {
  proto::HelloMessage hello;
  Clock::time_point lastHeard;
  int64_t registeredNs = 0;
  std::string runId;       // reserved for or running this run ("" free)
  bool busy = false;       // assigned and not yet released by the node itself
  uint32_t partition = 0;            // the first of `hosted`
  std::vector<uint32_t> hosted;      // the partitions it runs of its run, ascending
  uint64_t runsServed = 0;
};

// One run in progress: its request, where it stands, and the promise its caller waits on.
struct Session {
  PoolRun request;
  std::vector<std::string> hosts;  // the run's nodes, each once, in the order of their first partition
  enum class Phase { Starting, Running } phase = Phase::Starting;
  std::vector<bool> ready, finished;
  uint32_t readyCount = 0, finishedCount = 0;
  std::vector<std::optional<proto::QuiescenceMessage>> idleReport, probeAnswer;  // per host
  std::vector<proto::QuiescenceMessage> probeSnapshot;
  uint64_t probeEpoch = 0;
  bool probing = false;
  Clock::time_point assigned;           // when the assignments went out
  std::vector<uint64_t> events;         // per partition, from the nodes' heartbeats
  std::vector<int64_t> simulatedPs;
  RunReport report;
  std::promise<RunReport> done;
};

}  // namespace

std::string describeNode(const std::string& name) {
  if (name.rfind("node-", 0) == 0 && name.size() > 5 &&
      std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "node " + name.substr(5);
  return "node " + name;
}

struct NodePool::Impl {
  PoolOptions options;
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router};
  std::unique_ptr<proto::ZapAuthenticator> zap;  // with CURVE; before the router's bind
  std::shared_ptr<prometheus::Collectable> authMetrics;  // zap's, kept for the process's registry
  std::string endpoint;
  int wakeFd = -1;
  proto::Encoder encoder{0};

  mutable std::mutex mutex;  // guards everything below
  mutable std::condition_variable changed;  // nodes came, left or became free; progress arrived
  std::map<std::string, Node> nodes;
  // Placement services registered like nodes (hello with capability "placement"): name ->
  // (endpoint, last heard). Shared by every run; not nodes: never assigned a partition.
  std::map<std::string, std::pair<std::string, Clock::time_point>> placements;
  std::map<std::string, std::string> placementKeys;  // name -> its CURVE public key (with CURVE)
  std::map<std::string, std::shared_ptr<Session>> sessions;
  std::deque<std::function<void()>> commands;  // run on the I/O thread
  Counters counters;
  std::map<std::string, proto::RejectCounter> rejects;  // by sender identity (bounded)
  uint64_t rejectsLogged = 0;
  bool stopping = false;
  std::thread thread;

  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakeFd, &one, sizeof one);
  }
  // Runs `f` on the I/O thread (soon); never blocks.
  void post(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      commands.push_back(std::move(f));
    }
    wake();
  }
  void notifyChange() {
    changed.notify_all();
    if (options.onChange) options.onChange();
  }

  // ---- on the I/O thread, with `mutex` held ----

  void sendTo(const std::string& name, zmq::message_t&& frame) {
    try {
      router.send(zmq::message_t(name.data(), name.size()), zmq::send_flags::sndmore);
      router.send(std::move(frame), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      // EHOSTUNREACH under router_mandatory: the node is gone; its silence will be noticed.
    }
  }
  template <typename T>
  void sendRun(const Session& s, const std::string& node, const T& message) {
    sendTo(node, encoder.encodeFor(proto::kCoordinatorSender, s.request.runId, message));
  }
  template <typename T>
  void broadcastRun(const Session& s, const T& message) {
    for (const auto& host : s.hosts)
      if (nodes.count(host)) sendRun(s, host, message);
  }
  size_t hostIndex(const Session& s, const std::string& node) const {
    return static_cast<size_t>(std::find(s.hosts.begin(), s.hosts.end(), node) - s.hosts.begin());
  }

  // Ends a session: its nodes are told `release` (success) or `abort`, the caller is answered.
  void endSession(const std::string& runId, std::exception_ptr error, const std::string& abortReason) {
    auto it = sessions.find(runId);
    if (it == sessions.end()) return;
    std::shared_ptr<Session> s = it->second;
    sessions.erase(it);
    if (error) broadcastRun(*s, proto::AbortMessage{abortReason});
    else broadcastRun(*s, proto::ReleaseMessage{});
    if (error) s->done.set_exception(error);
    else s->done.set_value(std::move(s->report));
  }
  void failSession(const std::string& runId, ErrorKind kind, const std::string& reason) {
    endSession(runId, std::make_exception_ptr(Error(kind, reason)), reason);
  }

  void dropNode(const std::string& name, const std::string& reason) {
    auto it = nodes.find(name);
    if (it == nodes.end()) return;
    const std::string runId = it->second.runId;
    nodes.erase(it);
    ++counters.nodesLost;
    if (!runId.empty() && sessions.count(runId)) failSession(runId, ErrorKind::Disconnected, reason);
    notifyChange();
  }

  void logReject(const std::string& identity, const std::string& what) {
    if (rejectsLogged++ < 20 || counters.rejected % 1000 == 0)
      std::fprintf(stderr, "wafersim: rejected a message from \"%s\": %s (rejected so far: %llu)\n", identity.c_str(),
                   what.c_str(), static_cast<unsigned long long>(counters.rejected));
  }
  proto::RejectCounter& rejectsOf(const std::string& identity) {
    if (rejects.size() > 1024) rejects.clear();  // bounded: a stream of new identities cannot grow it
    return rejects[identity.substr(0, 64)];
  }

  void onHello(const std::string& identity, proto::DecodedMessage& msg, proto::RejectCounter& rc) {
    auto hello = proto::tryRead<proto::HelloMessage>(msg, rc);
    if (!hello) {
      ++counters.rejected;
      logReject(identity, hello.error().describe());
      return;
    }
    if (hello->name != identity) {
      ++counters.rejected;
      logReject(identity, "hello names the node \"" + hello->name + "\"");
      return;
    }
    if (options.curve && hello->curveKey.empty()) {  // its data socket could not be reached
      ++counters.rejected;
      logReject(identity, "hello without a CURVE key on a CURVE control socket");
      return;
    }
    if (std::find(hello->capabilities.begin(), hello->capabilities.end(), "placement") != hello->capabilities.end()) {
      placements[identity] = {hello->dataEndpoint, Clock::now()};
      placementKeys[identity] = hello->curveKey;
      notifyChange();
      return;
    }
    auto it = nodes.find(identity);
    if (it != nodes.end()) {
      Node& n = it->second;
      n.lastHeard = Clock::now();
      if (n.hello.pid == hello->pid && n.hello.hostname == hello->hostname &&
          n.hello.dataEndpoint == hello->dataEndpoint)
        return;  // said again while the coordinator was quiet: nothing changed
      // Another process took the name: whatever the old one was doing is lost.
      const std::string reason = describeNode(identity) + " restarted (pid " + std::to_string(n.hello.pid) + " on " +
                                 n.hello.hostname + ", now pid " + std::to_string(hello->pid) + ")";
      dropNode(identity, reason);
    }
    Node n;
    n.hello = std::move(*hello);
    n.lastHeard = Clock::now();
    n.registeredNs = systemClockNs();
    nodes.emplace(identity, std::move(n));
    notifyChange();
  }

  void onRunMessage(Node& node, const std::string& name, proto::DecodedMessage& msg, proto::RejectCounter& rc) {
    auto sit = sessions.find(node.runId);
    if (sit == sessions.end()) return;
    Session& s = *sit->second;
    // A node hosting several partitions sends ready and results once for each.
    auto hostedPartition = [&](uint32_t k) {
      if (std::find(node.hosted.begin(), node.hosted.end(), k) != node.hosted.end()) return true;
      rc.record(proto::RejectReason::InvalidContent);
      ++counters.rejected;
      logReject(name, std::string(proto::kindName(msg.kind())) + " for partition " + std::to_string(k) +
                          ", which the node does not host");
      return false;
    };
    switch (msg.kind()) {
      case proto::Envelope::READY: {
        auto ready = proto::tryRead<proto::ReadyMessage>(msg, rc);
        if (!ready) {
          ++counters.rejected;
          logReject(name, ready.error().describe());
          return;
        }
        const uint32_t k = ready->partition;
        if (!hostedPartition(k)) return;
        if (!s.ready[k]) {
          s.ready[k] = true;
          ++s.readyCount;
          if (s.readyCount == s.ready.size()) {
            s.phase = Session::Phase::Running;
            broadcastRun(s, proto::StartMessage{});
          }
        }
        return;
      }
      case proto::Envelope::FAILURE: {
        auto f = proto::tryRead<proto::FailureMessage>(msg, rc);
        const std::string why = f ? describeNode(name) + ": " + f->message
                                  : describeNode(name) + " failed (unreadable reason)";
        failSession(node.runId, f ? f->kind : ErrorKind::Internal, why);
        return;
      }
      case proto::Envelope::RESULTS: {
        auto r = proto::tryRead<proto::ResultsMessage>(msg, rc);
        if (!r) {
          failSession(node.runId, ErrorKind::Internal,
                      describeNode(name) + " sent unreadable results: " + r.error().describe());
          return;
        }
        const uint32_t k = r->report.id;
        if (!hostedPartition(k)) return;
        if (s.finished[k]) return;
        s.finished[k] = true;
        ++s.finishedCount;
        for (auto& rec : r->components) s.report.results.add(std::move(rec));
        s.report.results.noteSimulatedTime(r->lastEventTime);
        s.report.partitions[k] = r->report;
        s.report.partitions[k].id = k;
        s.report.wallSeconds = std::max(s.report.wallSeconds, r->report.wallSeconds);
        if (s.finishedCount == s.finished.size()) endSession(node.runId, nullptr, "");
        return;
      }
      case proto::Envelope::QUIESCENCE: {
        auto q = proto::tryRead<proto::QuiescenceMessage>(msg, rc);
        if (!q) return;
        const size_t h = hostIndex(s, name);
        if (h == s.hosts.size()) return;
        if (q->epoch == 0) s.idleReport[h] = *q;
        else if (s.probing && q->epoch == s.probeEpoch) s.probeAnswer[h] = *q;
        checkQuiescence(s);
        return;
      }
      default:
        rc.record(proto::RejectReason::UnexpectedKind);
        ++counters.rejected;
        logReject(name, std::string("unexpected ") + proto::kindName(msg.kind()) + " message");
    }
  }

  void checkQuiescence(Session& s) {
    const size_t n = s.hosts.size();
    if (!s.probing) {
      uint64_t sent = 0, received = 0;
      for (size_t k = 0; k < n; ++k) {
        if (!s.idleReport[k] || !s.idleReport[k]->idle) return;
        sent += s.idleReport[k]->eventsSent;
        received += s.idleReport[k]->eventsReceived;
      }
      if (sent != received) return;
      s.probing = true;
      ++s.probeEpoch;
      s.probeSnapshot.clear();
      for (size_t k = 0; k < n; ++k) s.probeSnapshot.push_back(*s.idleReport[k]);
      std::fill(s.probeAnswer.begin(), s.probeAnswer.end(), std::nullopt);
      broadcastRun(s, proto::QuiescenceMessage{false, 0, 0, s.probeEpoch});
      return;
    }
    bool quiet = true;
    for (size_t k = 0; k < n; ++k) {
      if (!s.probeAnswer[k]) return;
      quiet = quiet && s.probeAnswer[k]->idle && s.probeAnswer[k]->eventsSent == s.probeSnapshot[k].eventsSent &&
              s.probeAnswer[k]->eventsReceived == s.probeSnapshot[k].eventsReceived;
    }
    s.probing = false;
    if (quiet) {
      broadcastRun(s, proto::TerminateMessage{s.probeEpoch});
      return;
    }
    // Someone moved. A node busy at the probe sends an idle report when it is idle again, which
    // starts the next probe. But a node may have moved and become idle again before it answered:
    // its idle report came before the answer, and no other will come. So an idle answer is that
    // node's latest state; with every node idle the next probe starts now.
    for (size_t k = 0; k < n; ++k) {
      if (!s.probeAnswer[k]->idle) {
        s.idleReport[k].reset();
        continue;
      }
      s.idleReport[k] = *s.probeAnswer[k];
      s.idleReport[k]->epoch = 0;
    }
    checkQuiescence(s);
  }

  void receive() {
    for (int i = 0; i < 256; ++i) {
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(router, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
      const std::string identity = parts.empty() ? "" : parts[0].to_string();
      auto& rc = rejectsOf(identity);
      if (parts.size() != 2) {
        rc.record(proto::RejectReason::InvalidContent);
        ++counters.rejected;
        logReject(identity, std::to_string(parts.size()) + " frames");
        continue;
      }
      auto decoded = proto::tryDecode(std::move(parts[1]), rc);
      if (!decoded) {
        ++counters.rejected;
        logReject(identity, decoded.error().describe());
        continue;
      }
      if (decoded->kind() == proto::Envelope::HELLO) {
        onHello(identity, *decoded, rc);
        continue;
      }
      if (auto p = placements.find(identity); p != placements.end()) {
        p->second.second = Clock::now();  // its heartbeats; it sends nothing else
        continue;
      }
      auto it = nodes.find(identity);
      if (it == nodes.end()) {
        rc.record(proto::RejectReason::InvalidContent);
        ++counters.rejected;
        logReject(identity, std::string("a ") + proto::kindName(decoded->kind()) + " message from a peer that never said hello");
        continue;
      }
      Node& node = it->second;
      node.lastHeard = Clock::now();
      const auto kind = decoded->kind();
      const std::string about = decoded->runId();
      if (kind == proto::Envelope::HEARTBEAT) {
        if (!about.empty() && about == node.runId && node.busy)
          if (auto sit = sessions.find(about); sit != sessions.end())
            if (auto beat = proto::tryRead<proto::HeartbeatMessage>(*decoded, rc)) {
              sit->second->events[node.partition] = beat->events;
              sit->second->simulatedPs[node.partition] = beat->simulatedTimePs;
              if (sit->second->request.onHeartbeat) sit->second->request.onHeartbeat(node.hosted, *beat);
              changed.notify_all();
            }
        continue;
      }
      if (kind == proto::Envelope::RELEASE) {  // the node is free again
        if (node.busy && about == node.runId && !sessions.count(about)) {
          node.busy = false;
          node.runId.clear();
          ++node.runsServed;
          notifyChange();
        }
        continue;
      }
      if (about.empty() || about != node.runId || !node.busy) {
        ++counters.stale;
        continue;
      }
      onRunMessage(node, identity, *decoded, rc);
    }
  }

  void startSession(const std::shared_ptr<Session>& s) {
    const PoolRun& r = s->request;
    const auto n = static_cast<uint32_t>(r.nodes.size());
    for (const auto& name : r.nodes)
      if (std::find(s->hosts.begin(), s->hosts.end(), name) == s->hosts.end()) s->hosts.push_back(name);
    s->idleReport.assign(s->hosts.size(), std::nullopt);
    s->probeAnswer.assign(s->hosts.size(), std::nullopt);
    std::vector<std::string> endpoints(n), dataKeys;
    for (uint32_t k = 0; k < n; ++k) {
      auto it = nodes.find(r.nodes[k]);
      if (it == nodes.end() || it->second.runId != r.runId) {
        s->done.set_exception(std::make_exception_ptr(
            Error(ErrorKind::Disconnected, describeNode(r.nodes[k]) + " left the pool before run " + r.runId + " started")));
        for (const auto& name : r.nodes)
          if (auto nit = nodes.find(name); nit != nodes.end() && nit->second.runId == r.runId) nit->second.runId.clear();
        notifyChange();
        return;
      }
      endpoints[k] = it->second.hello.dataEndpoint;
      if (options.curve) dataKeys.push_back(it->second.hello.curveKey);
    }
    std::string placementKey;
    if (options.curve) {
      placementKey = r.placementKey;
      if (placementKey.empty() && !placementKeys.empty()) placementKey = placementKeys.begin()->second;
      if (placementKey.empty()) placementKey = options.curve->own.publicKey;
    }
    sessions[r.runId] = s;
    s->assigned = Clock::now();
    ++counters.runsStarted;
    for (const auto& host : s->hosts) {
      Node& node = nodes.at(host);
      node.busy = true;
      node.hosted.clear();
      for (uint32_t k = 0; k < n; ++k)
        if (r.nodes[k] == host) node.hosted.push_back(k);
      node.partition = node.hosted.front();
      node.lastHeard = Clock::now();
      proto::AssignMessage assign{r.scenarioText, r.overrides, n,        node.partition,
                                  r.map.of,       r.run,       endpoints, options.heartbeatIntervalMs,
                                  options.heartbeatTimeoutMs, dataKeys, placementKey, node.hosted};
      sendRun(*s, host, assign);
    }
  }

  void tick(Clock::time_point& lastHeartbeat) {
    const auto now = Clock::now();
    if (now - lastHeartbeat >= std::chrono::milliseconds(options.heartbeatIntervalMs)) {
      for (const auto& [name, node] : nodes) sendTo(name, encoder.encode(proto::kCoordinatorSender, proto::HeartbeatMessage{0, systemClockNs()}));
      for (const auto& [name, p] : placements)
        sendTo(name, encoder.encode(proto::kCoordinatorSender, proto::HeartbeatMessage{0, systemClockNs()}));
      lastHeartbeat = now;
    }
    std::vector<std::pair<std::string, std::string>> silent;
    for (const auto& [name, node] : nodes) {
      const double s = std::chrono::duration<double>(now - node.lastHeard).count();
      if (s * 1000 > options.heartbeatTimeoutMs) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", s);
        silent.emplace_back(name, describeNode(name) + " stopped answering (pid " + std::to_string(node.hello.pid) +
                                      " on " + node.hello.hostname + ", silent for " + buf + " s)");
      }
    }
    for (const auto& [name, reason] : silent) dropNode(name, reason);
    for (auto it = placements.begin(); it != placements.end();) {
      if (now - it->second.second <= std::chrono::milliseconds(options.heartbeatTimeoutMs)) {
        ++it;
        continue;
      }
      placementKeys.erase(it->first);
      it = placements.erase(it);
    }
    std::vector<std::pair<std::string, std::string>> stopped;
    for (const auto& [id, s] : sessions) {
      // A cut asked for (POST /api/v1/runs/{id}/checkpoint) goes to the run's nodes once it runs.
      if (std::atomic<bool>* asked = s->request.run.checkpoint.requested;
          asked && s->phase == Session::Phase::Running && asked->exchange(false))
        broadcastRun(*s, proto::CheckpointNowMessage{});
      if (s->request.run.stop.stop_requested()) stopped.emplace_back(id, "run cancelled");
      else if (s->phase == Session::Phase::Starting &&
               now - s->assigned > std::chrono::milliseconds(options.readyTimeoutMs)) {
        std::string late;
        for (const auto& host : s->hosts) {
          bool waiting = false;
          for (size_t k = 0; k < s->ready.size(); ++k) waiting = waiting || (!s->ready[k] && s->request.nodes[k] == host);
          if (waiting) late += (late.empty() ? "" : ", ") + describeNode(host);
        }
        stopped.emplace_back(id, late + " did not build its partition within " +
                                     std::to_string(options.readyTimeoutMs / 1000) + " s");
      }
      else if (s->request.watchdog)
        if (auto reason = s->request.watchdog(s->finished)) stopped.emplace_back(id, *reason);
    }
    for (const auto& [id, reason] : stopped) failSession(id, ErrorKind::Disconnected, reason);
  }

  void loop() {
    Clock::time_point lastHeartbeat = Clock::now();
    Clock::time_point lastTick = Clock::now();
    for (;;) {
      zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wakeFd, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 2, std::chrono::milliseconds(50));
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;
      }
      if (items[1].revents & ZMQ_POLLIN) {
        uint64_t v;
        [[maybe_unused]] ssize_t n = ::read(wakeFd, &v, sizeof v);
      }
      std::unique_lock<std::mutex> lock(mutex);
      while (!commands.empty()) {
        auto f = std::move(commands.front());
        commands.pop_front();
        f();
      }
      if (items[0].revents & ZMQ_POLLIN) receive();
      if (Clock::now() - lastTick >= std::chrono::milliseconds(50)) {
        tick(lastHeartbeat);
        lastTick = Clock::now();
      }
      if (stopping) {
        std::vector<std::string> ids;
        for (const auto& [id, s] : sessions) ids.push_back(id);
        for (const auto& id : ids) failSession(id, ErrorKind::Disconnected, "the coordinator is shutting down");
        return;
      }
    }
  }
};

NodePool::NodePool(const std::string& bind, PoolOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  auto& router = impl_->router;
  router.set(zmq::sockopt::linger, 1000);
  router.set(zmq::sockopt::router_mandatory, 1);
  router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::DecodeLimits{}.maxFrameBytes));
  if (const auto& curve = impl_->options.curve) {
    impl_->zap = std::make_unique<proto::ZapAuthenticator>(impl_->context, curve->allowed);
    impl_->authMetrics = impl_->zap->metrics({"control"});
    proto::makeCurveServer(router, *curve, "control");
  }
  try {
    router.bind(bind);
  } catch (const zmq::error_t& e) {
    fail(ErrorKind::InvalidConfig, "cannot bind the control socket on ", bind, ": ", e.what());
  }
  std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  // "tcp://0.0.0.0:5555" is where we listen, not an address to hand out.
  if (auto at = endpoint.find("0.0.0.0"); at != std::string::npos) endpoint.replace(at, 7, "127.0.0.1");
  impl_->endpoint = endpoint;
  impl_->wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  WAFERSIM_ASSERT(impl_->wakeFd >= 0, "eventfd failed");
  impl_->thread = std::thread([this] { impl_->loop(); });
}

NodePool::~NodePool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake();
  if (impl_->thread.joinable()) impl_->thread.join();
  ::close(impl_->wakeFd);
}

const std::string& NodePool::endpoint() const { return impl_->endpoint; }

std::vector<PoolNode> NodePool::nodes() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<PoolNode> out;
  const auto now = Clock::now();
  for (const auto& [name, n] : impl_->nodes)
    out.push_back({name, n.hello.hostname, n.hello.pid, n.hello.node, n.hello.cores, n.hello.memoryBytes, n.hello.pool,
                   n.hello.dataEndpoint, n.runId, n.partition,
                   std::chrono::duration<double>(now - n.lastHeard).count(), n.registeredNs, n.runsServed,
                   n.hello.metricsUrl});
  return out;
}

size_t NodePool::size() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->nodes.size();
}

size_t NodePool::idle() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  size_t n = 0;
  for (const auto& [name, node] : impl_->nodes) n += node.runId.empty() ? 1 : 0;
  return n;
}

void NodePool::waitForNodes(size_t count, const std::vector<std::string>& names, std::chrono::milliseconds timeout,
                            const std::function<std::optional<std::string>()>& check) {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock<std::mutex> lock(impl_->mutex);
  auto missing = [&] {
    std::string out;
    if (names.empty()) {
      if (impl_->nodes.size() < count)
        out = std::to_string(count - impl_->nodes.size()) + " of " + std::to_string(count) + " nodes";
      return out;
    }
    for (const auto& n : names)
      if (!impl_->nodes.count(n)) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  for (;;) {
    const std::string lacking = missing();
    if (lacking.empty()) return;
    if (check) {
      lock.unlock();
      auto reason = check();
      lock.lock();
      if (reason) fail(ErrorKind::Disconnected, *reason);
    }
    if (Clock::now() > deadline)
      fail(ErrorKind::Disconnected, lacking, " did not register within ",
           std::chrono::duration_cast<std::chrono::seconds>(timeout).count(), " s at ", impl_->endpoint);
    impl_->changed.wait_for(lock, std::chrono::milliseconds(50));
  }
}

bool NodePool::waitIdle(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] {
    size_t idle = 0;
    for (const auto& [name, node] : impl_->nodes) idle += node.runId.empty() ? 1 : 0;
    return idle >= count;
  });
}

bool NodePool::waitForProgress(const std::string& runId, uint64_t events, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] {
    auto it = impl_->sessions.find(runId);
    if (it == impl_->sessions.end()) return false;
    uint64_t total = 0;
    for (uint64_t e : it->second->events) total += e;
    return total >= events;
  });
}

std::optional<std::vector<std::string>> NodePool::reserve(const std::string& runId, uint32_t count,
                                                          const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<std::string> free;
  if (!names.empty()) {
    for (const auto& name : names) {
      auto it = impl_->nodes.find(name);
      if (it == impl_->nodes.end() || !it->second.runId.empty()) return std::nullopt;
    }
    free = names;
    count = static_cast<uint32_t>(names.size());
  } else {
    for (const auto& [name, node] : impl_->nodes)
      if (node.runId.empty()) free.push_back(name);
  }
  if (free.size() < count) return std::nullopt;
  free.resize(count);
  for (const auto& name : free) impl_->nodes.at(name).runId = runId;
  return free;
}

void NodePool::unreserve(const std::string& runId) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (auto& [name, node] : impl_->nodes)
    if (node.runId == runId && !node.busy) node.runId.clear();
  impl_->notifyChange();
}

RunReport NodePool::run(const PoolRun& run) {
  WAFERSIM_REQUIRE(!run.nodes.empty() && run.map.partitions == run.nodes.size(), "run ", run.runId, ": ",
                   run.map.partitions, " partitions for ", run.nodes.size(), " nodes");
  auto session = std::make_shared<Session>();
  session->request = run;
  const size_t n = run.nodes.size();
  session->ready.assign(n, false);
  session->finished.assign(n, false);
  session->report.partitions.resize(n);
  session->events.assign(n, 0);
  session->simulatedPs.assign(n, 0);
  std::future<RunReport> result = session->done.get_future();
  impl_->post([this, session] { impl_->startSession(session); });
  return result.get();
}

std::optional<NodePool::Progress> NodePool::progress(const std::string& runId) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->sessions.find(runId);
  if (it == impl_->sessions.end()) return std::nullopt;
  Progress p;
  for (uint64_t e : it->second->events) p.events += e;
  for (int64_t t : it->second->simulatedPs) p.simulatedPs = std::max(p.simulatedPs, t);
  return p;
}

void NodePool::setHeartbeat(uint32_t intervalMs, uint32_t timeoutMs) {
  impl_->post([this, intervalMs, timeoutMs] {
    impl_->options.heartbeatIntervalMs = intervalMs;
    impl_->options.heartbeatTimeoutMs = timeoutMs;
  });
}

void NodePool::nodeLost(const std::string& name, const std::string& reason) {
  impl_->post([this, name, reason] { impl_->dropNode(name, reason); });
}

void NodePool::removeNode(const std::string& name, const std::string& reason) {
  std::promise<void> done;
  auto future = done.get_future();
  impl_->post([this, &name, &reason, &done] {
    if (impl_->nodes.count(name)) {
      std::fprintf(stderr, "wafersim: %s removed: %s\n", describeNode(name).c_str(), reason.c_str());
      impl_->sendTo(name, impl_->encoder.encode(proto::kCoordinatorSender, proto::ShutdownMessage{}));
      impl_->dropNode(name, reason);
    }
    done.set_value();
  });
  future.wait();
}

void NodePool::shutdownNodes() {
  std::promise<void> sent;
  auto future = sent.get_future();
  impl_->post([this, &sent] {
    for (const auto& [name, node] : impl_->nodes)
      impl_->sendTo(name, impl_->encoder.encode(proto::kCoordinatorSender, proto::ShutdownMessage{}));
    sent.set_value();
  });
  future.wait();
}

std::string NodePool::placementEndpoint() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->placements.empty() ? std::string() : impl_->placements.begin()->second.first;
}

bool NodePool::waitForPlacement(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return !impl_->placements.empty(); });
}

std::shared_ptr<prometheus::Collectable> NodePool::authMetrics() const {
  return impl_->authMetrics;
}

uint64_t NodePool::authRefused() const { return impl_->zap ? impl_->zap->refused("control") : 0; }

NodePool::Counters NodePool::counters() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->counters;
}

}  // namespace wafersim
