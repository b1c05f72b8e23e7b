// The seed studies' directions, pinned (issue 18): a fast variant of every study (its runs that take
// about a second each, at full size; the long-context and batch-512 runs are left out) is run, and
// every comparison with a paper figure must keep the side of 1 docs/reproductions.md documents: the
// paper's side, except the comparisons listed below as documented in the wrong direction. A model
// change that flips either kind fails here; then the study's REPRODUCTION.md and
// docs/reproductions.md (scripts/reproductions.sh) change with this list.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/study.h"

namespace wafersim::study {
namespace {

namespace fs = std::filesystem;

struct Pinned {
  const char* dir;
  std::set<std::string> slowRuns;        // left out of the fast variant (with their comparisons)
  std::set<std::string> documentedWrong; // comparisons docs/reproductions.md shows in the wrong direction
};

const std::vector<Pinned> kStudies = {
    {"examples/a3d-moe", {}, {}},
    {"examples/hd-moe",
     {},
     {"compute-rich: HD speedup over CB", "link-rich: HD speedup over TP", "link-rich: HD speedup over CB",
      "compute-rich: HD speedup over CB, MoE layers", "link-rich: HD speedup over TP, MoE layers",
      "link-rich: HD speedup over CB, MoE layers"}},
    {"examples/hd-moe/mtbench",
     {"batch512/TP", "batch512/HD", "coding/HD-fit-on-coding", "coding/HD-fit-on-reasoning", "coding/HD+dynamic"},
     {"HD speedup over TP", "2x4 mesh (a choice): HD speedup over TP", "HD speedup over TP, MoE layers",
      "2x4 mesh (a choice): HD speedup over TP, MoE layers"}},
    {"examples/wafer-scale", {}, {}},
    {"examples/prefill-aware", {}, {"EP8 B=64: Dup over Default", "EP16 B=64: Dup over Default"}},
    {"examples/duplex", {"long/gpu", "long/duplex", "long2048/gpu", "long2048/duplex"}, {}},
    {"examples/duplex/mtbench", {}, {}},
    {"examples/mozart", {}, {}},
};

class StudyDirections : public ::testing::TestWithParam<size_t> {};

TEST_P(StudyDirections, KeepTheDocumentedSideOfOne) {
  const Pinned& pin = kStudies[GetParam()];
  const fs::path previous = fs::current_path();
  fs::current_path(WAFERSIM_SOURCE_DIR);  // the scenarios name data files from the repository root
  Study study = loadStudy(pin.dir);
  // The fast variant: the comparisons whose runs are all fast, and those runs.
  std::vector<Comparison> kept;
  std::set<std::string> needed;
  for (const Comparison& c : study.comparisons) {
    if (pin.slowRuns.count(c.numerator) || pin.slowRuns.count(c.denominator)) continue;
    kept.push_back(c);
    needed.insert(c.numerator);
    needed.insert(c.denominator);
  }
  for (const std::string& name : pin.documentedWrong)
    EXPECT_TRUE(std::any_of(kept.begin(), kept.end(), [&](const Comparison& c) { return c.name == name; }))
        << "no comparison \"" << name << "\" in " << pin.dir;
  std::vector<StudyRun> runs;
  for (const StudyRun& r : study.runs)
    if (needed.count(r.name)) runs.push_back(r);
  study.comparisons = kept;
  study.runs = runs;

  // One folder per study, none inside another's: CTest runs duplex and duplex/mtbench side by side,
  // and removing one's folder must not remove the other's.
  std::string name = std::string(pin.dir).substr(9);
  std::replace(name.begin(), name.end(), '/', '_');
  const std::string out = ::testing::TempDir() + "directions/" + name;
  fs::remove_all(out);
  std::FILE* quiet = std::fopen("/dev/null", "w");
  ASSERT_NE(quiet, nullptr);
  std::vector<RunFigures> figuresOfRuns;
  for (const StudyRun& r : study.runs) {
    const std::string folder = (fs::path(out) / r.name).string();
    const RunOutcome outcome =
        runScenario((fs::path(pin.dir) / r.scenario).string(), r.set, folder, DistributedFlags{}, {}, quiet);
    figuresOfRuns.push_back(figures(study, r, folder, outcome.summary));
  }
  std::fclose(quiet);
  const nlohmann::json doc = report(study, figuresOfRuns);
  size_t pinned = 0;
  for (const auto& c : doc["comparisons"]) {
    const bool hasPaper = !c["paper"].is_null() || !c["paper_range"].is_null() || !c["paper_up_to"].is_null();
    if (!hasPaper) continue;
    ++pinned;
    const std::string name = c["name"];
    const std::string verdict = c["verdict"];
    if (pin.documentedWrong.count(name))
      EXPECT_EQ(verdict, "direction wrong") << pin.dir << ": \"" << name << "\" came out " << c["ratio"]
                                            << ", in the paper's direction: update docs/reproductions.md and this test";
    else
      EXPECT_NE(verdict, "direction wrong") << pin.dir << ": \"" << name << "\" flipped to " << c["ratio"];
  }
  EXPECT_GT(pinned, 0u) << pin.dir << " pins nothing";
  fs::current_path(previous);
}

INSTANTIATE_TEST_SUITE_P(Seeds, StudyDirections, ::testing::Range<size_t>(0, kStudies.size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string name = std::string(kStudies[info.param].dir).substr(9);
                           for (char& ch : name)
                             if (ch == '/' || ch == '-') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace wafersim::study
