// The cross-field errors of a moe_serving / moe_training scenario name the scenario line of the
// field they blame ("s.yaml:9: params.training.micro_batches: ..."), like the errors found while
// resolving a single parameter.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"
#include "sim/params.h"
#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::build;

// The one-layer model of serving_test.cc, a key a line, then `extra` (lines 20 on).
std::string scenario(const std::string& model, const std::string& extra) {
  return "model: " + model +
         "\n"                                          // 1
         "params:\n"                                   // 2
         "  hardware:\n"                               // 3
         "    system: gpu-box\n"                       // 4
         "    x: 2\n"                                  // 5
         "  model:\n"                                  // 6
         "    name: one-layer\n"                       // 7
         "    layers: 1\n"                             // 8
         "    hidden_size: 1024\n"                     // 9
         "    vocab_size: 4096\n"                      // 10
         "    heads: 8\n"                              // 11
         "    kv_heads: 2\n"                           // 12
         "    head_dim: 128\n"                         // 13
         "    experts: 2\n"                            // 14
         "    top_k: 2\n"                              // 15
         "    expert_intermediate_size: 2048\n"        // 16
         "  workload:\n"                               // 17
         "    kind: closed\n"                          // 18
         "    count: 1\n" +                            // 19
         extra;
}

std::string error(const std::string& text) {
  try {
    build(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ServingErrors, ParamsWhereNamesTheOriginTheLineAndTheKey) {
  Params given{{"a.b", "1"}, {"c", "2"}};
  given.setLine("a.b", 9);
  const Params resolved =
      resolveParams(given, {{"a.b", ParamType::Integer, {}, "", {}, {}}, {"c", ParamType::Integer, {}, "", {}, {}},
                            {"d", ParamType::Integer, "3", "", {}, {}}},
                    "s.yaml: params");
  EXPECT_EQ(resolved.where("a.b"), "s.yaml:9: params.a.b");
  EXPECT_EQ(resolved.where("c"), "s.yaml: params.c");  // given without a line
  EXPECT_EQ(resolved.where("d"), "s.yaml: params.d");  // a default
  EXPECT_EQ(given.where("a.b"), "a.b");                // no origin: the key alone
}

TEST(ServingErrors, TheTrainingSplitNamesTheMicroBatchesLine) {
  EXPECT_THAT(error(scenario("moe_training", "  training:\n"             // 20
                                             "    steps: 1\n"            // 21
                                             "    sequences: 32\n"       // 22
                                             "    micro_batches: 5\n")),  // 23
              StartsWith("s.yaml:23: params.training.micro_batches: 32 sequences do not split into 5 equal "
                         "micro-batches (training.sequences, training.micro_batches)"));
}

TEST(ServingErrors, TheKvCacheCheckNamesTheWorkloadLine) {
  EXPECT_THAT(error(scenario("moe_serving", "    prompt_tokens: 100000000\n"  // 20
                                            "    output_tokens: 1\n")),       // 21
              StartsWith("s.yaml:20: params.workload.prompt_tokens: the longest request (100000000 prompt + 1 "
                         "output tokens) needs more KV cache than any die holds"));
  EXPECT_THAT(error(scenario("moe_serving", "    prompt_tokens: 1\n"            // 20
                                            "    output_tokens: 100000000\n")),  // 21
              StartsWith("s.yaml:21: params.workload.output_tokens: the longest request"));
}

TEST(ServingErrors, AModelThatDoesNotFitNamesThePresetLine) {
  // The placement finds no room for the experts beside the other weights.
  EXPECT_THAT(error("model: moe_serving\n"
                    "params:\n"
                    "  hardware: {system: gpu-box, x: 2}\n"  // 3
                    "  model:\n"                             // 4
                    "    preset: deepseek-v3\n"),            // 5
              StartsWith("s.yaml:5: params.model.preset: placement policy ep: the model does not fit die 0"));
  // The experts fit, the spare room asked for beside them does not.
  EXPECT_THAT(error(scenario("moe_serving", "  mapping:\n"                    // 20
                                            "    spare_experts: 1000000\n")),  // 21
              StartsWith("s.yaml:21: params.mapping.spare_experts: model one-layer does not fit die 0"));
}

TEST(ServingErrors, MappingAndPolicyErrorsNameTheirLines) {
  EXPECT_THAT(error(scenario("moe_serving", "  mapping:\n"               // 20
                                            "    online_policy: eplb\n"  // 21
                                            "    replay: x.json\n")),    // 22
              StartsWith("s.yaml:22: params.mapping.replay: replays a recorded log instead of "
                         "mapping.online_policy; give one of them"));
  EXPECT_THAT(error(scenario("moe_serving", "  mapping:\n"         // 20
                                            "    policy: ep\n"     // 21
                                            "  policy:\n"          // 22
                                            "    redundant: 2\n")),  // 23
              StartsWith("s.yaml:23: params.policy.redundant: not a parameter of mapping.policy ep (it takes: "));
  EXPECT_THAT(error(scenario("moe_serving", "  mapping:\n"          // 20
                                            "    policy: psychic\n")),  // 21
              StartsWith("s.yaml:21: params.mapping.policy: unknown placement policy \"psychic\""));
  EXPECT_THAT(error(scenario("moe_serving", "  mapping:\n"        // 20
                                            "    split: random\n")),  // 21
              StartsWith("s.yaml:21: params.mapping.split: unknown split \"random\""));
  EXPECT_THAT(error(scenario("moe_serving", "  mapping:\n"              // 20
                                            "    online_policy: nope\n")),  // 21
              StartsWith("s.yaml:21: params.mapping.online_policy: unknown placement policy"));
}

TEST(ServingErrors, HardwareAndServingErrorsNameTheirLines) {
  EXPECT_THAT(error("model: moe_serving\n"
                    "params:\n"
                    "  hardware:\n"                      // 3
                    "    system: gpu-box\n"              // 4
                    "    x: 2\n"                         // 5
                    "    failed_dies: \"0, 1\"\n"        // 6
                    "  model: {preset: olmoe-1b-7b}\n"),  // 7
              StartsWith("s.yaml:6: params.hardware.failed_dies: every die failed"));
  EXPECT_THAT(error(scenario("moe_serving", "  serving:\n"              // 20
                                            "    compute_type: fp4\n")),  // 21
              StartsWith("s.yaml:21: params.serving.compute_type: unknown type \"fp4\""));
}

TEST(ServingErrors, WithoutALineTheErrorStillNamesTheFileAndTheField) {
  // Given on the command line (an override): no line, the file and the field all the same.
  try {
    build(scenario("moe_training", ""), {"params.training.sequences=3", "params.training.micro_batches=2"});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()),
                StartsWith("s.yaml: params.training.micro_batches: 3 sequences do not split into 2 equal"));
  }
}

}  // namespace
}  // namespace wafersim
