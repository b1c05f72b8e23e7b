#include "nodes/zmq_transport.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

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
// The local barrier's spin before it sleeps: the node's partitions arrive within microseconds of
// each other when they have cores; when they do not, yielding hands the core to the one awaited.
constexpr auto kBarrierSpin = std::chrono::microseconds(50);

}  // namespace

// ---- NodeLink ----------------------------------------------------------------------------------

NodeLink::NodeLink(zmq::context_t& context, std::vector<PartitionId> hosted, std::vector<std::string> endpoints,
                   zmq::socket_t& data, zmq::socket_t& control, std::string runId,
                   std::shared_ptr<const proto::CurveSecurity> curve, std::vector<std::string> keys)
    : context_(context),
      hosted_(std::move(hosted)),
      runId_(std::move(runId)),
      endpoints_(std::move(endpoints)),
      curve_(std::move(curve)),
      keys_(std::move(keys)),
      data_(data),
      control_(control),
      slot_(endpoints_.size(), -1),
      nodeOf_(endpoints_.size(), 0) {
  const auto n = static_cast<uint32_t>(endpoints_.size());
  WAFERSIM_REQUIRE(!hosted_.empty(), "a node hosts no partition");
  WAFERSIM_REQUIRE(!curve_ || keys_.size() == n, "CURVE: ", keys_.size(), " peer keys for ", n, " partitions");
  for (size_t s = 0; s < hosted_.size(); ++s) {
    WAFERSIM_REQUIRE(hosted_[s] < n, "hosted partition ", hosted_[s], " of ", n);
    WAFERSIM_REQUIRE(s == 0 || hosted_[s] > hosted_[s - 1], "hosted partitions not ascending at ", hosted_[s]);
    slot_[hosted_[s]] = static_cast<int>(s);
  }
  std::map<std::string, uint32_t> nodeByEndpoint;
  for (PartitionId p = 0; p < n; ++p) {
    auto [it, fresh] = nodeByEndpoint.emplace(endpoints_[p], static_cast<uint32_t>(firstOf_.size()));
    if (fresh) firstOf_.push_back(p);
    nodeOf_[p] = it->second;
  }
  selfNode_ = nodeOf_[hosted_[0]];
  for (PartitionId p = 0; p < n; ++p)
    WAFERSIM_REQUIRE((nodeOf_[p] == selfNode_) == isLocal(p), "partition ", p,
                     isLocal(p) ? " is hosted here but has another node's data endpoint"
                                : " has this node's data endpoint but is not hosted here");
  peers_.resize(firstOf_.size());
  pending_.resize(firstOf_.size());
  for (size_t s = 0; s < hosted_.size(); ++s) mailboxes_.push_back(std::make_unique<Mailbox>());
  local_.resize(hosted_.size());
  encoder_.setRunId(runId_);
}

NodeLink::~NodeLink() = default;

std::unique_ptr<ZmqTransport> NodeLink::endpoint(PartitionId self) {
  WAFERSIM_REQUIRE(self < slot_.size() && isLocal(self), "partition ", self, " is not hosted by this node");
  return std::make_unique<ZmqTransport>(*this, self);
}

void NodeLink::checkAbort() const {
  if (aborted_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(const_cast<std::mutex&>(abortMutex_));
    throw Error(ErrorKind::Disconnected, abortReason_);
  }
}

void NodeLink::abort(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(abortMutex_);
    if (aborted_.load()) return;
    abortReason_ = reason;
    aborted_.store(true, std::memory_order_release);
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);  // releases the barrier's sleepers, who then see it
  generation_.notify_all();
}

void NodeLink::barrier() {
  const auto k = static_cast<uint32_t>(hosted_.size());
  checkAbort();
  if (k == 1) return;
  const uint32_t seen = generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == k) {
    arrived_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    generation_.notify_all();
    return;
  }
  SpinWait spin(kBarrierSpin);
  while (generation_.load(std::memory_order_acquire) == seen && spin.again()) {
  }
  while (generation_.load(std::memory_order_acquire) == seen) generation_.wait(seen, std::memory_order_acquire);
  checkAbort();
}

zmq::socket_t& NodeLink::peer(uint32_t node) {
  WAFERSIM_ASSERT(node < peers_.size() && node != selfNode_, selfNode_, node);
  auto& slot = peers_[node];
  if (!slot) {
    slot.emplace(context_, zmq::socket_type::push);
    // Let the last window's messages drain when the node shuts down, but never hang on a dead peer.
    slot->set(zmq::sockopt::linger, 2000);
    slot->set(zmq::sockopt::sndhwm, 0);
    slot->set(zmq::sockopt::immediate, 0);
    if (curve_) proto::makeCurveClient(*slot, *curve_, keys_[firstOf_[node]]);
    slot->connect(endpoints_[firstOf_[node]]);
  }
  return *slot;
}

