// Statistics of expert routing, to compare a synthetic router with a real trace
// (research/seeds.md 3.2): per-layer expert load and skew (Ob4), co-activated pairs (Ob5),
// layer-to-layer transition concentration (Ob1) and token-to-token repeats (Ob2).
//
// Feed it the results of route() calls in the router's call order (routing.h): record(layer, tokens,
// choices). Definitions, per MoE layer:
//  - load[e]: tokens that chose e. maxOverMean = max load / mean load; cv = stddev / mean.
//  - pairs: for each token, each unordered pair of its k choices counts once. topPairRatio = the
//    most frequent pair's count / the uniform expectation tokens * C(k,2) / C(E,2);
//    topPairShare(f) = the share of all pair counts held by the top ceil(f * C(E,2)) pairs.
//  - transitions (layer >= 1): when the previous record() was layer l-1 with the same number of
//    tokens, each (choice at l-1, choice at l) of a token counts once. transitionCoverage(f) = for
//    each previous expert, the share of its next-layer choices that its top ceil(f * E) next
//    experts take, averaged weighted by count (seeds.md Ob1: "top-20 % next-layer candidates
//    cover X % of conditional probability"). Uniform routing gives about ceil(f E) / E.
//  - repeatRate: over consecutive tokens of the same request at the layer, the mean share of the
//    k choices that the previous token also chose. Uniform routing gives about k / E.
// Memory: O(layers x experts^2) for pairs and transitions (turn either off for large models) plus
// layers x k ids per request still open (requestFinished drops them).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/workload/routing.h"

namespace wafersim::workload {

class RoutingTrace;

struct RoutingStatsOptions {
  bool pairs = true;
  bool transitions = true;
};

class RoutingStats {
 public:
  RoutingStats(uint32_t layers, uint32_t experts, uint32_t topK, const RoutingStatsOptions& options = {});

  void record(uint32_t layer, std::span<const TokenRef> tokens, std::span<const ExpertId> choices);
  void requestFinished(uint64_t request) { history_.erase(request); }

  uint32_t layers() const { return layers_; }
  uint32_t experts() const { return experts_; }
  uint32_t topK() const { return topK_; }

  uint64_t tokens(uint32_t layer) const;
  uint64_t load(uint32_t layer, ExpertId expert) const;
  double maxOverMean(uint32_t layer) const;
  double coefficientOfVariation(uint32_t layer) const;
  uint64_t pairCount(uint32_t layer, ExpertId a, ExpertId b) const;
  double topPairRatio(uint32_t layer) const;
  double topPairShare(uint32_t layer, double fraction = 0.1) const;
  double transitionCoverage(uint32_t layer, double fraction = 0.2) const;  // 0 for layer 0 / no data
  double transitionCoverageBaseline(double fraction = 0.2) const;
  double repeatRate(uint32_t layer) const;
  double repeatRateBaseline() const { return static_cast<double>(topK_) / experts_; }

  // Layer means (layers with data) of the per-layer statistics above.
  double meanMaxOverMean() const;
  double meanTransitionCoverage(double fraction = 0.2) const;  // over layers 1..
  double meanRepeatRate() const;
  double meanTopPairRatio() const;

  // {"layers", "experts", "top_k", "summary": {...}, "per_layer": [{"layer", "tokens", "load",
  // "max_over_mean", "cv", "top_pair_ratio", "top10pct_pair_share", "top_pairs": [[a, b, count]...],
  // "transition_top20_coverage", "token_repeat_rate"}, ...]}
  nlohmann::json toJson() const;

 private:
  size_t pairIndex(ExpertId a, ExpertId b) const;  // a < b

  uint32_t layers_, experts_, topK_;
  RoutingStatsOptions options_;
  std::vector<uint64_t> tokens_;                // [layer]
  std::vector<std::vector<uint64_t>> load_;     // [layer][expert]
  std::vector<std::vector<uint32_t>> pairs_;    // [layer][upper-triangle pair]
  std::vector<std::vector<uint32_t>> transitions_;  // [layer][prev * E + next]
  std::vector<uint64_t> repeatCompared_;        // [layer] tokens compared with their predecessor
  std::vector<uint64_t> repeatShared_;          // [layer] choices shared with the predecessor
  int64_t previousLayer_ = -1;
  std::vector<ExpertId> previous_;
  std::unordered_map<uint64_t, std::vector<ExpertId>> history_;  // request -> [layer][k]
};

// Statistics of a whole trace read in file order as one request (positions 0.., prefill tokens
// flagged), every layer in lockstep. Uses fresh cursors; the trace is left as it was.
RoutingStats measureTrace(RoutingTrace& trace, const RoutingStatsOptions& options = {});

// Statistics of `tokens` tokens of one request routed in chunks of `chunk` tokens (each chunk
// through every layer in order), for a like-for-like comparison with measureTrace.
RoutingStats measureSequence(ExpertRouter& router, uint64_t tokens, uint32_t chunk = 256,
                             const RoutingStatsOptions& options = {});

}  // namespace wafersim::workload
