#include "placement/cost_model.h"

#include <algorithm>
#include <cmath>

namespace wafersim::placement {
namespace {

double tokenProbability(const Problem& p, uint32_t layer, uint32_t expert) {
  const uint64_t tokens = p.profile.tokens(layer);
  if (tokens == 0) return double(p.model.topK) / double(std::max(1u, p.model.experts));  // uniform
  return double(p.profile.load(layer, expert)) / double(tokens);
}

double meanHop(const Fabric& f, uint32_t source, const Replica& r) {
  double h = 0;
  for (const Shard& s : r.shards) h += f.hop(source, s.die);
  return h / double(r.shards.size());
}

// Share of source die s's tokens for expert e that go to each replica.
void replicaShares(const Problem& p, const std::vector<Replica>& copies, uint32_t source, Split split,
                   std::vector<double>& share) {
  share.assign(copies.size(), 0.0);
  if (copies.size() == 1 || split != Split::Nearest) {
    std::fill(share.begin(), share.end(), 1.0 / double(copies.size()));
    return;
  }
  double best = 1e300;
  for (const Replica& r : copies) best = std::min(best, meanHop(p.fabric, source, r));
  uint32_t tied = 0;
  for (size_t i = 0; i < copies.size(); ++i) tied += meanHop(p.fabric, source, copies[i]) == best;
  for (size_t i = 0; i < copies.size(); ++i)
    share[i] = meanHop(p.fabric, source, copies[i]) == best ? 1.0 / tied : 0.0;
}

}  // namespace

double stepTokens(const Problem& p) { return p.tokensPerStep > 0 ? double(p.tokensPerStep) : 256.0; }

std::vector<double> computeSeconds(const Problem& p, const Placement& placement, uint32_t layer) {
  const Fabric& f = p.fabric;
  const double B = stepTokens(p);
  std::vector<double> flops(f.dies, 0.0), bytes(f.dies, 0.0);
  for (uint32_t e = 0; e < p.model.experts; ++e) {
    const double prob = tokenProbability(p, layer, e);
    const double tokens = B * prob;
    const double hit = 1.0 - std::pow(std::max(0.0, 1.0 - prob), B);
    const auto& copies = placement.replicas(layer, e);
    for (const Replica& r : copies)
      for (const Shard& s : r.shards) {
        const double part = double(s.parts) / double(kWhole);
        flops[s.die] += tokens / double(copies.size()) * p.model.flopsPerToken() * part;
        bytes[s.die] += hit * double(p.model.expertBytes) * part;
      }
  }
  std::vector<double> seconds(f.dies, 0.0);
  for (uint32_t d = 0; d < f.dies; ++d) {
    const double c = f.expertFlops.empty() || f.expertFlops[d] <= 0 ? 0 : flops[d] / f.expertFlops[d];
    const double m = f.memoryBandwidth.empty() || f.memoryBandwidth[d] <= 0 ? 0 : bytes[d] / f.memoryBandwidth[d];
    seconds[d] = std::max(c, m);
  }
  return seconds;
}

std::vector<double> trafficMatrix(const Problem& p, const Placement& placement, uint32_t layer) {
  const Fabric& f = p.fabric;
  const uint32_t D = f.dies;
  const double B = stepTokens(p);
  const double tokenBytes = double(p.model.hidden) * p.model.activationBytes;
  const std::vector<double> source = p.profile.sourceShares(f.unusable);
  std::vector<double> traffic(size_t{D} * D, 0.0), share;
  for (uint32_t e = 0; e < p.model.experts; ++e) {
    const double tokens = B * tokenProbability(p, layer, e);
    if (tokens == 0) continue;
    const auto& copies = placement.replicas(layer, e);
    for (uint32_t s = 0; s < D; ++s) {
      if (source[s] == 0) continue;
      replicaShares(p, copies, s, placement.split, share);
      for (size_t i = 0; i < copies.size(); ++i) {
        if (share[i] == 0) continue;
        const double bytes = tokens * source[s] * share[i] * tokenBytes;
        for (const Shard& sh : copies[i].shards) {
          if (sh.die == s) continue;
          traffic[size_t{s} * D + sh.die] += bytes;  // dispatch
          traffic[size_t{sh.die} * D + s] += bytes;  // combine
        }
      }
    }
  }
  return traffic;
}

double linkSeconds(const Fabric& f, const std::vector<double>& traffic, const std::vector<uint32_t>& nodeMap) {
  const uint32_t D = f.dies;
  std::vector<double> load(f.linkBandwidth.size(), 0.0);
  for (uint32_t a = 0; a < D; ++a)
    for (uint32_t b = 0; b < D; ++b) {
      const double bytes = traffic[size_t{a} * D + b];
      if (bytes == 0) continue;
      const uint32_t s = nodeMap.empty() ? a : nodeMap[a], d = nodeMap.empty() ? b : nodeMap[b];
      for (uint32_t link : f.paths[size_t{s} * D + d]) load[link] += bytes;
    }
  double worst = 0;
  for (size_t l = 0; l < load.size(); ++l)
    if (load[l] > 0) worst = std::max(worst, load[l] / f.linkBandwidth[l]);
  return worst;
}

CostEstimate estimateCost(const Problem& p, const Placement& placement) {
  CostEstimate c;
  const Fabric& f = p.fabric;
  const std::vector<uint32_t> live = f.usableDies();
  for (uint32_t l = 0; l < p.model.layers; ++l) {
    const std::vector<double> compute = computeSeconds(p, placement, l);
    double worst = 0, sum = 0;
    for (uint32_t d : live) {
      worst = std::max(worst, compute[d]);
      sum += compute[d];
    }
    const std::vector<double> traffic = trafficMatrix(p, placement, l);
    const double comm = linkSeconds(f, traffic);
    for (uint32_t a = 0; a < f.dies; ++a)
      for (uint32_t b = 0; b < f.dies; ++b) c.byteHops += traffic[size_t{a} * f.dies + b] * f.hop(a, b);
    c.computeSeconds += worst;
    c.commSeconds += comm;
    c.seconds += worst + comm;
    c.maxOverMeanCompute += sum > 0 ? worst / (sum / double(live.size())) : 1.0;
  }
  if (p.model.layers > 0) c.maxOverMeanCompute /= p.model.layers;
  return c;
}

}  // namespace wafersim::placement
