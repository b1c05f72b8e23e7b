#include "models/hardware/graph_file.h"

#include <array>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <yaml-cpp/yaml.h>

#include "models/hardware/endpoint.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  NetworkDescription parse(const std::string& text);

 private:
  // One side of a link or an endpoint that wants a router port.
  struct PortRequest {
    uint32_t router;
    PortId* port;  // where the chosen port goes
    bool explicitPort;
    YAML::Node node;
    std::string path;
  };

  [[noreturn]] void bad(const YAML::Node& node, const std::string& path, const std::string& message) const {
    const int line = node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    fail(ErrorKind::InvalidConfig, source_, line ? ":" + std::to_string(line) : "", ": ", path, ": ", message);
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::string scalar(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) bad(node, path, "expected a single value");
    return node.Scalar();
  }

  void checkKeys(const YAML::Node& map, const std::string& path, const std::set<std::string>& known) const {
    if (!map.IsMap()) bad(map, path.empty() ? "(document)" : path, "expected a mapping");
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) bad(kv.first, path.empty() ? "(document)" : path, "a key must be a single word");
      const std::string key = kv.first.Scalar();
      if (!known.count(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        bad(kv.first, join(path, key), "unknown key (known: " + list + ")");
      }
    }
  }

  YAML::Node required(const YAML::Node& map, const std::string& key, const std::string& path) const {
    YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) bad(n.IsDefined() ? n : map, join(path, key), "missing");
    return n;
  }

  YAML::Node sequence(const YAML::Node& node, const std::string& path) const {
    if (!node.IsSequence()) bad(node, path, "expected a list");
    return node;
  }

  // Runs a units.h / time.h parser, turning its error into one that names the file and field.
  template <typename F>
  auto unit(const YAML::Node& node, const std::string& path, F parse) const {
    const std::string text = scalar(node, path);
    try {
      return parse(text);
    } catch (const Error& e) {
      bad(node, path, e.what());
    }
  }

  Duration latency(const YAML::Node& node, const std::string& path) const {
    const Duration d = unit(node, path, [](const std::string& t) { return parseDuration(t); });
    if (d < Duration::zero() || d == Duration::max()) bad(node, path, "a latency must be finite and >= 0");
    return d;
  }

  Bandwidth bandwidth(const YAML::Node& node, const std::string& path) const {
    const Bandwidth b = unit(node, path, [](const std::string& t) { return parseBandwidth(t); });
    if (b.bytesPerSecond == 0) bad(node, path, "a bandwidth must be > 0");
    return b;
  }

  PortId port(const YAML::Node& node, const std::string& path) const {
    std::string text = scalar(node, path);
    if (!text.empty() && text[0] == 'p') text.erase(0, 1);
    if (text.empty() || text.size() > 2 || text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(text) >= kRouterPorts)
      bad(node, path, "\"" + node.Scalar() + "\" is not a port (p0..p" + std::to_string(kRouterPorts - 1) + ")");
    return static_cast<PortId>(std::stoul(text));
  }

  uint32_t router(const YAML::Node& node, const std::string& path) const {
    const std::string name = scalar(node, path);
    auto it = routers_.find(name);
    if (it == routers_.end()) bad(node, path, "unknown router \"" + name + "\"");
    return it->second;
  }

  void name(const YAML::Node& node, const std::string& path, std::set<std::string>& names) const {
    const std::string n = scalar(node, path);
    if (n.empty()) bad(node, path, "a name must not be empty");
    if (!names.insert(n).second) bad(node, path, "duplicate name \"" + n + "\"");
  }

  // A value for both directions (`both`), or one per direction (`one` and `other`).
  template <typename T, typename Read>
  std::pair<T, T> either(const YAML::Node& map, const std::string& path, const std::string& both,
                         const std::string& one, const std::string& other, Read read) const {
    auto get = [&](const std::string& key) { return read(required(map, key, path), path + "." + key); };
    const bool hasBoth = map[both].IsDefined(), hasOne = map[one].IsDefined(), hasOther = map[other].IsDefined();
    if (hasBoth && (hasOne || hasOther)) {
      const std::string& key = hasOne ? one : other;
      bad(map[key], path + "." + key, "give " + both + ", or " + one + " and " + other + ", not both");
    }
    if (hasBoth) {
      const T v = get(both);
      return {v, v};
    }
    if (!hasOne && !hasOther) bad(map, path + "." + both, "missing");
    return {get(one), get(other)};
  }
  std::pair<Duration, Duration> latencies(const YAML::Node& map, const std::string& path, const std::string& both,
                                          const std::string& one, const std::string& other) const {
    return either<Duration>(map, path, both, one, other,
                            [this](const YAML::Node& n, const std::string& p) { return latency(n, p); });
  }
  std::pair<Bandwidth, Bandwidth> bandwidths(const YAML::Node& map, const std::string& path, const std::string& both,
                                             const std::string& one, const std::string& other) const {
    return either<Bandwidth>(map, path, both, one, other,
                             [this](const YAML::Node& n, const std::string& p) { return bandwidth(n, p); });
  }

  void assignPorts(std::vector<PortRequest>& requests, const NetworkDescription& d) const {
    std::vector<std::array<bool, kRouterPorts>> used(d.routerNames.size());
    for (auto& u : used) u.fill(false);
    for (const PortRequest& r : requests)
      if (r.explicitPort) {
        if (used[r.router][*r.port])
          bad(r.node, r.path, "port p" + std::to_string(*r.port) + " of router " + d.routerNames[r.router] +
                                  " is used twice");
        used[r.router][*r.port] = true;
      }
    for (PortRequest& r : requests)
      if (!r.explicitPort) {
        PortId p = 0;
        while (p < kRouterPorts && used[r.router][p]) ++p;
        if (p == kRouterPorts)
          bad(r.node, r.path, "router " + d.routerNames[r.router] + " has no free port (all " +
                                  std::to_string(kRouterPorts) + " in use)");
        used[r.router][p] = true;
        *r.port = p;
      }
  }

  std::string source_;
  std::map<std::string, uint32_t> routers_;
};

