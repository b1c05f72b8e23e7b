// `wafersim run --resume RUN_DIR` (coordinator/run.h resumeSpec, sim/checkpoint.h): a run killed
// with SIGKILL after a checkpoint resumes from its folder, on another partition count and with
// the other synchronization strategy, to the digest of a run never interrupted; so do serving,
// online-placement and training runs, on threads and on node processes; what cannot be resumed
// is refused with the reason.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "coordinator/child_process.h"
#include "tests/support.h"

namespace wafersim::testing {
namespace {

using ::testing::HasSubstr;

const std::string kWafersim = std::string(WAFERSIM_BINARY_DIR) + "/cli/wafersim";

CommandOutput wafersim(const std::string& args) { return runCommand(kWafersim + " " + args + " --no-progress"); }

std::string digestOf(const std::filesystem::path& runDir) {
  std::ifstream in(runDir / "summary.json");
  const nlohmann::json summary = nlohmann::json::parse(in, nullptr, false);
  return summary.is_object() ? summary.value("digest", "") : "";
}

// PHOLD of 256 LPs for 10 us of simulated time: about a second on two threads, a checkpoint
// every microsecond.
constexpr const char* kScenario = R"(model: phold
params:
  lps: 256
  initial_events: 4
  remote: 0.5
  lookahead: 100 ps
  mean: 900 ps
simulation:
  partitions: 2
  sync: window
  end: 10 us
  seed: 3
)";

class RunResume : public ::testing::Test {
 protected:
  void SetUp() override { std::ofstream(scenario_) << kScenario; }
  TempDir dir_{"wafersim-run-resume"};
  std::string scenario_ = (dir_.path / "phold.yaml").string();
};

// Starts `wafersim run` and kills it (SIGKILL) as soon as it reports its first checkpoint.
void runUntilFirstCheckpointThenKill(const std::string& scenario, const std::string& outDir) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ChildSpec spec;
  spec.argv = {kWafersim, "run", scenario, "--out", outDir, "--no-progress", "--set", "simulation.checkpoint_every=1us"};
  spec.stdoutFd = out[1];
  const pid_t pid = spawnChild(spec);
  ::close(out[1]);
  std::string text;
  bool checkpointed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!checkpointed && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) continue;
    char buffer[4096];
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    checkpointed = text.find("  checkpoint            at ") != std::string::npos;
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out[0]);
  ASSERT_TRUE(checkpointed) << "no checkpoint reported:\n" << text;
  EXPECT_TRUE(WIFSIGNALED(status)) << "the run ended before it was killed: the test proves nothing\n" << text;
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(outDir) / "summary.json"));
}

TEST_F(RunResume, AKilledRunResumesOnOtherPartitionsToTheUninterruptedDigest) {
  const auto reference = dir_.path / "reference";
  const CommandOutput full = wafersim("run " + scenario_ + " --out " + reference.string());
  ASSERT_EQ(full.code, 0) << full.text;
  const std::string digest = digestOf(reference);
  ASSERT_EQ(digest.size(), 16u);

  const auto killed = dir_.path / "killed";
  runUntilFirstCheckpointThenKill(scenario_, killed.string());
  ASSERT_TRUE(std::filesystem::exists(killed / "checkpoints" / "latest"));

  // 2 -> 3 partitions, window strategy; the resumed run checkpoints on, into its own folder.
  const CommandOutput three = wafersim("run --resume " + killed.string() + " --set simulation.partitions=3");
  ASSERT_EQ(three.code, 0) << three.text;
  EXPECT_THAT(three.text, HasSubstr("resuming from"));
  EXPECT_THAT(three.text, HasSubstr("3 partitions"));
  EXPECT_EQ(digestOf(killed), digest) << three.text;
  const nlohmann::json runJson = nlohmann::json::parse(std::ifstream(killed / "run.json"));
  EXPECT_GT(runJson.value("resumed_from_ps", int64_t{0}), 0);
  EXPECT_GE(runJson["checkpoints"].value("written", 0), 1);

  // The resumed run's folder resumes again: from its last cut, on 1 partition with null messages
  // (no checkpoints: they need windows), into another folder.
  const auto again = dir_.path / "again";
  const CommandOutput one = wafersim("run --resume " + killed.string() + " --out " + again.string() +
                                     " --set simulation.partitions=1 --set simulation.sync=null"
                                     " --set simulation.checkpoint_every=0");
  ASSERT_EQ(one.code, 0) << one.text;
  EXPECT_EQ(digestOf(again), digest) << one.text;
}

// PHOLD with a 1 ns lookahead: 10,000 windows in 10 us, quick over ZeroMQ too.
constexpr const char* kNodeScenario = R"(model: phold
params:
  lps: 64
  initial_events: 4
  remote: 0.5
  lookahead: 1 ns
  mean: 9 ns
simulation:
  partitions: 1
  sync: window
  end: 10 us
  seed: 9
)";

