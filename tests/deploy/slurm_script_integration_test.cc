// deploy/slurm/ without a Slurm cluster: the recipes run on this machine with the SLURM_*
// variables a job would have, and stand-ins for srun and sbatch (tests/deploy/slurm_shim/) that
// start the tasks here. The sweep script starts the coordinator, the placement service and one
// pool node per task, submits the sweep, follows it, writes its table and stops everything, also
// when the sweep is refused; the job-array recipe runs one point per task, in `wafersim sweep`'s
// order, and gathers a table; every point's digest is the one a local `wafersim run` gives.
// slurm_cluster_integration_test runs the same recipes under a real slurmctld and slurmd.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/deploy/slurm_support.h"

namespace wafersim::testing {
namespace {

using ::testing::HasSubstr;

// A scratch folder with the srun and sbatch stand-ins in bin/, first on the PATH of `env()`.
struct ShimJob {
  TempDir dir{"wafersim-slurm-shim"};
  std::string job = "shim" + std::to_string(::getpid());
  ShimJob() {
    std::filesystem::create_directories(dir / "bin");
    for (const char* tool : {"srun", "sbatch"}) {
      std::filesystem::copy_file(sourcePath(std::string("tests/deploy/slurm_shim/") + tool), dir / "bin" / tool);
      ::chmod((dir / "bin" / tool).c_str(), 0755);
    }
  }
  // `env` words that make this folder the submit folder of job `job` with `tasks` tasks.
  std::string env(int tasks) const {
    return "env PATH=" + shellQuoted(dir / "bin") + ":\"$PATH\" SBATCH_SHIM_STATE=" + shellQuoted(dir.path) +
           " SLURM_JOB_ID=" + job + " SLURM_NTASKS=" + std::to_string(tasks) +
           " SLURM_JOB_NODELIST=localhost SLURM_SUBMIT_DIR=" + shellQuoted(dir.path);
  }
};

std::string sweepArgs(const std::vector<std::string>& extra) {
  std::string out = shellQuoted(testScenario());
  for (const auto& s : kPointSets) out += " --set " + shellQuoted(s);
  for (const auto& s : extra) out += " " + shellQuoted(s);
  return out;
}

// Nothing the job started is left: no pool node named after it, nothing on the service's ports.
void expectEverythingStopped(const std::string& job, const RecipePorts& ports) {
  EXPECT_TRUE(processesWith("slurm-" + job + "-").empty()) << "pool nodes of job " << job << " still run";
  EXPECT_FALSE(listening(ports.http)) << "the coordinator's API still answers";
  EXPECT_FALSE(listening(ports.control)) << "the control socket is still bound";
  EXPECT_FALSE(listening(ports.placement)) << "the placement service still listens";
}

TEST(SlurmScript, TheSweepRunsOnAPoolOfOneNodePerTaskAndEverythingStopsAfterwards) {
  ShimJob shim;
  const RecipePorts ports;
  const CommandOutput out = runCommand("cd " + shellQuoted(shim.dir.path) + " && " + shim.env(2) + " " + ports.env() +
                                       " timeout 120 bash " + shellQuoted(slurmScript("wafersim-sweep.sbatch")) + " " +
                                       sweepArgs({"--grid", "simulation.seed=1,2,3"}));
  ASSERT_EQ(out.code, 0) << out.text;
  EXPECT_THAT(out.text, HasSubstr("2 pool node(s)"));
  EXPECT_THAT(out.text, HasSubstr("sweep slurm-" + shim.job + ": SUCCEEDED 3"));
  const auto rows = readCsv(shim.dir / ("wafersim-sweep-" + shim.job + ".csv"));
  ASSERT_EQ(rows.size(), 3u) << out.text;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].at("state"), "SUCCEEDED");
    EXPECT_EQ(rows[i].at("simulation.seed"), std::to_string(i + 1));
    EXPECT_EQ(rows[i].at("digest"), localDigest(shim.dir / ("local-" + std::to_string(i)),
                                                {"simulation.seed=" + std::to_string(i + 1)}));
  }
  // Both pool nodes served (3 points, one node each), and registered under the job's names.
  const std::filesystem::path logs = shim.dir / ("wafersim-data-" + shim.job) / "logs";
  EXPECT_TRUE(std::filesystem::exists(logs / "node-0.log"));
  EXPECT_TRUE(std::filesystem::exists(logs / "node-1.log"));
  EXPECT_TRUE(std::filesystem::exists(logs / "coordinator.log"));
  expectEverythingStopped(shim.job, ports);
}

TEST(SlurmScript, ARefusedSweepFailsTheJobAndStillStopsEverything) {
  ShimJob shim;
  const RecipePorts ports;
  const CommandOutput out = runCommand("cd " + shellQuoted(shim.dir.path) + " && " + shim.env(1) + " " + ports.env() +
                                       " timeout 120 bash " + shellQuoted(slurmScript("wafersim-sweep.sbatch")) + " " +
                                       sweepArgs({"--grid", "params.no_such_parameter=1,2"}));
  EXPECT_NE(out.code, 0) << out.text;
  EXPECT_THAT(out.text, HasSubstr("no_such_parameter"));
  EXPECT_THAT(out.text, HasSubstr("wafersim-sweep: stopped"));
  EXPECT_FALSE(std::filesystem::exists(shim.dir / ("wafersim-sweep-" + shim.job + ".csv")));
  expectEverythingStopped(shim.job, ports);
}

