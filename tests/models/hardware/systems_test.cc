// Named hardware systems and die presets (models/hardware/systems.h, presets.h, collective.h):
// every preset builds with its published values, runs, and gives identical results on 1 to 4
// partitions; closed-form checks on the NVLink box; errors name the parameter.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/hardware/collective.h"
#include "models/hardware/presets.h"
#include "models/hardware/systems.h"
#include "models/model_catalog.h"
#include "sim/energy_report.h"
#include "sim/error.h"
#include "sim/simulation.h"

namespace wafersim {
namespace {

using hw::parseBandwidth;

class SystemsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registerBuiltinComponents(registry_);
    registerBuiltinModels(catalog_);
  }

  SystemGraph build(const Params& params) { return catalog_.build("die_collective", params, "test: params"); }

  Results run(const SystemGraph& g, uint32_t partitions, SyncKind sync = SyncKind::Window) {
    RunOptions o;
    o.sync = sync;
    o.checker = true;
    return runInProcess(g, registry_, PartitionMap::linear(g.components().size(), partitions), o).results;
  }

  static uint64_t counter(const Results& r, const std::string& component, const std::string& name) {
    for (const auto& c : r.components())
      if (c.name == component) return c.counters.at(name);
    throw std::runtime_error("no component " + component);
  }

  ComponentRegistry registry_;
  ModelCatalog catalog_;
};

TEST_F(SystemsTest, EveryPresetBuildsAndRuns) {
  struct Expect {
    const char* system;
    size_t dies;
  };
  for (const Expect& e : {Expect{"dojo", 25}, Expect{"tsmc-sow", 24}, Expect{"dojo-enhanced", 25},
                          Expect{"hd-moe-compute-rich", 16}, Expect{"hd-moe-balanced", 16},
                          Expect{"hd-moe-link-rich", 16}, Expect{"gpu-box", 8}, Expect{"duplex-box", 8},
                          Expect{"mozart", 17}}) {
    SCOPED_TRACE(e.system);
    const SystemGraph g = build({{"system", e.system}, {"bytes", "4 KiB"}, {"gemm_m", "16"}, {"gemm_n", "256"},
                                 {"gemm_k", "256"}});
    size_t dies = 0;
    for (const auto& c : g.components()) dies += c.type == "hw.Die";
    EXPECT_EQ(dies, e.dies);
    const Results r = run(g, 2);
    const EnergyReport energy = energyReport(r);
    EXPECT_GT(energy.byCategoryPj.at("compute"), 0u);
    EXPECT_GT(energy.byCategoryPj.at("link"), 0u);
    uint64_t received = 0;
    for (const auto& c : r.components())
      if (c.type == "hw.Die") received += c.counters.at("messages_received");
    EXPECT_EQ(received, e.dies * (e.dies - 1));  // all-to-all
  }
}

TEST_F(SystemsTest, DieCountsFollowTheGridParameters) {
  const SystemGraph g = build({{"system", "hd-moe-balanced"}, {"x", "8"}, {"y", "4"}});
  size_t dies = 0;
  for (const auto& c : g.components()) dies += c.type == "hw.Die";
  EXPECT_EQ(dies, 32u);
}

TEST_F(SystemsTest, MultiDieCollectivesAreIdenticalOnOneToFourPartitions) {
  for (const char* pattern : {"all_to_all", "ring", "scatter"}) {
    SCOPED_TRACE(pattern);
    const SystemGraph g = build({{"system", "tsmc-sow"}, {"pattern", pattern}, {"bytes", "20000 B"}, {"rounds", "2"},
                                 {"gemm_m", "8"}, {"gemm_n", "1024"}, {"gemm_k", "512"}, {"chunk", "1000 B"}});
    const std::string digest = run(g, 1).digestHex();
    for (uint32_t parts : {2u, 3u, 4u})
      for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage})
        EXPECT_EQ(run(g, parts, sync).digestHex(), digest) << parts << " partitions " << toString(sync);
  }
}

