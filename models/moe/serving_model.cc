#include "models/moe/serving_model.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "models/hardware/systems.h"
#include "models/moe/model_params.h"
#include "models/moe/placement_bridge.h"
#include "placement/policy.h"
#include "models/moe/serving_plan.h"
#include "models/workload/requests.h"
#include "sim/error.h"

namespace wafersim::moe {
namespace {

void addSection(std::vector<ParamSpec>& all, const std::string& section, std::vector<ParamSpec> specs) {
  for (ParamSpec& s : specs) {
    s.name = section + "." + s.name;
    all.push_back(std::move(s));
  }
}

// Refuses the scenario for the value of `key`, naming its line: "s.yaml:9: params.training.micro_batches:
// 32 sequences do not split ...". A leading label that the prefix repeats ("training: ",
// "hardware.failed_dies: ") is dropped.
[[noreturn]] void failAt(const Params& p, const std::string& key, const std::string& message,
                         ErrorKind kind = ErrorKind::InvalidConfig) {
  std::string text = message;
  for (const std::string& label : {key + ": ", key.substr(0, key.find('.')) + ": "})
    if (text.starts_with(label)) {
      text.erase(0, label.size());
      break;
    }
  fail(kind, p.where(key), ": ", text);
}

// Runs `f`; a configuration error it throws is re-thrown naming the line of `key`, the field that
// decides it.
template <typename F>
decltype(auto) blaming(const Params& p, const std::string& key, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::InvalidConfig) throw;
    failAt(p, key, e.what(), e.kind());
  }
}

// The field blamed when the model does not fit the dies: the preset the scenario names, else the
// system, else the preset (no line).
std::string fitKey(const Params& p) {
  if (p.line("model.preset") > 0 || p.line("hardware.system") == 0) return "model.preset";
  return "hardware.system";
}

// The parameters of one section, without the prefix.
Params section(const Params& all, const std::string& name) {
  Params out;
  const std::string prefix = name + ".";
  for (const auto& [k, v] : all.values())
    if (k.starts_with(prefix)) out.set(k.substr(prefix.size()), v);
  return out;
}

hw::DataType parseComputeType(const std::string& text, const MoeModelConfig& m) {
  if (text == "bf16") return hw::DataType::Bf16;
  if (text == "fp16") return hw::DataType::Fp16;
  if (text == "fp8") return hw::DataType::Fp8;
  if (text == "int8") return hw::DataType::Int8;
  WAFERSIM_REQUIRE(text == "auto", "serving.compute_type: unknown type \"", text, "\" (auto, bf16, fp16, fp8, int8)");
  // auto: the routed experts' weight format decides (fp8, and MXFP4 run as fp8 on fp8 hardware).
  switch (m.expertWeightFormat) {
    case WeightFormat::Fp8:
    case WeightFormat::Mxfp4: return hw::DataType::Fp8;
    case WeightFormat::Int8: return hw::DataType::Int8;
    case WeightFormat::Fp16: return hw::DataType::Fp16;
    default: return hw::DataType::Bf16;
  }
}

// The chosen policy's options from the policy section: the keys the scenario gave, checked
// against the policy's own parameters (types, ranges, defaults).
// A key only the other policy (offline / online) takes is left to it.
Params policyOptions(const Params& all, const placement::PolicyType& type, const std::string& field,
                     const placement::PolicyType* other = nullptr) {
  Params given;
  const Params options = section(all, "policy");
  for (const auto& [key, value] : options.values()) {
    if (value.empty()) continue;
    bool known = false, theirs = false;
    for (const ParamSpec& spec : type.params) known |= spec.name == key;
    if (other)
      for (const ParamSpec& spec : other->params) theirs |= spec.name == key;
    if (!known && theirs) continue;
    if (!known) {
      std::string takes;
      for (const ParamSpec& spec : type.params) takes += (takes.empty() ? "" : ", ") + spec.name;
      failAt(all, "policy." + key,
             detail::concat("not a parameter of ", field, " ", type.name, " (it takes: ", takes.empty() ? "none" : takes,
                            ")"));
    }
    given.set(key, value);
  }
  return resolveParams(given, type.params, "policy (" + field + " " + type.name + ")");
}

