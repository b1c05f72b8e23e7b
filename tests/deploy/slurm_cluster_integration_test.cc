// deploy/slurm/ under a real Slurm (Debian's slurm-wlm 22.05): the test writes a one-host
// slurm.conf into a scratch folder (its own ports, state and spool, auth/none so no munge key is
// needed, proctrack/linuxproc and task/none so no cgroup is touched), starts slurmctld and slurmd
// in the foreground, submits the sweep script with sbatch and the job-array recipe with its
// submit helper, waits for the jobs, checks the tables against local runs, and cancels whatever
// is left before stopping both daemons. Skips, saying why, when Slurm is not installed or the
// test is not root (slurmd starts job steps as their user).
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/deploy/slurm_support.h"
#include "tests/deploy/test_process.h"

namespace wafersim::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string slurmProblem() {
  for (const char* tool : {"slurmctld", "slurmd", "sbatch", "srun", "scontrol", "squeue", "sinfo", "scancel"})
    if (onPath(tool).empty() && !std::filesystem::exists(std::string("/usr/sbin/") + tool))
      return std::string(tool) + " is not installed (Debian package slurm-wlm; scripts/deps.sh installs it)";
  if (::getuid() != 0) return "slurmd must run as root to start job steps; this test is not root";
  return "";
}

// slurmctld and one slurmd on this host, for this test only. The clients (sbatch, srun, ...)
// reach it through SLURM_CONF, set in this process's environment and so in every child's.
class LocalSlurm {
 public:
  explicit LocalSlurm(int cpus) {
    for (const char* sub : {"state", "spool", "log"}) std::filesystem::create_directories(dir_ / sub);
    while (controlPort_ == 0 || daemonPort_ == 0 || controlPort_ == daemonPort_) {
      controlPort_ = freePort();
      daemonPort_ = freePort();
    }
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string id = runCommand("id -un").text;
    const std::string user = id.substr(0, id.find('\n'));
    const std::string d = dir_.path.string();
    writeText(dir_ / "slurm.conf",
              "ClusterName=wafersim" + std::to_string(::getpid()) + "\n"
              "SlurmctldHost=localhost(127.0.0.1)\n"
              "SlurmctldPort=" + std::to_string(controlPort_) + "\n"
              "SlurmdPort=" + std::to_string(daemonPort_) + "\n"
              "SlurmUser=" + user + "\nSlurmdUser=" + user + "\n"
              "AuthType=auth/none\nCredType=cred/none\n"
              "StateSaveLocation=" + d + "/state\nSlurmdSpoolDir=" + d + "/spool\n"
              "SlurmctldPidFile=" + d + "/slurmctld.pid\nSlurmdPidFile=" + d + "/slurmd.pid\n"
              "SlurmctldLogFile=" + d + "/log/slurmctld.log\nSlurmdLogFile=" + d + "/log/slurmd.log\n"
              "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nJobAcctGatherType=jobacct_gather/none\n"
              "MpiDefault=none\nSwitchType=switch/none\nSchedulerType=sched/builtin\n"
              "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nReturnToService=2\n"
              "SlurmdParameters=config_overrides\nKillWait=5\n"
              "NodeName=wsnode NodeAddr=127.0.0.1 NodeHostname=" + std::string(host) +
              " CPUs=" + std::to_string(cpus) + " State=UNKNOWN\n"
              "PartitionName=test Nodes=wsnode Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES\n");
    ::setenv("SLURM_CONF", (dir_ / "slurm.conf").c_str(), 1);
    controller_ = TestProcess({onPath("slurmctld").empty() ? "/usr/sbin/slurmctld" : onPath("slurmctld"), "-D", "-i"},
                              dir_ / "log/slurmctld.out");
    daemon_ = TestProcess({onPath("slurmd").empty() ? "/usr/sbin/slurmd" : onPath("slurmd"), "-D", "-N", "wsnode"},
                          dir_ / "log/slurmd.out");
    up_ = pollUntil(30s, [] { return runCommand("sinfo -h -o %T -n wsnode").text.rfind("idle", 0) == 0; });
  }
  ~LocalSlurm() {
    // Cancel what is left (this cluster's jobs only: SLURM_CONF names it), let it end, stop.
    if (up_) {
      runCommand("scancel --partition=test");
      pollUntil(30s, [] { return runCommand("squeue -h").text.empty(); });
    }
    daemon_.stop(10s);
    controller_.stop(10s);
    ::unsetenv("SLURM_CONF");
  }
  bool up() const { return up_; }
  std::string logs() const {
    return "slurmctld: " + controller_.log(1500) + "\nslurmd: " + daemon_.log(1500) + "\n" +
           fileText(dir_ / "log/slurmctld.log").substr(0, 3000);
  }
  const std::filesystem::path& dir() const { return dir_.path; }

