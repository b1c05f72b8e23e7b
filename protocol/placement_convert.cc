#include "protocol/placement_convert.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <capnp/any.h>

#include "sim/error.h"

namespace wafersim::proto {

const char* toString(DecisionOutcome outcome) { return outcome == DecisionOutcome::Applied ? "applied" : "kept"; }

namespace {

using Limits = PlacementWireLimits;

inline capnp::Text::Reader toText(const std::string& s) { return capnp::Text::Reader(s.c_str(), s.size()); }

std::string readText(capnp::Text::Reader text, size_t maxBytes, const char* what) {
  WAFERSIM_REQUIRE(text.size() <= maxBytes, what, ": ", text.size(), " bytes, at most ", maxBytes);
  return std::string(text.cStr(), text.size());
}

// See convert.cc: a struct list of zero-sized elements costs the sender nothing per element.
template <typename StructList>
void requireSizedElements(StructList list, const char* what) {
  if (list.size() == 0) return;
  capnp::AnyStruct::Reader first = list[0];
  WAFERSIM_REQUIRE(first.getDataSection().size() + first.getPointerSection().size() > 0, what,
                   ": a list of zero-sized elements");
}

template <typename T, typename List>
void listToWire(const std::vector<T>& in, List out) {
  for (unsigned i = 0; i < in.size(); ++i) out.set(i, in[i]);
}

// Reads a list of exactly `expected` elements (or none when `optional`).
template <typename T, typename List>
std::vector<T> readList(List in, size_t expected, bool optional, const char* what) {
  WAFERSIM_REQUIRE(in.size() == expected || (optional && in.size() == 0), what, ": ", in.size(),
                   " elements, expected ", expected, optional ? " or none" : "");
  std::vector<T> out;
  out.reserve(in.size());
  for (auto v : in) out.push_back(static_cast<T>(v));
  return out;
}

void requireFinite(double v, double min, bool strictlyAbove, const char* what, size_t index) {
  WAFERSIM_REQUIRE(std::isfinite(v) && (strictlyAbove ? v > min : v >= min), what, "[", index, "] = ", v,
                   strictlyAbove ? ", expected a finite value > " : ", expected a finite value >= ", min);
}

template <typename List>
std::vector<double> readRates(List in, size_t expected, bool positive, const char* what) {
  std::vector<double> out = readList<double>(in, expected, false, what);
  for (size_t i = 0; i < out.size(); ++i) requireFinite(out[i], 0, positive, what, i);
  return out;
}

// ---- heatmaps ---------------------------------------------------------------------------------

void heatmapToWire(const std::vector<uint32_t>& dense, uint32_t experts, capnp::List<PlacementPairCount>::Builder out) {
  unsigned n = 0;
  const size_t cells = size_t{experts} * experts;
  for (size_t i = 0; i < dense.size(); ++i) {
    if (dense[i] == 0) continue;
    auto c = out[n++];
    c.setLayer(static_cast<uint32_t>(i / cells));
    c.setA(static_cast<uint32_t>(i % cells / experts));
    c.setB(static_cast<uint32_t>(i % experts));
    c.setCount(dense[i]);
  }
}

unsigned nonzeros(const std::vector<uint32_t>& dense) {
  unsigned n = 0;
  for (uint32_t v : dense) n += v != 0;
  return n;
}

std::vector<uint32_t> heatmapFromWire(capnp::List<PlacementPairCount>::Reader in, bool present, uint32_t layers,
                                      uint32_t experts, const char* what) {
  if (!present) {
    WAFERSIM_REQUIRE(in.size() == 0, what, ": ", in.size(), " cells of a heatmap that is off");
    return {};
  }
  requireSizedElements(in, what);
  const size_t cells = size_t{layers} * experts * experts;
  WAFERSIM_REQUIRE(cells <= Limits::maxHeatmapCells, what, ": ", layers, " layers x ", experts, " x ", experts,
                   " experts is more than ", Limits::maxHeatmapCells, " cells");
  WAFERSIM_REQUIRE(in.size() <= cells, what, ": ", in.size(), " nonzero cells of ", cells);
  std::vector<uint32_t> dense(cells, 0);
  size_t previous = 0;
  bool first = true;
  for (auto c : in) {
    const uint32_t l = c.getLayer(), a = c.getA(), b = c.getB(), count = c.getCount();
    WAFERSIM_REQUIRE(l < layers && a < experts && b < experts, what, ": cell (", l, ", ", a, ", ", b,
                     ") outside ", layers, " layers x ", experts, " experts");
    WAFERSIM_REQUIRE(count > 0, what, ": cell (", l, ", ", a, ", ", b, ") sent with count 0");
    const size_t index = (size_t{l} * experts + a) * experts + b;
    WAFERSIM_REQUIRE(first || index > previous, what, ": cell (", l, ", ", a, ", ", b,
                     ") out of ascending order or repeated");
    dense[index] = count;
    previous = index;
    first = false;
  }
  return dense;
}

void requireEmptyOrShape(const placement::Placement& p, uint32_t dies, uint32_t layers, uint32_t experts,
                         const char* what) {
  if (p.dies() == 0 && p.layers() == 0 && p.experts() == 0) return;
  WAFERSIM_REQUIRE(p.dies() == dies && p.layers() == layers && p.experts() == experts, what, ": ", p.dies(),
                   " dies x ", p.layers(), " layers x ", p.experts(), " experts, the problem has ", dies, " x ",
                   layers, " x ", experts);
}

}  // namespace

// ---- enums ------------------------------------------------------------------------------------

proto::PlacementSplit toWire(placement::Split split) {
  switch (split) {
    case placement::Split::Even: return proto::PlacementSplit::EVEN;
    case placement::Split::LeastLoaded: return proto::PlacementSplit::LEAST_LOADED;
    case placement::Split::Nearest: return proto::PlacementSplit::NEAREST;
  }
  return proto::PlacementSplit::EVEN;
}

placement::Split fromWire(proto::PlacementSplit split) {
  switch (split) {
    case proto::PlacementSplit::EVEN: return placement::Split::Even;
    case proto::PlacementSplit::LEAST_LOADED: return placement::Split::LeastLoaded;
    case proto::PlacementSplit::NEAREST: return placement::Split::Nearest;
  }
  fail(wafersim::ErrorKind::InvalidConfig, "unknown placement split rule ", static_cast<unsigned>(split));
}

proto::PlacementOutcome toWire(DecisionOutcome outcome) {
  return outcome == DecisionOutcome::Applied ? proto::PlacementOutcome::APPLIED : proto::PlacementOutcome::KEPT;
}

DecisionOutcome fromWire(proto::PlacementOutcome outcome) {
  switch (outcome) {
    case proto::PlacementOutcome::APPLIED: return DecisionOutcome::Applied;
    case proto::PlacementOutcome::KEPT: return DecisionOutcome::Kept;
  }
  fail(wafersim::ErrorKind::InvalidConfig, "unknown placement outcome ", static_cast<unsigned>(outcome));
}

// ---- Fabric -----------------------------------------------------------------------------------

void toWire(const placement::Fabric& in, PlacementFabric::Builder out) {
  out.setDies(in.dies);
  auto unusable = out.initUnusable(static_cast<unsigned>(in.unusable.size()));
  for (unsigned i = 0; i < in.unusable.size(); ++i) unusable.set(i, in.unusable[i]);
  listToWire(in.hops, out.initHops(static_cast<unsigned>(in.hops.size())));
  listToWire(in.linkBandwidth, out.initLinkBandwidth(static_cast<unsigned>(in.linkBandwidth.size())));
  size_t total = 0;
  for (const auto& path : in.paths) total += path.size();
  auto links = out.initPathLinks(static_cast<unsigned>(total));
  auto offsets = out.initPathOffsets(in.paths.empty() ? 0u : static_cast<unsigned>(in.paths.size() + 1));
  unsigned at = 0;
  for (unsigned i = 0; i < in.paths.size(); ++i) {
    offsets.set(i, at);
    for (uint32_t link : in.paths[i]) links.set(at++, link);
  }
  if (!in.paths.empty()) offsets.set(static_cast<unsigned>(in.paths.size()), at);
  listToWire(in.expertFlops, out.initExpertFlops(static_cast<unsigned>(in.expertFlops.size())));
  listToWire(in.memoryBandwidth, out.initMemoryBandwidth(static_cast<unsigned>(in.memoryBandwidth.size())));
  listToWire(in.expertCapacityBytes, out.initExpertCapacityBytes(static_cast<unsigned>(in.expertCapacityBytes.size())));
  out.setGridX(in.gridX);
  out.setGridY(in.gridY);
  listToWire(in.groupOf, out.initGroupOf(static_cast<unsigned>(in.groupOf.size())));
}

void fromWire(PlacementFabric::Reader in, placement::Fabric& out) {
  const uint32_t D = in.getDies();
  WAFERSIM_REQUIRE(D > 0 && D <= Limits::maxDies, "fabric: ", D, " dies, expected 1 to ", Limits::maxDies);
  const size_t pairs = size_t{D} * D;
  out.dies = D;
  out.unusable = readList<bool>(in.getUnusable(), D, true, "fabric.unusable");
  out.hops = readList<uint32_t>(in.getHops(), pairs, true, "fabric.hops");
  auto bandwidth = in.getLinkBandwidth();
  WAFERSIM_REQUIRE(bandwidth.size() <= Limits::maxLinks, "fabric.linkBandwidth: ", bandwidth.size(),
                   " links, at most ", Limits::maxLinks);
  out.linkBandwidth = readRates(bandwidth, bandwidth.size(), true, "fabric.linkBandwidth");
  auto links = in.getPathLinks();
  auto offsets = in.getPathOffsets();
  WAFERSIM_REQUIRE(links.size() <= Limits::maxPathLinks, "fabric.pathLinks: ", links.size(), " links, at most ",
                   Limits::maxPathLinks);
  WAFERSIM_REQUIRE(offsets.size() == pairs + 1, "fabric.pathOffsets: ", offsets.size(), " offsets for ", D,
                   " x ", D, " paths, expected ", pairs + 1);
  WAFERSIM_REQUIRE(offsets[0] == 0 && offsets[static_cast<unsigned>(pairs)] == links.size(),
                   "fabric.pathOffsets: must run from 0 to ", links.size());
  out.paths.assign(pairs, {});
  for (unsigned i = 0; i < pairs; ++i) {
    const uint32_t begin = offsets[i], end = offsets[i + 1];
    WAFERSIM_REQUIRE(begin <= end && end <= links.size(), "fabric.pathOffsets: path ", i, " from ", begin, " to ",
                     end, " of ", links.size());
    auto& path = out.paths[i];
    path.reserve(end - begin);
    for (uint32_t k = begin; k < end; ++k) {
      const uint32_t link = links[k];
      WAFERSIM_REQUIRE(link < out.linkBandwidth.size(), "fabric: path ", i / D, " -> ", i % D, " uses link ", link,
                       " of ", out.linkBandwidth.size());
      path.push_back(link);
    }
  }
  out.expertFlops = readRates(in.getExpertFlops(), D, false, "fabric.expertFlops");
  out.memoryBandwidth = readRates(in.getMemoryBandwidth(), D, false, "fabric.memoryBandwidth");
  out.expertCapacityBytes = readList<uint64_t>(in.getExpertCapacityBytes(), D, true, "fabric.expertCapacityBytes");
  out.gridX = in.getGridX();
  out.gridY = in.getGridY();
  WAFERSIM_REQUIRE((out.gridX == 0 && out.gridY == 0) || uint64_t{out.gridX} * out.gridY == D, "fabric: a ",
                   out.gridX, " x ", out.gridY, " grid for ", D, " dies");
  out.groupOf = readList<uint32_t>(in.getGroupOf(), D, true, "fabric.groupOf");
  for (uint32_t d = 0; d < out.groupOf.size(); ++d)
    WAFERSIM_REQUIRE(out.groupOf[d] < D, "fabric.groupOf: die ", d, " in group ", out.groupOf[d], ", expected < ", D);
}

// ---- ExpertShape ------------------------------------------------------------------------------

void toWire(const placement::ExpertShape& in, PlacementExpertShape::Builder out) {
  out.setLayers(in.layers);
  out.setExperts(in.experts);
  out.setTopK(in.topK);
  out.setHidden(in.hidden);
  out.setIntermediate(in.intermediate);
  out.setGated(in.gated);
  out.setExpertBytes(in.expertBytes);
  out.setActivationBytes(in.activationBytes);
}

void fromWire(PlacementExpertShape::Reader in, placement::ExpertShape& out) {
  out.layers = in.getLayers();
  out.experts = in.getExperts();
  WAFERSIM_REQUIRE(out.layers <= Limits::maxLayers && out.experts <= Limits::maxExperts &&
                       size_t{out.layers} * out.experts <= Limits::maxExpertSlots,
                   "model: ", out.layers, " layers x ", out.experts, " experts, at most ", Limits::maxLayers, " x ",
                   Limits::maxExperts, " and ", Limits::maxExpertSlots, " in all");
  out.topK = in.getTopK();
  WAFERSIM_REQUIRE(out.topK <= out.experts, "model: top-", out.topK, " of ", out.experts, " experts");
  out.hidden = in.getHidden();
  out.intermediate = in.getIntermediate();
  out.gated = in.getGated();
  out.expertBytes = in.getExpertBytes();
  out.activationBytes = in.getActivationBytes();
}

// ---- LoadProfile ------------------------------------------------------------------------------

void toWire(const placement::LoadProfile& in, PlacementLoadProfile::Builder out) {
  out.setLayers(in.layers());
  out.setExperts(in.experts());
  out.setDies(in.dies());
  listToWire(in.tokenCounts(), out.initTokens(static_cast<unsigned>(in.tokenCounts().size())));
  listToWire(in.loadCounts(), out.initLoads(static_cast<unsigned>(in.loadCounts().size())));
  listToWire(in.sourceCounts(), out.initSourceTokens(static_cast<unsigned>(in.sourceCounts().size())));
  out.setHasPairs(in.hasPairs());
  heatmapToWire(in.pairCounts(), in.experts(), out.initPairs(nonzeros(in.pairCounts())));
  out.setHasNext(in.hasNext());
  heatmapToWire(in.nextCounts(), in.experts(), out.initNext(nonzeros(in.nextCounts())));
}

void fromWire(PlacementLoadProfile::Reader in, placement::LoadProfile& out) {
  const uint32_t L = in.getLayers(), E = in.getExperts(), D = in.getDies();
  WAFERSIM_REQUIRE(L <= Limits::maxLayers && E <= Limits::maxExperts && size_t{L} * E <= Limits::maxExpertSlots &&
                       D <= Limits::maxDies,
                   "profile: ", L, " layers x ", E, " experts on ", D, " dies is beyond the limits");
  auto tokens = readList<uint64_t>(in.getTokens(), L, false, "profile.tokens");
  auto loads = readList<uint64_t>(in.getLoads(), size_t{L} * E, false, "profile.loads");
  // A token picks an expert at most once: no expert's load exceeds its layer's tokens. (A load of
  // 1e12 beside 3 tokens made the HD MILP so badly scaled that GLPK's simplex never finished;
  // found by fuzz_placement_message.)
  for (uint32_t l = 0; l < L; ++l)
    for (uint32_t e = 0; e < E; ++e)
      WAFERSIM_REQUIRE(loads[size_t{l} * E + e] <= tokens[l], "profile.loads: expert ", e, " of layer ", l, " has ",
                       loads[size_t{l} * E + e], " tokens, more than the layer's ", tokens[l]);
  auto sources = readList<uint64_t>(in.getSourceTokens(), D, false, "profile.sourceTokens");
  auto pairs = heatmapFromWire(in.getPairs(), in.getHasPairs(), L, E, "profile.pairs");
  auto next = heatmapFromWire(in.getNext(), in.getHasNext(), L, E, "profile.next");
  // A profile with pairs on but not one pair recorded is dense zeros: still "on".
  out = placement::LoadProfile::fromCounts(L, E, D, std::move(tokens), std::move(loads), std::move(sources),
                                           std::move(pairs), std::move(next));
}

// ---- Placement --------------------------------------------------------------------------------

void toWire(const placement::Placement& in, PlacementMap::Builder out) {
  out.setDies(in.dies());
  out.setLayers(in.layers());
  out.setExperts(in.experts());
  out.setSplit(toWire(in.split));
  listToWire(in.nodeMap, out.initNodeMap(static_cast<unsigned>(in.nodeMap.size())));
  size_t replicas = 0, shards = 0;
  for (uint32_t l = 0; l < in.layers(); ++l)
    for (uint32_t e = 0; e < in.experts(); ++e)
      for (const placement::Replica& r : in.replicas(l, e)) {
        ++replicas;
        shards += r.shards.size();
      }
  auto replicaCounts = out.initReplicaCounts(in.layers() * in.experts());
  auto shardCounts = out.initShardCounts(static_cast<unsigned>(replicas));
  auto wireShards = out.initShards(static_cast<unsigned>(shards));
  unsigned slot = 0, r = 0, s = 0;
  for (uint32_t l = 0; l < in.layers(); ++l)
    for (uint32_t e = 0; e < in.experts(); ++e) {
      const auto& copies = in.replicas(l, e);
      replicaCounts.set(slot++, static_cast<uint32_t>(copies.size()));
      for (const placement::Replica& replica : copies) {
        shardCounts.set(r++, static_cast<uint32_t>(replica.shards.size()));
        for (const placement::Shard& shard : replica.shards) {
          auto w = wireShards[s++];
          w.setDie(shard.die);
          w.setParts(shard.parts);
          w.setEngine(shard.engine);
        }
      }
    }
}

void fromWire(PlacementMap::Reader in, placement::Placement& out) {
  const uint32_t D = in.getDies(), L = in.getLayers(), E = in.getExperts();
  auto replicaCounts = in.getReplicaCounts();
  auto shardCounts = in.getShardCounts();
  auto shards = in.getShards();
  requireSizedElements(shards, "placement.shards");
  if (D == 0 && L == 0 && E == 0) {
    WAFERSIM_REQUIRE(replicaCounts.size() == 0 && shardCounts.size() == 0 && shards.size() == 0 &&
                         in.getNodeMap().size() == 0,
                     "placement: an empty placement with replicas");
    out = placement::Placement();
    out.split = fromWire(in.getSplit());
    return;
  }
  WAFERSIM_REQUIRE(D > 0 && D <= Limits::maxDies && L <= Limits::maxLayers && E <= Limits::maxExperts &&
                       size_t{L} * E <= Limits::maxExpertSlots,
                   "placement: ", D, " dies x ", L, " layers x ", E, " experts is beyond the limits");
  const size_t slots = size_t{L} * E;
  WAFERSIM_REQUIRE(replicaCounts.size() == slots, "placement.replicaCounts: ", replicaCounts.size(),
                   " counts for ", L, " layers x ", E, " experts");
  WAFERSIM_REQUIRE(shardCounts.size() <= Limits::maxReplicas, "placement: ", shardCounts.size(),
                   " replicas, at most ", Limits::maxReplicas);
  placement::Placement p(D, L, E);
  p.split = fromWire(in.getSplit());
  auto nodeMap = in.getNodeMap();
  WAFERSIM_REQUIRE(nodeMap.size() == 0 || nodeMap.size() == D, "placement.nodeMap: ", nodeMap.size(),
                   " entries for ", D, " dies");
  p.nodeMap.reserve(nodeMap.size());
  for (uint32_t die : nodeMap) {
    WAFERSIM_REQUIRE(die < D, "placement.nodeMap: node ", p.nodeMap.size(), " on die ", die, " of ", D);
    p.nodeMap.push_back(die);
  }
  unsigned r = 0, s = 0;
  for (uint32_t l = 0; l < L; ++l)
    for (uint32_t e = 0; e < E; ++e) {
      const uint32_t copies = replicaCounts[static_cast<unsigned>(size_t{l} * E + e)];
      WAFERSIM_REQUIRE(copies >= 1 && copies <= D, "placement: MoE layer ", l, " expert ", e, " has ", copies,
                       " replicas on ", D, " dies");
      WAFERSIM_REQUIRE(uint64_t{r} + copies <= shardCounts.size(), "placement.shardCounts: ", shardCounts.size(),
                       " replicas listed, more are counted");
      auto& replicas = p.replicas(l, e);
      replicas.resize(copies);
      for (placement::Replica& replica : replicas) {
        const uint32_t n = shardCounts[r++];
        WAFERSIM_REQUIRE(n >= 1 && n <= D, "placement: MoE layer ", l, " expert ", e, " has a replica of ", n,
                         " shards on ", D, " dies");
        WAFERSIM_REQUIRE(uint64_t{s} + n <= shards.size(), "placement.shards: ", shards.size(),
                         " shards listed, more are counted");
        replica.shards.reserve(n);
        for (uint32_t k = 0; k < n; ++k) {
          auto w = shards[s++];
          replica.shards.push_back({w.getDie(), w.getParts(), w.getEngine()});
        }
      }
    }
  WAFERSIM_REQUIRE(r == shardCounts.size() && s == shards.size(), "placement: ", shardCounts.size(), " replicas and ",
                   shards.size(), " shards listed, ", r, " and ", s, " counted");
  p.validate("placement");  // dies in range, parts adding up, no die twice
  out = std::move(p);
}

// ---- message bodies ---------------------------------------------------------------------------

void toWire(const PlacementRequestMessage& in, PlacementRequest::Builder out) {
  toWireRequest(in.runId, in.epoch, in.policy, in.problem.options, in.problem, out);
}

void toWireRequest(const std::string& runId, uint64_t epoch, const std::string& policy, const Params& given,
                   const placement::Problem& p, PlacementRequest::Builder out) {
  out.setRunId(toText(runId));
  out.setEpoch(epoch);
  out.setPolicy(toText(policy));
  const auto& options = given.values();
  auto wireOptions = out.initOptions(static_cast<unsigned>(options.size()));
  unsigned i = 0;
  for (const auto& [key, value] : options) {
    auto o = wireOptions[i++];
    o.setKey(toText(key));
    o.setValue(toText(value));
  }
  out.setSeed(p.seed);
  toWire(p.fabric, out.initFabric());
  toWire(p.model, out.initModel());
  toWire(p.profile, out.initProfile());
  out.setAttentionSeconds(p.attentionSeconds);
  out.setTokensPerStep(p.tokensPerStep);
  toWire(p.current, out.initCurrent());
}

void fromWire(PlacementRequest::Reader in, PlacementRequestMessage& out) {
  out.runId = readText(in.getRunId(), Limits::maxNameBytes, "placement request: run id");
  out.epoch = in.getEpoch();
  out.policy = readText(in.getPolicy(), Limits::maxNameBytes, "placement request: policy");
  placement::Problem& p = out.problem;
  auto options = in.getOptions();
  requireSizedElements(options, "placement request: options");
  WAFERSIM_REQUIRE(options.size() <= Limits::maxOptions, "placement request: ", options.size(),
                   " options, at most ", Limits::maxOptions);
  p.options = Params();
  for (auto o : options) {
    std::string key = readText(o.getKey(), Limits::maxNameBytes, "placement request: option key");
    WAFERSIM_REQUIRE(!key.empty(), "placement request: an option without a key");
    WAFERSIM_REQUIRE(!p.options.has(key), "placement request: option ", key, " twice");
    p.options.set(key, readText(o.getValue(), Limits::maxNameBytes, "placement request: option value"));
  }
  p.seed = in.getSeed();
  fromWire(in.getFabric(), p.fabric);
  fromWire(in.getModel(), p.model);
  fromWire(in.getProfile(), p.profile);
  WAFERSIM_REQUIRE(p.profile.layers() == p.model.layers && p.profile.experts() == p.model.experts &&
                       p.profile.dies() == p.fabric.dies,
                   "placement request: a profile of ", p.profile.layers(), " layers x ", p.profile.experts(),
                   " experts on ", p.profile.dies(), " dies for a model of ", p.model.layers, " x ", p.model.experts,
                   " on ", p.fabric.dies);
  p.attentionSeconds = in.getAttentionSeconds();
  requireFinite(p.attentionSeconds, 0, false, "placement request: attentionSeconds", 0);
  p.tokensPerStep = in.getTokensPerStep();
  fromWire(in.getCurrent(), p.current);
  requireEmptyOrShape(p.current, p.fabric.dies, p.model.layers, p.model.experts, "placement request: current");
}

void toWire(const PlacementReplyMessage& in, PlacementReply::Builder out) {
  out.setRunId(toText(in.runId));
  out.setEpoch(in.epoch);
  out.setOutcome(toWire(in.outcome));
  out.setReason(toText(in.decision.reason));
  toWire(in.decision.placement, out.initPlacement());
  out.setPredictedGain(in.decision.predictedGain);
  out.setOptimalityGap(in.decision.optimalityGap);
  out.setDecisionMicros(in.decisionMicros);
}

void fromWire(PlacementReply::Reader in, PlacementReplyMessage& out) {
  out.runId = readText(in.getRunId(), Limits::maxNameBytes, "placement reply: run id");
  out.epoch = in.getEpoch();
  out.outcome = fromWire(in.getOutcome());
  out.decision.reason = readText(in.getReason(), Limits::maxReasonBytes, "placement reply: reason");
  fromWire(in.getPlacement(), out.decision.placement);
  WAFERSIM_REQUIRE(out.outcome != DecisionOutcome::Applied || out.decision.placement.dies() > 0,
                   "placement reply: applied without a placement");
  out.decision.predictedGain = in.getPredictedGain();
  out.decision.optimalityGap = in.getOptimalityGap();
  WAFERSIM_REQUIRE(std::isfinite(out.decision.predictedGain) && std::isfinite(out.decision.optimalityGap),
                   "placement reply: gain ", out.decision.predictedGain, " and gap ", out.decision.optimalityGap,
                   " must be finite");
  out.decisionMicros = in.getDecisionMicros();
}

// ---- envelope level ---------------------------------------------------------------------------

void toWire(const PlacementRequestMessage& in, Envelope::Builder out) { toWire(in, out.initPlacementRequest()); }
void toWire(const PlacementReplyMessage& in, Envelope::Builder out) { toWire(in, out.initPlacementReply()); }

void fromWire(Envelope::Reader in, PlacementRequestMessage& out) {
  WAFERSIM_REQUIRE(in.which() == Envelope::PLACEMENT_REQUEST, "expected a placementRequest message, got ",
                   kindName(in.which()));
  fromWire(in.getPlacementRequest(), out);
}

void fromWire(Envelope::Reader in, PlacementReplyMessage& out) {
  WAFERSIM_REQUIRE(in.which() == Envelope::PLACEMENT_REPLY, "expected a placementReply message, got ",
                   kindName(in.which()));
  fromWire(in.getPlacementReply(), out);
}

}  // namespace wafersim::proto
