#include "sim/component_registry.h"

#include "sim/error.h"

namespace wafersim {

void ComponentRegistry::add(ComponentType type) {
  WAFERSIM_REQUIRE(!type.name.empty(), "a component type needs a name");
  WAFERSIM_REQUIRE(!types_.count(type.name), "component type \"", type.name, "\" is registered twice");
  WAFERSIM_REQUIRE(type.ports.size() < kSelfPort, "component type \"", type.name, "\" declares too many ports");
  WAFERSIM_REQUIRE(static_cast<bool>(type.factory), "component type \"", type.name, "\" has no factory");
  type.portNames.clear();
  for (const auto& p : type.ports) {
    for (const auto& q : type.portNames)
      WAFERSIM_REQUIRE(q != p.name, "component type \"", type.name, "\" declares port \"", p.name, "\" twice");
    type.portNames.push_back(p.name);
  }
  std::string name = type.name;
  types_.emplace(std::move(name), std::move(type));
}

const ComponentType& ComponentRegistry::get(const std::string& name, const std::string& who) const {
  auto it = types_.find(name);
  if (it == types_.end()) {
    std::string known;
    for (const auto& [n, t] : types_) known += (known.empty() ? "" : ", ") + n;
    fail(ErrorKind::InvalidConfig, who.empty() ? "" : who + ": ", "unknown component type \"", name,
         "\" (known: ", known.empty() ? "none" : known, ")");
  }
  return it->second;
}

std::vector<std::string> ComponentRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [n, t] : types_) out.push_back(n);
  return out;
}

}  // namespace wafersim
