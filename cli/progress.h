// A run's progress on the terminal: a bar redrawn in place on a terminal, plain periodic lines
// otherwise (CI logs, pipes). Printing only; where the figures come from is the caller's.
//
// Contract: the reporter thread calls `read` every `every` (a terminal) or every 10 s (not one) and
// prints to stderr, so stdout keeps only the run's report; stop() (or the destructor) ends the
// thread and clears the bar's line.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace wafersim::cli {

struct ProgressFigures {
  double ratio = 0;                  // 0..1; 0 while unknown
  double simulatedSeconds = 0;
  std::optional<double> endSeconds;  // simulation.end, when finite
  std::optional<double> requestsDone, requestsTotal;
  double eventsPerSecond = 0;
  double wallSeconds = 0;
  std::string state;                 // "RUNNING", ... ("" for a local run)
};

// One line: "[#####.....]  42.0%  sim 0.212 s / 0.5 s  req 20/32  7.1e+06 ev/s  ETA 3 s".
std::string formatProgress(const ProgressFigures& f, bool bar);

class ProgressReporter {
 public:
  ProgressReporter(std::function<std::optional<ProgressFigures>()> read, bool terminal,
                   std::chrono::milliseconds every = std::chrono::milliseconds(250));
  ~ProgressReporter();
  void stop();
  // Prints a line of the report on stdout without tearing the bar (cleared, then redrawn).
  void print(const std::string& line);

 private:
  void loop();
  std::function<std::optional<ProgressFigures>()> read_;
  bool terminal_;
  std::chrono::milliseconds every_;
  std::mutex mutex_;
  std::mutex output_;  // one writer on the terminal at a time
  std::string last_;   // the bar last drawn
  std::condition_variable wake_;
  bool stopping_ = false;
  bool drawn_ = false;
  std::thread thread_;
};

}  // namespace wafersim::cli
