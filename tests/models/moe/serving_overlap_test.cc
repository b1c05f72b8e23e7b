// serving.overlap: two_batch splits every step's batch into two micro-batches whose layers
// interleave on the dies (DeepSeek's two-batch overlap, A3D-MoE's fusion), so one micro-batch's
// attention runs while the other's tokens are on the network. none is the plain schedule, bit for
// bit; two_batch is deterministic over partitions and refused for training.
#include <cstdio>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"
#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

using testing::build;
using testing::Built;
using testing::component;
using testing::run;

// serving_test.cc's one-layer model on two GPUs (expert e on GPU e, top-2 of 2: every token
// visits both GPUs), four 256-token prompts at once (two per GPU), over slow 10 GB/s links, so
// dispatch and combine cost about as much as the compute.
const char* kSlowLinks = R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 2, mode: store_and_forward, link_bandwidth: 10 GB/s}
  model: {name: one-layer, layers: 1, hidden_size: 1024, vocab_size: 4096, heads: 8, kv_heads: 2, head_dim: 128,
          experts: 2, top_k: 2, expert_intermediate_size: 2048}
  workload: {kind: closed, concurrency: 4, count: 4, prompt_tokens: 256, output_tokens: 1}
  serving: {command_latency: 1 us}
simulation: {partitions: 1}
)";

// Mixtral (two layers) on a 2x2 wafer, several requests decoding a few tokens.
const char* kWafer = R"(
model: moe_serving
params:
  hardware: {system: dojo, x: 2, y: 2}
  model: {preset: mixtral-8x7b, layers: 2}
  workload: {kind: closed, concurrency: 6, count: 6, prompt_tokens: 64, output_tokens: 3}
simulation: {partitions: 1}
)";

TEST(ServingOverlap, NoneIsThePlainScheduleBitForBit) {
  for (const char* text : {kSlowLinks, kWafer}) {
    const Results plain = run(build(text), 1);
    const Results none = run(build(text, {"params.serving.overlap=none"}), 1);
    EXPECT_EQ(none.digestHex(), plain.digestHex());
  }
}

TEST(ServingOverlap, TwoBatchHidesTheExchangeBehindTheOtherMicroBatch) {
  const Built none = build(kSlowLinks), two = build(kSlowLinks, {"params.serving.overlap=two_batch"});
  const Results a = run(none, 1), b = run(two, 1);
  const auto& hostA = component(a, "host");
  const auto& hostB = component(b, "host");
  EXPECT_EQ(hostA.counters.at("steps"), 1u);
  EXPECT_EQ(hostB.counters.at("steps"), 1u);
  EXPECT_EQ(hostB.counters.at("requests_finished"), 4u);
  EXPECT_EQ(hostB.counters.at("prefill_tokens"), 4u * 256);
  // The same tokens cross the network, in twice as many messages.
  for (const char* gpu : {"gpu[0]", "gpu[1]"}) {
    EXPECT_EQ(component(b, gpu).counters.at("dispatch_bytes"), component(a, gpu).counters.at("dispatch_bytes")) << gpu;
    EXPECT_EQ(component(b, gpu).counters.at("combine_bytes"), component(a, gpu).counters.at("combine_bytes")) << gpu;
  }
  const uint64_t stepNone = hostA.histograms.at("step_ps").max, stepTwo = hostB.histograms.at("step_ps").max;
  EXPECT_LT(stepTwo, stepNone);
  std::printf("one-layer step, 2 GPUs at 10 GB/s: none %.3f us, two_batch %.3f us (%.1f %% shorter)\n",
              static_cast<double>(stepNone) / 1e6, static_cast<double>(stepTwo) / 1e6,
              100.0 * (1.0 - static_cast<double>(stepTwo) / static_cast<double>(stepNone)));
  for (uint32_t parts : {2u, 3u}) EXPECT_EQ(run(two, parts).digestHex(), b.digestHex()) << parts;
  // Cut-through links: no gain from pipelining half-size messages over the two hops, only the
  // overlap of one micro-batch's exchange with the other's compute.
  const std::string cut = "params.hardware.mode=cut_through";
  const uint64_t cutNone = component(run(build(kSlowLinks, {cut}), 1), "host").histograms.at("step_ps").max;
  const uint64_t cutTwo =
      component(run(build(kSlowLinks, {cut, "params.serving.overlap=two_batch"}), 1), "host").histograms.at("step_ps").max;
  EXPECT_LT(cutTwo, cutNone);
  std::printf("cut-through: none %.3f us, two_batch %.3f us (%.1f %% shorter)\n", static_cast<double>(cutNone) / 1e6,
              static_cast<double>(cutTwo) / 1e6,
              100.0 * (1.0 - static_cast<double>(cutTwo) / static_cast<double>(cutNone)));
}

TEST(ServingOverlap, TwoBatchOnAWaferIsDeterministicAndServesEveryRequest) {
  const Built two = build(kWafer, {"params.serving.overlap=two_batch"});
  const Results b = run(two, 1);
  const Results a = run(build(kWafer), 1);
  EXPECT_EQ(component(b, "host").counters.at("requests_finished"), 6u);
  EXPECT_EQ(component(b, "host").counters.at("output_tokens"), component(a, "host").counters.at("output_tokens"));
  EXPECT_EQ(component(b, "host").counters.at("prefill_tokens"), component(a, "host").counters.at("prefill_tokens"));
  for (uint32_t parts : {2u, 3u}) EXPECT_EQ(run(two, parts).digestHex(), b.digestHex()) << parts;
}

TEST(ServingOverlap, TrainingAndUnknownPoliciesAreRefusedNamingTheField) {
  auto error = [](const std::string& text, const std::vector<std::string>& overrides) {
    try {
      build(text, overrides);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string training = kSlowLinks;
  training.replace(training.find("model: moe_serving"), 18, "model: moe_training");
  using ::testing::AllOf;
  using ::testing::HasSubstr;
  EXPECT_THAT(error(training, {"params.training.steps=1", "params.training.sequences=2",
                               "params.training.sequence_length=16", "params.training.micro_batches=1",
                               "params.serving.overlap=two_batch"}),
              AllOf(HasSubstr("serving.overlap"), HasSubstr("training")));
  EXPECT_THAT(error(kSlowLinks, {"params.serving.overlap=three_batch"}),
              AllOf(HasSubstr("serving.overlap"), HasSubstr("three_batch")));
}

}  // namespace
}  // namespace wafersim
