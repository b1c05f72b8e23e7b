// Scenario files (coordinator/scenario.h): every error names the file, the line and the field
// path; --set overrides apply before checking; a valid scenario builds through the ModelCatalog and
// runs.
#include "scenario/scenario.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/model_catalog.h"
#include "models/synthetic/phold.h"
#include "sim/error.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The Error{InvalidConfig} message parseScenario throws for `text`, or a test failure.
std::string parseError(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parseScenario(text, "s.yaml", overrides);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

constexpr const char* kFull = R"(# a comment
model: phold
params:
  lps: 16
  lookahead: 200 ps
  remote: 0.5
simulation:
  partitions: 3
  partitioner: round-robin
  sync: null-message
  lookahead: links
  end: 50 ns
  seed: 42
  checker: true
  digest: false
)";

TEST(ScenarioTest, ParsesEveryField) {
  const Scenario s = parseScenario(kFull, "full.yaml");
  EXPECT_EQ(s.source, "full.yaml");
  EXPECT_EQ(s.model, "phold");
  EXPECT_EQ(s.modelParams.text("lps"), "16");
  EXPECT_EQ(s.modelParams.text("lookahead"), "200 ps");
  EXPECT_EQ(s.modelParams.text("remote"), "0.5");
  EXPECT_EQ(s.partitions, 3u);
  EXPECT_EQ(s.partitioner, "round-robin");
  EXPECT_EQ(s.run.sync, SyncKind::NullMessage);
  EXPECT_EQ(s.run.lookahead, LookaheadMode::Links);
  EXPECT_EQ(s.run.end, SimTime::fromPs(50'000));
  EXPECT_EQ(s.run.seed, 42u);
  EXPECT_TRUE(s.run.checker);
  EXPECT_FALSE(s.run.digest);
}

TEST(ScenarioTest, Defaults) {
  const Scenario s = parseScenario("model: message_mesh\n", "m.yaml");
  EXPECT_EQ(s.model, "message_mesh");
  EXPECT_TRUE(s.modelParams.values().empty());
  EXPECT_EQ(s.partitions, 1u);
  EXPECT_EQ(s.run.sync, SyncKind::Window);
  EXPECT_EQ(s.run.lookahead, LookaheadMode::Model);
  EXPECT_TRUE(s.run.end.isNever());
  EXPECT_EQ(s.run.seed, 1u);
  EXPECT_FALSE(s.run.checker);
  EXPECT_TRUE(s.run.digest);
  EXPECT_TRUE(parseScenario("model: phold\nsimulation:\n  end: never\n", "n.yaml").run.end.isNever());
  EXPECT_EQ(parseScenario("model: phold\nsimulation:\n  sync: null-message\n", "n.yaml").run.sync,
            SyncKind::NullMessage);
}

TEST(ScenarioTest, BareNullSelectsTheNullMessageStrategy) {
  // scenario.h documents "sync: window | null", but YAML reads a bare `null` as a null node rather
  // than the word; the scenario must still mean the null-message strategy.
  const Scenario s = parseScenario("model: phold\nsimulation:\n  sync: null\n", "n.yaml");
  EXPECT_EQ(s.run.sync, SyncKind::NullMessage);
  EXPECT_EQ(parseScenario("model: phold\n", "n.yaml", {"simulation.sync=null"}).run.sync, SyncKind::NullMessage);
}

TEST(ScenarioTest, UnknownTopLevelKey) {
  const std::string m = parseError("model: phold\n\nmodle: phold\n");
  EXPECT_THAT(m, StartsWith("s.yaml:3: modle: unknown key"));
  EXPECT_THAT(m, HasSubstr("(known: model, params, simulation)"));
}

TEST(ScenarioTest, UnknownSimulationKey) {
  const std::string m = parseError("model: phold\nsimulation:\n  partitions: 2\n  speed: fast\n");
  EXPECT_THAT(m, StartsWith("s.yaml:4: simulation.speed: unknown key"));
  EXPECT_THAT(m, HasSubstr("(known: checker, checkpoint_every, checkpoint_every_wall, digest, end, lookahead, "));
  EXPECT_THAT(m, HasSubstr(", seed, sync)"));
}

TEST(ScenarioTest, BadSyncName) {
  const std::string m = parseError("model: phold\nsimulation:\n  partitions: 2\n  sync: optimistic\n");
  EXPECT_THAT(m, StartsWith("s.yaml:4: simulation.sync: "));
  EXPECT_THAT(m, HasSubstr("unknown synchronization strategy \"optimistic\" (known: window, null)"));
}

TEST(ScenarioTest, BadLookaheadAndPartitioner) {
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  lookahead: psychic\n"),
              StartsWith("s.yaml:3: simulation.lookahead: unknown lookahead mode \"psychic\""));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n\n  partitioner: dartboard\n"),
              StartsWith("s.yaml:4: simulation.partitioner: unknown partitioner \"dartboard\""));
}

