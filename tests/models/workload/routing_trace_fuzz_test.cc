// Truncations and byte flips of a trace must give Error{InvalidConfig} or a valid trace whose
// replay works, never a crash or another exception type.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "models/workload/routing_stats.h"
#include "models/workload/routing_trace.h"
#include "sim/error.h"
#include "sim/random.h"

namespace wafersim::workload {
namespace {

namespace fs = std::filesystem;

// Reads `bytes` as a trace and, if valid, replays every layer once; returns whether it was valid.
bool tryTrace(const std::string& bytes, int* errors) {
  // One file per test process: ctest runs this file's tests in parallel processes.
  const fs::path path = fs::path(testing::TempDir()) / ("routing_trace_fuzz_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  RoutingTraceOptions o;
  o.experts = 8;
  o.readBufferBytes = 256;
  o.cursorTokens = 16;
  try {
    RoutingTrace trace(path.string(), o);
    const RoutingStats stats = measureTrace(trace);
    EXPECT_GT(stats.tokens(0), 0u);
    return true;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig) << e.what();
    ++*errors;
    return false;
  }
}

std::string seedTrace() {
  const fs::path real =
      fs::path(WAFERSIM_SOURCE_DIR) / ".." / "shared" / "data" / "hdmoe-mixtral-mtbench" / "reasoning.json";
  if (fs::exists(real)) {
    // The first two layers of the real file, 300 tokens each, keeps each try fast.
    std::ifstream in(real);
    const nlohmann::json whole = nlohmann::json::parse(in);
    nlohmann::json cut;
    for (const char* layer : {"0", "1"}) {
      nlohmann::json list = nlohmann::json::array();
      for (size_t t = 0; t < 300; ++t) list.push_back(whole[layer][t]);
      cut[layer] = list;
    }
    return cut.dump();
  }
  return "{\"0\": [[5, 1], [3, 6], [3, 7], [1, 7]], \"1\": [[0, 2], [4, 5], [6, 7], [1, 3]]}";
}

TEST(RoutingTraceFuzzTest, TruncationsAndByteFlipsNeverCrash) {
  const std::string seed = seedTrace();
  int errors = 0;
  ASSERT_TRUE(tryTrace(seed, &errors));
  RandomStream random(2024, 7);
  for (int i = 0; i < 150; ++i) {  // every truncation is an error (the closing brace is missing)
    const size_t length = random.below(seed.size());
    EXPECT_FALSE(tryTrace(seed.substr(0, length), &errors)) << "length " << length;
  }
  const std::string alphabet = "{}[],:\"0123456789 -.ne\n\xff";
  for (int i = 0; i < 300; ++i) {
    std::string bytes = seed;
    const int flips = 1 + static_cast<int>(random.below(3));
    for (int f = 0; f < flips; ++f) {
      const size_t at = random.below(bytes.size());
      bytes[at] = random.bernoulli(0.5) ? alphabet[random.below(alphabet.size())]
                                        : static_cast<char>(random.below(256));
    }
    tryTrace(bytes, &errors);
  }
  EXPECT_GT(errors, 150);
}

TEST(RoutingTraceFuzzTest, ChaosFormatMutationsNeverCrash) {
  const std::string seed =
      "[{\"0\": [[1,2],[3,4],[5,6]], \"1\": null, \"2\": [[0,7],[1,6],[2,5]]},"
      " {\"0\": [[7,0]], \"1\": null, \"2\": [[4,3]]}, {\"2\": [6, 1], \"1\": null, \"0\": [[2,3]]}]";
  int errors = 0;
  ASSERT_TRUE(tryTrace(seed, &errors));
  RandomStream random(99, 3);
  for (int i = 0; i < 400; ++i) {
    std::string bytes = seed;
    if (random.bernoulli(0.3)) bytes.resize(random.below(bytes.size()));
    const size_t at = random.below(bytes.size() + 1);
    if (at < bytes.size()) bytes[at] = static_cast<char>(random.below(256));
    tryTrace(bytes, &errors);
  }
  EXPECT_GT(errors, 100);
}

}  // namespace
}  // namespace wafersim::workload
