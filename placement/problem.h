// What a placement policy decides from: the system (Fabric), the model's expert shapes
// (ExpertShape), the routing statistics of an epoch or a profiling pass (LoadProfile), and the
// placement in force. Everything here is plain data with a deterministic construction, so a policy
// given the same Problem decides the same thing in every process (ARCHITECTURE.md contract 2).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "placement/placement.h"
#include "sim/params.h"

namespace wafersim::placement {

// The hardware as placement sees it: dies, their compute and memory, and the network between them.
struct Fabric {
  uint32_t dies = 0;
  std::vector<bool> unusable;        // per die: failed (holds nothing, sends nothing)
  std::vector<uint32_t> hops;        // dies x dies: routers on the path (0 on the diagonal)
  std::vector<double> linkBandwidth;            // per directed link, bytes/s
  std::vector<std::vector<uint32_t>> paths;     // [source * dies + destination]: directed link ids
  std::vector<double> expertFlops;              // per die: FLOP/s of the engine running experts
  std::vector<double> memoryBandwidth;          // per die: bytes/s of its DRAM
  std::vector<uint64_t> expertCapacityBytes;    // per die: room for routed experts' weights
  uint32_t gridX = 0, gridY = 0;                // a mesh of gridX x gridY dies (die = y * gridX + x), else 0
  std::vector<uint32_t> groupOf;                // per die: its chiplet group (NoP-tree leaf, reticle), or empty

  bool usable(uint32_t die) const { return unusable.empty() || !unusable[die]; }
  std::vector<uint32_t> usableDies() const;
  uint32_t hop(uint32_t a, uint32_t b) const { return hops.empty() ? (a == b ? 0 : 1) : hops[size_t{a} * dies + b]; }
  // A fully connected fabric of `dies` equal dies (tests, the analytic default).
  static Fabric uniform(uint32_t dies, double flops, double memoryBandwidth, double linkBandwidth,
                        uint64_t expertCapacityBytes);
  // A gridX x gridY mesh with XY routing and one link per neighbour pair and direction.
  static Fabric mesh(uint32_t gridX, uint32_t gridY, double flops, double memoryBandwidth, double linkBandwidth,
                     uint64_t expertCapacityBytes);
};

struct ExpertShape {
  uint32_t layers = 0;   // MoE layers
  uint32_t experts = 0;  // routed experts per layer
  uint32_t topK = 0;
  uint64_t hidden = 0, intermediate = 0;
  bool gated = true;
  uint64_t expertBytes = 0;      // one routed expert's weights
  uint32_t activationBytes = 2;  // per hidden element on the wire
  double flopsPerToken() const { return 2.0 * double(hidden) * double(intermediate) * (gated ? 3.0 : 2.0); }
};

// Routing statistics, accumulated token by token in a deterministic order.
//   load[l][e]       tokens that chose expert e at MoE layer l
//   pairs[l][a][b]   tokens that chose both a and b (a != b, stored both ways) when pairs are on
//   next[l][a][b]    a request's token chose a and its next token chose b (cross-token heatmap)
//   sourceTokens[d]  tokens computed on die d (summed over layers: once per token per layer)
class LoadProfile {
 public:
  LoadProfile() = default;
  LoadProfile(uint32_t layers, uint32_t experts, uint32_t dies, bool pairs, bool next);

  // One MoE layer of one step: tokens[i] on die tokenDie[i] chose choices[i*k .. (i+1)*k).
  // `request` and `position` identify tokens for the cross-token heatmap.
  void record(uint32_t layer, std::span<const uint64_t> request, std::span<const uint32_t> position,
              std::span<const uint32_t> tokenDie, std::span<const uint32_t> choices, uint32_t topK);
  void clear();  // keeps the shape
  // Scales every count by `keep` (rounding down): with the next epoch's counts added, an
  // exponential moving average in integers (keep = 0: clear()).
  void decay(double keep);

  uint32_t layers() const { return layers_; }
  uint32_t experts() const { return experts_; }
  uint32_t dies() const { return dies_; }
  uint64_t tokens(uint32_t layer) const { return tokens_[layer]; }
  uint64_t load(uint32_t layer, uint32_t expert) const { return load_[size_t{layer} * experts_ + expert]; }
  bool hasPairs() const { return !pairs_.empty(); }
  bool hasNext() const { return !next_.empty(); }
  uint32_t pair(uint32_t layer, uint32_t a, uint32_t b) const;
  uint32_t next(uint32_t layer, uint32_t a, uint32_t b) const;
  uint64_t sourceTokens(uint32_t die) const { return source_[die]; }
  uint64_t totalTokens() const;  // over layers
  // Shares of the tokens computed on each die (uniform over `usable` dies when nothing recorded).
  std::vector<double> sourceShares(const std::vector<bool>& unusable) const;

  // The counts as they are (serialisation: protocol/placement_convert.h). Dense and row-major:
  // tokenCounts per layer, loadCounts layers x experts, sourceCounts per die, pairCounts and
  // nextCounts layers x experts x experts, or empty when that statistic is off.
  const std::vector<uint64_t>& tokenCounts() const { return tokens_; }
  const std::vector<uint64_t>& loadCounts() const { return load_; }
  const std::vector<uint64_t>& sourceCounts() const { return source_; }
  const std::vector<uint32_t>& pairCounts() const { return pairs_; }
  const std::vector<uint32_t>& nextCounts() const { return next_; }
  // A profile holding these counts (the inverse of the accessors above), with a fresh cross-token
  // memory: recording more tokens after it starts no request's sequence. Throws
  // Error{InvalidConfig} when a vector's size does not match the shape.
  static LoadProfile fromCounts(uint32_t layers, uint32_t experts, uint32_t dies, std::vector<uint64_t> tokens,
                                std::vector<uint64_t> load, std::vector<uint64_t> sourceTokens,
                                std::vector<uint32_t> pairs, std::vector<uint32_t> next);
  // Same shape and counts (the cross-token memory is not compared).
  bool sameCounts(const LoadProfile& other) const;

 private:
  uint32_t layers_ = 0, experts_ = 0, dies_ = 0;
  std::vector<uint64_t> tokens_, load_, source_;
  std::vector<uint32_t> pairs_, next_;
  // Cross-token state: per layer, the previous token's request, position and choices.
  struct Last {
    uint64_t request = UINT64_MAX;
    uint32_t position = 0;
    std::vector<uint32_t> choices;
  };
  std::vector<std::vector<Last>> last_;  // [layer][request mod kSlots]
};

struct Problem {
  Fabric fabric;
  ExpertShape model;
  LoadProfile profile;
  Placement current;    // in force (for an offline decision: the default expert parallelism)
  Params options;       // the policy's own parameters, resolved (Policy::params())
  uint64_t seed = 1;
  double attentionSeconds = 0;  // time of one layer's attention per step (DynamicPlacement's budget)
  uint64_t tokensPerStep = 0;   // mean tokens of a step in the profile (for per-step estimates)
};

}  // namespace wafersim::placement
