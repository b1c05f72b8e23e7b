#include "sim/random.h"

#include <cstring>

namespace wafersim {

double deterministicLog(double x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)), taken apart bit by bit (no libm).
  uint64_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  int e = static_cast<int>((bits >> 52) & 0x7FF);
  if (e == 0) {  // subnormal: scale into the normal range first
    x *= 0x1.0p64;
    std::memcpy(&bits, &x, sizeof bits);
    e = static_cast<int>((bits >> 52) & 0x7FF) - 64;
  }
  e -= 1022;
  bits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FE0000000000000ull;  // m in [0.5, 1)
  double m = 0;
  std::memcpy(&m, &bits, sizeof m);
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.1716: the odd series converges fast.
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double s2 = s * s;
  double sum = 1.0 / 23.0;
  for (int k = 21; k >= 3; k -= 2) sum = sum * s2 + 1.0 / k;
  const double logM = 2.0 * s * (sum * s2 + 1.0);
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // upper bits of ln 2, exact in e * kLn2Hi
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  return (e * kLn2Hi + logM) + e * kLn2Lo;
}

}  // namespace wafersim
