#include "models/hardware/router.h"

#include <array>
#include <string>
#include <utility>

#include "sim/error.h"

namespace wafersim::hw {
namespace {

class Router final : public Component {
 public:
  explicit Router(const ComponentContext& ctx)
      : Component(ctx),
        plan_(ctx.data->get<NetworkPlan>(kNetworkDataKey, "component " + ctx.name)),
        index_(static_cast<uint32_t>(ctx.params->integer("index"))),
        energyPerBit_(parseEnergyPerBit(ctx.params->text("energy_per_bit"))),
        energy_(counter("energy_link_pj")),
        forwarded_(counter("chunks_forwarded")),
        bytes_(counter("bytes_forwarded")),
        waits_(histogram("queue_wait_ps", {0, 1, 1000, 10'000, 100'000, 1'000'000})) {
    WAFERSIM_REQUIRE(index_ < plan_->routers, "component ", ctx.name, ": router index ", index_,
                     " is not in the network's plan (", plan_->routers, " routers)");
    const Bandwidth common = parseBandwidth(ctx.params->text("bandwidth"));
    Duration fastest = Duration::max();
    for (PortId p = 0; p < kRouterPorts; ++p) {
      const std::string& own = ctx.params->text("bandwidth_p" + std::to_string(p));
      bandwidth_[p] = own.empty() ? common : parseBandwidth(own);
      WAFERSIM_REQUIRE(bandwidth_[p].bytesPerSecond > 0, "component ", ctx.name, ": zero bandwidth on port p", p);
      fastest = min(fastest, bandwidth_[p].transferTime(Bytes{1}));
    }
    declareReactionDelay(fastest);
  }

  void handle(const Event& e) override {
    const Message m = e.payload.as<Message>();
    WAFERSIM_ASSERT(m.destination < plan_->endpoints, "router ", name(), ": bad destination ", m.destination);
    const PortId out = plan_->routes[index_][m.destination];
    WAFERSIM_ASSERT(out != kNoRoute, "router ", name(), ": no route to endpoint ", m.destination);
    const SimTime start = max(now(), busyUntil_[out]);
    waits_.add((start - now()).ps());
    busyUntil_[out] = start + bandwidth_[out].transferTime(Bytes{m.chunkBytes});
    send(out, e.payload, busyUntil_[out] - now());
    energy_.add(energyPerBit_.of(Bytes{m.chunkBytes}));
    forwarded_.add();
    bytes_.add(m.chunkBytes);
  }

 private:
  const std::shared_ptr<const NetworkPlan> plan_;
  const uint32_t index_;
  const EnergyPerBit energyPerBit_;
  std::array<Bandwidth, kRouterPorts> bandwidth_{};
  std::array<SimTime, kRouterPorts> busyUntil_{};
  EnergyMeter energy_;
  Counter& forwarded_;
  Counter& bytes_;
  Histogram& waits_;
};

}  // namespace

void registerRouter(ComponentRegistry& registry) {
  ComponentType t;
  t.name = "hw.Router";
  t.help = "Network-on-package router: per-output-port FIFO serialization, table routing (models/hardware).";
  t.params = {{"index", ParamType::Integer, std::nullopt, "router index in the network plan", 0, 1e9},
              {"bandwidth", ParamType::Text, "25 GB/s", "output bandwidth of every port (e.g. 1.7 TB/s)", {}, {}},
              {"energy_per_bit", ParamType::Text, "0 fJ/bit", "link energy per bit sent (e.g. 3.48 pJ/bit)", {}, {}}};
  for (PortId p = 0; p < kRouterPorts; ++p) {
    const std::string n = "p" + std::to_string(p);
    t.params.push_back({"bandwidth_" + n, ParamType::Text, "", "output bandwidth of " + n + " (empty: bandwidth)", {}, {}});
    t.ports.push_back({n, "router port " + std::to_string(p), true});
  }
  t.factory = [](const ComponentContext& ctx) { return std::make_unique<Router>(ctx); };
  registry.add(std::move(t));
}

}  // namespace wafersim::hw