NetworkDescription Parser::parse(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(ErrorKind::InvalidConfig, source_, ":", e.mark.line + 1, ": not valid YAML: ", e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) fail(ErrorKind::InvalidConfig, source_, ": empty network file");
  checkKeys(root, "", {"routers", "links", "endpoints", "failed_links", "energy_per_bit", "mode", "chunk",
                                 "routing", "description"});
  NetworkDescription d;
  std::set<std::string> names;  // component names: routers and endpoints together

  const YAML::Node routers = sequence(required(root, "routers", ""), "routers");
  if (routers.size() == 0) bad(routers, "routers", "at least one router");
  for (size_t i = 0; i < routers.size(); ++i) {
    const std::string path = "routers[" + std::to_string(i) + "]";
    name(routers[i], path, names);
    routers_[routers[i].Scalar()] = static_cast<uint32_t>(i);
    d.routerNames.push_back(routers[i].Scalar());
  }

  std::vector<PortRequest> requests;
  // Ports are filled in after all are read; reserve so the pointers into d stay valid.
  const YAML::Node links = root["links"].IsDefined() ? sequence(root["links"], "links") : YAML::Node();
  const YAML::Node endpoints = root["endpoints"].IsDefined() ? sequence(root["endpoints"], "endpoints") : YAML::Node();
  d.links.reserve(links.IsDefined() ? links.size() : 0);
  d.endpoints.reserve(endpoints.IsDefined() ? endpoints.size() : 0);

  if (links.IsDefined())
    for (size_t i = 0; i < links.size(); ++i) {
      const YAML::Node l = links[i];
      const std::string path = "links[" + std::to_string(i) + "]";
      checkKeys(l, path, {"a", "b", "latency", "latency_ab", "latency_ba", "bandwidth", "bandwidth_ab",
                          "bandwidth_ba", "port_a", "port_b"});
      RouterLink link;
      link.a = router(required(l, "a", path), path + ".a");
      link.b = router(required(l, "b", path), path + ".b");
      if (link.a == link.b) bad(l["b"], path + ".b", "a link joins two different routers");
      std::tie(link.latencyAB, link.latencyBA) = latencies(l, path, "latency", "latency_ab", "latency_ba");
      std::tie(link.bandwidthAB, link.bandwidthBA) = bandwidths(l, path, "bandwidth", "bandwidth_ab", "bandwidth_ba");
      const bool hasA = l["port_a"].IsDefined(), hasB = l["port_b"].IsDefined();
      if (hasA) link.portA = port(l["port_a"], path + ".port_a");
      if (hasB) link.portB = port(l["port_b"], path + ".port_b");
      d.links.push_back(link);
      requests.push_back({link.a, &d.links.back().portA, hasA, hasA ? l["port_a"] : l, path + ".port_a"});
      requests.push_back({link.b, &d.links.back().portB, hasB, hasB ? l["port_b"] : l, path + ".port_b"});
    }

  if (endpoints.IsDefined())
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const YAML::Node e = endpoints[i];
      const std::string path = "endpoints[" + std::to_string(i) + "]";
      checkKeys(e, path, {"name", "router", "latency", "bandwidth", "bandwidth_up", "bandwidth_down", "port"});
      name(required(e, "name", path), path + ".name", names);
      d.endpointNames.push_back(e["name"].Scalar());
      EndpointAttachment a;
      a.router = router(required(e, "router", path), path + ".router");
      a.latency = latency(required(e, "latency", path), path + ".latency");
      std::tie(a.bandwidth, a.ejectBandwidth) = bandwidths(e, path, "bandwidth", "bandwidth_up", "bandwidth_down");
      const bool hasPort = e["port"].IsDefined();
      if (hasPort) a.port = port(e["port"], path + ".port");
      d.endpoints.push_back(a);
      requests.push_back({a.router, &d.endpoints.back().port, hasPort, hasPort ? e["port"] : e, path + ".port"});
    }
  assignPorts(requests, d);

  if (const YAML::Node failed = root["failed_links"]; failed.IsDefined()) {
    sequence(failed, "failed_links");
    std::set<std::pair<uint32_t, uint32_t>> linked;
    for (const RouterLink& l : d.links) linked.insert({std::min(l.a, l.b), std::max(l.a, l.b)});
    for (size_t i = 0; i < failed.size(); ++i) {
      const std::string path = "failed_links[" + std::to_string(i) + "]";
      const YAML::Node f = failed[i];
      if (!f.IsSequence() || f.size() != 2) bad(f, path, "expected two router names: [A, B]");
      const uint32_t a = router(f[0], path + "[0]"), b = router(f[1], path + "[1]");
      if (!linked.count({std::min(a, b), std::max(a, b)}))
        bad(f, path, "no link between " + d.routerNames[a] + " and " + d.routerNames[b]);
      d.failedLinks.push_back({a, b});
    }
  }
  if (const YAML::Node n = root["energy_per_bit"]; n.IsDefined())
    d.energyPerBit = unit(n, "energy_per_bit", [](const std::string& t) { return parseEnergyPerBit(t); });
  if (const YAML::Node n = root["mode"]; n.IsDefined())
    d.mode = unit(n, "mode", [](const std::string& t) { return parseForwardingMode(t); });
  if (const YAML::Node n = root["chunk"]; n.IsDefined()) {
    d.chunk = unit(n, "chunk", [](const std::string& t) { return parseBytes(t); });
    if (d.chunk.value == 0 || d.chunk.value > UINT32_MAX) bad(n, "chunk", "a chunk must be 1 B .. 4 GiB - 1");
  }
  if (const YAML::Node n = root["routing"]; n.IsDefined() && scalar(n, "routing") != toString(Routing::ShortestPath))
    bad(n, "routing", "\"" + n.Scalar() + "\": a graph file routes by shortest_path only");
  if (const YAML::Node n = root["description"]; n.IsDefined()) (void)scalar(n, "description");
  return d;
}

}  // namespace

NetworkDescription parseNetworkText(const std::string& text, const std::string& sourceName) {
  try {
    return Parser(sourceName).parse(text);
  } catch (const YAML::Exception& e) {  // a yaml-cpp surprise still names the file
    fail(ErrorKind::InvalidConfig, sourceName, ":", e.mark.line + 1, ": ", e.msg);
  }
}

NetworkDescription readNetworkFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::InvalidConfig, path, ": cannot read the network file");
  std::ostringstream text;
  text << in.rdbuf();
  return parseNetworkText(text.str(), path);
}

std::vector<std::vector<PortId>> networkFileRoutes(const NetworkDescription& d) { return shortestPathRoutes(d); }

Network buildNetworkFile(const std::string& path) {
  const NetworkDescription d = readNetworkFile(path);
  return buildNetwork(d, networkFileRoutes(d));
}

}  // namespace wafersim::hw
