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

Table::Table(std::vector<std::string> columns) : columns_(std::move(columns)) {
  WAFERSIM_REQUIRE(!columns_.empty(), "a table needs at least one column");
}

void Table::addRow(std::initializer_list<int64_t> values) {
  WAFERSIM_ASSERT(values.size() == columns_.size(), "table row of ", values.size(), " values for ", columns_.size(),
                  " columns");
  values_.insert(values_.end(), values.begin(), values.end());
}

int64_t Table::text(const std::string& value) {
  for (size_t i = 0; i < strings_.size(); ++i)
    if (strings_[i] == value) return static_cast<int64_t>(i);
  strings_.push_back(value);
  return static_cast<int64_t>(strings_.size() - 1);
}

Table& StatSet::table(const std::string& name, std::vector<std::string> columns) {
  auto& slot = tables_[name];
  if (!slot) slot = std::make_unique<Table>(std::move(columns));
  WAFERSIM_REQUIRE(slot->columns() == columns || columns.empty(), "table \"", name, "\" declared twice with other columns");
  return *slot;
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
