#include "models/hardware/die.h"

#include <algorithm>

#include "sim/checkpoint.h"
#include "sim/error.h"

namespace wafersim::hw {

void DieSpec::validate() const {
  WAFERSIM_REQUIRE(!engines.empty(), "die ", name, ": no compute engine");
  for (const EngineSpec& e : engines) {
    WAFERSIM_REQUIRE(!e.name.empty(), "die ", name, ": an engine has no name");
    e.compute.validate();
    WAFERSIM_REQUIRE(e.dramBandwidth.bytesPerSecond != 0, "die ", name, ": engine ", e.name,
                     " has zero DRAM bandwidth");
    for (const EngineSpec& other : engines)
      WAFERSIM_REQUIRE(&other == &e || other.name != e.name, "die ", name, ": two engines named ", e.name);
  }
}

uint32_t DieSpec::engineIndex(const std::string& engine) const {
  std::string known;
  for (uint32_t i = 0; i < engines.size(); ++i) {
    if (engines[i].name == engine) return i;
    known += (i ? ", " : "") + engines[i].name;
  }
  fail(ErrorKind::InvalidConfig, "die ", name, " has no engine \"", engine, "\" (engines: ", known, ")");
}

DieModel::DieModel(const DieSpec& spec, StatSet& stats, const std::string& component)
    : spec_(spec),
      component_(component),
      memory_(component + ".dram", spec.dram),
      dramBytes_(stats.counter("dram_bytes")),
      sramBytes_(stats.counter("sram_bytes")),
      compute_(stats.counter("energy_compute_pj")),
      sram_(stats.counter("energy_sram_pj")),
      dramOffStack_(stats.counter("energy_dram_off_stack_pj")),
      dramLogicDie_(stats.counter("energy_dram_logic_die_pj")),
      dramInBank_(stats.counter("energy_dram_in_bank_pj")) {
  spec_.validate();
  for (const EngineSpec& e : spec_.engines) {
    internal_ = std::max(internal_, e.dramBandwidth);
    EngineState s;
    s.ops = &stats.counter("ops_" + e.name);
    s.busyPs = &stats.counter("busy_ps_" + e.name);
    s.flops = &stats.counter("flops_" + e.name);
    engines_.push_back(s);
  }
  stats.counter("static_power_uw").add(spec_.staticPowerMicrowatts);
}

OpCost DieModel::cost(const DieOp& op) const {
  WAFERSIM_REQUIRE(op.engine < spec_.engines.size(), component_, ": op on engine ", op.engine, ", the die has ",
                   spec_.engines.size());
  const EngineSpec& e = spec_.engines[op.engine];
  const Bandwidth memory = op.source == OperandSource::Sram ? e.compute.sramBandwidth : e.dramBandwidth;
  WAFERSIM_REQUIRE(memory.bytesPerSecond != 0, component_, ": engine ", e.name,
                   " has no SRAM bandwidth for an SRAM-resident op");
  if (op.kind == DieOp::Kind::Stream) {
    WAFERSIM_REQUIRE(op.partition.rows == 0 && !op.partition.vectorMode, component_,
                     ": a stream op runs on no array partition");
    OpCost c;
    c.bytes = op.bytes;
    c.memoryTime = c.idealTime = c.time = memory.transferTime(op.bytes);
    return c;
  }
  return op.kind == DieOp::Kind::Gemm ? gemmOnPartition(e.compute, op.partition, op.gemm, memory, op.source)
                                      : attentionOnPartition(e.compute, op.partition, op.attention, memory, op.source);
}

OpTiming DieModel::submit(SimTime now, const DieOp& op) {
  const OpCost c = cost(op);
  const EngineSpec& spec = spec_.engines[op.engine];
  EngineState& engine = engines_[op.engine];
  OpTiming t;
  t.cost = c;
  t.start = max(now, engine.free);
  SimTime memEnd = t.start + c.memoryTime;
  if (op.source == OperandSource::Dram && c.bytes.value > 0) {
    const SimTime reserveStart = max(t.start, dramFree_);
    dramFree_ = reserveStart + internal_.transferTime(c.bytes);
    memEnd = max(memEnd, dramFree_);
    dramBytes_.add(c.bytes.value);
    const Energy e = spec_.dram.accessEnergy(spec.path, c.bytes);
    switch (spec.path) {
      case MemoryPath::OffStack: dramOffStack_.add(e); break;
      case MemoryPath::LogicDie: dramLogicDie_.add(e); break;
      case MemoryPath::InBank: dramInBank_.add(e); break;
    }
  } else if (op.source == OperandSource::Sram) {
    sram_.add(spec.compute.sramEnergy.of(c.bytes));
    sramBytes_.add(c.bytes.value);
  }
  if (const Bytes through = Bytes{op.sramFill.value + c.sramBytes.value}; through.value > 0) {
    sram_.add(spec.compute.sramEnergy.of(through));
    sramBytes_.add(through.value);
  }
  t.end = max(t.start + c.computeTime, memEnd);
  engine.free = t.end;
  uint64_t computeFj = 0;
  WAFERSIM_REQUIRE(!__builtin_mul_overflow(c.paddedFlops, spec.compute.energyPerFlop.fj, &computeFj), component_,
                   ": compute energy of one op overflows 64-bit fJ");
  compute_.add(Energy{computeFj});
  engine.ops->add();
  engine.busyPs->add(static_cast<uint64_t>((t.end - t.start).ps()));
  engine.flops->add(c.flops);
  return t;
}

void DieModel::save(StateWriter& out) const {
  out.u64(engines_.size());
  for (const EngineState& e : engines_) out.time(e.free);
  out.time(dramFree_);
  for (const EnergyMeter* m : {&compute_, &sram_, &dramOffStack_, &dramLogicDie_, &dramInBank_}) m->save(out);
}

void DieModel::restore(StateReader& in) {
  if (const uint64_t n = in.u64(); n != engines_.size())
    in.corrupt(std::to_string(n) + " engines saved, the die has " + std::to_string(engines_.size()));
  for (EngineState& e : engines_) e.free = in.time();
  dramFree_ = in.time();
  for (EnergyMeter* m : {&compute_, &sram_, &dramOffStack_, &dramLogicDie_, &dramInBank_}) m->restore(in);
}

}  // namespace wafersim::hw
