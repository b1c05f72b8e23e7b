// "hw.Die": a die on the network (an endpoint of network.h) that runs a scripted program of
// compute and communication, the building block of hardware microbenchmarks and tests; the MoE
// workloads drive the same DieModel (die.h) and NetworkInterface (nic.h).
//
// The program of die i is DieSystem::programs[i], a list of steps run in order:
//   Compute{op, wait}        submit op to its engine (die.h timing); wait: block until it ends,
//                            otherwise continue at once (engines run in parallel: Duplex).
//   Send{dest, bytes, tag}   hand a message to the NIC (nic.h); never blocks.
//   WaitMessages{n, tag}     block until n messages with that tag have arrived in total.
//   WaitEngines              block until every op submitted so far has ended.
//   Mark{id}                 tell the subclass (onMark) that the program reached this point now;
//                            takes no time and sends nothing (a measurement, never an event).
// Tags let a program wait for one phase's messages while others (a faster peer's next phase)
// arrive meanwhile; the tag travels in the high 32 bits of the message's flow id.
//
// ProgramDie is the machinery as a base class: a workload die (models/moe) appends steps as it
// goes (refill) and handles its own control ports.
// When the last step is done the die records "program_done_ps" and promises no more output.
// Data resident in the die's DRAM (DieSystem::resident: weights, KV cache) is allocated at
// construction; what does not fit refuses the run, naming the die, the item and the byte counts.
//
// Lookahead: every send goes through the NIC, so the die declares the reaction delay T(1 byte)
// of its injection link; while it is blocked in a compute op that ends at t it promises no
// output before t.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/hardware/die.h"
#include "models/hardware/nic.h"
#include "sim/component_registry.h"

namespace wafersim::hw {

// The key of the DieSystem in the graph's model data.
inline constexpr const char* kDieSystemDataKey = "dies";

struct ProgramStep {
  enum class Kind : uint8_t { Compute, Send, WaitMessages, WaitEngines, Mark };
  Kind kind = Kind::Compute;
  DieOp op;
  bool wait = true;
  uint32_t destination = 0;
  Bytes bytes;
  uint64_t messages = 0;
  uint32_t tag = 0;

  static ProgramStep compute(DieOp op, bool wait = true);
  static ProgramStep send(uint32_t destination, Bytes bytes, uint32_t tag = 0);
  static ProgramStep waitMessages(uint64_t total, uint32_t tag = 0);
  static ProgramStep waitEngines();
  static ProgramStep mark(uint32_t id);  // the id travels in `tag`
};

struct ResidentData {
  std::string what;  // "expert 3 weights"
  Bytes bytes;
};

struct DieSystem {
  std::vector<DieSpec> specs;                      // distinct die kinds
  std::vector<uint32_t> specOf;                    // per endpoint: index into specs
  std::vector<std::vector<ProgramStep>> programs;  // per endpoint
  std::vector<std::vector<ResidentData>> resident; // per endpoint (empty: nothing)

  // Every die index valid, every spec valid, every program's engines and destinations exist,
  // every die's resident data fits its DRAM (throws Error{InvalidConfig} naming what does not).
  void validate(uint32_t endpoints, const std::vector<std::string>& names) const;
};

// A die component that runs ProgramSteps: a DieModel, a NetworkInterface on port "net" (parameters
// index, bandwidth, energy_per_bit, mode, chunk: dieParams()), and the step machine.
class ProgramDie : public Component {
 public:
  ProgramDie(const ComponentContext& ctx, const DieSpec& spec);
  void setup() override;  // starts the machine; an override calls ProgramDie::setup() last
  void handle(const Event& e) final;
  // Checkpoints: the program and where it is, the messages counted by tag, the die model and the
  // interface. An override calls ProgramDie::save / restore first, then handles its own state;
  // restore() binds the ports as setup() does and starts nothing.
  void save(StateWriter& out) const override;
  void restore(StateReader& in) override;

  static std::vector<ParamSpec> dieParams();  // index, bandwidth, energy_per_bit, mode, chunk

 protected:
  // The program ran out: append the next steps and return true, or return false when there is
  // nothing to do yet; it is asked again after every event that does not find the die blocked.
  // The die's promise is "now" while it waits; refill may promise more (promiseNoOutputBefore).
  virtual bool refill(std::vector<ProgramStep>& program) = 0;
  // Events on ports other than "net" and self-events other than the machine's own.
  virtual void handleControl(const Event& e) { (void)e; }
  // The program reached Mark{id} at now().
  virtual void onMark(uint32_t id) { (void)id; }
  // Self-events of a subclass must use a payload whose first 8 bytes are not kWake.
  static constexpr uint64_t kWake = 0x57414b45'57414b45ull;

  // Records every op and message that overlaps [start, end) in the table "trace" (columns
  // start_ps, end_ps, track, kind, amount, detail: track = engine index, or the engine count for
  // the NIC; kind 0 GEMM, 1 attention, 2 message, 4 stream; amount = FLOPs or bytes; detail = DRAM bytes or
  // the destination). The CLI turns "trace" tables into a Chrome/Perfetto trace.
  void traceWindow(SimTime start, SimTime end);

  DieModel& die() { return model_; }
  uint32_t index() const { return index_; }
  uint64_t received(uint32_t tag) const;
  SimTime enginesDoneAt() const { return allDone_; }

 private:
  void blockUntil(SimTime t);
  void advance();

  const uint32_t index_;
  DieModel model_;
  NetworkInterface nic_;
  PortId net_ = 0;
  std::vector<ProgramStep> program_;
  size_t pc_ = 0;
  bool blocked_ = false;
  std::vector<uint64_t> receivedByTag_;
  SimTime traceStart_ = SimTime::zero(), traceEnd_ = SimTime::zero();
  Table* trace_ = nullptr;
  uint64_t nextFlow_ = 0;
  SimTime allDone_ = SimTime::zero();
};

void registerDie(ComponentRegistry& registry);

}  // namespace wafersim::hw
