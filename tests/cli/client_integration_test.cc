// The `wafersim` command as the service's client (cli/client.h), against an embedded service with
// a real node: submit and watch, sweep and table, status, results, cancel, checkpoint, and a clear error for a
// server that is not there.

#include <cstdio>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/coordinator/service_support.h"
#include "tests/support.h"

namespace wafersim::testing {
namespace {

using ::testing::HasSubstr;

using Output = CommandOutput;

Output wafersim(const std::string& args) { return runCommand(binaryDir() + "/cli/wafersim " + args); }

class Client : public ::testing::Test {
 protected:
  void SetUp() override {
    useBuildTreeBinaries();
    useTestToken();
    service_ = std::make_unique<EmbeddedService>(serviceOptions(dir_.path / "data"), 1);
    service_->pool().waitForNodes(1, {}, std::chrono::seconds(30));
    server_ = " --server " + service_->url();
    scenario_ = (dir_.path / "phold.yaml").string();
    std::ofstream(scenario_) << phold("2 us");
  }
  TempDir dir_{"wafersim-client"};
  std::unique_ptr<EmbeddedService> service_;
  std::string server_, scenario_;
};

TEST_F(Client, SubmitWatchStatusAndResults) {
  const Output submitted = wafersim("submit " + scenario_ + " --id first --label who=me --watch" + server_);
  EXPECT_EQ(submitted.code, 0) << submitted.text;
  EXPECT_THAT(submitted.text, HasSubstr("run first: SUCCEEDED (COMPLETED)"));
  EXPECT_THAT(submitted.text, HasSubstr("digest "));
  const Output status = wafersim("status" + server_);
  EXPECT_EQ(status.code, 0) << status.text;
  EXPECT_THAT(status.text, HasSubstr("first"));
  const Output one = wafersim("status first" + server_);
  EXPECT_THAT(one.text, HasSubstr("SUCCEEDED"));
  const std::string out = (dir_.path / "downloaded").string();
  const Output results = wafersim("results first --out " + out + server_);
  EXPECT_EQ(results.code, 0) << results.text;
  EXPECT_TRUE(std::filesystem::exists(out + "/summary.json"));
  EXPECT_TRUE(std::filesystem::exists(out + "/results.json"));
  // An ended run cannot be cancelled: the service's message, exit code 2.
  const Output cancel = wafersim("cancel first" + server_);
  EXPECT_EQ(cancel.code, 2);
  EXPECT_THAT(cancel.text, HasSubstr("has already ended"));
  // Nor checkpointed.
  const Output cut = wafersim("checkpoint first" + server_);
  EXPECT_EQ(cut.code, 2);
  EXPECT_THAT(cut.text, HasSubstr("is not running (SUCCEEDED)"));
  // The same submission again is answered from the cache.
  const Output again = wafersim("submit " + scenario_ + server_);
  EXPECT_THAT(again.text, HasSubstr("from the cache (run first)"));
}

TEST_F(Client, SweepAndItsTable) {
  const Output swept = wafersim("sweep " + scenario_ + " --grid simulation.seed=1,2,3 --id grid --watch" + server_);
  EXPECT_EQ(swept.code, 0) << swept.text;
  EXPECT_THAT(swept.text, HasSubstr("sweep grid: 3 points"));
  EXPECT_THAT(swept.text, HasSubstr("SUCCEEDED 3"));
  const Output csv = wafersim("table grid --csv" + server_);
  EXPECT_EQ(csv.code, 0) << csv.text;
  EXPECT_THAT(csv.text, HasSubstr("index,run,state,reason,cached,simulation.seed"));
  EXPECT_EQ(std::count(csv.text.begin(), csv.text.end(), '\n'), 4);
  const Output table = wafersim("table grid" + server_);
  EXPECT_THAT(table.text, HasSubstr("simulation.seed"));
  const Output random =
      wafersim("sweep " + scenario_ + " --random 2 --seed 3 --range params.remote=0.1:0.9 --watch" + server_);
  EXPECT_EQ(random.code, 0) << random.text;
  EXPECT_THAT(random.text, HasSubstr("2 points"));
}

TEST_F(Client, ABadScenarioAndAMissingServerAreClearErrors) {
  const std::string bad = (dir_.path / "bad.yaml").string();
  std::ofstream(bad) << "model: phold\nparams:\n  lsp: 4\n";
  const Output refused = wafersim("submit " + bad + server_);
  EXPECT_EQ(refused.code, 2);
  EXPECT_THAT(refused.text, HasSubstr("unknown parameter \"lsp\""));
  const Output nobody = wafersim("status --server http://127.0.0.1:9");
  EXPECT_EQ(nobody.code, 1);
  EXPECT_THAT(nobody.text, HasSubstr("127.0.0.1:9"));
}

// The token: from WAFERSIM_TOKEN, --token-file (the token alone, or the service's api-tokens file),
// WAFERSIM_TOKEN_FILE; without one a submission is refused with the service's reason.
TEST_F(Client, ASubmissionNeedsTheTokenFromTheEnvironmentOrAFile) {
  ::unsetenv("WAFERSIM_TOKEN");
  const Output none = wafersim("submit " + scenario_ + server_);
  EXPECT_NE(none.code, 0);
  EXPECT_THAT(none.text, HasSubstr("needs a token"));
  const std::string alone = (dir_.path / "token").string(), tokens = (dir_.path / "api-tokens").string();
  std::ofstream(alone) << kAdminToken << "\n";
  std::ofstream(tokens) << "# ROLE NAME TOKEN\nadmin tester " << kAdminToken << "\n";
  EXPECT_EQ(wafersim("submit " + scenario_ + " --token-file " + alone + server_).code, 0);
  EXPECT_EQ(wafersim("submit " + scenario_ + " --token-file " + tokens + server_).code, 0);
  ::setenv("WAFERSIM_TOKEN_FILE", tokens.c_str(), 1);
  EXPECT_EQ(wafersim("status" + server_).code, 0);
  EXPECT_EQ(wafersim("submit " + scenario_ + server_).code, 0);
  ::unsetenv("WAFERSIM_TOKEN_FILE");
  const Output wrong = wafersim("submit " + scenario_ + " --token-file " + scenario_ + server_);
  EXPECT_NE(wrong.code, 0);
  EXPECT_THAT(wrong.text, HasSubstr("not one this service knows"));
  useTestToken();
}

}  // namespace
}  // namespace wafersim::testing
