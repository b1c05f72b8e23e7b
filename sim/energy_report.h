// Energy totals of a run, per component and per category, from the counters components keep by
// convention (models/hardware/units.h EnergyMeter):
//   "energy_<category>_pj"  dynamic energy of that category in whole picojoules;
//   "static_power_uw"       the component's static power in microwatts, charged over the run's
//                           whole simulated time as category "static".
// Integer picojoules throughout (static rounded down per component); joules only when rendered.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace wafersim {

class Results;

struct EnergyReport {
  std::map<std::string, uint64_t> byCategoryPj;
  std::map<std::string, std::map<std::string, uint64_t>> byComponentPj;  // component -> category -> pJ
  uint64_t totalPj = 0;
  bool empty() const { return byComponentPj.empty(); }
  // {"total_j": ..., "total_pj": ..., "by_category_j": {...}, "by_component_j": {name: {...}}}
  nlohmann::json toJson() const;
};

EnergyReport energyReport(const Results& results);

}  // namespace wafersim
