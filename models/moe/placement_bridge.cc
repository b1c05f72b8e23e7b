#include "models/moe/placement_bridge.h"

#include <algorithm>
#include <map>

#include "sim/error.h"

namespace wafersim::moe {

placement::Fabric fabricOf(const hw::HardwareSystem& system, const std::string& expertEngine,
                           hw::DataType computeType) {
  const hw::NetworkDescription& n = system.network;
  placement::Fabric f;
  f.dies = static_cast<uint32_t>(n.endpoints.size());
  const uint32_t D = f.dies;
  f.unusable.assign(D, false);
  for (uint32_t d : system.failedDies) f.unusable[d] = true;
  // Directed links by (router, router); several physical links between a pair act as one.
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> linkId;
  for (const hw::RouterLink& l : n.links) {
    for (const auto& [from, to, bw] : {std::tuple{l.a, l.b, l.bandwidthAB}, std::tuple{l.b, l.a, l.bandwidthBA}}) {
      auto [it, fresh] = linkId.emplace(std::pair{from, to}, static_cast<uint32_t>(f.linkBandwidth.size()));
      if (fresh) f.linkBandwidth.push_back(double(bw.bytesPerSecond));
      else f.linkBandwidth[it->second] += double(bw.bytesPerSecond);
    }
  }
  f.hops.assign(size_t{D} * D, 0);
  f.paths.resize(size_t{D} * D);
  for (uint32_t a = 0; a < D; ++a)
    for (uint32_t b = 0; b < D; ++b) {
      if (a == b || !f.usable(a) || !f.usable(b)) continue;
      const std::vector<uint32_t> routers = hw::routePath(n, system.routes, a, b);
      f.hops[size_t{a} * D + b] = static_cast<uint32_t>(routers.size());
      for (size_t i = 1; i < routers.size(); ++i)
        f.paths[size_t{a} * D + b].push_back(linkId.at({routers[i - 1], routers[i]}));
    }
  for (uint32_t d = 0; d < D; ++d) {
    const hw::DieSpec& spec = system.specs.at(system.specOf.at(d));
    const uint32_t engine =
        expertEngine.empty() || expertEngine == "auto" || expertEngine == "coprocess" ? 0 : spec.engineIndex(expertEngine);
    f.expertFlops.push_back(double(spec.engines[engine].compute.peak(computeType).flopsPerSecond));
    f.memoryBandwidth.push_back(double(spec.engines[engine].dramBandwidth.bytesPerSecond));
  }
  // Chiplet groups: dies attached to one router, where any router has several.
  std::map<uint32_t, uint32_t> group;
  bool shared = false;
  for (uint32_t d = 0; d < D; ++d) {
    auto [it, fresh] = group.emplace(n.endpoints[d].router, static_cast<uint32_t>(group.size()));
    shared |= !fresh;
  }
  if (shared)
    for (uint32_t d = 0; d < D; ++d) f.groupOf.push_back(group.at(n.endpoints[d].router));
  f.gridX = system.gridX;
  f.gridY = system.gridY;
  return f;
}

placement::ExpertShape expertShapeOf(const MoeModelConfig& m, uint32_t activationBytes) {
  placement::ExpertShape s;
  s.layers = m.moeLayerCount();
  s.experts = m.experts;
  s.topK = m.topK;
  s.hidden = m.hiddenSize;
  s.intermediate = m.expertIntermediate;
  s.gated = m.gatedFfn;
  s.expertBytes = m.expertWeightBytes();
  s.activationBytes = activationBytes;
  return s;
}

placement::LoadProfile profileRouting(workload::ExpertRouter& router, const placement::Fabric& fabric,
                                      uint64_t tokens, uint32_t sequence, placement::PolicyNeeds needs) {
  placement::LoadProfile profile(router.layers(), router.experts(), fabric.dies, needs.pairs, needs.next);
  const std::vector<uint32_t> live = fabric.usableDies();
  WAFERSIM_REQUIRE(!live.empty() && sequence > 0, "mapping: nothing to profile on");
  std::vector<workload::TokenRef> batch;
  std::vector<uint64_t> ids;
  std::vector<uint32_t> positions, dies, choices;
  // Profiling requests get ids far above any workload's, so a stateful router keeps them apart.
  constexpr uint64_t kFirstRequest = uint64_t{1} << 62;
  for (uint64_t done = 0, request = 0; done < tokens; ++request) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(sequence, tokens - done));
    batch.clear();
    ids.clear();
    positions.clear();
    for (uint32_t i = 0; i < n; ++i) {
      batch.push_back({kFirstRequest + request, i, true});
      ids.push_back(kFirstRequest + request);
      positions.push_back(i);
    }
    dies.assign(n, live[request % live.size()]);
    choices.resize(size_t{n} * router.topK());
    for (uint32_t l = 0; l < router.layers(); ++l) {
      router.route(l, batch, choices);
      profile.record(l, ids, positions, dies, choices, router.topK());
    }
    router.requestFinished(kFirstRequest + request);
    done += n;
  }
  return profile;
}

}  // namespace wafersim::moe
