// "hw.Die": a die on the network (an endpoint of network.h) that runs a scripted program of
// compute and communication, the building block of hardware microbenchmarks and tests; the MoE
// workloads drive the same DieModel (die.h) and NetworkInterface (nic.h).
//
// The program of die i is DieSystem::programs[i], a list of steps run in order:
//   Compute{op, wait}   submit op to its engine (die.h timing); wait: block until it ends,
//                       otherwise continue at once (engines run in parallel: Duplex).
//   Send{dest, bytes}   hand a message to the NIC (nic.h); never blocks.
//   WaitMessages{n}     block until n messages in total have arrived.
//   WaitEngines         block until every op submitted so far has ended.
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
#include "sim/component_registry.h"

namespace wafersim::hw {

// The key of the DieSystem in the graph's model data.
inline constexpr const char* kDieSystemDataKey = "dies";

struct ProgramStep {
  enum class Kind : uint8_t { Compute, Send, WaitMessages, WaitEngines };
  Kind kind = Kind::Compute;
  DieOp op;
  bool wait = true;
  uint32_t destination = 0;
  Bytes bytes;
  uint64_t messages = 0;

  static ProgramStep compute(DieOp op, bool wait = true);
  static ProgramStep send(uint32_t destination, Bytes bytes);
  static ProgramStep waitMessages(uint64_t total);
  static ProgramStep waitEngines();
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

void registerDie(ComponentRegistry& registry);

}  // namespace wafersim::hw
