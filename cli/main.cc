// The wafersim command: run a scenario locally, run a study of scenarios, validate a scenario, describe
// what can be simulated.
#include <csignal>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/run_scenario.h"
#include "cli/study.h"
#include "coordinator/local_launcher.h"
#include "coordinator/node_coordinator.h"
#include "coordinator/scenario.h"
#include "models/model_catalog.h"
#include "models/preset_catalog.h"
#include "models/moe/serving_summary.h"
#include "placement/placement_client.h"
#include "placement/policy.h"
#include "sim/energy_report.h"
#include "sim/error.h"
#include "sim/simulation.h"

namespace {

using namespace wafersim;

nlohmann::json describeParams(const std::vector<ParamSpec>& specs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : specs) {
    nlohmann::json j{{"name", p.name}, {"type", toString(p.type)}, {"help", p.help}};
    j["default"] = p.defaultValue ? nlohmann::json(*p.defaultValue) : nlohmann::json(nullptr);
    if (p.min) j["min"] = *p.min;
    if (p.max) j["max"] = *p.max;
    out.push_back(j);
  }
  return out;
}

void printParams(const std::vector<ParamSpec>& specs) {
  for (const auto& p : specs)
    std::printf("    %-16s %-9s default %-10s %s\n", p.name.c_str(), toString(p.type),
                p.defaultValue ? p.defaultValue->c_str() : "(required)", p.help.c_str());
}

int runCommand(const std::string& file, const std::vector<std::string>& overrides, const std::string& outDir,
               const DistributedFlags& flags) {
  runScenario(file, overrides, outDir, flags);
  return 0;
}

int validateCommand(const std::string& file, const std::vector<std::string>& overrides) {
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  Scenario s = loadScenario(file, overrides);
  SystemGraph graph = catalog.build(s.model, s.modelParams, s.source + ": params", s.run.seed);
  graph.validate(registry);
  partitionScenario(s, graph);
  std::printf("%s: valid (%zu components, %zu links, %u partitions)\n", file.c_str(), graph.components().size(),
              graph.links().size(), s.partitions);
  return 0;
}

