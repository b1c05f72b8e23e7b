#include "models/hardware/systems.h"

#include <charconv>
#include <sstream>
#include <utility>

#include "models/hardware/endpoint.h"
#include "models/hardware/gpu_box.h"
#include "models/hardware/graph_file.h"
#include "models/hardware/nop_tree.h"
#include "models/hardware/presets.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

const std::vector<std::string> kSystems = {"dojo",           "tsmc-sow",   "dojo-enhanced",
                                           "hd-moe-compute-rich", "hd-moe-balanced", "hd-moe-link-rich",
                                           "gpu-box",        "duplex-box", "mozart",
                                           "file"};
const std::vector<std::string> kDies = {"h100",           "duplex",         "dojo-enhanced", "hd-moe-compute-rich",
                                        "hd-moe-balanced", "hd-moe-link-rich", "a3d-moe",     "mozart"};

std::string list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

Routing parseRouting(const std::string& text) {
  if (text == "xy") return Routing::XY;
  if (text == "yx") return Routing::YX;
  if (text == "shortest_path") return Routing::ShortestPath;
  fail(ErrorKind::InvalidConfig, "parameter routing: unknown routing \"", text, "\" (xy, yx, shortest_path)");
}

// The preset's link properties, replaced by the parameters that are set.
struct Links {
  Bandwidth bandwidth;
  Duration latency;
  EnergyPerBit energy;
};

Links overridden(Links l, const Params& p) {
  if (!p.text("link_bandwidth").empty()) l.bandwidth = parseBandwidth(p.text("link_bandwidth"));
  if (!p.text("link_latency").empty()) l.latency = parseDuration(p.text("link_latency"));
  if (!p.text("link_energy").empty()) l.energy = parseEnergyPerBit(p.text("link_energy"));
  WAFERSIM_REQUIRE(l.bandwidth.bytesPerSecond > 0, "parameter link_bandwidth: must be positive");
  return l;
}

// "3, 17" -> {3, 17}; every item a die index below `dies`.
std::vector<uint32_t> parseDieList(const std::string& text, size_t dies) {
  std::vector<uint32_t> out;
  std::istringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    const size_t first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
    if (first == std::string::npos) continue;
    item = item.substr(first, last - first + 1);
    uint32_t die = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), die);
    WAFERSIM_REQUIRE(ec == std::errc() && end == item.data() + item.size() && die < dies, "parameter failed_dies: \"",
                     item, "\" is not a die index (0 .. ", dies - 1, ")");
    out.push_back(die);
  }
  return out;
}

HardwareSystem mesh(std::string name, uint32_t x, uint32_t y, Links l, DieSpec die, const Params& p) {
  MeshConfig c;
  c.x = p.integer("x") > 0 ? static_cast<uint32_t>(p.integer("x")) : x;
  c.y = p.integer("y") > 0 ? static_cast<uint32_t>(p.integer("y")) : y;
  l = overridden(l, p);
  c.linkBandwidth = l.bandwidth;
  c.linkLatency = l.latency;
  c.energyPerBit = l.energy;
  c.endpointBandwidth = Bandwidth{4 * l.bandwidth.bytesPerSecond};
  c.endpointLatency = parseDuration("1 ns");
  c.routing = parseRouting(p.text("routing"));
  HardwareSystem s;
  s.name = std::move(name);
  s.dimensionOrder = c.routing != Routing::ShortestPath;
  s.gridX = c.x;
  s.gridY = c.y;
  s.network = describeMesh(c);
  s.routes = meshRoutes(c);
  s.specs = {std::move(die)};
  return s;
}

