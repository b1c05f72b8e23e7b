#include "coordinator/run.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "coordinator/local_launcher.h"
#include "coordinator/node_coordinator.h"
#include "coordinator/partitioner.h"
#include "coordinator/placement_process.h"
#include "coordinator/result_tables.h"
#include "models/moe/serving_summary.h"
#include "placement/placement_client.h"
#include "sim/checkpoint.h"
#include "sim/energy_report.h"
#include "sim/error.h"
#include "sim/simulation.h"

namespace wafersim {
namespace {

std::string format(const char* fmt, auto... args) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, fmt, args...);
  return buffer;
}

Scenario parseSpec(const RunSpec& spec) {
  Scenario s = parseScenario(spec.scenarioText, spec.source, spec.overrides);
  if (!spec.baseDir.empty()) {
    s.modelParams.setBaseDir(spec.baseDir);
    if (!s.partitionMapFile.empty() && std::filesystem::path(s.partitionMapFile).is_relative())
      s.partitionMapFile = (std::filesystem::path(spec.baseDir) / s.partitionMapFile).lexically_normal().string();
    if (!s.partitionProfile.empty() && std::filesystem::path(s.partitionProfile).is_relative())
      s.partitionProfile = (std::filesystem::path(spec.baseDir) / s.partitionProfile).lexically_normal().string();
  }
  return s;
}

// The nodes' heartbeats feed the run's observer: progress per partition, model samples.
std::function<void(const std::vector<uint32_t>&, const proto::HeartbeatMessage&)> forwardHeartbeat(obs::RunObserver* observer) {
  if (!observer) return {};
  return [observer](const std::vector<uint32_t>& hosted, const proto::HeartbeatMessage& beat) {
    observer->absorbHeartbeat(hosted, beat.events, beat.simulatedTimePs, beat.samples);
  };
}

// Runs on node processes started here (a one-shot pool of their own), or waits for nodes started
// elsewhere (flags.launch false).
RunReport runOnLocalNodes(const RunSpec& spec, const std::string& runId, const std::vector<std::string>& overrides,
                          const PartitionMap& map, const std::vector<uint32_t>& nodeOf, const RunOptions& run) {
  const DistributedFlags& flags = spec.flags;
  NodeCoordinator coordinator(flags.listen, proto::loadCurveSecurity(flags.curve));
  std::optional<LocalLauncher> launcher;
  if (flags.launch) {
    launcher.emplace(findNodeBinary());
    LaunchSpec launch;
    launch.count = flags.nodes;
    launch.coordinator = coordinator.endpoint();
    launch.curve = flags.curve;
    launcher->start(launch);
  } else if (spec.log) {
    spec.log("  waiting for " + std::to_string(flags.nodes) + " nodes: wafersim-node --coordinator " +
             coordinator.endpoint() + " --node <rank>");
  }
  NodeRunOptions options;
  options.nodes = flags.nodes;
  options.runId = runId;
  options.scenarioText = spec.scenarioText;
  options.overrides = overrides;
  options.map = map;
  options.nodeOf = nodeOf;
  options.run = run;
  options.heartbeatTimeoutMs = flags.heartbeatTimeoutMs;
  options.onHeartbeat = forwardHeartbeat(spec.observer.get());
  options.watchdog = [&](const std::vector<bool>& finished) -> std::optional<std::string> {
    if (launcher) return launcher->checkChildren(finished);
    return std::nullopt;
  };
  RunReport report = coordinator.run(options);
  if (launcher) launcher->waitAll(5000);
  return report;
}

