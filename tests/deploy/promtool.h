// Running Prometheus's promtool from the tests (Debian's `prometheus` package installs it as
// /usr/bin/promtool): its exit code and everything it printed.
#pragma once

#include <filesystem>
#include <string>

#include "tests/support.h"

namespace wafersim::testing {

inline const char* kPromtool = "/usr/bin/promtool";

inline bool havePromtool() { return std::filesystem::exists(kPromtool); }

using ToolOutput = CommandOutput;

// `promtool ARGS` with ARGS as a shell word list (the tests pass fixed words and quoted paths).
inline ToolOutput promtool(const std::string& args) { return runCommand(std::string(kPromtool) + " " + args); }

// A path as one single-quoted shell word.
inline std::string shellQuoted(const std::filesystem::path& path) {
  std::string out = "'";
  for (char c : path.string()) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace wafersim::testing
