#include "models/workload/routing_stats.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "models/workload/routing_trace.h"
#include "sim/error.h"

namespace wafersim::workload {
namespace {

constexpr ExpertId kNone = std::numeric_limits<ExpertId>::max();

uint64_t topCount(uint64_t n, double fraction) {
  const double m = std::ceil(fraction * static_cast<double>(n) - 1e-9);
  return std::clamp<uint64_t>(static_cast<uint64_t>(std::max(m, 1.0)), 1, n);
}

template <typename F>
double meanOver(uint32_t from, uint32_t to, const std::vector<uint64_t>& tokens, F value) {
  double sum = 0.0;
  uint32_t n = 0;
  for (uint32_t l = from; l < to; ++l) {
    if (tokens[l] == 0) continue;
    sum += value(l);
    ++n;
  }
  return n == 0 ? 0.0 : sum / n;
}

}  // namespace

RoutingStats::RoutingStats(uint32_t layers, uint32_t experts, uint32_t topK, const RoutingStatsOptions& options)
    : layers_(layers), experts_(experts), topK_(topK), options_(options) {
  WAFERSIM_REQUIRE(layers >= 1 && experts >= 1 && topK >= 1 && topK <= experts && experts <= (1u << 16),
                   "routing stats: layers ", layers, ", experts ", experts, ", topK ", topK,
                   ": expected layers >= 1, 1 <= topK <= experts <= 65536");
  tokens_.assign(layers, 0);
  load_.assign(layers, std::vector<uint64_t>(experts, 0));
  if (options.pairs) pairs_.assign(layers, std::vector<uint32_t>(static_cast<size_t>(experts) * (experts - 1) / 2, 0));
  if (options.transitions)
    transitions_.assign(layers, std::vector<uint32_t>(static_cast<size_t>(experts) * experts, 0));
  repeatCompared_.assign(layers, 0);
  repeatShared_.assign(layers, 0);
}

size_t RoutingStats::pairIndex(ExpertId a, ExpertId b) const {
  // Row a of the strict upper triangle starts after a rows of lengths E-1, E-2, ...
  return static_cast<size_t>(a) * (2 * experts_ - a - 1) / 2 + (b - a - 1);
}

void RoutingStats::record(uint32_t layer, std::span<const TokenRef> tokens, std::span<const ExpertId> choices) {
  WAFERSIM_REQUIRE(layer < layers_, "routing stats: layer ", layer, " out of range");
  WAFERSIM_REQUIRE(choices.size() == tokens.size() * topK_, "routing stats: ", choices.size(), " choices for ",
                   tokens.size(), " tokens x top-", topK_);
  const uint32_t k = topK_;
  for (ExpertId e : choices) WAFERSIM_REQUIRE(e < experts_, "routing stats: expert ", e, " out of range");
  const bool chained = options_.transitions && layer > 0 && previousLayer_ == static_cast<int64_t>(layer) - 1 &&
                       previous_.size() == choices.size();
  tokens_[layer] += tokens.size();
  for (size_t i = 0; i < tokens.size(); ++i) {
    const ExpertId* c = choices.data() + i * k;
    for (uint32_t j = 0; j < k; ++j) ++load_[layer][c[j]];
    if (options_.pairs)
      for (uint32_t a = 0; a < k; ++a)
        for (uint32_t b = a + 1; b < k; ++b)
          if (c[a] != c[b]) ++pairs_[layer][pairIndex(std::min(c[a], c[b]), std::max(c[a], c[b]))];
    if (chained)
      for (uint32_t a = 0; a < k; ++a)
        for (uint32_t b = 0; b < k; ++b)
          ++transitions_[layer][static_cast<size_t>(previous_[i * k + a]) * experts_ + c[b]];
    auto [it, inserted] = history_.try_emplace(tokens[i].request);
    if (inserted) it->second.assign(static_cast<size_t>(layers_) * k, kNone);
    ExpertId* before = it->second.data() + static_cast<size_t>(layer) * k;
    if (before[0] != kNone) {
      ++repeatCompared_[layer];
      for (uint32_t a = 0; a < k; ++a) repeatShared_[layer] += std::count(before, before + k, c[a]);
    }
    std::copy(c, c + k, before);
  }
  previousLayer_ = layer;
  previous_.assign(choices.begin(), choices.end());
}

uint64_t RoutingStats::tokens(uint32_t layer) const {
  WAFERSIM_REQUIRE(layer < layers_, "routing stats: layer out of range");
  return tokens_[layer];
}

uint64_t RoutingStats::load(uint32_t layer, ExpertId expert) const {
  WAFERSIM_REQUIRE(layer < layers_ && expert < experts_, "routing stats: layer/expert out of range");
  return load_[layer][expert];
}

double RoutingStats::maxOverMean(uint32_t layer) const {
  if (tokens(layer) == 0) return 0.0;
  const auto& load = load_[layer];
  const double mean = static_cast<double>(tokens_[layer]) * topK_ / experts_;
  return static_cast<double>(*std::max_element(load.begin(), load.end())) / mean;
}

double RoutingStats::coefficientOfVariation(uint32_t layer) const {
  if (tokens(layer) == 0) return 0.0;
  const double mean = static_cast<double>(tokens_[layer]) * topK_ / experts_;
  double squares = 0.0;
  for (uint64_t x : load_[layer]) squares += (x - mean) * (x - mean);
  return std::sqrt(squares / experts_) / mean;
}

uint64_t RoutingStats::pairCount(uint32_t layer, ExpertId a, ExpertId b) const {
  WAFERSIM_REQUIRE(options_.pairs, "routing stats: pair counting is off");
  WAFERSIM_REQUIRE(layer < layers_ && a < experts_ && b < experts_ && a != b, "routing stats: bad pair");
  return pairs_[layer][pairIndex(std::min(a, b), std::max(a, b))];
}

double RoutingStats::topPairRatio(uint32_t layer) const {
  if (!options_.pairs || topK_ < 2 || experts_ < 2 || tokens(layer) == 0) return 0.0;
  const auto& pairs = pairs_[layer];
  const double expected = static_cast<double>(tokens_[layer]) * (topK_ * (topK_ - 1.0) / 2.0) /
                          (experts_ * (experts_ - 1.0) / 2.0);
  return *std::max_element(pairs.begin(), pairs.end()) / expected;
}

double RoutingStats::topPairShare(uint32_t layer, double fraction) const {
  if (!options_.pairs || topK_ < 2 || experts_ < 2 || tokens(layer) == 0) return 0.0;
  std::vector<uint32_t> sorted = pairs_[layer];
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const uint64_t m = topCount(sorted.size(), fraction);
  uint64_t top = 0, total = 0;
  for (size_t i = 0; i < sorted.size(); ++i) (i < m ? top : total) += sorted[i];
  total += top;
  return total == 0 ? 0.0 : static_cast<double>(top) / total;
}

double RoutingStats::transitionCoverage(uint32_t layer, double fraction) const {
  WAFERSIM_REQUIRE(layer < layers_, "routing stats: layer out of range");
  if (!options_.transitions || layer == 0) return 0.0;
  const uint64_t m = topCount(experts_, fraction);
  uint64_t covered = 0, total = 0;
  std::vector<uint32_t> row(experts_);
  for (uint32_t a = 0; a < experts_; ++a) {
    const uint32_t* begin = transitions_[layer].data() + static_cast<size_t>(a) * experts_;
    std::copy(begin, begin + experts_, row.begin());
    std::partial_sort(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(m), row.end(), std::greater<>());
    for (uint32_t b = 0; b < experts_; ++b) (b < m ? covered : total) += row[b];
  }
  total += covered;
  return total == 0 ? 0.0 : static_cast<double>(covered) / total;
}

double RoutingStats::transitionCoverageBaseline(double fraction) const {
  return static_cast<double>(topCount(experts_, fraction)) / experts_;
}

double RoutingStats::repeatRate(uint32_t layer) const {
  WAFERSIM_REQUIRE(layer < layers_, "routing stats: layer out of range");
  return repeatCompared_[layer] == 0 ? 0.0
                                     : static_cast<double>(repeatShared_[layer]) / (repeatCompared_[layer] * topK_);
}

double RoutingStats::meanMaxOverMean() const {
  return meanOver(0, layers_, tokens_, [&](uint32_t l) { return maxOverMean(l); });
}
double RoutingStats::meanTransitionCoverage(double fraction) const {
  return meanOver(1, layers_, tokens_, [&](uint32_t l) { return transitionCoverage(l, fraction); });
}
double RoutingStats::meanRepeatRate() const {
  return meanOver(0, layers_, tokens_, [&](uint32_t l) { return repeatRate(l); });
}
double RoutingStats::meanTopPairRatio() const {
  return meanOver(0, layers_, tokens_, [&](uint32_t l) { return topPairRatio(l); });
}

nlohmann::json RoutingStats::toJson() const {
  nlohmann::json perLayer = nlohmann::json::array();
  double maxSkew = 0.0, cvSum = 0.0, shareSum = 0.0;
  uint32_t withData = 0;
  for (uint32_t l = 0; l < layers_; ++l) {
    nlohmann::json layer;
    layer["layer"] = l;
    layer["tokens"] = tokens_[l];
    layer["load"] = load_[l];
    layer["max_over_mean"] = maxOverMean(l);
    layer["cv"] = coefficientOfVariation(l);
    if (options_.pairs) {
      layer["top_pair_ratio"] = topPairRatio(l);
      layer["top10pct_pair_share"] = topPairShare(l, 0.1);
      std::vector<std::tuple<uint32_t, ExpertId, ExpertId>> top;
      for (ExpertId a = 0; a < experts_; ++a)
        for (ExpertId b = a + 1; b < experts_; ++b) {
          const uint32_t n = pairs_[l][pairIndex(a, b)];
          if (n > 0) top.emplace_back(n, a, b);
        }
      const size_t keep = std::min<size_t>(5, top.size());
      std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(),
                        [](const auto& x, const auto& y) {
                          return std::get<0>(x) != std::get<0>(y) ? std::get<0>(x) > std::get<0>(y) : x < y;
                        });
      nlohmann::json pairs = nlohmann::json::array();
      for (size_t i = 0; i < keep; ++i)
        pairs.push_back({std::get<1>(top[i]), std::get<2>(top[i]), std::get<0>(top[i])});
      layer["top_pairs"] = pairs;
    }
    if (options_.transitions)
      layer["transition_top20_coverage"] = l == 0 ? nlohmann::json(nullptr) : nlohmann::json(transitionCoverage(l));
    layer["token_repeat_rate"] = repeatRate(l);
    perLayer.push_back(std::move(layer));
    if (tokens_[l] > 0) {
      maxSkew = std::max(maxSkew, maxOverMean(l));
      cvSum += coefficientOfVariation(l);
      shareSum += topPairShare(l, 0.1);
      ++withData;
    }
  }
  nlohmann::json summary;
  summary["tokens"] = tokens_[0];
  summary["mean_max_over_mean"] = meanMaxOverMean();
  summary["max_max_over_mean"] = maxSkew;
  summary["mean_cv"] = withData ? cvSum / withData : 0.0;
  if (options_.pairs) {
    summary["mean_top_pair_ratio"] = meanTopPairRatio();
    summary["mean_top10pct_pair_share"] = withData ? shareSum / withData : 0.0;
  }
  if (options_.transitions) {
    summary["mean_transition_top20_coverage"] = meanTransitionCoverage(0.2);
    summary["transition_top20_uniform_baseline"] = transitionCoverageBaseline(0.2);
  }
  summary["mean_token_repeat_rate"] = meanRepeatRate();
  summary["token_repeat_uniform_baseline"] = repeatRateBaseline();
  return {{"layers", layers_}, {"experts", experts_}, {"top_k", topK_}, {"summary", summary}, {"per_layer", perLayer}};
}

