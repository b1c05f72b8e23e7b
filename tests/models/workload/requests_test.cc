// The request workload (models/workload/requests.h): arrival statistics, closed-loop semantics,
// trace files in both layouts, and every error class.
#include "models/workload/requests.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/workload/requests_sampling.h"
#include "models/workload/requests_trace.h"
#include "sim/error.h"

namespace wafersim::workload {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kPsPerSecond = 1'000'000'000'000;

std::unique_ptr<RequestGenerator> make(const Params& given, uint64_t seed = 7) {
  return makeRequestGenerator(resolveParams(given, requestWorkloadParams(), "workload"), seed);
}

std::vector<RequestSpec> drain(RequestGenerator& g, size_t most = 10'000'000) {
  std::vector<RequestSpec> out;
  while (out.size() < most) {
    auto r = g.next();
    if (!r) break;
    out.push_back(*r);
  }
  return out;
}

// Sample mean and variance (n - 1) of the gaps between successive arrivals, first gap from 0.
struct Moments {
  double mean = 0, variance = 0;
  size_t n = 0;
};
Moments gapMoments(const std::vector<RequestSpec>& rs) {
  Moments m;
  int64_t previous = 0;
  double sum = 0, sum2 = 0;
  for (const auto& r : rs) {
    const double gap = static_cast<double>(r.arrival.ps() - previous) / kPsPerSecond;
    previous = r.arrival.ps();
    sum += gap;
    sum2 += gap * gap;
  }
  m.n = rs.size();
  m.mean = sum / m.n;
  m.variance = (sum2 - m.n * m.mean * m.mean) / (m.n - 1);
  return m;
}

// A fresh directory for one test's files, removed at the end.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("wafersim_requests_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

std::vector<RequestSpec> readAll(const std::string& path, TraceOptions options = {}) {
  RequestTraceReader reader(path, options);
  std::vector<RequestSpec> out;
  while (auto r = reader.next()) out.push_back(*r);
  return out;
}

// --- deterministic sampling primitives -------------------------------------------------------

TEST(RequestSampling, ExpAgreesWithLibmToAFewUlp) {
  for (double x = -744.0; x < 709.0; x += 0.37) {
    const double want = std::exp(x);
    EXPECT_NEAR(deterministicExp(x), want, 4e-16 * want + 5e-324) << x;
  }
  EXPECT_EQ(deterministicExp(0.0), 1.0);
  EXPECT_EQ(deterministicExp(-1000.0), 0.0);
  EXPECT_TRUE(std::isinf(deterministicExp(1000.0)));
  EXPECT_NEAR(logPositive(1e10), std::log(1e10), 1e-14);
}

TEST(RequestSampling, NormalHasUnitMomentsAndGammaItsMean) {
  RandomStream s(1, 2, 3);
  const int n = 200'000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = standardNormal(s);
    sum += z;
    sum2 += z * z;
  }
  // Standard errors: mean 1/sqrt(n) = 0.0022, second moment sqrt(2/n) = 0.0032; allow 5 of each.
  EXPECT_NEAR(sum / n, 0.0, 5 * 0.0023);
  EXPECT_NEAR(sum2 / n, 1.0, 5 * 0.0032);
  for (double shape : {0.1, 0.7, 1.0, 3.5, 50.0}) {
    double g = 0;
    for (int i = 0; i < n; ++i) g += gammaDraw(s, shape);
    // Var(Gamma(k, 1)) = k: standard error of the mean sqrt(k / n).
    EXPECT_NEAR(g / n, shape, 5 * std::sqrt(shape / n)) << shape;
  }
}

// --- determinism --------------------------------------------------------------------------------

const Params kLogNormalGamma{{"kind", "gamma"},
                             {"rate", "50"},
                             {"cv", "2.5"},
                             {"count", "1000"},
                             {"prompt_distribution", "lognormal"},
                             {"output_distribution", "uniform"},
                             {"output_min", "3"},
                             {"output_max", "300"}};