// A placement_log.json's decisions, with the applied placements.
std::vector<OnlinePlacementConfig::Recorded> readPlacementLog(const std::string& path, uint32_t dies,
                                                                         uint32_t layers, uint32_t experts) {
  std::ifstream in(path);
  WAFERSIM_REQUIRE(in, "mapping.replay: cannot read ", path);
  nlohmann::json log;
  try {
    log = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::InvalidConfig, "mapping.replay: ", path, " is not JSON: ", e.what());
  }
  std::vector<OnlinePlacementConfig::Recorded> out;
  try {
    for (const auto& d : log.at("decisions")) {
      OnlinePlacementConfig::Recorded r;
      r.epoch = d.at("epoch").get<uint64_t>();
      r.policy = d.value("policy", std::string("replay"));
      r.outcome = d.at("outcome").get<std::string>();
      r.reason = d.value("reason", std::string());
      if (d.contains("predicted_gain") && d["predicted_gain"].is_number()) r.predictedGain = d["predicted_gain"].get<double>();
      if (d.contains("optimality_gap") && d["optimality_gap"].is_number()) r.optimalityGap = d["optimality_gap"].get<double>();
      if (r.outcome != "applied") {
        out.push_back(std::move(r));
        continue;
      }
      placement::Placement placed(dies, layers, experts);
      const auto& map = d.at("placement");
      placed.split = placement::parseSplit(map.at("split").get<std::string>(), "mapping.replay: split");
      WAFERSIM_REQUIRE(map.at("experts").size() == size_t{layers} * experts, "mapping.replay: ", path, " epoch ",
                       d.at("epoch").get<uint64_t>(), " places ", map.at("experts").size(), " experts, the model has ",
                       size_t{layers} * experts);
      size_t i = 0;
      for (const auto& copies : map.at("experts")) {
        auto& replicas = placed.replicas(static_cast<uint32_t>(i / experts), static_cast<uint32_t>(i % experts));
        for (const auto& r : copies) {
          placement::Replica replica;
          for (const auto& shard : r)
            replica.shards.push_back({shard.at(0).get<uint32_t>(), shard.at(1).get<uint32_t>(),
                                      shard.size() > 2 ? shard.at(2).get<uint32_t>() : placement::kDefaultEngine});
          replicas.push_back(std::move(replica));
        }
        ++i;
      }
      r.placement = std::move(placed);
      out.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::InvalidConfig, "mapping.replay: ", path, ": ", e.what());
  }
  return out;
}

