// Small helpers every kind of test uses: a temporary folder, running a command line and reading what
// it printed, and reading a file of the source tree (an example scenario).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "sim/error.h"

namespace wafersim::testing {

// A fresh folder under the system's temp folder, removed by the destructor.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) {
    path = std::filesystem::temp_directory_path() /
           (name + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// The message of the Error{InvalidConfig} that `f` throws; a test failure (and "") when it throws
// none or one of another kind.
inline std::string invalidConfigOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

struct CommandOutput {
  int code = -1;     // the exit code; -1 when it did not exit normally
  std::string text;  // stdout and stderr
};

// Runs `command` through /bin/sh with stderr joined to stdout (tests pass fixed words and quoted
// paths, never user text).
inline CommandOutput runCommand(const std::string& command) {
  CommandOutput out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.text.append(buffer, n);
  const int status = ::pclose(pipe);
  out.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// A file of the source tree by its path there ("examples/quickstart.yaml"); "" when unreadable.
inline std::string sourceFileText(const std::string& relative) {
  std::ifstream in(std::string(WAFERSIM_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Checks `done` every `pace` until it holds or `limit` passes; whether it held. For states with no
// event to wait on (another process's answer, its exit): the pace only spaces the checks.
template <typename F>
bool pollUntil(std::chrono::milliseconds limit, F done,
               std::chrono::milliseconds pace = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(pace);
  }
  return true;
}

}  // namespace wafersim::testing
