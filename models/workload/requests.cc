#include "models/workload/requests.h"

#include <limits>

#include "models/workload/requests_trace.h"
#include "sim/error.h"

namespace wafersim::workload {
namespace {

// Streams of the workload's RandomStreams: one per independent quantity.
constexpr uint64_t kArrivalStream = 0;
constexpr uint64_t kPromptStream = 1;
constexpr uint64_t kOutputStream = 2;

class OpenLoopRequests final : public RequestGenerator {
 public:
  OpenLoopRequests(RenewalArrivals arrivals, TokenLengths prompt, TokenLengths output, uint64_t count)
      : arrivals_(arrivals), prompt_(prompt), output_(output), count_(count) {}

  Mode mode() const override { return Mode::OpenLoop; }

  std::optional<RequestSpec> next() override {
    if (done_ || (count_ != 0 && issued_ >= count_)) return std::nullopt;
    now_ += arrivals_.nextGap();
    if (now_.isNever()) {
      done_ = true;
      return std::nullopt;
    }
    return RequestSpec{issued_++, now_, prompt_.next(), output_.next()};
  }

  std::optional<RequestSpec> onFinished(SimTime) override { return std::nullopt; }

 private:
  RenewalArrivals arrivals_;
  TokenLengths prompt_, output_;
  uint64_t count_;
  uint64_t issued_ = 0;
  SimTime now_ = SimTime::zero();
  bool done_ = false;
};

class ClosedLoopRequests final : public RequestGenerator {
 public:
  ClosedLoopRequests(uint64_t concurrency, TokenLengths prompt, TokenLengths output, uint64_t count)
      : concurrency_(concurrency), prompt_(prompt), output_(output), count_(count) {
    WAFERSIM_REQUIRE(concurrency >= 1, "closed-loop concurrency must be at least 1");
  }

  Mode mode() const override { return Mode::ClosedLoop; }

  std::optional<RequestSpec> next() override {
    if (issued_ >= concurrency_ || exhausted()) {
      initialDone_ = true;
      return std::nullopt;
    }
    return issue(SimTime::zero());
  }

  std::optional<RequestSpec> onFinished(SimTime finishedAt) override {
    WAFERSIM_ASSERT(initialDone_, "closed loop: onFinished before next() returned nullopt (initial requests pending)");
    WAFERSIM_ASSERT(inFlight_ > 0, "closed loop: a request finished with none in flight");
    WAFERSIM_ASSERT(finishedAt >= latest_ && !finishedAt.isNever(), "closed loop: finish time ",
                    toString(finishedAt), " before the latest arrival ", toString(latest_));
    --inFlight_;
    if (exhausted()) return std::nullopt;
    return issue(finishedAt);
  }

 private:
  bool exhausted() const { return count_ != 0 && issued_ >= count_; }

  RequestSpec issue(SimTime at) {
    ++inFlight_;
    latest_ = at;
    return RequestSpec{issued_++, at, prompt_.next(), output_.next()};
  }

  uint64_t concurrency_;
  TokenLengths prompt_, output_;
  uint64_t count_;
  uint64_t issued_ = 0;
  uint64_t inFlight_ = 0;
  SimTime latest_ = SimTime::zero();
  bool initialDone_ = false;
};

class TraceRequests final : public RequestGenerator {
 public:
  explicit TraceRequests(std::unique_ptr<RequestTraceReader> reader) : reader_(std::move(reader)) {
    WAFERSIM_ASSERT(reader_ != nullptr);
  }
  Mode mode() const override { return Mode::OpenLoop; }
  std::optional<RequestSpec> next() override { return reader_->next(); }
  std::optional<RequestSpec> onFinished(SimTime) override { return std::nullopt; }

 private:
  std::unique_ptr<RequestTraceReader> reader_;
};

// Parses a plain decimal ("2", "0.25", "1.5e3") exactly into num / den, both in [1, 10^18].
std::optional<std::pair<uint64_t, uint64_t>> parseDecimalRatio(std::string_view s) {
  constexpr unsigned __int128 kMax = 1'000'000'000'000'000'000ull;
  unsigned __int128 num = 0, den = 1;
  bool any = false, fraction = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.' && !fraction) {
      fraction = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any = true;
    if (num == 0 && c == '0' && !fraction) continue;
    if (num > kMax || den > kMax) return std::nullopt;
    num = num * 10 + static_cast<unsigned>(c - '0');
    if (fraction) den *= 10;
  }
  if (!any) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != 'e' && s[i] != 'E') return std::nullopt;
    ++i;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    if (i == s.size() || s.size() - i > 2) return std::nullopt;
    int exponent = 0;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      exponent = exponent * 10 + (s[i] - '0');
    }
    for (int k = 0; k < exponent; ++k) {
      (negative ? den : num) *= 10;
      if (num > kMax * kMax || den > kMax * kMax) return std::nullopt;
    }
  }
  if (num == 0) return std::nullopt;
  unsigned __int128 a = num, b = den;
  while (b != 0) {
    const unsigned __int128 t = a % b;
    a = b;
    b = t;
  }
  num /= a;
  den /= a;
  if (num > kMax || den > kMax) return std::nullopt;
  return std::pair{static_cast<uint64_t>(num), static_cast<uint64_t>(den)};
}