// The offline placement (mapping.policy, from a profiling pass when the policy is not a fixed
// layout), the memory kept for experts, and the online placement's configuration.
void placeExperts(const Params& p, const hw::HardwareSystem& system, ServingConfig& c, uint64_t seed) {
  const MoeModelConfig& m = c.model;
  placement::Problem problem;
  problem.fabric = fabricOf(system, c.expertEngine, c.computeType);
  problem.model = expertShapeOf(m, c.activationBytes);
  problem.seed = seed;
  // Room for routed experts: what is left after the weights every die holds.
  const uint64_t replicated =
      m.totalWeightBytes() - uint64_t{m.moeLayerCount()} * m.experts * m.expertWeightBytes();
  for (uint32_t d = 0; d < c.dies; ++d) {
    const uint64_t capacity = c.dieSpecs[d].dram.capacity.value;
    problem.fabric.expertCapacityBytes.push_back(capacity > replicated ? capacity - replicated : 0);
  }
  const placement::PolicyType& offline = blaming(p, "mapping.policy", [&]() -> const placement::PolicyType& {
    return placement::policyType(p.text("mapping.policy"), "mapping.policy");
  });
  const placement::PolicyType* onlineType = nullptr;
  if (!p.text("mapping.online_policy").empty())
    onlineType = &blaming(p, "mapping.online_policy", [&]() -> const placement::PolicyType& {
      return placement::policyType(p.text("mapping.online_policy"), "mapping.online_policy");
    });
  problem.options = policyOptions(p, offline, "mapping.policy", onlineType);
  problem.current = placement::expertParallel(problem);
  if (offline.needs.profile) {
    // Other tokens of the same routing (the run's hot experts and groups; a trace replays from
    // its start), or another trace.
    Params routing = c.routing;
    if (const std::string& trace = p.text("mapping.profile_trace"); !trace.empty()) {
      routing.set("kind", "trace");
      routing.set("trace_file", trace);
    }
    auto router = makeRouter(routing, m, seed + 0x5052'4F46ull, seed);  // "PROF"
    problem.profile = profileRouting(*router, problem.fabric, static_cast<uint64_t>(p.integer("mapping.profile_tokens")),
                                     static_cast<uint32_t>(p.integer("mapping.profile_sequence")), offline.needs);
  } else {
    problem.profile = placement::LoadProfile(m.moeLayerCount(), m.experts, c.dies, false, false);
  }
  problem.tokensPerStep = static_cast<uint64_t>(p.integer("scheduler.max_running"));
  placement::Decision decision;
  try {
    decision = offline.make()->decide(problem);
  } catch (const Error& e) {
    // A fixed layout that does not fit: the model (or the system) is too large, not the policy.
    if (e.kind() == ErrorKind::InvalidConfig && std::string_view(e.what()).find(": the model does not fit die ") !=
                                                    std::string_view::npos)
      failAt(p, fitKey(p), e.what());
    throw;
  }
  if (const std::string& split = p.text("mapping.split"); split != "policy")
    decision.placement.split = blaming(p, "mapping.split", [&] { return placement::parseSplit(split, "mapping.split"); });
  c.placement = std::move(decision.placement);
  c.placement.validate("mapping.policy " + offline.name, c.failed);
  c.hops = problem.fabric.hops;
  c.groupOf = problem.fabric.groupOf;
  if (const std::string& execution = p.text("mapping.execution"); execution == "oblivious") {
    if (!p.text("mapping.online_policy").empty() || !p.text("mapping.replay").empty())
      failAt(p, "mapping.execution",
             "oblivious reads every step's weights from the dies the placement puts them on; it does not follow "
             "an online placement (mapping.online_policy, mapping.replay)");
    c.obliviousBlockTokens = static_cast<uint32_t>(p.integer("mapping.oblivious_block_tokens"));
  } else if (execution != "placed") {
    failAt(p, "mapping.execution", "unknown execution \"" + execution + "\" (placed, oblivious)");
  }
  const std::vector<uint64_t> parts = c.placement.partsPerDie();
  const auto spare = static_cast<uint64_t>(p.integer("mapping.spare_experts"));
  for (uint32_t d = 0; d < c.dies; ++d) {
    const uint64_t mine = (static_cast<unsigned __int128>(parts[d]) * m.expertWeightBytes() + placement::kWhole - 1) /
                          placement::kWhole;
    c.expertReserveBytes.push_back(c.failed[d] ? 0 : mine + spare * m.expertWeightBytes());
  }

  OnlinePlacementConfig& o = c.online;
  o.policy = p.text("mapping.online_policy");
  const std::string& replay = p.text("mapping.replay");
  if (!o.policy.empty() && !replay.empty())
    failAt(p, "mapping.replay", "replays a recorded log instead of mapping.online_policy; give one of them");
  if (o.policy.empty() && replay.empty()) return;
  o.epoch = p.duration("mapping.epoch");
  o.decisionDelay = p.duration("mapping.decision_delay");
  o.smoothing = p.real("mapping.smoothing");
  o.service = p.text("mapping.service");
  o.serviceTimeoutMs = static_cast<uint32_t>(std::min<int64_t>(p.duration("mapping.service_timeout").ps() / 1'000'000'000,
                                                               UINT32_MAX));
  o.fabric = problem.fabric;
  o.fabric.expertCapacityBytes = c.expertReserveBytes;
  o.shape = problem.model;
  if (!replay.empty()) {
    o.replaying = true;
    o.replay = readPlacementLog(replay, c.dies, m.moeLayerCount(), m.experts);
    return;
  }
  const placement::PolicyType& online = blaming(p, "mapping.online_policy", [&]() -> const placement::PolicyType& {
    return placement::policyType(o.policy, "mapping.online_policy");
  });
  o.options = policyOptions(p, online, "mapping.online_policy", &offline);
  // The run's name to the service, the key of its memo with the epoch: a hash of the whole resolved
  // scenario and the seed, so every node of one run asks the same question and another scenario
  // never meets its answers.
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  auto mix = [&h](const std::string& text) {
    for (unsigned char ch : text) h = (h ^ ch) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
  };
  for (const auto& [key, value] : p.values()) {
    mix(key);
    mix(value);
  }
  mix(std::to_string(seed));
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(h));
  o.runId = id;
}

}  // namespace