TEST(ScenarioTest, BadDuration) {
  std::string m = parseError("model: phold\nsimulation:\n  end: 10 parsecs\n");
  EXPECT_THAT(m, StartsWith("s.yaml:3: simulation.end: "));
  EXPECT_THAT(m, HasSubstr("bad duration \"10 parsecs\": unknown unit \"parsecs\""));
  m = parseError("model: phold\nsimulation:\n  seed: 3\n  end: 1000\n");
  EXPECT_THAT(m, StartsWith("s.yaml:4: simulation.end: "));
  EXPECT_THAT(m, HasSubstr("missing unit"));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  end: 0.5 ps\n"), HasSubstr("finer than one picosecond"));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  end: 0 ns\n"),
              StartsWith("s.yaml:3: simulation.end: must be positive, got 0 ns"));
}

TEST(ScenarioTest, PartitionsOutOfRange) {
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  partitions: 0\n"),
              StartsWith("s.yaml:3: simulation.partitions: must be between 1 and 4096, got 0"));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  partitions: 5000\n"),
              StartsWith("s.yaml:3: simulation.partitions: must be between 1 and 4096, got 5000"));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  partitions: -2\n"),
              StartsWith("s.yaml:3: simulation.partitions: must be between 1 and 4096"));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  partitions: two\n"),
              StartsWith("s.yaml:3: simulation.partitions: "));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  partitions: two\n"), HasSubstr("expected an integer"));
}

TEST(ScenarioTest, OtherBadValues) {
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  seed: -1\n"),
              StartsWith("s.yaml:3: simulation.seed: must be a non-negative integer, got -1"));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  checker: maybe\n"),
              StartsWith("s.yaml:3: simulation.checker: "));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  partitions: [1, 2]\n"),
              StartsWith("s.yaml:3: simulation.partitions: expected a single value"));
  EXPECT_THAT(parseError("model: phold\nparams:\n  lps:\n    - 1\n"), StartsWith("s.yaml:4: params.lps: expected a single value"));
  EXPECT_THAT(parseError("model: phold\nparams: 12\n"), StartsWith("s.yaml:2: params: expected a mapping"));
  EXPECT_THAT(parseError("model: phold\nsimulation: fast\n"), StartsWith("s.yaml:2: simulation: expected a mapping"));
  EXPECT_THAT(parseError("model: [a, b]\n"), StartsWith("s.yaml:1: model: expected a single value"));
}