void NodeLink::flushLocked(uint32_t node) {
  auto& frames = pending_[node];
  if (frames.empty()) return;
  zmq::socket_t& socket = peer(node);
  for (size_t i = 0; i < frames.size(); ++i)
    socket.send(std::move(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  frames.clear();
}

void NodeLink::flushLocked() {
  for (uint32_t node = 0; node < pending_.size(); ++node) flushLocked(node);
}

template <typename Ready>
void NodeLink::awaitLocked(Ready&& ready) {
  if (ready()) return;
  const auto until = std::chrono::steady_clock::now() + kSpin;
  do {
    // pumpLocked(0) never blocks; yielding lets this node's ZeroMQ I/O thread (and a peer's on the
    // same machine) run on this core, which is what delivers the awaited message.
    if (!pumpLocked(0)) sched_yield();
    if (ready()) return;
  } while (std::chrono::steady_clock::now() < until);
  while (!ready()) {
    checkAbort();
    pumpLocked(kPollSliceMs);
  }
}

void NodeLink::exchangeLocked(uint64_t round) {
  const auto n = static_cast<uint32_t>(endpoints_.size());
  for (uint32_t node = 0; node < firstOf_.size(); ++node) {
    if (node == selfNode_) continue;
    for (size_t s = 0; s < hosted_.size(); ++s)
      pending_[node].push_back(encoder_.encode(hosted_[s], proto::WindowReportMessage{hosted_[s], round, local_[s]}));
    flushLocked(node);  // this window's batches and reports leave together
  }
  auto& slots = reports_[round];
  slots.resize(n);
  for (size_t s = 0; s < hosted_.size(); ++s) slots[hosted_[s]] = local_[s];
  awaitLocked([&] {
    for (const auto& r : slots)
      if (!r) return false;
    return true;
  });
  gathered_.resize(n);
  for (uint32_t p = 0; p < n; ++p) gathered_[p] = std::move(*slots[p]);
  reports_.erase(round);
}

void NodeLink::dropPending() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& frames : pending_) frames.clear();
  for (auto& peer : peers_)
    if (peer) peer->set(zmq::sockopt::linger, 0);
}

