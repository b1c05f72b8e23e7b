#include "placement/placement_service.h"

#include <algorithm>
#include <array>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <deque>
#include <iterator>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "placement/policy.h"
#include "protocol/codec.h"
#include "protocol/curve_auth.h"
#include "protocol/placement_convert.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

using Clock = std::chrono::steady_clock;
using Key = std::pair<std::string, uint64_t>;  // (run id, epoch)
using Limits = proto::PlacementWireLimits;

uint64_t microsSince(Clock::time_point start) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

std::string truncated(std::string text, size_t max) {
  if (text.size() > max) text.resize(max);
  return text;
}

proto::PlacementReplyMessage keptReply(const std::string& runId, uint64_t epoch, std::string reason) {
  proto::PlacementReplyMessage r;
  r.runId = runId;
  r.epoch = epoch;
  r.outcome = proto::DecisionOutcome::Kept;
  r.decision.reason = truncated(std::move(reason), Limits::maxReasonBytes);
  return r;
}

// What placement_convert.h's reader will insist on, checked before the reply leaves.
void checkDecision(const Problem& p, const Decision& d, const std::string& name) {
  const Placement& out = d.placement;
  WAFERSIM_REQUIRE(out.dies() == p.fabric.dies && out.layers() == p.model.layers && out.experts() == p.model.experts,
                   "a placement of ", out.dies(), " dies x ", out.layers(), " layers x ", out.experts(),
                   " experts for a problem of ", p.fabric.dies, " x ", p.model.layers, " x ", p.model.experts);
  WAFERSIM_REQUIRE(out.dies() > 0, "an empty placement");
  out.validate("placement policy " + name, p.fabric.unusable);
  WAFERSIM_REQUIRE(out.nodeMap.empty() || out.nodeMap.size() == out.dies(), "a node map of ", out.nodeMap.size(),
                   " entries for ", out.dies(), " dies");
  for (uint32_t die : out.nodeMap) WAFERSIM_REQUIRE(die < out.dies(), "a node map naming die ", die);
  WAFERSIM_REQUIRE(std::isfinite(d.predictedGain) && std::isfinite(d.optimalityGap), "gain ", d.predictedGain,
                   " and gap ", d.optimalityGap, " must be finite");
}

}  // namespace

proto::PlacementReplyMessage runPolicy(proto::PlacementRequestMessage request) {
  const Clock::time_point start = Clock::now();
  proto::PlacementReplyMessage reply;
  try {
    const PolicyType& type = policyType(request.policy, "placement request");
    Problem& problem = request.problem;
    problem.options = resolveParams(problem.options, type.params, "placement policy " + request.policy);
    Decision decision = type.make()->decide(problem);
    checkDecision(problem, decision, request.policy);
    reply.runId = request.runId;
    reply.epoch = request.epoch;
    reply.outcome = proto::DecisionOutcome::Applied;
    reply.decision = std::move(decision);
    reply.decision.reason = truncated(std::move(reply.decision.reason), Limits::maxReasonBytes);
  } catch (const std::bad_alloc&) {
    reply = keptReply(request.runId, request.epoch, "policy " + request.policy + " failed: out of memory");
  } catch (const std::exception& e) {
    reply = keptReply(request.runId, request.epoch, "policy " + request.policy + " failed: " + e.what());
  }
  reply.decisionMicros = microsSince(start);
  return reply;
}

// ---- the service ------------------------------------------------------------------------------

namespace {

// Between run() and the worker threads; shared so that a worker that outlives the service (a
// policy past its deadline while the process shuts down) still has somewhere to put its result.
struct Completions {
  std::mutex mutex;
  std::vector<std::pair<uint64_t, proto::PlacementReplyMessage>> done;  // job id, reply
  int wake = -1;                                                         // eventfd
  std::atomic<uint32_t> running{0};

  Completions() {
    wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake < 0) fail(ErrorKind::Internal, "placement service: eventfd failed, errno ", errno);
  }
  ~Completions() { ::close(wake); }
};

