#include "models/hardware/router.h"

#include <array>
#include <string>
#include <utility>

#include "sim/checkpoint.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

// The hot path (handle) runs once per chunk per hop, millions of times a second, so the router
// keeps what it needs at hand: its own row of the routing table (a raw pointer into the plan,
// which plan_ keeps alive), and per output port the serialization time and energy of the last
// chunk size it sent (chunks are almost all the same size; transferTime is a 128-bit division).
// Statistics that only matter at the end are kept in plain members and added to the counters
// and the histogram in finish(): counters, histogram counts, sum, min and max do not depend on
// the order of the samples, and the kernel reads statistics only after finish().
class Router final : public Component {
 public:
  explicit Router(const ComponentContext& ctx)
      : Component(ctx),
        plan_(ctx.data->get<NetworkPlan>(kNetworkDataKey, "component " + ctx.name)),
        index_(static_cast<uint32_t>(ctx.params->integer("index"))),
        energyPerBit_(parseEnergyPerBit(ctx.params->text("energy_per_bit"))),
        energy_(counter("energy_link_pj")),
        forwardedStat_(counter("chunks_forwarded")),
        bytesStat_(counter("bytes_forwarded")),
        waits_(histogram("queue_wait_ps", {0, 1, 1000, 10'000, 100'000, 1'000'000})) {
    WAFERSIM_REQUIRE(index_ < plan_->routers, "component ", ctx.name, ": router index ", index_,
                     " is not in the network's plan (", plan_->routers, " routers)");
    WAFERSIM_REQUIRE(index_ < plan_->routes.size() && plan_->routes[index_].size() >= plan_->endpoints, "component ",
                     ctx.name, ": the network's routing table has no row of ", plan_->endpoints,
                     " endpoints for router ", index_);
    routes_ = plan_->routes[index_].data();
    endpoints_ = plan_->endpoints;
    const Bandwidth common = parseBandwidth(ctx.params->text("bandwidth"));
    Duration fastest = Duration::max();
    for (PortId p = 0; p < kRouterPorts; ++p) {
      const std::string& own = ctx.params->text("bandwidth_p" + std::to_string(p));
      bandwidth_[p] = own.empty() ? common : parseBandwidth(own);
      WAFERSIM_REQUIRE(bandwidth_[p].bytesPerSecond > 0, "component ", ctx.name, ": zero bandwidth on port p", p);
      oneByte_[p] = bandwidth_[p].transferTime(Bytes{1});
      fastest = min(fastest, oneByte_[p]);
    }
    declareReactionDelay(fastest);
  }

  void handle(const Event& e) override {
    const Message m = e.payload.as<Message>();
    WAFERSIM_ASSERT(m.destination < endpoints_, "router ", name(), ": bad destination ", m.destination);
    const PortId out = routes_[m.destination];
    WAFERSIM_ASSERT(out < kRouterPorts, "router ", name(), ": no route to endpoint ", m.destination);
    OutPort& o = out_[out];
    if (m.chunkBytes != o.lastBytes) [[unlikely]] {
      o.lastBytes = m.chunkBytes;
      o.lastTime = bandwidth_[out].transferTime(Bytes{m.chunkBytes});
      o.lastEnergy = energyPerBit_.of(Bytes{m.chunkBytes});
    }
    const SimTime t = now();
    const SimTime start = max(t, o.busyUntil);
    const int64_t wait = (start - t).ps();
    if (wait == 0) ++zeroWaits_;
    else waits_.add(wait);
    o.busyUntil = start + o.lastTime;
    send(out, e.payload, o.busyUntil - t);
    if (o.lastEnergy.fj != 0) energy_.add(o.lastEnergy);
    ++forwarded_;
    bytes_ += m.chunkBytes;
    o.bytes += m.chunkBytes;
  }

  // A chunk for port p, whenever it arrives, waits for the chunks queued before it (FIFO) and is
  // sent after its own serialization: nothing leaves p before busyUntil + one byte's time. A cut
  // link behind a queue lets the other partition run that far ahead (sim/lookahead.h).
  SimTime promisedOutputTimeOn(PortId port) const override {
    if (port >= kRouterPorts) return promisedOutputTime();
    return max(promisedOutputTime(), out_[port].busyUntil + oneByte_[port]);
  }

  // Bytes sent on each output port so far, for observers: "link_bytes_pK" (finish() moves them
  // into the counters "bytes_pK").
  void observe(ObservationSink& sink) const override {
    for (PortId p = 0; p < kRouterPorts; ++p) {
      const std::string name = "bytes_p" + std::to_string(p);
      const auto flushed = stats().counters().find(name);
      const uint64_t total = out_[p].bytes + (flushed == stats().counters().end() ? 0 : flushed->second->value());
      if (total > 0) sink.value("link_" + name, static_cast<double>(total));
    }
  }

  void finish() override {
    forwardedStat_.add(forwarded_);
    bytesStat_.add(bytes_);
    forwarded_ = bytes_ = 0;
    for (; zeroWaits_ > 0; --zeroWaits_) waits_.add(0);
    for (PortId p = 0; p < kRouterPorts; ++p)  // per output port: the link tables of a run
      if (out_[p].bytes > 0) counter("bytes_p" + std::to_string(p)).add(std::exchange(out_[p].bytes, 0));
  }

  // Checkpoints: each output port's queue end and bytes, the totals kept until finish(), the
  // energy not yet counted. The last-chunk caches are recomputed at the next chunk.
  void save(StateWriter& out) const override {
    for (const OutPort& o : out_) {
      out.time(o.busyUntil);
      out.u64(o.bytes);
    }
    out.u64(forwarded_);
    out.u64(bytes_);
    out.u64(zeroWaits_);
    energy_.save(out);
  }

  void restore(StateReader& in) override {
    for (OutPort& o : out_) {
      o = OutPort{};
      o.busyUntil = in.time();
      o.bytes = in.u64();
    }
    forwarded_ = in.u64();
    bytes_ = in.u64();
    zeroWaits_ = in.u64();
    energy_.restore(in);
  }

 private:
  struct OutPort {
    SimTime busyUntil = SimTime::zero();
    uint32_t lastBytes = 0;                 // the chunk size that lastTime and lastEnergy are for
    Duration lastTime = Duration::zero();   // transferTime(lastBytes) on this port (0 B: 0 ps)
    Energy lastEnergy{};                    // energyPerBit_.of(lastBytes)
    uint64_t bytes = 0;                     // sent on this port, added to "bytes_pK" in finish()
  };
  const std::shared_ptr<const NetworkPlan> plan_;
  const uint32_t index_;
  const EnergyPerBit energyPerBit_;
  const PortId* routes_ = nullptr;  // plan_->routes[index_]
  uint32_t endpoints_ = 0;
  std::array<Bandwidth, kRouterPorts> bandwidth_{};
  std::array<Duration, kRouterPorts> oneByte_{};  // transferTime(1 byte) per port
  std::array<OutPort, kRouterPorts> out_{};
  EnergyMeter energy_;
  Counter& forwardedStat_;
  Counter& bytesStat_;
  Histogram& waits_;
  uint64_t forwarded_ = 0;  // since the last finish(), added to "chunks_forwarded" there
  uint64_t bytes_ = 0;      // likewise "bytes_forwarded"
  uint64_t zeroWaits_ = 0;  // samples of 0 ps for "queue_wait_ps", added there
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
  t.checkpoint = true;
  registry.add(std::move(t));
}

}  // namespace wafersim::hw
