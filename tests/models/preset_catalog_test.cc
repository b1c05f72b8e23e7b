// `wafersim describe PRESET` (models/preset_catalog.h): every preset describes itself with the
// values behind it.
#include <gtest/gtest.h>

#include "models/preset_catalog.h"

namespace wafersim {
namespace {

TEST(PresetCatalog, EveryPresetDescribesItself) {
  EXPECT_EQ(presetNames().size(), 25u);  // 13 models, 8 dies, 4 systems that are not also dies
  for (const auto& name : presetNames()) {
    const auto d = describePreset(name);
    ASSERT_TRUE(d) << name;
    EXPECT_TRUE(d->contains("kind")) << name;
  }
  EXPECT_FALSE(describePreset("gpt-5"));
}

TEST(PresetCatalog, ValuesAreTheModelsAndTheHardwares) {
  const auto v3 = *describePreset("deepseek-v3");
  EXPECT_EQ(v3["experts"], 256);
  EXPECT_EQ(v3["top_k"], 8);
  EXPECT_EQ(v3["kv_cache_bytes_per_token"], 70272);  // (512 + 64) x 61 layers x 2 B
  const auto dojo = *describePreset("dojo");
  EXPECT_EQ(dojo["dies"], 25);
  EXPECT_EQ(dojo["link_bandwidth_bytes_per_s"], 1'700'000'000'000ull);
  EXPECT_EQ(dojo["die"]["dram"]["capacity_bytes"], 80'000'000'000ull);
  const auto mozart = *describePreset("mozart");
  EXPECT_EQ(mozart["kind"], "die and hardware system");
  EXPECT_EQ(mozart["system"]["dies"], 17);
  const auto duplex = *describePreset("duplex");
  EXPECT_EQ(duplex["engines"].size(), 2u);
}

}  // namespace
}  // namespace wafersim