TEST(RequestDeterminism, SameSeedGivesIdenticalRequests) {
  auto a = make(kLogNormalGamma, 11), b = make(kLogNormalGamma, 11);
  EXPECT_EQ(drain(*a), drain(*b));
}

TEST(RequestDeterminism, DifferentSeedsGiveDifferentRequests) {
  auto a = make(kLogNormalGamma, 11), b = make(kLogNormalGamma, 12);
  EXPECT_NE(drain(*a), drain(*b));
}

TEST(RequestDeterminism, LengthDistributionNeverMovesArrivals) {
  Params fixed = kLogNormalGamma;
  fixed.set("prompt_distribution", "fixed");
  fixed.set("output_distribution", "fixed");
  const auto a = drain(*make(kLogNormalGamma)), b = drain(*make(fixed));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].arrival, b[i].arrival) << i;
}

TEST(RequestDeterminism, GoldenValuesAreTheSameOnEveryMachine) {
  // Pinned output: a change here means runs are no longer reproducible across versions or
  // machines (contract 2). Update only on purpose.
  const auto rs = drain(*make(kLogNormalGamma, 42), 3);
  ASSERT_EQ(rs.size(), 3u);
  std::ostringstream out;
  for (const auto& r : rs) out << r.id << ' ' << r.arrival.ps() << ' ' << r.promptTokens << ' ' << r.outputTokens << ';';
  EXPECT_EQ(out.str(), "0 3900 297 250;1 695939862 1254 195;2 24216738163 9 152;");
}

// --- open-loop arrival statistics ----------------------------------------------------------------

TEST(RequestArrivals, PoissonGapsHaveTheConfiguredMeanAndVariance) {
  const size_t n = 200'000;
  const double rate = 100;
  const auto rs = drain(*make({{"kind", "poisson"}, {"rate", "100"}, {"count", std::to_string(n)}}));
  ASSERT_EQ(rs.size(), n);
  const Moments m = gapMoments(rs);
  const double mean = 1 / rate, variance = mean * mean;
  // Exponential gaps: sd of the sample mean = mean / sqrt(n); sd of the sample variance =
  // sqrt((mu4 - sigma^4) / n) with mu4 = 9 sigma^4, i.e. sigma^2 sqrt(8 / n). Five sds each (the
  // seed is fixed, so this never flakes; the margin keeps it honest across seeds too).
  EXPECT_NEAR(m.mean, mean, 5 * mean / std::sqrt(n));
  EXPECT_NEAR(m.variance, variance, 5 * variance * std::sqrt(8.0 / n));
}

TEST(RequestArrivals, GammaGapsHaveTheConfiguredCoefficientOfVariation) {
  const size_t n = 300'000;
  for (double cv : {0.3, 1.0, 2.0, 4.0}) {
    const double rate = 20;
    auto g = make({{"kind", "gamma"}, {"rate", "20"}, {"cv", formatReal(cv)}, {"count", std::to_string(n)}});
    const Moments m = gapMoments(drain(*g));
    const double k = 1 / (cv * cv), mean = 1 / rate;
    // Relative sds: sample mean cv / sqrt(n); sample variance sqrt((2 + 6 / k) / n) (gamma's
    // fourth central moment is 3k(k + 2) theta^4), so the sample cv's relative sd is at most
    // half that plus the mean's (triangle inequality, no covariance assumed). Five sds.
    const double relMean = cv / std::sqrt(n), relVar = std::sqrt((2 + 6 / k) / n);
    EXPECT_NEAR(m.mean, mean, 5 * relMean * mean) << cv;
    EXPECT_NEAR(std::sqrt(m.variance) / m.mean, cv, 5 * (relVar / 2 + relMean) * cv) << cv;
  }
}

