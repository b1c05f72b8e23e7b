#include "sim/results.h"

#include <algorithm>
#include <cstdio>

#include "sim/energy_report.h"
#include "sim/error.h"

namespace wafersim {
namespace {

uint64_t hashString(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

}  // namespace

void Results::add(const std::vector<ComponentResult>& partitionResults) {
  for (const auto& r : partitionResults) {
    ComponentRecord rec{r.id, r.name, r.type, r.eventDigest, r.eventsCommitted, {}, {}, {}};
    for (const auto& [name, c] : r.stats->counters()) rec.counters[name] = c->value();
    for (const auto& [name, h] : r.stats->histograms())
      rec.histograms[name] = {h->bounds(), h->counts(), h->count(), h->sum(), h->count() ? h->min() : 0,
                              h->count() ? h->max() : 0};
    for (const auto& [name, t] : r.stats->tables()) rec.tables[name] = {t->columns(), t->values(), t->strings()};
    add(std::move(rec));
  }
}

void Results::add(ComponentRecord record) {
  auto it = std::lower_bound(components_.begin(), components_.end(), record.id,
                             [](const ComponentRecord& r, ComponentId id) { return r.id < id; });
  WAFERSIM_ASSERT(it == components_.end() || it->id != record.id, "component ", record.name, " reported twice");
  components_.insert(it, std::move(record));
}

uint64_t Results::eventsCommitted() const {
  uint64_t n = 0;
  for (const auto& c : components_) n += c.eventsCommitted;
  return n;
}

uint64_t Results::digest() const {
  uint64_t h = 0x5741464552534D31ull;  // "WAFERSM1"
  for (const auto& c : components_) {
    h = mixHash(h, c.id);
    h = mixHash(h, c.eventDigest);
    h = mixHash(h, c.eventsCommitted);
    for (const auto& [name, v] : c.counters) h = mixHash(mixHash(h, hashString(name)), v);
    for (const auto& [name, hist] : c.histograms) {
      h = mixHash(h, hashString(name));
      for (int64_t b : hist.bounds) h = mixHash(h, static_cast<uint64_t>(b));
      for (uint64_t n : hist.counts) h = mixHash(h, n);
      h = mixHash(mixHash(mixHash(h, static_cast<uint64_t>(hist.sum)), static_cast<uint64_t>(hist.min)),
                  static_cast<uint64_t>(hist.max));
    }
    for (const auto& [name, t] : c.tables) {
      h = mixHash(h, hashString(name));
      for (const auto& col : t.columns) h = mixHash(h, hashString(col));
      for (int64_t v : t.values) h = mixHash(h, static_cast<uint64_t>(v));
      for (const auto& text : t.strings) h = mixHash(h, hashString(text));
    }
  }
  return mixHash(h, static_cast<uint64_t>(simulatedTime_.ps()));
}

std::string Results::digestHex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(digest()));
  return buf;
}

nlohmann::json Results::toJson() const {
  nlohmann::json doc;
  doc["digest"] = digestHex();
  doc["events_committed"] = eventsCommitted();
  doc["simulated_time_ps"] = simulatedTime_.ps();
  nlohmann::json comps = nlohmann::json::object();
  for (const auto& c : components_) {
    nlohmann::json j;
    j["id"] = c.id;
    j["type"] = c.type;
    j["events"] = c.eventsCommitted;
    nlohmann::json stats = nlohmann::json::object();
    for (const auto& [name, v] : c.counters) stats[name] = v;
    for (const auto& [name, hist] : c.histograms)
      stats[name] = {{"bounds", hist.bounds}, {"counts", hist.counts}, {"count", hist.count},
                     {"sum", hist.sum},       {"min", hist.min},       {"max", hist.max}};
    j["stats"] = std::move(stats);
    for (const auto& [name, t] : c.tables) {
      nlohmann::json rows = nlohmann::json::array();
      for (size_t r = 0; r < t.rows(); ++r)
        rows.push_back(std::vector<int64_t>(t.values.begin() + static_cast<long>(r * t.columns.size()),
                                            t.values.begin() + static_cast<long>((r + 1) * t.columns.size())));
      j["tables"][name] = {{"columns", t.columns}, {"rows", std::move(rows)}};
      if (!t.strings.empty()) j["tables"][name]["strings"] = t.strings;
    }
    comps[c.name] = std::move(j);
  }
  doc["components"] = std::move(comps);
  if (const EnergyReport energy = energyReport(*this); !energy.empty()) doc["energy"] = energy.toJson();
  return doc;
}

}  // namespace wafersim
