// Exact integer units of the hardware models (models/hardware/units.h).
#include <gtest/gtest.h>

#include "models/hardware/units.h"
#include "sim/error.h"

namespace wafersim::hw {
namespace {

TEST(HwUnitsTest, ParsesBytesExactly) {
  EXPECT_EQ(parseBytes("64 KiB").value, 65536u);
  EXPECT_EQ(parseBytes("512B").value, 512u);
  EXPECT_EQ(parseBytes("1.5 MB").value, 1'500'000u);
  EXPECT_EQ(parseBytes("2 GiB").value, 2ull << 30);
  EXPECT_EQ(parseBytes(toString(Bytes{123456})).value, 123456u);
  EXPECT_THROW(parseBytes("1.5 B"), Error);
  EXPECT_THROW(parseBytes("64"), Error);
  EXPECT_THROW(parseBytes("64 KB/s"), Error);
  EXPECT_THROW(parseBytes("-3 B"), Error);
  EXPECT_THROW(parseBytes("20000000 TiB"), Error);  // past 2^64
}

TEST(HwUnitsTest, ParsesBandwidthInDecimalSi) {
  EXPECT_EQ(parseBandwidth("1.7 TB/s").bytesPerSecond, 1'700'000'000'000u);
  EXPECT_EQ(parseBandwidth("25 GB/s").bytesPerSecond, 25'000'000'000u);
  EXPECT_EQ(parseBandwidth("100 Gb/s").bytesPerSecond, 12'500'000'000u);
  EXPECT_EQ(parseBandwidth("1 GiB/s").bytesPerSecond, 1ull << 30);
  EXPECT_EQ(parseBandwidth(toString(Bandwidth{25'000'000'000})).bytesPerSecond, 25'000'000'000u);
  EXPECT_THROW(parseBandwidth("1 b/s"), Error);  // an eighth of a byte per second
  EXPECT_THROW(parseBandwidth("25 GB"), Error);
}

TEST(HwUnitsTest, ParsesEnergyPerBitInFemtojoules) {
  EXPECT_EQ(parseEnergyPerBit("3.48 pJ/bit").fjPerBit, 3480u);
  EXPECT_EQ(parseEnergyPerBit("0.5 pJ/bit").fjPerBit, 500u);
  EXPECT_EQ(parseEnergyPerBit("12 fJ/bit").fjPerBit, 12u);
  EXPECT_THROW(parseEnergyPerBit("0.0001 pJ/bit"), Error);
  EXPECT_THROW(parseEnergyPerBit("3 pJ"), Error);
}

TEST(HwUnitsTest, TransferTimeRoundsUpToThePicosecond) {
  EXPECT_EQ(Bandwidth{25'000'000'000}.transferTime(Bytes{4096}), Duration::fromPs(163'840));
  // 4096 B at 1.7 TB/s = 2409.41... ps -> 2410 ps.
  EXPECT_EQ(parseBandwidth("1.7 TB/s").transferTime(Bytes{4096}), Duration::fromPs(2410));
  EXPECT_EQ(parseBandwidth("1.7 TB/s").transferTime(Bytes{17}), Duration::fromPs(10));
  EXPECT_EQ(Bandwidth{3}.transferTime(Bytes{1}), Duration::fromPs(333'333'333'334));
  EXPECT_EQ(Bandwidth{7}.transferTime(Bytes{0}), Duration::zero());
  EXPECT_THROW(Bandwidth{0}.transferTime(Bytes{1}), Error);
  EXPECT_THROW(Bandwidth{1}.transferTime(Bytes{UINT64_MAX}), Error);  // past int64 picoseconds
}

TEST(HwUnitsTest, EnergyIsExactAndOverflowChecked) {
  EXPECT_EQ(parseEnergyPerBit("3.48 pJ/bit").of(Bytes{4096}).fj, 4096u * 8 * 3480);
  EXPECT_EQ((Energy{5} + Energy{7}).fj, 12u);
  EXPECT_THROW(EnergyPerBit{1000}.of(Bytes{UINT64_MAX / 8}), Error);
  EXPECT_THROW(Bytes{UINT64_MAX}.bits(), Error);
  EXPECT_THROW(Energy{UINT64_MAX} + Energy{1}, Error);
}

}  // namespace
}  // namespace wafersim::hw