TEST(RequestArrivals, ZeroCvGivesEvenlySpacedArrivals) {
  const auto rs = drain(*make({{"kind", "gamma"}, {"rate", "4"}, {"cv", "0"}, {"count", "5"}}));
  ASSERT_EQ(rs.size(), 5u);
  for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(rs[i].arrival.ps(), int64_t(i + 1) * 250'000'000'000) << i;
}

TEST(RequestArrivals, OpenLoopHonoursCountAndNumbersRequestsInOrder) {
  auto g = make({{"kind", "poisson"}, {"rate", "1000"}, {"count", "100"}});
  EXPECT_EQ(g->mode(), RequestGenerator::Mode::OpenLoop);
  const auto rs = drain(*g);
  ASSERT_EQ(rs.size(), 100u);
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(rs[i].id, i);
    EXPECT_EQ(rs[i].promptTokens, 512u);
    EXPECT_EQ(rs[i].outputTokens, 128u);
    if (i > 0) {
      EXPECT_GE(rs[i].arrival, rs[i - 1].arrival);
    }
  }
  EXPECT_FALSE(g->next());
  EXPECT_FALSE(g->onFinished(SimTime::fromPs(5)));  // open loop: a no-op
}

TEST(RequestArrivals, UnlimitedCountKeepsGoing) {
  auto g = make({{"kind", "poisson"}, {"rate", "1e6"}});
  EXPECT_EQ(drain(*g, 50'000).size(), 50'000u);
}

TEST(RequestArrivals, EndsWhenArrivalsPassTheEndOfTime) {
  // One request per ~32 days: int64 picoseconds (~106 days) hold only a few.
  auto g = make({{"kind", "gamma"}, {"rate", "3.6e-7"}, {"cv", "0"}});
  const auto rs = drain(*g, 100);
  EXPECT_EQ(rs.size(), 3u);
  EXPECT_FALSE(g->next());
}

// --- token lengths ---------------------------------------------------------------------------

TEST(RequestLengths, UniformCoversItsInclusiveRangeEvenly) {
  TokenLengths lengths({TokenLengthSpec::Kind::Uniform, 1, 5, 9, 1, 1}, RandomStream(3, 0));
  std::vector<int> seen(10, 0);
  const int n = 50'000;
  for (int i = 0; i < n; ++i) {
    const uint32_t t = lengths.next();
    ASSERT_GE(t, 5u);
    ASSERT_LE(t, 9u);
    ++seen[t];
  }
  // Binomial(n, 1/5): sd sqrt(n * 0.16) = 89.
  for (int t = 5; t <= 9; ++t) EXPECT_NEAR(seen[t], n / 5, 5 * 90) << t;
}

TEST(RequestLengths, LogNormalHasTheConfiguredMeanAndMedian) {
  TokenLengthSpec spec{TokenLengthSpec::Kind::LogNormal, 1, 1, 4'000'000'000u, 1000, 400};
  TokenLengths lengths(spec, RandomStream(5, 0));
  const int n = 200'000;
  std::vector<uint32_t> xs(n);
  double sum = 0;
  for (auto& x : xs) sum += (x = lengths.next());
  std::nth_element(xs.begin(), xs.begin() + n / 2, xs.end());
  // sigma^2 = 2 ln(1000 / 400) = 1.83: relative sd of the sample mean sqrt((e^sigma^2 - 1) / n)
  // = 0.0057; of the sample median sqrt(pi / 2) sigma / sqrt(n) = 0.0038. Five sds.
  EXPECT_NEAR(sum / n, 1000, 5 * 0.0057 * 1000);
  EXPECT_NEAR(xs[n / 2], 400, 5 * 0.0038 * 400 + 1);
}

TEST(RequestLengths, LogNormalIsClampedAndFixedIsFixed) {
  TokenLengths clamped({TokenLengthSpec::Kind::LogNormal, 1, 100, 200, 1000, 150}, RandomStream(5, 0));
  bool low = false, high = false;
  for (int i = 0; i < 10'000; ++i) {
    const uint32_t t = clamped.next();
    ASSERT_GE(t, 100u);
    ASSERT_LE(t, 200u);
    low = low || t == 100;
    high = high || t == 200;
  }
  EXPECT_TRUE(low && high);
  TokenLengths fixed({TokenLengthSpec::Kind::Fixed, 77, 1, 1, 1, 1}, RandomStream(5, 0));
  EXPECT_EQ(fixed.next(), 77u);
  // Mean == median: a degenerate log-normal, always the median.
  TokenLengths point({TokenLengthSpec::Kind::LogNormal, 1, 1, 1000, 300, 300}, RandomStream(5, 0));
  EXPECT_EQ(point.next(), 300u);
}

// --- closed loop ---------------------------------------------------------------------------

TEST(RequestClosedLoop, FirstConcurrencyRequestsArriveAtZeroThenOneReplacesEachFinish) {
  auto g = make({{"kind", "closed"}, {"concurrency", "3"}, {"count", "5"}});
  EXPECT_EQ(g->mode(), RequestGenerator::Mode::ClosedLoop);
  const auto initial = drain(*g);
  ASSERT_EQ(initial.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(initial[i].id, i);
    EXPECT_EQ(initial[i].arrival, SimTime::zero());
  }
  EXPECT_FALSE(g->next());  // nothing more until something finishes
  const auto r3 = g->onFinished(SimTime::fromPs(1000));
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->id, 3u);
  EXPECT_EQ(r3->arrival, SimTime::fromPs(1000));
  const auto r4 = g->onFinished(SimTime::fromPs(1000));
  ASSERT_TRUE(r4);
  EXPECT_EQ(r4->id, 4u);
  EXPECT_FALSE(g->onFinished(SimTime::fromPs(2000)));  // count reached: the loop drains
  EXPECT_FALSE(g->onFinished(SimTime::fromPs(2500)));
  EXPECT_FALSE(g->onFinished(SimTime::fromPs(3000)));
  EXPECT_FALSE(g->next());
}

TEST(RequestClosedLoop, CountBelowConcurrencyIssuesOnlyCount) {
  auto g = make({{"kind", "closed"}, {"concurrency", "8"}, {"count", "2"}});
  EXPECT_EQ(drain(*g).size(), 2u);
}

TEST(RequestClosedLoop, EngineMisuseIsAnInternalError) {
  auto expectInternal = [](auto&& f) {
    try {
      f();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Internal) << e.what();
    }
  };
  auto early = make({{"kind", "closed"}, {"concurrency", "2"}});
  ASSERT_TRUE(early->next());
  expectInternal([&] { early->onFinished(SimTime::fromPs(1)); });  // initial batch not drained

  auto g = make({{"kind", "closed"}, {"concurrency", "1"}});
  drain(*g);
  ASSERT_TRUE(g->onFinished(SimTime::fromPs(100)));
  expectInternal([&] { g->onFinished(SimTime::fromPs(50)); });  // before the latest arrival

  auto h = make({{"kind", "closed"}, {"concurrency", "1"}, {"count", "1"}});
  drain(*h);
  EXPECT_FALSE(h->onFinished(SimTime::fromPs(10)));
  expectInternal([&] { h->onFinished(SimTime::fromPs(20)); });  // nothing in flight
}