HardwareSystem box(std::string name, DieSpec die, const Params& p) {
  GpuBoxConfig c;
  // Duplex (seeds.md 4.1): NVLink 450 GB/s per direction, 0.8 us, split over the two links.
  // ASSUMPTION: 1.3 pJ/bit per link (NVIDIA's figure for NVLink-C2C; a switched NVLink costs more).
  const Links l = overridden({c.linkBandwidth, c.linkLatency, EnergyPerBit{1300}}, p);
  c.linkBandwidth = l.bandwidth;
  c.linkLatency = l.latency;
  c.energyPerBit = l.energy;
  if (p.integer("x") > 0) c.gpus = static_cast<uint32_t>(p.integer("x"));
  HardwareSystem s;
  s.name = std::move(name);
  s.network = describeGpuBox(c);
  s.routes = gpuBoxRoutes(c);
  s.specs = {std::move(die)};
  return s;
}

HardwareSystem mozart(DieSpec die, const Params& p) {
  NopTreeConfig c;
  // ASSUMPTION: Mozart gives no NoP link numbers: 256 GB/s (its HBM2 bandwidth) and 10 ns per
  // level, 0.5 pJ/bit.
  const Links l = overridden({parseBandwidth("256 GB/s"), parseDuration("10 ns"), EnergyPerBit{500}}, p);
  c.levels = {NopTreeLevel{l.latency, l.bandwidth, l.bandwidth}};
  c.attentionLatency = l.latency;
  c.attentionBandwidth = l.bandwidth;
  c.energyPerBit = l.energy;
  HardwareSystem s;
  s.name = "mozart";
  s.standaloneRouters = true;
  s.network = describeNopTree(c);
  s.routes = nopTreeRoutes(c);
  s.specs = {std::move(die)};
  return s;
}

}  // namespace

bool HardwareSystem::failed(uint32_t die) const {
  for (uint32_t f : failedDies)
    if (f == die) return true;
  return false;
}

std::vector<std::string> systemNames() { return kSystems; }
std::vector<std::string> diePresetNames() { return kDies; }

DieSpec diePreset(const std::string& name) {
  if (name == "h100") return h100DieSpec();
  if (name == "duplex") return duplexDevice();
  if (name == "dojo-enhanced") return dojoEnhancedWafer().die;
  if (name == "hd-moe-compute-rich") return hdMoeNodeDie(HdMoeConfig::ComputeRich);
  if (name == "hd-moe-balanced") return hdMoeNodeDie(HdMoeConfig::Balanced);
  if (name == "hd-moe-link-rich") return hdMoeNodeDie(HdMoeConfig::LinkRich);
  if (name == "a3d-moe") return a3dMoeStack();
  if (name == "mozart") return mozartChipletDie();
  fail(ErrorKind::InvalidConfig, "unknown die preset \"", name, "\" (", list(kDies), ")");
}

std::vector<ParamSpec> systemParams() {
  return {
      {"system", ParamType::Text, "dojo", "hardware system: " + list(kSystems), {}, {}},
      {"die", ParamType::Text, "", "die preset for every endpoint (empty: the system's): " + list(kDies), {}, {}},
      {"x", ParamType::Integer, "0", "mesh columns, or GPUs of a box (0: the system's)", 0, 4096},
      {"y", ParamType::Integer, "0", "mesh rows (0: the system's)", 0, 4096},
      {"link_bandwidth", ParamType::Text, "", "die-to-die link bandwidth per direction, e.g. 1.7 TB/s (empty: the system's)", {}, {}},
      {"link_latency", ParamType::Text, "", "latency per link, e.g. 20 ns (empty: the system's)", {}, {}},
      {"link_energy", ParamType::Text, "", "link energy, e.g. 0.5 pJ/bit (empty: the system's)", {}, {}},
      {"routing", ParamType::Text, "xy", "mesh routing: xy, yx or shortest_path", {}, {}},
      {"mode", ParamType::Text, "cut_through", "forwarding: store_and_forward or cut_through", {}, {}},
      {"chunk", ParamType::Text, "4 KiB", "cut-through chunk size", {}, {}},
      {"network_file", ParamType::Path, "", "network description file for system \"file\" (graph_file.h)", {}, {}},
      {"failed_dies", ParamType::Text, "", "dies masked out, as endpoint indices: \"3, 17\" (empty: none)", {}, {}},
  };
}

