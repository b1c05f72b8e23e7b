#include "models/model_catalog.h"

#include "models/hardware/collective.h"
#include "models/hardware/die_program.h"
#include "models/hardware/systems.h"
#include "models/hardware/topology.h"
#include "models/moe/serving_components.h"
#include "models/moe/serving_model.h"
#include "models/synthetic/synthetic.h"
#include "sim/error.h"

namespace wafersim {

void ModelCatalog::add(ModelBuilder builder) {
  WAFERSIM_REQUIRE(!builders_.count(builder.name), "model \"", builder.name, "\" registered twice");
  std::string name = builder.name;
  builders_.emplace(std::move(name), std::move(builder));
}

const ModelBuilder& ModelCatalog::get(const std::string& name) const {
  auto it = builders_.find(name);
  if (it == builders_.end()) {
    std::string known;
    for (const auto& [n, b] : builders_) known += (known.empty() ? "" : ", ") + n;
    fail(ErrorKind::InvalidConfig, "unknown model \"", name, "\" (known: ", known, ")");
  }
  return it->second;
}

std::vector<std::string> ModelCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& [n, b] : builders_) out.push_back(n);
  return out;
}

SystemGraph ModelCatalog::build(const std::string& name, const Params& params, const std::string& where,
                                const BuildContext& context) const {
  const ModelBuilder& b = get(name);
  return b.build(resolveParams(params, b.params, where), context);
}

void registerBuiltinComponents(ComponentRegistry& registry) {
  synthetic::registerSyntheticComponents(registry);
  hw::registerNetworkComponents(registry);
  hw::registerDie(registry);
  moe::registerServingComponents(registry);
}

void registerBuiltinModels(ModelCatalog& catalog) {
  using synthetic::PholdConfig;
  catalog.add({"phold",
               "PHOLD with ROSS's parameters: LPs on an all-to-all fabric whose latency is the lookahead.",
               {{"lps", ParamType::Integer, "64", "number of logical processes", 1, 1e8},
                {"initial_events", ParamType::Integer, "1", "events per LP at start", 0, 1e6},
                {"remote", ParamType::Real, "0.25", "probability of a uniformly drawn destination", 0, 1},
                {"lookahead", ParamType::Duration, "100 ps", "minimum delay (the fabric latency)", 1, {}},
                {"mean", ParamType::Duration, "900 ps", "mean of the exponential extra delay", 0, {}},
                {"service", ParamType::Duration, "0 ps", "per-event service time (compute mode when > 0)", 0, {}}},
               [](const Params& p, const BuildContext&) {
                 PholdConfig c;
                 c.lps = static_cast<uint32_t>(p.integer("lps"));
                 c.initialEvents = static_cast<uint32_t>(p.integer("initial_events"));
                 c.remote = p.real("remote");
                 c.lookahead = p.duration("lookahead");
                 c.mean = p.duration("mean");
                 c.service = p.duration("service");
                 return synthetic::buildPhold(c);
               }});
  catalog.add({"message_mesh",
               "SST-core's MessageMesh: an X x Y torus forwarding each message on a random link.",
               {{"x", ParamType::Integer, "4", "columns", 1, 1e5},
                {"y", ParamType::Integer, "4", "rows", 1, 1e5},
                {"latency", ParamType::Duration, "1 ns", "latency of every link", 0, {}}},
               [](const Params& p, const BuildContext&) {
                 return synthetic::buildMessageMesh({static_cast<uint32_t>(p.integer("x")),
                                                     static_cast<uint32_t>(p.integer("y")), p.duration("latency")});
               }});
  catalog.add({"relay_grid",
               "A torus of relays with mixed link latencies, FIFO servers and init exchanges (kernel tests).",
               {{"x", ParamType::Integer, "6", "columns", 1, 1e5},
                {"y", ParamType::Integer, "4", "rows", 1, 1e5},
                {"tokens", ParamType::Integer, "3", "tokens per relay at start", 0, 1e6},
                {"service", ParamType::Duration, "1500 ps", "service time of every third relay", 0, {}},
                {"max_hops", ParamType::Integer, "0", "tokens die after this many hops (0: never)", 0, 1e9}},
               [](const Params& p, const BuildContext&) {
                 return synthetic::buildRelayGrid({static_cast<uint32_t>(p.integer("x")),
                                                   static_cast<uint32_t>(p.integer("y")),
                                                   static_cast<uint32_t>(p.integer("tokens")), p.duration("service"),
                                                   static_cast<uint32_t>(p.integer("max_hops"))});
               }});
  std::vector<ParamSpec> collective = hw::systemParams();
  collective.insert(collective.end(),
                    {{"pattern", ParamType::Text, "all_to_all", "all_to_all, ring or scatter (models/hardware/collective.h)", {}, {}},
                     {"bytes", ParamType::Text, "64 KiB", "bytes per message", {}, {}},
                     {"rounds", ParamType::Integer, "1", "compute + exchange rounds", 1, 1e6},
                     {"gemm_m", ParamType::Integer, "0", "GEMM M before each exchange (0: no compute)", 0, 1e9},
                     {"gemm_n", ParamType::Integer, "4096", "GEMM N (weights K x N)", 1, 1e9},
                     {"gemm_k", ParamType::Integer, "4096", "GEMM K", 1, 1e9},
                     {"engine", ParamType::Text, "", "engine of the GEMM (empty: the die's first)", {}, {}}});
  catalog.add({"die_collective",
               "A collective (all-to-all, ring, scatter) with optional GEMMs on a hardware system of dies: "
               "Dojo, TSMC-SoW, HD-MoE meshes, GPU and Duplex boxes, Mozart's NoP-tree or a network file.",
               std::move(collective), [](const Params& p, const BuildContext&) {
                 const hw::HardwareSystem system = hw::describeSystem(p);
                 hw::CollectiveConfig c;
                 c.pattern = hw::parseCollectivePattern(p.text("pattern"));
                 c.bytes = hw::parseBytes(p.text("bytes"));
                 WAFERSIM_REQUIRE(c.bytes.value > 0, "parameter bytes: must be positive");
                 c.rounds = static_cast<uint32_t>(p.integer("rounds"));
                 c.gemm = hw::Gemm{static_cast<uint64_t>(p.integer("gemm_m")), static_cast<uint64_t>(p.integer("gemm_n")),
                                   static_cast<uint64_t>(p.integer("gemm_k")), hw::DataType::Fp16};
                 if (!p.text("engine").empty()) c.engine = system.specs[0].engineIndex(p.text("engine"));
                 // The collective runs among the dies that work; masked-out dies idle.
                 std::vector<uint32_t> live;
                 for (uint32_t d = 0; d < system.network.endpoints.size(); ++d)
                   if (!system.failed(d)) live.push_back(d);
                 const auto programs = hw::collectivePrograms(c, static_cast<uint32_t>(live.size()));
                 std::vector<std::vector<hw::ProgramStep>> all(system.network.endpoints.size());
                 for (size_t i = 0; i < live.size(); ++i) {
                   all[live[i]] = programs[i];
                   for (hw::ProgramStep& step : all[live[i]])
                     if (step.kind == hw::ProgramStep::Kind::Send) step.destination = live[step.destination];
                 }
                 return hw::buildSystem(system, std::move(all)).graph;
               }});
  moe::registerServingModel(catalog);
}

}  // namespace wafersim
