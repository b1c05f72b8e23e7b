#include "models/workload/synthetic_router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "sim/error.h"

namespace wafersim::workload {
namespace {

constexpr ExpertId kNone = std::numeric_limits<ExpertId>::max();
constexpr int kRejectionTries = 16;

// exp(y) for y <= 0 from IEEE + - * / and an exact power of two, so that it is the same on every
// machine (libm's exp need not be correctly rounded).
double deterministicExpNonPositive(double y) {
  if (y < -700.0) return 0.0;
  constexpr double kLn2 = 0x1.62e42fefa39efp-1;
  const int n = static_cast<int>(-y / kLn2);
  const double f = y + n * kLn2;  // in about (-ln2, 0]
  double term = 1.0, sum = 1.0;
  for (int i = 1; i < 30; ++i) {
    term = term * f / i;
    sum += term;
  }
  return std::ldexp(sum, -n);
}

std::vector<ExpertId> shuffled(uint32_t n, RandomStream& random) {
  std::vector<ExpertId> v(n);
  for (uint32_t i = 0; i < n; ++i) v[i] = i;
  for (uint32_t i = n; i > 1; --i) std::swap(v[i - 1], v[random.below(i)]);
  return v;
}

bool contains(const ExpertId* chosen, uint32_t count, ExpertId e) {
  return std::find(chosen, chosen + count, e) != chosen + count;
}

void requireProbability(double p, const char* name) {
  WAFERSIM_REQUIRE(p >= 0.0 && p <= 1.0, "synthetic router: ", name, " = ", p, ", expected a probability in [0, 1]");
}

}  // namespace

SyntheticRouter::SyntheticRouter(const SyntheticRouterConfig& config)
    : config_(config), random_(config.seed, /*componentId=*/0x524F555445ull /* "ROUTE" */) {
  const uint32_t E = config.experts;
  WAFERSIM_REQUIRE(config.layers >= 1, "synthetic router: layers must be >= 1");
  WAFERSIM_REQUIRE(E >= 1 && E <= (1u << 20), "synthetic router: experts = ", E, ", expected 1..2^20");
  WAFERSIM_REQUIRE(config.topK >= 1 && config.topK <= E, "synthetic router: topK = ", config.topK,
                   ", expected 1..experts (", E, ")");
  WAFERSIM_REQUIRE(std::isfinite(config.zipfExponent) && config.zipfExponent >= 0.0 && config.zipfExponent <= 64.0,
                   "synthetic router: zipfExponent = ", config.zipfExponent, ", expected 0..64");
  requireProbability(config.groupProbability, "groupProbability");
  requireProbability(config.layerCorrelation, "layerCorrelation");
  requireProbability(config.tokenCorrelation, "tokenCorrelation");
  WAFERSIM_REQUIRE(config.groups >= 1 && E % config.groups == 0, "synthetic router: groups = ", config.groups,
                   ", expected a divisor of experts (", E, ")");
  WAFERSIM_REQUIRE(config.groupProbability == 0.0 || E / config.groups >= config.topK, "synthetic router: groups of ",
                   E / config.groups, " experts cannot hold top-", config.topK, " choices");
  WAFERSIM_REQUIRE(config.driftEverySteps == 0 || config.driftEveryTokens == 0,
                   "synthetic router: set driftEverySteps or driftEveryTokens, not both");
  if (config.limitGroups == 0) {
    WAFERSIM_REQUIRE(config.limitTopkGroups == 0, "synthetic router: limitTopkGroups = ", config.limitTopkGroups,
                     " given without limitGroups");
  } else {
    WAFERSIM_REQUIRE(E % config.limitGroups == 0, "synthetic router: limitGroups = ", config.limitGroups,
                     ", expected a divisor of experts (", E, ")");
    WAFERSIM_REQUIRE(config.limitTopkGroups >= 1 && config.limitTopkGroups <= config.limitGroups,
                     "synthetic router: limitTopkGroups = ", config.limitTopkGroups, ", expected 1..limitGroups (",
                     config.limitGroups, ")");
    WAFERSIM_REQUIRE(uint64_t{config.limitTopkGroups} * (E / config.limitGroups) >= config.topK,
                     "synthetic router: limitTopkGroups = ", config.limitTopkGroups, " groups of ",
                     E / config.limitGroups, " experts (limitGroups = ", config.limitGroups,
                     ") cannot hold top-", config.topK, " choices");
    limited_ = config.limitTopkGroups < config.limitGroups;
    limitSize_ = E / config.limitGroups;
  }

  weight_.resize(E);
  cumulative_.resize(E);
  double total = 0.0;
  for (uint32_t r = 0; r < E; ++r) {
    // 1/(r+1)^s = exp(s * ln(1/(r+1))), with ln(1/(r+1)) in (-inf, 0].
    weight_[r] = config.zipfExponent == 0.0
                     ? 1.0
                     : deterministicExpNonPositive(config.zipfExponent * deterministicLog(1.0 / (r + 1.0)));
    total += weight_[r];
    cumulative_[r] = total;
  }
  all_.resize(E);
  for (uint32_t e = 0; e < E; ++e) all_[e] = e;

  RandomStream setup(config.structureSeed != 0 ? config.structureSeed : config.seed, 0x524F555445ull, /*stream=*/1);
  const uint32_t groupSize = E / config.groups;
  for (uint32_t l = 0; l < config.layers; ++l) {
    hot_.push_back(shuffled(E, setup));
    std::vector<uint32_t> rank(E);
    for (uint32_t r = 0; r < E; ++r) rank[hot_[l][r]] = r;
    rankOf_.push_back(std::move(rank));

    const std::vector<ExpertId> order = shuffled(E, setup);
    std::vector<uint32_t> groupOf(E);
    std::vector<std::vector<ExpertId>> members(config.groups);
    for (uint32_t i = 0; i < E; ++i) {
      groupOf[order[i]] = i / groupSize;
      members[i / groupSize].push_back(order[i]);
    }
    for (auto& m : members) std::sort(m.begin(), m.end());
    groupOf_.push_back(std::move(groupOf));
    members_.push_back(std::move(members));
    layerMap_.push_back(shuffled(E, setup));
  }
  if (limited_) {
    limitWeight_.assign(config.layers, std::vector<double>(config.limitGroups, 0.0));
    limitWeightOffset_.assign(config.layers, std::numeric_limits<uint32_t>::max());
    allowed_.assign(config.limitGroups, 0);
    groupCount_.assign(config.limitGroups, 0);
  }
}

ExpertId SyntheticRouter::hotExpert(uint32_t layer, uint32_t rank) const {
  WAFERSIM_REQUIRE(layer < config_.layers && rank < config_.experts, "hotExpert: layer/rank out of range");
  return hot_[layer][(rank + offset_) % config_.experts];
}

uint32_t SyntheticRouter::rankOf(uint32_t layer, ExpertId expert) const {
  const uint32_t E = config_.experts;
  return (rankOf_[layer][expert] + E - offset_) % E;
}

ExpertId SyntheticRouter::drawExpert(uint32_t layer) {
  const double u = random_.uniform() * cumulative_.back();
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  const uint32_t rank = it == cumulative_.end() ? config_.experts - 1 : static_cast<uint32_t>(it - cumulative_.begin());
  return hot_[layer][(rank + offset_) % config_.experts];
}

ExpertId SyntheticRouter::drawAmong(uint32_t layer, const std::vector<ExpertId>& candidates, const ExpertId* chosen,
                                    uint32_t count) {
  double total = 0.0;
  for (ExpertId e : candidates)
    if (!contains(chosen, count, e)) total += weight_[rankOf(layer, e)];
  double u = random_.uniform() * total;
  ExpertId last = kNone;
  for (ExpertId e : candidates) {
    if (contains(chosen, count, e)) continue;
    last = e;
    u -= weight_[rankOf(layer, e)];
    if (u < 0.0) return e;
  }
  WAFERSIM_ASSERT(last != kNone, "no candidate left");
  return last;  // rounding left u just above zero
}

const std::vector<double>& SyntheticRouter::limitWeights(uint32_t layer) {
  std::vector<double>& w = limitWeight_[layer];
  if (limitWeightOffset_[layer] != offset_) {
    // Summed in expert order so the value does not depend on the drift history.
    for (uint32_t g = 0; g < config_.limitGroups; ++g) {
      double sum = 0.0;
      for (ExpertId e = g * limitSize_; e < (g + 1) * limitSize_; ++e) sum += weight_[rankOf(layer, e)];
      w[g] = sum;
    }
    limitWeightOffset_[layer] = offset_;
  }
  return w;
}

void SyntheticRouter::chooseLimitGroups(uint32_t layer) {
  const std::vector<double>& w = limitWeights(layer);
  const uint32_t G = config_.limitGroups;
  std::fill(allowed_.begin(), allowed_.end(), uint8_t{0});
  for (uint32_t i = 0; i < config_.limitTopkGroups; ++i) {
    double total = 0.0;
    for (uint32_t g = 0; g < G; ++g)
      if (!allowed_[g]) total += w[g];
    double u = random_.uniform() * total;
    uint32_t pick = G;
    for (uint32_t g = 0; g < G; ++g) {
      if (allowed_[g]) continue;
      pick = g;
      u -= w[g];
      if (u < 0.0) break;  // else rounding (or zero weights) leaves the last unchosen group
    }
    WAFERSIM_ASSERT(pick < G, "no group left");
    allowed_[pick] = 1;
  }
}

ExpertId SyntheticRouter::drawAllowed(uint32_t layer, const ExpertId* chosen, uint32_t count) {
  // Rejection from the full Zipf law is exact for the law restricted to the allowed, unchosen
  // experts; the fallback draws among them directly.
  for (int t = 0; t < kRejectionTries; ++t) {
    const ExpertId c = drawExpert(layer);
    if (allowed(c) && !contains(chosen, count, c)) return c;
  }
  candidates_.clear();
  for (uint32_t g = 0; g < config_.limitGroups; ++g)
    if (allowed_[g])
      for (ExpertId e = g * limitSize_; e < (g + 1) * limitSize_; ++e) candidates_.push_back(e);
  return drawAmong(layer, candidates_, chosen, count);
}

void SyntheticRouter::drawFreshLimited(uint32_t layer, ExpertId* out) {
  const uint32_t k = config_.topK;
  chooseLimitGroups(layer);
  out[0] = drawAllowed(layer, out, 0);
  if (k == 1) return;
  uint32_t i = 1;
  if (config_.groupProbability > 0.0 && random_.bernoulli(config_.groupProbability)) {
    std::vector<ExpertId>& group = coGroup_;  // the co-activation group inside the chosen limit groups
    group.clear();                            // (holds out[0])
    for (ExpertId e : members_[layer][groupOf_[layer][out[0]]])
      if (allowed(e)) group.push_back(e);
    for (; i < k && i < group.size(); ++i) out[i] = drawAmong(layer, group, out, i);
  }
  for (; i < k; ++i) out[i] = drawAllowed(layer, out, i);
}

void SyntheticRouter::restrictToLimit(uint32_t layer, ExpertId* choice) {
  const uint32_t k = config_.topK;
  std::fill(groupCount_.begin(), groupCount_.end(), 0u);
  std::vector<uint32_t>& spanned = spanned_;  // distinct groups, in order of first appearance
  spanned.clear();
  for (uint32_t j = 0; j < k; ++j) {
    const uint32_t g = choice[j] / limitSize_;
    if (groupCount_[g]++ == 0) spanned.push_back(g);
  }
  if (spanned.size() <= config_.limitTopkGroups) return;
  // Keep the groups holding most choices; the uniform draw (< 1) only breaks ties.
  std::vector<std::pair<double, uint32_t>>& keyed = keyed_;
  keyed.clear();
  for (uint32_t g : spanned) keyed.push_back({groupCount_[g] + random_.uniform(), g});
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::fill(allowed_.begin(), allowed_.end(), uint8_t{0});
  for (uint32_t i = 0; i < config_.limitTopkGroups; ++i) allowed_[keyed[i].second] = 1;
  uint32_t kept = 0;
  for (uint32_t j = 0; j < k; ++j)
    if (allowed(choice[j])) choice[kept++] = choice[j];
  for (uint32_t j = kept; j < k; ++j) choice[j] = drawAllowed(layer, choice, j);
}

void SyntheticRouter::drawFresh(uint32_t layer, ExpertId* out) {
  if (limited_) {
    drawFreshLimited(layer, out);
    return;
  }
  const uint32_t k = config_.topK;
  out[0] = drawExpert(layer);
  if (k == 1) return;
  if (config_.groupProbability > 0.0 && random_.bernoulli(config_.groupProbability)) {
    const auto& group = members_[layer][groupOf_[layer][out[0]]];
    for (uint32_t i = 1; i < k; ++i) out[i] = drawAmong(layer, group, out, i);
    return;
  }
  for (uint32_t i = 1; i < k; ++i) {
    ExpertId e = kNone;
    for (int t = 0; t < kRejectionTries && e == kNone; ++t) {
      const ExpertId c = drawExpert(layer);
      if (!contains(out, i, c)) e = c;
    }
    out[i] = e != kNone ? e : drawAmong(layer, all_, out, i);
  }
}

void SyntheticRouter::route(uint32_t layer, std::span<const TokenRef> tokens, std::span<ExpertId> out) {
  checkRouteArguments(*this, layer, tokens, out);
  const uint32_t k = config_.topK;
  if (layer == 0) {
    uint64_t epoch = 0;
    if (config_.driftEverySteps > 0) epoch = steps_ / config_.driftEverySteps;
    if (config_.driftEveryTokens > 0) epoch = layer0Tokens_ / config_.driftEveryTokens;
    offset_ = static_cast<uint32_t>((epoch % config_.experts) * (config_.driftShift % config_.experts) % config_.experts);
    ++steps_;
    layer0Tokens_ += tokens.size();
  }
  const bool chained = layer > 0 && previousLayer_ == static_cast<int64_t>(layer) - 1 && previous_.size() == out.size();
  const auto& map = layerMap_[layer];
  for (size_t i = 0; i < tokens.size(); ++i) {
    ExpertId* choice = out.data() + i * k;
    std::vector<ExpertId>* history = nullptr;
    if (config_.tokenCorrelation > 0.0) {
      auto [it, inserted] = history_.try_emplace(tokens[i].request);
      if (inserted) it->second.assign(static_cast<size_t>(config_.layers) * k, kNone);
      history = &it->second;
    }
    const ExpertId* before = history ? history->data() + static_cast<size_t>(layer) * k : nullptr;
    if (before && before[0] != kNone && random_.bernoulli(config_.tokenCorrelation)) {
      std::copy(before, before + k, choice);
      if (limited_) restrictToLimit(layer, choice);  // a no-op: the repeated choices were routed within it
    } else if (chained && config_.layerCorrelation > 0.0 && random_.bernoulli(config_.layerCorrelation)) {
      for (uint32_t j = 0; j < k; ++j) choice[j] = map[previous_[i * k + j]];
      if (limited_) restrictToLimit(layer, choice);
    } else {
      drawFresh(layer, choice);
    }
    if (history) std::copy(choice, choice + k, history->data() + static_cast<size_t>(layer) * k);
  }
  previousLayer_ = layer;
  previous_.assign(out.begin(), out.end());
}

}  // namespace wafersim::workload
