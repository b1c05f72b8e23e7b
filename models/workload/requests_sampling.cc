#include "models/workload/requests_sampling.h"

#include <cmath>
#include <limits>

#include "sim/error.h"

namespace wafersim::workload {

double deterministicExp(double x) {
  if (x != x) return x;  // NaN
  if (x > 709.782712893384) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0.0;
  // x = k ln2 + r with |r| <= ln2 / 2; ln 2 split so that k * kLn2Hi is exact.
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  const double kReal = x * kInvLn2;
  const int k = static_cast<int>(kReal < 0 ? kReal - 0.5 : kReal + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  // Taylor series of e^r to r^17 / 17!: |r| <= 0.347 makes the remainder below 1e-19.
  double sum = 1.0 / 355687428096000.0;  // 1/17!
  double factorial = 355687428096000.0;
  for (int n = 17; n >= 1; --n) {
    factorial /= n;  // exact: every n! up to 17! is a double
    sum = sum * r + 1.0 / factorial;
  }
  // Scaling by 2^k is exact for normal results; a subnormal result rounds once, as IEEE defines.
  return std::ldexp(sum, k);
}

double logPositive(double x) {
  WAFERSIM_ASSERT(x > 0 && x <= std::numeric_limits<double>::max(), x);
  return x <= 1.0 ? deterministicLog(x) : -deterministicLog(1.0 / x);
}

double standardNormal(RandomStream& stream) {
  for (;;) {
    const double u = 2.0 * stream.uniform() - 1.0;
    const double v = 2.0 * stream.uniform() - 1.0;
    const double s = u * u + v * v;
    if (s >= 1.0 || s == 0.0) continue;
    return u * std::sqrt(-2.0 * deterministicLog(s) / s);
  }
}

double gammaDraw(RandomStream& stream, double shape) {
  WAFERSIM_ASSERT(shape > 0 && shape < 1e300, shape);
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia and Tsang, section 6); U in (0, 1].
    const double g = gammaDraw(stream, shape + 1.0);
    const double u = 1.0 - stream.uniform();
    return g * deterministicExp(deterministicLog(u) / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0, v = 0;
    do {
      x = standardNormal(stream);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - stream.uniform();  // (0, 1]
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
    if (deterministicLog(u) < 0.5 * x2 + d * (1.0 - v + logPositive(v))) return d * v;
  }
}

Duration durationFromSeconds(double seconds) {
  if (!(seconds > 0)) return Duration::zero();
  const double ps = seconds * 1e12;
  if (ps >= 9.2e18) return Duration::max();
  return Duration::fromPs(static_cast<int64_t>(ps + 0.5));
}

}  // namespace wafersim::workload
