// HD-MoE DynamicPlacement, pre-broadcast (Huang et al., ICCAD 2025, arXiv 2509.09420;
// research/seeds.md 2.4 "Online"): while a layer's attention runs, broadcast the weights of the k
// experts that load the busiest die most to every die, and let their tokens go to the least loaded
// copy (Split::LeastLoaded).
//
// Budget: the largest k (at most `max_broadcast` and the experts) whose broadcast over the sqrt(D)
// mesh fits in Problem::attentionSeconds:
//   c = sqrt(W alpha / (2 beta k sqrt(D))),  T_bcast = alpha (2 sqrt(D) + W / c) + beta k (W + 2 c sqrt(D))
// with alpha the per-hop latency (`hop_latency_ns`, 100 ns), beta = 1 / the slowest link's bandwidth,
// and W one expert's weight bytes (the paper's 2hI). T_bcast grows with k, so k is found by counting.
// Choice, per layer, k times: the die with the most expert compute under the placement so far (the
// cost model's computeSeconds), the expert doing the most FLOPs on it (not yet broadcast), replaced by
// a whole replica on every usable die. The paper predicts the next layer's choices per batch; here
// the profile stands for the prediction, so the decision is the expected one for the next epoch.
// An expert whose copies would overflow a die's expertCapacityBytes is skipped.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "placement/cost_model.h"
#include "placement/hd_moe.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

double broadcastSeconds(double W, double alpha, double beta, double k, double sqrtD) {
  const double c = std::sqrt(W * alpha / (2 * beta * k * sqrtD));
  return alpha * (2 * sqrtD + W / c) + beta * k * (W + 2 * c * sqrtD);
}

class DynamicPlacement final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    const Fabric& f = p.fabric;
    WAFERSIM_REQUIRE(p.current.layers() == p.model.layers && p.current.experts() == p.model.experts &&
                         p.current.dies() == f.dies,
                     "placement policy hd_dynamic: the placement in force does not match the model and fabric");
    const std::vector<uint32_t> live = f.usableDies();
    WAFERSIM_REQUIRE(!live.empty(), "placement policy hd_dynamic: no usable die");
    const double sqrtD = std::sqrt(double(live.size()));
    const double alpha = hd::realOr(p.options, "hop_latency_ns", 100) * 1e-9;
    double bw = 0;
    for (double b : f.linkBandwidth)
      if (b > 0) bw = bw == 0 ? b : std::min(bw, b);
    const double W = p.model.expertBytes > 0 ? double(p.model.expertBytes)
                                             : p.model.flopsPerToken() / 2 * p.model.activationBytes;
    const auto cap = static_cast<uint32_t>(
        std::min<int64_t>(hd::integerOr(p.options, "max_broadcast", 8), p.model.experts));
    uint32_t k = 0;
    if (bw > 0 && W > 0 && live.size() > 1)
      while (k < cap && broadcastSeconds(W, alpha, 1 / bw, k + 1, sqrtD) <= p.attentionSeconds) ++k;

    Decision d;
    d.placement = p.current;
    d.placement.split = Split::LeastLoaded;
    std::vector<uint64_t> parts = d.placement.partsPerDie();
    uint32_t broadcast = 0, skipped = 0;
    for (uint32_t l = 0; l < p.model.layers && k > 0; ++l) {
      std::vector<bool> done(p.model.experts, false);
      for (uint32_t round = 0; round < k; ++round) {
        const std::vector<double> seconds = computeSeconds(p, d.placement, l);
        uint32_t hot = live.front();
        for (uint32_t die : live)
          if (seconds[die] > seconds[hot]) hot = die;
        // The expert doing the most FLOPs on `hot`: its share of the layer's tokens times its parts there.
        uint32_t pick = UINT32_MAX;
        double most = -1;
        for (uint32_t e = 0; e < p.model.experts; ++e) {
          if (done[e]) continue;
          const auto& copies = d.placement.replicas(l, e);
          double there = 0;
          for (const Replica& r : copies)
            for (const Shard& s : r.shards)
              if (s.die == hot) there += double(s.parts) / kWhole / double(copies.size());
          const double tokens = p.profile.layers() > l && p.profile.tokens(l) > 0 ? double(p.profile.load(l, e)) : 1.0;
          if (there > 0 && tokens * there > most) most = tokens * there, pick = e;
        }
        if (pick == UINT32_MAX) break;
        done[pick] = true;
        // Whole copies on every usable die, unless one would overflow.
        std::vector<uint64_t> after = parts;
        for (const Replica& r : d.placement.replicas(l, pick))
          for (const Shard& s : r.shards) after[s.die] -= s.parts;
        bool fits = true;
        for (uint32_t die : live) {
          after[die] += kWhole;
          if (!f.expertCapacityBytes.empty() &&
              static_cast<unsigned __int128>(after[die]) * p.model.expertBytes >
                  static_cast<unsigned __int128>(f.expertCapacityBytes[die]) * kWhole)
            fits = false;
        }
        if (!fits) {
          ++skipped;
          continue;
        }
        std::vector<Replica> copies;
        for (uint32_t die : live) copies.push_back(Replica{{Shard{die, kWhole}}});
        d.placement.replicas(l, pick) = std::move(copies);
        parts = std::move(after);
        ++broadcast;
      }
    }
    checkCapacity(p, d.placement, "hd_dynamic");
    char text[256];
    std::snprintf(text, sizeof text,
                  "pre-broadcast k=%u experts per layer (T_bcast %.2f us within the %.2f us attention budget, "
                  "max_broadcast %u): %u broadcast over %u layers%s, tokens to the least loaded copy",
                  k, k > 0 ? broadcastSeconds(W, alpha, 1 / bw, k, sqrtD) * 1e6 : 0.0, p.attentionSeconds * 1e6, cap,
                  broadcast, p.model.layers, skipped > 0 ? (", " + std::to_string(skipped) + " skipped for room").c_str() : "");
    d.reason = text;
    predictGain(p, d);
    return d;
  }
};

}  // namespace

PolicyType hdDynamicPolicy() {
  return {"hd_dynamic",
          "HD-MoE DynamicPlacement: broadcast the k experts loading the busiest die to every die within the "
          "attention time (k from the broadcast model), tokens to the least loaded copy",
          "HD-MoE (Huang et al., ICCAD 2025), research/seeds.md 2.4 Online",
          {{"max_broadcast", ParamType::Integer, "8", "most experts pre-broadcast per layer", 0, 1e6},
           {"hop_latency_ns", ParamType::Real, "100", "per-hop latency alpha of the broadcast model, ns", 0, 1e9}},
          {},
          [] { return std::make_unique<DynamicPlacement>(); }};
}

}  // namespace wafersim::placement
