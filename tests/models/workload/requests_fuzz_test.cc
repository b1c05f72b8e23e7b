// Fuzzing the request workload's input edges: trace files and parameters. Whatever the bytes,
// the only outcome besides success is Error{InvalidConfig}; no crash, hang or other exception.
// Inputs come from a seeded RandomStream, so every failure reproduces.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/workload/requests.h"
#include "models/workload/requests_trace.h"
#include "sim/error.h"

namespace wafersim::workload {
namespace {

const std::vector<std::string> kValid{
    "TIMESTAMP,ContextTokens,GeneratedTokens\n"
    "2023-11-16 18:15:46.6805900,4808,10\n"
    "2023-11-16 18:15:46.6805901,3180,8\n"
    "2023-11-16 23:59:59.9999999,7433,14\n"
    "2023-11-17 00:00:00,34,1\n",
    "prompt_tokens,arrival,output_tokens,extra\r\n"
    "10,0,5,a\r\n"
    "20,1.5,6,b\r\n"
    "30,2500 ms,7,c\r\n"
    "\"50\",\"3 s\",9,e\n",
};

// Reads everything; returns true if the input was accepted. Checks the invariants of what comes out.
bool readChecked(const std::string& bytes, const TraceOptions& options = {}) {
  try {
    RequestTraceReader reader(std::make_unique<std::istringstream>(bytes), "fuzz.csv", options);
    SimTime previous = SimTime::zero();
    uint64_t id = 0;
    while (auto r = reader.next()) {
      EXPECT_EQ(r->id, id++);
      EXPECT_GE(r->arrival, previous);
      EXPECT_FALSE(r->arrival.isNever());
      EXPECT_GE(r->promptTokens, 1u);
      EXPECT_GE(r->outputTokens, 1u);
      previous = r->arrival;
    }
    return true;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig) << e.what();
    EXPECT_NE(std::string(e.what()).find("fuzz.csv"), std::string::npos) << e.what();
    return false;
  }
}

char randomByte(RandomStream& s) {
  static const std::string kAlphabet = "0123456789,.:- \n\r\"Tsmunp";
  return s.bernoulli(0.8) ? kAlphabet[s.below(kAlphabet.size())] : static_cast<char>(s.below(256));
}

TEST(RequestTraceFuzz, RandomBytesAfterAValidHeaderNeverCrash) {
  RandomStream s(2024, 1);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string& base = kValid[s.below(kValid.size())];
    std::string bytes = s.bernoulli(0.8) ? base.substr(0, base.find('\n') + 1) : "";
    const uint64_t n = s.below(300);
    for (uint64_t k = 0; k < n; ++k) bytes += randomByte(s);
    accepted += readChecked(bytes);
  }
  RecordProperty("accepted", accepted);
}

TEST(RequestTraceFuzz, EveryTruncationOfAValidFileIsHandled) {
  for (const auto& base : kValid)
    for (size_t n = 0; n <= base.size(); ++n) readChecked(base.substr(0, n));
}

TEST(RequestTraceFuzz, MutatedValidFilesNeverCrash) {
  RandomStream s(2024, 2);
  for (int i = 0; i < 30000; ++i) {
    std::string bytes = kValid[s.below(kValid.size())];
    const uint64_t edits = 1 + s.below(4);
    for (uint64_t e = 0; e < edits && !bytes.empty(); ++e) {
      const size_t at = s.below(bytes.size());
      switch (s.below(3)) {
        case 0: bytes[at] = randomByte(s); break;
        case 1: bytes.erase(at, 1 + s.below(5)); break;
        default: bytes.insert(at, std::string(1 + s.below(20), randomByte(s))); break;
      }
    }
    TraceOptions options;
    options.skipRows = s.below(3);
    options.limit = s.below(4);
    options.timeScaleNum = 1 + s.below(1000);
    options.timeScaleDen = 1 + s.below(1000);
    options.rebase = s.bernoulli(0.5);
    readChecked(bytes, options);
  }
}

TEST(RequestTraceFuzz, TimestampParserTakesAnyString) {
  RandomStream s(2024, 3);
  const std::string base = "2023-11-16 18:15:46.6805900";
  for (int i = 0; i < 20000; ++i) {
    std::string t = base.substr(0, s.below(base.size() + 1));
    for (uint64_t k = s.below(3); k > 0 && !t.empty(); --k) t[s.below(t.size())] = randomByte(s);
    (void)parseAzureTimestamp(t);
  }
}

TEST(RequestParamsFuzz, AnyParameterValuesGiveRequestsOrInvalidConfig) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> pool{
      {"kind", {"poisson", "gamma", "closed", "trace", "", "POISSON", "x"}},
      {"rate", {"1", "1e-9", "1e12", "0", "-1", "nan", "inf", "1e400", "abc", "3.5"}},
      {"cv", {"0", "1", "1000", "1001", "1e-300", "nan", "0.01", "20"}},
      {"concurrency", {"1", "0", "1000000000", "99999999999999999999", "-1"}},
      {"count", {"0", "1", "5", "-1", "9223372036854775807", "1.5"}},
      {"prompt_distribution", {"fixed", "uniform", "lognormal", "zipf"}},
      {"prompt_tokens", {"1", "0", "4294967295", "4294967296"}},
      {"prompt_min", {"1", "0", "100", "4294967295"}},
      {"prompt_max", {"1", "50", "4294967295", "4294967296"}},
      {"prompt_mean", {"1", "1000", "4294967295", "nan", "1e308"}},
      {"prompt_median", {"1", "500", "4294967295", "0"}},
      {"output_distribution", {"fixed", "uniform", "lognormal", ""}},
      {"output_min", {"1", "7"}},
      {"output_max", {"1", "7", "3"}},
      {"trace_file", {"", "/nonexistent.csv", std::string(WAFERSIM_SOURCE_DIR) + "/examples/traces/azure_sample.csv"}},
      {"trace_skip", {"0", "3", "1000", "-2"}},
      {"trace_time_scale", {"1", "0.5", "1e18", "1e-18", "0", "2.5e1", "1e19", "0.0000000000000000001", "x"}},
      {"trace_rebase", {"true", "false", "no", "2"}},
  };
  RandomStream s(2024, 4);
  for (int i = 0; i < 4000; ++i) {
    Params given;
    for (const auto& [key, values] : pool)
      if (s.bernoulli(0.4)) given.set(key, values[s.below(values.size())]);
    try {
      auto g = makeRequestGenerator(resolveParams(given, requestWorkloadParams(), "workload"), s.next());
      SimTime previous = SimTime::zero();
      for (int k = 0; k < 50; ++k) {
        auto r = g->next();
        if (!r) break;
        EXPECT_GE(r->arrival, previous);
        EXPECT_GE(r->promptTokens, 1u);
        EXPECT_GE(r->outputTokens, 1u);
        previous = r->arrival;
      }
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig) << e.what();
    }
  }
}

}  // namespace
}  // namespace wafersim::workload