void NodeLink::awaitShutdown() {
  std::lock_guard<std::mutex> lock(mutex_);
  flushLocked();
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

bool NodeLink::pumpLocked(int timeoutMs) {
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

void NodeLink::handleData(zmq::message_t&& frame) {
  auto decoded = proto::tryDecode(std::move(frame), rejects_);
  auto logReject = [&](const std::string& what) {
    // Log the first few, then every thousandth: a hostile sender must not flood the log.
    if (rejectsLogged_ < 10 || rejects_.total() % 1000 == 0)
      std::fprintf(stderr, "wafersim-node %u: rejected a message on the data socket: %s (rejected so far: %s)\n",
                   hosted_[0], what.c_str(), rejects_.summary().c_str());
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
  const auto n = static_cast<uint32_t>(endpoints_.size());
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
      if (batch.from >= n || isLocal(batch.from) || batch.from != sender) {
        rejects_.record(proto::RejectReason::InvalidContent);
        logReject("event batch claims to come from partition " + std::to_string(batch.from) + ", sent by " +
                  std::to_string(sender));
        return;
      }
      if (batch.to >= n || !isLocal(batch.to)) {
        rejects_.record(proto::RejectReason::InvalidContent);
        logReject("event batch from partition " + std::to_string(batch.from) + " for partition " +
                  std::to_string(batch.to) + ", which this node does not host");
        return;
      }
      eventsReceived_ += batch.events.size();
      auto& box = *mailboxes_[static_cast<size_t>(slot_[batch.to])];
      std::lock_guard<SpinLock> lock(box.lock);
      box.queue.push_back(std::move(batch));
      return;
    }
    case proto::Envelope::WINDOW_REPORT: {
      proto::WindowReportMessage report;
      if (auto ok = proto::tryRead(*decoded, report, rejects_); !ok) {
        logReject("from " + std::to_string(sender) + ": " + ok.error().describe());
        return;
      }
      if (report.from >= n || isLocal(report.from) || report.round + 1 < round_ || report.from != sender) {
        rejects_.record(proto::RejectReason::InvalidContent);
        logReject("window report from partition " + std::to_string(report.from) + " for round " +
                  std::to_string(report.round) + " (current " + std::to_string(round_) + ")");
        return;
      }
      auto& slots = reports_[report.round];
      slots.resize(n);
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

void NodeLink::handleControl(zmq::message_t&& frame) {
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
      bool empty = true;
      for (auto& box : mailboxes_) {
        std::lock_guard<SpinLock> lock(box->lock);
        empty = empty && box->queue.empty();
      }
      proto::QuiescenceMessage answer{idle_ && empty, eventsSent_, eventsReceived_, probe->epoch};
      control_.send(encoder_.encode(hosted_[0], answer), zmq::send_flags::none);
      return;
    }
    default:
      std::fprintf(stderr, "wafersim-node %u: ignored a %s message on the control pair\n", hosted_[0],
                   proto::kindName(decoded->kind()));
  }
}

void NodeLink::reportIdleLocked(bool idle) {
  idle_ = idle;
  proto::QuiescenceMessage report{idle, eventsSent_, eventsReceived_, 0};
  control_.send(encoder_.encode(hosted_[0], report), zmq::send_flags::none);
}

// ---- ZmqTransport: one hosted partition's endpoint ---------------------------------------------

ZmqTransport::ZmqTransport(NodeLink& link, PartitionId self)
    : link_(link), self_(self), slot_(static_cast<size_t>(link.slot_.at(self))) {
  encoder_.setRunId(link_.runId_);
}

void ZmqTransport::send(PartitionId to, EventBatch& batch) {
  WAFERSIM_ASSERT(to < partitionCount() && to != self_, self_, to);
  batch.to = to;
  if (link_.isLocal(to)) {  // a partition of this node: straight into its mailbox
    auto& box = *link_.mailboxes_[static_cast<size_t>(link_.slot_[to])];
    {
      std::lock_guard<SpinLock> lock(box.lock);
      box.queue.push_back(EventBatch{batch.from, to, batch.round, batch.bound, std::move(batch.events)});
    }
    batch.events.clear();
    if (!spare_.empty()) {
      batch.events = std::move(spare_.back());
      spare_.pop_back();
    }
    return;
  }
  zmq::message_t frame = encoder_.encode(self_, batch);
  bytesSent_ += frame.size();
  if (live_) live_->bytesSent.store(bytesSent_, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(link_.mutex_);
    link_.pending_[link_.nodeOf_[to]].push_back(std::move(frame));
    link_.eventsSent_ += batch.events.size();
  }
  batch.events.clear();  // the frame holds a copy; the vector keeps its capacity for the next batch
}

void ZmqTransport::flush() {
  std::lock_guard<std::mutex> lock(link_.mutex_);
  link_.flushLocked();
}

bool ZmqTransport::tryPop(EventBatch& out) {
  auto& box = *link_.mailboxes_[slot_];
  std::lock_guard<SpinLock> lock(box.lock);
  if (box.queue.empty()) return false;
  out = std::move(box.queue.front());
  box.queue.pop_front();
  return true;
}

bool ZmqTransport::receive(EventBatch& out, Wait wait) {
  std::lock_guard<std::mutex> lock(link_.mutex_);
  link_.flushLocked();
  for (;;) {
    link_.checkAbort();
    if (tryPop(out)) {
      if (link_.idle_ && !out.events.empty()) link_.idle_ = false;  // work again
      return true;
    }
    if (wait == Wait::No) {
      if (!link_.pumpLocked(0)) return false;
      continue;
    }
    WAFERSIM_REQUIRE(link_.hosted_.size() == 1, "partition ", self_,
                     ": waiting for any one batch (null messages) needs a node of one partition; this one hosts ",
                     link_.hosted_.size());
    if (wait == Wait::Idle) {
      if (!link_.idle_) link_.reportIdleLocked(true);
      if (link_.terminated_) return false;
    } else {
      link_.idle_ = false;
      auto& box = *link_.mailboxes_[slot_];
      link_.awaitLocked([&] {
        std::lock_guard<SpinLock> boxLock(box.lock);
        return !box.queue.empty();
      });
      continue;
    }
    link_.pumpLocked(kPollSliceMs);
  }
}

void ZmqTransport::requeue(std::vector<EventBatch>&& batches) {
  auto& box = *link_.mailboxes_[slot_];
  std::lock_guard<SpinLock> lock(box.lock);
  for (auto it = batches.rbegin(); it != batches.rend(); ++it) box.queue.push_front(std::move(*it));
}

void ZmqTransport::recycle(std::vector<Event>&& events) {
  events.clear();
  if (events.capacity() == 0) return;
  if (link_.hosted_.size() > 1 && spare_.size() < 16) {  // for the next batch to a partition of this node
    spare_.push_back(std::move(events));
    return;
  }
  std::lock_guard<std::mutex> lock(link_.mutex_);  // for the next batch from another node
  if (link_.spare_.size() < 16 * link_.hosted_.size()) link_.spare_.push_back(std::move(events));
}

void ZmqTransport::allGather(const WindowReport& mine, std::vector<WindowReport>& all) {
  link_.local_[slot_] = mine;
  link_.barrier();  // every hosted partition's report is in local_, its batches queued
  if (slot_ == 0) {
    try {
      std::lock_guard<std::mutex> lock(link_.mutex_);
      link_.exchangeLocked(link_.round_++);
    } catch (const std::exception& e) {
      link_.abort(e.what());  // the node's other partitions wait at the barrier below
      throw;
    }
  }
  link_.barrier();  // gathered_ holds every partition's report; batches from other nodes are in the mailboxes
  if (link_.hosted_.size() == 1) all.swap(link_.gathered_);  // nobody else reads it: keep both buffers
  else all = link_.gathered_;
}

}  // namespace wafersim
