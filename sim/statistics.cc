#include "sim/statistics.h"

#include <algorithm>

#include "sim/error.h"

namespace wafersim {

Histogram::Histogram(std::vector<int64_t> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {
  WAFERSIM_REQUIRE(std::is_sorted(bounds_.begin(), bounds_.end()) &&
                       std::adjacent_find(bounds_.begin(), bounds_.end()) == bounds_.end(),
                   "histogram bounds must be strictly increasing");
}

void Histogram::add(int64_t sample) {
  size_t bucket = static_cast<size_t>(std::upper_bound(bounds_.begin(), bounds_.end(), sample) - bounds_.begin());
  ++counts_[bucket];
  ++count_;
  sum_ += sample;
  min_ = std::min(min_, sample);
  max_ = std::max(max_, sample);
}

Counter& StatSet::counter(const std::string& name) {
  WAFERSIM_REQUIRE(!histograms_.count(name), "statistic \"", name, "\" is already a histogram");
  auto& slot = counters_[name];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Histogram& StatSet::histogram(const std::string& name, std::vector<int64_t> bounds) {
  WAFERSIM_REQUIRE(!counters_.count(name), "statistic \"", name, "\" is already a counter");
  auto& slot = histograms_[name];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

}  // namespace wafersim
