// The memory model (models/hardware/memory.h) and the presets (models/hardware/presets.h):
// capacity enforcement with the component, the item and the byte counts named; access energy per
// path exact in femtojoules: S * 8 * fJ/bit + activations * ACT.
#include <string>

#include <gtest/gtest.h>

#include "models/hardware/memory.h"
#include "models/hardware/presets.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

MemorySpec testHbm() {
  MemorySpec m;
  m.name = "test HBM";
  m.capacity = parseBytes("80 GB");
  m.bandwidth = parseBandwidth("3.35 TB/s");
  m.offStack = parseEnergyPerBit("3.48 pJ/bit");
  m.logicDie = EnergyPerBit{1813};
  m.inBank = EnergyPerBit{730};
  m.rowActivation = Energy{909'000};
  m.rowBytes = parseBytes("1 KiB");
  return m;
}

std::string errorOf(MemoryAllocator& a, const std::string& what, Bytes b) {
  try {
    a.allocate(what, b);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    return e.what();
  }
  return "";
}

TEST(Memory, AllocatorRefusesOverflowNamingEverything) {
  MemoryAllocator hbm("die[3].hbm", testHbm());
  EXPECT_EQ(hbm.capacity().value, 80'000'000'000u);
  const uint64_t weights = hbm.allocate("expert weights", parseBytes("79.5 GB"));
  EXPECT_EQ(hbm.used().value, 79'500'000'000u);
  EXPECT_EQ(hbm.available().value, 500'000'000u);
  EXPECT_EQ(errorOf(hbm, "KV cache", parseBytes("2.1 GB")),
            "die[3].hbm: KV cache of 2.1 GB (2100000000 B) does not fit: 79.5 GB (79500000000 B) of 80 GB "
            "(80000000000 B) used");
  EXPECT_EQ(hbm.used().value, 79'500'000'000u);  // the refused allocation left nothing behind
  ASSERT_EQ(hbm.items().size(), 1u);
  EXPECT_EQ(hbm.items()[0].what, "expert weights");

  // Exactly full is allowed; one more byte is not.
  const uint64_t rest = hbm.allocate("activations", Bytes{500'000'000});
  EXPECT_EQ(hbm.available().value, 0u);
  EXPECT_NE(errorOf(hbm, "one byte", Bytes{1}).find("one byte of 1 B (1 B) does not fit: 80 GB"), std::string::npos);
  EXPECT_EQ(hbm.allocate("nothing", Bytes{0}), 3u);

  hbm.release(weights);
  EXPECT_EQ(hbm.used().value, 500'000'000u);
  hbm.allocate("KV cache", parseBytes("2.1 GB"));
  EXPECT_EQ(hbm.used().value, 2'600'000'000u);
  hbm.release(rest);
  EXPECT_THROW(hbm.release(rest), Error);
  EXPECT_EQ(hbm.items().size(), 2u);
}

TEST(Memory, HumanBytes) {
  EXPECT_EQ(humanBytes(Bytes{0}), "0 B");
  EXPECT_EQ(humanBytes(Bytes{512}), "512 B");
  EXPECT_EQ(humanBytes(Bytes{1500}), "1.5 kB");
  EXPECT_EQ(humanBytes(Bytes{1'234'567}), "1.23 MB");
  EXPECT_EQ(humanBytes(Bytes{1'005'000}), "1.01 MB");  // rounded half up
  EXPECT_EQ(humanBytes(Bytes{1'050'000'000}), "1.05 GB");
  EXPECT_EQ(humanBytes(parseBytes("80 GB")), "80 GB");
  EXPECT_EQ(humanBytes(parseBytes("3 TB")), "3 TB");
}

TEST(Memory, AccessEnergyPerPathIsExact) {
  const MemorySpec m = testHbm();
  // 32 B on each path, no activation: 256 bits * fJ/bit.
  EXPECT_EQ(m.accessEnergy(MemoryPath::OffStack, Bytes{32}, 0).fj, 256u * 3480);  // 890880 fJ = 0.891 nJ
  EXPECT_EQ(m.accessEnergy(MemoryPath::LogicDie, Bytes{32}, 0).fj, 256u * 1813);  // 464128 fJ
  EXPECT_EQ(m.accessEnergy(MemoryPath::InBank, Bytes{32}, 0).fj, 256u * 730);     // 186880 fJ
  // Streaming: ceil(S / 1 KiB) activations of 909000 fJ.
  EXPECT_EQ(m.rowActivations(Bytes{32}), 1u);
  EXPECT_EQ(m.rowActivations(Bytes{4096}), 4u);
  EXPECT_EQ(m.rowActivations(Bytes{4097}), 5u);
  EXPECT_EQ(m.accessEnergy(MemoryPath::OffStack, Bytes{32}).fj, 890'880u + 909'000u);
  EXPECT_EQ(m.accessEnergy(MemoryPath::LogicDie, Bytes{4096}).fj, 4096u * 8 * 1813 + 4 * 909'000u);  // 63044384
  EXPECT_EQ(m.accessEnergy(MemoryPath::InBank, Bytes{4096}, 2).fj, 4096u * 8 * 730 + 2 * 909'000u);
  MemorySpec noRows = m;
  noRows.rowBytes = Bytes{0};
  EXPECT_EQ(noRows.accessEnergy(MemoryPath::OffStack, Bytes{1 << 20}).fj, (1ull << 23) * 3480);
  EXPECT_THROW(m.accessEnergy(MemoryPath::OffStack, Bytes{1}, ~0ull), Error);
  EXPECT_STREQ(toString(MemoryPath::LogicDie), "logic-die");
}

TEST(Preset, H100) {
  const ComputeDieSpec d = h100Die();
  d.validate();
  EXPECT_EQ(d.peak(DataType::Fp16).flopsPerSecond, 989'000'000'000'000u);
  EXPECT_EQ(d.peak(DataType::Bf16).flopsPerSecond, 989'000'000'000'000u);
  EXPECT_EQ(d.peak(DataType::Fp8).flopsPerSecond, 1'979'000'000'000'000u);
  EXPECT_EQ(d.peak(DataType::Int8).flopsPerSecond, 1'979'000'000'000'000u);
  EXPECT_EQ(d.tile, (TileShape{64, 256, 64}));
  EXPECT_EQ(d.sramCapacity.value, 50'000'000u);
  const MemorySpec m = h100Hbm3();
  EXPECT_EQ(m.capacity.value, 80'000'000'000u);
  EXPECT_EQ(m.bandwidth.bytesPerSecond, 3'350'000'000'000u);
  EXPECT_EQ(m.offStack.fjPerBit, 3480u);
  EXPECT_EQ(m.rowActivation.fj, 909'000u);
  // A decode-time GEMV (M = 1, 8192 x 8192 fp16 weights) from HBM is memory bound: bytes / bandwidth.
  const uint64_t bytes = (8192ull * 8192 + 2 * 8192) * 2;
  EXPECT_EQ(gemmTime(d, Gemm{1, 8192, 8192, DataType::Fp16}, m.bandwidth),
            m.bandwidth.transferTime(Bytes{bytes}));
}

TEST(Preset, HdMoeNodes) {
  struct Expect {
    HdMoeConfig config;
    uint64_t flops;
    uint64_t link;
  };
  for (const Expect& e : {Expect{HdMoeConfig::ComputeRich, 10'000'000'000'000u, 25'000'000'000u},
                          Expect{HdMoeConfig::Balanced, 5'000'000'000'000u, 50'000'000'000u},
                          Expect{HdMoeConfig::LinkRich, 2'500'000'000'000u, 75'000'000'000u}}) {
    const NmpNodePreset p = hdMoeNode(e.config);
    p.die.validate();
    EXPECT_EQ(p.die.peakFp16.flopsPerSecond, e.flops) << toString(e.config);
    EXPECT_EQ(p.linkBandwidth.bytesPerSecond, e.link) << toString(e.config);
    EXPECT_EQ(p.dram.bandwidth.bytesPerSecond, 625'000'000'000u);
    EXPECT_EQ(p.hopLatency.ps(), 100'000);
    EXPECT_EQ(p.die.tile, (TileShape{1, 1, 1}));
    EXPECT_THROW(p.die.peak(DataType::Fp8), Error);
  }
}

TEST(Preset, Mozart) {
  const ChipletPreset p = mozartChiplet();
  p.die.validate();
  EXPECT_EQ(p.die.clockHz, 1'000'000'000u);
  EXPECT_EQ(p.dram.bandwidth.bytesPerSecond, 256'000'000'000u);
  EXPECT_EQ(p.die.peakFp16.flopsPerSecond, 32'768'000'000'000u);  // ASSUMPTION: 128 x 128 array
  EXPECT_EQ(p.die.tile, (TileShape{128, 128, 1}));
}

}  // namespace
}  // namespace wafersim::hw