std::vector<ParamSpec> servingParams() {
  std::vector<ParamSpec> all;
  addSection(all, "hardware", hw::systemParams());
  addSection(all, "model", moeModelParams());
  addSection(all, "workload", workload::requestWorkloadParams());
  // Defaults that make the model run as it is: Mixtral-8x7B and a finite workload.
  for (ParamSpec& spec : all) {
    if (spec.name == "model.preset") spec.defaultValue = "mixtral-8x7b";
    if (spec.name == "workload.count") spec.defaultValue = "64";
  }
  addSection(all, "routing", routingParams());
  addSection(all, "scheduler",
             {{"max_running", ParamType::Integer, "256", "running sequences at most (vLLM max_num_seqs)", 1, 1e7},
              {"token_budget", ParamType::Integer, "8192", "tokens per step at most (max_num_batched_tokens)", 1, 1e8},
              {"prefill_chunk", ParamType::Integer, "0", "largest prefill chunk of one sequence (0: the budget)", 0, 1e8},
              {"mix_prefill_decode", ParamType::Boolean, "true", "chunked prefill mixed into decode steps", {}, {}}});
  std::string policies;
  for (const placement::PolicyType& t : placement::policyTypes()) policies += (policies.empty() ? "" : ", ") + t.name;
  addSection(all, "mapping",
             {{"policy", ParamType::Text, "ep", "placement policy before the run: " + policies, {}, {}},
              {"split", ParamType::Text, "policy",
               "tokens of a replicated expert: even, least_loaded, nearest (policy: as the policy says)", {}, {}},
              {"profile_tokens", ParamType::Integer, "8192",
               "tokens routed before the run to give the offline policy its statistics", 1, 1e9},
              {"profile_sequence", ParamType::Integer, "512", "tokens per profiling request", 1, 1e7},
              {"profile_trace", ParamType::Path, "",
               "routing trace to profile instead of the run's router (a shifted workload, HD-MoE 2.6)", {}, {}},
              {"online_policy", ParamType::Text, "", "placement policy re-run every epoch while serving (empty: none)",
               {}, {}},
              {"epoch", ParamType::Duration, "1 ms", "simulated time between online decisions", 1, {}},
              {"decision_delay", ParamType::Duration, "0 ps",
               "simulated time from a decision to the step whose start migrates the weights", 0, {}},
              {"smoothing", ParamType::Real, "0",
               "weight of earlier epochs' loads in the moving average an online policy sees", 0, 0.999},
              {"execution", ParamType::Text, "placed",
               "placed: the dies holding an expert compute its tokens; oblivious: each expert's tokens in blocks "
               "dealt to the dies in turn, whatever the placement, each die reading the experts it lacks from "
               "their holders every step (Patterns behind Chaos' placement-oblivious Base)",
               {}, {}},
              {"oblivious_block_tokens", ParamType::Integer, "50", "oblivious: tokens of one expert per block", 1,
               1e9},
              {"spare_experts", ParamType::Integer, "0",
               "room for this many extra routed experts per die beyond the initial placement (replicas)", 0, 1e6},
              {"service", ParamType::Text, "", "wafersim-placement endpoint (tcp://host:port); empty: decide in process",
               {}, {}},
              {"service_timeout", ParamType::Duration, "10 s", "wall-clock wait for the service per decision", 1, {}},
              {"replay", ParamType::Path, "",
               "a placement_log.json of an earlier run: apply its decisions instead of asking a policy", {}, {}}});
  // The policies' own parameters, one section for all: each given key must belong to the policies
  // named (checked with their types and ranges when the graph is built).
  std::map<std::string, std::string> users;
  std::vector<ParamSpec> options;
  for (const placement::PolicyType& t : placement::policyTypes())
    for (const ParamSpec& spec : t.params) {
      if (!users.count(spec.name))
        options.push_back({spec.name, ParamType::Text, "", "", {}, {}});
      users[spec.name] += (users[spec.name].empty() ? "" : ", ") + t.name;
    }
  for (ParamSpec& o : options) {
    for (const placement::PolicyType& t : placement::policyTypes())
      for (const ParamSpec& spec : t.params)
        if (spec.name == o.name && o.help.empty()) o.help = spec.help;
    o.help += " (" + users[o.name] + ")";
  }
  addSection(all, "policy", std::move(options));
  addSection(all, "training",
             {{"steps", ParamType::Integer, "0", "training steps (0: serve requests instead)", 0, 1e6},
              {"sequences", ParamType::Integer, "32", "sequences per training step", 1, 1e7},
              {"sequence_length", ParamType::Integer, "512", "tokens per sequence", 1, 1e7},
              {"micro_batches", ParamType::Integer, "4", "micro-batches per step (divides sequences)", 1, 1e6},
              {"optimizer_bytes_per_param", ParamType::Integer, "16",
               "bytes the optimizer reads and writes per parameter (Adam, fp32 states and master weights)", 0, 1024},
              {"pipeline", ParamType::Text, "load_then_compute",
               "an MoE layer's exchange: load_then_compute (all tokens dispatched, then each expert's weights loaded, "
               "then computed, then all results combined) or streamed (Mozart: token slices whose dispatch, expert "
               "compute and combine overlap, weights streamed under the GEMMs)",
               {}, {}},
              {"stream_slices", ParamType::Integer, "4",
               "streamed: slices per exchange at most (fewer where a slice would not fill the expert array)", 1, 1024}});
  addSection(all, "serving",
             {{"command_latency", ParamType::Duration, "1 us", "host-to-die command and completion latency", 1, {}},
              {"step_overhead", ParamType::Duration, "0 ps", "host scheduling time per step", 0, {}},
              {"compute_type", ParamType::Text, "auto", "GEMM data type: auto (from the weights), bf16, fp16, fp8, int8",
               {}, {}},
              {"activation_bytes", ParamType::Integer, "2", "bytes per hidden element in dispatch and combine", 1, 8},
              {"kv_memory_fraction", ParamType::Real, "0.9", "share of the memory left after the weights for KV cache",
               0.01, 1},
              {"attention_engine", ParamType::Text, "",
               "engine for attention over the KV cache (Duplex: pim; auto: the fastest for each op)", {}, {}},
              {"expert_engine", ParamType::Text, "", "engine for the routed experts' FFNs: an engine (pim, xpu), auto (the fastest for each op) or coprocess (Duplex: per layer, the hottest experts on the xPU, the rest on the Logic-PIM, both at once)", {}, {}},
              {"trace_start", ParamType::Duration, "0 ps", "start of the Perfetto trace window (trace.json)", 0, {}},
              {"trace_end", ParamType::Duration, "0 ps", "end of the trace window (0: no trace)", 0, {}},
              {"overlap", ParamType::Text, "none",
               "none, or two_batch: each step's batch in two micro-batches whose attention and expert exchange "
               "interleave layer by layer (serving only)",
               {}, {}},
              {"array_split", ParamType::Text, "static",
               "static, or adaptive (A3D-MoE): per phase, the die's array split between a GEMV partition and a GEMM "
               "partition that run at once; with overlap two_batch, one micro-batch's attention beside the other's "
               "experts",
               {}, {}},
              {"array_split_rows", ParamType::Integer, "16", "adaptive split: array rows per step of the split", 1, 1e6},
              {"vcache", ParamType::Text, "off",
               "V-Cache (A3D-MoE): SRAM holding routed experts' weights across steps: off, die (the die's SRAM "
               "capacity) or a size (e.g. 256 MB)",
               {}, {}},
              {"vcache_policy", ParamType::Text, "lfu",
               "V-Cache replacement: lfu (score-aware: the experts with the most tokens stay) or lru", {}, {}}});
  return all;
}

