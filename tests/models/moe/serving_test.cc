// The MoE serving engine (models/moe): a single request through a single MoE layer whose latency
// is composed by hand here from the operator and link models, determinism over partitions, and
// the validation errors of a serving scenario.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/hardware/presets.h"
#include "models/model_catalog.h"
#include "models/moe/serving_plan.h"
#include "models/moe/serving_summary.h"
#include "sim/error.h"
#include "sim/simulation.h"
#include "tests/models/moe/serving_test_support.h"

namespace wafersim {
namespace {

// Two H100-class GPUs on an NVSwitch (450 GB/s, 400 ns per link), store-and-forward. A custom
// one-layer model: GQA 8 heads / 2 KV heads of 128, hidden 1024, two experts, top-2, so every
// token goes to both experts (expert e on GPU e): the routing is known without drawing it.
const char* kOneLayer = R"(
model: moe_serving
params:
  hardware: {system: gpu-box, x: 2, mode: store_and_forward}
  model:
    name: one-layer
    layers: 1
    hidden_size: 1024
    vocab_size: 4096
    heads: 8
    kv_heads: 2
    head_dim: 128
    experts: 2
    top_k: 2
    expert_intermediate_size: 2048
  workload: {kind: closed, concurrency: 1, count: 1, prompt_tokens: 64, output_tokens: 1}
  serving: {command_latency: 1 us}
simulation: {partitions: 1}
)";

using testing::build;
using testing::Built;
using testing::component;
using testing::run;

TEST(Serving, OneRequestThroughOneLayerTakesTheHandComputedTime) {
  const Built r = build(kOneLayer);
  const Results res = run(r, 1);
  const hw::DieSpec gpu = hw::h100DieSpec();
  const hw::ComputeDieSpec& die = gpu.engines[0].compute;
  const hw::Bandwidth hbm = gpu.engines[0].dramBandwidth;
  auto gemm = [&](uint64_t m, uint64_t n, uint64_t k) {
    return hw::gemmTime(die, hw::Gemm{m, n, k, hw::DataType::Bf16}, hbm).ps();
  };
  const uint64_t P = 64, h = 1024;
  // GPU 0 holds the request: QKV projection, attention over the 64-token prompt, output
  // projection, gate.
  const int64_t A = gemm(P, (8 + 2 * 2) * 128, h) +
                    hw::attentionTime(die, hw::Attention::prefill(1, 8, 2, 128, P, hw::DataType::Bf16), hbm).ps() +
                    gemm(P, h, 8 * 128) + gemm(P, 2, h);
  const int64_t F = gemm(P, 2 * 2048, h) + gemm(P, h, 2048);  // one expert's gated FFN, M = 64
  // Dispatch to GPU 1 and combine back: S = 64 x 1024 x 2 bytes over two links each way.
  const int64_t hop = hw::parseBandwidth("450 GB/s").transferTime(hw::Bytes{P * h * 2}).ps() + 400'000;
  const int64_t lmHead = gemm(1, 4096, h);
  const int64_t reaction = hw::parseBandwidth("450 GB/s").transferTime(hw::Bytes{1}).ps();  // 3 ps
  const int64_t C = 1'000'000;
  // Start command (C); GPU 0: A, send, its own expert (F); GPU 1 waits for the dispatch (2 hops),
  // runs F, combines (2 hops); GPU 0 then runs the LM head and reports (its reaction, C).
  const int64_t expected = C + A + 2 * hop + F + 2 * hop + lmHead + reaction + C;
  const auto& host = component(res, "host");
  EXPECT_EQ(host.histograms.at("ttft_ps").min, expected);
  EXPECT_EQ(host.histograms.at("e2e_ps").max, expected);
  EXPECT_EQ(host.counters.at("requests_finished"), 1u);
  EXPECT_EQ(host.counters.at("prefill_tokens"), P);
  EXPECT_EQ(host.counters.at("steps"), 1u);
  EXPECT_EQ(component(res, "gpu[0]").counters.at("dispatch_bytes"), P * h * 2);
  EXPECT_EQ(component(res, "gpu[1]").counters.at("combine_bytes"), P * h * 2);
  // Top-2 of 2 experts: a perfectly balanced load, in the summary's routing statistics.
  const auto summary = moe::servingSummary(res);
  ASSERT_TRUE(summary);
  EXPECT_EQ((*summary)["routing"]["expert_load_max_over_mean"].get<double>(), 1.0);
  EXPECT_EQ((*summary)["routing"]["expert_load_cv"].get<double>(), 0.0);
  EXPECT_EQ((*summary)["output_tokens"].get<uint64_t>(), 1u);
  EXPECT_EQ((*summary)["dispatch_bytes"].get<uint64_t>(), P * h * 2);
  // The same on 2 and 3 partitions, both strategies.
  for (uint32_t parts : {2u, 3u}) EXPECT_EQ(run(r, parts).digestHex(), res.digestHex()) << parts;
  EXPECT_EQ(run(r, 2, SyncKind::NullMessage).digestHex(), res.digestHex());
}

TEST(Serving, TheTraceWindowRecordsEveryOpMessageAndStep) {
  const Built r = build(kOneLayer, {"params.serving.trace_end=1 s"});
  const Results res = run(r, 1);
  // GPU 0: QKV, attention, output projection, gate, the dispatch, its expert (2 GEMMs), LM head.
  const TableRecord& gpu0 = component(res, "gpu[0]").tables.at("trace");
  ASSERT_EQ(gpu0.rows(), 8u);
  EXPECT_EQ(gpu0.values[0], 1'000'000);  // the first op starts when the command arrives (1 us)
  EXPECT_EQ(gpu0.values[4 * 6 + 3], 2);  // the fifth row is the dispatch message...
  EXPECT_EQ(gpu0.values[4 * 6 + 4], 64 * 1024 * 2);  // ... of 64 tokens x 1024 x 2 B
  EXPECT_EQ(gpu0.values[4 * 6 + 5], 1);              // ... to GPU 1
  EXPECT_EQ(component(res, "gpu[1]").tables.at("trace").rows(), 3u);  // 2 GEMMs, the combine
  const TableRecord& host = component(res, "host").tables.at("trace");
  ASSERT_EQ(host.rows(), 1u);
  EXPECT_EQ(host.values[1] - host.values[0], component(res, "host").histograms.at("step_ps").max);
  // Outside the window nothing is recorded.
  const Results none = run(build(kOneLayer, {"params.serving.trace_start=1 s", "params.serving.trace_end=2 s"}), 1);
  EXPECT_EQ(component(none, "gpu[0]").tables.at("trace").rows(), 0u);
}

TEST(Serving, PreemptionWhenTheKvCacheRunsOut) {
  // 1 % of the memory left after Mixtral-8x7B's weights on a 4-die wafer: about 4,100 KV tokens
  // per die (131,072 B each), for 16 sequences of up to 1,200 tokens.
  const Built r = build(R"(
model: moe_serving
params:
  hardware: {system: dojo, x: 2, y: 2}
  model: {preset: mixtral-8x7b}
  workload: {kind: closed, concurrency: 16, count: 16, prompt_tokens: 1000, output_tokens: 200}
  serving: {kv_memory_fraction: 0.01}
simulation: {partitions: 1}
)");
  const Results res = run(r, 1);
  const auto& host = component(res, "host");
  EXPECT_EQ(host.counters.at("requests_finished"), 16u);
  EXPECT_EQ(host.counters.at("output_tokens"), 16u * 200);
  EXPECT_GT(host.counters.at("preemptions"), 0u);
}

TEST(Serving, AFailedDieServesNothing) {
  const Built r = build(R"(
model: moe_serving
params:
  hardware: {system: dojo, x: 2, y: 2, failed_dies: 1, routing: shortest_path}
  model: {preset: mixtral-8x7b, layers: 2}
  workload: {kind: closed, concurrency: 6, count: 6, prompt_tokens: 64, output_tokens: 3}
simulation: {partitions: 1}
)");
  const Results res = run(r, 1);
  EXPECT_EQ(component(res, "host").counters.at("requests_finished"), 6u);
  EXPECT_EQ(component(res, "endpoint[1,0]").counters.at("tokens"), 0u);
  EXPECT_EQ(component(res, "endpoint[1,0]").counters.at("bytes_received"), 0u);
  uint64_t tokens = 0;
  for (const char* die : {"endpoint[0,0]", "endpoint[0,1]", "endpoint[1,1]"})
    tokens += component(res, die).counters.at("tokens");
  EXPECT_EQ(tokens, component(res, "host").counters.at("prefill_tokens") + component(res, "host").counters.at("decode_tokens"));
}

TEST(Serving, DuplexPutsDecodeWorkOnTheLogicPim) {
  // Auto placement puts each attention and expert op on the engine where it alone is fastest:
  // decode work on the Logic-PIM (4x bandwidth), prefill on the xPU. It beats the xPU alone.
  auto run1 = [](const std::string& engine) {
    const Built r = build(R"(
model: moe_serving
params:
  hardware: {system: duplex-box, x: 2}
  model: {preset: mixtral-8x7b, layers: 4}
  workload: {kind: closed, concurrency: 16, count: 16, prompt_tokens: 128, output_tokens: 8}
simulation: {partitions: 1}
)",
                          {"params.serving.attention_engine=" + engine, "params.serving.expert_engine=" + engine});
    return run(r, 1);
  };
  const Results automatic = run1("auto"), xpu = run1("xpu");
  EXPECT_GT(component(automatic, "gpu[0]").counters.at("busy_ps_pim"), 0u);
  EXPECT_GT(component(automatic, "gpu[0]").counters.at("ops_xpu"), 0u);
  EXPECT_EQ(component(xpu, "gpu[0]").counters.at("busy_ps_pim"), 0u);
  EXPECT_LT(component(automatic, "host").counters.at("last_finish_ps"),
            component(xpu, "host").counters.at("last_finish_ps"));
}

