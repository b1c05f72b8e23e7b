#include "sim/partition.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "sim/error.h"
#include "sim/wall_timer.h"

namespace wafersim {
namespace {

const char* phaseName(Partition::Phase p) {
  switch (p) {
    case Partition::Phase::Constructed: return "constructed";
    case Partition::Phase::Connected: return "connected";
    case Partition::Phase::Initialized: return "initialized";
    case Partition::Phase::SetUp: return "set up";
    case Partition::Phase::Running: return "running";
    case Partition::Phase::Finished: return "finished";
  }
  return "?";
}

PortId portIndex(const ComponentType& type, const std::string& name) {
  for (size_t i = 0; i < type.portNames.size(); ++i)
    if (type.portNames[i] == name) return static_cast<PortId>(i);
  fail(ErrorKind::Internal, "port ", name, " vanished from type ", type.name, " (graph not validated?)");
}

}  // namespace

Partition::Partition(const SystemGraph& graph, const ComponentRegistry& registry, const PartitionMap& map,
                     PartitionId self, PartitionOptions options)
    : self_(self), partitions_(map.partitions), options_(options) {
  const auto& specs = graph.components();
  WAFERSIM_REQUIRE(map.of.size() == specs.size(), "partition map does not match the graph");
  WAFERSIM_REQUIRE(self < map.partitions, "partition ", self, " of ", map.partitions);
  byId_.assign(specs.size(), nullptr);
  digest_.assign(specs.size(), 0);
  committedBy_.assign(specs.size(), 0);
  pendingBy_.assign(specs.size(), 0);

  // 1. construct
  for (const auto& spec : specs) {
    if (map.of[spec.id] != self) continue;
    const ComponentType& type = registry.get(spec.type, describeComponent(spec));
    Params params = resolveParams(spec.params, type.params, describeComponent(spec));
    ComponentContext ctx{spec.id, spec.name, spec.type, &params, options_.seed, &type.portNames, &graph.data()};
    std::unique_ptr<Component> c = type.factory(ctx);
    WAFERSIM_ASSERT(c && c->id() == spec.id, "factory of ", spec.type, " built a wrong component for ", spec.name);
    byId_[spec.id] = c.get();
    ports_.emplace_back(type.portNames.size());
    components_.push_back(std::move(c));
  }
  WAFERSIM_REQUIRE(!components_.empty(), "partition ", self, " has no components");

  // 2. connect: peers first (every partition this one shares a cut link or fabric with).
  std::set<PartitionId> peers;
  for (const auto& l : graph.links())
    if ((map.of[l.a] == self) != (map.of[l.b] == self)) peers.insert(map.of[l.a] == self ? map.of[l.b] : map.of[l.a]);
  for (const auto& f : graph.fabrics()) {
    bool local = false;
    for (ComponentId m : f.members) local = local || map.of[m] == self;
    if (local)
      for (ComponentId m : f.members)
        if (map.of[m] != self) peers.insert(map.of[m]);
  }
  outPeers_.assign(peers.begin(), peers.end());
  inPeers_ = outPeers_;  // links and fabrics carry events both ways
  std::vector<int32_t> outIndexOf(map.partitions, -1);
  for (size_t i = 0; i < outPeers_.size(); ++i) outIndexOf[outPeers_[i]] = static_cast<int32_t>(i);
  outbox_.resize(outPeers_.size());
  minSent_.assign(outPeers_.size(), SimTime::never());
  announced_.assign(outPeers_.size(), SimTime::zero());
  lookahead_.reset(outPeers_.size(), options_.lookahead);

  std::map<ComponentId, size_t> localIndex;
  for (size_t i = 0; i < components_.size(); ++i) localIndex[components_[i]->id()] = i;
  auto bindLink = [&](ComponentId from, const std::string& fromPort, ComponentId to, const std::string& toPort,
                      Duration latency) {
    auto it = localIndex.find(from);
    if (it == localIndex.end()) return;
    const ComponentType& fromType = registry.get(specs[from].type);
    const ComponentType& toType = registry.get(specs[to].type);
    BoundPort& b = ports_[it->second][portIndex(fromType, fromPort)];
    b.kind = BoundPort::Kind::Link;
    b.target = to;
    b.targetPort = portIndex(toType, toPort);
    b.latency = latency;
    b.peer = map.of[to] == self ? -1 : outIndexOf[map.of[to]];
    if (b.peer >= 0)
      lookahead_.addBoundary(static_cast<size_t>(b.peer), components_[it->second].get(), portIndex(fromType, fromPort),
                             latency);
  };
  for (const auto& l : graph.links()) {
    bindLink(l.a, l.portA, l.b, l.portB, l.latencyAB);
    bindLink(l.b, l.portB, l.a, l.portA, l.latencyBA);
  }
  for (const auto& f : graph.fabrics()) {
    bool local = false;
    for (ComponentId m : f.members) local = local || map.of[m] == self;
    if (!local) continue;
    auto binding = std::make_unique<FabricBinding>();
    binding->name = f.name;
    binding->latency = f.latency;
    binding->members = f.members;
    std::set<int32_t> fabricPeers;
    for (ComponentId m : f.members) {
      binding->memberPort.push_back(portIndex(registry.get(specs[m].type), f.port));
      int32_t peer = map.of[m] == self ? -1 : outIndexOf[map.of[m]];
      binding->peer.push_back(peer);
      if (peer >= 0) fabricPeers.insert(peer);
    }
    for (ComponentId m : f.members) {
      if (map.of[m] != self) continue;
      size_t li = localIndex[m];
      const PortId fabricPort = portIndex(registry.get(specs[m].type), f.port);
      BoundPort& b = ports_[li][fabricPort];
      b.kind = BoundPort::Kind::Fabric;
      b.fabric = binding.get();
      for (int32_t peer : fabricPeers)
        lookahead_.addBoundary(static_cast<size_t>(peer), components_[li].get(), fabricPort, f.latency);
    }
    fabrics_.push_back(std::move(binding));
  }
  for (size_t i = 0; i < components_.size(); ++i) {
    components_[i]->partition_ = this;
    components_[i]->ports_ = ports_[i].data();
  }
  lookahead_.seal();
  minReaction_ = Duration::max();
  for (const auto& c : components_) minReaction_ = std::min(minReaction_, c->reactionDelay());
  phase_ = Phase::Connected;
}

Partition::~Partition() = default;

void Partition::requirePhase(Phase expected, const char* step) const {
  WAFERSIM_ASSERT(phase_ == expected, "partition ", self_, ": ", step, " called while ", phaseName(phase_),
                  " (expected ", phaseName(expected), ")");
}

uint64_t Partition::initPhase(unsigned phase) {
  requirePhase(Phase::Connected, "init");
  // Deliver last phase's messages in event order, whatever partition they came from.
  std::vector<Event> inbox;
  inbox.swap(initInbox_);
  std::sort(inbox.begin(), inbox.end(), [](const Event& a, const Event& b) { return before(a, b); });
  for (const Event& e : inbox) byId_[e.target]->handleInit(e);
  uint64_t sentBefore = 0;
  for (const auto& c : components_) sentBefore += c->nextSeq_;
  initializing_ = true;
  for (const auto& c : components_) c->init(phase);
  initializing_ = false;
  uint64_t sentAfter = 0;
  for (const auto& c : components_) sentAfter += c->nextSeq_;
  return sentAfter - sentBefore;
}

void Partition::deliverInit(const std::vector<Event>& events) {
  requirePhase(Phase::Connected, "deliverInit");
  initInbox_.insert(initInbox_.end(), events.begin(), events.end());
}

void Partition::endInit() {
  requirePhase(Phase::Connected, "endInit");
  WAFERSIM_ASSERT(initInbox_.empty(), "partition ", self_, ": init messages left undelivered");
  phase_ = Phase::Initialized;
}

void Partition::setup() {
  requirePhase(Phase::Initialized, "setup");
  phase_ = Phase::SetUp;
  for (const auto& c : components_) c->setup();
  startRunning();
}

void Partition::startRunning() {
  phase_ = Phase::Running;
  if (options_.progress && (live_ = options_.progress->partition(self_))) {
    live_->startedNs.store(systemClockNs(), std::memory_order_relaxed);
    live_->running.store(true, std::memory_order_release);
    publishLive();
  }
  if (options_.observer && options_.observeEvery > Duration::zero())
    nextObservation_ = nextCheckpointAfter(processedUpTo_ - Duration::fromPs(1), options_.observeEvery);
  checkpointing_ = options_.checkpoint && options_.checkpoint->enabled();
  if (checkpointing_ && options_.checkpoint->every > Duration::zero())
    nextCheckpoint_ = nextCheckpointAfter(processedUpTo_, options_.checkpoint->every);
  lastCut_ = std::chrono::steady_clock::now();
}

bool Partition::checkpointWanted() {
  if (!checkpointing_ || self_ != 0) return false;
  const CheckpointOptions& o = *options_.checkpoint;
  if (o.requested && o.requested->exchange(false)) return true;
  return o.everyWallSeconds > 0 &&
         std::chrono::duration<double>(std::chrono::steady_clock::now() - lastCut_).count() >= o.everyWallSeconds;
}

void Partition::writeCheckpoint(uint64_t window) {
  WAFERSIM_ASSERT(checkpointing_, "partition ", self_, ": writeCheckpoint without checkpoint options");
  WallTimer wall;
  const CheckpointOptions& o = *options_.checkpoint;
  const std::string bytes = encodeCheckpointPart(checkpoint(o.fingerprint, partitions_, window));
  const std::string path = o.dir + "/" + checkpointPartName(processedUpTo_, self_);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  writeFileAtomically(path, bytes);
  const double seconds = wall.seconds();
  ++checkpointStats_.written;
  checkpointStats_.bytes += bytes.size();
  checkpointStats_.seconds += seconds;
  if (o.every > Duration::zero()) nextCheckpoint_ = nextCheckpointAfter(processedUpTo_, o.every);
  lastCut_ = std::chrono::steady_clock::now();
  if (o.partWritten) o.partWritten(self_, processedUpTo_, bytes.size(), seconds);
}

CheckpointPart Partition::checkpoint(uint64_t fingerprint, uint32_t partitions, uint64_t window) const {
  WAFERSIM_ASSERT(phase_ == Phase::Running, "partition ", self_, ": checkpoint while ", phaseName(phase_));
  for (const auto& out : outbox_) WAFERSIM_ASSERT(out.empty(), "partition ", self_, ": checkpoint with events in flight");
  CheckpointPart part;
  part.fingerprint = fingerprint;
  part.time = processedUpTo_;
  part.lastEventTime = now_;
  part.partition = self_;
  part.partitions = partitions;
  part.window = window;
  part.components.reserve(components_.size());
  for (const auto& c : components_) {
    ComponentCheckpoint& saved = part.components.emplace_back();
    saved.id = c->id();
    saved.type = c->type();
    saved.nextSeq = c->nextSeq_;
    saved.promise = c->promise_;
    c->random_.saveState(saved.random);
    saved.eventDigest = digest_[c->id()];
    saved.eventsCommitted = committedBy_[c->id()];
    StateWriter stats;
    c->stats_.save(stats);
    saved.stats = stats.take();
    StateWriter state;
    c->save(state);
    saved.state = state.take();
  }
  part.events = queue_.snapshot();
  return part;
}

void Partition::restore(const CheckpointImage& image) {
  requirePhase(Phase::Initialized, "restore");
  phase_ = Phase::SetUp;
  committed_ = 0;
  restoring_ = &image;
  struct Done {
    const CheckpointImage*& image;
    ~Done() { image = nullptr; }
  } done{restoring_};
  for (const auto& c : components_) {
    const std::string who = image.folder + ": component " + c->name();
    auto it = image.components.find(c->id());
    WAFERSIM_REQUIRE(it != image.components.end(), who, " has no saved state");
    const ComponentCheckpoint& saved = it->second;
    WAFERSIM_REQUIRE(saved.type == c->type(), who, " was saved as a ", saved.type, ", it is a ", c->type());
    c->nextSeq_ = saved.nextSeq;
    c->promise_ = saved.promise;
    c->random_.restoreState(saved.random);
    digest_[c->id()] = saved.eventDigest;
    committedBy_[c->id()] = saved.eventsCommitted;
    committed_ += saved.eventsCommitted;
    StateReader stats(saved.stats, who + " statistics");
    c->stats_.restore(stats);
    stats.expectEnd();
    StateReader state(saved.state, who + " state");
    c->restore(state);
    state.expectEnd();
  }
  for (const Event& e : image.events) {
    WAFERSIM_REQUIRE(e.target < byId_.size(), image.folder, ": a pending event for component ", e.target,
                     ", which the system does not have");
    if (byId_[e.target]) enqueue(e);
  }
  now_ = image.lastEventTime;
  processedUpTo_ = image.time;
  startRunning();
}

void Partition::finish() {
  requirePhase(Phase::Running, "finish");
  phase_ = Phase::Finished;
  for (const auto& c : components_) c->finish();
  if (options_.observer) options_.observer->sample(*this, now_, true);
  if (live_) publishLive();
}

// Samples once for the epoch boundary just crossed and skips to the first one after `nextEvent`:
// a quiet stretch of simulated time gives one sample, not one per epoch.
void Partition::observe(SimTime nextEvent) {
  options_.observer->sample(*this, nextObservation_, false);
  const int64_t epoch = options_.observeEvery.ps();
  nextObservation_ = SimTime::fromPs((nextEvent.ps() / epoch + 1) * epoch);
}

void Partition::publishLive() {
  live_->events.store(committed_, std::memory_order_relaxed);
  live_->simulatedPs.store(now_.ps(), std::memory_order_relaxed);
  live_->queueDepth.store(queue_.size(), std::memory_order_relaxed);
  live_->wallNs.store(systemClockNs() - live_->startedNs.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void Partition::push(const Event& e, int32_t peer) {
  if (initializing_) {
    if (peer < 0) initInbox_.push_back(e);
    else outbox_[static_cast<size_t>(peer)].push_back(e);
    return;
  }
  if (peer < 0) {
    enqueue(e);
    return;
  }
  const size_t q = static_cast<size_t>(peer);
  if (options_.checker && e.time < announced_[q]) brokenPromise(e, q);
  outbox_[q].push_back(e);
  minSent_[q] = min(minSent_[q], e.time);
}

void Partition::brokenPromise(const Event& e, size_t outIndex) const {
  const Component* src = byId_[e.source()];
  fail(ErrorKind::Internal, "conservative safety: component ", src ? src->name() : "?", " sent an event for ",
       toString(e.time), " to partition ", outPeers_[outIndex], ", which was promised nothing before ",
       toString(announced_[outIndex]), " (a broken lookahead promise)");
}

void Partition::processUntil(SimTime bound) {
  WAFERSIM_ASSERT(phase_ == Phase::Running, "partition ", self_, ": run while ", phaseName(phase_));
  // 4,096 events take tens of microseconds: a cancelled run stops well within one window.
  constexpr uint64_t kStopCheckEvents = 4096;
  if (options_.stop.stop_requested()) fail(ErrorKind::Disconnected, "run cancelled");
  while (!queue_.empty() && queue_.top().time < bound) {
    if (queue_.top().time >= nextObservation_) observe(queue_.top().time);
    if (committed_ % kStopCheckEvents == kStopCheckEvents - 1) {
      if (options_.stop.stop_requested()) fail(ErrorKind::Disconnected, "run cancelled");
      if (options_.progress) {
        options_.progress->note(committed_ - reported_, now_.ps());
        reported_ = committed_;
        if (live_) publishLive();
      }
    }
    const Event e = queue_.pop();
    --pendingBy_[e.target];
    now_ = e.time;
    if (options_.digest) {
      uint64_t h = digest_[e.target];
      h = mixHash(h, static_cast<uint64_t>(e.time.ps()));
      h = mixHash(h, (static_cast<uint64_t>(e.port) << 32) | e.target);
      h = mixHash(h, e.order);
      h = mixHash(h, e.seq);
      uint64_t words[Payload::kCapacity / 8];
      std::memcpy(words, e.payload.data(), sizeof words);
      for (uint64_t w : words) h = mixHash(h, w);
      digest_[e.target] = h;
    }
    ++committedBy_[e.target];  // also without the digest: a checkpoint carries the counts
    byId_[e.target]->handle(e);
    ++committed_;
  }
  processedUpTo_ = max(processedUpTo_, bound);
  if (options_.progress && committed_ != reported_) {
    options_.progress->note(committed_ - reported_, now_.ps());
    reported_ = committed_;
  }
  if (live_) publishLive();
}

void Partition::clearMinSent() { std::fill(minSent_.begin(), minSent_.end(), SimTime::never()); }

void Partition::deliverRemote(PartitionId from, const std::vector<Event>& events) {
  for (const Event& e : events) {
    if (options_.checker && e.time < processedUpTo_)
      fail(ErrorKind::Internal, "conservative safety: partition ", self_, " received an event for ", toString(e.time),
           " from partition ", from, " after committing everything before ", toString(processedUpTo_));
    WAFERSIM_ASSERT(e.target < byId_.size() && byId_[e.target] != nullptr, "partition ", self_,
                    " received an event for component #", e.target, " it does not host (from partition ", from, ")");
    enqueue(e);
  }
}

SimTime Partition::earliestLocalSend() const {
  const SimTime next = queue_.nextTime();
  if (next.isNever()) return next;
  const SimTime floor = next + minReaction_;
  SimTime first = SimTime::never();
  for (const auto& c : components_) {
    if (pendingBy_[c->id()] == 0) continue;
    first = min(first, max(c->promisedOutputTime(), next + c->reactionDelay()));
    if (first <= floor) break;
  }
  return first;
}

PeerReport Partition::boundTo(size_t outIndex, SimTime remoteFloor, SimTime firstSend) const {
  PeerReport r = lookahead_.bound(outIndex, {remoteFloor, queue_.nextTime(), firstSend, pendingBy_});
  r.peer = outPeers_[outIndex];
  r.minSent = minSent_[outIndex];
  return r;
}

std::vector<ComponentResult> Partition::results() const {
  std::vector<ComponentResult> out;
  for (const auto& c : components_)
    out.push_back({c->id(), c->name(), c->type(), digest_[c->id()], committedBy_[c->id()], &c->stats()});
  return out;
}

}  // namespace wafersim
