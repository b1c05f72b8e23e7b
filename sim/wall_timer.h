// Wall-clock measurement for run statistics (never for simulated time).
#pragma once

#include <chrono>
#include <cstdint>

namespace wafersim {

class WallTimer {
 public:
  WallTimer() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// The system clock in nanoseconds since the Unix epoch: timestamps for people and logs.
inline int64_t systemClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace wafersim
