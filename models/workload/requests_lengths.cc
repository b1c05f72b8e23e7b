#include "models/workload/requests_lengths.h"

#include <cmath>

#include "models/workload/requests_sampling.h"
#include "sim/error.h"

namespace wafersim::workload {

TokenLengths::TokenLengths(const TokenLengthSpec& spec, RandomStream stream) : spec_(spec), stream_(stream) {
  using Kind = TokenLengthSpec::Kind;
  if (spec.kind == Kind::Fixed) {
    WAFERSIM_REQUIRE(spec.tokens >= 1, "tokens: a length must be at least 1 token");
    return;
  }
  WAFERSIM_REQUIRE(spec.min >= 1, "min: a length must be at least 1 token");
  WAFERSIM_REQUIRE(spec.min <= spec.max, "max: ", spec.max, " is below min ", spec.min);
  if (spec.kind == Kind::Uniform) return;
  WAFERSIM_REQUIRE(std::isfinite(spec.median) && spec.median > 0, "median: must be a finite number > 0, got ",
                   spec.median);
  WAFERSIM_REQUIRE(std::isfinite(spec.mean) && spec.mean >= spec.median,
                   "mean: must be finite and at least the median ", spec.median,
                   " (a log-normal's mean exceeds its median), got ", spec.mean);
  logMedian_ = logPositive(spec.median);
  sigma_ = std::sqrt(2.0 * logPositive(spec.mean / spec.median));
  WAFERSIM_REQUIRE(sigma_ <= 10, "mean: ", spec.mean, " is too far above the median ", spec.median,
                   " (sigma of ln length above 10)");
}

uint32_t TokenLengths::next() {
  switch (spec_.kind) {
    case TokenLengthSpec::Kind::Fixed: return spec_.tokens;
    case TokenLengthSpec::Kind::Uniform:
      return spec_.min + static_cast<uint32_t>(stream_.below(uint64_t{spec_.max} - spec_.min + 1));
    case TokenLengthSpec::Kind::LogNormal: {
      const double x = deterministicExp(logMedian_ + sigma_ * standardNormal(stream_));
      if (!(x < static_cast<double>(spec_.max))) return spec_.max;  // also catches +infinity
      const double rounded = std::floor(x + 0.5);  // floor is exact; x + 0.5 rounds once, identically everywhere
      if (rounded < spec_.min) return spec_.min;
      return static_cast<uint32_t>(rounded);
    }
  }
  return spec_.min;
}

}  // namespace wafersim::workload