int describeCommand(const std::string& what, bool json) {
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  nlohmann::json doc;
  bool found = false;
  for (const auto& name : catalog.names()) {
    if (!what.empty() && what != name) continue;
    found = true;
    const ModelBuilder& m = catalog.get(name);
    doc["models"][name] = {{"help", m.help}, {"params", describeParams(m.params)}};
    if (!json) {
      std::printf("model %s: %s\n", name.c_str(), m.help.c_str());
      printParams(m.params);
    }
  }
  for (const auto& name : registry.names()) {
    if (!what.empty() && what != name) continue;
    found = true;
    const ComponentType& t = registry.get(name);
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& p : t.ports) ports.push_back({{"name", p.name}, {"help", p.help}, {"optional", p.optional}});
    doc["components"][name] = {{"help", t.help}, {"params", describeParams(t.params)}, {"ports", ports}};
    if (!json) {
      std::printf("component %s: %s\n", name.c_str(), t.help.c_str());
      printParams(t.params);
      for (const auto& p : t.ports) std::printf("    port %-11s %s\n", p.name.c_str(), p.help.c_str());
    }
  }
  for (const auto& name : presetNames()) {
    if (!what.empty() && what != name) continue;
    found = true;
    const nlohmann::json preset = *describePreset(name);
    doc["presets"][name] = preset;
    if (!json) {
      if (what.empty()) std::printf("preset %s (%s)\n", name.c_str(), preset["kind"].get<std::string>().c_str());
      else std::printf("preset %s:\n%s\n", name.c_str(), preset.dump(2).c_str());
    }
  }
  for (const placement::PolicyType& t : placement::policyTypes()) {
    if (!what.empty() && what != t.name && what != "policies") continue;
    found = true;
    doc["policies"][t.name] = {{"help", t.help}, {"source", t.source}, {"params", describeParams(t.params)}};
    if (!json) {
      std::printf("placement policy %s: %s [%s]\n", t.name.c_str(), t.help.c_str(), t.source.c_str());
      printParams(t.params);
    }
  }
  if (!found) fail(ErrorKind::InvalidConfig, "nothing named \"", what, "\" to describe");
  if (json) std::cout << doc.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wafersim: distributed co-simulation of wafer-scale chiplet and 3D-NMP systems running MoE LLMs"};
  app.set_version_flag("--version", "wafersim 0.1.0");
  app.require_subcommand(1);
  wafersim::placement::installRemoteDecider();  // scenarios may name a placement service

  std::string file, outDir, what;
  std::vector<std::string> overrides;
  bool json = false;
  auto* run = app.add_subcommand("run", "Run a scenario on this machine");
  run->add_option("scenario", file, "scenario file (YAML)")->required();
  run->add_option("--set", overrides, "override a field: --set simulation.partitions=4");
  run->add_option("--out", outDir,
                  "results folder (default runs/<scenario>-<time>): scenario, resolved scenario, results.json, "
                  "partition.json, run.json, summary.json");
  DistributedFlags flags;
  run->add_option("--nodes", flags.nodes, "run in N wafersim-node processes (default: threads in this process)")
      ->check(CLI::Range(1u, 4096u));
  run->add_option("--listen", flags.listen, "the coordinator's control endpoint, with --nodes");
  bool noLaunch = false;
  run->add_flag("--no-launch", noLaunch, "with --nodes: wait for nodes started elsewhere (srun, kubectl) to connect");
  run->add_option("--heartbeat-timeout-ms", flags.heartbeatTimeoutMs, "fail the run when a node is silent this long")
      ->check(CLI::Range(100u, 600000u));
  std::string studyDir;
  study::StudyOptions studyOptions;
  auto* studyCmd = app.add_subcommand(
      "study", "Run a paper-reproduction study (DIR/study.yaml) and compare its ratios with the paper's");
  studyCmd->add_option("dir", studyDir, "the study's folder, holding study.yaml and its scenarios")->required();
  studyCmd->add_option("--out", studyOptions.outDir,
                       "results folder (default runs/study-<dir name>): one folder per run, study.json");
  studyCmd->add_flag("--reuse", studyOptions.reuse, "read the runs' existing results folders instead of running");
  studyCmd->add_option("--nodes", studyOptions.flags.nodes,
                       "run each scenario in N wafersim-node processes (default: threads in this process)")
      ->check(CLI::Range(1u, 4096u));
  studyCmd->add_option("--heartbeat-timeout-ms", studyOptions.flags.heartbeatTimeoutMs,
                       "with --nodes: fail a run when a node is silent this long")
      ->check(CLI::Range(100u, 600000u));
  auto* validate = app.add_subcommand("validate", "Check a scenario without running it");
  validate->add_option("scenario", file, "scenario file (YAML)")->required();
  validate->add_option("--set", overrides, "override a field");
  auto* describe = app.add_subcommand("describe", "List models and component types with their parameters");
  describe->add_option("name", what, "a model, component type, preset, placement policy or \"policies\" (default: all)");
  describe->add_flag("--json", json, "print JSON");

  CLI11_PARSE(app, argc, argv);
  try {
    flags.launch = !noLaunch;
    if (run->parsed()) return runCommand(file, overrides, outDir, flags);
    if (studyCmd->parsed()) {
      study::runStudy(studyDir, studyOptions);
      return 0;
    }
    if (validate->parsed()) return validateCommand(file, overrides);
    if (describe->parsed()) return describeCommand(what, json);
  } catch (const Error& e) {
    std::fprintf(stderr, "wafersim: %s: %s\n", toString(e.kind()), e.what());
    if (interruptedBy()) return 128 + interruptedBy();
    return e.kind() == ErrorKind::InvalidConfig ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wafersim: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
