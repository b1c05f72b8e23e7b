// Component types by name: their parameters, ports and factory (STYLE.md P4, P7).
//
// No static registration: main() (or a test) builds a registry and calls each model library's
// register function on it (registerSyntheticComponents(registry)), then passes it down.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/component.h"
#include "sim/params.h"

namespace wafersim {

struct PortSpec {
  std::string name;
  std::string help;
  bool optional = false;  // may stay unconnected; sending on it is then an error
};

struct ComponentType {
  std::string name;  // "library.Type", e.g. "synthetic.PholdLP"
  std::string help;
  std::vector<ParamSpec> params;
  std::vector<PortSpec> ports;
  std::vector<std::string> portNames;  // derived from ports by add(); index == PortId
  std::function<std::unique_ptr<Component>(const ComponentContext&)> factory;
  // Its components implement Component::save and restore: runs of it can take checkpoints.
  bool checkpoint = false;
};

class ComponentRegistry {
 public:
  void add(ComponentType type);
  // Throws Error{InvalidConfig} naming `who` and listing the known types when `name` is unknown.
  const ComponentType& get(const std::string& name, const std::string& who = "") const;
  bool has(const std::string& name) const { return types_.count(name) != 0; }
  std::vector<std::string> names() const;

 private:
  std::map<std::string, ComponentType> types_;
};

}  // namespace wafersim
