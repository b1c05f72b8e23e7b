#include "placement/problem.h"

#include <algorithm>
#include <type_traits>

#include "sim/error.h"

namespace wafersim::placement {
namespace {
constexpr uint32_t kSlots = 4096;  // requests remembered per layer for the cross-token heatmap
}

std::vector<uint32_t> Fabric::usableDies() const {
  std::vector<uint32_t> out;
  for (uint32_t d = 0; d < dies; ++d)
    if (usable(d)) out.push_back(d);
  return out;
}

Fabric Fabric::uniform(uint32_t dies, double flops, double memoryBandwidth, double linkBandwidth,
                       uint64_t expertCapacityBytes) {
  Fabric f;
  f.dies = dies;
  f.hops.assign(size_t{dies} * dies, 1);
  f.paths.resize(size_t{dies} * dies);
  for (uint32_t a = 0; a < dies; ++a)
    for (uint32_t b = 0; b < dies; ++b) {
      if (a == b) {
        f.hops[size_t{a} * dies + b] = 0;
        continue;
      }
      f.paths[size_t{a} * dies + b] = {static_cast<uint32_t>(f.linkBandwidth.size())};
      f.linkBandwidth.push_back(linkBandwidth);
    }
  f.expertFlops.assign(dies, flops);
  f.memoryBandwidth.assign(dies, memoryBandwidth);
  f.expertCapacityBytes.assign(dies, expertCapacityBytes);
  return f;
}

Fabric Fabric::mesh(uint32_t X, uint32_t Y, double flops, double memoryBandwidth, double linkBandwidth,
                    uint64_t expertCapacityBytes) {
  Fabric f;
  f.dies = X * Y;
  f.gridX = X;
  f.gridY = Y;
  const uint32_t D = f.dies;
  // Link ids: for each die, east, west, south, north (present or not: unused ids are harmless).
  auto link = [&](uint32_t die, uint32_t dir) { return die * 4 + dir; };
  f.linkBandwidth.assign(size_t{D} * 4, linkBandwidth);
  f.hops.assign(size_t{D} * D, 0);
  f.paths.resize(size_t{D} * D);
  for (uint32_t s = 0; s < D; ++s)
    for (uint32_t d = 0; d < D; ++d) {
      uint32_t x = s % X, y = s / X;
      const uint32_t tx = d % X, ty = d / X;
      auto& path = f.paths[size_t{s} * D + d];
      while (x != tx) {  // XY: x first
        path.push_back(link(y * X + x, x < tx ? 0 : 1));
        x = x < tx ? x + 1 : x - 1;
      }
      while (y != ty) {
        path.push_back(link(y * X + x, y < ty ? 2 : 3));
        y = y < ty ? y + 1 : y - 1;
      }
      f.hops[size_t{s} * D + d] = static_cast<uint32_t>(path.size());
    }
  f.expertFlops.assign(D, flops);
  f.memoryBandwidth.assign(D, memoryBandwidth);
  f.expertCapacityBytes.assign(D, expertCapacityBytes);
  return f;
}

LoadProfile::LoadProfile(uint32_t layers, uint32_t experts, uint32_t dies, bool pairs, bool next)
    : layers_(layers), experts_(experts), dies_(dies) {
  tokens_.assign(layers, 0);
  load_.assign(size_t{layers} * experts, 0);
  source_.assign(dies, 0);
  if (pairs) pairs_.assign(size_t{layers} * experts * experts, 0);
  if (next) {
    next_.assign(size_t{layers} * experts * experts, 0);
    last_.assign(layers, std::vector<Last>(kSlots));
  }
}

void LoadProfile::clear() {
  std::fill(tokens_.begin(), tokens_.end(), 0);
  std::fill(load_.begin(), load_.end(), 0);
  std::fill(source_.begin(), source_.end(), 0);
  std::fill(pairs_.begin(), pairs_.end(), 0);
  std::fill(next_.begin(), next_.end(), 0);
  // The cross-token memory is kept: the next epoch's first tokens continue their requests.
}

void LoadProfile::decay(double keep) {
  if (keep <= 0) return clear();
  auto scale = [keep](auto& values) {
    for (auto& v : values) v = static_cast<std::remove_reference_t<decltype(v)>>(static_cast<double>(v) * keep);
  };
  scale(tokens_);
  scale(load_);
  scale(source_);
  scale(pairs_);
  scale(next_);
}

void LoadProfile::record(uint32_t layer, std::span<const uint64_t> request, std::span<const uint32_t> position,
                         std::span<const uint32_t> tokenDie, std::span<const uint32_t> choices, uint32_t topK) {
  WAFERSIM_ASSERT(layer < layers_ && choices.size() == tokenDie.size() * topK, layer, choices.size());
  const size_t n = tokenDie.size();
  tokens_[layer] += n;
  uint64_t* load = &load_[size_t{layer} * experts_];
  for (size_t t = 0; t < n; ++t) {
    ++source_[tokenDie[t]];
    const uint32_t* c = &choices[t * topK];
    for (uint32_t j = 0; j < topK; ++j) ++load[c[j]];
    if (!pairs_.empty()) {
      uint32_t* p = &pairs_[size_t{layer} * experts_ * experts_];
      for (uint32_t i = 0; i < topK; ++i)
        for (uint32_t j = 0; j < topK; ++j)
          if (i != j) ++p[size_t{c[i]} * experts_ + c[j]];
    }
    if (!next_.empty() && !request.empty()) {
      Last& last = last_[layer][request[t] % kSlots];
      if (last.request == request[t] && last.position + 1 == position[t]) {
        uint32_t* h = &next_[size_t{layer} * experts_ * experts_];
        for (uint32_t a : last.choices)
          for (uint32_t j = 0; j < topK; ++j) ++h[size_t{a} * experts_ + c[j]];
      }
      last.request = request[t];
      last.position = position[t];
      last.choices.assign(c, c + topK);
    }
  }
}

uint32_t LoadProfile::pair(uint32_t layer, uint32_t a, uint32_t b) const {
  return pairs_.empty() ? 0 : pairs_[(size_t{layer} * experts_ + a) * experts_ + b];
}

uint32_t LoadProfile::next(uint32_t layer, uint32_t a, uint32_t b) const {
  return next_.empty() ? 0 : next_[(size_t{layer} * experts_ + a) * experts_ + b];
}

uint64_t LoadProfile::totalTokens() const {
  uint64_t n = 0;
  for (uint64_t t : tokens_) n += t;
  return n;
}

LoadProfile LoadProfile::fromCounts(uint32_t layers, uint32_t experts, uint32_t dies, std::vector<uint64_t> tokens,
                                    std::vector<uint64_t> load, std::vector<uint64_t> sourceTokens,
                                    std::vector<uint32_t> pairs, std::vector<uint32_t> next) {
  const size_t cells = size_t{layers} * experts;
  WAFERSIM_REQUIRE(tokens.size() == layers, "load profile: ", tokens.size(), " token counts for ", layers, " layers");
  WAFERSIM_REQUIRE(load.size() == cells, "load profile: ", load.size(), " loads for ", layers, " layers x ", experts,
                   " experts");
  WAFERSIM_REQUIRE(sourceTokens.size() == dies, "load profile: ", sourceTokens.size(), " source counts for ", dies,
                   " dies");
  WAFERSIM_REQUIRE(pairs.empty() || pairs.size() == cells * experts, "load profile: ", pairs.size(),
                   " pair counts for ", layers, " layers x ", experts, " x ", experts, " experts");
  WAFERSIM_REQUIRE(next.empty() || next.size() == cells * experts, "load profile: ", next.size(),
                   " cross-token counts for ", layers, " layers x ", experts, " x ", experts, " experts");
  LoadProfile p;
  p.layers_ = layers;
  p.experts_ = experts;
  p.dies_ = dies;
  p.tokens_ = std::move(tokens);
  p.load_ = std::move(load);
  p.source_ = std::move(sourceTokens);
  p.pairs_ = std::move(pairs);
  p.next_ = std::move(next);
  if (!p.next_.empty()) p.last_.assign(layers, std::vector<Last>(kSlots));
  return p;
}

bool LoadProfile::sameCounts(const LoadProfile& o) const {
  return layers_ == o.layers_ && experts_ == o.experts_ && dies_ == o.dies_ && tokens_ == o.tokens_ &&
         load_ == o.load_ && source_ == o.source_ && pairs_ == o.pairs_ && next_ == o.next_;
}

std::vector<double> LoadProfile::sourceShares(const std::vector<bool>& unusable) const {
  std::vector<double> share(dies_, 0.0);
  uint64_t total = 0;
  for (uint64_t s : source_) total += s;
  if (total > 0) {
    for (uint32_t d = 0; d < dies_; ++d) share[d] = double(source_[d]) / double(total);
    return share;
  }
  uint32_t live = 0;
  for (uint32_t d = 0; d < dies_; ++d) live += unusable.empty() || !unusable[d];
  for (uint32_t d = 0; d < dies_; ++d) share[d] = (unusable.empty() || !unusable[d]) ? 1.0 / live : 0.0;
  return share;
}

}  // namespace wafersim::placement
