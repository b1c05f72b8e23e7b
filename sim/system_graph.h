// The simulated system as data: components, links, fabrics. Built before partitioning; the
// position of a component in the graph is its global id (the tie-breaker of the event order).
//
// A link joins two ports, one on each component, and carries events both ways with one latency
// per direction. A fabric joins one port on each of a set of members so that any member can send
// to any other by index with one latency (a crossbar; PHOLD's "any LP to any LP"); it stands for
// the complete graph among its members when partitioning and computing lookahead.
// validate() checks the whole graph against a registry before anything is built, so errors name
// the component and the port while nothing is running yet.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/component_registry.h"
#include "sim/event.h"
#include "sim/model_data.h"
#include "sim/params.h"
#include "sim/time.h"

namespace wafersim {

struct ComponentSpec {
  ComponentId id = 0;
  std::string name;
  std::string type;
  Params params;
  double expectedLoad = 1.0;  // relative events per simulated second; the partitioner's vertex weight
};

struct LinkSpec {
  ComponentId a = 0;
  std::string portA;
  ComponentId b = 0;
  std::string portB;
  Duration latencyAB;        // a -> b
  Duration latencyBA;        // b -> a
  double expectedTraffic = 1.0;  // relative events per simulated second; the partitioner's edge weight
};

struct FabricSpec {
  std::string name;
  std::string port;  // the port name, the same on every member
  std::vector<ComponentId> members;
  Duration latency;
  double expectedTraffic = 1.0;  // per member pair
};

class SystemGraph {
 public:
  ComponentId addComponent(std::string name, std::string type, Params params = {}, double expectedLoad = 1.0);
  void connect(ComponentId a, std::string portA, ComponentId b, std::string portB, Duration latency,
               double expectedTraffic = 1.0);
  void connectAsymmetric(ComponentId a, std::string portA, ComponentId b, std::string portB, Duration latencyAB,
                         Duration latencyBA, double expectedTraffic = 1.0);
  void addFabric(std::string name, std::string port, std::vector<ComponentId> members, Duration latency,
                 double expectedTraffic = 1.0);

  const std::vector<ComponentSpec>& components() const { return components_; }
  const std::vector<LinkSpec>& links() const { return links_; }
  const std::vector<FabricSpec>& fabrics() const { return fabrics_; }
  const ComponentSpec& component(ComponentId id) const { return components_.at(id); }
  // Run-time state a builder knows its model will hold beyond its components (the serving plan's
  // per-step die-to-die routing matrices): the service's memory estimate counts it (run_bounds.h).
  void addStateBytes(uint64_t bytes) { stateBytes_ += bytes; }
  uint64_t stateBytes() const { return stateBytes_; }
  // Shared immutable data of the model (model_data.h), handed to every component it builds.
  ModelData& data() { return data_; }
  const ModelData& data() const { return data_; }

  // Every type known, every parameter valid, every port declared and connected at most once,
  // every required port connected, every latency non-negative. Throws Error{InvalidConfig} with
  // "component NAME (TYPE) port PORT: ..." on the first problem.
  void validate(const ComponentRegistry& registry) const;

 private:
  std::vector<ComponentSpec> components_;
  std::vector<LinkSpec> links_;
  std::vector<FabricSpec> fabrics_;
  ModelData data_;
  uint64_t stateBytes_ = 0;
};

// "component lp[3] (synthetic.PholdLP)"
std::string describeComponent(const ComponentSpec& spec);

}  // namespace wafersim
