// Prompt and output lengths of synthetic requests, in whole tokens (always >= 1).
//
// Which to pick: Fixed isolates one operating point; Uniform sweeps a range evenly; LogNormal is
// the realistic choice: measured prompt and output lengths of chat and code traffic (the Azure
// LLM inference traces, ShareGPT) are right-skewed with a long tail, which a log-normal matches
// with two intuitive numbers, the mean and the median (mean > median sets the tail weight).
#pragma once

#include <cstdint>

#include "sim/random.h"

namespace wafersim::workload {

struct TokenLengthSpec {
  enum class Kind { Fixed, Uniform, LogNormal };
  Kind kind = Kind::Fixed;
  uint32_t tokens = 1;  // Fixed
  uint32_t min = 1;     // Uniform: inclusive range; LogNormal: draws are clamped into it
  uint32_t max = 1;
  double mean = 1;      // LogNormal: mean and median of the unclamped distribution
  double median = 1;
};

// Draws lengths from one stream. For LogNormal, mu = ln(median) and sigma^2 = 2 ln(mean / median)
// (the log-normal mean is exp(mu + sigma^2 / 2)); draws are rounded to the nearest integer and
// clamped into [min, max], which moves the mean slightly when the bounds cut the tail.
class TokenLengths {
 public:
  // Throws Error{InvalidConfig} for tokens == 0, min == 0, min > max, median <= 0, mean < median
  // or a non-finite mean or median. Messages name the field ("min", "mean", ...); callers prefix
  // the parameter.
  TokenLengths(const TokenLengthSpec& spec, RandomStream stream);

  uint32_t next();

  const TokenLengthSpec& spec() const { return spec_; }

 private:
  TokenLengthSpec spec_;
  RandomStream stream_;
  double logMedian_ = 0;
  double sigma_ = 0;
};

}  // namespace wafersim::workload
