// targets.h: scenario. The bytes are a scenario document; lines that start "#= " (YAML comments,
// so the document stays valid) are also applied as `--set` overrides ("#= simulation.seed=3").
// What `wafersim run`, the service's check and a node's assignment do first: parse and check the
// document, then resolve the model's parameters against the catalog (unknown keys, values, units,
// ranges). Building the system is left out: its size is the scenario's to choose, which the
// per-run resource bound governs, not the parser.
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/rejections.h"
#include "fuzz/targets.h"
#include "models/model_catalog.h"
#include "scenario/scenario.h"

namespace wafersim::fuzz {

namespace {
const ModelCatalog& catalog() {
  static const ModelCatalog instance = [] {
    ModelCatalog c;
    registerBuiltinModels(c);
    return c;
  }();
  return instance;
}
}  // namespace

void scenarioInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("#= ", 0) == 0 && overrides.size() < 16) overrides.push_back(line.substr(3));
  rejectsOnlyWithErrors("scenario", [&] {
    Scenario s = parseScenario(text, "fuzz.yaml", overrides);
    const ModelBuilder& builder = catalog().get(s.model);
    resolveParams(s.modelParams, builder.params, "fuzz.yaml: params");
  });
}

}  // namespace wafersim::fuzz