struct Latest {
  int64_t ps = -1;
  uint32_t parts = 0;
};

// The committed cut of a run's folder ("<ps> <parts>").
Latest latestOf(const std::filesystem::path& runDir) {
  std::ifstream in(runDir / "checkpoints" / "latest");
  Latest l;
  in >> l.ps >> l.parts;
  return l;
}

// A cut is taken at the first window start at or after each multiple of checkpoint_every (1 us).
void expectCut(const Latest& l, int64_t microseconds, uint32_t parts) {
  EXPECT_GE(l.ps, microseconds * 1'000'000);
  EXPECT_LT(l.ps, (microseconds + 1) * 1'000'000);
  EXPECT_EQ(l.parts, parts);
}

// Node processes write their parts into the run's folder and load a cut from it: a run
// checkpointed on 1 node resumes on 2 (1 -> 2), that one's cut on 3 (2 -> 3), that one's on 1
// with null messages (3 -> 1); the last two end with the digest of a run never interrupted.
TEST_F(RunResume, NodeProcessesCheckpointAndResumeOnOtherNodeCounts) {
  const std::string scenario = (dir_.path / "phold-nodes.yaml").string();
  std::ofstream(scenario) << kNodeScenario;
  const auto reference = dir_.path / "reference";
  ASSERT_EQ(wafersim("run " + scenario + " --out " + reference.string()).code, 0);
  const std::string digest = digestOf(reference);
  ASSERT_EQ(digest.size(), 16u);

  const auto a = dir_.path / "a", b = dir_.path / "b", c = dir_.path / "c", d = dir_.path / "d";
  const CommandOutput first = wafersim("run " + scenario + " --nodes 1 --out " + a.string() +
                                       " --set simulation.end=4500ns --set simulation.checkpoint_every=1us");
  ASSERT_EQ(first.code, 0) << first.text;
  expectCut(latestOf(a), 4, 1);

  const CommandOutput two = wafersim("run --resume " + a.string() + " --nodes 2 --out " + b.string() +
                                     " --set simulation.end=7500ns");
  ASSERT_EQ(two.code, 0) << two.text;
  EXPECT_THAT(two.text, HasSubstr(" 1 parts, "));
  expectCut(latestOf(b), 7, 2);

  const CommandOutput three = wafersim("run --resume " + b.string() + " --nodes 3 --out " + c.string() +
                                       " --set simulation.end=10us");
  ASSERT_EQ(three.code, 0) << three.text;
  EXPECT_EQ(digestOf(c), digest) << three.text;
  expectCut(latestOf(c), 9, 3);
  const nlohmann::json runJson = nlohmann::json::parse(std::ifstream(c / "run.json"));
  EXPECT_EQ(runJson["checkpoints"].value("written", 0), 2) << runJson.dump();

  const CommandOutput one = wafersim("run --resume " + c.string() + " --nodes 1 --out " + d.string() +
                                     " --set simulation.sync=null --set simulation.checkpoint_every=0");
  ASSERT_EQ(one.code, 0) << one.text;
  EXPECT_THAT(one.text, HasSubstr(" 3 parts, "));
  EXPECT_EQ(digestOf(d), digest) << one.text;
}

TEST_F(RunResume, RefusesWhatItCannotDoWithTheReason) {
  const CommandOutput neither = wafersim("run");
  EXPECT_EQ(neither.code, 2) << neither.text;
  EXPECT_THAT(neither.text, HasSubstr("give a scenario file or --resume RUN_DIR"));
  const CommandOutput both = wafersim("run " + scenario_ + " --resume " + dir_.path.string());
  EXPECT_EQ(both.code, 2) << both.text;

  const CommandOutput notARun = wafersim("run --resume " + dir_.path.string());
  EXPECT_EQ(notARun.code, 2) << notARun.text;
  EXPECT_THAT(notARun.text, HasSubstr("not a run folder to resume (no run-spec.json)"));

  // A run folder without checkpoints.
  const auto plain = dir_.path / "plain";
  ASSERT_EQ(wafersim("run " + scenario_ + " --out " + plain.string() + " --set simulation.end=1us").code, 0);
  const CommandOutput none = wafersim("run --resume " + plain.string());
  EXPECT_EQ(none.code, 2) << none.text;
  EXPECT_THAT(none.text, HasSubstr("no checkpoint to resume from"));

  // Another system: the seed changed on resume.
  const auto short_ = dir_.path / "short";
  ASSERT_EQ(wafersim("run " + scenario_ + " --out " + short_.string() +
                     " --set simulation.end=3us --set simulation.checkpoint_every=1us")
                .code,
            0);
  const CommandOutput seed = wafersim("run --resume " + short_.string() + " --set simulation.seed=4");
  EXPECT_EQ(seed.code, 2) << seed.text;
  EXPECT_THAT(seed.text, HasSubstr("taken of another system"));

}

