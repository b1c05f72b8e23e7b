// Mozart's expert allocation by co-activation clustering (research/seeds.md 5.3: "Algorithm 1:
// Expert Clustering", two stages; the paper's internals and its integer program were not found,
// so this is our reading [I]). Per MoE layer:
//  1. Cluster the experts into as many clusters as there are chiplet groups (Fabric::groupOf, else
//     groups of 4 consecutive dies), by greedy agglomeration: start from singletons and merge the
//     two clusters with the most co-activations between them (LoadProfile::pair), a merge allowed
//     only while the cluster's token frequency stays within (1 + balance_slack) times the
//     per-group mean (default slack 1: twice the mean) and its size within the largest group's
//     room (ceil(E * group dies / usable dies)); when no allowed merge has co-activations left,
//     the clusters are packed onto the groups, heaviest first to the group least loaded per die
//     that has room (a cluster too big for any group's room left is dealt expert by expert).
//  2. Within a group, the same again one level down: the group's experts agglomerate into as many
//     clusters as it has dies (size within a die's share of the group's experts, frequency within
//     (1 + balance_slack) times the per-die mean), and the clusters go heaviest first to the die
//     with the least roofline time that has room (expert by expert where none has).
// Fewer token copies cross the NoP-tree when co-activated experts share a group, and fewer reach
// separate chiplets when they share a die (Mozart's C_T counts chiplets: 8 -> 5.63 on OLMoE): the
// reason reports C_T (copies_per_token.h) per group and per die against EP's. The slack trades C_T
// for balance: on a DeepSeek-V3-size Zipf(1) profile with group-limited routing (64 dies in 16
// groups) C_T per group went 6.23 / 5.89 / 5.45 / 4.52 / 3.98 for slack 0.1 / 0.5 / 1 / 3 / 100
// against EP's 6.18, the cost model's gain peaking at 1 and turning negative with no balance at all.
#include <algorithm>
#include <numeric>
#include <sstream>

#include "placement/copies_per_token.h"
#include "placement/expert_load.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

// Greedy agglomeration of `experts` (layer l) into at most `clusters` clusters: from singletons,
// merge the two with the most co-activations between them while the merged size stays within
// sizeCap and its token frequency within loadCap; stops when no allowed merge joins co-activated
// experts. Returns the clusters, each in merge order.
std::vector<std::vector<uint32_t>> agglomerate(const Problem& p, uint32_t l, const std::vector<double>& freq,
                                               const std::vector<uint32_t>& experts, uint32_t clusters,
                                               size_t sizeCap, double loadCap) {
  const auto n = static_cast<uint32_t>(experts.size());
  std::vector<std::vector<uint32_t>> members(n);
  std::vector<double> load(n), affinity(size_t{n} * n, 0.0);  // dense; merged rows are summed
  for (uint32_t a = 0; a < n; ++a) {
    members[a] = {experts[a]};
    load[a] = freq[experts[a]];
    for (uint32_t b = 0; b < n; ++b)
      if (a != b) affinity[size_t{a} * n + b] = double(p.profile.pair(l, experts[a], experts[b]));
  }
  std::vector<char> active(n, 1);
  for (uint32_t left = n; left > clusters; --left) {
    double best = 0;
    uint32_t bi = n, bj = n;
    for (uint32_t i = 0; i < n; ++i) {
      if (!active[i]) continue;
      const double* row = &affinity[size_t{i} * n];
      for (uint32_t j = i + 1; j < n; ++j)
        if (active[j] && row[j] > best && members[i].size() + members[j].size() <= sizeCap &&
            load[i] + load[j] <= loadCap)
          best = row[j], bi = i, bj = j;
    }
    if (bi == n) break;  // no allowed merge joins co-activated experts
    active[bj] = 0;
    members[bi].insert(members[bi].end(), members[bj].begin(), members[bj].end());
    load[bi] += load[bj];
    for (uint32_t k = 0; k < n; ++k) {
      affinity[size_t{bi} * n + k] += affinity[size_t{bj} * n + k];
      affinity[size_t{k} * n + bi] = affinity[size_t{bi} * n + k];
    }
    affinity[size_t{bi} * n + bi] = 0;
  }
  std::vector<std::vector<uint32_t>> out;
  for (uint32_t i = 0; i < n; ++i)
    if (active[i]) out.push_back(std::move(members[i]));
  return out;
}

// Packs clusters onto bins with room[b] experts each: heaviest cluster first (ties: the earlier)
// to the bin with room whose cost(b, load) is least (the first of equals); a cluster that fits no
// bin is dealt expert by expert, heaviest first. place(b, expert, frequency) records each.
template <typename Cost, typename Place>
std::vector<std::vector<uint32_t>> pack(const std::vector<double>& freq,
                                        std::vector<std::vector<uint32_t>> clusters, const std::vector<uint32_t>& room,
                                        Cost cost, Place place) {
  const auto bins = static_cast<uint32_t>(room.size());
  std::vector<double> load(clusters.size(), 0.0);
  for (size_t c = 0; c < clusters.size(); ++c)
    for (uint32_t e : clusters[c]) load[c] += freq[e];
  std::vector<size_t> order(clusters.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return load[a] > load[b]; });
  std::vector<std::vector<uint32_t>> in(bins);
  auto pick = [&](size_t size, double l) {
    uint32_t best = bins;
    for (uint32_t b = 0; b < bins; ++b)
      if (in[b].size() + size <= room[b] && (best == bins || cost(b, l) < cost(best, l))) best = b;
    return best;
  };
  auto put = [&](uint32_t b, uint32_t e) {
    in[b].push_back(e);
    place(b, e, freq[e]);
  };
  for (size_t c : order) {
    std::vector<uint32_t>& experts = clusters[c];
    if (const uint32_t b = pick(experts.size(), load[c]); b != bins) {
      for (uint32_t e : experts) put(b, e);
      continue;
    }
    std::stable_sort(experts.begin(), experts.end(),
                     [&](uint32_t a, uint32_t b) { return freq[a] > freq[b] || (freq[a] == freq[b] && a < b); });
    for (uint32_t e : experts) {
      const uint32_t b = pick(1, freq[e]);
      WAFERSIM_ASSERT(b != bins, e);
      put(b, e);
    }
  }
  return in;
}

