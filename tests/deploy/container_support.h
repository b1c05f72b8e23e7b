// Helpers of the container image and Docker Compose tests (deploy/Dockerfile, deploy/image/,
// docker-compose.yml, .env, .yamllint): the source tree's files, Debian tools found or not, the
// KEY=VALUE lines of an env file, and shell words for runCommand.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/deploy/promtool.h"
#include "tests/support.h"

namespace wafersim::testing::container {

inline std::filesystem::path sourceRoot() { return WAFERSIM_SOURCE_DIR; }
inline std::filesystem::path buildRoot() { return WAFERSIM_BINARY_DIR; }

// A file's text, "" when it cannot be read.
inline std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Where `name` is on the PATH, "" when it is not.
inline std::string findTool(const std::string& name) {
  const CommandOutput out = runCommand("command -v " + shellQuoted(name));
  if (out.code != 0) return "";
  std::string path = out.text.substr(0, out.text.find('\n'));
  return path;
}

// The KEY=VALUE lines of an env file (Compose's .env, Grafana's grafana.env): comments and blank
// lines skipped, the value as written (no quotes are used in ours).
inline std::map<std::string, std::string> envFile(const std::filesystem::path& path) {
  std::map<std::string, std::string> out;
  std::istringstream lines(readText(path));
  static const std::regex line(R"(^([A-Za-z_][A-Za-z0-9_]*)=(.*)$)");
  for (std::string text; std::getline(lines, text);) {
    std::smatch m;
    if (std::regex_match(text, m, line)) out[m[1]] = m[2];
  }
  return out;
}

// The lines of a text, trimmed, without comments and blank ones (runtime-packages.txt).
inline std::vector<std::string> listFile(const std::filesystem::path& path) {
  std::vector<std::string> out;
  std::istringstream lines(readText(path));
  for (std::string text; std::getline(lines, text);) {
    text = text.substr(0, text.find('#'));
    const auto b = text.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    out.push_back(text.substr(b, text.find_last_not_of(" \t\r") - b + 1));
  }
  return out;
}

// The words of a command line joined as single-quoted shell words.
inline std::string shellLine(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + shellQuoted(w);
  return out;
}

}  // namespace wafersim::testing::container
