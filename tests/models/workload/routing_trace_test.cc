#include "models/workload/routing_trace.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "models/workload/routing_stats.h"
#include "models/workload/trace_router.h"
#include "sim/error.h"

namespace wafersim::workload {
namespace {

namespace fs = std::filesystem;

const fs::path kHdMoeDir = fs::path(WAFERSIM_SOURCE_DIR) / ".." / "shared" / "data" / "hdmoe-mixtral-mtbench";

std::string writeTemp(const std::string& name, const std::string& text) {
  const fs::path path = fs::path(testing::TempDir()) / ("routing_trace_test_" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

RoutingTraceOptions mixtral() {
  RoutingTraceOptions o;
  o.experts = 8;
  return o;
}

// The message of the InvalidConfig error reading `text` throws ("" if none).
std::string errorOf(const std::string& text, RoutingTraceOptions options = mixtral()) {
  const std::string path = writeTemp("malformed.json", text);
  try {
    RoutingTrace trace(path, options);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    return e.what();
  }
  return "";
}

std::vector<ExpertId> drain(RoutingTrace::Cursor& cursor, uint64_t tokens, uint32_t k) {
  std::vector<ExpertId> all(tokens * k);
  for (uint64_t i = 0; i < tokens; ++i) cursor.next(std::span<ExpertId>(all).subspan(i * k, k));
  return all;
}

TEST(RoutingTraceTest, ReadsHdMoeFormatAndWrapsAround) {
  const std::string path = writeTemp("small.json", "{\"1\": [[0, 1], [2, 3], [4, 5]],\n \"0\": [[7,6],[5,4],[3,2]]}\n");
  RoutingTraceOptions o = mixtral();
  o.cursorTokens = 2;  // forces refills mid-list
  RoutingTrace trace(path, o);
  EXPECT_EQ(trace.format(), RoutingTraceFormat::HdMoe);
  EXPECT_EQ(trace.layers(), 2u);
  EXPECT_EQ(trace.topK(), 2u);
  EXPECT_EQ(trace.tokens(), 3u);
  EXPECT_FALSE(trace.hasPhases());
  auto c0 = trace.cursor(0);
  auto c1 = trace.cursor(1);
  EXPECT_EQ(drain(c1, 4, 2), (std::vector<ExpertId>{0, 1, 2, 3, 4, 5, 0, 1}));
  EXPECT_EQ(drain(c0, 7, 2), (std::vector<ExpertId>{7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 7, 6}));
  EXPECT_EQ(c0.wraps(), 2u);
  EXPECT_LE(c0.bufferCapacityTokens(), 2u);
  EXPECT_THROW(trace.cursor(0, RoutingTrace::Segment::Decode), Error);
}

TEST(RoutingTraceTest, ReadsPatternsBehindChaosFormat) {
  // Four layers, 1 and 3 dense; a 3-token prompt, then 2 decode steps (one written bare).
  const std::string text =
      "[{\"0\": [[1,2],[3,4],[5,6]], \"1\": null, \"2\": [[0,7],[1,6],[2,5]], \"3\": null},\n"
      " {\"0\": [[7,0]], \"1\": null, \"2\": [[4,3]], \"3\": null},\n"
      " {\"3\": null, \"2\": [6, 1], \"1\": null, \"0\": [[2,3]]}]";
  const std::string path = writeTemp("chaos.json", text);
  RoutingTrace trace(path, mixtral());
  EXPECT_EQ(trace.format(), RoutingTraceFormat::PatternsBehindChaos);
  ASSERT_EQ(trace.layers(), 2u);
  EXPECT_EQ(trace.fileLayer(1), 2u);
  EXPECT_EQ(trace.tokens(RoutingTrace::Segment::Prefill), 3u);
  EXPECT_EQ(trace.tokens(RoutingTrace::Segment::Decode), 2u);
  auto all = trace.cursor(1);
  EXPECT_EQ(drain(all, 6, 2), (std::vector<ExpertId>{0, 7, 1, 6, 2, 5, 4, 3, 6, 1, 0, 7}));
  auto decode = trace.cursor(0, RoutingTrace::Segment::Decode);
  EXPECT_EQ(drain(decode, 3, 2), (std::vector<ExpertId>{7, 0, 2, 3, 7, 0}));

  // Phase-aware replay: prefill tokens take the prompt, decode tokens the decode steps.
  TraceRouter router(path, mixtral());
  std::vector<TokenRef> prompt{{9, 0, true}, {9, 1, true}, {9, 2, true}};
  std::vector<ExpertId> out(6);
  router.route(0, prompt, out);
  EXPECT_EQ(out, (std::vector<ExpertId>{1, 2, 3, 4, 5, 6}));
  std::vector<TokenRef> step{{9, 3, false}};
  std::vector<ExpertId> one(2);
  router.route(0, step, one);
  EXPECT_EQ(one, (std::vector<ExpertId>{7, 0}));
  router.route(1, step, one);
  EXPECT_EQ(one, (std::vector<ExpertId>{4, 3}));
}

// A model cut to fewer layers replays the trace's first MoE layers (routing.trace_layers: first);
// without that, the layer counts must match. Decode steps still find their layer by its key.
TEST(RoutingTraceTest, FirstLayersOfALongerTrace) {
  const std::string text =
      "[{\"0\": [[1,2],[3,4]], \"1\": null, \"2\": [[0,7],[1,6]], \"3\": [[5,4],[6,3]]},\n"
      " {\"0\": [[7,0]], \"1\": null, \"2\": [[4,3]], \"3\": [[2,1]]}]";
  const std::string path = writeTemp("chaos_first.json", text);
  RoutingTraceOptions o = mixtral();
  o.layers = 2;
  EXPECT_THROW(RoutingTrace(path, o), Error);
  try {
    RoutingTrace trace(path, o);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has 3 MoE layers, expected 2 (routing.trace_layers: first"), std::string::npos)
        << e.what();
  }
  o.firstLayers = true;
  RoutingTrace trace(path, o);
  ASSERT_EQ(trace.layers(), 2u);
  EXPECT_EQ(trace.fileLayer(1), 2u);
  auto decode = trace.cursor(1, RoutingTrace::Segment::Decode);
  EXPECT_EQ(drain(decode, 1, 2), (std::vector<ExpertId>{4, 3}));
  o.layers = 4;  // more layers than the trace has is still an error
  EXPECT_THROW(RoutingTrace(path, o), Error);
}

TEST(RoutingTraceTest, MalformedTracesNameFileOffsetAndExpectation) {
  auto expectError = [](const std::string& text, const std::string& fragment) {
    const std::string message = errorOf(text);
    EXPECT_NE(message.find(fragment), std::string::npos) << "input: " << text << "\nmessage: " << message;
    EXPECT_NE(message.find("routing_trace_test_malformed.json"), std::string::npos) << message;
  };
  expectError("{\"0\": [[0, 1], [2, 3]", "the end of the file (truncated?)");
  expectError("{\"0\": [[0, 1], [2, 3]]", "expected ',' or '}'");
  expectError("{\"0\": [[0, 1], [2, 9]]}", "expected an expert id below 8, found number 9");
  expectError("{\"0\": [[0, 1], [2, 3, 4]]}", "expected ']' after 2 expert ids (top-2)");
  expectError("{\"0\": [[0, 1], [2]]}", "expected 2 expert ids per token (top-2), found a token with 1");
  expectError("{\"0\": [[0, 1]], \"2\": [[0, 1]]}", "layer 1 missing");
  expectError("{\"0\": [[0, 1]], \"1\": [[0, 1], [1, 2]]}", "layer 1 has 2 tokens, layer 0 has 1");
  expectError("{\"0\": [0, 1]}", "expected '[' opening a token's expert ids, found number 0");
  expectError("{\"0\": [[[0, 1]]]}", "expected an expert id (a non-negative integer), found '['");
  expectError("{\"0\": [[1, 1]]}", "distinct expert ids within a token, found id 1 twice");
  expectError("{\"0\": [[0, -1]]}", "found a negative number");
  expectError("{\"0\": [[0, 1.5]]}", "found a non-integer number");
  expectError("{\"a\": [[0, 1]]}", "a layer index string");
  expectError("{\"0\": [[0, 1]], \"0\": [[0, 1]]}", "layer 0 again");
  expectError("{\"0\": [[0, 1]]} x", "the end of the file after the closing '}'");
  expectError("\n\n  {\"0\": [[0, 1]] ]", "at byte 19 (line 3)");
  expectError("", "expected '{' (an HD-MoE trace) or '['");
  expectError("{}", "no layers");
  expectError("[]", "at least one step");
  expectError("[{\"0\": [[0, 1]]}, {\"0\": [[0, 1], [2, 3]]}]", "one token per MoE layer in a decode step");
  expectError("[{\"0\": [[0, 1]], \"1\": null}, {\"0\": [[0, 1]]}]", "step 1");
  expectError("[{\"0\": [[0, 1]], \"1\": null}, {\"0\": [[0, 1]], \"1\": [[0, 1]]}]", "null (layer 1 is dense");
  expectError("[{\"0\": null}]", "no MoE layers");
  EXPECT_NE(errorOf("{\"0\": [[0, 1]]}", [] {
              RoutingTraceOptions o = mixtral();
              o.topK = 3;
              return o;
            }()).find("expected 3 expert ids"),
            std::string::npos);
  EXPECT_NE(errorOf("{\"0\": [[0, 1]]}", [] {
              RoutingTraceOptions o = mixtral();
              o.layers = 32;
              return o;
            }()).find("has 1 MoE layers, expected 32"),
            std::string::npos);
  try {
    RoutingTrace trace("/nonexistent/trace.json", mixtral());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/trace.json: cannot open"), std::string::npos);
  }
}

TEST(RoutingTraceTest, RealMixtralTracesStream) {
  if (!fs::exists(kHdMoeDir / "coding.json"))
    GTEST_SKIP() << "real traces not found at " << kHdMoeDir << " (shared data absent)";
  const std::vector<std::string> categories{"coding", "extraction", "humanities", "math",
                                            "reasoning", "roleplay", "stem", "writing"};
  for (const std::string& category : categories) {
    SCOPED_TRACE(category);
    RoutingTraceOptions o = mixtral();
    o.layers = 32;
    o.topK = 2;
    RoutingTrace trace((kHdMoeDir / (category + ".json")).string(), o);
    EXPECT_EQ(trace.layers(), 32u);
    EXPECT_EQ(trace.topK(), 2u);
    EXPECT_GT(trace.tokens(), 8000u);
    EXPECT_LT(trace.tokens(), 13000u);  // writing: 12,622
    if (category == "coding") {
      EXPECT_EQ(trace.tokens(), 12138u);
    }
    if (category == "reasoning") {
      EXPECT_EQ(trace.tokens(), 8386u);
    }

    const RoutingStats stats = measureTrace(trace);
    EXPECT_EQ(stats.tokens(31), trace.tokens());
    for (uint32_t l = 0; l < 32; ++l) {
      uint64_t load = 0;
      for (ExpertId e = 0; e < 8; ++e) load += stats.load(l, e);
      EXPECT_EQ(load, 2 * trace.tokens());
    }
    // Bounded memory: the read buffer and every cursor's decode-ahead stay at their fixed sizes.
    EXPECT_EQ(trace.readBufferBytes(), o.readBufferBytes);
    const nlohmann::json json = stats.toJson();
    EXPECT_EQ(json["per_layer"].size(), 32u);
    EXPECT_EQ(json["top_k"], 2);
    // Real routing is more concentrated than uniform (seeds.md Ob1, Ob2, Ob4).
    EXPECT_GT(stats.meanMaxOverMean(), 1.2);
    EXPECT_GT(stats.meanTransitionCoverage(), stats.transitionCoverageBaseline());
    EXPECT_GT(stats.meanRepeatRate(), stats.repeatRateBaseline());
    const auto& summary = json["summary"];
    std::printf("%-10s tokens %5llu  max/mean mean %.2f max %.2f  cv %.2f  top-pair x%.2f  top10%% pairs %.2f  "
                "L2L top20%% %.3f (uniform %.3f)  T2T repeat %.3f (uniform %.3f)\n",
                category.c_str(), static_cast<unsigned long long>(trace.tokens()),
                summary["mean_max_over_mean"].get<double>(), summary["max_max_over_mean"].get<double>(),
                summary["mean_cv"].get<double>(), summary["mean_top_pair_ratio"].get<double>(),
                summary["mean_top10pct_pair_share"].get<double>(),
                summary["mean_transition_top20_coverage"].get<double>(),
                summary["transition_top20_uniform_baseline"].get<double>(),
                summary["mean_token_repeat_rate"].get<double>(), summary["token_repeat_uniform_baseline"].get<double>());
    if (category == "coding") {
      std::printf("coding per-layer max/mean:");
      for (uint32_t l = 0; l < 32; ++l) std::printf(" %.2f", stats.maxOverMean(l));
      std::printf("\n");
    }
  }
}

TEST(RoutingTraceTest, RealTraceReplayIsBoundedAndMatchesTheFile) {
  const fs::path file = kHdMoeDir / "reasoning.json";
  if (!fs::exists(file)) GTEST_SKIP() << "real traces not found at " << kHdMoeDir << " (shared data absent)";
  RoutingTraceOptions o = mixtral();
  o.readBufferBytes = 4096;
  o.cursorTokens = 128;
  TraceRouter router(file.string(), o);
  const uint64_t n = router.trace().tokens();
  // Route 1.5 passes in batches of 97 tokens: wraps around mid-batch.
  std::vector<TokenRef> tokens(97);
  std::vector<ExpertId> out(97 * 2);
  std::vector<std::vector<ExpertId>> layer0, layer31;
  uint64_t routed = 0;
  while (routed < n + n / 2) {
    for (uint32_t i = 0; i < 97; ++i) tokens[i] = {i % 4, static_cast<uint32_t>(routed + i), false};
    for (uint32_t l = 0; l < 32; ++l) {
      router.route(l, tokens, out);
      if (l == 0) layer0.push_back(out);
      if (l == 31) layer31.push_back(out);
    }
    routed += 97;
    for (uint32_t l = 0; l < 32; ++l) ASSERT_LE(router.cursor(l).bufferCapacityTokens(), 128u);
    ASSERT_EQ(router.trace().readBufferBytes(), 4096u);
  }
  EXPECT_EQ(router.cursor(0).wraps(), 1u);
  // Compare with a whole-file parse (fine in a test: the file is 2 MB).
  std::ifstream in(file);
  const nlohmann::json whole = nlohmann::json::parse(in);
  for (uint64_t t = 0; t < routed; ++t) {
    const auto& got0 = layer0[t / 97];
    const auto& got31 = layer31[t / 97];
    const auto& want0 = whole["0"][t % n];
    const auto& want31 = whole["31"][t % n];
    ASSERT_EQ(got0[(t % 97) * 2], want0[0].get<ExpertId>()) << t;
    ASSERT_EQ(got0[(t % 97) * 2 + 1], want0[1].get<ExpertId>()) << t;
    ASSERT_EQ(got31[(t % 97) * 2], want31[0].get<ExpertId>()) << t;
    ASSERT_EQ(got31[(t % 97) * 2 + 1], want31[1].get<ExpertId>()) << t;
  }
}

}  // namespace
}  // namespace wafersim::workload
