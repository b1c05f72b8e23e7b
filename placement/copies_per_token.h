// C_T, Mozart's figure of merit (research/seeds.md 5.3): the average number of copies of a token
// in the dispatch, one per distinct destination its top-k choices reach. Per die: one copy per
// distinct die (the point-to-point all-to-all); per group: one copy per distinct chiplet group
// (the NoP-tree sends one copy down each leaf group's branch and the group's switch fans it out).
// With every choice on its own die or group, C_T = top-k, the baseline the paper compares with.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "placement/placement.h"
#include "placement/problem.h"

namespace wafersim::placement {

inline constexpr uint32_t kAllLayers = UINT32_MAX;

// Per die: a copy of expert e's tokens reaches every shard die of the replica it uses; with R
// replicas each is taken to carry 1/R of them (the even split). Group: the same over `groupOf`
// (per die; chipletGroups()). `layer` = kAllLayers: the token-weighted mean over the layers.
//
// From counts alone the exact value is not known (it needs each token's whole choice set), so
// this is an estimate from the load and the pair counts: with m_u the choices of a token landing
// on unit u, a unit is reached by at least max(sum m - sum m(m-1)/2, (sum m)^2 / sum m^2) tokens
// (Bonferroni; second moment), which is exact when no token puts more than two choices on one unit
// or when a unit always gets all-or-none of a fixed number. Without pair counts it is sum m: each
// choice its own copy (an upper bound). A unit is never counted for more tokens than the layer has.
double copiesPerToken(const LoadProfile& profile, const Placement& placement, uint32_t layer);
double groupCopiesPerToken(const LoadProfile& profile, const Placement& placement, uint32_t layer,
                           const std::vector<uint32_t>& groupOf);

// The exact value over a recorded layer of tokens (choices[i*k .. (i+1)*k) for token i), each
// expert counted at its first replica's shard dies (tests, trace studies). Empty groupOf: per die.
double copiesPerTokenExact(std::span<const uint32_t> choices, uint32_t topK, const Placement& placement, uint32_t layer,
                           const std::vector<uint32_t>& groupOf = {});

// Per die, its chiplet group: Fabric::groupOf when given, else groups of 4 consecutive dies (die / 4).
std::vector<uint32_t> chipletGroups(const Fabric& fabric);

}  // namespace wafersim::placement
