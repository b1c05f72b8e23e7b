#include "placement/placement.h"

#include <algorithm>
#include <numeric>

#include "sim/error.h"

namespace wafersim::placement {

const char* toString(Split split) {
  switch (split) {
    case Split::Even: return "even";
    case Split::LeastLoaded: return "least_loaded";
    case Split::Nearest: return "nearest";
  }
  return "?";
}

Split parseSplit(const std::string& text, const std::string& field) {
  if (text == "even") return Split::Even;
  if (text == "least_loaded") return Split::LeastLoaded;
  if (text == "nearest") return Split::Nearest;
  fail(ErrorKind::InvalidConfig, field, ": unknown split \"", text, "\" (even, least_loaded, nearest)");
}

Placement::Placement(uint32_t dies, uint32_t layers, uint32_t experts)
    : dies_(dies), layers_(layers), experts_(experts), copies_(size_t{layers} * experts) {
  WAFERSIM_REQUIRE(dies >= 1, "placement: no dies");
}

const std::vector<Replica>& Placement::replicas(uint32_t layer, uint32_t expert) const {
  WAFERSIM_ASSERT(layer < layers_ && expert < experts_, layer, expert);
  return copies_[size_t{layer} * experts_ + expert];
}

std::vector<Replica>& Placement::replicas(uint32_t layer, uint32_t expert) {
  WAFERSIM_ASSERT(layer < layers_ && expert < experts_, layer, expert);
  return copies_[size_t{layer} * experts_ + expert];
}

void Placement::putWhole(uint32_t layer, uint32_t expert, uint32_t die, uint32_t engine) {
  replicas(layer, expert) = {Replica{{Shard{die, kWhole, engine}}}};
}

void Placement::putSplit(uint32_t layer, uint32_t expert, const std::vector<uint32_t>& dies) {
  WAFERSIM_ASSERT(!dies.empty() && dies.size() <= kWhole, dies.size());
  Replica r;
  const auto n = static_cast<uint32_t>(dies.size());
  for (uint32_t i = 0; i < n; ++i) r.shards.push_back({dies[i], kWhole / n + (i < kWhole % n ? 1u : 0u)});
  replicas(layer, expert) = {std::move(r)};
}

std::vector<uint64_t> Placement::partsPerDie() const {
  std::vector<uint64_t> parts(dies_, 0);
  for (const auto& copies : copies_)
    for (const Replica& r : copies)
      for (const Shard& s : r.shards) parts[s.die] += s.parts;
  return parts;
}

uint64_t Placement::replicaCount() const {
  uint64_t n = 0;
  for (const auto& copies : copies_) n += copies.size();
  return n;
}

void Placement::validate(const std::string& where, const std::vector<bool>& unusable) const {
  WAFERSIM_REQUIRE(copies_.size() == size_t{layers_} * experts_, where, ": placement of ", copies_.size(),
                   " experts, expected ", size_t{layers_} * experts_);
  std::vector<uint32_t> seen(dies_, UINT32_MAX);
  for (uint32_t l = 0; l < layers_; ++l)
    for (uint32_t e = 0; e < experts_; ++e) {
      const auto& copies = replicas(l, e);
      WAFERSIM_REQUIRE(!copies.empty(), where, ": MoE layer ", l, " expert ", e, " has no copy");
      const uint32_t stamp = l * experts_ + e;
      for (const Replica& r : copies) {
        uint64_t sum = 0;
        WAFERSIM_REQUIRE(!r.shards.empty(), where, ": MoE layer ", l, " expert ", e, " has an empty replica");
        for (const Shard& s : r.shards) {
          WAFERSIM_REQUIRE(s.die < dies_, where, ": MoE layer ", l, " expert ", e, " is placed on die ", s.die, " of ",
                           dies_);
          WAFERSIM_REQUIRE(unusable.empty() || !unusable[s.die], where, ": MoE layer ", l, " expert ", e,
                           " is placed on die ", s.die, ", which failed");
          WAFERSIM_REQUIRE(seen[s.die] != stamp, where, ": MoE layer ", l, " expert ", e, " has two copies on die ",
                           s.die);
          WAFERSIM_REQUIRE(s.parts > 0, where, ": MoE layer ", l, " expert ", e, " has an empty shard on die ", s.die);
          seen[s.die] = stamp;
          sum += s.parts;
        }
        WAFERSIM_REQUIRE(sum == kWhole, where, ": MoE layer ", l, " expert ", e, " has a replica of ", sum, "/",
                         kWhole, " parts (a replica's shards must add up to one copy)");
      }
    }
  WAFERSIM_REQUIRE(nodeMap.empty() || nodeMap.size() == dies_, where, ": a node map of ", nodeMap.size(),
                   " nodes for ", dies_, " dies");
}

std::vector<Migration> migrations(const Placement& before, const Placement& after, const std::vector<uint32_t>& hops) {
  WAFERSIM_REQUIRE(before.dies() == after.dies() && before.layers() == after.layers() &&
                       before.experts() == after.experts(),
                   "placement: migration between placements of different shapes");
  const uint32_t D = before.dies();
  std::vector<Migration> out;
  std::vector<uint64_t> had(D), has(D);
  std::vector<uint32_t> order(D);
  for (uint32_t l = 0; l < before.layers(); ++l)
    for (uint32_t e = 0; e < before.experts(); ++e) {
      std::fill(had.begin(), had.end(), 0);
      std::fill(has.begin(), has.end(), 0);
      for (const Replica& r : before.replicas(l, e))
        for (const Shard& s : r.shards) had[s.die] += s.parts;
      for (const Replica& r : after.replicas(l, e))
        for (const Shard& s : r.shards) has[s.die] += s.parts;
      for (uint32_t to = 0; to < D; ++to) {
        if (has[to] <= had[to]) continue;
        uint64_t need = has[to] - had[to];
        // Sources: old holders, nearest first (ties: lower die), each giving at most what it held.
        std::iota(order.begin(), order.end(), 0u);
        if (!hops.empty())
          std::stable_sort(order.begin(), order.end(),
                           [&](uint32_t a, uint32_t b) { return hops[size_t{to} * D + a] < hops[size_t{to} * D + b]; });
        for (uint32_t from : order) {
          if (need == 0) break;
          if (from == to || had[from] == 0) continue;
          const uint64_t take = std::min(need, had[from]);
          out.push_back({l, e, from, to, take});
          need -= take;
        }
      }
    }
  return out;
}

}  // namespace wafersim::placement