struct Job {
  uint64_t id = 0;
  Key key;
  std::string policy;
  std::shared_ptr<proto::PlacementRequestMessage> request;  // until a worker takes it
  Clock::time_point arrived, deadline;
  std::vector<std::vector<zmq::message_t>> waiters;  // each asker's routing frames
};

// Least recently used replies, by question.
class ReplyCache {
 public:
  ReplyCache(size_t maxEntries, size_t maxBytes) : maxEntries_(maxEntries), maxBytes_(maxBytes) {}

  const zmq::message_t* find(const Key& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.position);
    return &it->second.frame;
  }
  void insert(const Key& key, zmq::message_t frame) {
    if (maxEntries_ == 0) return;
    auto it = entries_.find(key);
    if (it != entries_.end()) return;  // the first answer stands
    bytes_ += frame.size();
    order_.push_front(key);
    entries_.emplace(key, Entry{std::move(frame), order_.begin()});
    while (!order_.empty() && (entries_.size() > maxEntries_ || (bytes_ > maxBytes_ && entries_.size() > 1))) {
      auto last = entries_.find(order_.back());
      bytes_ -= last->second.frame.size();
      entries_.erase(last);
      order_.pop_back();
    }
  }

 private:
  struct Entry {
    zmq::message_t frame;
    std::list<Key>::iterator position;
  };
  size_t maxEntries_, maxBytes_, bytes_ = 0;
  std::list<Key> order_;  // most recent first
  std::map<Key, Entry> entries_;
};

}  // namespace

struct PlacementService::State {
  explicit State(ServiceOptions o) : options(std::move(o)), cache(options.cacheEntries, options.cacheBytes) {}

