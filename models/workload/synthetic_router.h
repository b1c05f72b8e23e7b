// A seeded synthetic router whose knobs reproduce the routing structure reported for real MoE
// models (research/seeds.md 3.2: Ob1 layer-to-layer correlation, Ob2 token-to-token correlation,
// Ob4 skew, Ob5 pair affinity) plus a hot set that drifts over time.
//
// For each token and layer, in this order of precedence:
//  1. token-to-token: with probability tokenCorrelation, and if the same request already routed
//     a token at this layer, repeat that token's choices;
//  2. layer-to-layer: else, with probability layerCorrelation, and if the previous call was layer
//     l-1 with the same number of tokens (the router contract), take the token's choices at l-1
//     through a fixed random permutation map_l of the experts (so distinct ids stay distinct);
//  3. fresh draw: k distinct experts, without replacement, from a Zipf law over popularity ranks,
//     weight(rank r) = 1 / (r+1)^zipfExponent (0 = uniform). Each layer has its own random
//     permutation rank -> expert (which experts are hot). With probability groupProbability the
//     first expert is drawn so and the other k-1 from its co-activation group only (experts are
//     partitioned into `groups` equal groups by a per-layer random permutation), with the same
//     Zipf weights restricted to the group.
// Group-limited routing (DeepSeek-V2/V3 device/node-limited routing; limitGroups = n_group > 0,
// limitTopkGroups = topk_group): the experts are split into n_group equal groups of contiguous ids
// (group g = experts [g*E/n_group, (g+1)*E/n_group), as in the real gate), and every token's k
// choices at a layer lie in at most topk_group of them. A fresh draw first picks topk_group
// distinct groups, without replacement, with probability proportional to the sum of the current
// Zipf weights of their experts (after drift), then draws the k experts without replacement from
// the union of the chosen groups with the usual Zipf weights (the co-activation path of 3 draws the
// other k-1 from the first expert's co-activation group inside the chosen groups, and from the
// chosen groups once that is used up). A repeated token (1) repeats choices that already satisfy
// the limit. A layer-mapped choice set (2) is kept as is when it spans at most topk_group groups;
// otherwise the topk_group groups holding most of its choices are kept (ties broken at random) and
// the choices outside them are redrawn inside them with the Zipf weights. topk_group == n_group
// limits nothing and draws exactly as with the limit off.
// Drift: every driftEverySteps engine steps (a step = one call at layer 0), or every
// driftEveryTokens tokens routed at layer 0, the rank -> expert permutation of every layer
// rotates by driftShift positions (the expert of rank r becomes the one of rank r + driftShift):
// the hot set moves to different experts. The epoch is fixed at the layer-0 call of a step.
//
// Deterministic: one RandomStream from the seed; Zipf weights use only IEEE + - * / (our own
// exp and log), so outputs are bit-identical on every machine. Memory: O(layers x experts) plus
// layers x topK ids per active request when tokenCorrelation > 0 (dropped by requestFinished).
// Cost per token and layer: O(topK) expected, O(experts x topK) worst case (heavy skew, large k);
// with the group limit, plus O(limitGroups x limitTopkGroups) to pick the groups (the group weights
// are cached per layer and drift epoch: O(layers x limitGroups) memory).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "models/workload/routing.h"
#include "sim/random.h"

namespace wafersim::workload {

struct SyntheticRouterConfig {
  uint32_t layers = 32;
  uint32_t experts = 8;
  uint32_t topK = 2;
  uint64_t seed = 1;
  // The routing's structure (which experts are hot, the co-activation groups) comes from this seed
  // when nonzero, else from `seed`: a profiling pass samples other tokens of the same model.
  uint64_t structureSeed = 0;
  double zipfExponent = 0.0;      // >= 0; 0 gives uniform routing
  uint32_t groups = 1;            // co-activation groups; experts % groups == 0, experts/groups >= topK
  double groupProbability = 0.0;  // in [0, 1]
  double layerCorrelation = 0.0;  // in [0, 1]
  double tokenCorrelation = 0.0;  // in [0, 1]
  uint64_t driftEverySteps = 0;   // 0 = no drift by steps
  uint64_t driftEveryTokens = 0;  // 0 = no drift by tokens; at most one of the two drift knobs
  uint32_t driftShift = 1;        // ranks rotated per drift epoch
  // Group-limited routing: n_group groups of contiguous expert ids, at most topk_group of them per
  // token and layer. 0 = off (then limitTopkGroups must be 0 too); else experts % limitGroups == 0,
  // 1 <= limitTopkGroups <= limitGroups, limitTopkGroups * (experts / limitGroups) >= topK.
  uint32_t limitGroups = 0;
  uint32_t limitTopkGroups = 0;
};

class SyntheticRouter final : public ExpertRouter {
 public:
  // Throws Error{InvalidConfig} naming the offending knob.
  explicit SyntheticRouter(const SyntheticRouterConfig& config);

