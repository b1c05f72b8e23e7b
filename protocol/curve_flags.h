// The CURVE command-line options every ZeroMQ process takes (protocol/curve_keys.h): key files by
// path, each also from the environment (a path may come from there; a key never does).
//   --curve-key       WAFERSIM_CURVE_KEY        this process's key pair file
//   --curve-allow     WAFERSIM_CURVE_ALLOW      the client public keys it accepts
//   --coordinator-key WAFERSIM_COORDINATOR_KEY  the coordinator's public key (clients of it)
// Header-only: CLI11 is a dependency of the programs, not of the protocol library.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "protocol/curve_keys.h"

namespace wafersim::proto {

// `self` names the process in the help ("this node"), `clients` what its allow file lists.
inline void addCurveOptions(CLI::App& app, CurveFiles& curve, const std::string& self, const std::string& clients) {
  app.add_option("--curve-key", curve.keyFile,
                 "CURVE: " + self + "'s key pair file (wafersim keygen; mode 0600); without it, plaintext")
      ->envname("WAFERSIM_CURVE_KEY");
  app.add_option("--curve-allow", curve.allowFile,
                 "CURVE: the " + clients + " public keys accepted, one per line (" + self + "'s own is always)")
      ->envname("WAFERSIM_CURVE_ALLOW");
  app.add_option("--coordinator-key", curve.serverKeyFile,
                 "CURVE: the coordinator's public key file (.pub; default: " + self + "'s own key, one key pair for all)")
      ->envname("WAFERSIM_COORDINATOR_KEY");
}

}  // namespace wafersim::proto
