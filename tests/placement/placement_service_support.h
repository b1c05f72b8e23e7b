// Problems and comparisons shared by the placement service's tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "placement/policy.h"
#include "placement/problem.h"
#include "protocol/placement_messages.h"
#include "sim/random.h"

namespace wafersim::placement::testing {

// A gridX x gridY mesh running `layers` MoE layers of `experts` experts, top-k routing recorded
// from a seeded skewed distribution (pairs and the cross-token heatmap on when asked), and the EP
// placement in force.
inline Problem meshProblem(uint32_t gridX, uint32_t gridY, uint32_t layers, uint32_t experts, bool heatmaps,
                           uint64_t tokens = 512, uint32_t topK = 8) {
  Problem p;
  const uint32_t dies = gridX * gridY;
  p.fabric = Fabric::mesh(gridX, gridY, 2e14, 1e12, 2e11, uint64_t{64} << 30);
  p.model.layers = layers;
  p.model.experts = experts;
  p.model.topK = std::min(topK, experts);
  p.model.hidden = 7168;
  p.model.intermediate = 2048;
  p.model.expertBytes = 3ull * 7168 * 2048;
  p.model.activationBytes = 2;
  p.profile = LoadProfile(layers, experts, dies, heatmaps, heatmaps);
  RandomStream rng(7, 1);
  const uint32_t k = p.model.topK;
  std::vector<uint64_t> request(tokens);
  std::vector<uint32_t> position(tokens), die(tokens), choices(tokens * k);
  for (uint32_t l = 0; l < layers; ++l) {
    for (uint64_t t = 0; t < tokens; ++t) {
      request[t] = t % 16;
      position[t] = static_cast<uint32_t>(t / 16);
      die[t] = static_cast<uint32_t>(t % dies);
      for (uint32_t j = 0; j < k; ++j) {
        // Skewed: low expert ids are hot; distinct choices per token.
        uint32_t e;
        bool fresh;
        do {
          const double u = rng.uniform();
          e = static_cast<uint32_t>(u * u * experts);
          fresh = true;
          for (uint32_t i = 0; i < j; ++i) fresh = fresh && choices[t * k + i] != e;
        } while (!fresh);
        choices[t * k + j] = e;
      }
    }
    p.profile.record(l, request, position, die, choices, k);
  }
  p.seed = 42;
  p.attentionSeconds = 1.5e-4;
  p.tokensPerStep = tokens;
  p.current = expertParallel(p);
  return p;
}

// DeepSeek-V3's MoE shape on an 8 x 8 mesh: 58 MoE layers of 256 routed experts, top-8.
inline Problem deepSeekProblem(bool heatmaps = false) { return meshProblem(8, 8, 58, 256, heatmaps, 256, 8); }

inline void expectSameFabric(const Fabric& a, const Fabric& b) {
  EXPECT_EQ(a.dies, b.dies);
  EXPECT_EQ(a.unusable, b.unusable);
  EXPECT_EQ(a.hops, b.hops);
  EXPECT_EQ(a.linkBandwidth, b.linkBandwidth);
  EXPECT_EQ(a.paths, b.paths);
  EXPECT_EQ(a.expertFlops, b.expertFlops);
  EXPECT_EQ(a.memoryBandwidth, b.memoryBandwidth);
  EXPECT_EQ(a.expertCapacityBytes, b.expertCapacityBytes);
  EXPECT_EQ(a.gridX, b.gridX);
  EXPECT_EQ(a.gridY, b.gridY);
  EXPECT_EQ(a.groupOf, b.groupOf);
}

inline void expectSameProblem(const Problem& a, const Problem& b) {
  expectSameFabric(a.fabric, b.fabric);
  EXPECT_EQ(a.model.layers, b.model.layers);
  EXPECT_EQ(a.model.experts, b.model.experts);
  EXPECT_EQ(a.model.topK, b.model.topK);
  EXPECT_EQ(a.model.hidden, b.model.hidden);
  EXPECT_EQ(a.model.intermediate, b.model.intermediate);
  EXPECT_EQ(a.model.gated, b.model.gated);
  EXPECT_EQ(a.model.expertBytes, b.model.expertBytes);
  EXPECT_EQ(a.model.activationBytes, b.model.activationBytes);
  EXPECT_TRUE(a.profile.sameCounts(b.profile));
  EXPECT_EQ(a.current, b.current);
  EXPECT_EQ(a.options.values(), b.options.values());
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.attentionSeconds, b.attentionSeconds);
  EXPECT_EQ(a.tokensPerStep, b.tokensPerStep);
}

inline void expectSameReply(const proto::PlacementReplyMessage& a, const proto::PlacementReplyMessage& b) {
  EXPECT_EQ(a.runId, b.runId);
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.decision.placement, b.decision.placement);
  EXPECT_EQ(a.decision.reason, b.decision.reason);
  EXPECT_EQ(a.decision.predictedGain, b.decision.predictedGain);
  EXPECT_EQ(a.decision.optimalityGap, b.decision.optimalityGap);
  EXPECT_EQ(a.decisionMicros, b.decisionMicros);
}

// The policy called here, in this process, on the problem with its options resolved.
inline Decision decideInProcess(const std::string& policy, Problem problem, const Params& options = {}) {
  const PolicyType& type = policyType(policy, "test");
  problem.options = resolveParams(options, type.params, "test");
  return type.make()->decide(problem);
}

}  // namespace wafersim::placement::testing