// --- trace files ---------------------------------------------------------------------------

const std::string kAzure =
    "TIMESTAMP,ContextTokens,GeneratedTokens\n"
    "2023-11-16 18:15:46.6805900,4808,10\n"
    "2023-11-16 18:15:46.6805901,3180,8\n"
    "2023-11-16 18:15:47.0000000,110,27\n"
    "2023-11-16 23:59:59.9999999,7433,14\n"
    "2023-11-17 00:00:00,34,1\n";

TEST(RequestTrace, AzureLayoutGivesExactArrivalsSinceTheFirstRow) {
  TempDir dir;
  const auto rs = readAll(dir.write("azure.csv", kAzure));
  ASSERT_EQ(rs.size(), 5u);
  const std::vector<int64_t> want{0, 100'000, 319'410'000'000, 20'653'319'409'900'000, 20'653'319'410'000'000};
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(rs[i].id, i);
    EXPECT_EQ(rs[i].arrival.ps(), want[i]) << i;
  }
  EXPECT_EQ(rs[0].promptTokens, 4808u);
  EXPECT_EQ(rs[0].outputTokens, 10u);
  EXPECT_EQ(rs[4].outputTokens, 1u);
  RequestTraceReader reader(dir.write("a2.csv", kAzure));
  EXPECT_EQ(reader.layout(), TraceLayout::Azure);
}