// The requests a serving workload will send (params workload.count), 0 when it does not say.
uint64_t requestsInWorkload(const Scenario& s, const ModelCatalog& catalog) {
  const Params resolved = resolveParams(s.modelParams, catalog.get(s.model).params, s.source + ": params");
  if (!resolved.has("workload.count")) return 0;
  const int64_t n = resolved.integer("workload.count");
  return n > 0 ? static_cast<uint64_t>(n) : 0;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> scenarioFiles(const Scenario& s, const ModelCatalog& catalog) {
  std::vector<std::pair<std::string, std::string>> files;
  const ModelBuilder& builder = catalog.get(s.model);
  const Params resolved = resolveParams(s.modelParams, builder.params, s.source + ": params");
  for (const ParamSpec& p : builder.params)
    if (p.type == ParamType::Path && !resolved.text(p.name).empty())
      files.emplace_back("params." + p.name, std::filesystem::absolute(resolved.text(p.name)).lexically_normal().string());
  if (!s.partitionMapFile.empty() && s.partitioner == "pinned")
    files.emplace_back("simulation.partition_map",
                       std::filesystem::absolute(s.partitionMapFile).lexically_normal().string());
  if (!s.partitionProfile.empty()) {
    const auto dir = std::filesystem::absolute(s.partitionProfile).lexically_normal();
    files.emplace_back("simulation.partition_profile", (dir / "results.json").string());
    if (std::filesystem::exists(dir / "links.csv"))
      files.emplace_back("simulation.partition_profile", (dir / "links.csv").string());
  }
  return files;
}

nlohmann::json resolvedScenario(const Scenario& s, const ModelCatalog& catalog) {
  const ModelBuilder& builder = catalog.get(s.model);
  const Params resolved = resolveParams(s.modelParams, builder.params, s.source + ": params");
  nlohmann::json params = nlohmann::json::object();
  for (const ParamSpec& p : builder.params) {
    std::string value = resolved.text(p.name);
    if (p.type == ParamType::Path && !value.empty())
      value = std::filesystem::absolute(value).lexically_normal().string();
    params[p.name] = value;
  }
  nlohmann::json simulation{{"partitions", s.partitions},     {"partitioner", s.partitioner},
                            {"sync", toString(s.run.sync)},    {"lookahead", toString(s.run.lookahead)},
                            {"end_ps", s.run.end.ps()},        {"seed", s.run.seed},
                            {"checker", s.run.checker},        {"digest", s.run.digest}};
  if (s.partitioner == "pinned")
    simulation["partition_map"] = std::filesystem::absolute(s.partitionMapFile).lexically_normal().string();
  if (!s.partitionProfile.empty())
    simulation["partition_profile"] = std::filesystem::absolute(s.partitionProfile).lexically_normal().string();
  return {{"model", s.model}, {"params", params}, {"simulation", simulation}};
}

RunSpec resumeSpec(const std::string& runDir, const std::vector<std::string>& overrides, const std::string& outDir) {
  const std::string specFile = runDir + "/run-spec.json";
  WAFERSIM_REQUIRE(std::filesystem::exists(specFile), runDir, ": not a run folder to resume (no run-spec.json)");
  nlohmann::json recorded;
  try {
    recorded = nlohmann::json::parse(std::ifstream(specFile));
    RunSpec spec;
    spec.scenarioText = readScenarioFile(runDir + "/scenario.yaml");
    spec.source = recorded.at("source").get<std::string>();
    spec.baseDir = recorded.at("base_dir").get<std::string>();
    spec.overrides = recorded.at("overrides").get<std::vector<std::string>>();
    spec.overrides.insert(spec.overrides.end(), overrides.begin(), overrides.end());
    spec.runId = recorded.at("run_id").get<std::string>();
    spec.outDir = outDir.empty() ? runDir : outDir;
    spec.resumeFrom = runDir;
    return spec;
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::InvalidConfig, specFile, ": ", e.what());
  }
}

