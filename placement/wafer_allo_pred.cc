// Allo+Pred: the wafer-scale GPU's task allocation and cross-token prediction, "Patterns behind
// Chaos" case study A (research/seeds.md 3.3), as a placement; `allo` and `pred` alone are the
// paper's ablations (Allo-only, Pred-only).
//
// Allocation (per MoE layer, per step of stepTokens tokens): experts in ascending order of their
// tokens; an expert's candidates are the dies holding it and the usable dies one hop from one of
// them, sorted by the die time allotted so far (ties: holders first), at most `max_split` kept; its tokens are handed
// out in blocks of `block_tokens`, each to the candidate where it would finish first: the die's time so far + DRAM read
// of the weights (first block on that die) + compute + D2D transfer of the weights (first block on a die not holding
// them, over the bottleneck link from the nearest holder); blocks merge per die. In the paper the work moves and the
// weights are read remotely; here a die computing part of an expert's tokens needs that expert's weights, so in the
// placement it holds a replica, and the weight read over D2D becomes the migration traffic from
// the previous placement. A placement cannot carry the blocks' exact shares, so the split rule
// (`split`, least_loaded for allo) hands the tokens among the replicas at run time.
//
// Prediction: for each of the `hot_experts` hottest experts a of a layer, the `top_n` experts b
// the cross-token heatmap (LoadProfile::next) says the next token most often chooses after a are
// cached on the dies holding a -- the dies where the tokens that chose a are computed, and so
// where the paper's predictor sets cp_en -- at most `cache_slots` per die and layer and within
// memory. `split` nearest (default for pred) then keeps their reads local; allo_pred splits by
// load (least_loaded), as its allocation does.
//
// Both parts start from the placement in force (Problem::current; EP when it has another shape),
// and every added replica is bounded by memory (SlotBudget).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "placement/cost_model.h"
#include "placement/expert_load.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

enum class Mode { Allo, Pred, Both };

const char* modeName(Mode m) { return m == Mode::Allo ? "allo" : m == Mode::Pred ? "pred" : "allo_pred"; }

bool holds(const Placement& placement, uint32_t layer, uint32_t expert, uint32_t die) {
  for (const Replica& r : placement.replicas(layer, expert))
    for (const Shard& s : r.shards)
      if (s.die == die) return true;
  return false;
}

std::vector<uint32_t> holderDies(const Placement& placement, uint32_t layer, uint32_t expert) {
  std::vector<uint32_t> out;
  for (const Replica& r : placement.replicas(layer, expert))
    for (const Shard& s : r.shards)
      if (std::find(out.begin(), out.end(), s.die) == out.end()) out.push_back(s.die);
  return out;
}

// Die-to-die links from a to b. The paper's candidates "within hop distance 1" are a holder's
// neighbours, one link away; Fabric::hops counts the routers on the path instead (two between
// neighbouring dies of a wafer, each die having its router), so it is used only without paths.
uint32_t links(const Fabric& f, uint32_t a, uint32_t b) {
  return f.paths.empty() ? f.hop(a, b) : static_cast<uint32_t>(f.paths[size_t{a} * f.dies + b].size());
}

// The bottleneck bandwidth of the path a -> b (0: unknown).
double pathBandwidth(const Fabric& f, uint32_t a, uint32_t b) {
  if (f.paths.empty() || f.linkBandwidth.empty()) return 0;
  double bw = 0;
  for (uint32_t link : f.paths[size_t{a} * f.dies + b])
    bw = bw == 0 ? f.linkBandwidth[link] : std::min(bw, f.linkBandwidth[link]);
  return bw;
}

class WaferAlloPred final : public Policy {
 public:
  explicit WaferAlloPred(Mode mode) : mode_(mode) {}