TEST(RequestTrace, AzureTimestampsCountCalendarDaysExactly) {
  auto at = [](const char* s) { return *parseAzureTimestamp(s); };
  const __int128 day = __int128(86400) * kPsPerSecond;
  EXPECT_EQ(at("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(at("2000-03-01 00:00:00"), __int128(951'868'800) * kPsPerSecond);
  EXPECT_EQ(at("2024-03-01 00:00:00") - at("2024-02-28 00:00:00"), 2 * day);  // leap year
  EXPECT_EQ(at("2023-03-01 00:00:00") - at("2023-02-28 00:00:00"), day);
  EXPECT_EQ(at("2100-03-01 00:00:00") - at("2100-02-28 00:00:00"), day);  // century, not leap
  EXPECT_EQ(at("2023-12-31T23:59:59.9") - at("2023-12-31 23:59:59"), 900'000'000'000);
  EXPECT_EQ(at("2023-12-31 23:59:59.0000001") - at("2023-12-31 23:59:59"), 100'000);  // one 100 ns tick
  EXPECT_EQ(at("2023-01-01 00:00:00.000000000001"), at("2023-01-01 00:00:00") + 1);
  for (const char* bad : {"", "2023-11-16", "2023-02-29 00:00:00", "2023-11-16 24:00:00", "2023-11-16 18:60:00",
                          "2023-00-10 00:00:00", "2023/11/16 18:15:46", "2023-11-16 18:15:46.", "2023-11-16 18:15:46,5",
                          "2023-11-16 18:15:46.1234567890123", "2023-11-16 18:15:4x", "+023-11-16 18:15:46"})
    EXPECT_FALSE(parseAzureTimestamp(bad)) << bad;
}

TEST(RequestTrace, GenericLayoutAcceptsSecondsAndUnitsInAnyColumnOrder) {
  TempDir dir;
  const std::string csv =
      "\xEF\xBB\xBFprompt_tokens, Arrival ,output_tokens,user\r\n"
      "10,0,5,a\r\n"
      "\r\n"
      "20,1.5,6,b\r\n"
      "30,2500 ms,7,c\r\n"
      "40,2.600000000001,8,d\r\n"
      "\"50\",\"3 s\",9,e";  // no final newline
  const std::string path = dir.write("generic.csv", csv);
  RequestTraceReader reader(path);
  EXPECT_EQ(reader.layout(), TraceLayout::Generic);
  const auto rs = readAll(path);
  ASSERT_EQ(rs.size(), 5u);
  const std::vector<int64_t> want{0, 1'500'000'000'000, 2'500'000'000'000, 2'600'000'000'001, 3'000'000'000'000};
  const std::vector<uint32_t> prompts{10, 20, 30, 40, 50}, outputs{5, 6, 7, 8, 9};
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(rs[i].arrival.ps(), want[i]) << i;
    EXPECT_EQ(rs[i].promptTokens, prompts[i]) << i;
    EXPECT_EQ(rs[i].outputTokens, outputs[i]) << i;
  }
}

TEST(RequestTrace, GenericArrivalsAreAsWrittenUnlessRebased) {
  TempDir dir;
  const std::string path = dir.write("late.csv", "arrival,prompt_tokens,output_tokens\n1,1,1\n1.25,2,2\n");
  TraceOptions keep;
  keep.rebase = false;
  const auto asWritten = readAll(path, keep);
  ASSERT_EQ(asWritten.size(), 2u);
  EXPECT_EQ(asWritten[0].arrival.ps(), kPsPerSecond);
  EXPECT_EQ(asWritten[1].arrival.ps(), 1'250'000'000'000);
  const auto rebased = readAll(path);
  EXPECT_EQ(rebased[0].arrival.ps(), 0);
  EXPECT_EQ(rebased[1].arrival.ps(), 250'000'000'000);
}

TEST(RequestTrace, SkipLimitAndTimeScaleApplyExactly) {
  TempDir dir;
  const std::string path = dir.write("azure.csv", kAzure);
  TraceOptions o;
  o.skipRows = 1;
  o.limit = 2;
  o.timeScaleNum = 2;  // twice the rate
  auto rs = readAll(path, o);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].id, 0u);
  EXPECT_EQ(rs[0].promptTokens, 3180u);
  EXPECT_EQ(rs[0].arrival.ps(), 0);  // rebased to the first kept row
  EXPECT_EQ(rs[1].arrival.ps(), (319'410'000'000 - 100'000) / 2);
  o.rebase = false;  // Azure times then count from the file's first row
  rs = readAll(path, o);
  EXPECT_EQ(rs[0].arrival.ps(), 50'000);
  EXPECT_EQ(rs[1].arrival.ps(), 159'705'000'000);
  o = TraceOptions{};
  o.timeScaleNum = 1;
  o.timeScaleDen = 3;  // a third of the rate; times triple, exactly
  rs = readAll(path, o);
  EXPECT_EQ(rs[4].arrival.ps(), 3 * 20'653'319'410'000'000);
  o = TraceOptions{};
  o.skipRows = 10;  // past the end
  EXPECT_TRUE(readAll(path, o).empty());
}

TEST(RequestTrace, FactoryReadsATraceWithTheRunParameters) {
  TempDir dir;
  const std::string path = dir.write("azure.csv", kAzure);
  auto g = make({{"kind", "trace"}, {"trace_file", path}, {"trace_time_scale", "0.5"}, {"trace_skip", "3"}});
  EXPECT_EQ(g->mode(), RequestGenerator::Mode::OpenLoop);
  const auto rs = drain(*g);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[1].arrival.ps(), 2 * 100'000);
  EXPECT_FALSE(g->onFinished(SimTime::fromPs(1)));
  auto limited = make({{"kind", "trace"}, {"trace_file", path}, {"count", "4"}, {"trace_time_scale", "2.5e1"}});
  const auto four = drain(*limited);
  ASSERT_EQ(four.size(), 4u);
  EXPECT_EQ(four[2].arrival.ps(), 319'410'000'000 / 25);
}

TEST(RequestTrace, TheSampleTraceInExamplesParses) {
  const std::string path = std::string(WAFERSIM_SOURCE_DIR) + "/examples/traces/azure_sample.csv";
  RequestTraceReader reader(path);
  EXPECT_EQ(reader.layout(), TraceLayout::Azure);
  const auto rs = readAll(path);
  EXPECT_EQ(rs.size(), 40u);
  EXPECT_EQ(rs.front().arrival, SimTime::zero());
  EXPECT_EQ(rs[1].arrival.ps(), 833'682'400'000);  // 18:15:47.5142724 - 18:15:46.6805900
}

struct TraceErrorCase {
  std::string content;
  std::string message;  // after "<dir>/trace.csv"
};

TEST(RequestTrace, EveryErrorNamesTheFileLineAndColumn) {
  const std::string azure = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const std::string generic = "arrival,prompt_tokens,output_tokens\n";
  const std::vector<TraceErrorCase> cases{
      {"", ": empty trace"},
      {"\n  \n", ": empty trace"},
      {"time,in,out\n", ":1: cannot tell the layout from the header 'time,in,out'"},
      {"arrival,TIMESTAMP,prompt_tokens,output_tokens\n", ":1: the header names both arrival"},
      {"TIMESTAMP,GeneratedTokens\n", ":1: the header has no column ContextTokens"},
      {"arrival,prompt_tokens\n", ":1: the header has no column output_tokens"},
      {"arrival,prompt_tokens,output_tokens,ARRIVAL\n", ":1: column arrival appears twice"},
      {azure + "2023-11-16 18:15:46.6805900,1\n", ":2: expected 3 columns as in the header, got 2"},
      {azure + "2023-13-16 18:15:46,1,1\n", ":2: column TIMESTAMP: '2023-13-16 18:15:46' is not a timestamp"},
      {azure + "2023-11-16 18:15:46,1,1\n2023-11-16 18:15:47,abc,1\n",
       ":3: column ContextTokens: 'abc' is not a token count"},
      {azure + "2023-11-16 18:15:46,1,0\n", ":2: column GeneratedTokens: '0' is not a token count"},
      {azure + "2023-11-16 18:15:46,4294967296,1\n", ":2: column ContextTokens: '4294967296' is not a token count"},
      {azure + "2023-11-16 18:15:46,-5,1\n", ":2: column ContextTokens: '-5' is not a token count"},
      {azure + "2023-11-16 18:15:46,1,1\n2023-11-16 18:15:45,1,1\n",
       ":3: column TIMESTAMP: '2023-11-16 18:15:45' is earlier than the row before"},
      {azure + "1970-01-01 00:00:00,1,1\n2023-11-16 18:15:45,1,1\n", ":3: column TIMESTAMP: arrival beyond"},
      {generic + "-1,1,1\n", ":2: column arrival: '-1' is negative"},
      {generic + "abc,1,1\n", ":2: column arrival: 'abc' is not an arrival time"},
      {generic + "5 parsecs,1,1\n", ":2: column arrival: '5 parsecs' is not an arrival time"},
      {generic + "0.0000000000001,1,1\n", ":2: column arrival: '0.0000000000001' is not an arrival time"},
      {generic + "99999999999,1,1\n", ":2: column arrival: '99999999999' is not an arrival time"},
      {generic + "1,1,1\n" + std::string(2 << 20, 'x') + "\n", ":3: line longer than 1048576 bytes"},
      {generic + "1,\x01\xff,1\n", ":2: column prompt_tokens: '\\x01\\xff' is not a token count"},
  };
  TempDir dir;
  for (const auto& c : cases) {
    const std::string path = dir.write("trace.csv", c.content);
    try {
      readAll(path);
      ADD_FAILURE() << "no error for " << c.content.substr(0, 200);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
      EXPECT_THAT(e.what(), HasSubstr("trace.csv" + c.message)) << c.content.substr(0, 200);
    }
  }
  try {
    readAll(dir.write("x", "") + ".missing");
    ADD_FAILURE() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_THAT(e.what(), HasSubstr("x.missing: cannot open"));
  }
}

TEST(RequestTrace, AReaderIsSpentAfterAnError) {
  auto in = std::make_unique<std::istringstream>(
      "arrival,prompt_tokens,output_tokens\n0,1,1\nbad,1,1\n2,1,1\n");
  RequestTraceReader reader(std::move(in), "mem.csv");
  EXPECT_TRUE(reader.next());
  EXPECT_THROW(reader.next(), Error);
  EXPECT_FALSE(reader.next());
}

// --- parameters ------------------------------------------------------------------------------

TEST(RequestParams, DefaultsResolveToAPoissonWorkload) {
  const Params resolved = resolveParams({}, requestWorkloadParams(), "workload");
  EXPECT_EQ(resolved.text("kind"), "poisson");
  auto g = makeRequestGenerator(resolved, 1);
  EXPECT_EQ(drain(*g, 10).size(), 10u);
  for (const auto& spec : requestWorkloadParams()) EXPECT_FALSE(spec.help.empty()) << spec.name;
}

TEST(RequestParams, ErrorsNameTheParameter) {
  const std::vector<std::pair<Params, std::string>> cases{
      {{{"kind", "bursty"}}, "workload.kind: unknown kind \"bursty\""},
      {{{"rate", "0"}}, "workload.rate"},
      {{{"rate", "fast"}}, "workload.rate: expected real"},
      {{{"kind", "gamma"}, {"cv", "-1"}}, "workload.cv"},
      {{{"kind", "gamma"}, {"cv", "1e-9"}}, "workload.cv: coefficient of variation must be 0"},
      {{{"kind", "closed"}, {"concurrency", "0"}}, "workload.concurrency"},
      {{{"count", "-3"}}, "workload.count"},
      {{{"prompt_distribution", "zipf"}}, "workload.prompt_distribution: unknown distribution \"zipf\""},
      {{{"prompt_tokens", "0"}}, "workload.prompt_tokens"},
      {{{"output_distribution", "uniform"}, {"output_min", "10"}, {"output_max", "5"}},
       "workload.output_max: 5 is below min 10"},
      {{{"prompt_distribution", "lognormal"}, {"prompt_mean", "10"}, {"prompt_median", "20"}},
       "workload.prompt_mean: must be finite and at least the median"},
      {{{"prompt_distribution", "lognormal"}, {"prompt_median", "0"}}, "workload.prompt_median"},
      {{{"kind", "trace"}}, "workload.trace_file: kind trace needs a trace file"},
      {{{"kind", "trace"}, {"trace_file", "/nonexistent/t.csv"}}, "/nonexistent/t.csv: cannot open"},
      {{{"kind", "trace"}, {"trace_file", "x.csv"}, {"trace_time_scale", "0.1234567890123456789012"}},
       "workload.trace_time_scale: \"0.1234567890123456789012\" is not a plain decimal"},
      {{{"kind", "trace"}, {"trace_file", "x.csv"}, {"trace_time_scale", "inf"}}, "workload.trace_time_scale"},
      {{{"kind", "trace"}, {"trace_file", "x.csv"}, {"trace_skip", "-1"}}, "workload.trace_skip"},
      {{{"trace_rebase", "maybe"}}, "workload.trace_rebase"},
      {{{"burst", "1"}}, "unknown parameter \"burst\""},
  };
  for (const auto& [given, message] : cases) {
    try {
      auto g = make(given);
      drain(*g, 10);
      ADD_FAILURE() << "no error, expected " << message;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
      EXPECT_THAT(e.what(), HasSubstr(message));
    }
  }
}

TEST(RequestParams, DirectConstructionChecksItsArguments) {
  EXPECT_THROW(RenewalArrivals::poisson(0, RandomStream(1, 0)), Error);
  EXPECT_THROW(RenewalArrivals::gamma(1, -0.5, RandomStream(1, 0)), Error);
  EXPECT_THROW(RenewalArrivals::gamma(NAN, 1, RandomStream(1, 0)), Error);
  EXPECT_THROW(RenewalArrivals::gamma(1, 1e-300, RandomStream(1, 0)), Error);
  EXPECT_THROW(TokenLengths({TokenLengthSpec::Kind::Fixed, 0, 1, 1, 1, 1}, RandomStream(1, 0)), Error);
  EXPECT_THROW(TokenLengths({TokenLengthSpec::Kind::Uniform, 1, 0, 5, 1, 1}, RandomStream(1, 0)), Error);
  TokenLengths one({TokenLengthSpec::Kind::Fixed, 1, 1, 1, 1, 1}, RandomStream(1, 0));
  EXPECT_THROW(makeClosedLoopRequests(0, one, one, 0), Error);
}

}  // namespace
}  // namespace wafersim::workload