TEST(Serving, DuplexCoProcessingRunsOneLayersExpertsOnBothEnginesAtOnce) {
  // expert_engine coprocess: per die and layer, the hottest experts on the xPU and the rest on the
  // Logic-PIM, chosen with the die's own costs so that the later engine finishes as early as the
  // greedy can make it. Both engines run experts; it is never slower than all of them on one.
  auto run1 = [](const std::string& experts, const std::string& traceEnd = "0 s") {
    return run(build(R"(
model: moe_serving
params:
  hardware: {system: duplex-box, x: 2}
  model: {preset: mixtral-8x7b, layers: 4}
  workload: {kind: closed, concurrency: 32, count: 32, prompt_tokens: 64, output_tokens: 8}
  routing: {kind: synthetic, zipf: 1.0}
  serving: {attention_engine: auto}
simulation: {partitions: 1}
)",
                     {"params.serving.expert_engine=" + experts, "params.serving.trace_end=" + traceEnd}),
               1);
  };
  const Results both = run1("coprocess"), pim = run1("pim"), xpu = run1("xpu");
  // At once: some GEMM on the xPU (engine 0) runs while one on the Logic-PIM (engine 1) does
  // (the die program used to wait for each op, which ran the two engines one after the other).
  const Results traced = run1("coprocess", "1 s");
  const TableRecord& trace = component(traced, "gpu[0]").tables.at("trace");
  const size_t w = trace.columns.size();
  std::vector<std::pair<int64_t, int64_t>> onEngine[2];
  for (size_t r = 0; r < trace.rows(); ++r)
    if (trace.values[r * w + 3] == 0 && trace.values[r * w + 2] < 2)  // a GEMM on the xPU or the PIM
      onEngine[trace.values[r * w + 2]].push_back({trace.values[r * w], trace.values[r * w + 1]});
  bool overlap = false;
  for (const auto& [s0, e0] : onEngine[0])
    for (const auto& [s1, e1] : onEngine[1]) overlap |= s0 < e1 && s1 < e0;
  EXPECT_TRUE(overlap);
  for (const char* gpu : {"gpu[0]", "gpu[1]"}) {
    const auto& c = component(both, gpu).counters;
    EXPECT_GT(c.at("flops_pim"), component(xpu, gpu).counters.at("flops_pim")) << gpu;  // experts on the PIM
    EXPECT_GT(c.at("flops_xpu"), component(pim, gpu).counters.at("flops_xpu")) << gpu;  // and on the xPU
  }
  const auto finish = [](const Results& r) { return component(r, "host").counters.at("last_finish_ps"); };
  EXPECT_LE(finish(both), finish(pim));
  EXPECT_LE(finish(both), finish(xpu));
  EXPECT_EQ(run(build(R"(
model: moe_serving
params:
  hardware: {system: duplex-box, x: 2}
  model: {preset: mixtral-8x7b, layers: 4}
  workload: {kind: closed, concurrency: 32, count: 32, prompt_tokens: 64, output_tokens: 8}
  routing: {kind: synthetic, zipf: 1.0}
  serving: {attention_engine: auto, expert_engine: coprocess}
simulation: {partitions: 2}
)"), 2).digestHex(), both.digestHex());
}

TEST(Serving, ATrainingStepRunsForwardBackwardAllReduceAndOptimizer) {
  // The one-layer model on 2 GPUs, one step of 2 sequences of 16 tokens in one micro-batch: each
  // GPU holds one sequence; top-2 of 2 experts sends every token to the other GPU forward and its
  // gradient backward (16 x 1024 x 2 B each way, twice), then a 2-die ring all-reduce sends 2
  // chunks of half the replicated weights' gradients.
  std::string text = kOneLayer;
  text.replace(text.find("model: moe_serving"), 18, "model: moe_training");
  const Built r = build(text, {"params.training.steps=1", "params.training.sequences=2",
                               "params.training.sequence_length=16", "params.training.micro_batches=1"});
  const Results res = run(r, 1);
  const auto& host = component(res, "host");
  EXPECT_EQ(host.counters.at("train_steps"), 1u);
  EXPECT_EQ(host.counters.at("trained_tokens"), 32u);
  const uint64_t exchange = 16 * 1024 * 2;
  const auto plan = r.graph.data().get<moe::ServingPlan>(moe::kServingDataKey, "test");
  const uint64_t chunk = (plan->replicatedBytes() + 1) / 2;
  for (const char* gpu : {"gpu[0]", "gpu[1]"}) {
    EXPECT_EQ(component(res, gpu).counters.at("dispatch_bytes"), 2 * exchange) << gpu;
    EXPECT_EQ(component(res, gpu).counters.at("combine_bytes"), 2 * exchange) << gpu;
    EXPECT_EQ(component(res, gpu).counters.at("bytes_sent"), 4 * exchange + 2 * chunk) << gpu;
    EXPECT_GT(component(res, gpu).counters.at("ops_xpu"), 0u);
  }
  const auto summary = moe::servingSummary(res);
  ASSERT_TRUE(summary);
  EXPECT_EQ((*summary)["mode"], "training");
  EXPECT_EQ(run(r, 2).digestHex(), res.digestHex());
  EXPECT_THAT(
      [&] {
        try {
          build(text, {"params.training.sequences=3", "params.training.micro_batches=2"});
        } catch (const Error& e) {
          return std::string(e.what());
        }
        return std::string("no error");
      }(),
      ::testing::HasSubstr("3 sequences do not split into 2 equal micro-batches"));
  // One micro-batch of 4 sequences of 6M tokens, 2 per GPU: 2 x 6M x 1024 x 2 B x 4 tensors x 1
  // layer = 98 GB of activations, more than the 80 GB: refused, naming the die and the bytes.
  EXPECT_THAT(
      [&] {
        try {
          build(text, {"params.training.sequences=4", "params.training.micro_batches=1",
                       "params.training.sequence_length=6000000"});
        } catch (const Error& e) {
          return std::string(e.what());
        }
        return std::string("no error");
      }(),
      ::testing::HasSubstr("training: die 0 (H100-class die) cannot hold"));
}

TEST(Serving, BadScenariosAreRefusedNamingTheField) {
  auto error = [](const std::string& params) {
    try {
      const bool hasModel = params.find("  model:") != std::string::npos;
      build("model: moe_serving\nparams:\n" + params + (hasModel ? "" : "  model: {preset: olmoe-1b-7b}\n"));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  using ::testing::HasSubstr;
  EXPECT_THAT(error("  model: {preset: mixtral-8x7b, top_k: 9}\n"), HasSubstr("top_k (9) exceeds experts (8)"));
  EXPECT_THAT(error("  model: {preset: gpt-5}\n"), HasSubstr("gpt-5"));
  EXPECT_THAT(error("  model: {preset: deepseek-v3}\n  hardware: {system: gpu-box, x: 2}\n"), HasSubstr("does not fit"));
  EXPECT_THAT(error("  model: {preset: \"\", layers: 2, hidden_size: 64, heads: 2, kv_heads: 1, head_dim: 32, vocab_size: 100}\n"),
              HasSubstr("experts must be at least 1"));
  EXPECT_THAT(error("  hardware: {link_bandwidth: 3 parsecs}\n"), HasSubstr("parsecs"));
  EXPECT_THAT(error("  workload: {rate: -1}\n"), HasSubstr("workload.rate"));
  EXPECT_THAT(error("  scheduler: {token_budget: 0}\n"), HasSubstr("scheduler.token_budget"));
  // Errors found while resolving parameters name the line of the key.
  EXPECT_THAT(error("  model: {preset: olmoe-1b-7b}\n  scheduler:\n    token_budget: 0\n"),
              HasSubstr("s.yaml:5: params.scheduler.token_budget: 0 is below the minimum 1"));
  EXPECT_THAT(error("  hardware:\n    system: dojo\n    sistem: x\n"),
              HasSubstr("s.yaml:5: params: unknown parameter \"hardware.sistem\" (known: hardware.system"));
  EXPECT_THAT(error("  mapping: {policy: psychic}\n"), HasSubstr("mapping.policy"));
  EXPECT_THAT(error("  routing: {kind: trace}\n"), HasSubstr("routing.trace_file"));
  EXPECT_THAT(error("  serving: {expert_engine: pim}\n"), HasSubstr("no engine \"pim\""));
  EXPECT_THAT(error("  hardware: {sistem: dojo}\n"), HasSubstr("hardware.sistem"));
  EXPECT_THAT(error("  serving: {command_latency: soon}\n"), HasSubstr("serving.command_latency"));
  EXPECT_THAT(error("  workload: {kind: closed, prompt_tokens: 100000000, output_tokens: 1}\n  model: {preset: mixtral-8x7b}\n  hardware: {x: 2, y: 2}\n"),
              HasSubstr("needs more KV cache than any die holds"));
}

}  // namespace
}  // namespace wafersim