TEST(ScenarioTest, CheckpointInterval) {
  EXPECT_EQ(parseScenario("model: phold\nsimulation:\n  checkpoint_every: 100 us\n", "s.yaml").run.checkpoint.every,
            Duration::fromPs(100'000'000));
  EXPECT_EQ(parseScenario("model: phold\n", "s.yaml", {"simulation.checkpoint_every=0"}).run.checkpoint.every,
            Duration::zero());
  EXPECT_EQ(parseScenario("model: phold\n", "s.yaml").run.checkpoint.every, Duration::zero());
  EXPECT_EQ(parseScenario("model: phold\n", "s.yaml", {"simulation.checkpoint_every_wall=60 s"})
                .run.checkpoint.everyWallSeconds,
            60.0);
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  checkpoint_every_wall: soon\n"),
              StartsWith("s.yaml:3: simulation.checkpoint_every_wall: "));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  checkpoint_every: often\n"),
              StartsWith("s.yaml:3: simulation.checkpoint_every: "));
  EXPECT_THAT(parseError("model: phold\nsimulation:\n  checkpoint_every: -5 us\n"),
              StartsWith("s.yaml:3: simulation.checkpoint_every: "));
}

TEST(ScenarioTest, DocumentLevelErrors) {
  EXPECT_THAT(parseError("params:\n  lps: 4\n"), StartsWith("s.yaml: model: missing"));
  EXPECT_THAT(parseError(""), StartsWith("s.yaml: empty scenario"));
  EXPECT_THAT(parseError("- a\n- b\n"), HasSubstr("s.yaml:1: (document): expected a mapping"));
  EXPECT_THAT(parseError("model: phold\nsimulation: {partitions: 2\n"), StartsWith("s.yaml:"));
  EXPECT_THAT(parseError("model: phold\nsimulation: {partitions: 2\n"), HasSubstr("not valid YAML"));
}

TEST(ScenarioTest, OverridesApplyBeforeChecking) {
  const Scenario s = parseScenario(kFull, "full.yaml",
                                   {"simulation.partitions=4", "params.lps=8", "simulation.sync=window",
                                    "params.mean=1 ns"});
  EXPECT_EQ(s.partitions, 4u);
  EXPECT_EQ(s.run.sync, SyncKind::Window);
  EXPECT_EQ(s.modelParams.text("lps"), "8");
  EXPECT_EQ(s.modelParams.text("mean"), "1 ns");
  EXPECT_EQ(s.modelParams.text("remote"), "0.5");  // untouched
  EXPECT_EQ(s.run.seed, 42u);
  // A section the file does not have is created.
  const Scenario t = parseScenario("model: phold\n", "m.yaml", {"simulation.end=2 us", "params.lps=4", "model=relay_grid"});
  EXPECT_EQ(t.run.end, SimTime::fromPs(2'000'000));
  EXPECT_EQ(t.modelParams.text("lps"), "4");
  EXPECT_EQ(t.model, "relay_grid");
  // A value with '=' in it keeps everything after the first one.
  EXPECT_EQ(parseScenario("model: phold\n", "m.yaml", {"params.label=a=b"}).modelParams.text("label"), "a=b");
}

TEST(ScenarioTest, OverridesAreCheckedLikeTheFile) {
  EXPECT_THAT(parseError(kFull, {"simulation.partitions=0"}),
              HasSubstr("simulation.partitions: must be between 1 and 4096, got 0"));
  EXPECT_THAT(parseError(kFull, {"simulation.sync=fast"}), HasSubstr("simulation.sync: unknown synchronization strategy"));
  EXPECT_THAT(parseError(kFull, {"simulation.colour=red"}), HasSubstr("simulation.colour: unknown key"));
  EXPECT_THAT(parseError(kFull, {"partitions=2"}), HasSubstr("partitions: unknown key"));
  EXPECT_THAT(parseError(kFull, {"simulation.partitions"}), HasSubstr("expected key.path=value"));
  EXPECT_THAT(parseError(kFull, {"=3"}), HasSubstr("expected key.path=value"));
  EXPECT_THAT(parseError(kFull, {"simulation..seed=3"}), HasSubstr("empty key in the path"));
  EXPECT_THAT(parseError(kFull, {"model.name=x"}), HasSubstr("model is not a mapping"));
  // Every error from the file itself names the file too.
  EXPECT_THAT(parseError(kFull, {"simulation.partitions=0"}), StartsWith("s.yaml"));
}