TEST_F(SystemsTest, NvlinkBoxRingIsClosedForm) {
  // Store-and-forward ring on 8 GPUs: each message crosses its sender's link into the switch and
  // its receiver's link out, each port carries exactly one message: 2 (T(S) + 400 ns).
  const uint64_t S = 1'000'000;
  const SystemGraph g = build({{"system", "gpu-box"}, {"pattern", "ring"}, {"bytes", std::to_string(S) + " B"},
                               {"mode", "store_and_forward"}});
  const Results r = run(g, 2);
  const int64_t T = parseBandwidth("450 GB/s").transferTime(hw::Bytes{S}).ps();
  EXPECT_EQ(T, 2'222'223);  // ceil(1e6 / 450e9 s)
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(counter(r, "gpu[" + std::to_string(i) + "]", "program_done_ps"),
              static_cast<uint64_t>(2 * (T + 400'000)));
}

TEST_F(SystemsTest, DuplexPimRunsTheGemvFasterThanTheXpu) {
  // A decode GEMV (M = 1, 7168 x 2048 fp16) is memory bound: the Logic-PIM streams at 4x.
  auto done = [&](const char* engine) {
    const SystemGraph g = build({{"system", "duplex-box"}, {"pattern", "ring"}, {"bytes", "1 B"}, {"gemm_m", "1"},
                                 {"gemm_n", "2048"}, {"gemm_k", "7168"}, {"engine", engine}});
    return counter(run(g, 1), "gpu[0]", "busy_ps_" + std::string(engine));
  };
  const uint64_t bytes = (7168ull + 7168ull * 2048 + 2048) * 2;
  EXPECT_EQ(done("xpu"), static_cast<uint64_t>(parseBandwidth("3.35 TB/s").transferTime(hw::Bytes{bytes}).ps()));
  EXPECT_EQ(done("pim"), static_cast<uint64_t>(parseBandwidth("13.4 TB/s").transferTime(hw::Bytes{bytes}).ps()));
}

TEST_F(SystemsTest, PresetsCarryThePublishedValues) {
  for (const hw::WaferPreset& w : {hw::dojoWafer(), hw::tsmcSowWafer()}) {
    SCOPED_TRACE(w.name);
    const hw::DieSpec& d = w.die;
    d.validate();
    EXPECT_EQ(d.engines[0].compute.peakFp16.flopsPerSecond, 989'000'000'000'000u);
    EXPECT_EQ(d.dram.capacity.value, 80'000'000'000u);
    EXPECT_EQ(d.dram.bandwidth.bytesPerSecond, 3'350'000'000'000u);
    EXPECT_EQ(w.dieToDie.bytesPerSecond, 1'700'000'000'000u);
  }
  EXPECT_EQ(hw::dojoWafer().x * hw::dojoWafer().y, 25u);
  EXPECT_EQ(hw::tsmcSowWafer().x, 3u);
  EXPECT_EQ(hw::tsmcSowWafer().y, 8u);
  const hw::WaferPreset enhanced = hw::dojoEnhancedWafer();
  EXPECT_EQ(enhanced.die.engines[0].compute.peakFp16.flopsPerSecond, 4'500'000'000'000'000u);
  EXPECT_EQ(enhanced.die.dram.capacity.value, 180'000'000'000u);
  EXPECT_EQ(enhanced.die.engines[0].dramBandwidth.bytesPerSecond, 8'000'000'000'000u);
  EXPECT_EQ(enhanced.dieToDie.bytesPerSecond, 2'000'000'000'000u);

  const hw::DieSpec duplex = hw::duplexDevice();
  duplex.validate();
  ASSERT_EQ(duplex.engines.size(), 2u);
  const hw::EngineSpec& pim = duplex.engines[duplex.engineIndex("pim")];
  EXPECT_EQ(pim.dramBandwidth.bytesPerSecond, 4 * 3'350'000'000'000u);
  EXPECT_EQ(pim.compute.peakFp16.flopsPerSecond, 8 * pim.dramBandwidth.bytesPerSecond);  // Op/B = 8
  EXPECT_EQ(pim.path, hw::MemoryPath::LogicDie);
  EXPECT_EQ(duplex.dram.offStack.fjPerBit, 3480u);
  EXPECT_EQ(duplex.dram.logicDie.fjPerBit, 1813u);
  EXPECT_EQ(duplex.dram.inBank.fjPerBit, 730u);
  EXPECT_EQ(duplex.engines[0].compute.energyPerFlop.fj, 230u);

  const hw::DieSpec nmp = hw::hdMoeNodeDie(hw::HdMoeConfig::LinkRich);
  EXPECT_EQ(nmp.engines[0].path, hw::MemoryPath::LogicDie);
  EXPECT_EQ(nmp.engines[0].dramBandwidth.bytesPerSecond, 625'000'000'000u);
  const hw::DieSpec stack = hw::a3dMoeStack();
  stack.validate();
  EXPECT_EQ(stack.engines[0].path, hw::MemoryPath::LogicDie);
  for (const std::string& name : hw::diePresetNames()) EXPECT_NO_THROW(hw::diePreset(name).validate()) << name;
}

TEST_F(SystemsTest, FailedDiesAreMaskedOut) {
  // Dojo 5x5 with dies 7 and 12 (the centre) failed: the 23 others run the all-to-all around them.
  const SystemGraph g = build({{"system", "dojo"}, {"failed_dies", "7, 12"}, {"routing", "shortest_path"},
                               {"bytes", "4 KiB"}});
  const Results r = run(g, 2);
  uint64_t received = 0;
  for (const auto& c : r.components()) {
    if (c.type != "hw.Die") continue;
    const bool dead = c.name == "endpoint[2,1]" || c.name == "endpoint[2,2]";
    EXPECT_EQ(c.counters.at("messages_received"), dead ? 0u : 22u) << c.name;
    received += c.counters.at("messages_received");
  }
  EXPECT_EQ(received, 23u * 22);
  EXPECT_EQ(counter(r, "router[2,2]", "chunks_forwarded"), 0u);
  EXPECT_THROW(build({{"system", "dojo"}, {"failed_dies", "12"}}), Error);  // XY cannot avoid the hole
  EXPECT_THROW(build({{"system", "dojo"}, {"failed_dies", "25"}}), Error);
}

TEST_F(SystemsTest, AFailedChipletOfTheNopTreeLeavesItsSwitchWorking) {
  // Mozart's tree with the root's attention chiplet masked out: the root is a switch of its own,
  // so the 16 expert chiplets still reach each other through it.
  const SystemGraph g = build({{"system", "mozart"}, {"failed_dies", "0"}, {"bytes", "4 KiB"}});
  const Results r = run(g, 2);
  for (const auto& c : r.components()) {
    if (c.type == "hw.Die") EXPECT_EQ(c.counters.at("messages_received"), c.name == "attention" ? 0u : 15u) << c.name;
  }
  EXPECT_GT(counter(r, "root", "chunks_forwarded"), 0u);
}

TEST_F(SystemsTest, BadParametersAreNamed) {
  auto error = [&](const Params& p) {
    try {
      build(p);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error({{"system", "dojo9"}}), ::testing::HasSubstr("unknown system \"dojo9\""));
  EXPECT_THAT(error({{"die", "h200"}}), ::testing::HasSubstr("unknown die preset \"h200\""));
  EXPECT_THAT(error({{"link_bandwidth", "fast"}}), ::testing::HasSubstr("fast"));
  EXPECT_THAT(error({{"system", "file"}}), ::testing::HasSubstr("network_file"));
  EXPECT_THAT(error({{"pattern", "broadcast"}}), ::testing::HasSubstr("unknown pattern \"broadcast\""));
  EXPECT_THAT(error({{"engine", "pim"}}), ::testing::HasSubstr("no engine \"pim\""));
  EXPECT_THAT(error({{"routing", "zigzag"}}), ::testing::HasSubstr("routing"));
  EXPECT_THAT(error({{"bytes", "0 B"}}), ::testing::HasSubstr("bytes"));
  EXPECT_THAT(error({{"failed_dies", "3, x"}}), ::testing::HasSubstr("failed_dies: \"x\" is not a die index"));
}

}  // namespace
}  // namespace wafersim
