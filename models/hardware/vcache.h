// The V-Cache (A3D-MoE, research/seeds.md 1): a die's bonded SRAM tier holding routed experts'
// weights across steps, so a resident expert's FFN streams its weights from the SRAM (at the
// SRAM's bandwidth and energy) instead of the DRAM. Capacity-limited; the serving die asks it once
// per expert FFN it runs, in program order, so the contents are deterministic.
//
// Policies (what stays when an expert does not fit):
//   lru   least recently used is evicted; every miss is admitted.
//   lfu   score-aware: each (layer, expert) counts the tokens routed to it on this die so far; a
//         miss is admitted only when it fits in free room or its count exceeds that of the least
//         counted resident (ties keep the resident), which is then evicted (repeatedly, until it
//         fits). Hot experts stay; a cold one streams from the DRAM without disturbing them.
// An expert larger than the whole cache is never admitted. Between equal counts (lfu) the less
// recently used resident goes first.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

namespace wafersim {
class StateWriter;
class StateReader;
}  // namespace wafersim

namespace wafersim::hw {

enum class VCachePolicy : uint8_t { Lru, Lfu };

VCachePolicy parseVCachePolicy(const std::string& text, const std::string& field);  // "lru", "lfu"
const char* toString(VCachePolicy p);

class ExpertWeightCache {
 public:
  ExpertWeightCache(uint64_t capacityBytes, VCachePolicy policy);

  struct Access {
    bool hit = false;
    uint64_t filledBytes = 0;  // a miss admitted: the weights written into the SRAM
  };
  // The FFN of `expert` at MoE layer `layer` (its shard of `parts`, `bytes` of weights) runs with
  // `tokens` tokens: a hit, or a miss that may be admitted.
  Access access(uint32_t layer, uint32_t expert, uint32_t parts, uint64_t bytes, uint64_t tokens);

  uint64_t capacity() const { return capacity_; }
  uint64_t used() const { return used_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  bool resident(uint32_t layer, uint32_t expert, uint32_t parts) const;

  // Checkpoints: the contents, the token counts, the clock and the tallies.
  void save(StateWriter& out) const;
  void restore(StateReader& in);

 private:
  using Key = std::tuple<uint32_t, uint32_t, uint32_t>;  // layer, expert, parts
  struct Entry {
    uint64_t bytes = 0;
    uint64_t lastUse = 0;
  };
  uint64_t capacity_;
  VCachePolicy policy_;
  uint64_t used_ = 0, clock_ = 0, hits_ = 0, misses_ = 0;
  std::map<Key, Entry> entries_;
  std::map<Key, uint64_t> tokens_;  // lfu: tokens seen per (layer, expert, parts)
};

}  // namespace wafersim::hw
