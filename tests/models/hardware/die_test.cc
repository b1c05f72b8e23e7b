// Dies as simulated components (models/hardware/die.h, die_program.h, nic.h): closed-form times
// exact to the picosecond, DRAM contention between engines, capacity refusals, energy by category,
// and identical results on 1 to 4 partitions.
//
// Test die: engine "core" 100 TFLOPS fp16 (1 FLOP = 0.01 ps), tile 128 x 128 x 1, 1 fJ per FLOP,
// DRAM at 500 GB/s (1 byte = 2 ps) on the off-stack path, 3.48 pJ/bit, 0.909 nJ per 1 KiB row.
// Duplex-like die: plus engine "pim", 25 TFLOPS, no tiles, logic-die path at 2 TB/s (0.5 ps/byte).
// Network: a line of routers, one die each, 25 GB/s links (1 byte = 40 ps) of 2 ns latency; a
// message between neighbours crosses H = 3 links.
#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/models/hardware/run_everywhere.h"

#include "models/hardware/die_program.h"
#include "models/hardware/topology.h"
#include "models/model_catalog.h"
#include "sim/energy_report.h"
#include "sim/error.h"
#include "sim/simulation.h"

namespace wafersim::hw {
namespace {

constexpr int64_t kL = 2000;
const Bandwidth kLink = parseBandwidth("25 GB/s");

EngineSpec core() {
  EngineSpec e;
  e.name = "core";
  e.compute.name = "core";
  e.compute.peakFp16 = FlopRate{100'000'000'000'000ull};
  e.compute.clockHz = 1'000'000'000;
  e.compute.tile = TileShape{128, 128, 1};
  e.compute.energyPerFlop = Energy{1};
  e.compute.sramCapacity = parseBytes("64 MB");
  e.compute.sramBandwidth = parseBandwidth("100 TB/s");
  e.compute.sramEnergy = EnergyPerBit{100};
  e.path = MemoryPath::OffStack;
  e.dramBandwidth = parseBandwidth("500 GB/s");
  return e;
}

DieSpec testDie(bool withPim = false) {
  DieSpec d;
  d.name = "test die";
  d.engines = {core()};
  if (withPim) {
    EngineSpec p = core();
    p.name = p.compute.name = "pim";
    p.compute.peakFp16 = FlopRate{25'000'000'000'000ull};
    p.compute.tile = TileShape{1, 1, 1};
    p.path = MemoryPath::LogicDie;
    p.dramBandwidth = parseBandwidth("2 TB/s");
    d.engines.push_back(p);
  }
  d.dram.name = "test DRAM";
  d.dram.capacity = parseBytes("80 GB");
  d.dram.bandwidth = parseBandwidth("500 GB/s");
  d.dram.offStack = parseEnergyPerBit("3.48 pJ/bit");
  d.dram.logicDie = EnergyPerBit{1813};
  d.dram.rowActivation = Energy{909'000};
  d.dram.rowBytes = parseBytes("1 KiB");
  return d;
}

DieOp gemm(uint64_t m, uint64_t n, uint64_t k, uint32_t engine = 0, OperandSource source = OperandSource::Dram) {
  DieOp op;
  op.gemm = Gemm{m, n, k, DataType::Fp16};
  op.engine = engine;
  op.source = source;
  return op;
}

// n routers in a line (p0 east, p1 west), die i on router i port p4.
Network line(const std::vector<std::vector<ProgramStep>>& programs, DieSpec spec = testDie(),
             std::vector<std::vector<ResidentData>> resident = {}) {
  const uint32_t n = static_cast<uint32_t>(programs.size());
  NetworkDescription d;
  for (uint32_t i = 0; i < n; ++i) {
    d.routerNames.push_back("router[" + std::to_string(i) + "]");
    d.endpointNames.push_back("die[" + std::to_string(i) + "]");
    d.endpoints.push_back({i, 4, Duration::fromPs(kL), kLink});
    if (i + 1 < n) d.links.push_back({i, i + 1, 0, 1, Duration::fromPs(kL), Duration::fromPs(kL), kLink, kLink});
  }
  d.energyPerBit = parseEnergyPerBit("1 pJ/bit");
  d.endpointType = "hw.Die";
  Network net = buildNetwork(d);
  auto system = std::make_shared<DieSystem>();
  system->specs = {std::move(spec)};
  system->specOf.assign(n, 0);
  system->programs = programs;
  system->resident = std::move(resident);
  system->validate(n, d.endpointNames);
  net.graph.data().put<DieSystem>(kDieSystemDataKey, system);
  return net;
}

uint64_t counter(const Results& r, const std::string& component, const std::string& name) {
  for (const auto& c : r.components())
    if (c.name == component) return c.counters.at(name);
  throw std::runtime_error("no component " + component);
}

// floor(fJ / 1000): what an EnergyMeter counter holds after one add.
uint64_t pj(uint64_t fj) { return fj / 1000; }

TEST(Die, GemmOnAnIdleDieTakesItsRooflineTime) {
  struct Case {
    const char* what;
    DieOp op;
    int64_t expected;
  } cases[] = {
      // 2 * 4096^3 FLOPs at 100 TFLOPS, compute bound, efficiency 1.
      {"square GEMM", gemm(4096, 4096, 4096), 1'374'389'535},
      // GEMV: (4096 + 4096^2 + 4096) * 2 B = 33570816 B at 2 ps per byte, memory bound.
      {"GEMV", gemm(1, 4096, 4096), 67'141'632},
      // M = 8 from SRAM: the 128-row tile runs full, 16x the ideal FLOPs: ceil(2*128*16384^2 / 100).
      {"skinny GEMM from SRAM", gemm(8, 16384, 16384, 0, OperandSource::Sram), 687'194'768},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Results r = runEverywhere(line({{ProgramStep::compute(c.op)}}), 1);
    EXPECT_EQ(counter(r, "die[0]", "program_done_ps"), static_cast<uint64_t>(c.expected));
    EXPECT_EQ(counter(r, "die[0]", "busy_ps_core"), static_cast<uint64_t>(c.expected));
    const OpCost cost = gemmCost(core().compute, c.op.gemm,
                                 c.op.source == OperandSource::Sram ? core().compute.sramBandwidth : core().dramBandwidth);
    EXPECT_EQ(cost.time.ps(), c.expected);
    EXPECT_EQ(counter(r, "die[0]", "energy_compute_pj"), pj(cost.paddedFlops * 1));
    if (c.op.source == OperandSource::Dram) {
      const uint64_t bytes = cost.bytes.value;
      EXPECT_EQ(counter(r, "die[0]", "energy_dram_off_stack_pj"),
                pj(bytes * 8 * 3480 + (bytes + 1023) / 1024 * 909'000));
      EXPECT_EQ(counter(r, "die[0]", "energy_sram_pj"), 0u);
    } else {
      EXPECT_EQ(counter(r, "die[0]", "energy_sram_pj"), pj(cost.bytes.value * 8 * 100));
      EXPECT_EQ(counter(r, "die[0]", "dram_bytes"), 0u);
    }
  }
  // The skinny GEMM's efficiency is the tile's fill: 8 / 128 (up to the rounding of each time).
  const OpCost skinny = gemmCost(core().compute, Gemm{8, 16384, 16384, DataType::Fp16}, core().compute.sramBandwidth);
  EXPECT_NEAR(efficiency(skinny).value(), 1.0 / 16, 1e-9);
}

TEST(Die, OpsOnOneEngineQueueInOrder) {
  StatSet stats;
  DieModel die(testDie(), stats, "die[0]");
  const OpTiming a = die.submit(SimTime::zero(), gemm(4096, 4096, 4096));
  const OpTiming b = die.submit(SimTime::fromPs(5), gemm(1, 4096, 4096));
  EXPECT_EQ(a.start, SimTime::zero());
  EXPECT_EQ(a.end.ps(), 1'374'389'535);
  EXPECT_EQ(b.start, a.end);  // FIFO behind a
  // b's DRAM reservation starts after a's (a reserved 100663296 B at 2 ps), so b ends at its own
  // start plus its memory time.
  EXPECT_EQ(b.end.ps(), a.end.ps() + 67'141'632);
  EXPECT_EQ(stats.counter("ops_core").value(), 2u);
}

TEST(Die, AGemvModeOpReadsItsWeightsFromDramOnceAndTheRestFromSram) {
  // GEMM M = 4, N = K = 1024 fp16 on the whole array in GEMV mode (array_split.h): the weights
  // W = 2,097,152 B stream from the DRAM once with the activations (2 x 4 x 1024 x 2 B): 2,113,536 B,
  // 4,227,072 ps at 2 ps/B; they are written into the SRAM tier and read back by the other 3
  // tokens: 4 W = 8,388,608 B at 100 TB/s, 83,887 ps, overlapped. Compute: 8,388,608 FLOPs, no
  // padding, 83,887 ps at 100 TFLOPS. The op takes the DRAM's 4,227,072 ps.
  StatSet stats;
  DieModel die(testDie(), stats, "die[0]");
  DieOp op = gemm(4, 1024, 1024);
  op.partition = {128, true};
  const OpTiming t = die.submit(SimTime::zero(), op);
  EXPECT_EQ(t.cost.bytes.value, 2'113'536u);
  EXPECT_EQ(t.cost.sramBytes.value, 8'388'608u);
  EXPECT_EQ(t.end.ps(), 4'227'072);
  EXPECT_EQ(stats.counter("dram_bytes").value(), 2'113'536u);
  EXPECT_EQ(stats.counter("sram_bytes").value(), 8'388'608u);
  // Energy by hand. DRAM (off-stack path): 2,113,536 B x 8 x 3480 fJ = 58,840,842,240 fJ, plus
  // 2064 row activations of 1 KiB x 909,000 fJ = 1,876,176,000 fJ: 60,717,018,240 fJ.
  // SRAM: 8,388,608 B x 8 x 100 fJ = 6,710,886,400 fJ. Compute: 8,388,608 FLOPs x 1 fJ.
  EXPECT_EQ(stats.counter("energy_dram_off_stack_pj").value(), 60'717'018u);
  EXPECT_EQ(stats.counter("energy_sram_pj").value(), 6'710'886u);
  EXPECT_EQ(stats.counter("energy_compute_pj").value(), 8'388u);
  // Without an SRAM tier every token streams the weights from the DRAM: 4 W + 16,384 B =
  // 8,404,992 B, 16,809,984 ps, and 8,404,992 x 8 x 3480 + 8208 x 909,000 fJ of DRAM energy.
  DieSpec bare = testDie();
  bare.engines[0].compute.sramBandwidth = Bandwidth{};
  StatSet bareStats;
  DieModel bareDie(bare, bareStats, "die[0]");
  EXPECT_EQ(bareDie.submit(SimTime::zero(), op).end.ps(), 16'809'984);
  EXPECT_EQ(bareStats.counter("dram_bytes").value(), 8'404'992u);
  EXPECT_EQ(bareStats.counter("energy_dram_off_stack_pj").value(), pj(8'404'992ull * 8 * 3480 + 8208ull * 909'000));
  EXPECT_EQ(bareStats.counter("energy_sram_pj").value(), 0u);
}

TEST(Die, DuplexEnginesRunInParallelAndShareTheDram) {
  // GEMV of S = 33570816 B on each engine. Alone: the xPU (500 GB/s) takes 2 S ps, the PIM
  // (2 TB/s) S / 2. Submitted together (xPU first), the DRAM of internal bandwidth 2 TB/s is
  // reserved FIFO: xPU [0, S/2], PIM [S/2, S]. The PIM finishes at S instead of S / 2; the xPU,
  // limited by its own path, still at 2 S; the two overlap, so the program takes 2 S, not 2.5 S.
  constexpr int64_t S = 33'570'816;
  const auto both = line({{ProgramStep::compute(gemm(1, 4096, 4096, 0), false),
                           ProgramStep::compute(gemm(1, 4096, 4096, 1), false), ProgramStep::waitEngines()}},
                         testDie(true));
  const Results r = runEverywhere(both, 1);
  EXPECT_EQ(counter(r, "die[0]", "busy_ps_core"), static_cast<uint64_t>(2 * S));
  EXPECT_EQ(counter(r, "die[0]", "busy_ps_pim"), static_cast<uint64_t>(S));
  EXPECT_EQ(counter(r, "die[0]", "program_done_ps"), static_cast<uint64_t>(2 * S));

  const Results alone = runEverywhere(line({{ProgramStep::compute(gemm(1, 4096, 4096, 1))}}, testDie(true)), 1);
  EXPECT_EQ(counter(alone, "die[0]", "program_done_ps"), static_cast<uint64_t>(S / 2));
  // The logic-die path's energy: 1813 fJ/bit plus the row activations.
  EXPECT_EQ(counter(alone, "die[0]", "energy_dram_logic_die_pj"), pj(S * 8 * 1813 + (S + 1023) / 1024 * 909'000));
  EXPECT_EQ(counter(alone, "die[0]", "energy_dram_off_stack_pj"), 0u);
}

TEST(Die, AMessageAfterComputeArrivesWhenTheFormulaSays) {
  // die[0]: G, then S bytes to die[1]; die[1]: wait for it, then G.
  // done(die[1]) = G + 3 (T(S) + L) + G, store-and-forward over three 25 GB/s links.
  // G: a 512^3 GEMM, memory bound: 3 * 512^2 * 2 B at 2 ps per byte. (Small on purpose: the
  // null-message strategy crosses a long idle gap in steps of the cut links' lookahead.)
  constexpr uint64_t S = 4096;
  constexpr int64_t G = 3 * 512 * 512 * 2 * 2, T = S * 40;
  const DieOp g = gemm(512, 512, 512);
  const Results r = runEverywhere(line({{ProgramStep::compute(g), ProgramStep::send(1, Bytes{S})},
                                        {ProgramStep::waitMessages(1), ProgramStep::compute(g)}}));
  EXPECT_EQ(counter(r, "die[1]", "program_done_ps"), static_cast<uint64_t>(G + 3 * (T + kL) + G));
  EXPECT_EQ(counter(r, "die[0]", "program_done_ps"), static_cast<uint64_t>(G));
  EXPECT_EQ(counter(r, "die[1]", "messages_received"), 1u);
  EXPECT_EQ(counter(r, "die[0]", "energy_link_pj"), pj(S * 8 * 1000));  // 1 pJ/bit on its injection link
}

TEST(Die, WaitsCountMessagesByTag) {
  // die[0] sends a big tag-1 message, then a small tag-2 one; die[1] waits for tag 2, then tag 1,
  // then computes.
  constexpr uint64_t S = 8192, s = 64;
  constexpr int64_t T = 40;  // ps per byte at 25 GB/s
  const DieOp tiny = gemm(1, 1, 1);
  const int64_t g = gemmCost(core().compute, tiny.gemm, core().dramBandwidth).time.ps();
  const Results r = runEverywhere(line({{ProgramStep::send(1, Bytes{S}, 1), ProgramStep::send(1, Bytes{s}, 2)},
                                        {ProgramStep::waitMessages(1, 2), ProgramStep::waitMessages(1, 1),
                                         ProgramStep::compute(tiny)}}));
  // The big one lands at 3 (T S + L); the small one waits behind it on every link and lands T s
  // later. die[1] waited for tag 2 first, then found tag 1 complete.
  const int64_t arrivalSmall = 3 * (T * S + kL) + T * s;
  EXPECT_EQ(counter(r, "die[1]", "program_done_ps"), static_cast<uint64_t>(arrivalSmall + g));
}

TEST(Die, ExchangesAcrossManyDiesAreIdenticalOnOneToFourPartitions) {
  // 6 dies: a GEMM of a size that differs per die, an all-to-all of uneven messages, a second
  // GEMM, a ring exchange; everything contends on the line's links.
  const uint32_t n = 6;
  std::vector<std::vector<ProgramStep>> programs(n);
  for (uint32_t i = 0; i < n; ++i) {
    auto& p = programs[i];
    p.push_back(ProgramStep::compute(gemm(64 * (i + 1), 512, 256)));
    for (uint32_t j = 0; j < n; ++j)
      if (j != i) p.push_back(ProgramStep::send(j, Bytes{1000 + 97 * i + 13 * j}));
    p.push_back(ProgramStep::waitMessages(n - 1));
    p.push_back(ProgramStep::compute(gemm(1, 512, 256 * (i % 3 + 1))));
    p.push_back(ProgramStep::send((i + 1) % n, Bytes{8192}));
    p.push_back(ProgramStep::waitMessages(n));
  }
  const Results r = runEverywhere(line(programs));
  for (uint32_t i = 0; i < n; ++i) {
    const std::string die = "die[" + std::to_string(i) + "]";
    EXPECT_EQ(counter(r, die, "messages_received"), n) << die;
    EXPECT_GT(counter(r, die, "program_done_ps"), 0u) << die;
  }
  const EnergyReport energy = energyReport(r);
  EXPECT_THAT(energy.byCategoryPj, ::testing::Contains(::testing::Key("compute")));
  EXPECT_THAT(energy.byCategoryPj, ::testing::Contains(::testing::Key("dram_off_stack")));
  EXPECT_THAT(energy.byCategoryPj, ::testing::Contains(::testing::Key("link")));
}

TEST(Die, ResidentDataThatDoesNotFitIsRefusedNamingDieItemAndBytes) {
  const std::vector<std::vector<ResidentData>> resident = {
      {{"expert weights", parseBytes("60 GB")}},
      {{"expert weights", parseBytes("60 GB")}, {"KV cache", parseBytes("21 GB")}}};
  try {
    line({{}, {}}, testDie(), resident);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("die[1]"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("KV cache"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("21000000000 B"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("80000000000 B"));
  }
  EXPECT_NO_THROW(line({{}, {}}, testDie(), {{{"expert weights", parseBytes("80 GB")}}, {}}));
}

TEST(Die, ProgramErrorsNameTheDieAndTheStep) {
  auto refused = [](std::vector<std::vector<ProgramStep>> programs) {
    try {
      line(programs);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(refused({{ProgramStep::compute(gemm(8, 8, 8, 1))}}), ::testing::HasSubstr("die[0] step 0: engine 1"));
  EXPECT_THAT(refused({{}, {ProgramStep::send(1, Bytes{8})}}), ::testing::HasSubstr("die[1] step 0: bad destination"));
  EXPECT_THAT(refused({{ProgramStep::send(1, Bytes{0})}, {}}), ::testing::HasSubstr("empty message"));
}

TEST(Die, EnergyReportChargesStaticPowerOverTheRun) {
  DieSpec spec = testDie();
  spec.staticPowerMicrowatts = 2'000'000;  // 2 W = 2 pJ per ps
  const Results r = runEverywhere(line({{ProgramStep::compute(gemm(512, 512, 512))}, {}}, spec), 2);
  const EnergyReport e = energyReport(r);
  const uint64_t simulated = static_cast<uint64_t>(r.simulatedTime().ps());
  EXPECT_EQ(simulated, 3u * 512 * 512 * 2 * 2);
  EXPECT_EQ(e.byComponentPj.at("die[0]").at("static"), 2 * simulated);
  EXPECT_EQ(e.byComponentPj.at("die[1]").at("static"), 2 * simulated);
  EXPECT_EQ(e.byCategoryPj.at("static"), 4 * simulated);
  uint64_t sum = 0;
  for (const auto& [category, v] : e.byCategoryPj) sum += v;
  EXPECT_EQ(e.totalPj, sum);
  const auto json = r.toJson();
  EXPECT_TRUE(json.contains("energy"));
  EXPECT_DOUBLE_EQ(json["energy"]["by_category_j"]["static"].get<double>(), 4e-12 * simulated);
}

}  // namespace
}  // namespace wafersim::hw