  Decision decide(const Problem& p) const override {
    const Fabric& f = p.fabric;
    const std::vector<uint32_t> live = f.usableDies();
    WAFERSIM_REQUIRE(!live.empty(), "placement policy ", modeName(mode_), ": no usable die");
    const bool sameShape =
        p.current.layers() == p.model.layers && p.current.experts() == p.model.experts && p.current.dies() == f.dies;
    Decision d;
    d.placement = sameShape ? p.current : expertParallel(p);
    d.placement.split = parseSplit(optionText(p, "split", mode_ == Mode::Pred ? "nearest" : "least_loaded"),
                                   std::string("policy ") + modeName(mode_) + ".split");
    SlotBudget budget(p, d.placement);
    uint64_t allocated = 0, cached = 0;
    if (mode_ != Mode::Pred) allocated = allocate(p, d.placement, budget);
    bool heatmap = p.profile.hasNext();
    if (mode_ != Mode::Allo && heatmap) cached = predict(p, d.placement, budget);
    checkCapacity(p, d.placement, modeName(mode_));
    predictGain(p, d);
    std::ostringstream reason;
    if (mode_ != Mode::Pred)
      reason << "allocation: " << allocated << " replicas on dies within one hop (max_split "
             << optionInteger(p, "max_split", 4) << ", blocks of " << optionInteger(p, "block_tokens", 50) << ")";
    if (mode_ == Mode::Both) reason << "; ";
    if (mode_ != Mode::Allo) {
      if (heatmap)
        reason << "prediction: " << cached << " next-token experts cached (top " << optionInteger(p, "top_n", 2)
               << " of the " << optionInteger(p, "hot_experts", 8) << " hottest per layer)";
      else
        reason << "prediction: no cross-token heatmap in the profile, nothing cached";
    }
    reason << "; split " << toString(d.placement.split) << (budget.unlimited() ? "" : "; replicas within memory");
    d.reason = reason.str();
    return d;
  }

 private:
  uint64_t allocate(const Problem& p, Placement& out, SlotBudget& budget) const {
    const Fabric& f = p.fabric;
    const std::vector<uint32_t> live = f.usableDies();
    const auto maxSplit = static_cast<size_t>(std::max<int64_t>(1, optionInteger(p, "max_split", 4)));
    const double block = double(std::max<int64_t>(1, optionInteger(p, "block_tokens", 50)));
    const double fpt = p.model.flopsPerToken();
    const double bytes = double(p.model.expertBytes);
    uint64_t added = 0;
    std::vector<double> load(f.dies);
    std::vector<uint32_t> order(p.model.experts), candidates;
    std::vector<double> tokens(p.model.experts);
    std::vector<char> isCandidate(f.dies), started(f.dies);
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      std::fill(load.begin(), load.end(), 0.0);
      for (uint32_t e = 0; e < p.model.experts; ++e) tokens[e] = expertTokens(p, l, e);
      std::iota(order.begin(), order.end(), 0u);
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return tokens[a] < tokens[b]; });
      for (uint32_t e : order) {
        const std::vector<uint32_t> holders = holderDies(out, l, e);
        std::fill(isCandidate.begin(), isCandidate.end(), 0);
        candidates.clear();
        for (uint32_t c : live) {
          bool near = false;
          for (uint32_t h : holders) near = near || links(f, h, c) <= 1;
          const bool holder = std::find(holders.begin(), holders.end(), c) != holders.end();
          if (near && (holder || budget.available(l, c))) candidates.push_back(c);
        }
        // By load; on equal load a die already holding the expert first (no weights to move).
        auto holds = [&](uint32_t c) { return std::find(holders.begin(), holders.end(), c) != holders.end(); };
        std::stable_sort(candidates.begin(), candidates.end(), [&](uint32_t a, uint32_t b) {
          return load[a] < load[b] || (load[a] == load[b] && holds(a) && !holds(b));
        });
        if (candidates.size() > maxSplit) candidates.resize(maxSplit);
        std::fill(started.begin(), started.end(), 0);
        // At most kMaxBlocks blocks per expert: a step of 2^60 tokens (a hostile request's
        // tokensPerStep) would otherwise loop for ever, as `left -= block` stops changing `left`
        // past 2^53 blocks (found by fuzz_placement_message). Real steps are far below the cap.
        constexpr double kMaxBlocks = 1e5;
        const double step = std::max(block, tokens[e] / kMaxBlocks);
        for (double left = tokens[e]; left > 0; left -= step) {
          const double n = std::min(step, left);
          uint32_t best = UINT32_MAX;
          double bestFinish = 0, bestAdd = 0;
          for (uint32_t c : candidates) {
            const double flops = f.expertFlops.empty() ? 0 : f.expertFlops[c];
            const double bw = f.memoryBandwidth.empty() ? 0 : f.memoryBandwidth[c];
            double add = flops > 0 ? n * fpt / flops : n;
            if (!started[c]) {
              if (bw > 0) add += bytes / bw;  // DRAM read (local, or the holder's DRAM)
              if (std::find(holders.begin(), holders.end(), c) == holders.end()) {
                uint32_t from = holders.front();
                for (uint32_t h : holders)
                  if (f.hop(h, c) < f.hop(from, c)) from = h;
                const double link = pathBandwidth(f, from, c);
                if (link > 0) add += bytes / link;  // the weights over D2D
              }
            }
            if (best == UINT32_MAX || load[c] + add < bestFinish) best = c, bestFinish = load[c] + add, bestAdd = add;
          }
          load[best] += bestAdd;
          if (!started[best] && std::find(holders.begin(), holders.end(), best) == holders.end()) {
            out.replicas(l, e).push_back(Replica{{Shard{best, kWhole}}});
            budget.take(best);
            ++added;
          }
          started[best] = 1;
        }
      }
    }
    return added;
  }

  uint64_t predict(const Problem& p, Placement& out, SlotBudget& budget) const {
    const uint32_t E = p.model.experts;
    const auto hot = static_cast<uint32_t>(std::min<int64_t>(E, optionInteger(p, "hot_experts", 8)));
    const auto topN = static_cast<uint32_t>(std::min<int64_t>(E, optionInteger(p, "top_n", 2)));
    const auto slots = static_cast<uint64_t>(optionInteger(p, "cache_slots", 2));
    uint64_t cached = 0;
    std::vector<uint32_t> order(E), next(E);
    std::vector<uint64_t> used(p.fabric.dies);
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      std::fill(used.begin(), used.end(), 0);
      std::iota(order.begin(), order.end(), 0u);
      std::stable_sort(order.begin(), order.end(),
                       [&](uint32_t a, uint32_t b) { return p.profile.load(l, a) > p.profile.load(l, b); });
      for (uint32_t i = 0; i < hot; ++i) {
        const uint32_t a = order[i];
        if (p.profile.load(l, a) == 0) break;
        std::iota(next.begin(), next.end(), 0u);
        std::stable_sort(next.begin(), next.end(),
                         [&](uint32_t x, uint32_t y) { return p.profile.next(l, a, x) > p.profile.next(l, a, y); });
        const std::vector<uint32_t> dies = holderDies(out, l, a);
        for (uint32_t j = 0, taken = 0; j < E && taken < topN; ++j) {
          const uint32_t b = next[j];
          if (p.profile.next(l, a, b) == 0) break;
          if (b == a) continue;
          ++taken;
          for (uint32_t die : dies) {
            if (used[die] >= slots || holds(out, l, b, die) || !budget.available(l, die)) continue;
            out.replicas(l, b).push_back(Replica{{Shard{die, kWhole}}});
            budget.take(die);
            ++used[die];
            ++cached;
          }
        }
      }
    }
    return cached;
  }

  Mode mode_;
};

