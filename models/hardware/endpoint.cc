#include "models/hardware/endpoint.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>

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
        bandwidth_(parseBandwidth(ctx.params->text("bandwidth"))),
        energyPerBit_(parseEnergyPerBit(ctx.params->text("energy_per_bit"))),
        mode_(parseForwardingMode(ctx.params->text("mode"))),
        chunk_(parseBytes(ctx.params->text("chunk"))),
        energy_(counter("energy_link_pj")),
        bytesSent_(counter("bytes_sent")),
        bytesReceived_(counter("bytes_received")),
        messagesReceived_(counter("messages_received")),
        latency_(histogram("latency_ps", {1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000})) {
    WAFERSIM_REQUIRE(index_ < plan_->endpoints, "component ", ctx.name, ": endpoint index ", index_,
                     " is not in the network's plan (", plan_->endpoints, " endpoints)");
    WAFERSIM_REQUIRE(bandwidth_.bytesPerSecond > 0, "component ", ctx.name, ": zero bandwidth");
    WAFERSIM_REQUIRE(mode_ == ForwardingMode::StoreAndForward || (chunk_.value > 0 && chunk_.value <= UINT32_MAX),
                     "component ", ctx.name, ": chunk must be 1 B .. 4 GiB - 1");
  }

  void setup() override {
    const PortId net = port("net");
    SimTime busy = SimTime::zero();
    for (uint32_t f : plan_->flowsFrom[index_]) {
      const FlowSpec& flow = plan_->flows[f];
      const uint64_t chunk = mode_ == ForwardingMode::StoreAndForward ? flow.bytes.value : chunk_.value;
      WAFERSIM_REQUIRE(chunk <= UINT32_MAX, "endpoint ", name(), ": flow ", f, " of ", flow.bytes.value,
                       " bytes does not fit one store-and-forward chunk (4 GiB - 1)");
      uint64_t left = flow.bytes.value;
      for (uint32_t k = 0; left > 0; ++k) {
        const uint64_t n = std::min(left, chunk);
        left -= n;
        const SimTime start = max(flow.start, busy);
        busy = start + bandwidth_.transferTime(Bytes{n});
        send(net, Payload::of(Message{f, flow.source, flow.destination, flow.bytes.value, k, static_cast<uint32_t>(n)}),
             busy - now());
        energy_.add(energyPerBit_.of(Bytes{n}));
        bytesSent_.add(n);
      }
    }
    promiseNoOutputBefore(SimTime::never());  // everything is sent
  }

  void handle(const Event& e) override {
    const Message m = e.payload.as<Message>();
    WAFERSIM_ASSERT(m.destination == index_, "endpoint ", name(), " got a chunk for endpoint ", m.destination);
    bytesReceived_.add(m.chunkBytes);
    uint64_t& got = received_[m.flow];
    got += m.chunkBytes;
    if (got == m.totalBytes) {
      received_.erase(m.flow);
      messagesReceived_.add();
      latency_.add((now() - plan_->flows.at(m.flow).start).ps());
    }
  }

 private:
  const std::shared_ptr<const NetworkPlan> plan_;
  const uint32_t index_;
  const Bandwidth bandwidth_;
  const EnergyPerBit energyPerBit_;
  const ForwardingMode mode_;
  const Bytes chunk_;
  EnergyMeter energy_;
  Counter& bytesSent_;
  Counter& bytesReceived_;
  Counter& messagesReceived_;
  Histogram& latency_;
  std::unordered_map<uint64_t, uint64_t> received_;  // bytes so far of incomplete messages
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
  registry.add(std::move(t));
}

}  // namespace wafersim::hw