TEST(ScenarioTest, LoadScenarioReadsAFile) {
  const Scenario s = loadScenario(std::string(WAFERSIM_SOURCE_DIR) + "/examples/phold.yaml");
  EXPECT_EQ(s.model, "phold");
  EXPECT_EQ(s.modelParams.text("lps"), "2048");
  EXPECT_EQ(s.partitions, 2u);
  EXPECT_EQ(s.run.end, SimTime::fromPs(2'000'000));
  try {
    loadScenario("/nonexistent/x.yaml");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/x.yaml: cannot open the scenario file"));
  }
}

// Files a scenario names resolve against the scenario's folder; files given with --set stay
// relative to the working directory, as a shell user typed them.
TEST(ScenarioTest, PathParametersResolveAgainstTheScenarioFolder) {
  const std::string text = "model: moe_serving\nparams:\n  routing: {kind: trace, trace_file: traces/a.json}\n";
  const Scenario s = parseScenario(text, "studies/x/decode.yaml");
  EXPECT_EQ(s.modelParams.baseDir(), "studies/x");
  const std::vector<ParamSpec> specs{{"routing.trace_file", ParamType::Path, "", "", {}, {}},
                                     {"routing.kind", ParamType::Text, "", "", {}, {}}};
  EXPECT_EQ(resolveParams(s.modelParams, specs, "p").text("routing.trace_file"), "studies/x/traces/a.json");
  const Scenario o = parseScenario(text, "studies/x/decode.yaml", {"params.routing.trace_file=mine.json"});
  EXPECT_EQ(resolveParams(o.modelParams, specs, "p").text("routing.trace_file"), "mine.json");
  const Scenario absolute = parseScenario(
      "model: moe_serving\nparams:\n  routing: {kind: trace, trace_file: /data/a.json}\n", "studies/x/decode.yaml");
  EXPECT_EQ(resolveParams(absolute.modelParams, specs, "p").text("routing.trace_file"), "/data/a.json");
  const Scenario bare = parseScenario(text, "decode.yaml");  // no folder: the working directory
  EXPECT_EQ(resolveParams(bare.modelParams, specs, "p").text("routing.trace_file"), "traces/a.json");
}

TEST(ScenarioTest, AValidScenarioBuildsAndRuns) {
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  const Scenario s = parseScenario(kFull, "full.yaml", {"simulation.checker=true", "simulation.digest=true"});
  const SystemGraph g = catalog.build(s.model, s.modelParams, s.source + ": params");
  ASSERT_EQ(g.components().size(), 16u);
  EXPECT_EQ(g.fabrics().at(0).latency, Duration::fromPs(200));
  const PartitionMap map = s.partitioner == "round-robin" ? PartitionMap::roundRobin(16, s.partitions)
                                                          : PartitionMap::linear(16, s.partitions);
  const RunReport r = runInProcess(g, registry, map, s.run);
  EXPECT_GT(r.events(), 100u);
  EXPECT_LT(r.results.simulatedTime(), SimTime::fromPs(50'000));

  // The same system built by hand, run on one partition, gives the same digest.
  synthetic::PholdConfig c;
  c.lps = 16;
  c.lookahead = Duration::fromPs(200);
  c.remote = 0.5;
  RunOptions one = s.run;
  one.sync = SyncKind::Window;
  const RunReport direct = runInProcess(synthetic::buildPhold(c), registry, PartitionMap::single(16), one);
  EXPECT_EQ(direct.results.digest(), r.results.digest());

  // The quick start scenario also builds (not run: it is sized for a benchmark).
  const Scenario q = loadScenario(std::string(WAFERSIM_SOURCE_DIR) + "/examples/phold.yaml");
  const SystemGraph qg = catalog.build(q.model, q.modelParams, q.source + ": params");
  EXPECT_EQ(qg.components().size(), 2048u);
  EXPECT_NO_THROW(qg.validate(registry));
  EXPECT_NO_THROW(validatePartitioning(qg, PartitionMap::linear(2048, q.partitions)));
}

}  // namespace
}  // namespace wafersim
