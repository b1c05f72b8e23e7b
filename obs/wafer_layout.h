// Where a system's dies and links are, for pictures of the wafer (the live page's heatmap, reports)
// and for per-link figures (links.csv, link utilization metrics).
//
// Dies are components of a die type (hw.Die, moe.Die, hw.Endpoint). A die whose name ends in
// "[row,col]" sits at that cell; when any die lacks such a name, all are laid out in one row in id
// order. Links are the router output ports "pK" that the graph connects: each names the router,
// the peer component and the port's bandwidth (the router's bandwidth_pK, else its bandwidth).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/system_graph.h"

namespace wafersim::obs {

bool isDieType(std::string_view type);

struct DieSite {
  ComponentId id = 0;
  std::string name;
  uint32_t row = 0, col = 0;
};

struct LinkSite {
  ComponentId router = 0;
  uint32_t port = 0;  // K of "pK"
  std::string from, to;
  uint64_t bandwidthBytesPerSecond = 0;  // 0: unknown
  std::string label() const { return from + "->" + to; }
};

struct WaferLayout {
  uint32_t rows = 0, cols = 0;
  std::vector<DieSite> dies;    // in id order
  std::vector<LinkSite> links;  // by router id, then port

  static WaferLayout of(const SystemGraph& graph);
  // The link on that router port, or null.
  const LinkSite* link(ComponentId router, uint32_t port) const;
  const DieSite* die(ComponentId id) const;
};

// "[3,4]" at the end of a name -> (3, 4).
std::optional<std::pair<uint32_t, uint32_t>> gridPosition(std::string_view name);

}  // namespace wafersim::obs
