// The wafersim command: run a scenario locally, validate it, describe what can be simulated.
#include <csignal>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/placement_process.h"
#include "cli/result_tables.h"
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

volatile std::sig_atomic_t interruptSignal = 0;
void onInterrupt(int signal) { interruptSignal = signal; }

struct DistributedFlags {
  uint32_t nodes = 0;         // 0: run in this process, one thread per partition
  std::string listen = "tcp://127.0.0.1:*";
  bool launch = true;         // start the nodes here; otherwise wait for them to connect
  uint32_t heartbeatTimeoutMs = 3000;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::InvalidConfig, path, ": cannot open the scenario file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

RunReport runDistributed(const std::string& scenarioText, const std::vector<std::string>& overrides,
                         const PartitionMap& map, const RunOptions& run, const DistributedFlags& flags) {
  NodeCoordinator coordinator(flags.listen);
  std::optional<LocalLauncher> launcher;
  if (flags.launch) {
    launcher.emplace(findNodeBinary());
    launcher->start(flags.nodes, coordinator.endpoint());
  } else {
    std::printf("  waiting for %u nodes: wafersim-node --coordinator %s --node <rank>\n", flags.nodes,
                coordinator.endpoint().c_str());
    std::fflush(stdout);
  }
  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
  NodeRunOptions options;
  options.nodes = flags.nodes;
  options.scenarioText = scenarioText;
  options.overrides = overrides;
  options.map = map;
  options.run = run;
  options.heartbeatTimeoutMs = flags.heartbeatTimeoutMs;
  options.watchdog = [&](const std::vector<bool>& finished) -> std::optional<std::string> {
    if (interruptSignal) return std::string("interrupted by ") + (interruptSignal == SIGINT ? "SIGINT" : "SIGTERM");
    if (launcher) return launcher->checkChildren(finished);
    return std::nullopt;
  };
  RunReport report = coordinator.run(options);
  if (launcher) launcher->waitAll(5000);
  return report;
}

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

int runCommand(const std::string& file, const std::vector<std::string>& overrides, std::string outDir,
               DistributedFlags flags) {
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  ModelCatalog catalog;
  registerBuiltinModels(catalog);

  const std::string text = readFile(file);
  Scenario s = parseScenario(text, file, overrides);
  if (flags.nodes > 0) s.partitions = flags.nodes;
  SystemGraph graph = catalog.build(s.model, s.modelParams, s.source + ": params", s.run.seed);
  graph.validate(registry);
  const PartitionPlan plan = partitionScenario(s, graph);
  const PartitionMap& map = plan.map;
  std::printf("wafersim: %s, model %s, %zu components, %u partitions (%s) %s, sync %s, lookahead %s, end %s, seed %llu\n",
              s.source.c_str(), s.model.c_str(), graph.components().size(), s.partitions, plan.method.c_str(),
              flags.nodes > 0 ? "in node processes" : "on threads", toString(s.run.sync), toString(s.run.lookahead),
              toString(s.run.end).c_str(), static_cast<unsigned long long>(s.run.seed));
  if (s.partitions > 1) {
    Duration floor = Duration::max();
    for (const auto& l : plan.lookahead) floor = min(floor, l.floor);
    std::printf("  partition: imbalance %.3f, %zu cut links/fabric groups, lookahead floor %s\n", plan.imbalance,
                plan.cut.size(), toString(floor).c_str());
  }
  std::fflush(stdout);
  // Node processes ask a placement service process for online decisions (in-process runs decide
  // in process: the results are the same).
  std::optional<LocalPlacementService> placementService;
  std::vector<std::string> nodeOverrides = overrides;
  if (flags.nodes > 0 && s.modelParams.has("mapping.online_policy") &&
      !s.modelParams.text("mapping.online_policy").empty() &&
      (!s.modelParams.has("mapping.service") || s.modelParams.text("mapping.service").empty())) {
    placementService.emplace();
    nodeOverrides.push_back("params.mapping.service=" + placementService->endpoint());
    std::printf("  placement service     %s\n", placementService->endpoint().c_str());
  }
  RunReport r = flags.nodes > 0 ? runDistributed(text, nodeOverrides, map, s.run, flags)
                                : runInProcess(graph, registry, map, s.run);

  const double simSeconds = static_cast<double>(r.results.simulatedTime().ps()) * 1e-12;
  uint64_t rounds = 0, nulls = 0, crossEvents = 0;
  for (const auto& p : r.partitions) {
    rounds = std::max(rounds, p.sync.rounds);
    nulls += p.sync.nullMessages;
    crossEvents += p.sync.eventsSent;
  }
  std::printf("  committed events      %llu\n", static_cast<unsigned long long>(r.events()));
  std::printf("  simulated time        %s\n", toString(r.results.simulatedTime()).c_str());
  std::printf("  wall time             %.3f s\n", r.wallSeconds);
  std::printf("  events per second     %.3g\n", r.wallSeconds > 0 ? static_cast<double>(r.events()) / r.wallSeconds : 0);
  std::printf("  %-21s %llu (%.3g per simulated second)\n",
              s.run.sync == SyncKind::Window ? "windows" : "null-message rounds", static_cast<unsigned long long>(rounds),
              simSeconds > 0 ? static_cast<double>(rounds) / simSeconds : 0.0);
  std::printf("  cross-partition events %llu, empty batches %llu\n", static_cast<unsigned long long>(crossEvents),
              static_cast<unsigned long long>(nulls));
  std::printf("  sync wait fraction    %.3f\n", r.syncWaitFraction());
  std::printf("  results digest        %s\n", r.results.digestHex().c_str());
  const std::optional<nlohmann::json> serving = moe::servingSummary(r.results);
  if (serving && serving->value("mode", "") == "training") {
    const auto& v = *serving;
    std::printf("  training: %llu steps, %llu tokens, mean step %.3f ms, %.1f tokens/s, energy %.3f J\n",
                v["train_steps"].get<unsigned long long>(), v["trained_tokens"].get<unsigned long long>(),
                v["mean_step_s"].get<double>() * 1e3, v["tokens_per_s"].get<double>(), v["energy_j"].get<double>());
  } else if (serving) {
    const auto& v = *serving;
    std::printf("  serving: %llu requests, %llu output tokens in %.6f s simulated: %.1f tokens/s\n",
                v["requests_finished"].get<unsigned long long>(), v["output_tokens"].get<unsigned long long>(),
                v["makespan_s"].get<double>(), v["output_tokens_per_s"].get<double>());
    std::printf("  TTFT mean %.3f ms (p99 <= %.3f ms), TPOT mean %.3f ms, energy %.3f J (%.4f J per token)\n",
                v["ttft"].value("mean_s", 0.0) * 1e3, v["ttft"].value("p99_s", 0.0) * 1e3,
                v["tpot"].value("mean_s", 0.0) * 1e3, v["energy_j"].get<double>(),
                v["energy_per_output_token_j"].get<double>());
  }

  {
    if (outDir.empty()) {  // every run leaves a self-describing folder
      char stamp[32];
      const std::time_t t = std::time(nullptr);
      std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
      outDir = "runs/" + std::filesystem::path(file).stem().string() + "-" + stamp;
    }
    std::filesystem::create_directories(outDir);
    std::ofstream(outDir + "/scenario.yaml") << text;
    {
      std::ofstream resolved(outDir + "/scenario.resolved.json");
      nlohmann::json j{{"model", s.model}, {"partitions", s.partitions}, {"partitioner", s.partitioner},
                       {"sync", toString(s.run.sync)}, {"lookahead", toString(s.run.lookahead)},
                       {"end_ps", s.run.end.ps()}, {"seed", s.run.seed}, {"checker", s.run.checker},
                       {"overrides", overrides}, {"nodes", flags.nodes}};
      for (const auto& [k, v] : s.modelParams.values()) j["params"][k] = v;
      resolved << j.dump(2) << "\n";
    }
    std::ofstream(outDir + "/results.json") << r.results.toJson().dump(2) << "\n";
    {
      nlohmann::json summary{{"digest", r.results.digestHex()},
                             {"simulated_time_s", static_cast<double>(r.results.simulatedTime().ps()) * 1e-12},
                             {"events", r.events()}, {"wall_seconds", r.wallSeconds}};
      if (const EnergyReport e = energyReport(r.results); !e.empty()) summary["energy"] = e.toJson();
      if (serving) summary["serving"] = *serving;
      std::ofstream(outDir + "/summary.json") << summary.dump(2) << "\n";
    }
    std::ofstream(outDir + "/partition.json") << toJson(plan, graph).dump(2) << "\n";
    nlohmann::json run{{"wall_seconds", r.wallSeconds}, {"events", r.events()}, {"sync", toString(s.run.sync)},
                       {"sync_wait_fraction", r.syncWaitFraction()}};
    for (const auto& p : r.partitions)
      run["partitions"].push_back({{"id", p.id}, {"events", p.events}, {"wall_seconds", p.wallSeconds},
                                   {"rounds", p.sync.rounds}, {"batches_sent", p.sync.batchesSent},
                                   {"null_messages", p.sync.nullMessages}, {"events_sent", p.sync.eventsSent},
                                   {"wait_seconds", p.sync.waitSeconds}});
    std::ofstream(outDir + "/run.json") << run.dump(2) << "\n";
    const std::string tables = writeResultTables(outDir, r.results, graph);
    std::printf("  results written to    %s/ (results.json summary.json run.json partition.json%s)\n", outDir.c_str(),
                tables.c_str());
  }
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
    if (validate->parsed()) return validateCommand(file, overrides);
    if (describe->parsed()) return describeCommand(what, json);
  } catch (const Error& e) {
    std::fprintf(stderr, "wafersim: %s: %s\n", toString(e.kind()), e.what());
    if (interruptSignal) return 128 + interruptSignal;
    return e.kind() == ErrorKind::InvalidConfig ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wafersim: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
