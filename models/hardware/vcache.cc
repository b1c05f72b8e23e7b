#include "models/hardware/vcache.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "sim/checkpoint.h"
#include "sim/error.h"

namespace wafersim::hw {

VCachePolicy parseVCachePolicy(const std::string& text, const std::string& field) {
  if (text == "lru") return VCachePolicy::Lru;
  if (text == "lfu") return VCachePolicy::Lfu;
  fail(ErrorKind::InvalidConfig, field, ": unknown V-Cache policy \"", text, "\" (lru, lfu)");
}

const char* toString(VCachePolicy p) { return p == VCachePolicy::Lru ? "lru" : "lfu"; }

ExpertWeightCache::ExpertWeightCache(uint64_t capacityBytes, VCachePolicy policy)
    : capacity_(capacityBytes), policy_(policy) {}

bool ExpertWeightCache::resident(uint32_t layer, uint32_t expert, uint32_t parts) const {
  return entries_.count({layer, expert, parts}) > 0;
}

ExpertWeightCache::Access ExpertWeightCache::access(uint32_t layer, uint32_t expert, uint32_t parts, uint64_t bytes,
                                                    uint64_t tokens) {
  const Key key{layer, expert, parts};
  ++clock_;
  uint64_t& count = tokens_[key];
  count += tokens;
  Access a;
  if (auto it = entries_.find(key); it != entries_.end()) {
    it->second.lastUse = clock_;
    ++hits_;
    a.hit = true;
    return a;
  }
  ++misses_;
  if (bytes > capacity_) return a;
  // Evict until it fits, least counted (lfu) or least recently used first; under lfu only
  // residents counted below the newcomer may go. Victims are chosen before anything is evicted,
  // so a refused newcomer leaves the cache as it was.
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, Key>> order;  // ((count, last use), key)
  for (const auto& [k, entry] : entries_)
    order.push_back({{policy_ == VCachePolicy::Lfu ? tokens_.at(k) : 0, entry.lastUse}, k});
  std::sort(order.begin(), order.end());
  uint64_t freed = capacity_ - used_;
  size_t victims = 0;
  for (; freed < bytes && victims < order.size(); ++victims) {
    if (policy_ == VCachePolicy::Lfu && order[victims].first.first >= count) break;
    freed += entries_.at(order[victims].second).bytes;
  }
  if (freed < bytes) return a;
  for (size_t i = 0; i < victims; ++i) {
    used_ -= entries_.at(order[i].second).bytes;
    entries_.erase(order[i].second);
  }
  entries_[key] = Entry{bytes, clock_};
  used_ += bytes;
  a.filledBytes = bytes;
  return a;
}

namespace {

void saveKey(StateWriter& out, const std::tuple<uint32_t, uint32_t, uint32_t>& key) {
  out.u32(std::get<0>(key));
  out.u32(std::get<1>(key));
  out.u32(std::get<2>(key));
}

std::tuple<uint32_t, uint32_t, uint32_t> restoreKey(StateReader& in) {
  const uint32_t layer = in.u32(), expert = in.u32();
  return {layer, expert, in.u32()};
}

}  // namespace

void ExpertWeightCache::save(StateWriter& out) const {
  out.u64(used_);
  out.u64(clock_);
  out.u64(hits_);
  out.u64(misses_);
  out.u64(entries_.size());
  for (const auto& [key, entry] : entries_) {
    saveKey(out, key);
    out.u64(entry.bytes);
    out.u64(entry.lastUse);
  }
  out.u64(tokens_.size());
  for (const auto& [key, count] : tokens_) {
    saveKey(out, key);
    out.u64(count);
  }
}

void ExpertWeightCache::restore(StateReader& in) {
  used_ = in.u64();
  clock_ = in.u64();
  hits_ = in.u64();
  misses_ = in.u64();
  entries_.clear();
  tokens_.clear();
  uint64_t held = 0;
  for (uint64_t n = in.count(12 + 16); n > 0; --n) {
    const Key key = restoreKey(in);
    Entry& e = entries_[key];
    e.bytes = in.u64();
    e.lastUse = in.u64();
    held += e.bytes;
  }
  for (uint64_t n = in.count(12 + 8); n > 0; --n) {
    const Key key = restoreKey(in);
    tokens_[key] = in.u64();
  }
  if (held != used_ || used_ > capacity_)
    in.corrupt("a V-Cache of " + std::to_string(capacity_) + " B holding " + std::to_string(held) + " B, " +
               std::to_string(used_) + " B counted");
}

}  // namespace wafersim::hw
