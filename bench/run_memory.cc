// bench_run_memory: the per-run memory estimate (coordinator/run_bounds.h) against the peak resident
// memory `wafersim run` really reaches, on PHOLD, MessageMesh and serving scenarios of growing size.
// Prints each case's components, link ends, estimate and measured peak, and the measured slopes
// (bytes per component) the estimate's constants bound. Exits 1 when an estimate falls below a
// measured peak: the service would then admit a run that does not fit.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "coordinator/run_bounds.h"
#include "models/model_catalog.h"
#include "scenario/scenario.h"

namespace fs = std::filesystem;
using namespace wafersim;

namespace {

struct Case {
  std::string name;
  std::string scenario;  // YAML text
};

// Peak resident bytes of `wafersim run FILE` (wait4's ru_maxrss), or 0 when it failed.
uint64_t peakOfRun(const std::string& wafersim, const fs::path& file, const fs::path& out) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(wafersim.c_str(), wafersim.c_str(), "run", file.c_str(), "--no-progress", "--out", out.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 0;
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

std::string phold(int lps) {
  return "model: phold\nparams: {lps: " + std::to_string(lps) +
         ", lookahead: 100 ps, mean: 900 ps}\nsimulation: {end: 2 ns, seed: 1}\n";
}
std::string mesh(int side) {
  return "model: message_mesh\nparams: {x: " + std::to_string(side) + ", y: " + std::to_string(side) +
         "}\nsimulation: {end: 2 ns, seed: 1}\n";
}
std::string serving(int side) {
  std::ifstream in(std::string(WAFERSIM_SOURCE_DIR) + "/examples/quickstart.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The quick start on a side x side wafer in one partition, with a few requests.
  const auto at = [&](const std::string& from, const std::string& to) {
    const size_t p = text.find(from);
    if (p != std::string::npos) text.replace(p, from.size(), to);
  };
  at("    x: 2\n    y: 2\n", "    x: " + std::to_string(side) + "\n    y: " + std::to_string(side) + "\n");
  at("  partitions: 2\n", "  partitions: 1\n");
  at("    count: 32\n", "    count: 8\n");
  return text;
}

}  // namespace

int main() {
  const std::string wafersim = std::string(WAFERSIM_BINARY_DIR) + "/cli/wafersim";
  const fs::path tmp = fs::temp_directory_path() / ("wafersim-run-memory-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const std::vector<Case> cases = {{"phold 1024", phold(1024)},     {"phold 16384", phold(16384)},
                                   {"phold 65536", phold(65536)},   {"mesh 32x32", mesh(32)},
                                   {"mesh 128x128", mesh(128)},     {"mesh 256x256", mesh(256)},
                                   {"serving 2x2", serving(2)},     {"serving 8x8", serving(8)},
                                   {"serving 16x16", serving(16)}};
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  std::printf("%-15s %10s %10s %14s %14s %8s\n", "case", "components", "link ends", "estimate MiB", "peak MiB",
              "est/peak");
  bool ok = true;
  std::vector<std::pair<double, double>> pholdPoints, meshPoints;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const fs::path file = tmp / ("case" + std::to_string(i) + ".yaml");
    std::ofstream(file) << c.scenario;
    const Scenario s = parseScenario(c.scenario, file.string(), {});
    const SystemGraph graph = catalog.build(s.model, s.modelParams, c.name, s.run.seed);
    const uint64_t estimate = RunMemoryModel::kBaselineBytes + estimateRunMemoryBytes(graph, 0);
    const uint64_t peak = peakOfRun(wafersim, file, tmp / ("out" + std::to_string(i)));
    if (peak == 0) {
      std::printf("%-15s: wafersim run failed\n", c.name.c_str());
      ok = false;
      continue;
    }
    const double mib = 1 << 20;
    std::printf("%-15s %10zu %10llu %14.1f %14.1f %8.2f%s\n", c.name.c_str(), graph.components().size(),
                static_cast<unsigned long long>(linkEnds(graph)), estimate / mib, peak / mib,
                static_cast<double>(estimate) / static_cast<double>(peak), estimate < peak ? "  UNDER" : "");
    if (estimate < peak) ok = false;
    if (c.name.rfind("phold", 0) == 0) pholdPoints.emplace_back(graph.components().size(), peak);
    if (c.name.rfind("mesh", 0) == 0) meshPoints.emplace_back(graph.components().size(), peak);
  }
  const auto slope = [](const std::vector<std::pair<double, double>>& p) {
    return p.size() < 2 ? 0.0 : (p.back().second - p.front().second) / (p.back().first - p.front().first);
  };
  std::printf("measured slope: PHOLD %.0f bytes an LP, MessageMesh %.0f bytes a router with its links\n",
              slope(pholdPoints), slope(meshPoints));
  std::printf("estimate: %llu MiB baseline + %llu bytes a component + %llu bytes a link end (coordinator/run_bounds.h)\n",
              static_cast<unsigned long long>(RunMemoryModel::kBaselineBytes >> 20),
              static_cast<unsigned long long>(RunMemoryModel::kBytesPerComponent),
              static_cast<unsigned long long>(RunMemoryModel::kBytesPerLinkEnd));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!ok) std::printf("FAIL: an estimate is below the measured peak (or a run failed)\n");
  return ok ? 0 : 1;
}
