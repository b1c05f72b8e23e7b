// A wafersim-placement process on a free loopback port: started for a local distributed run whose
// scenario has an online placement policy (its nodes ask it: mapping.service), and by `wafersim
// serve`, whose runs share it. It dies with its owner (the destructor, or with this process).
#pragma once

#include <sys/types.h>

#include <string>

#include "protocol/curve_keys.h"

namespace wafersim {

class LocalPlacementService {
 public:
  // Starts it (with these CURVE key files, when enabled) and reads its endpoint; throws Error naming
  // what failed.
  explicit LocalPlacementService(const proto::CurveFiles& curve = {});
  ~LocalPlacementService();
  LocalPlacementService(const LocalPlacementService&) = delete;
  LocalPlacementService& operator=(const LocalPlacementService&) = delete;

  const std::string& endpoint() const { return endpoint_; }

 private:
  pid_t pid_ = -1;
  std::string endpoint_;
};

// WAFERSIM_PLACEMENT_BINARY, else wafersim-placement beside this executable, else
// ../placement/wafersim-placement relative to it (the build tree).
std::string findPlacementBinary();

}  // namespace wafersim
