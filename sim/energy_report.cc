#include "sim/energy_report.h"

#include "sim/error.h"
#include "sim/results.h"

namespace wafersim {
namespace {

constexpr std::string_view kPrefix = "energy_", kSuffix = "_pj";

void addChecked(uint64_t& sum, uint64_t v, const std::string& what) {
  WAFERSIM_REQUIRE(!__builtin_add_overflow(sum, v, &sum), "energy total of ", what, " overflows 64-bit pJ");
}

double joules(uint64_t pj) { return static_cast<double>(pj) * 1e-12; }

}  // namespace

EnergyReport energyReport(const Results& results) {
  EnergyReport r;
  const auto simulatedPs = static_cast<unsigned __int128>(results.simulatedTime().ps());
  for (const ComponentRecord& c : results.components()) {
    std::map<std::string, uint64_t> mine;
    for (const auto& [name, value] : c.counters) {
      if (name.size() > kPrefix.size() + kSuffix.size() && name.starts_with(kPrefix) && name.ends_with(kSuffix))
        mine[name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size())] += value;
      if (name == "static_power_uw" && value > 0) {
        // uW x ps = 1e-18 J = 1e-6 pJ
        const unsigned __int128 pj = static_cast<unsigned __int128>(value) * simulatedPs / 1'000'000u;
        WAFERSIM_REQUIRE(pj <= UINT64_MAX, "static energy of ", c.name, " overflows 64-bit pJ");
        mine["static"] += static_cast<uint64_t>(pj);
      }
    }
    if (mine.empty()) continue;
    for (const auto& [category, pj] : mine) {
      addChecked(r.byCategoryPj[category], pj, category);
      addChecked(r.totalPj, pj, "the run");
    }
    r.byComponentPj[c.name] = std::move(mine);
  }
  return r;
}

nlohmann::json EnergyReport::toJson() const {
  nlohmann::json j;
  j["total_pj"] = totalPj;
  j["total_j"] = joules(totalPj);
  nlohmann::json cats = nlohmann::json::object();
  for (const auto& [category, pj] : byCategoryPj) cats[category] = joules(pj);
  j["by_category_j"] = std::move(cats);
  nlohmann::json comps = nlohmann::json::object();
  for (const auto& [name, categories] : byComponentPj) {
    nlohmann::json c = nlohmann::json::object();
    for (const auto& [category, pj] : categories) c[category] = joules(pj);
    comps[name] = std::move(c);
  }
  j["by_component_j"] = std::move(comps);
  return j;
}

}  // namespace wafersim