HardwareSystem describeSystem(const Params& p) {
  const std::string& name = p.text("system");
  const std::string& die = p.text("die");
  auto dieOr = [&](const std::string& fallback) { return diePreset(die.empty() ? fallback : die); };
  HardwareSystem s;
  if (name == "dojo" || name == "tsmc-sow" || name == "dojo-enhanced") {
    const WaferPreset w = name == "dojo" ? dojoWafer() : name == "tsmc-sow" ? tsmcSowWafer() : dojoEnhancedWafer();
    s = mesh(name, w.x, w.y, {w.dieToDie, w.hopLatency, w.linkEnergy}, die.empty() ? w.die : diePreset(die), p);
  } else if (name.starts_with("hd-moe-")) {
    HdMoeConfig config = HdMoeConfig::Balanced;
    if (name == "hd-moe-compute-rich") config = HdMoeConfig::ComputeRich;
    else if (name == "hd-moe-link-rich") config = HdMoeConfig::LinkRich;
    else WAFERSIM_REQUIRE(name == "hd-moe-balanced", "unknown system \"", name, "\" (", list(kSystems), ")");
    const NmpNodePreset node = hdMoeNode(config);
    // ASSUMPTION: link energy 0.5 pJ/bit (HD-MoE gives none).
    s = mesh(name, 4, 4, {node.linkBandwidth, node.hopLatency, EnergyPerBit{500}}, dieOr(name), p);
  } else if (name == "gpu-box") {
    s = box(name, dieOr("h100"), p);
  } else if (name == "duplex-box") {
    s = box(name, dieOr("duplex"), p);
  } else if (name == "mozart") {
    s = mozart(dieOr("mozart"), p);
  } else if (name == "file") {
    WAFERSIM_REQUIRE(!p.text("network_file").empty(), "system \"file\" needs the parameter network_file");
    s.name = "file";
    s.network = readNetworkFile(p.text("network_file"));
    s.routes = networkFileRoutes(s.network);
    s.specs = {dieOr("h100")};
  } else {
    fail(ErrorKind::InvalidConfig, "unknown system \"", name, "\" (", list(kSystems), ")");
  }
  for (uint32_t die : parseDieList(p.text("failed_dies"), s.network.endpoints.size())) {
    s.failedDies.push_back(die);
    if (!s.standaloneRouters) s.network.failedRouters.push_back(s.network.endpoints[die].router);
  }
  if (!s.failedDies.empty()) {
    // Route around the holes where the routing can; refuse where it cannot (dimension order).
    if (!s.dimensionOrder) s.routes = shortestPathRoutes(s.network);
    for (uint32_t a = 0; a < s.network.endpoints.size(); ++a)
      for (uint32_t b = 0; b < s.network.endpoints.size(); ++b)
        if (a != b && !s.failed(a) && !s.failed(b)) (void)routePath(s.network, s.routes, a, b);
  }
  s.network.mode = parseForwardingMode(p.text("mode"));
  s.network.chunk = parseBytes(p.text("chunk"));
  s.specOf.assign(s.network.endpoints.size(), 0);
  return s;
}

Network buildSystem(const HardwareSystem& system, std::vector<std::vector<ProgramStep>> programs,
                    std::vector<std::vector<ResidentData>> resident) {
  NetworkDescription d = system.network;
  d.endpointType = "hw.Die";
  const uint32_t endpoints = static_cast<uint32_t>(d.endpoints.size());
  auto dies = std::make_shared<DieSystem>();
  dies->specs = system.specs;
  dies->specOf = system.specOf;
  dies->programs = std::move(programs);
  dies->resident = std::move(resident);
  dies->validate(endpoints, d.endpointNames);
  Network net = buildNetwork(d, system.routes);
  net.graph.data().put<DieSystem>(kDieSystemDataKey, dies);
  return net;
}

}  // namespace wafersim::hw
