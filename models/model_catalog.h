// The systems a scenario can name under `model:`, each a builder from declared parameters to a
// SystemGraph. Declared like component parameters (params.h) so scenarios are validated the
// same way and `wafersim describe` can list them.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "placement/policy.h"
#include "sim/component_registry.h"
#include "sim/params.h"
#include "sim/system_graph.h"

namespace wafersim {

// What one run hands the model it builds besides the parameters: its seed and the run's own
// services. Every object here belongs to the run (ARCHITECTURE.md contract 9: no process-global
// state reaches a model), so one process can build and run many runs side by side.
struct BuildContext {
  uint64_t seed = 1;  // models with random workloads draw from it
  // Asks a placement service (placement/placement_client.h makeRemoteDecider); empty: a scenario
  // that names mapping.service is refused.
  placement::RemoteDecider placement;
};

struct ModelBuilder {
  std::string name;
  std::string help;
  std::vector<ParamSpec> params;
  // Receives resolved parameters and the run's context.
  std::function<SystemGraph(const Params&, const BuildContext&)> build;
};

class ModelCatalog {
 public:
  void add(ModelBuilder builder);
  const ModelBuilder& get(const std::string& name) const;  // throws listing the known models
  std::vector<std::string> names() const;
  // Resolves the parameters (error messages name `where`) and builds the graph.
  SystemGraph build(const std::string& name, const Params& params, const std::string& where,
                    const BuildContext& context) const;
  SystemGraph build(const std::string& name, const Params& params, const std::string& where, uint64_t seed = 1) const {
    return build(name, params, where, BuildContext{seed, {}});
  }

 private:
  std::map<std::string, ModelBuilder> builders_;
};

// Registers every component type and every model builder wafersim ships.
void registerBuiltinComponents(ComponentRegistry& registry);
void registerBuiltinModels(ModelCatalog& catalog);

}  // namespace wafersim
