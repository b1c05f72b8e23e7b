// The wafersim command: run a scenario locally, run a study of scenarios, validate a scenario, describe
// what can be simulated, serve the coordinator service, and talk to one (submit, sweep, status,
// watch, cancel, checkpoint, results, table), and write HTML reports of results folders (report, compare).
// Argument parsing and printing only: the work is the coordinator library's.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/client.h"
#include "cli/progress.h"
#include "coordinator/embedded_service.h"
#include "coordinator/node_coordinator.h"
#include "coordinator/partitioner.h"
#include "coordinator/run.h"
#include "coordinator/run_report.h"
#include "coordinator/service_flags.h"
#include "coordinator/web_assets.h"
#include "coordinator/study.h"
#include "scenario/scenario.h"
#include "models/model_catalog.h"
#include "models/preset_catalog.h"
#include "models/moe/serving_summary.h"
#include "obs/metrics.h"
#include "obs/run_observer.h"
#include "placement/policy.h"
#include "protocol/curve_keys.h"
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


// SIGINT and SIGTERM are taken by one thread (sigwait) and turned into a stop request: every run
// and the service stop through their stop tokens, with no handler in library code.
std::atomic<int> caughtSignal{0};
std::stop_source interrupt;

void watchSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread made from here on
  std::thread([set] {
    int signal = 0;
    if (sigwait(&set, &signal) == 0) {
      caughtSignal.store(signal);
      interrupt.request_stop();
    }
  }).detach();
}

// "HOST:PORT" -> (host, port).
std::pair<std::string, uint16_t> hostPort(const std::string& text) {
  const auto colon = text.rfind(':');
  WAFERSIM_REQUIRE(colon != std::string::npos && colon + 1 < text.size(), "--http \"", text, "\": expected HOST:PORT");
  const int port = std::atoi(text.c_str() + colon + 1);
  WAFERSIM_REQUIRE(port >= 0 && port <= 65535, "--http \"", text, "\": bad port");
  return {text.substr(0, colon), static_cast<uint16_t>(port)};
}

// `wafersim run`: the run in this process (or on local nodes), its report on stdout, its progress
// on stderr (a bar on a terminal, a line every 10 s otherwise), and /metrics while it lasts.
// `resume` (from resumeSpec): the run to resume, when `file` is empty.
int runCommand(const std::string& file, const std::vector<std::string>& overrides, const std::string& outDir,
               const DistributedFlags& flags, const std::string& metricsAddress, bool progress, std::stop_token stop,
               const RunSpec& resume) {
  RunSpec spec = resume;
  if (!file.empty()) {
    spec.scenarioText = readScenarioFile(file);
    spec.source = file;
    spec.runId = makeRunId();
  }
  spec.overrides = overrides;
  spec.outDir = outDir;
  spec.flags = flags;
  spec.stop = std::move(stop);
  // With --nodes the engine figures are the nodes' own (on their /metrics): not repeated here.
  spec.observer = std::make_shared<obs::RunObserver>(
      obs::RunObserverOptions{.runId = spec.runId, .exportEngine = flags.nodes == 0});
  obs::MetricsRegistry metrics("run");
  std::optional<obs::MetricsServer> server;
  if (!metricsAddress.empty()) {
    metrics.add(spec.observer);
    server.emplace(metricsAddress, metrics);
    std::printf("metrics: %s/metrics\n", server->url().c_str());
    std::fflush(stdout);
  }
  std::optional<cli::ProgressReporter> reporter;
  if (progress) {
    const obs::RunObserver* observer = spec.observer.get();
    reporter.emplace(
        [observer]() -> std::optional<cli::ProgressFigures> {
          const nlohmann::json live = observer->live();
          const auto& p = live["progress"];
          cli::ProgressFigures f;
          f.ratio = p["ratio"].get<double>();
          f.simulatedSeconds = p["simulated_s"].get<double>();
          if (p["end_s"].is_number()) f.endSeconds = p["end_s"].get<double>();
          if (p["requests_total"].is_number()) {
            f.requestsTotal = p["requests_total"].get<double>();
            f.requestsDone = p["requests_done"].get<double>();
          }
          f.eventsPerSecond = p["events_per_s"].get<double>();
          f.wallSeconds = p["wall_s"].get<double>();
          return f;
        },
        isatty(STDERR_FILENO) != 0);
  }
  spec.log = [&reporter](const std::string& line) {
    if (reporter) {
      reporter->print(line);
    } else {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  };
  try {
    executeRun(spec);
  } catch (...) {
    spec.observer->ended("FAILED");
    if (reporter) reporter->stop();
    throw;
  }
  spec.observer->ended("SUCCEEDED");
  if (reporter) reporter->stop();
  return 0;
}

int serveCommand(ServiceOptions options, const std::string& http, uint32_t nodes) {
  std::tie(options.httpHost, options.httpPort) = hostPort(http);
  EmbeddedService service(options, nodes);
  std::printf("wafersim serve: API %s, control %s, placement %s, %u local node(s), data %s\n", service.url().c_str(),
              service.controlEndpoint().c_str(), service.placementEndpoint().c_str(), nodes, options.dataDir.c_str());
  std::printf("  submit with: wafersim submit SCENARIO --server %s\n", service.url().c_str());
  printAccess("wafersim serve", options);
  std::fflush(stdout);
  std::mutex m;
  std::condition_variable cv;
  std::stop_callback wakeUp(interrupt.get_token(), [&] { cv.notify_all(); });
  {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [] { return interrupt.stop_requested(); });
  }
  std::printf("wafersim serve: stopping (runs in progress are re-queued for the next start)\n");
  service.stop();
  return 0;
}

