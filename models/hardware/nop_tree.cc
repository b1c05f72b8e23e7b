#include "models/hardware/nop_tree.h"

#include <string>

#include "sim/error.h"

namespace wafersim::hw {
namespace {

void check(const NopTreeConfig& c) {
  WAFERSIM_REQUIRE(!c.fanout.empty(), "nop tree: at least one level of fan-out");
  uint64_t leaves = 1;
  for (uint32_t f : c.fanout) {
    WAFERSIM_REQUIRE(f >= 1 && f < kRouterPorts, "nop tree: fan-out ", f, " is not in 1..", kRouterPorts - 1);
    leaves *= f;
    WAFERSIM_REQUIRE(leaves <= 1'000'000, "nop tree: more than a million experts");
  }
  WAFERSIM_REQUIRE(c.levels.size() == 1 || c.levels.size() == c.fanout.size(), "nop tree: ", c.levels.size(),
                   " link levels for ", c.fanout.size(), " levels of fan-out (give one, or one per level)");
}

const NopTreeLevel& level(const NopTreeConfig& c, size_t d) { return c.levels[c.levels.size() == 1 ? 0 : d]; }

}  // namespace

uint32_t nopTreeExperts(const NopTreeConfig& config) {
  check(config);
  uint32_t n = 1;
  for (uint32_t f : config.fanout) n *= f;
  return n;
}

uint32_t nopTreeExpert(const NopTreeConfig& config, uint32_t group, uint32_t i) {
  const uint32_t f = config.fanout.empty() ? 0 : config.fanout.back();
  const uint32_t n = nopTreeExperts(config);
  WAFERSIM_REQUIRE(i < f && uint64_t{group} * f + i < n, "nop tree: no expert[", group, ",", i, "]");
  return 1 + group * f + i;
}

NetworkDescription describeNopTree(const NopTreeConfig& c) {
  check(c);
  const size_t L = c.fanout.size();
  NetworkDescription d;
  d.routerNames.push_back("root");
  d.endpointNames.push_back("attention");
  d.endpoints.push_back({0, static_cast<PortId>(c.fanout[0]), c.attentionLatency, c.attentionBandwidth});
  // The routers at the current depth, left to right.
  std::vector<uint32_t> depth{0};
  for (size_t lv = 0; lv < L; ++lv) {
    const uint32_t f = c.fanout[lv];
    const NopTreeLevel& link = level(c, lv);
    std::vector<uint32_t> next;
    for (uint32_t g = 0; g < depth.size(); ++g)
      for (uint32_t i = 0; i < f; ++i) {
        const PortId down = static_cast<PortId>(i);
        if (lv + 1 < L) {
          const uint32_t child = static_cast<uint32_t>(d.routerNames.size());
          const uint32_t position = static_cast<uint32_t>(next.size());
          d.routerNames.push_back("switch[" + std::to_string(lv + 1) + "," + std::to_string(position) + "]");
          const PortId upPort = static_cast<PortId>(c.fanout[lv + 1]);
          d.links.push_back({depth[g], child, down, upPort, link.latency, link.latency, link.down, link.up});
          next.push_back(child);
        } else {
          d.endpointNames.push_back("expert[" + std::to_string(g) + "," + std::to_string(i) + "]");
          // Injection is the expert's link up, ejection the switch's link down.
          d.endpoints.push_back({depth[g], down, link.latency, link.up, link.down});
        }
      }
    depth = std::move(next);
  }
  d.energyPerBit = c.energyPerBit;
  d.mode = c.mode;
  d.chunk = c.chunk;
  d.flows = c.flows;
  return d;
}

std::vector<std::vector<PortId>> nopTreeRoutes(const NopTreeConfig& config) {
  return shortestPathRoutes(describeNopTree(config));
}

Network buildNopTree(const NopTreeConfig& config) {
  const NetworkDescription d = describeNopTree(config);
  return buildNetwork(d, shortestPathRoutes(d));
}

}  // namespace wafersim::hw
