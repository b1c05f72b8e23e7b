#include "nodes/zmq_transport.h"

#include <sched.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "protocol/curve_auth.h"
#include "sim/error.h"

namespace wafersim {
namespace {

constexpr int kPollSliceMs = 100;  // how often a blocked wait re-checks for aborts at the least
// How long a wait spins before it blocks. A window's reports usually arrive within tens of
// microseconds, and a thread that blocks in poll() pays a wake-up for each (on this project's
// virtual machines an idle core halts, and waking it costs more than the message). Measured with
// the quickstart in 2 node processes (130,415 windows): 18.4 s blocking at once, 12.1 s spinning up
// to 200 us and 12.2 s up to 1 ms with the core yielded between tries, 27.6 s spinning up to 5 ms
// without yielding (the spinning threads starve ZeroMQ's I/O threads on a 2-core machine).
constexpr auto kSpin = std::chrono::microseconds(200);

}  // namespace

ZmqTransport::ZmqTransport(zmq::context_t& context, PartitionId self, std::vector<std::string> endpoints,
                           zmq::socket_t& data, zmq::socket_t& control, std::string runId,
                           std::shared_ptr<const proto::CurveSecurity> curve, std::vector<std::string> keys)
    : context_(context),
      self_(self),
      runId_(std::move(runId)),
      endpoints_(std::move(endpoints)),
      curve_(std::move(curve)),
      keys_(std::move(keys)),
      data_(data),
      control_(control),
      peers_(endpoints_.size()),
      pending_(endpoints_.size()) {
  WAFERSIM_REQUIRE(self_ < endpoints_.size(), "partition ", self_, " of ", endpoints_.size());
  WAFERSIM_REQUIRE(!curve_ || keys_.size() == endpoints_.size(), "CURVE: ", keys_.size(), " peer keys for ",
                   endpoints_.size(), " partitions");
  encoder_.setRunId(runId_);
}

ZmqTransport::~ZmqTransport() = default;

zmq::socket_t& ZmqTransport::peer(PartitionId to) {
  WAFERSIM_ASSERT(to < peers_.size() && to != self_, self_, to);
  auto& slot = peers_[to];
  if (!slot) {
    slot.emplace(context_, zmq::socket_type::push);
    // Let the last window's messages drain when the node shuts down, but never hang on a dead peer.
    slot->set(zmq::sockopt::linger, 2000);
    slot->set(zmq::sockopt::sndhwm, 0);
    slot->set(zmq::sockopt::immediate, 0);
    if (curve_) proto::makeCurveClient(*slot, *curve_, keys_[to]);
    slot->connect(endpoints_[to]);
  }
  return *slot;
}

void ZmqTransport::send(PartitionId to, EventBatch& batch) {
  WAFERSIM_ASSERT(to < pending_.size() && to != self_, self_, to);
  pending_[to].push_back(encoder_.encode(self_, batch));
  eventsSent_ += batch.events.size();
  bytesSent_ += pending_[to].back().size();
  if (live_) live_->bytesSent.store(bytesSent_, std::memory_order_relaxed);
  batch.events.clear();  // the frame holds a copy; the vector keeps its capacity for the next batch
}

void ZmqTransport::flush(PartitionId to) {
  auto& frames = pending_[to];
  if (frames.empty()) return;
  zmq::socket_t& socket = peer(to);
  for (size_t i = 0; i < frames.size(); ++i)
    socket.send(std::move(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  frames.clear();
}

void ZmqTransport::flush() {
  for (PartitionId p = 0; p < pending_.size(); ++p) flush(p);
}

bool ZmqTransport::receive(EventBatch& out, Wait wait) {
  flush();
  for (;;) {
    if (!batches_.empty()) {
      if (idle_ && !batches_.front().events.empty()) idle_ = false;  // work again
      out = std::move(batches_.front());
      batches_.pop_front();
      return true;
    }
    if (wait == Wait::No) {
      if (!pump(0)) return false;
      continue;
    }
    if (wait == Wait::Idle) {
      if (!idle_) reportIdle(true);
      if (terminated_) return false;
    } else {
      if (idle_) idle_ = false;
      await([&] { return !batches_.empty(); });
      continue;
    }
    pump(kPollSliceMs);
  }
}

template <typename Ready>
void ZmqTransport::await(Ready&& ready) {
  if (ready()) return;
  const auto until = std::chrono::steady_clock::now() + kSpin;
  do {
    // pump(0) never blocks; yielding lets this node's ZeroMQ I/O thread (and a peer's on the same
    // machine) run on this core, which is what delivers the awaited message.
    if (!pump(0)) sched_yield();
    if (ready()) return;
  } while (std::chrono::steady_clock::now() < until);
  while (!ready()) pump(kPollSliceMs);
}

void ZmqTransport::dropPending() {
  for (auto& frames : pending_) frames.clear();
  for (auto& peer : peers_)
    if (peer) peer->set(zmq::sockopt::linger, 0);
}

void ZmqTransport::awaitShutdown() {
  flush();
  for (;;) {
    zmq::message_t frame;
    if (!control_.recv(frame)) continue;
    proto::RejectCounter rejects;
    auto decoded = proto::tryDecode(std::move(frame), rejects);
    if (decoded && (decoded->kind() == proto::Envelope::SHUTDOWN || decoded->kind() == proto::Envelope::ABORT ||
                    decoded->kind() == proto::Envelope::RELEASE))
      return;
  }
}

void ZmqTransport::requeue(std::vector<EventBatch>&& batches) {
  for (auto it = batches.rbegin(); it != batches.rend(); ++it) batches_.push_front(std::move(*it));
}

void ZmqTransport::recycle(std::vector<Event>&& events) {
  events.clear();
  if (spare_.size() < 16 && events.capacity() > 0) spare_.push_back(std::move(events));
}

void ZmqTransport::allGather(const WindowReport& mine, std::vector<WindowReport>& all) {
  const uint64_t round = round_++;
  const uint32_t n = partitionCount();
  if (n > 1) {
    proto::WindowReportMessage message{self_, round, mine};
    for (PartitionId p = 0; p < n; ++p) {
      if (p == self_) continue;
      pending_[p].push_back(encoder_.encode(self_, message));
      flush(p);  // this window's batch and report leave together
    }
  }
  auto& slots = reports_[round];
  slots.resize(n);
  slots[self_] = mine;
  auto complete = [&] {
    for (const auto& r : slots)
      if (!r) return false;
    return true;
  };
  await(complete);
  all.resize(n);
  for (uint32_t p = 0; p < n; ++p) all[p] = std::move(*slots[p]);
  reports_.erase(round);
}

bool ZmqTransport::pump(int timeoutMs) {
  {  // what is already here needs no poll (a system call)
    zmq::message_t frame;
    if (data_.recv(frame, zmq::recv_flags::dontwait)) {
      handleData(std::move(frame));
      return true;
    }
  }
  zmq::pollitem_t items[] = {{data_.handle(), 0, ZMQ_POLLIN, 0}, {control_.handle(), 0, ZMQ_POLLIN, 0}};
  try {
    zmq::poll(items, 2, std::chrono::milliseconds(timeoutMs));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return false;
  }
  bool handled = false;
  if (items[1].revents & ZMQ_POLLIN) {
    zmq::message_t frame;
    if (control_.recv(frame, zmq::recv_flags::dontwait)) {
      handleControl(std::move(frame));
      handled = true;
    }
  }
  if (items[0].revents & ZMQ_POLLIN) {
    // Drain what is there: fewer polls per window when several peers answered at once.
    for (int i = 0; i < 64; ++i) {
      zmq::message_t frame;
      if (!data_.recv(frame, zmq::recv_flags::dontwait)) break;
      handleData(std::move(frame));
      handled = true;
    }
  }
  return handled;
}

void ZmqTransport::handleData(zmq::message_t&& frame) {
  auto decoded = proto::tryDecode(std::move(frame), rejects_);
  auto logReject = [&](const std::string& what) {
    // Log the first few, then every thousandth: a hostile sender must not flood the log.
    if (rejectsLogged_ < 10 || rejects_.total() % 1000 == 0)
      std::fprintf(stderr, "wafersim-node %u: rejected a message on the data socket: %s (rejected so far: %s)\n",
                   self_, what.c_str(), rejects_.summary().c_str());
    ++rejectsLogged_;
  };
  if (!decoded) {
    logReject(decoded.error().describe());
    return;
  }
  if (decoded->runId() != runId_) {  // an earlier run's late frame: harmless, not hostile
    ++staleFrames_;
    return;
  }
  const uint32_t sender = decoded->sender();
  switch (decoded->kind()) {
    case proto::Envelope::EVENT_BATCH: {
      EventBatch batch;
      if (!spare_.empty()) {
        batch.events = std::move(spare_.back());
        spare_.pop_back();
      }
      if (auto ok = proto::tryRead(*decoded, batch, rejects_); !ok) {
        logReject("from " + std::to_string(sender) + ": " + ok.error().describe());
        return;
      }
      if (batch.from >= partitionCount() || batch.from == self_ || batch.from != sender) {
        rejects_.record(proto::RejectReason::InvalidContent);
        logReject("event batch claims to come from partition " + std::to_string(batch.from) + ", sent by " +
                  std::to_string(sender));
        return;
      }
      eventsReceived_ += batch.events.size();
      batches_.push_back(std::move(batch));
      return;
    }
    case proto::Envelope::WINDOW_REPORT: {
      proto::WindowReportMessage report;
      if (auto ok = proto::tryRead(*decoded, report, rejects_); !ok) {
        logReject("from " + std::to_string(sender) + ": " + ok.error().describe());
        return;
      }
      if (report.from >= partitionCount() || report.from == self_ || report.round + 1 < round_ ||
          report.from != sender) {
        rejects_.record(proto::RejectReason::InvalidContent);
        logReject("window report from partition " + std::to_string(report.from) + " for round " +
                  std::to_string(report.round) + " (current " + std::to_string(round_) + ")");
        return;
      }
      auto& slots = reports_[report.round];
      slots.resize(partitionCount());
      if (slots[report.from]) {
        rejects_.record(proto::RejectReason::InvalidContent);
        logReject("duplicate window report from partition " + std::to_string(report.from));
        return;
      }
      slots[report.from] = std::move(report.report);
      return;
    }
    default:
      rejects_.record(proto::RejectReason::UnexpectedKind);
      logReject(std::string("a ") + proto::kindName(decoded->kind()) + " message from " + std::to_string(sender) +
                " has no business on the data socket");
  }
}

void ZmqTransport::handleControl(zmq::message_t&& frame) {
  proto::RejectCounter controlRejects;
  auto decoded = proto::tryDecode(std::move(frame), controlRejects);
  WAFERSIM_ASSERT(decoded.has_value(), "corrupt message on the node's own control pair");
  switch (decoded->kind()) {
    case proto::Envelope::ABORT: {
      auto abort = proto::tryRead<proto::AbortMessage>(*decoded, controlRejects);
      fail(ErrorKind::Disconnected, "run aborted: ", abort ? abort->reason : std::string("(unreadable reason)"));
    }
    case proto::Envelope::TERMINATE:
      terminated_ = true;
      return;
    case proto::Envelope::QUIESCENCE: {  // the coordinator's probe: answer with the true state
      auto probe = proto::tryRead<proto::QuiescenceMessage>(*decoded, controlRejects);
      if (!probe) return;
      proto::QuiescenceMessage answer{idle_ && batches_.empty(), eventsSent_, eventsReceived_, probe->epoch};
      control_.send(encoder_.encode(self_, answer), zmq::send_flags::none);
      return;
    }
    default:
      std::fprintf(stderr, "wafersim-node %u: ignored a %s message on the control pair\n", self_,
                   proto::kindName(decoded->kind()));
  }
}

void ZmqTransport::reportIdle(bool idle) {
  idle_ = idle;
  proto::QuiescenceMessage report{idle, eventsSent_, eventsReceived_, 0};
  control_.send(encoder_.encode(self_, report), zmq::send_flags::none);
}

}  // namespace wafersim