  // Waits for a job (and, for an array, all its tasks) to end; its State and ExitCode.
  std::string waitForJob(const std::string& id, std::chrono::milliseconds limit) const {
    std::string state;
    pollUntil(limit, [&] {
      state = runCommand("scontrol -o show job " + id).text;
      return state.find("JobState=PENDING") == std::string::npos && state.find("JobState=RUNNING") == std::string::npos &&
             state.find("JobState=COMPLETING") == std::string::npos && state.find("JobState=CONFIGURING") == std::string::npos;
    });
    std::string summary;
    const std::regex field("(JobState|ExitCode)=(\\S+)");
    for (auto it = std::sregex_iterator(state.begin(), state.end(), field);
         it != std::sregex_iterator(); ++it)
      summary += (*it)[0].str() + " ";
    return summary;
  }

 private:
  TempDir dir_{"wafersim-slurm"};
  int controlPort_ = 0, daemonPort_ = 0;
  TestProcess controller_, daemon_;
  bool up_ = false;
};

#define REQUIRE_SLURM()                                    \
  if (const std::string why = slurmProblem(); why.empty()) { \
  } else                                                     \
    GTEST_SKIP() << why

TEST(SlurmCluster, SbatchRunsTheSweepScriptOnTheAllocationToItsTable) {
  REQUIRE_SLURM();
  LocalSlurm slurm(4);
  ASSERT_TRUE(slurm.up()) << slurm.logs();
  const RecipePorts ports;
  std::string command = "cd " + shellQuoted(slurm.dir()) + " && env " + ports.env() +
                        " sbatch --parsable --ntasks=2 --output=" + shellQuoted(slurm.dir() / "sweep-%j.out") + " " +
                        shellQuoted(slurmScript("wafersim-sweep.sbatch")) + " " + shellQuoted(testScenario()) +
                        " --grid simulation.seed=1,2,3";
  for (const auto& s : kPointSets) command += " --set " + shellQuoted(s);
  const CommandOutput submitted = runCommand(command);
  ASSERT_EQ(submitted.code, 0) << submitted.text;
  const std::string job = submitted.text.substr(0, submitted.text.find_first_not_of("0123456789"));
  ASSERT_FALSE(job.empty()) << submitted.text;
  const std::string end = slurm.waitForJob(job, 180s);
  const std::string output = fileText(slurm.dir() / ("sweep-" + job + ".out"));
  ASSERT_THAT(end, HasSubstr("JobState=COMPLETED ExitCode=0:0")) << output << "\n" << slurm.logs();
  EXPECT_THAT(output, HasSubstr("2 pool node(s) on wsnode"));
  EXPECT_THAT(output, HasSubstr("sweep slurm-" + job + ": SUCCEEDED 3"));
  const auto rows = readCsv(slurm.dir() / ("wafersim-sweep-" + job + ".csv"));
  ASSERT_EQ(rows.size(), 3u) << output;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].at("state"), "SUCCEEDED");
    EXPECT_EQ(rows[i].at("digest"), localDigest(slurm.dir() / ("local-" + std::to_string(i)),
                                                {"simulation.seed=" + std::to_string(i + 1)}));
  }
  EXPECT_TRUE(processesWith("slurm-" + job + "-").empty()) << "pool nodes of the job still run";
  EXPECT_FALSE(listening(ports.http));
  EXPECT_FALSE(listening(ports.control));
}

TEST(SlurmCluster, TheJobArrayRunsEveryPointAndTheGatherStepWaitsForThem) {
  REQUIRE_SLURM();
  LocalSlurm slurm(4);
  ASSERT_TRUE(slurm.up()) << slurm.logs();
  const std::filesystem::path outDir = slurm.dir() / "array";
  std::string command = "cd " + shellQuoted(slurm.dir()) + " && env WAFERSIM_BIN=" + shellQuoted(binaryPath("")) + " " +
                        shellQuoted(slurmScript("wafersim-array-submit.sh")) + " --sbatch-arg=--cpus-per-task=1 --out " +
                        shellQuoted(outDir) + " --grid simulation.seed=1,2 --grid params.lps=64,128 " +
                        shellQuoted(testScenario()) + " --";
  for (const auto& s : kPointSets) command += " --set " + shellQuoted(s);
  const CommandOutput submitted = runCommand(command);
  ASSERT_EQ(submitted.code, 0) << submitted.text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(submitted.text, m, std::regex("gather job (\\d+)"))) << submitted.text;
  const std::string end = slurm.waitForJob(m[1], 180s);
  const std::string gather = fileText(outDir / ("gather-" + m[1].str() + ".out"));
  ASSERT_THAT(end, HasSubstr("JobState=COMPLETED ExitCode=0:0")) << gather << "\n" << slurm.logs();
  EXPECT_THAT(gather, HasSubstr("4 of 4 points SUCCEEDED"));
  const auto rows = readCsv(outDir / "table.csv");
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& row : rows) EXPECT_EQ(row.at("state"), "SUCCEEDED");
  EXPECT_EQ(rows[2].at("digest"), localDigest(slurm.dir() / "local", {"params.lps=128", "simulation.seed=1"}));
}

}  // namespace
}  // namespace wafersim::testing
