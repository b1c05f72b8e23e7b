// A run's stop token (sim/partition.h PartitionOptions::stop): a cancelled run stops within a few
// thousand events, on one partition or many, and its progress is visible while it runs.
#include <atomic>
#include <chrono>
#include <stop_token>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/model_catalog.h"
#include "sim/error.h"
#include "sim/simulation.h"

namespace wafersim {
namespace {

SystemGraph pholdForever(uint32_t lps) {
  ModelCatalog catalog;
  registerBuiltinModels(catalog);
  return catalog.build("phold", Params{{"lps", std::to_string(lps)}}, "test");
}

void expectStopsPromptly(uint32_t partitions) {
  const SystemGraph graph = pholdForever(64);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  std::stop_source stop;
  RunProgress progress;
  RunOptions options;  // end: never (PHOLD never runs dry)
  options.stop = stop.get_token();
  options.progress = &progress;
  std::atomic<std::chrono::steady_clock::rep> stoppedAt{0};
  std::thread canceller([&] {
    while (progress.events.load() < 200'000) std::this_thread::yield();  // it runs: progress shows it
    stoppedAt = std::chrono::steady_clock::now().time_since_epoch().count();
    stop.request_stop();
  });
  try {
    runInProcess(graph, registry, PartitionMap::linear(graph.components().size(), partitions), options);
    ADD_FAILURE() << "a run without an end returned";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("run cancelled"));
  }
  canceller.join();
  // From the request to the return (not from the start: a sanitized build takes long to get there).
  const auto requested = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(stoppedAt.load()));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - requested).count(), 30.0);
  EXPECT_GE(progress.events.load(), 200'000u);
  EXPECT_GT(progress.simulatedPs.load(), 0);
}

TEST(StopToken, StopsAOnePartitionRun) { expectStopsPromptly(1); }
TEST(StopToken, StopsEveryPartitionOfAThreadedRun) { expectStopsPromptly(3); }

TEST(StopToken, ARequestBeforeTheStartStopsAtOnce) {
  const SystemGraph graph = pholdForever(8);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  std::stop_source stop;
  stop.request_stop();
  RunOptions options;
  options.stop = stop.get_token();
  EXPECT_THROW(runInProcess(graph, registry, PartitionMap::single(graph.components().size()), options), Error);
}

// Progress is observation only: the digest with it equals the digest without it.
TEST(StopToken, WatchingProgressDoesNotChangeTheResults) {
  const SystemGraph graph = pholdForever(16);
  ComponentRegistry registry;
  registerBuiltinComponents(registry);
  RunOptions plain;
  plain.end = SimTime::fromPs(2'000'000);
  RunProgress progress;
  RunOptions watched = plain;
  watched.progress = &progress;
  const auto map = PartitionMap::linear(graph.components().size(), 2);
  EXPECT_EQ(runInProcess(graph, registry, map, plain).results.digestHex(),
            runInProcess(graph, registry, map, watched).results.digestHex());
  EXPECT_GT(progress.events.load(), 0u);
}

}  // namespace
}  // namespace wafersim