  ServiceOptions options;
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router};
  std::unique_ptr<proto::ZapAuthenticator> zap;  // with CURVE
  proto::Encoder encoder{0};
  proto::RejectCounter rejects;
  std::shared_ptr<Completions> completions = std::make_shared<Completions>();
  ReplyCache cache;
  std::map<Key, Job> jobs;             // questions being decided
  std::map<uint64_t, Key> jobKeys;     // job id -> question
  std::deque<uint64_t> queued;         // job ids waiting for a worker, in arrival order
  uint64_t nextJob = 1;

  std::atomic<uint64_t> requests{0}, decisions{0}, applied{0}, kept{0}, deadlines{0}, memoHits{0}, rejected{0};
  std::array<std::atomic<uint64_t>, std::size(PlacementService::kDecisionBounds) + 1> decisionBuckets{};
  std::atomic<uint64_t> decisionMicrosSum{0};

  template <typename... Args>
  void log(const Args&... args) {
    if (!options.log) return;
    std::string line = "wafersim-placement: " + detail::concat(args...) + "\n";
    std::fputs(line.c_str(), stderr);
  }

  void send(const std::vector<zmq::message_t>& routing, const zmq::message_t& payload) {
    try {
      for (const zmq::message_t& part : routing) {
        zmq::message_t copy;
        copy.copy(const_cast<zmq::message_t&>(part));
        router.send(std::move(copy), zmq::send_flags::sndmore);
      }
      zmq::message_t copy;
      copy.copy(const_cast<zmq::message_t&>(payload));
      router.send(std::move(copy), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      log("could not answer a peer: ", e.what());  // it went away; nothing to do
    }
  }

  // Records the one answer to a question and gives it to everyone who asked.
  void finish(Job& job, proto::PlacementReplyMessage reply) {
    reply.runId = job.key.first;
    reply.epoch = job.key.second;
    ++decisions;
    ++(reply.applied() ? applied : kept);
    const double seconds = static_cast<double>(reply.decisionMicros) * 1e-6;
    const auto bucket = std::upper_bound(std::begin(PlacementService::kDecisionBounds),
                                         std::end(PlacementService::kDecisionBounds), seconds) -
                        std::begin(PlacementService::kDecisionBounds);
    ++decisionBuckets[static_cast<size_t>(bucket)];
    decisionMicrosSum += reply.decisionMicros;
    log("run ", job.key.first, " epoch ", job.key.second, ": ", job.policy, " ", proto::toString(reply.outcome),
        " after ", reply.decisionMicros / 1000.0, " ms for ", job.waiters.size(), " asker(s): ", reply.decision.reason);
    zmq::message_t frame = encoder.encode(proto::kPlacementServiceSender, reply);
    for (const auto& routing : job.waiters) send(routing, frame);
    const Key key = job.key;
    cache.insert(key, std::move(frame));
    jobKeys.erase(job.id);
    jobs.erase(key);  // job is gone from here on
  }

  void start(Job& job) {
    auto shared = completions;
    ++shared->running;
    std::thread([shared, id = job.id, request = std::move(job.request)] {
      proto::PlacementReplyMessage reply;
      try {
        reply = runPolicy(std::move(*request));
      } catch (...) {
        reply = keptReply(request->runId, request->epoch, "policy failed: an unknown exception");
      }
      {
        std::lock_guard<std::mutex> lock(shared->mutex);
        shared->done.emplace_back(id, std::move(reply));
      }
      --shared->running;
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(shared->wake, &one, sizeof one);
    }).detach();
  }

  void startQueued() {
    while (!queued.empty() && completions->running.load() < std::max<uint32_t>(options.workers, 1)) {
      const uint64_t id = queued.front();
      queued.pop_front();
      auto key = jobKeys.find(id);
      if (key == jobKeys.end()) continue;  // already answered (deadline)
      start(jobs.at(key->second));
    }
  }

  void collectCompletions() {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(completions->wake, &count, sizeof count);
    std::vector<std::pair<uint64_t, proto::PlacementReplyMessage>> done;
    {
      std::lock_guard<std::mutex> lock(completions->mutex);
      done.swap(completions->done);
    }
    for (auto& [id, reply] : done) {
      auto key = jobKeys.find(id);
      if (key == jobKeys.end()) continue;  // answered "kept" at its deadline; this result is dropped
      finish(jobs.at(key->second), std::move(reply));
    }
  }

  void expireDeadlines() {
    const Clock::time_point now = Clock::now();
    std::vector<Key> late;
    for (const auto& [key, job] : jobs)
      if (job.deadline <= now) late.push_back(key);
    for (const Key& key : late) {
      Job& job = jobs.at(key);
      ++deadlines;
      auto reply = keptReply(key.first, key.second,
                             "policy " + job.policy + " took longer than " +
                                 std::to_string(options.deadline.count()) + " ms");
      reply.decisionMicros = microsSince(job.arrived);
      finish(job, std::move(reply));
    }
  }

  // The (run id, epoch) of a decoded placementRequest, when its run id reads as a bounded text.
  static std::optional<Key> questionOf(const proto::DecodedMessage& message) {
    try {
      auto in = message.envelope().getPlacementRequest();
      auto runId = in.getRunId();
      if (runId.size() > Limits::maxNameBytes) return std::nullopt;
      return Key{std::string(runId.cStr(), runId.size()), in.getEpoch()};
    } catch (const kj::Exception&) {
      return std::nullopt;
    }
  }

  void reject(const proto::Rejection& r, const char* what) {
    ++rejected;
    log("rejected ", what, ": ", r.describe());
  }

  void handle(std::vector<zmq::message_t>&& parts) {
    ++requests;
    if (parts.size() < 2) {  // a ROUTER always prepends the peer's identity
      rejects.record(proto::RejectReason::Malformed);
      reject({proto::RejectReason::Malformed, "a message without routing frames"}, "a frame");
      return;
    }
    zmq::message_t payload = std::move(parts.back());
    parts.pop_back();
    auto decoded = proto::tryDecode(std::move(payload), rejects);
    if (!decoded) return reject(decoded.error(), "a frame");
    if (decoded->kind() != proto::Envelope::PLACEMENT_REQUEST) {
      rejects.record(proto::RejectReason::UnexpectedKind);
      return reject({proto::RejectReason::UnexpectedKind,
                     std::string("a ") + proto::kindName(decoded->kind()) + " message from sender " +
                         std::to_string(decoded->sender())},
                    "a frame");
    }
    // An answered question, or one being decided, needs no more than its name: every asker gets
    // the recorded answer whatever else it sent, so the rest is not even read.
    if (auto key = questionOf(*decoded)) {
      if (const zmq::message_t* cached = cache.find(*key)) {
        ++memoHits;
        send(parts, *cached);
        return;
      }
      if (auto it = jobs.find(*key); it != jobs.end()) {
        ++memoHits;
        it->second.waiters.push_back(std::move(parts));
        return;
      }
    }
    auto request = std::make_shared<proto::PlacementRequestMessage>();
    if (auto ok = proto::tryRead(*decoded, *request, rejects); !ok) {
      reject(ok.error(), "a placement request");
      // Answer what can be answered, so that the asker learns why rather than waiting.
      const Key key = questionOf(*decoded).value_or(Key{});
      auto reply = keptReply(key.first, key.second, "placement service refused the request: " + ok.error().describe());
      send(parts, encoder.encode(proto::kPlacementServiceSender, reply));
      return;
    }
    Key key{request->runId, request->epoch};
    Job job;
    job.id = nextJob++;
    job.key = key;
    job.policy = request->policy;
    job.request = std::move(request);
    job.arrived = Clock::now();
    job.deadline = job.arrived + options.deadline;
    job.waiters.push_back(std::move(parts));
    jobKeys.emplace(job.id, key);
    queued.push_back(job.id);
    jobs.emplace(key, std::move(job));
  }
};

