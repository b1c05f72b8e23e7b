// Every YAML file of the repository passes yamllint with the project's .yamllint: scenarios and
// studies (examples/), the Prometheus, Compose, Kubernetes and Slurm files (deploy/,
// docker-compose.yml), Grafana's provisioning (dashboards/), .yamllint itself. The files are
// listed when the test runs (git's tracked and untracked-but-not-ignored files, or a walk of
// the tree that skips build folders and node_modules where there is no git checkout), so new
// ones are linted without a change here. Skips, saying why, where yamllint is not installed.
#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/deploy/container_support.h"

namespace wafersim::testing {
namespace {

using namespace container;
namespace fs = std::filesystem;

#define REQUIRE_YAMLLINT()         \
  if (findTool("yamllint").empty()) \
  GTEST_SKIP() << "yamllint is not installed (Debian package yamllint; scripts/deps.sh installs it)"

bool isYaml(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".yml" || ext == ".yaml" || p.filename() == ".yamllint";
}

// A folder that holds a CMake build (build/, build-asan/, a build elsewhere) or npm's installs.
bool skippedFolder(const fs::path& dir) {
  const std::string name = dir.filename().string();
  return name == "node_modules" || name == ".git" || name.rfind("build", 0) == 0 ||
         fs::exists(dir / "CMakeCache.txt");
}

// The YAML files of the repository, relative to its root, sorted.
std::vector<std::string> yamlFiles() {
  std::vector<std::string> out;
  const CommandOutput git =
      runCommand("cd " + shellQuoted(sourceRoot()) +
                 " && git ls-files --cached --others --exclude-standard -- '*.yml' '*.yaml' '.yamllint' 2>/dev/null");
  if (git.code == 0 && !git.text.empty()) {
    std::istringstream lines(git.text);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && fs::exists(sourceRoot() / line)) out.push_back(line);  // not deleted since
  } else {
    for (auto it = fs::recursive_directory_iterator(sourceRoot()); it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_directory() && skippedFolder(it->path())) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && isYaml(it->path()))
        out.push_back(fs::relative(it->path(), sourceRoot()).string());
    }
  }
  // No build folder's or node_modules' files, whichever way they were listed, and not the fuzz
  // corpus (tests/fuzz/: inputs that are meant to be bad YAML).
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const std::string& f) {
                             if (f.rfind("tests/fuzz/", 0) == 0) return true;
                             for (fs::path p = fs::path(f).parent_path(); !p.empty(); p = p.parent_path())
                               if (skippedFolder(sourceRoot() / p)) return true;
                             return false;
                           }),
            out.end());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Yamllint, ListsTheRepositorysYamlAndNoBuildOutput) {
  const std::vector<std::string> files = yamlFiles();
  const std::set<std::string> listed(files.begin(), files.end());
  for (const char* f : {".yamllint", "docker-compose.yml", "deploy/prometheus/prometheus.yml",
                        "deploy/prometheus/prometheus-compose.yml", "deploy/prometheus/alerts.yml",
                        "dashboards/provisioning/datasources/prometheus.yaml", "examples/quickstart.yaml"})
    EXPECT_TRUE(listed.count(f)) << f;
  for (const auto& f : files) {
    EXPECT_EQ(f.find("node_modules/"), std::string::npos) << f;
    EXPECT_NE(f.rfind("build", 0), 0u) << f;
  }
}

TEST(Yamllint, EveryYamlFileIsClean) {
  REQUIRE_YAMLLINT();
  const std::vector<std::string> files = yamlFiles();
  ASSERT_GE(files.size(), 30u);
  std::vector<std::string> words = {"yamllint", "--strict", "-c", ".yamllint", "-f", "parsable"};
  words.insert(words.end(), files.begin(), files.end());
  const CommandOutput out = runCommand("cd " + shellQuoted(sourceRoot()) + " && " + shellLine(words));
  EXPECT_EQ(out.code, 0) << out.text;
  EXPECT_EQ(out.text, "") << files.size() << " files; yamllint -c .yamllint found:\n" << out.text;
}

// The configuration still finds what it is there to find: a line over 120 columns, trailing
// spaces, a duplicated key, a `yes` for a boolean.
TEST(Yamllint, TheConfigurationStillFindsProblems) {
  REQUIRE_YAMLLINT();
  const fs::path file = fs::temp_directory_path() / ("wafersim-yamllint-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(file);
    out << "key: " << std::string(130, 'x') << "\n"
        << "other: value \n"
        << "key: again\n"
        << "flag: yes\n";
  }
  const CommandOutput out = runCommand("yamllint -c " + shellQuoted(sourceRoot() / ".yamllint") +
                                       " -f parsable " + shellQuoted(file));
  std::error_code ec;
  fs::remove(file, ec);
  EXPECT_NE(out.code, 0) << out.text;
  for (const char* rule : {"(line-length)", "(trailing-spaces)", "(key-duplicates)", "(truthy)"})
    EXPECT_THAT(out.text, ::testing::HasSubstr(rule));
}

}  // namespace
}  // namespace wafersim::testing
