#include "models/hardware/die_program.h"

#include <memory>
#include <string>
#include <type_traits>

#include "models/hardware/endpoint.h"
#include "models/hardware/nic.h"
#include "sim/checkpoint.h"
#include "sim/error.h"

namespace wafersim::hw {

ProgramStep ProgramStep::compute(DieOp op, bool wait) {
  ProgramStep s;
  s.kind = Kind::Compute;
  s.op = op;
  s.wait = wait;
  return s;
}

ProgramStep ProgramStep::send(uint32_t destination, Bytes bytes, uint32_t tag) {
  ProgramStep s;
  s.kind = Kind::Send;
  s.destination = destination;
  s.bytes = bytes;
  s.tag = tag;
  return s;
}

ProgramStep ProgramStep::waitMessages(uint64_t total, uint32_t tag) {
  ProgramStep s;
  s.kind = Kind::WaitMessages;
  s.messages = total;
  s.tag = tag;
  return s;
}

ProgramStep ProgramStep::waitEngines() {
  ProgramStep s;
  s.kind = Kind::WaitEngines;
  return s;
}

ProgramStep ProgramStep::mark(uint32_t id) {
  ProgramStep s;
  s.kind = Kind::Mark;
  s.tag = id;
  return s;
}

void DieSystem::validate(uint32_t endpoints, const std::vector<std::string>& names) const {
  WAFERSIM_REQUIRE(specOf.size() == endpoints && programs.size() == endpoints &&
                       (resident.empty() || resident.size() == endpoints),
                   "die system: one spec, one program (and resident data, if any) per endpoint (", endpoints, ")");
  for (const DieSpec& s : specs) s.validate();
  for (uint32_t i = 0; i < endpoints; ++i) {
    const std::string& name = i < names.size() ? names[i] : std::to_string(i);
    WAFERSIM_REQUIRE(specOf[i] < specs.size(), "die ", name, ": spec ", specOf[i], " out of range");
    const DieSpec& spec = specs[specOf[i]];
    for (size_t k = 0; k < programs[i].size(); ++k) {
      const ProgramStep& s = programs[i][k];
      if (s.kind == ProgramStep::Kind::Compute)
        WAFERSIM_REQUIRE(s.op.engine < spec.engines.size(), "die ", name, " step ", k, ": engine ", s.op.engine,
                         " does not exist (", spec.name, " has ", spec.engines.size(), ")");
      if (s.kind == ProgramStep::Kind::Send) {
        WAFERSIM_REQUIRE(s.destination < endpoints && s.destination != i, "die ", name, " step ", k,
                         ": bad destination ", s.destination);
        WAFERSIM_REQUIRE(s.bytes.value > 0, "die ", name, " step ", k, ": empty message");
      }
    }
    if (!resident.empty()) {
      MemoryAllocator dram(name, spec.dram);
      for (const ResidentData& d : resident[i]) dram.allocate(d.what, d.bytes);
    }
  }
}

std::vector<ParamSpec> ProgramDie::dieParams() {
  return {{"index", ParamType::Integer, std::nullopt, "endpoint index in the network and die system", 0, 1e9},
          {"bandwidth", ParamType::Text, "25 GB/s", "injection bandwidth", {}, {}},
          {"energy_per_bit", ParamType::Text, "0 fJ/bit", "injection link energy per bit", {}, {}},
          {"mode", ParamType::Text, "store_and_forward", "store_and_forward or cut_through", {}, {}},
          {"chunk", ParamType::Text, "256 B", "cut-through chunk size", {}, {}}};
}

ProgramDie::ProgramDie(const ComponentContext& ctx, const DieSpec& spec)
    : Component(ctx),
      index_(static_cast<uint32_t>(ctx.params->integer("index"))),
      model_(spec, stats(), ctx.name),
      nic_(index_, parseBandwidth(ctx.params->text("bandwidth")), parseEnergyPerBit(ctx.params->text("energy_per_bit")),
           parseForwardingMode(ctx.params->text("mode")), parseBytes(ctx.params->text("chunk")), stats(), ctx.name) {
  declareReactionDelay(nic_.minimumDelay());
}

uint64_t ProgramDie::received(uint32_t tag) const { return tag < receivedByTag_.size() ? receivedByTag_[tag] : 0; }

void ProgramDie::handle(const Event& e) {
  if (e.port == kSelfPort && e.payload.as<uint64_t>() == kWake) {
    blocked_ = false;
  } else if (e.port == net_) {
    const Message m = e.payload.as<Message>();
    if (nic_.receive(m)) {
      const auto tag = static_cast<uint32_t>(m.flow >> 32);
      if (tag >= receivedByTag_.size()) receivedByTag_.resize(tag + 1, 0);
      ++receivedByTag_[tag];
    }
  } else {
    handleControl(e);
  }
  if (!blocked_) advance();
}

void ProgramDie::setup() {
  net_ = port("net");
  advance();
}

void ProgramDie::save(StateWriter& out) const {
  // Only the steps still to run: the program restarts at its first.
  static_assert(std::is_trivially_copyable_v<ProgramStep>);
  out.u64(program_.size() - pc_);
  out.raw(program_.data() + pc_, (program_.size() - pc_) * sizeof(ProgramStep));
  out.boolean(blocked_);
  out.podVector(receivedByTag_);
  out.u64(nextFlow_);
  out.time(allDone_);
  model_.save(out);
  nic_.save(out);
}

void ProgramDie::restore(StateReader& in) {
  net_ = port("net");
  program_ = in.podVector<ProgramStep>();
  for (const ProgramStep& s : program_)
    if (s.kind > ProgramStep::Kind::Mark || (s.kind == ProgramStep::Kind::Compute &&
                                             s.op.engine >= model_.spec().engines.size()))
      in.corrupt("a program step of kind " + std::to_string(static_cast<int>(s.kind)) + " on engine " +
                 std::to_string(s.op.engine));
  pc_ = 0;
  blocked_ = in.boolean();
  receivedByTag_ = in.podVector<uint64_t>();
  nextFlow_ = in.u64();
  allDone_ = in.time();
  model_.restore(in);
  nic_.restore(in);
}

void ProgramDie::traceWindow(SimTime start, SimTime end) {
  if (end <= start) return;
  traceStart_ = start;
  traceEnd_ = end;
  trace_ = &table("trace", {"start_ps", "end_ps", "track", "kind", "amount", "detail"});
}

void ProgramDie::blockUntil(SimTime t) {
  blocked_ = true;
  scheduleSelf(t - now(), Payload::of(kWake));
  promiseNoOutputBefore(t);
}

void ProgramDie::advance() {
  for (;;) {
    if (pc_ == program_.size()) {
      program_.clear();
      pc_ = 0;
      promiseNoOutputBefore(now());
      if (!refill(program_)) return;  // refill() is asked again after the next event
      continue;
    }
    const ProgramStep& s = program_[pc_];
    switch (s.kind) {
      case ProgramStep::Kind::Compute: {
        const OpTiming t = model_.submit(now(), s.op);
        allDone_ = max(allDone_, t.end);
        if (trace_ && t.end > traceStart_ && t.start < traceEnd_)
          trace_->addRow({t.start.ps(), t.end.ps(), s.op.engine,
                          s.op.kind == DieOp::Kind::Gemm ? 0 : s.op.kind == DieOp::Kind::Attention ? 1 : 4,
                          static_cast<int64_t>(t.cost.flops), static_cast<int64_t>(t.cost.bytes.value)});
        ++pc_;
        if (s.wait && t.end > now()) return blockUntil(t.end);
        break;
      }
      case ProgramStep::Kind::Send: {
        const uint64_t flow = (static_cast<uint64_t>(s.tag) << 32) | (nextFlow_++ & 0xFFFFFFFFu);
        const SimTime from = max(now(), nic_.busyUntil());
        const SimTime until = nic_.inject(now(), flow, s.destination, s.bytes, now(),
                                          [&](const Payload& p, Duration delay) { send(net_, p, delay); });
        if (trace_ && until > traceStart_ && from < traceEnd_)
          trace_->addRow({from.ps(), until.ps(), static_cast<int64_t>(model_.spec().engines.size()), 2,
                          static_cast<int64_t>(s.bytes.value), s.destination});
        ++pc_;
        break;
      }
      case ProgramStep::Kind::WaitMessages:
        if (received(s.tag) < s.messages) {
          promiseNoOutputBefore(now());
          return;  // handle() resumes when a message arrives
        }
        ++pc_;
        break;
      case ProgramStep::Kind::WaitEngines:
        ++pc_;
        if (allDone_ > now()) return blockUntil(allDone_);
        break;
      case ProgramStep::Kind::Mark:
        ++pc_;
        onMark(s.tag);
        break;
    }
  }
}

namespace {

// "hw.Die": runs its scripted program from the DieSystem once.
class ScriptedDie final : public ProgramDie {
 public:
  ScriptedDie(const ComponentContext& ctx, std::shared_ptr<const DieSystem> system)
      : ProgramDie(ctx, specOf(ctx, *system)), system_(std::move(system)), done_(counter("program_done_ps")) {
    if (!system_->resident.empty())
      for (const ResidentData& d : system_->resident[index()]) die().memory().allocate(d.what, d.bytes);
  }


