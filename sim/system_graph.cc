#include "sim/system_graph.h"

#include <map>
#include <set>

#include "sim/error.h"

namespace wafersim {

std::string describeComponent(const ComponentSpec& spec) {
  return "component " + spec.name + " (" + spec.type + ")";
}

ComponentId SystemGraph::addComponent(std::string name, std::string type, Params params, double expectedLoad) {
  ComponentId id = static_cast<ComponentId>(components_.size());
  WAFERSIM_REQUIRE(components_.size() < 0xFFFFFFFFu, "too many components");
  components_.push_back({id, std::move(name), std::move(type), std::move(params), expectedLoad});
  return id;
}

void SystemGraph::connect(ComponentId a, std::string portA, ComponentId b, std::string portB, Duration latency,
                          double expectedTraffic) {
  connectAsymmetric(a, std::move(portA), b, std::move(portB), latency, latency, expectedTraffic);
}

void SystemGraph::connectAsymmetric(ComponentId a, std::string portA, ComponentId b, std::string portB,
                                    Duration latencyAB, Duration latencyBA, double expectedTraffic) {
  WAFERSIM_REQUIRE(a < components_.size() && b < components_.size(), "link between unknown component ids ", a,
                   " and ", b);
  links_.push_back({a, std::move(portA), b, std::move(portB), latencyAB, latencyBA, expectedTraffic});
}

void SystemGraph::addFabric(std::string name, std::string port, std::vector<ComponentId> members, Duration latency,
                            double expectedTraffic) {
  for (ComponentId m : members)
    WAFERSIM_REQUIRE(m < components_.size(), "fabric ", name, ": unknown component id ", m);
  fabrics_.push_back({std::move(name), std::move(port), std::move(members), latency, expectedTraffic});
}

void SystemGraph::validate(const ComponentRegistry& registry) const {
  std::set<std::string> names;
  for (const auto& c : components_) {
    WAFERSIM_REQUIRE(!c.name.empty(), "component #", c.id, " has no name");
    WAFERSIM_REQUIRE(names.insert(c.name).second, "two components are named \"", c.name, "\"");
    const ComponentType& type = registry.get(c.type, describeComponent(c));
    resolveParams(c.params, type.params, describeComponent(c));
    WAFERSIM_REQUIRE(c.expectedLoad >= 0, describeComponent(c), ": negative expected load");
  }
  // (component, port) -> what it is connected to, for "connected twice" messages.
  std::map<std::pair<ComponentId, std::string>, std::string> used;
  auto usePort = [&](ComponentId id, const std::string& port, const std::string& what) {
    const ComponentSpec& c = components_[id];
    const ComponentType& type = registry.get(c.type);
    bool declared = false;
    for (const auto& p : type.ports) declared = declared || p.name == port;
    if (!declared) {
      std::string known;
      for (const auto& p : type.ports) known += (known.empty() ? "" : ", ") + p.name;
      fail(ErrorKind::InvalidConfig, describeComponent(c), " port ", port, ": no such port (declared: ",
           known.empty() ? "none" : known, ")");
    }
    auto [it, fresh] = used.emplace(std::make_pair(id, port), what);
    WAFERSIM_REQUIRE(fresh, describeComponent(c), " port ", port, ": connected twice (", it->second, " and ", what,
                     ")");
  };
  for (const auto& l : links_) {
    const std::string what = "link " + components_[l.a].name + "." + l.portA + " <-> " + components_[l.b].name + "." +
                             l.portB;
    WAFERSIM_REQUIRE(l.latencyAB >= Duration::zero(), describeComponent(components_[l.a]), " port ", l.portA,
                     ": negative link latency ", toString(l.latencyAB), " on ", what);
    WAFERSIM_REQUIRE(l.latencyBA >= Duration::zero(), describeComponent(components_[l.b]), " port ", l.portB,
                     ": negative link latency ", toString(l.latencyBA), " on ", what);
    WAFERSIM_REQUIRE(!(l.a == l.b && l.portA == l.portB), describeComponent(components_[l.a]), " port ", l.portA,
                     ": linked to itself");
    usePort(l.a, l.portA, what);
    usePort(l.b, l.portB, what);
  }
  for (const auto& f : fabrics_) {
    WAFERSIM_REQUIRE(!f.members.empty(), "fabric ", f.name, ": has no members");
    for (ComponentId m : f.members) {
      WAFERSIM_REQUIRE(f.latency >= Duration::zero(), describeComponent(components_[m]), " port ", f.port,
                       ": negative fabric latency ", toString(f.latency), " on fabric ", f.name);
      usePort(m, f.port, "fabric " + f.name);
    }
  }
  for (const auto& c : components_) {
    for (const auto& p : registry.get(c.type).ports)
      WAFERSIM_REQUIRE(p.optional || used.count({c.id, p.name}), describeComponent(c), " port ", p.name,
                       ": dangling (declared but not connected)");
  }
}

}  // namespace wafersim
