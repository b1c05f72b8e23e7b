// Immutable data a model shares among its components: routing tables, hardware specs, expert
// placements. Too large and too structured for text parameters (params.h), it is built once by the
// model's builder, attached to the SystemGraph under a key, and reached by every component through
// ComponentContext::data. Every partition (and every node process, which rebuilds the graph from
// the scenario) sees the same data, so results do not depend on the partitioning. Read-only after
// building: partition threads share it without locks.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <typeindex>
#include <utility>

#include "sim/error.h"

namespace wafersim {

class ModelData {
 public:
  template <class T>
  void put(const std::string& key, std::shared_ptr<const T> value) {
    WAFERSIM_REQUIRE(value != nullptr, "model data \"", key, "\" is null");
    entries_.insert_or_assign(key, Entry{std::type_index(typeid(T)), std::move(value)});
  }

  // Throws Error{InvalidConfig} naming `who` when the key is missing or holds another type.
  template <class T>
  std::shared_ptr<const T> get(const std::string& key, const std::string& who) const {
    auto it = entries_.find(key);
    WAFERSIM_REQUIRE(it != entries_.end(), who, " needs model data \"", key,
                     "\", which this graph does not carry (build it with its model's builder)");
    WAFERSIM_REQUIRE(it->second.type == std::type_index(typeid(T)), who, ": model data \"", key,
                     "\" has another type than expected");
    return std::static_pointer_cast<const T>(it->second.value);
  }

  bool has(const std::string& key) const { return entries_.count(key) != 0; }

 private:
  struct Entry {
    std::type_index type;
    std::shared_ptr<const void> value;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace wafersim
