#include "placement/copies_per_token.h"

#include <algorithm>

#include "sim/error.h"

namespace wafersim::placement {
namespace {

struct UnitWeight {
  uint32_t unit;
  double weight;
};

// Sum over the layer's units of the estimated number of tokens reaching each.
double reachedTokens(const LoadProfile& prof, const Placement& placement, uint32_t l,
                     const std::vector<uint32_t>& unitOf, uint32_t units) {
  const uint32_t E = placement.experts();
  std::vector<std::vector<UnitWeight>> w(E);
  for (uint32_t e = 0; e < E; ++e) {
    const auto& copies = placement.replicas(l, e);
    for (const Replica& r : copies) {
      std::vector<uint32_t> seen;
      for (const Shard& s : r.shards) {
        const uint32_t u = unitOf.empty() ? s.die : unitOf[s.die];
        if (std::find(seen.begin(), seen.end(), u) != seen.end()) continue;
        seen.push_back(u);
        auto it = std::find_if(w[e].begin(), w[e].end(), [u](const UnitWeight& x) { return x.unit == u; });
        if (it == w[e].end())
          w[e].push_back({u, 1.0 / double(copies.size())});
        else
          it->weight += 1.0 / double(copies.size());
      }
    }
  }
  std::vector<double> mean(units, 0.0), pairs(units, 0.0), dense(units, 0.0);
  for (uint32_t e = 0; e < E; ++e)
    for (const UnitWeight& x : w[e]) mean[x.unit] += double(prof.load(l, e)) * x.weight;
  if (prof.hasPairs())
    for (uint32_t a = 0; a < E; ++a) {
      for (const UnitWeight& x : w[a]) dense[x.unit] = x.weight;
      for (uint32_t b = 0; b < E; ++b) {
        if (b == a) continue;
        const uint32_t n = prof.pair(l, a, b);
        if (n == 0) continue;
        for (const UnitWeight& y : w[b])
          if (dense[y.unit] > 0) pairs[y.unit] += double(n) * dense[y.unit] * y.weight;
      }
      for (const UnitWeight& x : w[a]) dense[x.unit] = 0;
    }
  double reached = 0;
  const auto tokens = double(prof.tokens(l));
  for (uint32_t u = 0; u < units; ++u) {
    const double m = mean[u], s = pairs[u];
    if (m <= 0) continue;
    const double bound = std::max(m - s / 2, m * m / (m + s));
    reached += std::min({m, tokens, bound});
  }
  return reached;
}

double copies(const LoadProfile& prof, const Placement& placement, uint32_t layer,
              const std::vector<uint32_t>& unitOf) {
  WAFERSIM_REQUIRE(prof.layers() == placement.layers() && prof.experts() == placement.experts(),
                   "copies per token: a profile of ", prof.layers(), " x ", prof.experts(), " for a placement of ",
                   placement.layers(), " x ", placement.experts());
  WAFERSIM_REQUIRE(unitOf.empty() || unitOf.size() == placement.dies(), "copies per token: a group map of ",
                   unitOf.size(), " dies for ", placement.dies());
  uint32_t units = placement.dies();
  if (!unitOf.empty()) units = *std::max_element(unitOf.begin(), unitOf.end()) + 1;
  const uint32_t first = layer == kAllLayers ? 0 : layer, last = layer == kAllLayers ? placement.layers() : layer + 1;
  double reached = 0, tokens = 0;
  for (uint32_t l = first; l < last; ++l) {
    if (prof.tokens(l) == 0) continue;
    reached += reachedTokens(prof, placement, l, unitOf, units);
    tokens += double(prof.tokens(l));
  }
  return tokens > 0 ? reached / tokens : 0;
}

}  // namespace

double copiesPerToken(const LoadProfile& prof, const Placement& placement, uint32_t layer) {
  return copies(prof, placement, layer, {});
}

double groupCopiesPerToken(const LoadProfile& prof, const Placement& placement, uint32_t layer,
                           const std::vector<uint32_t>& groupOf) {
  WAFERSIM_REQUIRE(!groupOf.empty(), "copies per token: no group map");
  return copies(prof, placement, layer, groupOf);
}

double copiesPerTokenExact(std::span<const uint32_t> choices, uint32_t topK, const Placement& placement, uint32_t layer,
                           const std::vector<uint32_t>& groupOf) {
  WAFERSIM_REQUIRE(topK > 0 && choices.size() % topK == 0, "copies per token: ", choices.size(), " choices, top-",
                   topK);
  const size_t tokens = choices.size() / topK;
  if (tokens == 0) return 0;
  std::vector<uint32_t> units;
  uint64_t total = 0;
  for (size_t t = 0; t < tokens; ++t) {
    units.clear();
    for (uint32_t j = 0; j < topK; ++j)
      for (const Shard& s : placement.replicas(layer, choices[t * topK + j]).front().shards)
        units.push_back(groupOf.empty() ? s.die : groupOf[s.die]);
    std::sort(units.begin(), units.end());
    total += static_cast<uint64_t>(std::unique(units.begin(), units.end()) - units.begin());
  }
  return double(total) / double(tokens);
}

std::vector<uint32_t> chipletGroups(const Fabric& f) {
  if (!f.groupOf.empty()) return f.groupOf;
  std::vector<uint32_t> out(f.dies);
  for (uint32_t d = 0; d < f.dies; ++d) out[d] = d / 4;
  return out;
}

}  // namespace wafersim::placement
