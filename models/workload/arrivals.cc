#include "models/workload/arrivals.h"

#include <cmath>

#include "models/workload/requests_sampling.h"
#include "sim/error.h"

namespace wafersim::workload {
namespace {

void checkRate(double rate) {
  WAFERSIM_REQUIRE(std::isfinite(rate) && rate > 0, "arrival rate must be a finite number of requests per second > 0, got ",
                   rate);
}

}  // namespace

RenewalArrivals::RenewalArrivals(Shape shape, double rate, double cv, RandomStream stream)
    : shape_(shape), rate_(rate), cv_(cv), stream_(stream) {
  if (shape_ == Shape::Gamma) gammaShape_ = 1.0 / (cv * cv);
}

RenewalArrivals RenewalArrivals::poisson(double ratePerSecond, RandomStream stream) {
  checkRate(ratePerSecond);
  return RenewalArrivals(Shape::Exponential, ratePerSecond, 1.0, stream);
}

RenewalArrivals RenewalArrivals::gamma(double ratePerSecond, double cv, RandomStream stream) {
  checkRate(ratePerSecond);
  WAFERSIM_REQUIRE(std::isfinite(cv) && cv >= 0 && cv <= 1000,
                   "coefficient of variation must be in [0, 1000], got ", cv);
  WAFERSIM_REQUIRE(cv == 0 || cv >= 1e-6, "coefficient of variation must be 0 (even spacing) or at least 1e-6, got ",
                   cv);
  return RenewalArrivals(cv == 0 ? Shape::Constant : Shape::Gamma, ratePerSecond, cv, stream);
}

Duration RenewalArrivals::nextGap() {
  const double mean = 1.0 / rate_;
  switch (shape_) {
    case Shape::Exponential: return durationFromSeconds(stream_.exponential(mean));
    case Shape::Constant: return durationFromSeconds(mean);
    case Shape::Gamma: return durationFromSeconds(gammaDraw(stream_, gammaShape_) * (mean / gammaShape_));
  }
  return Duration::zero();
}

}  // namespace wafersim::workload
