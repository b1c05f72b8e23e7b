#include "sim/component.h"

#include "sim/error.h"
#include "sim/partition.h"

namespace wafersim {

Component::Component(const ComponentContext& context)
    : id_(context.id),
      name_(context.name),
      type_(context.type),
      portNames_(context.portNames),
      random_(context.seed, context.id) {}

SimTime Component::now() const {
  WAFERSIM_ASSERT(partition_ != nullptr, "component ", name_, " asked for the time before it was connected");
  return partition_->now_;
}

PortId Component::port(const std::string& name) const {
  if (portNames_)
    for (size_t i = 0; i < portNames_->size(); ++i)
      if ((*portNames_)[i] == name) return static_cast<PortId>(i);
  fail(ErrorKind::InvalidConfig, "component ", name_, " (", type_, ") has no port \"", name, "\"");
}

void Component::declareReactionDelay(Duration d) {
  WAFERSIM_REQUIRE(d >= Duration::zero(), "component ", name_, ": negative reaction delay ", toString(d));
  WAFERSIM_ASSERT(partition_ == nullptr, "component ", name_, ": the reaction delay is declared during construction");
  reactionDelay_ = d;
}

namespace {
[[noreturn]] void cannotSend(const Component& c, PortId port, const char* why) {
  fail(ErrorKind::Internal, "component ", c.name(), " (", c.type(), ") port #", port, ": ", why);
}
}  // namespace

const BoundPort& Component::portForSend(PortId port, Duration extra) const {
  if (partition_ == nullptr || (partition_->phase_ != Partition::Phase::Running &&
                                partition_->phase_ != Partition::Phase::SetUp))
    cannotSend(*this, port, "send outside setup() and the run");
  if (port >= portNames_->size()) cannotSend(*this, port, "no such port");
  if (extra < Duration::zero())
    fail(ErrorKind::InvalidConfig, "component ", name_, " (", type_, ") port ", (*portNames_)[port],
         ": negative delay ", toString(extra));
  return ports_[port];
}

void Component::send(PortId port, const Payload& payload, Duration extra, uint32_t priority) {
  const BoundPort& b = portForSend(port, extra);
  if (b.kind != BoundPort::Kind::Link)
    fail(ErrorKind::InvalidConfig, "component ", name_, " (", type_, ") port ", (*portNames_)[port],
         b.kind == BoundPort::Kind::Unbound ? ": send on an unconnected port" : ": send() on a fabric port (use sendTo)");
  emit(b.target, b.targetPort, b.peer, payload, b.latency + extra, priority);
}

void Component::sendTo(PortId port, uint32_t member, const Payload& payload, Duration extra, uint32_t priority) {
  const BoundPort& b = portForSend(port, extra);
  if (b.kind != BoundPort::Kind::Fabric)
    fail(ErrorKind::InvalidConfig, "component ", name_, " (", type_, ") port ", (*portNames_)[port],
         ": sendTo() on a port that is not a fabric");
  const FabricBinding& f = *b.fabric;
  if (member >= f.members.size())
    fail(ErrorKind::InvalidConfig, "component ", name_, " (", type_, ") port ", (*portNames_)[port], ": member ",
         member, " of fabric ", f.name, " does not exist (", f.members.size(), " members)");
  emit(f.members[member], f.memberPort[member], f.peer[member], payload, f.latency + extra, priority);
}

uint32_t Component::fabricSize(PortId port) const {
  WAFERSIM_ASSERT(port < portNames_->size() && ports_ && ports_[port].kind == BoundPort::Kind::Fabric, name_, port);
  return static_cast<uint32_t>(ports_[port].fabric->members.size());
}

uint32_t Component::fabricIndexOfSelf(PortId port) const {
  const uint32_t n = fabricSize(port);
  for (uint32_t m = 0; m < n; ++m)
    if (ports_[port].fabric->members[m] == id_) return m;
  fail(ErrorKind::Internal, "component ", name_, " is not a member of its own fabric");
}

ComponentId Component::fabricMember(PortId port, uint32_t member) const {
  WAFERSIM_ASSERT(member < fabricSize(port), name_, port, member);
  return ports_[port].fabric->members[member];
}

const std::string* Component::savedStateOf(ComponentId other) const {
  const CheckpointImage* image = partition_ ? partition_->restoring_ : nullptr;
  if (image == nullptr) fail(ErrorKind::Internal, "component ", name_, ": savedStateOf outside restore()");
  auto it = image->components.find(other);
  return it == image->components.end() ? nullptr : &it->second.state;
}

void Component::scheduleSelf(Duration delay, const Payload& payload, uint32_t priority) {
  if (partition_ == nullptr || (partition_->phase_ != Partition::Phase::Running &&
                                partition_->phase_ != Partition::Phase::SetUp))
    cannotSend(*this, kSelfPort, "scheduleSelf outside setup() and the run");
  if (delay < Duration::zero())
    fail(ErrorKind::InvalidConfig, "component ", name_, " (", type_, "): self-event with negative delay ",
         toString(delay));
  Event e;
  e.time = partition_->now_ + delay;
  e.order = Event::makeOrder(priority, id_);
  e.seq = nextSeq_++;
  e.target = id_;
  e.port = kSelfPort;
  e.payload = payload;
  partition_->enqueue(e);
}

void Component::sendInit(PortId port, const Payload& payload) {
  if (partition_ == nullptr || !partition_->initializing_) cannotSend(*this, port, "sendInit outside init()");
  if (port >= portNames_->size()) cannotSend(*this, port, "no such port");
  const BoundPort& b = ports_[port];
  if (b.kind == BoundPort::Kind::Link) {
    emit(b.target, b.targetPort, b.peer, payload, Duration::zero(), 0);
  } else if (b.kind == BoundPort::Kind::Fabric) {
    const FabricBinding& f = *b.fabric;  // an init message on a fabric goes to every other member
    for (size_t m = 0; m < f.members.size(); ++m)
      if (f.members[m] != id_) emit(f.members[m], f.memberPort[m], f.peer[m], payload, Duration::zero(), 0);
  } else {
    fail(ErrorKind::InvalidConfig, "component ", name_, " (", type_, ") port ", (*portNames_)[port],
         ": sendInit on an unconnected port");
  }
}

void Component::emit(ComponentId target, PortId targetPort, int32_t peer, const Payload& payload, Duration delay,
                     uint32_t priority) {
  Event e;
  e.time = partition_->initializing_ ? SimTime::zero() : partition_->now_ + delay;
  e.order = Event::makeOrder(priority, id_);
  e.seq = nextSeq_++;
  e.target = target;
  e.port = targetPort;
  e.payload = payload;
  partition_->push(e, peer);
}

}  // namespace wafersim

namespace wafersim {

void Component::save(StateWriter&) const {
  fail(ErrorKind::Unimplemented, "component ", name_, " (", type_, ") cannot be checkpointed: its type has no save hook");
}

void Component::restore(StateReader&) {
  fail(ErrorKind::Unimplemented, "component ", name_, " (", type_, ") cannot be restored: its type has no restore hook");
}

}  // namespace wafersim