 private:
  static const DieSpec& specOf(const ComponentContext& ctx, const DieSystem& system) {
    const auto i = static_cast<size_t>(ctx.params->integer("index"));
    WAFERSIM_REQUIRE(i < system.programs.size() && i < system.specOf.size(), "component ", ctx.name, ": die index ",
                     i, " is not in the die system (", system.programs.size(), " dies)");
    return system.specs.at(system.specOf[i]);
  }

  void save(StateWriter& out) const override {
    ProgramDie::save(out);
    out.boolean(started_);
    out.boolean(finished_);
  }

  void restore(StateReader& in) override {
    ProgramDie::restore(in);
    started_ = in.boolean();
    finished_ = in.boolean();
  }

  bool refill(std::vector<ProgramStep>& program) override {
    if (!started_) {
      started_ = true;
      program = system_->programs[index()];
      return true;
    }
    if (!finished_) {
      finished_ = true;
      done_.add(static_cast<uint64_t>(max(now(), enginesDoneAt()).ps()));
    }
    promiseNoOutputBefore(SimTime::never());
    return false;
  }

  const std::shared_ptr<const DieSystem> system_;
  Counter& done_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace

void registerDie(ComponentRegistry& registry) {
  ComponentType t;
  t.name = "hw.Die";
  t.help = "A compute die on the network running a scripted program (models/hardware/die_program.h).";
  t.params = ProgramDie::dieParams();
  t.ports = {{"net", "link to the router"}};
  t.factory = [](const ComponentContext& ctx) {
    return std::make_unique<ScriptedDie>(ctx, ctx.data->get<DieSystem>(kDieSystemDataKey, "component " + ctx.name));
  };
  t.checkpoint = true;
  registry.add(std::move(t));
}

}  // namespace wafersim::hw
