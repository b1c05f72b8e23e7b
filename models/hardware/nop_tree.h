// Mozart's NoP-Tree (seeds.md 5.1): a 2.5D network-on-package shaped as a tree, the attention
// chiplet at the root, expert (MoE) chiplets at the leaves, switches between them.
//
// SHAPE. fanout = {f0, f1, ..., f(L-1)}: the root router has f0 children, each router at depth d
// has fd children; the children of the depth L-1 routers are the expert chiplets (endpoints).
// {4, 4} (the default) = root, 4 switches, 4 experts under each: the 16 experts in 4 groups of
// Mozart. {16} is not possible (17 ports); every fan-out is 1..15.
//
// LINKS, per level. Level d joins the routers at depth d to their children (routers at depth d+1,
// or, for d = L-1, the expert endpoints). levels[d] gives its latency (both directions) and its
// bandwidth down (towards the leaves) and up (towards the root); one entry applies to every level.
// The attention chiplet hangs on the root with `attentionLatency` / `attentionBandwidth`.
//
// INDICES AND NAMES (all left to right, level by level):
//   routers:   0 = "root", then "switch[d,i]" for depth d = 1..L-1, i = 0.. across that depth
//   endpoints: 0 = "attention" (on the root), then the experts: endpoint 1 + k is leaf k =
//              "expert[g,i]", g = its parent switch's position across depth L-1 (0 when L = 1),
//              i = its position under that switch (so k = g * f(L-1) + i).
// Ports of a router: p0..p(f-1) its children, left to right; p(f) its parent (the root: the
// attention chiplet).
//
// ROUTING. On a tree the shortest path is the unique one: up to the lowest common ancestor and
// down; nopTreeRoutes is shortestPathRoutes of the description.
#pragma once

#include <cstdint>
#include <vector>

#include "models/hardware/topology.h"

namespace wafersim::hw {

struct NopTreeLevel {
  Duration latency = Duration::fromPs(1000);
  Bandwidth down{100'000'000'000};  // parent -> child
  Bandwidth up{100'000'000'000};    // child -> parent
};

// The link numbers are placeholders (Mozart does not give its NoP link parameters).
struct NopTreeConfig {
  std::vector<uint32_t> fanout = {4, 4};
  std::vector<NopTreeLevel> levels = {NopTreeLevel{}};  // one entry, or one per level
  Duration attentionLatency = Duration::fromPs(1000);
  Bandwidth attentionBandwidth{100'000'000'000};
  EnergyPerBit energyPerBit{0};
  ForwardingMode mode = ForwardingMode::StoreAndForward;
  Bytes chunk{256};
  std::vector<FlowSpec> flows;
};

inline constexpr uint32_t kNopTreeAttention = 0;  // the attention chiplet's endpoint index
uint32_t nopTreeExperts(const NopTreeConfig& config);  // the product of the fan-outs
// The endpoint index of expert i under last-level switch g (1 + g * f(L-1) + i).
uint32_t nopTreeExpert(const NopTreeConfig& config, uint32_t group, uint32_t i);

NetworkDescription describeNopTree(const NopTreeConfig& config);
std::vector<std::vector<PortId>> nopTreeRoutes(const NopTreeConfig& config);
Network buildNopTree(const NopTreeConfig& config);

}  // namespace wafersim::hw
