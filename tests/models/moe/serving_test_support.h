// Shared by the serving tests: build a scenario text into a graph and run it in-process.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "scenario/scenario.h"
#include "models/model_catalog.h"
#include "sim/simulation.h"

namespace wafersim::testing {

struct Built {
  Scenario scenario;
  SystemGraph graph;
};

// `placement`: the run's placement client, for scenarios that name mapping.service.
inline Built build(const std::string& text, const std::vector<std::string>& overrides = {},
                   placement::RemoteDecider placement = {}) {
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  Built r{parseScenario(text, "s.yaml", overrides), {}};
  r.graph = catalog.build(r.scenario.model, r.scenario.modelParams, "s.yaml: params",
                          BuildContext{r.scenario.run.seed, std::move(placement)});
  return r;
}

inline Results run(const Built& r, uint32_t partitions, SyncKind sync = SyncKind::Window) {
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  RunOptions o = r.scenario.run;
  o.sync = sync;
  o.checker = true;
  return runInProcess(r.graph, registry, PartitionMap::linear(r.graph.components().size(), partitions), o).results;
}

inline const ComponentRecord& component(const Results& r, const std::string& name) {
  for (const auto& c : r.components())
    if (c.name == name) return c;
  throw std::runtime_error("no component " + name);
}

}  // namespace wafersim::testing
