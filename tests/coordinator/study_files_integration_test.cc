// The seed studies under examples/: every study file parses, and every run it names loads its
// scenario with its overrides and builds a valid system (issue 18: a study that no longer builds
// fails CI, not the next person to run it).
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/study.h"
#include "models/model_catalog.h"
#include "scenario/scenario.h"
#include "sim/component_registry.h"
#include "sim/error.h"

namespace wafersim::study {
namespace {

namespace fs = std::filesystem;

// Study folders, relative to the repository root (their scenarios name data files from there).
std::vector<std::string> studyFolders() {
  std::vector<std::string> dirs;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(WAFERSIM_SOURCE_DIR) / "examples"))
    if (entry.is_regular_file() && entry.path().filename() == "study.yaml")
      dirs.push_back(fs::relative(entry.path().parent_path(), WAFERSIM_SOURCE_DIR).string());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

TEST(StudyFiles, EveryStudyParsesAndEveryRunBuilds) {
  const fs::path previous = fs::current_path();
  fs::current_path(WAFERSIM_SOURCE_DIR);
  const std::vector<std::string> dirs = studyFolders();
  // The six seeds, two of them with a real-trace variant.
  EXPECT_GE(dirs.size(), 8u);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  size_t runs = 0;
  for (const std::string& dir : dirs) {
    SCOPED_TRACE(dir);
    Study study;
    ASSERT_NO_THROW(study = loadStudy(dir));
    EXPECT_FALSE(study.title.empty());
    EXPECT_FALSE(study.citation.empty()) << "a study says where its paper figures come from";
    EXPECT_FALSE(study.comparisons.empty());
    for (const StudyRun& run : study.runs) {
      SCOPED_TRACE(run.name);
      const std::string path = (fs::path(dir) / run.scenario).string();
      try {
        const Scenario s = loadScenario(path, run.set);
        SystemGraph graph = catalog.build(s.model, s.modelParams, path + ": params", s.run.seed);
        graph.validate(registry);
        EXPECT_GT(graph.components().size(), 0u);
      } catch (const Error& e) {
        ADD_FAILURE() << dir << " run " << run.name << ": " << e.what();
      }
      ++runs;
    }
  }
  EXPECT_GT(runs, 50u);
  fs::current_path(previous);
}

}  // namespace
}  // namespace wafersim::study