class MozartClustering final : public Policy {
 public:
  Decision decide(const Problem& p) const override {
    const Fabric& f = p.fabric;
    const std::vector<uint32_t> live = f.usableDies();
    WAFERSIM_REQUIRE(!live.empty(), "placement policy mozart_cluster: no usable die");
    const uint32_t E = p.model.experts;
    const double slack = optionReal(p, "balance_slack", 1.0);

    // The groups of usable dies, numbered in order of their first die.
    const std::vector<uint32_t> groupOf = chipletGroups(f);
    WAFERSIM_REQUIRE(groupOf.size() == f.dies, "placement policy mozart_cluster: fabric.groupOf has ", groupOf.size(),
                     " entries for ", f.dies, " dies");
    std::vector<std::vector<uint32_t>> groups;
    std::vector<uint32_t> ids;
    for (uint32_t d : live) {
      auto it = std::find(ids.begin(), ids.end(), groupOf[d]);
      if (it == ids.end()) {
        ids.push_back(groupOf[d]);
        groups.push_back({});
        it = ids.end() - 1;
      }
      groups[size_t(it - ids.begin())].push_back(d);
    }
    const auto G = static_cast<uint32_t>(groups.size());
    std::vector<uint32_t> room(G);
    for (uint32_t g = 0; g < G; ++g)
      room[g] = static_cast<uint32_t>((uint64_t{E} * groups[g].size() + live.size() - 1) / live.size());
    const uint32_t sizeCap = *std::max_element(room.begin(), room.end());

    Decision d;
    d.placement = Placement(f.dies, p.model.layers, E);
    std::vector<double> freq(E);
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      double total = 0;
      for (uint32_t e = 0; e < E; ++e) total += freq[e] = expertTokens(p, l, e);
      std::vector<uint32_t> experts(E);
      std::iota(experts.begin(), experts.end(), 0u);
      // Stage 1: the experts onto the groups, balanced by tokens per die.
      std::vector<double> groupLoad(G, 0.0);
      const std::vector<std::vector<uint32_t>> inGroup =
          pack(freq, agglomerate(p, l, freq, experts, G, sizeCap, (1 + slack) * total / G), room,
               [&](uint32_t g, double) { return groupLoad[g] / double(groups[g].size()); },
               [&](uint32_t g, uint32_t, double load) { groupLoad[g] += load; });
      // Stage 2: within each group, its experts onto its dies, balanced by roofline time.
      for (uint32_t g = 0; g < G; ++g) {
        const auto& dies = groups[g];
        const auto n = static_cast<uint32_t>(dies.size());
        const auto slots = static_cast<uint32_t>((inGroup[g].size() + n - 1) / n);
        double load = 0;
        for (uint32_t e : inGroup[g]) load += freq[e];
        std::vector<double> time(n, 0.0);
        const std::vector<std::vector<uint32_t>> onDie = pack(
            freq, agglomerate(p, l, freq, inGroup[g], n, slots, (1 + slack) * load / n),
            std::vector<uint32_t>(n, slots), [&](uint32_t i, double) { return time[i]; },
            [&](uint32_t i, uint32_t e, double) { time[i] += expertSeconds(p, dies[i], l, e); });
        for (uint32_t i = 0; i < n; ++i)
          for (uint32_t e : onDie[i]) d.placement.putWhole(l, e, dies[i]);
      }
    }
    checkCapacity(p, d.placement, "mozart_cluster");
    predictGain(p, d);
    std::ostringstream reason;
    reason.precision(3);
    reason << E << " experts per layer clustered on co-activation into " << G << " chiplet groups, then onto their dies";
    if (p.profile.layers() == p.model.layers && p.profile.experts() == E && p.profile.totalTokens() > 0) {
      const Placement ep = expertParallel(p);
      reason << "; C_T per group " << groupCopiesPerToken(p.profile, d.placement, kAllLayers, groupOf) << " (EP "
             << groupCopiesPerToken(p.profile, ep, kAllLayers, groupOf) << "), per die "
             << copiesPerToken(p.profile, d.placement, kAllLayers) << " (EP "
             << copiesPerToken(p.profile, ep, kAllLayers) << "), top-k " << p.model.topK;
      if (!p.profile.hasPairs()) reason << " (no pair counts: C_T is an upper bound, clusters by frequency only)";
    }
    d.reason = reason.str();
    return d;
  }
};

}  // namespace

PolicyType mozartClusteringPolicy() {
  return {"mozart_cluster",
          "Mozart expert clustering: co-activated experts into one chiplet group (frequency-balanced), then "
          "balanced over the group's dies; reports copies per token",
          "Mozart, Algorithm 1 Expert Clustering (our reading), research/seeds.md 5.3",
          {{"balance_slack", ParamType::Real, "1",
            "a cluster's token frequency may exceed the per-group mean by this share", 0, 1e6}},
          {.pairs = true, .next = false},
          [] { return std::make_unique<MozartClustering>(); }};
}

}  // namespace wafersim::placement