RunOutcome executeRun(const RunSpec& spec) {
  auto log = [&](const std::string& line) {
    if (spec.log) spec.log(line);
  };
  RunOutcome outcome;
  outcome.runId = spec.runId.empty() ? makeRunId() : spec.runId;
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  ModelCatalog catalog;
  registerBuiltinModels(catalog);

  Scenario s = parseSpec(spec);
  const bool onNodes = spec.flags.nodes > 0 || spec.pool != nullptr;
  const uint32_t nodeCount = spec.pool ? static_cast<uint32_t>(spec.poolNodes.size()) : spec.flags.nodes;
  // At least one partition per node; more make hybrid nodes (several partitions per node, on
  // threads), which the window strategy needs: a null-message partition waits for any one batch,
  // and the partitions of one node cannot share that wait.
  if (onNodes) {
    if (s.partitions > nodeCount && s.run.sync == SyncKind::NullMessage)
      fail(ErrorKind::InvalidConfig, s.source, ": simulation.partitions ", s.partitions, " on ", nodeCount,
           " nodes needs simulation.sync: window (null messages run one partition per node)");
    s.partitions = std::max(s.partitions, nodeCount);
  }
  // The run's own placement client, for a scenario that names a service (with CURVE: a service with
  // this process's key, or the coordinator key its files name).
  const auto curve = proto::loadCurveSecurity(spec.flags.curve);
  SystemGraph graph = catalog.build(
      s.model, s.modelParams, s.source + ": params",
      BuildContext{s.run.seed, placement::makeRemoteDecider({curve, curve ? curve->coordinatorKey : ""})});
  graph.validate(registry);
  const PartitionPlan plan = partitionScenario(s, graph);
  const PartitionMap& map = plan.map;
  log(format("wafersim: %s, model %s, %zu components, %u partitions (%s) %s, sync %s, lookahead %s, end %s, seed %llu",
             s.source.c_str(), s.model.c_str(), graph.components().size(), s.partitions, plan.method.c_str(),
             onNodes ? "in node processes" : "on threads", toString(s.run.sync), toString(s.run.lookahead),
             toString(s.run.end).c_str(), static_cast<unsigned long long>(s.run.seed)));
  if (s.partitions > 1) {
    Duration floor = Duration::max();
    for (const auto& l : plan.lookahead) floor = min(floor, l.floor);
    log(format("  partition: imbalance %.3f, %zu cut links/fabric groups, lookahead floor %s", plan.imbalance,
               plan.cut.size(), toString(floor).c_str()));
    if (!plan.profile.empty())
      log(format("  partition profile %s: imbalance in its measured events %.3f with it, %.3f without",
                 plan.profile.c_str(), plan.imbalance, plan.imbalanceWithoutProfile));
  }

  std::vector<uint32_t> nodeOf;  // partition -> node, on nodes
  if (onNodes) {
    const NodeLayout layout = layoutOnNodes(plan, nodeCount);
    nodeOf = layout.nodeOf;
    if (s.partitions > nodeCount)
      log(format("  nodes: %u, %u-%u partitions each on threads; %zu cut links/fabric groups between nodes, "
                 "lookahead floor between nodes %s",
                 nodeCount, s.partitions / nodeCount, (s.partitions + nodeCount - 1) / nodeCount, layout.cutLinks,
                 layout.cutLinks ? toString(layout.lookaheadFloor).c_str() : "-"));
  }

  // Every run leaves a self-describing folder named by its run id, made before it runs: its
  // checkpoints go there, and run-spec.json says how to run it again (resumeSpec).
  std::string outDir = spec.outDir;
  if (outDir.empty()) {
    const std::string stem = std::filesystem::path(s.source).stem().string();
    outDir = "runs/" + (stem.empty() ? "" : stem + "-") + outcome.runId;
  }
  std::filesystem::create_directories(outDir);
  {
    std::ofstream(outDir + "/scenario.yaml") << spec.scenarioText;
    const std::string baseDir = !spec.baseDir.empty() ? spec.baseDir
                                : s.source.find('/') != std::string::npos
                                    ? std::filesystem::path(s.source).parent_path().string()
                                    : std::string(".");
    const nlohmann::json runSpec{{"run_id", outcome.runId},
                                 {"source", s.source},
                                 {"base_dir", std::filesystem::absolute(baseDir).lexically_normal().string()},
                                 {"overrides", spec.overrides}};
    writeFileAtomically(outDir + "/run-spec.json", runSpec.dump(2) + "\n");
  }

  RunOptions run = s.run;
  // A checkpoint belongs to its system and its model's parameters (the serving plan is built from
  // them, not from the components' parameters); partitioning and synchronization may change.
  run.checkpoint.fingerprint =
      systemFingerprint(graph, s.run.seed, checksum64(resolvedScenario(s, catalog)["params"].dump()));
  // Cuts on demand need the window strategy's barrier and hooks in every component type; a run
  // without them takes none (and the service answers a request so), but still runs.
  const bool periodic = run.checkpoint.every > Duration::zero() || run.checkpoint.everyWallSeconds > 0;
  bool onDemand = spec.checkpointRequests && run.sync == SyncKind::Window;
  if (onDemand && !periodic) {
    try {
      requireCheckpointable(graph, registry, "cuts on demand");
    } catch (const Error&) {
      onDemand = false;
    }
  }
  if (onDemand) run.checkpoint.requested = &spec.checkpointRequests->pending;
  if (periodic || onDemand) {
    WAFERSIM_REQUIRE(run.sync == SyncKind::Window, s.source,
                     ": simulation.checkpoint_every needs simulation.sync: window (a null-message run has no barrier "
                     "to cut at); set simulation.checkpoint_every: 0 (and checkpoint_every_wall: 0) for none");
    requireCheckpointable(graph, registry, s.source + ": simulation.checkpoint_every: checkpoints");
    run.checkpoint.dir = std::filesystem::absolute(outDir + "/checkpoints").lexically_normal().string();
    std::filesystem::create_directories(run.checkpoint.dir);
    removeUncommittedCuts(run.checkpoint.dir);
    run.checkpoint.committed = [&log](SimTime time, uint32_t parts) {
      log(format("  checkpoint            at %s (%u parts)", toString(time).c_str(), parts));
    };
    if (onDemand) spec.checkpointRequests->armed.store(true);
  }
  if (!spec.resumeFrom.empty()) {
    std::shared_ptr<const CheckpointImage> image =
        spec.resumeCut ? spec.resumeCut
                       : std::make_shared<const CheckpointImage>(loadLatestCheckpoint(spec.resumeFrom + "/checkpoints"));
    requireSameSystem(*image, run.checkpoint.fingerprint);
    requireCheckpointable(graph, registry, "resuming from a checkpoint");
    log(format("  resuming from         %s: the cut at %s, %u parts, %llu pending events, %llu bytes",
               image->folder.c_str(), toString(image->time).c_str(), image->partitions,
               static_cast<unsigned long long>(image->events.size()), static_cast<unsigned long long>(image->bytes)));
    run.resume = std::move(image);
    // Node processes load the cut themselves, from the same folder (on a cluster: shared).
    run.checkpoint.resumeFrom = std::filesystem::absolute(spec.resumeFrom + "/checkpoints").lexically_normal().string();
  }
  run.stop = spec.stop;
  run.progress = spec.progress;
  if (spec.observer) {
    spec.observer->attach(graph, s.partitions, s.run.end, requestsInWorkload(s, catalog), s.metricsMaxSeries);
    run.progress = &spec.observer->progress();
    run.observer = spec.observer.get();
  }
  if (onNodes) {  // what nodes run, they observe themselves (their heartbeats bring it here)
    run.progress = nullptr;
    run.observer = nullptr;
  }
  RunReport r;
  if (onNodes) {
    // Nodes read the same files by absolute path (on a cluster: the service's shared data folder),
    // whatever their working directory.
    std::vector<std::string> nodeOverrides = spec.overrides;
    for (const auto& [key, path] : scenarioFiles(s, catalog))
      if (key.rfind("params.", 0) == 0) nodeOverrides.push_back(key + "=" + path);
    // Node processes ask a placement service process for online decisions (in-process runs decide
    // in process: the results are the same).
    std::optional<LocalPlacementService> placementService;
    if (s.modelParams.has("mapping.online_policy") && !s.modelParams.text("mapping.online_policy").empty() &&
        (!s.modelParams.has("mapping.service") || s.modelParams.text("mapping.service").empty())) {
      std::string endpoint = spec.placementEndpoint;
      if (endpoint.empty()) {
        placementService.emplace(spec.flags.curve);
        endpoint = placementService->endpoint();
      }
      nodeOverrides.push_back("params.mapping.service=" + endpoint);
      log("  placement service     " + endpoint);
    }
    if (spec.pool) {
      PoolRun poolRun;
      poolRun.runId = outcome.runId;
      for (uint32_t node : nodeOf) poolRun.nodes.push_back(spec.poolNodes[node]);
      poolRun.scenarioText = spec.scenarioText;
      poolRun.overrides = nodeOverrides;
      poolRun.map = map;
      poolRun.run = run;
      poolRun.onHeartbeat = forwardHeartbeat(spec.observer.get());
      r = spec.pool->run(poolRun);
    } else {
      r = runOnLocalNodes(spec, outcome.runId, nodeOverrides, map, nodeOf, run);
    }
  } else {
    r = runInProcess(graph, registry, map, run);
  }

  const double simSeconds = static_cast<double>(r.results.simulatedTime().ps()) * 1e-12;
  uint64_t rounds = 0, nulls = 0, crossEvents = 0;
  for (const auto& p : r.partitions) {
    rounds = std::max(rounds, p.sync.rounds);
    nulls += p.sync.nullMessages;
    crossEvents += p.sync.eventsSent;
  }
  log(format("  committed events      %llu", static_cast<unsigned long long>(r.events())));
  log(format("  simulated time        %s", toString(r.results.simulatedTime()).c_str()));
  log(format("  wall time             %.3f s", r.wallSeconds));
  log(format("  events per second     %.3g", r.wallSeconds > 0 ? static_cast<double>(r.events()) / r.wallSeconds : 0));
  log(format("  %-21s %llu (%.3g per simulated second)", s.run.sync == SyncKind::Window ? "windows" : "null-message rounds",
             static_cast<unsigned long long>(rounds), simSeconds > 0 ? static_cast<double>(rounds) / simSeconds : 0.0));
  log(format("  cross-partition events %llu, empty batches %llu", static_cast<unsigned long long>(crossEvents),
             static_cast<unsigned long long>(nulls)));
  log(format("  sync wait fraction    %.3f", r.syncWaitFraction()));
  log(format("  results digest        %s", r.results.digestHex().c_str()));
  const std::optional<nlohmann::json> serving = moe::servingSummary(r.results);
  if (serving && serving->value("mode", "") == "training") {
    const auto& v = *serving;
    log(format("  training: %llu steps, %llu tokens, mean step %.3f ms, %.1f tokens/s, energy %.3f J",
               v["train_steps"].get<unsigned long long>(), v["trained_tokens"].get<unsigned long long>(),
               v["mean_step_s"].get<double>() * 1e3, v["tokens_per_s"].get<double>(), v["energy_j"].get<double>()));
  } else if (serving) {
    const auto& v = *serving;
    log(format("  serving: %llu requests, %llu output tokens in %.6f s simulated: %.1f tokens/s",
               v["requests_finished"].get<unsigned long long>(), v["output_tokens"].get<unsigned long long>(),
               v["makespan_s"].get<double>(), v["output_tokens_per_s"].get<double>()));
    log(format("  TTFT mean %.3f ms (p99 <= %.3f ms), TPOT mean %.3f ms, energy %.3f J (%.4f J per token)",
               v["ttft"].value("mean_s", 0.0) * 1e3, v["ttft"].value("p99_s", 0.0) * 1e3,
               v["tpot"].value("mean_s", 0.0) * 1e3, v["energy_j"].get<double>(),
               v["energy_per_output_token_j"].get<double>()));
  }

  {
    nlohmann::json j = resolvedScenario(s, catalog);
    j["overrides"] = spec.overrides;
    j["nodes"] = onNodes ? nodeCount : 0;
    j["run_id"] = outcome.runId;
    std::ofstream(outDir + "/scenario.resolved.json") << j.dump(2) << "\n";
  }
  std::ofstream(outDir + "/results.json") << r.results.toJson().dump(2) << "\n";
  nlohmann::json summary{{"digest", r.results.digestHex()},
                         {"simulated_time_s", static_cast<double>(r.results.simulatedTime().ps()) * 1e-12},
                         {"events", r.events()},
                         {"wall_seconds", r.wallSeconds}};
  if (const EnergyReport e = energyReport(r.results); !e.empty()) summary["energy"] = e.toJson();
  if (serving) summary["serving"] = *serving;
  std::ofstream(outDir + "/summary.json") << summary.dump(2) << "\n";
  std::ofstream(outDir + "/partition.json") << toJson(plan, graph).dump(2) << "\n";
  nlohmann::json runJson{{"run_id", outcome.runId},
                         {"wall_seconds", r.wallSeconds},
                         {"events", r.events()},
                         {"sync", toString(s.run.sync)},
                         {"sync_wait_fraction", r.syncWaitFraction()}};
  if (run.resume) runJson["resumed_from_ps"] = run.resume->time.ps();
  CheckpointStats checkpoints;
  for (const auto& p : r.partitions) {
    checkpoints.written = std::max(checkpoints.written, p.checkpoint.written);
    checkpoints.bytes += p.checkpoint.bytes;
    checkpoints.seconds = std::max(checkpoints.seconds, p.checkpoint.seconds);
  }
  if (checkpoints.written > 0) {
    runJson["checkpoints"] = {{"written", checkpoints.written},
                              {"bytes", checkpoints.bytes},
                              {"seconds", checkpoints.seconds}};
    log(format("  checkpoints           %llu, %.1f KiB each, %.3f ms each (the slowest partition's saving)",
               static_cast<unsigned long long>(checkpoints.written),
               static_cast<double>(checkpoints.bytes) / 1024.0 / static_cast<double>(checkpoints.written),
               checkpoints.seconds * 1e3 / static_cast<double>(checkpoints.written)));
  }
  for (const auto& p : r.partitions)
    runJson["partitions"].push_back({{"id", p.id}, {"events", p.events}, {"wall_seconds", p.wallSeconds},
                                     {"rounds", p.sync.rounds}, {"batches_sent", p.sync.batchesSent},
                                     {"null_messages", p.sync.nullMessages}, {"events_sent", p.sync.eventsSent},
                                     {"wait_seconds", p.sync.waitSeconds}});
  std::ofstream(outDir + "/run.json") << runJson.dump(2) << "\n";
  const std::string tables = writeResultTables(outDir, r.results, graph);
  log("  results written to    " + outDir + "/ (results.json summary.json run.json partition.json" + tables + ")");

  outcome.outDir = outDir;
  outcome.digest = r.results.digestHex();
  outcome.summary = std::move(summary);
  return outcome;
}

RunOutcome runScenario(const std::string& file, const std::vector<std::string>& overrides, std::string outDir,
                       const DistributedFlags& flags, std::stop_token stop, std::FILE* report) {
  RunSpec spec;
  spec.scenarioText = readScenarioFile(file);
  spec.source = file;
  spec.overrides = overrides;
  spec.outDir = std::move(outDir);
  spec.flags = flags;
  spec.stop = std::move(stop);
  spec.log = [report](const std::string& line) {
    std::fprintf(report, "%s\n", line.c_str());
    std::fflush(report);
  };
  return executeRun(spec);
}

}  // namespace wafersim