class Reader {
 public:
  Reader(const Params& p, std::string_view where) : p_(p), where_(where) {}

  [[noreturn]] void bad(const std::string& key, const std::string& message) const {
    fail(ErrorKind::InvalidConfig, where_, ".", key, ": ", message);
  }
  template <typename F>
  auto guarded(const std::string& key, F read) const {
    try {
      return read();
    } catch (const Error& e) {
      bad(key, e.what());
    }
  }
  std::string text(const std::string& key) const { return guarded(key, [&] { return p_.text(key); }); }
  int64_t integer(const std::string& key) const { return guarded(key, [&] { return p_.integer(key); }); }
  double real(const std::string& key) const { return guarded(key, [&] { return p_.real(key); }); }
  bool boolean(const std::string& key) const { return guarded(key, [&] { return p_.boolean(key); }); }

  uint64_t count(const std::string& key, int64_t lo, int64_t hi) const {
    const int64_t v = integer(key);
    if (v < lo || v > hi) bad(key, std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return static_cast<uint64_t>(v);
  }

  TokenLengths lengths(const std::string& prefix, RandomStream stream) const {
    TokenLengthSpec spec;
    const std::string kind = text(prefix + "_distribution");
    constexpr int64_t kMaxTokens = std::numeric_limits<uint32_t>::max();
    if (kind == "fixed") {
      spec.kind = TokenLengthSpec::Kind::Fixed;
      spec.tokens = static_cast<uint32_t>(count(prefix + "_tokens", 1, kMaxTokens));
    } else if (kind == "uniform" || kind == "lognormal") {
      spec.kind = kind == "uniform" ? TokenLengthSpec::Kind::Uniform : TokenLengthSpec::Kind::LogNormal;
      spec.min = static_cast<uint32_t>(count(prefix + "_min", 1, kMaxTokens));
      spec.max = static_cast<uint32_t>(count(prefix + "_max", 1, kMaxTokens));
      if (spec.kind == TokenLengthSpec::Kind::LogNormal) {
        spec.mean = real(prefix + "_mean");
        spec.median = real(prefix + "_median");
      }
    } else {
      bad(prefix + "_distribution", "unknown distribution \"" + kind + "\" (fixed, uniform, lognormal)");
    }
    try {
      return TokenLengths(spec, stream);
    } catch (const Error& e) {
      // TokenLengths names the field ("max: ..."); turn it into the parameter name.
      const std::string message = e.what();
      const size_t colon = message.find(':');
      bad(prefix + "_" + message.substr(0, colon), message.substr(colon + 2));
    }
  }

 private:
  const Params& p_;
  std::string where_;
};

}  // namespace

std::unique_ptr<RequestGenerator> makeOpenLoopRequests(RenewalArrivals arrivals, TokenLengths prompt,
                                                       TokenLengths output, uint64_t count) {
  return std::make_unique<OpenLoopRequests>(arrivals, prompt, output, count);
}

std::unique_ptr<RequestGenerator> makeClosedLoopRequests(uint64_t concurrency, TokenLengths prompt,
                                                         TokenLengths output, uint64_t count) {
  return std::make_unique<ClosedLoopRequests>(concurrency, prompt, output, count);
}

std::unique_ptr<RequestGenerator> makeTraceRequests(std::unique_ptr<RequestTraceReader> reader) {
  return std::make_unique<TraceRequests>(std::move(reader));
}