PlacementService::PlacementService(ServiceOptions options) : state_(std::make_unique<State>(std::move(options))) {
  auto& router = state_->router;
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::DecodeLimits{}.maxFrameBytes));
  router.set(zmq::sockopt::sndhwm, 0);
  if (const auto& curve = state_->options.curve) {
    state_->zap = std::make_unique<proto::ZapAuthenticator>(state_->context, curve->allowed);
    proto::makeCurveServer(router, *curve, "placement");
  }
  try {
    router.bind(state_->options.bind);
  } catch (const zmq::error_t& e) {
    fail(ErrorKind::InvalidConfig, "placement service: cannot bind ", state_->options.bind, ": ", e.what());
  }
  endpoint_ = router.get(zmq::sockopt::last_endpoint);
}

PlacementService::~PlacementService() = default;

std::shared_ptr<prometheus::Collectable> PlacementService::authMetrics() const {
  return state_->zap ? state_->zap->metrics({"placement"}) : nullptr;
}

void PlacementService::run(const std::atomic<bool>& stop) {
  State& s = *state_;
  while (!stop.load()) {
    // Sleep until a frame, a finished policy, the next deadline or 100 ms (to look at `stop`).
    auto timeout = std::chrono::milliseconds(100);
    const Clock::time_point now = Clock::now();
    for (const auto& [key, job] : s.jobs)
      timeout = std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(std::max(job.deadline - now, Clock::duration::zero())));
    zmq::pollitem_t items[] = {{s.router.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, s.completions->wake, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, timeout);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: look at `stop`
      throw;
    }
    if (items[1].revents & ZMQ_POLLIN) s.collectCompletions();
    if (items[0].revents & ZMQ_POLLIN) {
      for (int i = 0; i < 256; ++i) {  // drain, a bounded number at a time
        std::vector<zmq::message_t> parts;
        if (!zmq::recv_multipart(s.router, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
        s.handle(std::move(parts));
      }
    }
    s.startQueued();
    s.expireDeadlines();
  }
  s.log("stopping: ", s.decisions.load(), " decisions, ", s.memoHits.load(), " answered from memory, ",
        s.rejected.load(), " frames rejected (", s.rejects.summary(), ")");
}

PlacementService::Stats PlacementService::stats() const {
  const State& s = *state_;
  Stats out{s.requests.load(), s.decisions.load(), s.applied.load(), s.kept.load(),
            s.deadlines.load(), s.memoHits.load(), s.rejected.load(), {}, 0};
  for (const auto& b : s.decisionBuckets) out.decisionBuckets.push_back(b.load());
  out.decisionSeconds = static_cast<double>(s.decisionMicrosSum.load()) * 1e-6;
  return out;
}

std::string PlacementService::rejectSummary() const { return state_->rejects.summary(); }

}  // namespace wafersim::placement