// The hardware, serving and training models (models/hardware, models/moe): a run stopped part-way after its
// checkpoints resumes on another partition count, and on node processes (whose plans replay the
// host's step announcements without the host among their components), to the digest and the
// figures of the run never interrupted: dies running scripted programs over the wafer's routers,
// a serving run, one with online placement (decided in process on threads, by a
// wafersim-placement process on nodes) and a training run, each cut small enough to run in seconds.
struct ModelCase {
  const char* scenario;
  const char* overrides;  // for every run
  const char* stop;       // simulation.end of the interrupted run
  const char* every;      // simulation.checkpoint_every
  uint32_t partitions;    // of the run resumed on threads
  uint32_t nodes;         // of the run resumed on node processes; 0: none
};

class ModelResume : public RunResume, public ::testing::WithParamInterface<ModelCase> {};

TEST_P(ModelResume, StoppedAfterACheckpointAndResumedElsewhereGivesTheUninterruptedDigest) {
  const ModelCase& c = GetParam();
  const std::string scenario = std::string(WAFERSIM_SOURCE_DIR) + "/" + c.scenario + " " + c.overrides;
  const auto reference = dir_.path / "reference";
  const CommandOutput full = wafersim("run " + scenario + " --out " + reference.string());
  ASSERT_EQ(full.code, 0) << full.text;
  const std::string digest = digestOf(reference);
  ASSERT_EQ(digest.size(), 16u);
  const nlohmann::json expected = nlohmann::json::parse(std::ifstream(reference / "summary.json"));

  // Stopped on the scenario's 2 partitions after a few cuts.
  const auto a = dir_.path / "a", b = dir_.path / "b", d = dir_.path / "d";
  const CommandOutput first = wafersim("run " + scenario + " --out " + a.string() + " --set simulation.end=" +
                                       c.stop + " --set simulation.checkpoint_every=" + c.every);
  ASSERT_EQ(first.code, 0) << first.text;
  ASSERT_GT(latestOf(a).ps, 0) << first.text;
  EXPECT_EQ(latestOf(a).parts, 2u);
  EXPECT_NE(digestOf(a), digest) << "the interrupted run ran to the end: the test proves nothing";

  const CommandOutput threads = wafersim("run --resume " + a.string() + " --out " + b.string() +
                                         " --set simulation.end=never --set simulation.checkpoint_every=0"
                                         " --set simulation.partitions=" + std::to_string(c.partitions));
  ASSERT_EQ(threads.code, 0) << threads.text;
  EXPECT_THAT(threads.text, HasSubstr("resuming from"));
  EXPECT_EQ(digestOf(b), digest) << threads.text;
  // The figures come from the restored statistics and the replayed plan: latencies, tokens,
  // energy, the online placement decisions, as uninterrupted.
  const nlohmann::json resumed = nlohmann::json::parse(std::ifstream(b / "summary.json"));
  EXPECT_EQ(resumed.value("events", 0), expected.value("events", 0));
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(b / "results.json")),
            nlohmann::json::parse(std::ifstream(reference / "results.json")));
  EXPECT_EQ(resumed.value("serving", nlohmann::json()), expected.value("serving", nlohmann::json()));
  EXPECT_EQ(resumed.value("energy", nlohmann::json()), expected.value("energy", nlohmann::json()));
  if (std::filesystem::exists(reference / "placement_log.json"))
    EXPECT_EQ(nlohmann::json::parse(std::ifstream(b / "placement_log.json")),
              nlohmann::json::parse(std::ifstream(reference / "placement_log.json")));

  if (c.nodes == 0) return;
  const CommandOutput nodes = wafersim("run --resume " + a.string() + " --nodes " + std::to_string(c.nodes) +
                                       " --out " + d.string() + " --set simulation.end=never"
                                       " --set simulation.checkpoint_every=0");
  ASSERT_EQ(nodes.code, 0) << nodes.text;
  EXPECT_EQ(digestOf(d), digest) << nodes.text;
}

INSTANTIATE_TEST_SUITE_P(
    Models, ModelResume,
    ::testing::Values(ModelCase{"examples/hardware/dojo_all_to_all.yaml", "", "15us", "3us", 3, 2},
                      ModelCase{"examples/quickstart.yaml", "", "300ms", "50ms", 3, 2},
                      ModelCase{"examples/placement/online_eplb.yaml",
                                  "--set params.workload.count=16 --set params.workload.output_tokens=8"
                                  " --set params.mapping.epoch=500us",
                                  "9ms", "2ms", 1, 2},
                      ModelCase{"examples/serving/mozart_training.yaml",
                                  "--set params.training.steps=1 --set params.model.layers=2"
                                  " --set params.training.sequences=16 --set params.training.micro_batches=2",
                                  "40ms", "10ms", 1, 0}),
    [](const ::testing::TestParamInfo<ModelCase>& info) {
      const std::string name = std::filesystem::path(info.param.scenario).stem().string();
      std::string out;
      for (char ch : name) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return out;
    });

}  // namespace
}  // namespace wafersim::testing