// `wafersim keygen PREFIX`: a CURVE key pair in PREFIX.key and PREFIX.pub (protocol/curve_keys.h).
int keygenCommand(const std::string& prefix) {
  const auto [key, pub] = proto::writeCurveKeyFiles(prefix, proto::generateCurveKeyPair());
  std::printf("wrote %s (secret, mode 0600) and %s (public: %s)\n", key.c_str(), pub.c_str(),
              proto::readCurvePublicKey(pub).c_str());
  return 0;
}

// `wafersim report` and `wafersim compare`: one self-contained HTML file of results folders.
int reportCommand(const std::vector<std::string>& dirs, const std::string& outFile, const std::string& webDir) {
  writeRunReport(dirs, outFile, findWebDist(webDir));
  std::printf("%s written (%zu run%s): open it in a browser\n", outFile.c_str(), dirs.size(), dirs.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wafersim: distributed co-simulation of wafer-scale chiplet and 3D-NMP systems running MoE LLMs"};
  app.set_version_flag("--version", "wafersim 0.1.0");
  app.require_subcommand(1);

  std::string file, outDir, what;
  std::vector<std::string> overrides;
  bool json = false;
  auto* run = app.add_subcommand("run", "Run a scenario on this machine");
  run->add_option("scenario", file, "scenario file (YAML)");
  std::string resumeDir;
  run->add_option("--resume", resumeDir,
                  "resume the run whose folder this is from its last checkpoint (simulation.checkpoint_every), "
                  "on any number of partitions (--set simulation.partitions=N)");
  run->add_option("--set", overrides, "override a field: --set simulation.partitions=4");
  run->add_option("--out", outDir,
                  "results folder (default runs/<scenario>-<run id>): scenario, resolved scenario, results.json, "
                  "partition.json, run.json, summary.json");
  std::string partitionProfile;
  run->add_option("--partition-profile", partitionProfile,
                  "weight the partitioner by an earlier run's measured events and link bytes (its results "
                  "folder; the same as --set simulation.partition_profile=DIR)");
  DistributedFlags flags;
  run->add_option("--nodes", flags.nodes, "run in N wafersim-node processes (default: threads in this process)")
      ->check(CLI::Range(1u, 4096u));
  run->add_option("--listen", flags.listen, "the coordinator's control endpoint, with --nodes");
  bool noLaunch = false;
  run->add_flag("--no-launch", noLaunch, "with --nodes: wait for nodes started elsewhere (srun, kubectl) to connect");
  run->add_option("--heartbeat-timeout-ms", flags.heartbeatTimeoutMs, "fail the run when a node is silent this long")
      ->check(CLI::Range(100u, 600000u));
  run->add_option("--curve-key", flags.curve.keyFile,
                  "with --nodes: CURVE between this process, its nodes and its placement service, with this key "
                  "pair file (wafersim keygen; mode 0600)");
  run->add_option("--curve-allow", flags.curve.allowFile,
                  "with --curve-key: more client public keys to accept, one per line (the key's own is always)");
  std::string metricsAddress;
  run->add_option("--metrics", metricsAddress,
                  "serve Prometheus metrics at HOST:PORT/metrics while the run lasts (port 0: any; docs/metrics.md)");
  bool noProgress = false;
  run->add_flag("--no-progress", noProgress,
                "no progress on stderr (default: a bar on a terminal, a line every 10 s otherwise)");
  std::string studyDir;
  study::StudyOptions studyOptions;
  auto* studyCmd = app.add_subcommand(
      "study", "Run a paper-reproduction study (DIR/study.yaml) and compare its ratios with the paper's");
  studyCmd->add_option("dir", studyDir, "the study's folder, holding study.yaml and its scenarios")->required();
  studyCmd->add_option("--out", studyOptions.outDir,
                       "results folder (default runs/study-<dir name>): one folder per run, study.json");
  studyCmd->add_flag("--reuse", studyOptions.reuse, "read the runs' existing results folders instead of running");
  studyCmd->add_flag("--markdown", studyOptions.markdown,
                     "print the study's tables as Markdown on stdout (progress on stderr): docs/reproductions.md");
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

  // The service, embedded: coordinator + placement + N local nodes.
  ServiceOptions serviceOptions;
  std::string http = "127.0.0.1:8080";
  uint32_t serveNodes = 2;
  auto* serve = app.add_subcommand("serve", "Run the coordinator service here with local nodes (docs/service.md)");
  serve->add_option("--data", serviceOptions.dataDir, "data folder: job store, results, files")->capture_default_str();
  serve->add_option("--http", http, "HTTP API address HOST:PORT")->capture_default_str();
  serve->add_option("--control", serviceOptions.control, "the node pool's control endpoint")->capture_default_str();
  serve->add_option("--nodes", serveNodes, "local wafersim-node processes")->check(CLI::Range(0u, 1024u))->capture_default_str();
  serve->add_option("--max-retries", serviceOptions.maxRetries, "re-queues of a run lost with its node")
      ->capture_default_str();
  addAccessFlags(*serve, serviceOptions);
  serve->add_option("--web-dir", serviceOptions.webDir,
                    "the built live page served at / (default $WAFERSIM_WEB_DIR, the build's web/dist, or ../share/wafersim/web)");
  serve->add_option("--curve-key", serviceOptions.curve.keyFile,
                    "CURVE on the control socket, the nodes and the placement service, with this key pair file "
                    "(wafersim keygen; mode 0600; docs/deploy.md)");
  serve->add_option("--curve-allow", serviceOptions.curve.allowFile,
                    "with --curve-key: the client public keys accepted, one per line (the key's own is always)");
  std::string keyPrefix;
  auto* keygen = app.add_subcommand("keygen", "Write a CURVE key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub");
  keygen->add_option("prefix", keyPrefix, "output path without extension, e.g. keys/coordinator")->required();

  // Clients of a service.
  cli::ClientOptions client;
  auto addServer = [&](CLI::App* cmd) {
    cmd->add_option("--server", client.server, "the service's URL (default $WAFERSIM_SERVER or http://127.0.0.1:8080)");
    cmd->add_option("--token-file", client.tokenFile,
                    "the API token: the token alone, or the service's api-tokens file (default $WAFERSIM_TOKEN, "
                    "then $WAFERSIM_TOKEN_FILE; docs/security.md)");
  };
  cli::SubmitArgs submitArgs;
  auto addSubmitArgs = [&](CLI::App* cmd, cli::SubmitArgs& a) {
    cmd->add_option("scenario", a.file, "scenario file (YAML)")->required();
    cmd->add_option("--set", a.overrides, "override a field");
    cmd->add_option("--nodes", a.nodes, "pool nodes to run on")->check(CLI::Range(1u, 4096u));
    cmd->add_option("--id", a.id, "the run's (or sweep's) id: resubmitting the same id and body is a no-op");
    cmd->add_option("--label", a.labels, "a label key=value");
    cmd->add_flag("--no-cache", a.noCache, "run even if the same scenario already succeeded");
    cmd->add_option("--wall-limit", a.wallLimitSeconds, "seconds of wall-clock time before the run is stopped");
    cmd->add_flag("--watch", a.watch, "follow until it ends");
    addServer(cmd);
  };
  auto* submitCmd = app.add_subcommand("submit", "Submit a scenario to a coordinator service");
  addSubmitArgs(submitCmd, submitArgs);
  cli::SweepArgs sweepArgs;
  auto* sweepCmd = app.add_subcommand("sweep", "Submit a sweep: a scenario at a grid, zip or random set of points");
  addSubmitArgs(sweepCmd, sweepArgs.run);
  sweepCmd->add_option("--grid", sweepArgs.grid, "key=v1,v2,...: every value (cartesian product with other --grid)");
  sweepCmd->add_option("--zip", sweepArgs.zip, "key=v1,v2,...: the i-th values of every --zip together");
  sweepCmd->add_option("--random", sweepArgs.random, "N random points from --range and --choice");
  sweepCmd->add_option("--seed", sweepArgs.seed, "seed of the random points");
  sweepCmd->add_option("--range", sweepArgs.ranges, "key=low:high[:int][:log]");
  sweepCmd->add_option("--choice", sweepArgs.choices, "key=a,b,c");
  sweepCmd->add_option("--concurrency", sweepArgs.concurrency, "points running at once (default: as nodes allow)");
  std::string id;
  auto* statusCmd = app.add_subcommand("status", "A run's or sweep's state (all runs without an id)");
  statusCmd->add_option("id", id, "run or sweep id");
  addServer(statusCmd);
  auto* watchCmd = app.add_subcommand("watch", "Follow a run or sweep until it ends");
  watchCmd->add_option("id", id, "run or sweep id")->required();
  addServer(watchCmd);
  auto* cancelCmd = app.add_subcommand("cancel", "Cancel a run or a sweep");
  cancelCmd->add_option("id", id, "run or sweep id")->required();
  addServer(cancelCmd);
  auto* checkpointCmd = app.add_subcommand("checkpoint", "Take a checkpoint of a running run now");
  checkpointCmd->add_option("id", id, "run id")->required();
  addServer(checkpointCmd);
  auto* resultsCmd = app.add_subcommand("results", "Download a run's results folder");
  resultsCmd->add_option("id", id, "run id")->required();
  resultsCmd->add_option("--out", outDir, "folder (default runs/<id>)");
  addServer(resultsCmd);
  bool csv = false;
  auto* tableCmd = app.add_subcommand("table", "A sweep's table: one row per point");
  tableCmd->add_option("id", id, "sweep id")->required();
  tableCmd->add_flag("--csv", csv, "every column, as CSV");
  addServer(tableCmd);

  // Reports of results folders (coordinator/run_report.h).
  std::vector<std::string> reportDirs;
  std::string reportOut, webDir, compareSweep, sweepRunsDir;
  auto* reportCmd = app.add_subcommand("report", "Write a run's results folder as one self-contained HTML report");
  reportCmd->add_option("dir", reportDirs, "results folder")->required()->expected(1);
  reportCmd->add_option("-o,--out", reportOut, "the HTML file (default DIR/report.html)");
  reportCmd->add_option("--web-dir", webDir, "the built web assets (default $WAFERSIM_WEB_DIR, the build's web/dist)");
  auto* compareCmd = app.add_subcommand("compare", "Compare results folders (or a sweep's runs) in one HTML report");
  compareCmd->add_option("dirs", reportDirs, "results folders");
  compareCmd->add_option("--sweep", compareSweep, "compare the SUCCEEDED points of this sweep, fetched from --server");
  compareCmd->add_option("--runs-dir", sweepRunsDir, "with --sweep: where its runs' folders go (default runs/SWEEP)");
  compareCmd->add_option("--server,--service", client.server,
                         "with --sweep: the service's URL (default $WAFERSIM_SERVER or http://127.0.0.1:8080)");
  compareCmd->add_option("-o,--out", reportOut, "the HTML file (default compare.html; runs/SWEEP/compare.html with --sweep)");
  compareCmd->add_option("--web-dir", webDir, "the built web assets (default $WAFERSIM_WEB_DIR, the build's web/dist)");

  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout or socket is an error to report, not a death
  watchSignals();
  const std::stop_token stop = interrupt.get_token();
  try {
    flags.launch = !noLaunch;
    if (run->parsed()) {
      if (!partitionProfile.empty()) overrides.push_back("simulation.partition_profile=" + partitionProfile);
      if (file.empty() == resumeDir.empty())
        fail(ErrorKind::InvalidConfig, "wafersim run: give a scenario file or --resume RUN_DIR (one of them)");
      const RunSpec base = resumeDir.empty() ? RunSpec{} : resumeSpec(resumeDir, overrides, outDir);
      return runCommand(resumeDir.empty() ? file : "", resumeDir.empty() ? overrides : base.overrides,
                        resumeDir.empty() ? outDir : base.outDir, flags, metricsAddress, !noProgress, stop, base);
    }
    if (studyCmd->parsed()) {
      study::runStudy(studyDir, studyOptions);
      return 0;
    }
    if (validate->parsed()) return validateCommand(file, overrides);
    if (describe->parsed()) return describeCommand(what, json);
    if (serve->parsed()) return serveCommand(serviceOptions, http, serveNodes);
    if (keygen->parsed()) return keygenCommand(keyPrefix);
    if (submitCmd->parsed()) return cli::submit(client, submitArgs, stop);
    if (sweepCmd->parsed()) return cli::sweep(client, sweepArgs, stop);
    if (statusCmd->parsed()) return cli::status(client, id);
    if (watchCmd->parsed()) return cli::watch(client, id, stop);
    if (cancelCmd->parsed()) return cli::cancel(client, id);
    if (checkpointCmd->parsed()) return cli::checkpoint(client, id);
    if (resultsCmd->parsed()) return cli::results(client, id, outDir);
    if (tableCmd->parsed()) return cli::table(client, id, csv);
    if (reportCmd->parsed())
      return reportCommand(reportDirs, reportOut.empty() ? reportDirs[0] + "/report.html" : reportOut, webDir);
    if (compareCmd->parsed()) {
      if (!compareSweep.empty()) {
        WAFERSIM_REQUIRE(reportDirs.empty(), "compare: give folders or --sweep, not both");
        const std::string dir = sweepRunsDir.empty() ? "runs/" + compareSweep : sweepRunsDir;
        reportDirs = cli::downloadSweepRuns(client, compareSweep, dir);
        if (reportOut.empty()) reportOut = dir + "/compare.html";
      }
      WAFERSIM_REQUIRE(!reportDirs.empty(), "compare: give results folders, or --sweep ID");
      return reportCommand(reportDirs, reportOut.empty() ? "compare.html" : reportOut, webDir);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "wafersim: %s: %s\n", toString(e.kind()), e.what());
    if (caughtSignal.load()) return 128 + caughtSignal.load();
    return e.kind() == ErrorKind::InvalidConfig ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wafersim: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