RoutingStats measureTrace(RoutingTrace& trace, const RoutingStatsOptions& options) {
  RoutingStats stats(trace.layers(), trace.experts(), trace.topK(), options);
  const uint64_t total = trace.tokens();
  const uint64_t prefill = trace.tokens(RoutingTrace::Segment::Prefill);
  const uint32_t k = trace.topK();
  constexpr uint64_t kChunk = 256;
  std::vector<RoutingTrace::Cursor> cursors;
  for (uint32_t l = 0; l < trace.layers(); ++l) cursors.push_back(trace.cursor(l));
  std::vector<TokenRef> tokens;
  std::vector<ExpertId> choices;
  for (uint64_t begin = 0; begin < total; begin += kChunk) {
    const uint64_t n = std::min(kChunk, total - begin);
    tokens.clear();
    for (uint64_t i = 0; i < n; ++i)
      tokens.push_back({0, static_cast<uint32_t>(begin + i), !trace.hasPhases() || begin + i < prefill});
    choices.resize(n * k);
    for (uint32_t l = 0; l < trace.layers(); ++l) {
      for (uint64_t i = 0; i < n; ++i) cursors[l].next(std::span<ExpertId>(choices).subspan(i * k, k));
      stats.record(l, tokens, choices);
    }
  }
  return stats;
}

RoutingStats measureSequence(ExpertRouter& router, uint64_t tokenCount, uint32_t chunk,
                             const RoutingStatsOptions& options) {
  WAFERSIM_REQUIRE(chunk >= 1, "measureSequence: chunk must be >= 1");
  RoutingStats stats(router.layers(), router.experts(), router.topK(), options);
  std::vector<TokenRef> tokens;
  std::vector<ExpertId> choices;
  for (uint64_t begin = 0; begin < tokenCount; begin += chunk) {
    const uint64_t n = std::min<uint64_t>(chunk, tokenCount - begin);
    tokens.clear();
    for (uint64_t i = 0; i < n; ++i) tokens.push_back({0, static_cast<uint32_t>(begin + i), true});
    choices.resize(n * router.topK());
    for (uint32_t l = 0; l < router.layers(); ++l) {
      router.route(l, tokens, choices);
      stats.record(l, tokens, choices);
    }
  }
  return stats;
}

}  // namespace wafersim::workload
