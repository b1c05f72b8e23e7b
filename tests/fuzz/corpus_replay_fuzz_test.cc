// The fuzz harnesses (fuzz/targets.h) on the inputs kept in the tree, with the normal build: every
// seed of tests/fuzz/corpus/TARGET/ and every input of tests/fuzz/regressions/TARGET/ (each a
// finding of the fuzzers, fixed) must go through its harness without a Finding, an exception or
// a crash. The libFuzzer programs themselves need clang (docs/fuzzing.md); this runs in CI.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/targets.h"

namespace wafersim::fuzz {
namespace {

namespace fs = std::filesystem;

const fs::path kFuzzDir = fs::path(WAFERSIM_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> filesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<uint8_t> bytesOf(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs every file of `dir` through `harness`; a failure per input that does not pass. Returns the count.
size_t replay(Harness harness, const fs::path& dir) {
  size_t count = 0;
  for (const fs::path& file : filesIn(dir)) {
    const std::vector<uint8_t> bytes = bytesOf(file);
    ++count;
    try {
      harness(bytes.data(), bytes.size());
    } catch (const Finding& finding) {
      ADD_FAILURE() << file << ": Finding: " << finding.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << file << ": the harness let an exception out: " << e.what();
    }
  }
  return count;
}

std::vector<std::string> targetNames() {
  std::vector<std::string> names;
  for (const Target& t : targets()) names.emplace_back(t.name);
  return names;
}

class CorpusReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusReplay, SeedsPass) {
  const Target& t = target(GetParam());
  const size_t seeds = replay(t.run, kFuzzDir / "corpus" / t.name);
  EXPECT_GE(seeds, 2u) << "tests/fuzz/corpus/" << t.name << " needs seeds";
}

TEST_P(CorpusReplay, RegressionsPass) {
  const Target& t = target(GetParam());
  replay(t.run, kFuzzDir / "regressions" / t.name);
}

INSTANTIATE_TEST_SUITE_P(Targets, CorpusReplay, ::testing::ValuesIn(targetNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(CorpusReplayTest, EveryCorpusFolderNamesATarget) {
  const std::vector<std::string> names = targetNames();
  for (const char* kind : {"corpus", "regressions"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(kFuzzDir / kind, ec)) {
      if (entry.is_directory()) {
        EXPECT_NE(std::find(names.begin(), names.end(), entry.path().filename().string()), names.end())
            << entry.path() << " names no harness in fuzz/targets.h";
      }
    }
  }
}

// The replay can fail: a harness that reports a finding, or lets an exception out, fails it.
void findsEverything(const uint8_t*, size_t) { throw Finding("test: planted finding"); }
void throwsEverything(const uint8_t*, size_t) { throw std::runtime_error("planted exception"); }

// A folder holding one input (EXPECT_NONFATAL_FAILURE's statement may not name locals).
const fs::path& oneInputDir() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("wafersim-replay-" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::ofstream(d / "input") << "model: phold\n";
    return d;
  }();
  return dir;
}

TEST(CorpusReplayTest, AFindingFailsTheReplay) {
  EXPECT_NONFATAL_FAILURE(replay(&findsEverything, oneInputDir()), "planted finding");
  EXPECT_NONFATAL_FAILURE(replay(&throwsEverything, oneInputDir()), "planted exception");
  fs::remove_all(oneInputDir());
}

TEST(CorpusReplayTest, HarnessesTellRejectionsFromFindings) {
  // Garbage is rejected quietly everywhere.
  const std::string garbage = "\x01\x02 not { valid [ anything";
  for (const Target& t : targets())
    EXPECT_NO_THROW(t.run(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size())) << t.name;
  EXPECT_THROW(target("no-such-target"), std::invalid_argument);
}

}  // namespace
}  // namespace wafersim::fuzz
