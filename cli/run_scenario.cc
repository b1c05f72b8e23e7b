#include "cli/run_scenario.h"

#include <csignal>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/placement_process.h"
#include "cli/result_tables.h"
#include "coordinator/local_launcher.h"
#include "coordinator/node_coordinator.h"
#include "coordinator/scenario.h"
#include "models/model_catalog.h"
#include "models/moe/serving_summary.h"
#include "sim/energy_report.h"
#include "sim/error.h"
#include "sim/simulation.h"

namespace wafersim {
namespace {

volatile std::sig_atomic_t interruptSignal = 0;
void onInterrupt(int signal) { interruptSignal = signal; }

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

}  // namespace

int interruptedBy() { return interruptSignal; }

ScenarioRun runScenario(const std::string& file, const std::vector<std::string>& overrides, std::string outDir,
                        const DistributedFlags& flags) {
  ScenarioRun result;
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
      result.summary = std::move(summary);
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
  result.outDir = outDir;
  return result;
}


}  // namespace wafersim
