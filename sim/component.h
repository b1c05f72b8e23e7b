// The base of every simulated component.
//
// LIFECYCLE (enforced by Partition; a call out of order throws Error{Internal}):
//   1. construct  the registry's factory builds the component from validated parameters; it may
//                 register statistics and declare its reaction delay, but not send.
//   2. connect    the kernel binds every declared port to a link or fabric.
//   3. init(k)    phases k = 0, 1, ...: untimed exchanges (sendInit; received by handleInit before
//                 the next phase). Phases continue while any component anywhere sent something.
//   4. setup()    last call before time starts; schedule the first events here.
//   5. run        handle() is called for each event in the global event order (event.h).
//   6. finish()   statistics become final; no more sends.
//
// LOOKAHEAD the component can promise (ARCHITECTURE.md contract 3; the arithmetic is in lookahead.h):
//  - declareReactionDelay(d): any event this component handles at t, a self-event included,
//    makes it send nothing before t + d (a die that needs at least d to compute). Static; set
//    during construction. A component that sends at once when a self-event fires cannot declare
//    d > 0; fold the known wait into the send's delay instead (models/synthetic/phold.cc).
//  - promiseNoOutputBefore(t): from now on this component sends nothing on any link before t,
//    whatever it receives meanwhile (a die busy until t with a FIFO in front). Re-promise from
//    state after every event that changes it. Until it first promises, a component may send at
//    any time (promise 0). Promises must be kept: in checker mode a send that breaks the bound
//    derived from them is an error naming the component.
//  - promisedOutputTimeOn(port): the same promise for one port, for components whose ports are
//    independent FIFOs (a router's output port busy until t sends nothing on it before t). The
//    kernel asks it once per window for each port on the cut, so it is computed from state when
//    asked; it may only raise promisedOutputTime().
// The kernel turns both into a bound per peer partition: max(A, T + C) (lookahead.h). They widen
// the synchronization windows beyond the cut links' latency for models that compute between sends.
//
// Threading: a component belongs to one partition thread and is never touched by another.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/checkpoint.h"
#include "sim/event.h"
#include "sim/model_data.h"
#include "sim/observer.h"
#include "sim/params.h"
#include "sim/random.h"
#include "sim/statistics.h"

namespace wafersim {

class Partition;
struct BoundPort;

// What a factory receives: everything the component is, before it is connected.
struct ComponentContext {
  ComponentId id = 0;
  std::string name;
  std::string type;
  const Params* params = nullptr;  // validated, defaults filled in
  uint64_t seed = 0;               // the run's seed; random() derives the component's stream from it
  const std::vector<std::string>* portNames = nullptr;
  const ModelData* data = nullptr;  // the graph's shared model data (model_data.h)
};

class Component {
 public:
  explicit Component(const ComponentContext& context);
  virtual ~Component() = default;
  Component(const Component&) = delete;
  Component& operator=(const Component&) = delete;

  virtual void init(unsigned phase) { (void)phase; }
  virtual void handleInit(const Event& event) { (void)event; }
  virtual void setup() {}
  virtual void handle(const Event& event) = 0;
  virtual void finish() {}
  // Live values beyond the statistics, for observers (observer.h): levels such as queue lengths,
  // and totals kept outside the counters until finish(). Const: observing changes nothing.
  virtual void observe(ObservationSink& sink) const { (void)sink; }

  // CHECKPOINTS (checkpoint.h), for types registered with `checkpoint = true`. The kernel saves
  // and restores what it keeps for every component: statistics, random stream, sequence number,
  // promise, event digest, pending events. save() writes everything else the component holds
  // that changes while it runs; restore() reads it back in the same order and runs instead of
  // setup() when a run resumes: after construct, connect and the init phases, so it recomputes
  // what those give (a fabric index) instead of saving it. It must not send. The defaults refuse
  // (Error{Unimplemented} naming the type).
  virtual void save(StateWriter& out) const;
  virtual void restore(StateReader& in);

  ComponentId id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  Duration reactionDelay() const { return reactionDelay_; }
  SimTime promisedOutputTime() const { return promise_; }
  virtual SimTime promisedOutputTimeOn(PortId port) const {
    (void)port;
    return promise_;
  }
  StatSet& stats() { return stats_; }
  const StatSet& stats() const { return stats_; }

 protected:
  SimTime now() const;
  // The index of a declared port, by name; throws naming the component if it has no such port.
  PortId port(const std::string& name) const;

  // Sends on a point-to-point port: delivered at now + link latency + extra.
  void send(PortId port, const Payload& payload, Duration extra = Duration::zero(), uint32_t priority = 0);
  // Sends on a fabric port to the member with the given index: now + fabric latency + extra.
  void sendTo(PortId port, uint32_t member, const Payload& payload, Duration extra = Duration::zero(),
              uint32_t priority = 0);
  uint32_t fabricSize(PortId port) const;
  // This component's member index in the fabric on `port` (a linear search: cache it).
  uint32_t fabricIndexOfSelf(PortId port) const;
  // The component that is member `member` of the fabric on `port`.
  ComponentId fabricMember(PortId port, uint32_t member) const;
  // Only during restore(): the state (save()'s bytes) that component `other` wrote into the cut
  // being restored, whichever partition wrote it; null when the cut has none for it. For state a
  // model shares between components, which every process must rebuild from its one owner's record
  // (the serving host's step announcements, models/moe/serving_plan.h).
  const std::string* savedStateOf(ComponentId other) const;
  // An event to this component itself at now + delay, on kSelfPort.
  void scheduleSelf(Duration delay, const Payload& payload, uint32_t priority = 0);
  // Only during init(phase): an untimed message delivered to the peer's handleInit before phase+1.
  void sendInit(PortId port, const Payload& payload);

  void declareReactionDelay(Duration d);
  void promiseNoOutputBefore(SimTime t) { promise_ = t; }

  Counter& counter(const std::string& name) { return stats_.counter(name); }
  Histogram& histogram(const std::string& name, std::vector<int64_t> bounds) {
    return stats_.histogram(name, std::move(bounds));
  }
  Table& table(const std::string& name, std::vector<std::string> columns) {
    return stats_.table(name, std::move(columns));
  }
  RandomStream& random() { return random_; }

 private:
  friend class Partition;
  // The bound port for a send now; refuses sends outside setup and the run, unknown ports and
  // negative delays, naming the component and the port.
  const BoundPort& portForSend(PortId port, Duration extra) const;
  void emit(ComponentId target, PortId targetPort, int32_t peer, const Payload& payload, Duration delay,
            uint32_t priority);

  ComponentId id_;
  std::string name_;
  std::string type_;
  const std::vector<std::string>* portNames_;
  Partition* partition_ = nullptr;  // set by Partition::connect; borrowed, outlives the component's run
  BoundPort* ports_ = nullptr;      // owned by Partition, one per declared port
  uint64_t nextSeq_ = 0;
  Duration reactionDelay_ = Duration::zero();
  SimTime promise_ = SimTime::zero();
  StatSet stats_;
  RandomStream random_;
};

}  // namespace wafersim
