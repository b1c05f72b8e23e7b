#include "models/hardware/endpoint.h"

#include <algorithm>
#include <string>
#include <utility>

#include "models/hardware/nic.h"
#include "sim/checkpoint.h"
#include "sim/error.h"

namespace wafersim::hw {

const char* toString(ForwardingMode mode) {
  return mode == ForwardingMode::StoreAndForward ? "store_and_forward" : "cut_through";
}

ForwardingMode parseForwardingMode(const std::string& text) {
  if (text == "store_and_forward") return ForwardingMode::StoreAndForward;
  if (text == "cut_through") return ForwardingMode::CutThrough;
  fail(ErrorKind::InvalidConfig, "unknown forwarding mode \"", text, "\" (store_and_forward, cut_through)");
}

namespace {

class Endpoint final : public Component {
 public:
  explicit Endpoint(const ComponentContext& ctx)
      : Component(ctx),
        plan_(ctx.data->get<NetworkPlan>(kNetworkDataKey, "component " + ctx.name)),
        index_(static_cast<uint32_t>(ctx.params->integer("index"))),
        nic_(index_, parseBandwidth(ctx.params->text("bandwidth")), parseEnergyPerBit(ctx.params->text("energy_per_bit")),
             parseForwardingMode(ctx.params->text("mode")), parseBytes(ctx.params->text("chunk")), stats(), ctx.name),
        latency_(histogram("latency_ps", {1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000})) {
    WAFERSIM_REQUIRE(index_ < plan_->endpoints, "component ", ctx.name, ": endpoint index ", index_,
                     " is not in the network's plan (", plan_->endpoints, " endpoints)");
  }

  void setup() override {
    const PortId net = port("net");
    for (uint32_t f : plan_->flowsFrom[index_]) {
      const FlowSpec& flow = plan_->flows[f];
      nic_.inject(now(), f, flow.destination, flow.bytes, flow.start,
                  [&](const Payload& p, Duration delay) { send(net, p, delay); });
    }
    promiseNoOutputBefore(SimTime::never());  // everything is sent
  }

  void handle(const Event& e) override {
    const Message m = e.payload.as<Message>();
    if (nic_.receive(m)) latency_.add((now() - plan_->flows.at(m.flow).start).ps());
  }

  // Checkpoints: the interface (every flow was injected in setup(); its chunks are events).
  void save(StateWriter& out) const override { nic_.save(out); }
  void restore(StateReader& in) override { nic_.restore(in); }

 private:
  const std::shared_ptr<const NetworkPlan> plan_;
  const uint32_t index_;
  NetworkInterface nic_;
  Histogram& latency_;
};

}  // namespace

void registerEndpoint(ComponentRegistry& registry) {
  ComponentType t;
  t.name = "hw.Endpoint";
  t.help = "Network-on-package traffic endpoint: injects the plan's flows, records delivery latency.";
  t.params = {{"index", ParamType::Integer, std::nullopt, "endpoint index in the network plan", 0, 1e9},
              {"bandwidth", ParamType::Text, "25 GB/s", "injection bandwidth", {}, {}},
              {"energy_per_bit", ParamType::Text, "0 fJ/bit", "injection link energy per bit", {}, {}},
              {"mode", ParamType::Text, "store_and_forward", "store_and_forward or cut_through", {}, {}},
              {"chunk", ParamType::Text, "256 B", "cut-through chunk size", {}, {}}};
  t.ports = {{"net", "link to the router"}};
  t.factory = [](const ComponentContext& ctx) { return std::make_unique<Endpoint>(ctx); };
  t.checkpoint = true;
  registry.add(std::move(t));
}

}  // namespace wafersim::hw