std::vector<ParamSpec> alloParams(const char* split) {
  return {{"max_split", ParamType::Integer, "4", "candidate dies an expert's tokens may split over (max_split_num)", 1,
           1e6},
          {"block_tokens", ParamType::Integer, "50", "tokens per block handed to the cheapest candidate", 1, 1e9},
          {"split", ParamType::Text, split, "token split among replicas: even, least_loaded, nearest", {}, {}}};
}

std::vector<ParamSpec> predParams() {
  return {{"hot_experts", ParamType::Integer, "8", "hottest experts per layer whose heatmap rows are read", 0, 1e6},
          {"top_n", ParamType::Integer, "2", "predicted next-token experts cached per hot expert", 0, 1e6},
          {"cache_slots", ParamType::Integer, "2", "predicted copies a die may cache per MoE layer", 0, 1e6}};
}

}  // namespace

PolicyType waferAlloPredPolicy() {
  // least_loaded: the allocator hands blocks to the die where they finish first, a rule by load;
  // nearest would send every token to the copy closest to its die and undo the allocation.
  std::vector<ParamSpec> params = alloParams("least_loaded");
  for (ParamSpec& s : predParams()) params.push_back(s);
  return {"allo_pred",
          "wafer-scale Allo+Pred: split hot experts' tokens over dies within one hop, cache predicted next-token "
          "experts (as replicas)",
          "Patterns behind Chaos, case study A, research/seeds.md 3.3",
          std::move(params),
          {.pairs = false, .next = true},
          [] { return std::make_unique<WaferAlloPred>(Mode::Both); }};
}

PolicyType waferAlloPolicy() {
  return {"allo",
          "wafer-scale Allo only (ablation): tokens split over dies within one hop, as replicas",
          "Patterns behind Chaos, case study A, research/seeds.md 3.3",
          alloParams("least_loaded"),
          {},
          [] { return std::make_unique<WaferAlloPred>(Mode::Allo); }};
}

PolicyType waferPredPolicy() {
  std::vector<ParamSpec> params = predParams();
  params.push_back(
      {"split", ParamType::Text, "nearest", "token split among replicas: even, least_loaded, nearest", {}, {}});
  return {"pred",
          "wafer-scale Pred only (ablation): cache predicted next-token experts beside the hot ones",
          "Patterns behind Chaos, case study A, research/seeds.md 3.3",
          std::move(params),
          {.pairs = false, .next = true},
          [] { return std::make_unique<WaferAlloPred>(Mode::Pred); }};
}

}  // namespace wafersim::placement
