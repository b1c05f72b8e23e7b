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
//  2. Within a group, experts go heaviest first to the die with the least roofline time that
//     holds fewer than its share of the group's experts.
// Fewer token copies cross the NoP-tree when co-activated experts share a group: the reason
// reports C_T (copies_per_token.h) per group and per die against EP's. The slack trades C_T for
// balance: on a DeepSeek-V3-size Zipf(1) profile with group-limited routing (64 dies in 16 groups)
// C_T per group went 6.23 / 5.89 / 5.45 / 4.52 / 3.98 for slack 0.1 / 0.5 / 1 / 3 / 100 against
// EP's 6.18, the cost model's gain peaking at 1 and turning negative with no balance at all.
// Stage 2 only balances load; it does not also co-locate co-activated experts on one die.
#include <algorithm>
#include <numeric>
#include <sstream>

#include "placement/copies_per_token.h"
#include "placement/expert_load.h"
#include "placement/policy.h"
#include "sim/error.h"

namespace wafersim::placement {
namespace {

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
    std::vector<double> freq(E), affinity;
    std::vector<std::vector<uint32_t>> members;
    std::vector<double> clusterLoad;
    for (uint32_t l = 0; l < p.model.layers; ++l) {
      double total = 0;
      for (uint32_t e = 0; e < E; ++e) total += freq[e] = expertTokens(p, l, e);
      const double loadCap = (1 + slack) * total / G;
      // Stage 1: agglomeration over a dense affinity matrix (E x E; merged rows are summed).
      members.assign(E, {});
      clusterLoad = freq;
      affinity.assign(size_t{E} * E, 0.0);
      for (uint32_t a = 0; a < E; ++a) {
        members[a] = {a};
        for (uint32_t b = 0; b < E; ++b)
          if (a != b) affinity[size_t{a} * E + b] = double(p.profile.pair(l, a, b));
      }
      std::vector<char> active(E, 1);
      for (uint32_t clusters = E; clusters > G; --clusters) {
        double best = 0;
        uint32_t bi = E, bj = E;
        for (uint32_t i = 0; i < E; ++i) {
          if (!active[i]) continue;
          const double* row = &affinity[size_t{i} * E];
          for (uint32_t j = i + 1; j < E; ++j)
            if (active[j] && row[j] > best && members[i].size() + members[j].size() <= sizeCap &&
                clusterLoad[i] + clusterLoad[j] <= loadCap)
              best = row[j], bi = i, bj = j;
        }
        if (bi == E) break;  // no allowed merge joins co-activated experts
        active[bj] = 0;
        members[bi].insert(members[bi].end(), members[bj].begin(), members[bj].end());
        clusterLoad[bi] += clusterLoad[bj];
        for (uint32_t k = 0; k < E; ++k) {
          affinity[size_t{bi} * E + k] += affinity[size_t{bj} * E + k];
          affinity[size_t{k} * E + bi] = affinity[size_t{bi} * E + k];
        }
        affinity[size_t{bi} * E + bi] = 0;
      }
      // Packing the clusters onto the groups.
      std::vector<uint32_t> order;
      for (uint32_t i = 0; i < E; ++i)
        if (active[i]) order.push_back(i);
      std::stable_sort(order.begin(), order.end(),
                       [&](uint32_t a, uint32_t b) { return clusterLoad[a] > clusterLoad[b]; });
      std::vector<std::vector<uint32_t>> inGroup(G);
      std::vector<double> groupLoad(G, 0.0);
      auto pick = [&](size_t size) {
        uint32_t best = G;
        for (uint32_t g = 0; g < G; ++g)
          if (inGroup[g].size() + size <= room[g] &&
              (best == G || groupLoad[g] / groups[g].size() < groupLoad[best] / groups[best].size()))
            best = g;
        return best;
      };
      for (uint32_t c : order) {
        uint32_t g = pick(members[c].size());
        if (g != G) {
          inGroup[g].insert(inGroup[g].end(), members[c].begin(), members[c].end());
          groupLoad[g] += clusterLoad[c];
          continue;
        }
        std::vector<uint32_t> experts = members[c];
        std::stable_sort(experts.begin(), experts.end(), [&](uint32_t a, uint32_t b) { return freq[a] > freq[b]; });
        for (uint32_t e : experts) {
          g = pick(1);
          WAFERSIM_ASSERT(g != G, e, l);
          inGroup[g].push_back(e);
          groupLoad[g] += freq[e];
        }
      }
      // Stage 2: within each group, heaviest expert to the least busy die with a free slot.
      for (uint32_t g = 0; g < G; ++g) {
        const auto& dies = groups[g];
        const auto n = static_cast<uint32_t>(dies.size());
        const auto slots = static_cast<uint32_t>((inGroup[g].size() + n - 1) / n);
        std::vector<uint32_t> experts = inGroup[g], count(n, 0);
        std::vector<double> time(n, 0.0);
        std::stable_sort(experts.begin(), experts.end(),
                         [&](uint32_t a, uint32_t b) { return freq[a] > freq[b] || (freq[a] == freq[b] && a < b); });
        for (uint32_t e : experts) {
          uint32_t best = n;
          for (uint32_t i = 0; i < n; ++i)
            if (count[i] < slots && (best == n || time[i] < time[best])) best = i;
          d.placement.putWhole(l, e, dies[best]);
          ++count[best];
          time[best] += expertSeconds(p, dies[best], l, e);
        }
      }
    }
    checkCapacity(p, d.placement, "mozart_cluster");
    predictGain(p, d);
    std::ostringstream reason;
    reason.precision(3);
    reason << E << " experts per layer clustered on co-activation into " << G << " chiplet groups";
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
