// What the Slurm recipes' tests share (deploy/slurm): the paths of the scripts and executables, a
// CSV table read back as rows of named cells, and the digest a local `wafersim run` of one point
// gives, which every sweep and array point must match.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/deploy/deploy_support.h"

namespace wafersim::testing {

inline std::filesystem::path slurmScript(const std::string& name) { return sourcePath("deploy/slurm/" + name); }
inline std::filesystem::path wafersimExe() { return binaryPath("cli/wafersim"); }

// The small sweep every Slurm test runs: PHOLD from examples/, 200 ns, one partition a point.
inline std::string testScenario() { return sourcePath("examples/phold.yaml").string(); }
inline const std::vector<std::string> kPointSets{"simulation.end=200 ns", "simulation.partitions=1"};

// One row per line after the header, cells by column name (no quoted commas: wafersim's tables
// have none for these scenarios).
inline std::vector<std::map<std::string, std::string>> readCsv(const std::filesystem::path& path) {
  std::vector<std::map<std::string, std::string>> rows;
  std::istringstream in(fileText(path));
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& text) {
    std::vector<std::string> cells;
    std::stringstream s(text);
    for (std::string cell; std::getline(s, cell, ',');) cells.push_back(cell);
    if (!text.empty() && text.back() == ',') cells.emplace_back();
    return cells;
  };
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (header.empty()) {
      header = split(line);
      continue;
    }
    const auto cells = split(line);
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(row);
  }
  return rows;
}

// The results digest of `wafersim run` of the test scenario with these overrides, in-process.
inline std::string localDigest(const std::filesystem::path& scratch, const std::vector<std::string>& sets) {
  std::string command = shellQuoted(wafersimExe()) + " run " + shellQuoted(testScenario()) + " --no-progress --out " +
                        shellQuoted(scratch);
  for (const auto& s : kPointSets) command += " --set " + shellQuoted(s);
  for (const auto& s : sets) command += " --set " + shellQuoted(s);
  const CommandOutput out = runCommand(command + " >/dev/null");
  if (out.code != 0) return "wafersim run failed: " + out.text;
  return nlohmann::json::parse(fileText(scratch / "summary.json")).value("digest", "");
}

// The environment the recipes read, for running them on this machine's loopback.
struct RecipePorts {
  int http = 0, control = 0, placement = 0;
  RecipePorts() {
    while (http == 0 || control == 0 || placement == 0 || http == control || http == placement ||
           control == placement) {
      http = freePort();
      control = freePort();
      placement = freePort();
    }
  }
  std::string env() const {
    return "WAFERSIM_BIN=" + shellQuoted(binaryPath("")) +
           " WAFERSIM_HEAD_ADDR=127.0.0.1 WAFERSIM_BIND=127.0.0.1 WAFERSIM_HTTP_PORT=" + std::to_string(http) +
           " WAFERSIM_CONTROL_PORT=" + std::to_string(control) +
           " WAFERSIM_PLACEMENT_PORT=" + std::to_string(placement) + " WAFERSIM_READY_TIMEOUT=60";
  }
};

}  // namespace wafersim::testing