SystemGraph buildServing(const Params& p, const BuildContext& context) {
  const uint64_t seed = context.seed;
  const hw::HardwareSystem system = hw::describeSystem(section(p, "hardware"));
  const auto dies = static_cast<uint32_t>(system.network.endpoints.size());
  ServingConfig c;
  c.model = moeModelFromParams(section(p, "model"), "model");
  if (c.model.experts == 0 || c.model.moeLayerCount() == 0)
    failAt(p, p.line("model.preset") == 0 && p.line("model.experts") > 0 ? "model.experts" : "model.preset",
           detail::concat("model ", c.model.name, ": moe_serving needs an MoE model (experts and MoE layers)"));
  c.dies = dies;
  std::vector<uint32_t> live;
  for (uint32_t d = 0; d < dies; ++d) {
    c.dieSpecs.push_back(system.specs.at(system.specOf.at(d)));
    c.failed.push_back(system.failed(d));
    if (!system.failed(d)) live.push_back(d);
  }
  if (live.empty()) failAt(p, "hardware.failed_dies", "every die failed");
  c.scheduler.maxRunning = static_cast<uint32_t>(p.integer("scheduler.max_running"));
  c.scheduler.tokenBudget = static_cast<uint32_t>(p.integer("scheduler.token_budget"));
  c.scheduler.prefillChunk = static_cast<uint32_t>(p.integer("scheduler.prefill_chunk"));
  c.scheduler.mixPrefillDecode = p.boolean("scheduler.mix_prefill_decode");
  c.workload = section(p, "workload");
  (void)workload::makeRequestGenerator(c.workload, seed, "workload");  // checks the section now
  c.routing = section(p, "routing");
  (void)makeRouter(c.routing, c.model, seed);
  c.seed = seed;
  c.activationBytes = static_cast<uint32_t>(p.integer("serving.activation_bytes"));
  c.computeType = blaming(p, "serving.compute_type", [&] { return parseComputeType(p.text("serving.compute_type"), c.model); });
  c.expertEngine = p.text("serving.expert_engine");
  placeExperts(p, system, c, seed);
  c.online.decider = context.placement;
  c.kvMemoryFraction = p.real("serving.kv_memory_fraction");
  c.traceStart = SimTime::zero() + p.duration("serving.trace_start");
  c.training.steps = static_cast<uint32_t>(p.integer("training.steps"));
  c.training.sequences = static_cast<uint32_t>(p.integer("training.sequences"));
  c.training.sequenceLength = static_cast<uint32_t>(p.integer("training.sequence_length"));
  c.training.microBatches = static_cast<uint32_t>(p.integer("training.micro_batches"));
  c.training.optimizerBytesPerParam = static_cast<uint32_t>(p.integer("training.optimizer_bytes_per_param"));
  if (const std::string& pipeline = p.text("training.pipeline"); pipeline == "streamed")
    c.training.pipeline = TrainingPipeline::Streamed;
  else if (pipeline != "load_then_compute")
    failAt(p, "training.pipeline", "unknown pipeline \"" + pipeline + "\" (load_then_compute, streamed)");
  c.training.streamSlices = static_cast<uint32_t>(p.integer("training.stream_slices"));
  if (const TrainingConfig& t = c.training;
      t.steps > 0 && (t.microBatches < 1 || t.sequences % t.microBatches != 0 || t.sequences < t.microBatches))
    failAt(p, "training.micro_batches",
           detail::concat(t.sequences, " sequences do not split into ", t.microBatches,
                          " equal micro-batches (training.sequences, training.micro_batches)"));
  c.attentionEngine = p.text("serving.attention_engine");
  for (const std::string& engine : {c.attentionEngine, c.expertEngine})  // refuse unknown engines now
    if (!engine.empty() && engine != "auto" && engine != "coprocess")
      for (const hw::DieSpec& spec : c.dieSpecs) (void)spec.engineIndex(engine);
  c.traceEnd = SimTime::zero() + p.duration("serving.trace_end");
  if (const std::string& overlap = p.text("serving.overlap"); overlap == "two_batch") {
    if (c.training.steps > 0)
      failAt(p, "serving.overlap",
             detail::concat("two_batch overlaps serving steps only; training (training.steps ", c.training.steps,
                            ") runs with serving.overlap none"));
    c.twoBatchOverlap = true;
  } else if (overlap != "none") {
    failAt(p, "serving.overlap", "unknown overlap \"" + overlap + "\" (none, two_batch)");
  }
  if (const std::string& split = p.text("serving.array_split"); split == "adaptive") {
    if (c.training.steps > 0)
      failAt(p, "serving.array_split", "adaptive splits serving steps only; training runs with array_split static");
    if (!c.attentionEngine.empty() || !c.expertEngine.empty())
      failAt(p, "serving.array_split",
             "adaptive splits one array; it does not combine with serving.attention_engine / expert_engine");
    c.arraySplitRows = static_cast<uint32_t>(p.integer("serving.array_split_rows"));
    for (hw::DieSpec& spec : c.dieSpecs) {
      if (spec.engines.size() != 1)
        failAt(p, "serving.array_split",
               detail::concat("adaptive splits a die's one array; die ", spec.name, " has ", spec.engines.size(),
                              " engines"));
      const uint64_t rows = spec.engines[0].compute.tile.m;
      if (rows % c.arraySplitRows != 0)
        failAt(p, "serving.array_split_rows",
               detail::concat(c.arraySplitRows, " rows do not divide the ", rows, " rows of die ", spec.name,
                              "'s array (tile m)"));
      hw::EngineSpec gemv = spec.engines[0];  // the same array's other partition: a second timeline
      gemv.name = "gemv";
      spec.engines.push_back(std::move(gemv));
    }
  } else if (split != "static") {
    failAt(p, "serving.array_split", "unknown array split \"" + split + "\" (static, adaptive)");
  }
  if (const std::string& vcache = p.text("serving.vcache"); vcache != "off") {
    c.vcachePolicy = blaming(p, "serving.vcache_policy",
                             [&] { return hw::parseVCachePolicy(p.text("serving.vcache_policy"), "serving.vcache_policy"); });
    for (const hw::DieSpec& spec : c.dieSpecs) {
      const hw::ComputeDieSpec& array = spec.engines[0].compute;
      const uint64_t bytes =
          vcache == "die" ? array.sramCapacity.value : blaming(p, "serving.vcache", [&] { return hw::parseBytes(vcache).value; });
      if (bytes == 0 || array.sramBandwidth.bytesPerSecond == 0)
        failAt(p, "serving.vcache",
               detail::concat("die ", spec.name, " has no SRAM tier for a V-Cache (capacity ", array.sramCapacity.value,
                              " B, bandwidth ", array.sramBandwidth.bytesPerSecond, " B/s)"));
      c.vcacheBytes = bytes;
    }
  }
  const Params workloadParams = c.workload;
  std::shared_ptr<ServingPlan> plan;
  try {
    plan = std::make_shared<ServingPlan>(std::move(c));  // checks that the model fits
  } catch (const Error& e) {
    // The weights leave no room on a die: the model (or the system) decides it, or the spare room
    // asked for beside the experts the placement fitted.
    const std::string_view what = e.what();
    if (e.kind() == ErrorKind::InvalidConfig &&
        ((what.starts_with("model ") && what.find(" does not fit die ") != std::string_view::npos) ||
         (what.starts_with("die ") && what.find(": no room left for any KV cache") != std::string_view::npos)))
      failAt(p, p.integer("mapping.spare_experts") > 0 ? "mapping.spare_experts" : fitKey(p), e.what());
    throw;
  }
  // The longest request the workload can draw must fit one die's KV cache (a trace is checked per
  // request as it arrives).
  if (workloadParams.text("kind") != "trace" && p.integer("training.steps") == 0) {
    auto longest = [&](const std::string& what) {
      return workloadParams.text(what + "_distribution") == "fixed" ? workloadParams.integer(what + "_tokens")
                                                                     : workloadParams.integer(what + "_max");
    };
    uint64_t largest = 0;
    for (uint32_t die : live) largest = std::max(largest, plan->kvCapacityTokens(die));
    const auto need = static_cast<uint64_t>(longest("prompt") + longest("output"));
    if (need > largest) {
      // Blamed: the longer of the two lengths the scenario gives (the longer one, if it gives neither).
      auto key = [&](const std::string& what) {
        return "workload." + what +
               (workloadParams.text(what + "_distribution") == "fixed" ? "_tokens" : "_max");
      };
      const bool promptLonger = longest("prompt") >= longest("output");
      const bool promptGiven = p.line(key("prompt")) > 0, outputGiven = p.line(key("output")) > 0;
      const std::string blamed =
          key(promptGiven && (promptLonger || !outputGiven) ? "prompt"
              : outputGiven                                  ? "output"
              : promptLonger                                 ? "prompt"
                                                             : "output");
      failAt(p, blamed,
             detail::concat("the longest request (", longest("prompt"), " prompt + ", longest("output"),
                            " output tokens) needs more KV cache than any die holds (", largest, " tokens of ",
                            plan->config().model.kvCacheBytesPerToken(), " B)"));
    }
  }

  hw::NetworkDescription d = system.network;
  d.endpointType = "moe.Die";
  hw::Network net = hw::buildNetwork(d, system.routes);
  std::vector<ComponentId> members(dies + 1);
  for (const ComponentSpec& spec : net.graph.components())
    if (spec.type == "moe.Die") members[1 + spec.params.integer("index")] = spec.id;
  members[0] = net.graph.addComponent("host", "moe.Host", {{"step_overhead", p.text("serving.step_overhead")}},
                                      /*expectedLoad=*/0.1);
  net.graph.addFabric("ctl", "ctl", members, p.duration("serving.command_latency"), /*expectedTraffic=*/0.01);
  // Each live step plan holds a dies x dies token matrix per MoE layer, and two more under two-batch
  // overlap (counted always); three plans were live at the peak of a 16x16 quick start (valgrind
  // massif), four are counted (a calibration of the service's memory bound, bench_run_memory).
  constexpr uint64_t kLivePlans = 4;
  const uint64_t matrices = uint64_t{c.model.moeLayerCount()} * 3;
  net.graph.addStateBytes(kLivePlans * matrices * dies * dies * sizeof(uint32_t));
  net.graph.data().put<ServingPlan>(kServingDataKey, plan);
  return std::move(net.graph);
}

void registerServingModel(ModelCatalog& catalog) {
  catalog.add({"moe_serving",
               "An MoE LLM served on a system of dies: continuous batching, attention, expert dispatch and combine "
               "over the network, expert FFNs; latency, throughput, energy (models/moe/serving_model.h).",
               servingParams(), buildServing});
  std::vector<ParamSpec> training = servingParams();
  for (ParamSpec& spec : training) {
    if (spec.name == "training.steps") {
      spec.defaultValue = "2";
      spec.min = 1;
    }
    if (spec.name == "model.preset") spec.defaultValue = "qwen3-30b-a3b";
  }
  catalog.add({"moe_training",
               "MoE post-training on a system of dies (Mozart): micro-batches forward and backward through every "
               "layer with expert dispatch and combine both ways, gradient all-reduce, optimizer; step time and "
               "tokens/s (models/moe/serving_model.h).",
               std::move(training), buildServing});
}

}  // namespace wafersim::moe