std::vector<ParamSpec> requestWorkloadParams() {
  using T = ParamType;
  constexpr double kMaxTokens = std::numeric_limits<uint32_t>::max();
  return {
      {"kind", T::Text, "poisson", "arrival process: poisson | gamma | closed | trace", {}, {}},
      {"rate", T::Real, "10", "poisson, gamma: mean arrival rate in requests per second (> 0)", 1e-9, 1e12},
      {"cv", T::Real, "1", "gamma: coefficient of variation of the inter-arrival gaps (1: Poisson, > 1: bursty, 0: even)",
       0, 1000},
      {"concurrency", T::Integer, "1", "closed: requests kept in flight; the first arrive at 0", 1, 1e9},
      {"count", T::Integer, "0", "requests in all (0: unlimited; trace: every row after the skipped ones)", 0, {}},
      {"prompt_distribution", T::Text, "fixed", "prompt length: fixed | uniform | lognormal", {}, {}},
      {"prompt_tokens", T::Integer, "512", "fixed prompt length in tokens", 1, kMaxTokens},
      {"prompt_min", T::Integer, "1", "uniform: shortest prompt; lognormal: draws below are raised to it", 1, kMaxTokens},
      {"prompt_max", T::Integer, "8192", "uniform: longest prompt; lognormal: draws above are cut to it", 1, kMaxTokens},
      {"prompt_mean", T::Real, "1024", "lognormal: mean prompt length in tokens (>= the median)", 1, kMaxTokens},
      {"prompt_median", T::Real, "512", "lognormal: median prompt length in tokens", 1, kMaxTokens},
      {"output_distribution", T::Text, "fixed", "output length: fixed | uniform | lognormal", {}, {}},
      {"output_tokens", T::Integer, "128", "fixed output length in tokens", 1, kMaxTokens},
      {"output_min", T::Integer, "1", "uniform: shortest output; lognormal: draws below are raised to it", 1, kMaxTokens},
      {"output_max", T::Integer, "2048", "uniform: longest output; lognormal: draws above are cut to it", 1, kMaxTokens},
      {"output_mean", T::Real, "256", "lognormal: mean output length in tokens (>= the median)", 1, kMaxTokens},
      {"output_median", T::Real, "128", "lognormal: median output length in tokens", 1, kMaxTokens},
      {"trace_file", T::Path, "", "trace: CSV file, generic (arrival,prompt_tokens,output_tokens) or Azure layout", {}, {}},
      {"trace_skip", T::Integer, "0", "trace: data rows to skip first", 0, {}},
      {"trace_time_scale", T::Real, "1", "trace: divide arrival times by this (2: twice the rate); a plain decimal",
       1e-18, 1e18},
      {"trace_rebase", T::Boolean, "true", "trace: shift times so that the first kept row arrives at 0", {}, {}},
  };
}

std::unique_ptr<RequestGenerator> makeRequestGenerator(const Params& resolved, uint64_t seed, std::string_view where,
                                                       uint64_t componentId) {
  const Reader p(resolved, where);
  const std::string kind = p.text("kind");
  const uint64_t count = p.count("count", 0, std::numeric_limits<int64_t>::max());
  if (kind == "trace") {
    const std::string file = p.text("trace_file");
    if (file.empty()) p.bad("trace_file", "kind trace needs a trace file");
    TraceOptions options;
    options.skipRows = p.count("trace_skip", 0, std::numeric_limits<int64_t>::max());
    options.limit = count;
    options.rebase = p.boolean("trace_rebase");
    const std::string scaleText = p.text("trace_time_scale");
    const auto scale = parseDecimalRatio(scaleText);
    if (!scale)
      p.bad("trace_time_scale", "\"" + scaleText + "\" is not a plain decimal > 0 with at most 18 significant digits");
    options.timeScaleNum = scale->first;
    options.timeScaleDen = scale->second;
    return makeTraceRequests(std::make_unique<RequestTraceReader>(file, options));
  }
  TokenLengths prompt = p.lengths("prompt", RandomStream(seed, componentId, kPromptStream));
  TokenLengths output = p.lengths("output", RandomStream(seed, componentId, kOutputStream));
  if (kind == "closed") {
    return makeClosedLoopRequests(p.count("concurrency", 1, std::numeric_limits<int64_t>::max()), prompt, output,
                                  count);
  }
  if (kind != "poisson" && kind != "gamma") p.bad("kind", "unknown kind \"" + kind + "\" (poisson, gamma, closed, trace)");
  const RandomStream arrivalStream(seed, componentId, kArrivalStream);
  const double rate = p.real("rate");
  const RenewalArrivals poisson = p.guarded("rate", [&] { return RenewalArrivals::poisson(rate, arrivalStream); });
  if (kind == "poisson") return makeOpenLoopRequests(poisson, prompt, output, count);
  const double cv = p.real("cv");
  const RenewalArrivals gamma = p.guarded("cv", [&] { return RenewalArrivals::gamma(rate, cv, arrivalStream); });
  return makeOpenLoopRequests(gamma, prompt, output, count);
}

}  // namespace wafersim::workload