  void route(uint32_t layer, std::span<const TokenRef> tokens, std::span<ExpertId> out) override;
  void requestFinished(uint64_t request) override { history_.erase(request); }

  uint32_t layers() const override { return config_.layers; }
  uint32_t experts() const override { return config_.experts; }
  uint32_t topK() const override { return config_.topK; }

  const SyntheticRouterConfig& config() const { return config_; }
  // The expert currently at popularity rank `rank` of `layer` (rank 0 = hottest), after drift.
  ExpertId hotExpert(uint32_t layer, uint32_t rank) const;

 private:
  void drawFresh(uint32_t layer, ExpertId* out);
  ExpertId drawExpert(uint32_t layer);
  // Draws one expert among `candidates` (not in chosen[0..count)) by Zipf weight of its rank.
  ExpertId drawAmong(uint32_t layer, const std::vector<ExpertId>& candidates, const ExpertId* chosen,
                     uint32_t count);
  uint32_t rankOf(uint32_t layer, ExpertId expert) const;
  // Group-limited routing (limited_ only).
  void drawFreshLimited(uint32_t layer, ExpertId* out);
  void chooseLimitGroups(uint32_t layer);                          // fills allowed_ by Zipf group weight
  void restrictToLimit(uint32_t layer, ExpertId* choice);          // keeps/redraws a choice set inside the limit
  ExpertId drawAllowed(uint32_t layer, const ExpertId* chosen, uint32_t count);  // Zipf, inside allowed_
  bool allowed(ExpertId e) const { return allowed_[e / limitSize_] != 0; }
  const std::vector<double>& limitWeights(uint32_t layer);         // [group] -> sum of current Zipf weights

  SyntheticRouterConfig config_;
  RandomStream random_;
  std::vector<double> weight_;                 // Zipf weight by rank
  std::vector<double> cumulative_;             // prefix sums of weight_
  std::vector<std::vector<ExpertId>> hot_;     // [layer][rank] -> expert, before drift
  std::vector<std::vector<uint32_t>> rankOf_;  // [layer][expert] -> rank, before drift
  std::vector<std::vector<uint32_t>> groupOf_; // [layer][expert] -> group
  std::vector<std::vector<std::vector<ExpertId>>> members_;  // [layer][group] -> experts
  std::vector<std::vector<ExpertId>> layerMap_;              // [layer][expert at l-1] -> expert at l
  std::vector<ExpertId> all_;                  // 0..experts-1
  bool limited_ = false;                       // limitGroups > 0 and limitTopkGroups < limitGroups
  uint32_t limitSize_ = 1;                     // experts per limit group
  std::vector<std::vector<double>> limitWeight_;  // [layer][group], valid for limitWeightOffset_[layer]
  std::vector<uint32_t> limitWeightOffset_;    // drift offset limitWeight_[layer] was computed at
  std::vector<uint8_t> allowed_;               // [group] -> chosen for the current token
  std::vector<uint32_t> groupCount_;           // [group] -> choices in it (restrictToLimit scratch)
  std::vector<ExpertId> candidates_;           // scratch: the allowed experts (drawAllowed fallback)
  std::vector<ExpertId> coGroup_;              // scratch: co-activation group inside the allowed groups
  std::vector<uint32_t> spanned_;              // scratch: groups a choice set spans
  std::vector<std::pair<double, uint32_t>> keyed_;  // scratch: spanned groups keyed by count + tie-break

  uint64_t steps_ = 0;          // layer-0 calls so far
  uint64_t layer0Tokens_ = 0;   // tokens routed at layer 0 so far
  uint32_t offset_ = 0;         // current drift rotation
  int64_t previousLayer_ = -1;  // layer of the previous call
  std::vector<ExpertId> previous_;  // choices of the previous call
  std::unordered_map<uint64_t, std::vector<ExpertId>> history_;  // request -> [layer][k], kNone if unset
};

}  // namespace wafersim::workload
