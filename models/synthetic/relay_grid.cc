#include "models/synthetic/relay_grid.h"

#include <string>
#include <type_traits>

namespace wafersim::synthetic {
namespace {

// Payloads have no padding: the results digest hashes every payload byte, and padding bytes
// would carry whatever was on the stack.
struct Token {
  uint64_t id;
  uint32_t hops;
  uint32_t unused = 0;
};

struct InitMessage {
  uint32_t phase;
  uint32_t unused = 0;
  uint64_t value;
};

static_assert(std::has_unique_object_representations_v<Token> &&
              std::has_unique_object_representations_v<InitMessage>);

class Relay final : public Component {
 public:
  explicit Relay(const ComponentContext& ctx)
      : Component(ctx),
        tokens_(static_cast<uint32_t>(ctx.params->integer("tokens"))),
        service_(ctx.params->duration("service")),
        maxHops_(static_cast<uint32_t>(ctx.params->integer("max_hops"))),
        received_(counter("received")),
        neighbourIds_(counter("neighbour_id_sum")),
        neighbourSums_(counter("neighbour_sum_sum")),
        dropped_(counter("dropped")),
        hops_(histogram("hops", {1, 2, 4, 8, 16, 32, 64, 128})),
        waits_(histogram("wait_ps", {0, 1, 1000, 10000, 100000})) {
    declareReactionDelay(service_);
  }

  void init(unsigned phase) override {
    if (phase == 0)
      for (PortId p = 0; p < 4; ++p) sendInit(p, Payload::of(InitMessage{0, 0, id()}));
    if (phase == 1)
      for (PortId p = 0; p < 4; ++p) sendInit(p, Payload::of(InitMessage{1, 0, neighbourIds_.value()}));
  }

  void handleInit(const Event& e) override {
    const auto m = e.payload.as<InitMessage>();
    (m.phase == 0 ? neighbourIds_ : neighbourSums_).add(m.value);
  }

  void setup() override {
    for (uint32_t t = 0; t < tokens_; ++t) forward(Token{(uint64_t{id()} << 32) | t, 0}, Duration::zero());
  }

  void save(StateWriter& out) const override { out.time(busyUntil_); }
  void restore(StateReader& in) override { busyUntil_ = in.time(); }

  void handle(const Event& e) override {
    Token t = e.payload.as<Token>();
    received_.add();
    hops_.add(++t.hops);
    if (maxHops_ != 0 && t.hops >= maxHops_) {  // the token dies here: the model drains
      dropped_.add();
      return;
    }
    if (service_ == Duration::zero()) {
      forward(t, Duration::zero());
      return;
    }
    // A FIFO server: the token leaves `service` after it starts. It is sent now with the wait
    // folded into its delay, so every send is at least `service` after the event that causes it
    // (the declared reaction delay), and no token not yet received can leave before
    // busyUntil_ + service (the promise).
    const SimTime start = max(now(), busyUntil_);
    waits_.add((start - now()).ps());
    busyUntil_ = start + service_;
    forward(t, busyUntil_ - now());
    promiseNoOutputBefore(busyUntil_ + service_);
  }

 private:
  void forward(Token t, Duration wait) {
    const PortId p = static_cast<PortId>(random().below(4));
    const Duration extra = Duration::fromPs(random().bernoulli(0.5) ? 0 : 1000);
    send(p, Payload::of(t), wait + extra, static_cast<uint32_t>(t.id % 3));
  }

  const uint32_t tokens_;
  const Duration service_;
  const uint32_t maxHops_;
  Counter& received_;
  Counter& neighbourIds_;
  Counter& neighbourSums_;
  Counter& dropped_;
  Histogram& hops_;
  Histogram& waits_;
  SimTime busyUntil_ = SimTime::zero();  // when the last token received leaves
};

}  // namespace

void registerRelayGrid(ComponentRegistry& registry) {
  ComponentType t;
  t.name = "synthetic.Relay";
  t.help = "Forwards tokens on a drawn port, optionally after a FIFO service time; tests the kernel.";
  t.params = {{"tokens", ParamType::Integer, "1", "tokens the relay starts with", 0, 1e6},
              {"service", ParamType::Duration, "0 ps", "service time per token (0: forward at once)", 0, {}},
              {"max_hops", ParamType::Integer, "0", "a token dies on its max_hops-th arrival (0: never)", 0, 1e9}};
  t.ports = {{"east", ""}, {"west", ""}, {"north", ""}, {"south", ""}};
  t.factory = [](const ComponentContext& ctx) { return std::make_unique<Relay>(ctx); };
  t.checkpoint = true;
  registry.add(std::move(t));
}

SystemGraph buildRelayGrid(const RelayGridConfig& c) {
  SystemGraph g;
  auto at = [&](uint32_t i, uint32_t j) { return static_cast<ComponentId>(j * c.x + i); };
  for (uint32_t j = 0; j < c.y; ++j)
    for (uint32_t i = 0; i < c.x; ++i) {
      const bool server = at(i, j) % 3 == 2;
      g.addComponent("relay[" + std::to_string(i) + "," + std::to_string(j) + "]", "synthetic.Relay",
                     {{"tokens", std::to_string(c.tokens)},
                      {"max_hops", std::to_string(c.maxHops)},
                      {"service", server ? std::to_string(c.service.ps()) + " ps" : "0 ps"}});
    }
  for (uint32_t j = 0; j < c.y; ++j)
    for (uint32_t i = 0; i < c.x; ++i) {
      g.connect(at(i, j), "east", at((i + 1) % c.x, j), "west", Duration::fromPs(1000 * (1 + i % 3)));
      g.connect(at(i, j), "south", at(i, (j + 1) % c.y), "north", Duration::fromPs(250 * (1 + j % 2)));
    }
  return g;
}

}  // namespace wafersim::synthetic
