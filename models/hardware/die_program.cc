#include "models/hardware/die_program.h"

#include <memory>

#include "models/hardware/endpoint.h"
#include "models/hardware/nic.h"
#include "sim/error.h"

namespace wafersim::hw {

ProgramStep ProgramStep::compute(DieOp op, bool wait) {
  ProgramStep s;
  s.kind = Kind::Compute;
  s.op = op;
  s.wait = wait;
  return s;
}

ProgramStep ProgramStep::send(uint32_t destination, Bytes bytes) {
  ProgramStep s;
  s.kind = Kind::Send;
  s.destination = destination;
  s.bytes = bytes;
  return s;
}

ProgramStep ProgramStep::waitMessages(uint64_t total) {
  ProgramStep s;
  s.kind = Kind::WaitMessages;
  s.messages = total;
  return s;
}

ProgramStep ProgramStep::waitEngines() {
  ProgramStep s;
  s.kind = Kind::WaitEngines;
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

namespace {

class Die final : public Component {
 public:
  explicit Die(const ComponentContext& ctx)
      : Component(ctx),
        system_(ctx.data->get<DieSystem>(kDieSystemDataKey, "component " + ctx.name)),
        index_(static_cast<uint32_t>(ctx.params->integer("index"))),
        program_(checkedProgram()),
        model_(system_->specs.at(system_->specOf[index_]), stats(), ctx.name),
        nic_(index_, parseBandwidth(ctx.params->text("bandwidth")), parseEnergyPerBit(ctx.params->text("energy_per_bit")),
             parseForwardingMode(ctx.params->text("mode")), parseBytes(ctx.params->text("chunk")), stats(), ctx.name),
        done_(counter("program_done_ps")) {
    if (!system_->resident.empty())
      for (const ResidentData& d : system_->resident[index_]) model_.memory().allocate(d.what, d.bytes);
    declareReactionDelay(nic_.minimumDelay());
  }

  void setup() override {
    net_ = port("net");
    advance();
  }

  void handle(const Event& e) override {
    if (e.port == kSelfPort) {
      blocked_ = false;
    } else if (nic_.receive(e.payload.as<Message>())) {
      ++received_;
    }
    if (!blocked_) advance();
  }

 private:
  const std::vector<ProgramStep>& checkedProgram() const {
    WAFERSIM_REQUIRE(index_ < system_->programs.size(), "component ", name(), ": die index ", index_,
                     " is not in the die system (", system_->programs.size(), " dies)");
    return system_->programs[index_];
  }

  void blockUntil(SimTime t) {
    blocked_ = true;
    scheduleSelf(t - now(), Payload{});
    promiseNoOutputBefore(t);
  }

  // Runs steps until one blocks or the program ends.
  void advance() {
    while (pc_ < program_.size()) {
      const ProgramStep& s = program_[pc_];
      switch (s.kind) {
        case ProgramStep::Kind::Compute: {
          const OpTiming t = model_.submit(now(), s.op);
          allDone_ = max(allDone_, t.end);
          ++pc_;
          if (s.wait && t.end > now()) return blockUntil(t.end);
          break;
        }
        case ProgramStep::Kind::Send:
          nic_.inject(now(), nextFlow_++, s.destination, s.bytes, now(),
                      [&](const Payload& p, Duration delay) { send(net_, p, delay); });
          ++pc_;
          break;
        case ProgramStep::Kind::WaitMessages:
          if (received_ < s.messages) {
            promiseNoOutputBefore(now());
            return;  // handle() resumes when a message arrives
          }
          ++pc_;
          break;
        case ProgramStep::Kind::WaitEngines:
          ++pc_;
          if (allDone_ > now()) return blockUntil(allDone_);
          break;
      }
    }
    if (!finished_) {
      finished_ = true;
      done_.add(static_cast<uint64_t>(max(now(), allDone_).ps()));
      promiseNoOutputBefore(SimTime::never());
    }
  }

  const std::shared_ptr<const DieSystem> system_;
  const uint32_t index_;
  const std::vector<ProgramStep>& program_;
  DieModel model_;
  NetworkInterface nic_;
  Counter& done_;
  PortId net_ = 0;
  size_t pc_ = 0;
  bool blocked_ = false;
  bool finished_ = false;
  uint64_t received_ = 0;
  uint64_t nextFlow_ = 0;
  SimTime allDone_ = SimTime::zero();
};

}  // namespace

void registerDie(ComponentRegistry& registry) {
  ComponentType t;
  t.name = "hw.Die";
  t.help = "A compute die on the network running a scripted program (models/hardware/die_program.h).";
  t.params = {{"index", ParamType::Integer, std::nullopt, "endpoint index in the network and die system", 0, 1e9},
              {"bandwidth", ParamType::Text, "25 GB/s", "injection bandwidth", {}, {}},
              {"energy_per_bit", ParamType::Text, "0 fJ/bit", "injection link energy per bit", {}, {}},
              {"mode", ParamType::Text, "store_and_forward", "store_and_forward or cut_through", {}, {}},
              {"chunk", ParamType::Text, "256 B", "cut-through chunk size", {}, {}}};
  t.ports = {{"net", "link to the router"}};
  t.factory = [](const ComponentContext& ctx) { return std::make_unique<Die>(ctx); };
  registry.add(std::move(t));
}

}  // namespace wafersim::hw
