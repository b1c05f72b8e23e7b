#include "models/moe/serving_model.h"

#include <algorithm>
#include <memory>
#include <string>

#include "models/hardware/systems.h"
#include "models/moe/model_params.h"
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
  addSection(all, "mapping",
             {{"policy", ParamType::Text, "ep", "ep or ep_contiguous (expert parallelism)", {}, {}},
              {"layer_shift", ParamType::Integer, "0", "ep: expert e of MoE layer l goes to die (e + l * shift) mod dies",
               0, 1e6}});
  addSection(all, "training",
             {{"steps", ParamType::Integer, "0", "training steps (0: serve requests instead)", 0, 1e6},
              {"sequences", ParamType::Integer, "32", "sequences per training step", 1, 1e7},
              {"sequence_length", ParamType::Integer, "512", "tokens per sequence", 1, 1e7},
              {"micro_batches", ParamType::Integer, "4", "micro-batches per step (divides sequences)", 1, 1e6},
              {"optimizer_bytes_per_param", ParamType::Integer, "16",
               "bytes the optimizer reads and writes per parameter (Adam, fp32 states and master weights)", 0, 1024}});
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
              {"expert_engine", ParamType::Text, "", "engine for the routed experts' FFNs (pim, xpu, auto)", {}, {}},
              {"trace_start", ParamType::Duration, "0 ps", "start of the Perfetto trace window (trace.json)", 0, {}},
              {"trace_end", ParamType::Duration, "0 ps", "end of the trace window (0: no trace)", 0, {}}});
  return all;
}

SystemGraph buildServing(const Params& p, uint64_t seed) {
  const hw::HardwareSystem system = hw::describeSystem(section(p, "hardware"));
  const auto dies = static_cast<uint32_t>(system.network.endpoints.size());
  ServingConfig c;
  c.model = moeModelFromParams(section(p, "model"), "model");
  WAFERSIM_REQUIRE(c.model.experts > 0 && c.model.moeLayerCount() > 0, "model ", c.model.name,
                   ": moe_serving needs an MoE model (experts and MoE layers)");
  c.dies = dies;
  std::vector<uint32_t> live;
  for (uint32_t d = 0; d < dies; ++d) {
    c.dieSpecs.push_back(system.specs.at(system.specOf.at(d)));
    c.failed.push_back(system.failed(d));
    if (!system.failed(d)) live.push_back(d);
  }
  WAFERSIM_REQUIRE(!live.empty(), "hardware.failed_dies: every die failed");
  c.scheduler.maxRunning = static_cast<uint32_t>(p.integer("scheduler.max_running"));
  c.scheduler.tokenBudget = static_cast<uint32_t>(p.integer("scheduler.token_budget"));
  c.scheduler.prefillChunk = static_cast<uint32_t>(p.integer("scheduler.prefill_chunk"));
  c.scheduler.mixPrefillDecode = p.boolean("scheduler.mix_prefill_decode");
  c.workload = section(p, "workload");
  (void)workload::makeRequestGenerator(c.workload, seed, "workload");  // checks the section now
  c.routing = section(p, "routing");
  (void)makeRouter(c.routing, c.model, seed);
  c.seed = seed;
  const std::string& policy = p.text("mapping.policy");
  const auto shift = static_cast<uint64_t>(p.integer("mapping.layer_shift"));
  c.expertDie.assign(c.model.moeLayerCount(), std::vector<uint32_t>(c.model.experts));
  for (uint32_t l = 0; l < c.model.moeLayerCount(); ++l)
    for (uint32_t e = 0; e < c.model.experts; ++e) {
      // Experts go to the dies that work.
      if (policy == "ep") c.expertDie[l][e] = live[(e + l * shift) % live.size()];
      else if (policy == "ep_contiguous") c.expertDie[l][e] = live[uint64_t{e} * live.size() / c.model.experts];
      else fail(ErrorKind::InvalidConfig, "mapping.policy: unknown policy \"", policy, "\" (ep, ep_contiguous)");
    }
  c.kvMemoryFraction = p.real("serving.kv_memory_fraction");
  c.computeType = parseComputeType(p.text("serving.compute_type"), c.model);
  c.activationBytes = static_cast<uint32_t>(p.integer("serving.activation_bytes"));
  c.traceStart = SimTime::zero() + p.duration("serving.trace_start");
  c.training.steps = static_cast<uint32_t>(p.integer("training.steps"));
  c.training.sequences = static_cast<uint32_t>(p.integer("training.sequences"));
  c.training.sequenceLength = static_cast<uint32_t>(p.integer("training.sequence_length"));
  c.training.microBatches = static_cast<uint32_t>(p.integer("training.micro_batches"));
  c.training.optimizerBytesPerParam = static_cast<uint32_t>(p.integer("training.optimizer_bytes_per_param"));
  c.attentionEngine = p.text("serving.attention_engine");
  c.expertEngine = p.text("serving.expert_engine");
  for (const std::string& engine : {c.attentionEngine, c.expertEngine})  // refuse unknown engines now
    if (!engine.empty() && engine != "auto")
      for (const hw::DieSpec& spec : c.dieSpecs) (void)spec.engineIndex(engine);
  c.traceEnd = SimTime::zero() + p.duration("serving.trace_end");
  const Params workloadParams = c.workload;
  auto plan = std::make_shared<ServingPlan>(std::move(c));  // checks that the model fits
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
    WAFERSIM_REQUIRE(need <= largest, "workload: the longest request (", longest("prompt"), " prompt + ",
                     longest("output"), " output tokens) needs more KV cache than any die holds (", largest,
                     " tokens of ", plan->config().model.kvCacheBytesPerToken(), " B)");
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
