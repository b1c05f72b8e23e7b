#include "sim/statistics.h"

#include <algorithm>

#include "sim/checkpoint.h"
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

void StatSet::save(StateWriter& out) const {
  out.u64(counters_.size());
  for (const auto& [name, c] : counters_) {
    out.text(name);
    out.u64(c->value_);
  }
  out.u64(histograms_.size());
  for (const auto& [name, h] : histograms_) {
    out.text(name);
    out.podVector(h->bounds_);
    out.podVector(h->counts_);
    out.u64(h->count_);
    out.i64(h->sum_);
    out.i64(h->min_);
    out.i64(h->max_);
  }
  out.u64(tables_.size());
  for (const auto& [name, t] : tables_) {
    out.text(name);
    out.u64(t->columns_.size());
    for (const auto& column : t->columns_) out.text(column);
    out.podVector(t->values_);
    out.u64(t->strings_.size());
    for (const auto& text : t->strings_) out.text(text);
  }
}

void StatSet::restore(StateReader& in) {
  for (uint64_t n = in.count(9); n > 0; --n) {
    const std::string name = in.text();
    if (histograms_.count(name)) in.corrupt("statistic \"" + name + "\" is a histogram, saved as a counter");
    counter(name).value_ = in.u64();
  }
  for (uint64_t n = in.count(9); n > 0; --n) {
    const std::string name = in.text();
    if (counters_.count(name)) in.corrupt("statistic \"" + name + "\" is a counter, saved as a histogram");
    std::vector<int64_t> bounds = in.podVector<int64_t>();
    if (!std::is_sorted(bounds.begin(), bounds.end()) || std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end())
      in.corrupt("histogram \"" + name + "\": bounds not strictly increasing");
    Histogram& h = histogram(name, bounds);
    if (h.bounds_ != bounds) in.corrupt("histogram \"" + name + "\": saved with other bounds than the component's");
    std::vector<uint64_t> counts = in.podVector<uint64_t>();
    if (counts.size() != bounds.size() + 1)
      in.corrupt("histogram \"" + name + "\": " + std::to_string(counts.size()) + " counts for " +
                 std::to_string(bounds.size()) + " bounds");
    h.counts_ = std::move(counts);
    h.count_ = in.u64();
    h.sum_ = in.i64();
    h.min_ = in.i64();
    h.max_ = in.i64();
  }
  for (uint64_t n = in.count(9); n > 0; --n) {
    const std::string name = in.text();
    std::vector<std::string> columns(in.count(8));
    for (auto& column : columns) column = in.text();
    if (columns.empty()) in.corrupt("table \"" + name + "\" has no columns");
    auto& slot = tables_[name];
    if (!slot) slot = std::make_unique<Table>(columns);
    if (slot->columns_ != columns) in.corrupt("table \"" + name + "\": saved with other columns than the component's");
    std::vector<int64_t> values = in.podVector<int64_t>();
    if (values.size() % columns.size() != 0)
      in.corrupt("table \"" + name + "\": " + std::to_string(values.size()) + " values do not fill rows of " +
                 std::to_string(columns.size()));
    slot->values_ = std::move(values);
    std::vector<std::string> strings(in.count(8));
    for (auto& text : strings) text = in.text();
    slot->strings_ = std::move(strings);
  }
}

}  // namespace wafersim
