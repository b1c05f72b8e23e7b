// HD-MoE's algorithms (Huang et al., ICCAD 2025, arXiv 2509.09420; research/seeds.md 2.4), shared by
// the hd_* policies: NodeBalance (hd_node_balance.cc), LinkBalance (hd_link_balance.cc) and their
// composition `hd` (hd_moe.cc). Internal to placement/: the policies themselves are reached through
// policyTypes() like every other policy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "placement/placement.h"
#include "placement/problem.h"
#include "sim/params.h"

namespace wafersim::placement::hd {

// An option of the policy, or `fallback` when the Problem was built without resolved options (tests).
int64_t integerOr(const Params& options, const std::string& key, int64_t fallback);
double realOr(const Params& options, const std::string& key, double fallback);
bool booleanOr(const Params& options, const std::string& key, bool fallback);

// NodeBalance: the per-layer MILP of seeds.md 2.4 step 2, solved with GLPK, branch-and-bound
// bounded by `max_nodes` per layer (deterministic). Dies are the fabric's usable dies (logical node
// i = the i-th usable die, so the identity map until LinkBalance runs).
struct NodeBalanceResult {
  Placement placement;
  double worstGap = 0;      // largest relative MIP gap over layers at the end of the search
  double meanGap = 0;
  uint64_t nodes = 0;       // branch-and-bound nodes, summed over layers
  uint32_t groups = 0;      // co-activation groups modelled per layer (the most)
  uint32_t splitExperts = 0;  // experts (over layers) split over more than one die
};
std::vector<ParamSpec> nodeBalanceParams();
NodeBalanceResult nodeBalance(const Problem& problem);

// LinkBalance: the logical-node -> die permutation minimising the sum over layers of the busiest
// link's time (linkSeconds with the map) of per-layer logical traffic matrices (dies x dies), by
// seeded simulated annealing over swaps of two usable dies, `iterations` proposals. Unusable dies
// map to themselves. Deterministic in (fabric, traffic, seed, iterations).
std::vector<ParamSpec> linkBalanceParams();
std::vector<uint32_t> linkBalanceMap(const Fabric& fabric, const std::vector<std::vector<double>>& traffic,
                                     uint64_t seed, uint64_t iterations);
// `placement` with every shard's die renumbered through `map` (logical node -> die), shards in die order.
Placement renumber(const Placement& placement, const std::vector<uint32_t>& map);
// LinkBalance applied to `placement`: the chosen map is recorded in nodeMap and the shards renumbered
// through it; the identity is kept when the cost model does not rate the map better. `summary`
// receives one clause for the Decision's reason.
Placement linkBalance(const Problem& problem, const Placement& placement, std::string& summary);

}  // namespace wafersim::placement::hd
