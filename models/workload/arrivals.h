// Open-loop arrival processes: the gaps between successive request arrivals.
//
// Which to pick: Poisson (cv = 1) for independent users; gamma with cv > 1 for bursty traffic
// (most gaps short, a few long: production LLM traces measure cv of 2 to 4 at the second scale),
// cv < 1 for smoother than random traffic, cv = 0 for evenly spaced arrivals. All have the same
// mean gap 1 / rate; only the variability changes, so sweeping cv at a fixed rate isolates the
// effect of burstiness on queueing.
#pragma once

#include <cstdint>

#include "sim/random.h"
#include "sim/time.h"

namespace wafersim::workload {

// A renewal process: independent, identically distributed gaps with mean 1 / rate seconds and
// coefficient of variation (standard deviation / mean) cv. Gaps are drawn as reals and rounded to
// the nearest picosecond each; arrival instants are sums of those integers, so they never drift.
class RenewalArrivals {
 public:
  // Poisson arrivals: exponential gaps.
  static RenewalArrivals poisson(double ratePerSecond, RandomStream stream);
  // Gamma gaps with shape 1 / cv^2 and scale cv^2 / rate; cv == 0 gives a constant gap.
  // Throws Error{InvalidConfig} unless rate > 0 (finite) and cv is 0 or in [1e-6, 1000] (below
  // 1e-6 the gamma shape 1 / cv^2 leaves the range where the sampler is exact; use 0).
  static RenewalArrivals gamma(double ratePerSecond, double cv, RandomStream stream);

  Duration nextGap();

  double rate() const { return rate_; }
  double cv() const { return cv_; }

 private:
  enum class Shape { Exponential, Gamma, Constant };
  RenewalArrivals(Shape shape, double rate, double cv, RandomStream stream);

  Shape shape_;
  double rate_;
  double cv_;
  double gammaShape_ = 1;
  RandomStream stream_;
};

}  // namespace wafersim::workload
