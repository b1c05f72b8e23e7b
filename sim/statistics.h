// Per-component statistics: counters and histograms of integers.
//
// Values are integers (counts, picoseconds, bytes) so that merging and printing them is exact and
// partition-independent. A component registers its statistics during construction or setup
// (Component::counter / histogram) and updates them while running; after finish() the kernel
// collects them into the results document, sorted by component and statistic name.
#pragma once

#include <cstdint>
#include <limits>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace wafersim {

class StateReader;
class StateWriter;

class Counter {
 public:
  void add(uint64_t n = 1) { value_ += n; }
  uint64_t value() const { return value_; }

 private:
  friend class StatSet;  // restore()
  uint64_t value_ = 0;
};

// Fixed buckets: bucket i counts samples in [bounds[i-1], bounds[i]); the first bucket takes
// everything below bounds[0] and the last everything from bounds.back() on.
class Histogram {
 public:
  explicit Histogram(std::vector<int64_t> bounds);
  void add(int64_t sample);

  const std::vector<int64_t>& bounds() const { return bounds_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t count() const { return count_; }
  int64_t sum() const { return sum_; }
  int64_t min() const { return min_; }
  int64_t max() const { return max_; }

 private:
  friend class StatSet;  // restore()
  std::vector<int64_t> bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  int64_t max_ = std::numeric_limits<int64_t>::min();
};

// Rows of integers under named columns, in the order they were added (per-request records of a
// serving run: the CLI writes them as CSV). Integers only, so results stay bit-identical; a text
// cell is the index of a string in the table's own list (text()), for logs that need words.
class Table {
 public:
  explicit Table(std::vector<std::string> columns);
  void addRow(std::initializer_list<int64_t> values);  // one value per column, or Error{Internal}
  int64_t text(const std::string& value);               // its index in strings(), added once

  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<int64_t>& values() const { return values_; }  // row-major
  const std::vector<std::string>& strings() const { return strings_; }
  size_t rows() const { return values_.size() / columns_.size(); }

 private:
  friend class StatSet;  // restore()
  std::vector<std::string> columns_;
  std::vector<int64_t> values_;
  std::vector<std::string> strings_;
};

// The statistics of one component, by name. Names are unique per component.
class StatSet {
 public:
  Counter& counter(const std::string& name);
  Histogram& histogram(const std::string& name, std::vector<int64_t> bounds);
  Table& table(const std::string& name, std::vector<std::string> columns);

  const std::map<std::string, std::unique_ptr<Counter>>& counters() const { return counters_; }
  const std::map<std::string, std::unique_ptr<Histogram>>& histograms() const { return histograms_; }
  const std::map<std::string, std::unique_ptr<Table>>& tables() const { return tables_; }

  // Every value, for checkpoints (checkpoint.h). restore() sets the statistics saved to their
  // saved values, creating those not registered yet; a histogram or table registered with other
  // bounds or columns than saved is a corrupt checkpoint (Error{InvalidConfig} from `in`).
  void save(StateWriter& out) const;
  void restore(StateReader& in);

 private:
  std::map<std::string, std::unique_ptr<Counter>> counters_;
  std::map<std::string, std::unique_ptr<Histogram>> histograms_;
  std::map<std::string, std::unique_ptr<Table>> tables_;
};

}  // namespace wafersim
