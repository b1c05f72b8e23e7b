// An expert placement: where every routed expert of every MoE layer lives, fractionally and
// replicated (issue: placement service).
//
// Expert e of MoE layer l has one or more replicas. A replica is one whole copy of the expert's
// weights, split tensor-parallel over its shards: shard s on die d holds parts/kWhole of the FFN's
// intermediate columns (and so of its weights and FLOPs); a replica's parts sum to kWhole. Every
// token routed to a replica visits each of its shards (the dispatch to, and the partial-sum
// combine from, every shard die). Tokens of a replicated expert are split among its replicas by
// the placement's Split rule, deterministically.
//
//   TP (every expert on every die): one replica, a shard of kWhole / D on each die.
//   EP (whole experts):             one replica, one shard of kWhole.
//   EPLB / Dup (redundant copies):  several replicas of one shard each.
//
// Dies are the system's physical dies (endpoint indices). `nodeMap`, when set, records the
// logical-node-to-die map a policy chose (HD-MoE LinkBalance), for the decision log only: shards
// already name physical dies. A shard may pin an engine of a multi-engine die (Duplex
// co-processing: "xpu" for the hot experts); kDefaultEngine: the scenario's expert engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wafersim::placement {

inline constexpr uint32_t kWhole = 1u << 16;  // parts of one expert
inline constexpr uint32_t kDefaultEngine = UINT32_MAX;

struct Shard {
  uint32_t die = 0;
  uint32_t parts = kWhole;
  uint32_t engine = kDefaultEngine;
  bool operator==(const Shard&) const = default;
};

struct Replica {
  std::vector<Shard> shards;  // parts sum to kWhole, one shard per die at most
  bool operator==(const Replica&) const = default;
};

// How the tokens of an expert with several replicas are split among them.
//   even:         in turn (token i of the step to replica i mod R, per expert)
//   least_loaded: to the replica whose dies have the fewest expert tokens so far in this step
//   nearest:      to the replica fewest hops from the token's die (ties: least loaded)
enum class Split { Even, LeastLoaded, Nearest };
const char* toString(Split split);
Split parseSplit(const std::string& text, const std::string& field);  // throws naming field

class Placement {
 public:
  Placement() = default;
  Placement(uint32_t dies, uint32_t layers, uint32_t experts);

  uint32_t dies() const { return dies_; }
  uint32_t layers() const { return layers_; }
  uint32_t experts() const { return experts_; }

  const std::vector<Replica>& replicas(uint32_t layer, uint32_t expert) const;
  std::vector<Replica>& replicas(uint32_t layer, uint32_t expert);
  // Replaces the expert's replicas with one whole copy on `die`.
  void putWhole(uint32_t layer, uint32_t expert, uint32_t die, uint32_t engine = kDefaultEngine);
  // One replica split over `dies` in (nearly) equal parts, the remainder to the first ones.
  void putSplit(uint32_t layer, uint32_t expert, const std::vector<uint32_t>& dies);

  Split split = Split::Even;
  std::vector<uint32_t> nodeMap;  // logical node -> die (empty: identity / not applicable)

  // Expert weight parts resident on each die, summed over layers and experts (kWhole = one expert).
  std::vector<uint64_t> partsPerDie() const;
  // Throws Error{InvalidConfig} naming `where`, the layer and the expert: no replica, parts not
  // summing to kWhole, a die out of range or listed twice in a replica, a die in `unusable`.
  void validate(const std::string& where, const std::vector<bool>& unusable = {}) const;
  // Whole copies of expert weights on each die beyond the first replica (for memory budgets).
  uint64_t replicaCount() const;

  bool operator==(const Placement&) const = default;

 private:
  uint32_t dies_ = 0, layers_ = 0, experts_ = 0;
  std::vector<std::vector<Replica>> copies_;  // [layer * experts + expert]
};

// The weights that move from one placement to the next: `parts` of expert (layer, expert) arrive
// on die `to` from die `from` (a die that held at least those parts of it before; the nearest by
// `hops` when given, D x D).
struct Migration {
  uint32_t layer = 0, expert = 0, from = 0, to = 0;
  uint64_t parts = 0;
  bool operator==(const Migration&) const = default;
};
std::vector<Migration> migrations(const Placement& before, const Placement& after,
                                  const std::vector<uint32_t>& hops = {});

}  // namespace wafersim::placement
