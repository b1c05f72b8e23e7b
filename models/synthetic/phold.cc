#include "models/synthetic/phold.h"

#include <string>

namespace wafersim::synthetic {
namespace {

class PholdLP final : public Component {
 public:
  explicit PholdLP(const ComponentContext& ctx)
      : Component(ctx),
        initialEvents_(static_cast<uint32_t>(ctx.params->integer("initial_events"))),
        remote_(ctx.params->real("remote")),
        meanPs_(static_cast<double>(ctx.params->duration("mean").ps())),
        service_(ctx.params->duration("service")),
        fabric_(port("fabric")),
        handled_(counter("events")),
        sentRemote_(counter("sent_remote")) {
    declareReactionDelay(service_);
  }

  void setup() override {
    self_ = fabricIndexOfSelf(fabric_);
    size_ = fabricSize(fabric_);
    for (uint32_t i = 0; i < initialEvents_; ++i) {
      if (service_ > Duration::zero()) arrive();
      else sendSuccessor(Duration::zero());
    }
  }

  // Checkpoints: the server's backlog is its only state; the fabric index comes from the graph.
  void save(StateWriter& out) const override { out.time(busyUntil_); }
  void restore(StateReader& in) override {
    self_ = fabricIndexOfSelf(fabric_);
    size_ = fabricSize(fabric_);
    busyUntil_ = in.time();
  }

  void handle(const Event&) override {
    handled_.add();
    if (service_ == Duration::zero()) sendSuccessor(Duration::zero());
    else arrive();
  }

 private:
  // A job arrives at a FIFO server: it starts when the previous one is done and its successor
  // leaves `service` later. The successor is sent at once with the wait folded into its delay,
  // so every send is at least `service` after the event that causes it (the declared reaction
  // delay), and no job that has not yet arrived can complete before busyUntil_ + service.
  void arrive() {
    busyUntil_ = max(now(), busyUntil_) + service_;
    sendSuccessor(busyUntil_ - now());
    promiseNoOutputBefore(busyUntil_ + service_);
  }

  void sendSuccessor(Duration wait) {
    uint32_t dest = self_;
    if (random().uniform() < remote_) dest = static_cast<uint32_t>(random().below(size_));
    if (dest != self_) sentRemote_.add();
    const double delay = random().exponential(meanPs_);
    sendTo(fabric_, dest, Payload{}, wait + Duration::fromPs(static_cast<int64_t>(delay + 0.5)));
  }

  const uint32_t initialEvents_;
  const double remote_;
  const double meanPs_;
  const Duration service_;
  const PortId fabric_;
  uint32_t self_ = 0;  // member index in the fabric
  uint32_t size_ = 0;
  Counter& handled_;
  Counter& sentRemote_;
  SimTime busyUntil_ = SimTime::zero();  // when the last job received completes
};

}  // namespace

void registerPhold(ComponentRegistry& registry) {
  ComponentType t;
  t.name = "synthetic.PholdLP";
  t.help = "A PHOLD logical process (ROSS phold parameters); optionally a FIFO server (service > 0).";
  t.params = {
      {"initial_events", ParamType::Integer, "1", "events each LP starts with", 0, 1e6},
      {"remote", ParamType::Real, "0.25", "probability that a successor goes to a uniformly drawn LP", 0, 1},
      {"mean", ParamType::Duration, "900 ps", "mean of the exponential delay added to the lookahead", 0, {}},
      {"service", ParamType::Duration, "0 ps", "service time per event (0: classic PHOLD)", 0, {}},
  };
  t.ports = {{"fabric", "the all-to-all fabric joining every LP; its latency is the lookahead"}};
  t.factory = [](const ComponentContext& ctx) { return std::make_unique<PholdLP>(ctx); };
  t.checkpoint = true;
  registry.add(std::move(t));
}

SystemGraph buildPhold(const PholdConfig& c) {
  SystemGraph g;
  std::vector<ComponentId> lps;
  Params params{{"initial_events", std::to_string(c.initialEvents)},
                {"remote", formatReal(c.remote)},
                {"mean", std::to_string(c.mean.ps()) + " ps"},
                {"service", std::to_string(c.service.ps()) + " ps"}};
  for (uint32_t i = 0; i < c.lps; ++i) lps.push_back(g.addComponent("lp" + std::to_string(i), "synthetic.PholdLP", params));
  g.addFabric("phold", "fabric", lps, c.lookahead);
  return g;
}

}  // namespace wafersim::synthetic
