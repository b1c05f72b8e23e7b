// The model catalog (models/model_catalog.h): every built-in model builds a valid system from its
// declared parameters; bad parameters are refused naming the key.
#include "models/model_catalog.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"
#include "sim/simulation.h"

namespace wafersim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ModelCatalogTest : public ::testing::Test {
 protected:
  ModelCatalogTest() {
    registerBuiltinComponents(registry_);
    registerBuiltinModels(catalog_);
  }

  std::string buildError(const std::string& model, const Params& params) {
    try {
      catalog_.build(model, params, "s.yaml: params");
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  }

  ComponentRegistry registry_;
  ModelCatalog catalog_;
};

TEST_F(ModelCatalogTest, ListsTheBuiltins) {
  EXPECT_THAT(catalog_.names(), ElementsAre("die_collective", "message_mesh", "moe_serving", "moe_training", "phold", "relay_grid"));
  EXPECT_THAT(registry_.names(), ::testing::IsSupersetOf({"synthetic.MeshNode", "synthetic.PholdLP", "synthetic.Relay",
                                                         "hw.Router", "hw.Endpoint", "hw.Die", "moe.Host", "moe.Die"}));
}

TEST_F(ModelCatalogTest, DefaultsBuildValidSystems) {
  for (const auto& name : catalog_.names()) {
    const SystemGraph g = catalog_.build(name, {}, name);
    EXPECT_FALSE(g.components().empty()) << name;
    EXPECT_NO_THROW(g.validate(registry_)) << name;
    EXPECT_NO_THROW(validatePartitioning(g, PartitionMap::linear(g.components().size(), 2))) << name;
  }
  EXPECT_EQ(catalog_.build("phold", {}, "").components().size(), 64u);
  EXPECT_EQ(catalog_.build("message_mesh", {}, "").components().size(), 16u);
  EXPECT_EQ(catalog_.build("relay_grid", {}, "").components().size(), 24u);
  EXPECT_EQ(catalog_.build("die_collective", {}, "").components().size(), 50u);  // Dojo: 25 routers, 25 dies
}

TEST_F(ModelCatalogTest, ParametersReachTheBuilder) {
  const SystemGraph phold = catalog_.build("phold", {{"lps", "7"}, {"lookahead", "0.3 ns"}, {"service", "2 ns"}}, "");
  ASSERT_EQ(phold.components().size(), 7u);
  EXPECT_EQ(phold.fabrics().at(0).latency, Duration::fromPs(300));
  EXPECT_EQ(phold.component(0).params.text("service"), "2000 ps");
  const SystemGraph mesh = catalog_.build("message_mesh", {{"x", "3"}, {"y", "2"}, {"latency", "5 ns"}}, "");
  EXPECT_EQ(mesh.components().size(), 6u);
  EXPECT_EQ(mesh.links().at(0).latencyAB, Duration::fromPs(5000));
  const SystemGraph grid = catalog_.build("relay_grid", {{"x", "3"}, {"y", "3"}, {"tokens", "2"}}, "");
  EXPECT_EQ(grid.components().size(), 9u);
  EXPECT_EQ(grid.component(0).params.text("tokens"), "2");
}

TEST_F(ModelCatalogTest, BadParametersNameTheKey) {
  EXPECT_THAT(buildError("phold", {{"lps", "0"}}), HasSubstr("s.yaml: params.lps: 0 is below the minimum 1"));
  EXPECT_THAT(buildError("phold", {{"lookahead", "0 ps"}}), HasSubstr("s.yaml: params.lookahead: 0 ps is below the minimum 1"));
  EXPECT_THAT(buildError("phold", {{"remote", "1.5"}}), HasSubstr("s.yaml: params.remote: 1.5 is above the maximum 1"));
  EXPECT_THAT(buildError("phold", {{"lsp", "8"}}), HasSubstr("s.yaml: params: unknown parameter \"lsp\""));
  EXPECT_THAT(buildError("message_mesh", {{"latency", "fast"}}), HasSubstr("s.yaml: params.latency: bad duration \"fast\""));
  EXPECT_THAT(buildError("relay_grid", {{"x", "two"}}), HasSubstr("s.yaml: params.x: expected integer, got \"two\""));
  EXPECT_THAT(buildError("tetris", {}), HasSubstr("unknown model \"tetris\" (known: die_collective, message_mesh, moe_serving, moe_training, phold, relay_grid)"));
}

TEST_F(ModelCatalogTest, ADuplicateModelIsRefused) {
  ModelBuilder again = catalog_.get("phold");
  EXPECT_THROW(catalog_.add(again), Error);
}

}  // namespace
}  // namespace wafersim
