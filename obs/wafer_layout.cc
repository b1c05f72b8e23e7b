#include "obs/wafer_layout.h"

#include <algorithm>
#include <charconv>

#include "models/hardware/units.h"

namespace wafersim::obs {

bool isDieType(std::string_view type) { return type == "hw.Die" || type == "moe.Die" || type == "hw.Endpoint"; }

std::optional<std::pair<uint32_t, uint32_t>> gridPosition(std::string_view name) {
  if (name.empty() || name.back() != ']') return std::nullopt;
  const auto open = name.rfind('[');
  const auto comma = name.rfind(',');
  if (open == std::string_view::npos || comma == std::string_view::npos || comma < open) return std::nullopt;
  uint32_t row = 0, col = 0;
  const char* a = name.data() + open + 1;
  const char* b = name.data() + comma;
  const char* c = name.data() + name.size() - 1;
  if (std::from_chars(a, b, row).ptr != b || std::from_chars(b + 1, c, col).ptr != c) return std::nullopt;
  return std::pair{row, col};
}

WaferLayout WaferLayout::of(const SystemGraph& graph) {
  WaferLayout w;
  bool gridded = true;
  for (const ComponentSpec& c : graph.components()) {
    if (!isDieType(c.type)) continue;
    DieSite d{c.id, c.name, 0, 0};
    if (auto at = gridPosition(c.name)) std::tie(d.row, d.col) = *at;
    else gridded = false;
    w.dies.push_back(std::move(d));
  }
  if (!gridded)
    for (size_t i = 0; i < w.dies.size(); ++i) w.dies[i].row = 0, w.dies[i].col = static_cast<uint32_t>(i);
  for (const DieSite& d : w.dies) w.rows = std::max(w.rows, d.row + 1), w.cols = std::max(w.cols, d.col + 1);

  auto addPort = [&](ComponentId router, const std::string& port, ComponentId peer) {
    const ComponentSpec& r = graph.component(router);
    if (r.type != "hw.Router" || port.size() < 2 || port[0] != 'p') return;
    uint32_t k = 0;
    if (std::from_chars(port.data() + 1, port.data() + port.size(), k).ptr != port.data() + port.size()) return;
    const std::string bw = r.params.has("bandwidth_" + port) && !r.params.text("bandwidth_" + port).empty()
                               ? r.params.text("bandwidth_" + port)
                           : r.params.has("bandwidth") ? r.params.text("bandwidth")
                                                       : "";
    w.links.push_back({router, k, r.name, graph.component(peer).name,
                       bw.empty() ? 0 : hw::parseBandwidth(bw).bytesPerSecond});
  };
  for (const LinkSpec& l : graph.links()) {
    addPort(l.a, l.portA, l.b);
    addPort(l.b, l.portB, l.a);
  }
  std::sort(w.links.begin(), w.links.end(),
            [](const LinkSite& x, const LinkSite& y) { return std::tie(x.router, x.port) < std::tie(y.router, y.port); });
  return w;
}

const LinkSite* WaferLayout::link(ComponentId router, uint32_t port) const {
  auto it = std::lower_bound(links.begin(), links.end(), std::pair{router, port}, [](const LinkSite& l, const auto& key) {
    return std::tie(l.router, l.port) < std::tie(key.first, key.second);
  });
  return it != links.end() && it->router == router && it->port == port ? &*it : nullptr;
}

const DieSite* WaferLayout::die(ComponentId id) const {
  auto it = std::lower_bound(dies.begin(), dies.end(), id, [](const DieSite& d, ComponentId x) { return d.id < x; });
  return it != dies.end() && it->id == id ? &*it : nullptr;
}

}  // namespace wafersim::obs