TEST(SlurmScript, TheSweepScriptSaysHowToUseItOutsideAJob) {
  const CommandOutput noJob = runCommand("env -u SLURM_JOB_ID bash " + shellQuoted(slurmScript("wafersim-sweep.sbatch")) +
                                         " " + shellQuoted(testScenario()));
  EXPECT_NE(noJob.code, 0);
  EXPECT_THAT(noJob.text, HasSubstr("submit with sbatch"));
  const CommandOutput noScenario = runCommand("bash " + shellQuoted(slurmScript("wafersim-sweep.sbatch")));
  EXPECT_EQ(noScenario.code, 2);
  EXPECT_THAT(noScenario.text, HasSubstr("usage: sbatch wafersim-sweep.sbatch SCENARIO"));
}

TEST(SlurmScript, TheJobArrayRunsOnePointPerTaskInTheSweepOrderAndGathersATable) {
  ShimJob shim;
  const std::filesystem::path outDir = shim.dir / "array";
  std::string command = "cd " + shellQuoted(shim.dir.path) + " && " + shim.env(1) +
                        " WAFERSIM_BIN=" + shellQuoted(binaryPath("")) + " timeout 120 " +
                        shellQuoted(slurmScript("wafersim-array-submit.sh")) + " --wait --out " + shellQuoted(outDir) +
                        " --grid simulation.seed=1,2 --grid params.lps=64,128 " + shellQuoted(testScenario()) + " --";
  for (const auto& s : kPointSets) command += " --set " + shellQuoted(s);
  const CommandOutput out = runCommand(command);
  ASSERT_EQ(out.code, 0) << out.text;
  EXPECT_THAT(out.text, HasSubstr("4 points in array job"));
  EXPECT_THAT(out.text, HasSubstr("4 of 4 points SUCCEEDED"));
  // Keys in sorted order, the last fastest: the order `wafersim sweep --grid` gives.
  EXPECT_EQ(fileText(outDir / "points.txt"),
            "params.lps=64;simulation.seed=1\nparams.lps=64;simulation.seed=2\n"
            "params.lps=128;simulation.seed=1\nparams.lps=128;simulation.seed=2\n");
  const auto rows = readCsv(outDir / "table.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3].at("params.lps"), "128");
  EXPECT_EQ(rows[3].at("simulation.seed"), "2");
  for (const auto& row : rows) EXPECT_EQ(row.at("state"), "SUCCEEDED");
  EXPECT_EQ(rows[1].at("digest"), localDigest(shim.dir / "local", {"params.lps=64", "simulation.seed=2"}));
  EXPECT_TRUE(std::filesystem::exists(outDir / "point-2" / "summary.json"));
}

TEST(SlurmScript, AnArrayTaskRunsTheLineOfItsIndexWithItsOverrides) {
  ShimJob shim;
  writeText(shim.dir / "points.txt",
            "# lps and mean\n\nparams.lps=64 ; params.mean=1800 ps\n  params.lps=96;params.mean=900 ps  \n");
  std::string command = "cd " + shellQuoted(shim.dir.path) + " && " + shim.env(1) +
                        " SLURM_ARRAY_TASK_ID=1 WAFERSIM_BIN=" + shellQuoted(binaryPath("")) + " timeout 60 bash " +
                        shellQuoted(slurmScript("wafersim-array.sbatch")) + " " + shellQuoted(testScenario()) + " " +
                        shellQuoted(shim.dir / "points.txt") + " " + shellQuoted(shim.dir / "out");
  for (const auto& s : kPointSets) command += " --set " + shellQuoted(s);
  const CommandOutput out = runCommand(command);
  ASSERT_EQ(out.code, 0) << out.text;
  EXPECT_EQ(fileText(shim.dir / "out/point-1.status"), "0\n");
  const auto resolved = nlohmann::json::parse(fileText(shim.dir / "out/point-1/scenario.resolved.json"));
  EXPECT_EQ(resolved["params"]["lps"], "96") << resolved.dump();
  EXPECT_EQ(resolved["params"]["mean"], "900 ps") << resolved.dump();
  EXPECT_FALSE(std::filesystem::exists(shim.dir / "out/point-0"));
  const CommandOutput beyond = runCommand("cd " + shellQuoted(shim.dir.path) + " && " + shim.env(1) +
                                          " SLURM_ARRAY_TASK_ID=2 WAFERSIM_BIN=" + shellQuoted(binaryPath("")) + " bash " +
                                          shellQuoted(slurmScript("wafersim-array.sbatch")) +
                                          " " + shellQuoted(testScenario()) + " " + shellQuoted(shim.dir / "points.txt") +
                                          " " + shellQuoted(shim.dir / "out"));
  EXPECT_EQ(beyond.code, 2);
  EXPECT_THAT(beyond.text, HasSubstr("has no point 2"));
}

TEST(SlurmScript, TheGatherStepMarksFailedAndMissingPoints) {
  if (onPath("python3").empty()) GTEST_SKIP() << "python3 is not installed: the gather step is a Python script";
  TempDir out("wafersim-gather");
  writeText(out / "points.txt", "params.lps=64\nparams.lps=128\nparams.lps=256\n");
  std::filesystem::create_directories(out / "point-0");
  writeText(out / "point-0/summary.json", R"({"digest": "abc", "energy": {"total_j": 1.5}})");
  writeText(out / "point-0.status", "0\n");
  writeText(out / "point-1.status", "1\n");
  const CommandOutput run = runCommand("python3 " + shellQuoted(slurmScript("wafersim-gather.py")) + " " +
                                       shellQuoted(out.path));
  EXPECT_EQ(run.code, 1) << run.text;
  EXPECT_THAT(run.text, HasSubstr("1 of 3 points SUCCEEDED"));
  EXPECT_EQ(fileText(out / "table.csv"),
            "index,run,state,params.lps,digest,energy.total_j\n"
            "0,point-0,SUCCEEDED,64,abc,1.5\n"
            "1,point-1,FAILED,128,,\n"
            "2,point-2,MISSING,256,,\n");
}

}  // namespace
}  // namespace wafersim::testing
