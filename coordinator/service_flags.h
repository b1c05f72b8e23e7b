// The command-line options of the service's access and bounds (access.h, service.h), shared by
// `wafersim serve` and `wafersim-coordinator` so both take the same flags with the same words.
// Header-only: the coordinator library does not depend on CLI11, its two programs do.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "coordinator/service.h"

namespace wafersim {

inline void addAccessFlags(CLI::App& app, ServiceOptions& options) {
  app.add_option("--tokens", options.access.tokenFile,
                 "API tokens, one \"ROLE NAME TOKEN\" a line (roles: read, submit, admin; mode 0600); also "
                 "$WAFERSIM_API_TOKENS. None given: DATA/api-tokens is made with an admin token (docs/security.md)")
      ->envname("WAFERSIM_API_TOKENS_FILE");
  app.add_flag_callback("--no-auth", [&options] { options.access.enabled = false; },
                        "no token needed for any call (only on a machine you alone use)");
  app.add_flag("--protect-reads", options.access.protectReads, "reads need a token with the read role too");
  app.add_option("--rate-limit", options.rateLimit.perSecond, "requests a second per client address (0: no limit)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--rate-burst", options.rateLimit.burst, "requests a client may make at once")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--files-dir", options.fileDirs,
                 "a folder scenarios may read files from, besides DATA/files (repeatable)");
  app.add_option("--max-components", options.maxComponentsPerRun, "simulated components a run may have (0: any)")
      ->capture_default_str();
  app.add_option_function<uint64_t>(
      "--max-memory-mib", [&options](const uint64_t& mib) { options.maxMemoryBytesPerRun = mib << 20; },
      "estimated memory a run may need a node, in MiB (0: this machine's memory)");
  app.add_option("--max-wall-limit-s", options.maxWallLimitSeconds,
                 "every run's wall-clock limit, and the largest one a submission may ask (0: none)")
      ->check(CLI::Range(0.0, 1e9));
}

// Printed at start: where the API's token is when the service made one.
inline void printAccess(const char* program, const ServiceOptions& options) {
  if (!options.access.enabled) {
    std::printf("%s: access control is off (--no-auth): anyone who reaches the API may change it\n", program);
  } else if (options.access.tokenFile.empty()) {
    std::printf("%s: API tokens in %s/api-tokens unless $WAFERSIM_API_TOKENS names them (docs/security.md)\n", program,
                options.dataDir.c_str());
  }
}

}  // namespace wafersim
