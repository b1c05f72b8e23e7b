// The analytic cost of a placement, shared by the policies (to search) and by the online service
// (to predict a decision's gain). It is an estimate, not the simulation: the simulated run is what
// a study reports.
//
// For one engine step of `tokensPerStep` tokens whose routing follows the profile (expert e of
// layer l drawn by a token with probability load[l][e] / tokens[l]; tokens computed on die s in
// proportion to sourceTokens[s]):
//  - compute on die d at layer l: the roofline max(FLOPs / expertFlops, weight bytes read /
//    memoryBandwidth) of its shards, a shard doing parts/kWhole of its replica's tokens' FLOPs and
//    reading parts/kWhole of the expert's weights when the expert is hit at all in the step
//    (probability 1 - (1 - p)^B);
//  - communication at layer l: every token's hidden vector to every shard die of the replica it
//    uses (the split rule) and back, over the fabric's paths; the time is the busiest directed
//    link's bytes / bandwidth (injection links not modelled);
//  - the layer takes max_d compute + communication (dispatch, experts, combine in sequence), and
//    the step the sum over layers.
#pragma once

#include <vector>

#include "placement/problem.h"

namespace wafersim::placement {

struct CostEstimate {
  double seconds = 0;          // the step's MoE time
  double computeSeconds = 0;   // sum over layers of the busiest die's expert time
  double commSeconds = 0;      // sum over layers of the busiest link's time
  double byteHops = 0;         // per step
  double maxOverMeanCompute = 0;  // load imbalance of expert compute over usable dies, averaged over layers
};

CostEstimate estimateCost(const Problem& problem, const Placement& placement);

// Dispatch + combine bytes from die s to die d (dies x dies) at one layer, for one step.
std::vector<double> trafficMatrix(const Problem& problem, const Placement& placement, uint32_t layer);
// The busiest directed link's time for a traffic matrix (bytes, dies x dies); with `nodeMap`
// (logical node -> die) the matrix is over logical nodes.
double linkSeconds(const Fabric& fabric, const std::vector<double>& traffic, const std::vector<uint32_t>& nodeMap = {});
// Expert compute seconds per die at one layer, for one step.
std::vector<double> computeSeconds(const Problem& problem, const Placement& placement, uint32_t layer);

// The mean tokens per step to estimate with: problem.tokensPerStep, or 256 when unset.
double stepTokens(const Problem& problem);

}  // namespace wafersim::placement
