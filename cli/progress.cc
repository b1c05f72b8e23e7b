#include "cli/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace wafersim::cli {
namespace {

std::string seconds(double s) {
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%.0fh%02.0fm", std::floor(s / 3600), std::fmod(std::floor(s / 60), 60));
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%.0fm%02.0fs", std::floor(s / 60), std::fmod(std::floor(s), 60));
  else std::snprintf(buf, sizeof buf, "%.0fs", std::ceil(s));
  return buf;
}

}  // namespace

std::string formatProgress(const ProgressFigures& f, bool bar) {
  std::string out;
  char buf[160];
  if (bar) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(std::lround(std::clamp(f.ratio, 0.0, 1.0) * kWidth));
    out += "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(kWidth - filled), '.') + "] ";
  }
  std::snprintf(buf, sizeof buf, "%5.1f%%", f.ratio * 100);
  out += buf;
  if (!f.state.empty()) out += "  " + f.state;
  if (f.endSeconds) std::snprintf(buf, sizeof buf, "  sim %.4g s / %.4g s", f.simulatedSeconds, *f.endSeconds);
  else std::snprintf(buf, sizeof buf, "  sim %.4g s", f.simulatedSeconds);
  out += buf;
  if (f.requestsDone && f.requestsTotal) {
    std::snprintf(buf, sizeof buf, "  req %.0f/%.0f", *f.requestsDone, *f.requestsTotal);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "  %.3g ev/s  wall %s", f.eventsPerSecond, seconds(f.wallSeconds).c_str());
  out += buf;
  if (f.ratio > 0 && f.ratio < 1) out += "  ETA " + seconds(f.wallSeconds * (1 - f.ratio) / f.ratio);
  return out;
}

ProgressReporter::ProgressReporter(std::function<std::optional<ProgressFigures>()> read, bool terminal,
                                   std::chrono::milliseconds every)
    : read_(std::move(read)), terminal_(terminal), every_(terminal ? every : std::chrono::milliseconds(10000)) {
  thread_ = std::thread([this] { loop(); });
}

ProgressReporter::~ProgressReporter() { stop(); }

void ProgressReporter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard out(output_);
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
  std::fflush(stderr);
}

void ProgressReporter::print(const std::string& line) {
  std::lock_guard out(output_);
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  if (drawn_) std::fprintf(stderr, "%s", last_.c_str());
  std::fflush(stderr);
}

void ProgressReporter::loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, every_, [this] { return stopping_; })) {
    lock.unlock();
    const auto figures = read_();
    if (figures) {
      std::lock_guard out(output_);
      if (terminal_) {
        last_ = formatProgress(*figures, true);
        std::fprintf(stderr, "\r\033[K%s", last_.c_str());
        drawn_ = true;
      } else {
        std::fprintf(stderr, "progress %s\n", formatProgress(*figures, false).c_str());
      }
      std::fflush(stderr);
    }
    lock.lock();
  }
}

}  // namespace wafersim::cli
