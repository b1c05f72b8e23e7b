#include "models/moe/serving_plan.h"

#include <algorithm>

#include "models/workload/requests.h"
#include "models/workload/synthetic_router.h"
#include "models/workload/trace_router.h"
#include "sim/error.h"

namespace wafersim::moe {

std::vector<ParamSpec> routingParams() {
  return {{"kind", ParamType::Text, "synthetic", "synthetic or trace", {}, {}},
          {"zipf", ParamType::Real, "0", "Zipf exponent of expert popularity per layer (0: uniform)", 0, 10},
          {"groups", ParamType::Integer, "1", "co-activation groups of experts", 1, 1e6},
          {"group_probability", ParamType::Real, "0", "probability a token's experts come from one group", 0, 1},
          {"layer_correlation", ParamType::Real, "0", "probability a choice follows the previous layer's", 0, 1},
          {"token_correlation", ParamType::Real, "0", "probability a token repeats its request's previous token", 0, 1},
          {"drift_every_steps", ParamType::Integer, "0", "rotate the hot experts every N steps (0: never)", 0, 1e12},
          {"drift_shift", ParamType::Integer, "1", "ranks rotated per drift", 1, 1e6},
          {"group_limited", ParamType::Boolean, "true",
           "use the model's group-limited routing (n_group, topk_group) where it has one", {}, {}},
          {"trace_file", ParamType::Text, "", "routing trace (kind trace): HD-MoE or Patterns-behind-Chaos JSON", {}, {}}};
}

std::unique_ptr<workload::ExpertRouter> makeRouter(const Params& p, const MoeModelConfig& model, uint64_t seed) {
  const std::string& kind = p.text("kind");
  if (kind == "synthetic") {
    workload::SyntheticRouterConfig c;
    c.layers = model.moeLayerCount();
    c.experts = model.experts;
    c.topK = model.topK;
    c.seed = seed;
    c.zipfExponent = p.real("zipf");
    c.groups = static_cast<uint32_t>(p.integer("groups"));
    c.groupProbability = p.real("group_probability");
    c.layerCorrelation = p.real("layer_correlation");
    c.tokenCorrelation = p.real("token_correlation");
    c.driftEverySteps = static_cast<uint64_t>(p.integer("drift_every_steps"));
    c.driftShift = static_cast<uint32_t>(p.integer("drift_shift"));
    if (p.boolean("group_limited") && model.expertGroups > 0 && model.topkGroups > 0) {
      c.limitGroups = model.expertGroups;  // each token's experts lie in at most topk_group groups
      c.limitTopkGroups = model.topkGroups;
    }
    return std::make_unique<workload::SyntheticRouter>(c);
  }
  if (kind == "trace") {
    WAFERSIM_REQUIRE(!p.text("trace_file").empty(), "routing.trace_file: needed by routing kind trace");
    workload::RoutingTraceOptions o;
    o.experts = model.experts;
    o.topK = model.topK;
    o.layers = model.moeLayerCount();
    return std::make_unique<workload::TraceRouter>(p.text("trace_file"), o);
  }
  fail(ErrorKind::InvalidConfig, "routing.kind: unknown router \"", kind, "\" (synthetic, trace)");
}

struct ServingPlan::State {
  std::unique_ptr<BatchScheduler> scheduler;
  std::unique_ptr<workload::ExpertRouter> router;
  uint64_t formed = 0;     // last step formed
  uint64_t completed = 0;  // last step completed
  std::map<uint64_t, std::shared_ptr<const StepPlan>> plans;        // the last two
  std::map<uint64_t, std::vector<RequestRecord>> finished;          // by step, the last few
  std::vector<workload::TokenRef> tokens;
  std::vector<uint32_t> tokenDie;
  std::vector<workload::ExpertId> choices;
};

ServingPlan::ServingPlan(ServingConfig config) : config_(std::move(config)) {
  const MoeModelConfig& m = config_.model;
  m.validate();
  WAFERSIM_REQUIRE(config_.dies >= 1 && config_.dieSpecs.size() == config_.dies, "serving: one die spec per die");
  WAFERSIM_REQUIRE(config_.expertDie.size() == m.moeLayerCount(), "serving: placement of ", config_.expertDie.size(),
                   " MoE layers, the model has ", m.moeLayerCount());
  for (const auto& layer : config_.expertDie) {
    WAFERSIM_REQUIRE(layer.size() == m.experts, "serving: placement of ", layer.size(), " experts per layer, the model has ",
                     m.experts);
    for (uint32_t d : layer) WAFERSIM_REQUIRE(d < config_.dies, "serving: an expert is placed on die ", d, " of ", config_.dies);
  }
  WAFERSIM_REQUIRE(config_.failed.empty() || config_.failed.size() == config_.dies, "serving: one failed flag per die");
  if (const TrainingConfig& t = config_.training; t.steps > 0)
    WAFERSIM_REQUIRE(t.microBatches >= 1 && t.sequences % t.microBatches == 0 && t.sequences >= t.microBatches &&
                         t.sequenceLength >= 1,
                     "training: ", t.sequences, " sequences do not split into ", t.microBatches,
                     " equal micro-batches (training.sequences, training.micro_batches)");
  for (const auto& layer : config_.expertDie)
    for (uint32_t d : layer) WAFERSIM_REQUIRE(!dead(d), "serving: an expert is placed on die ", d, ", which failed");
  for (uint32_t d = 0; d < config_.dies; ++d) {
    if (dead(d)) continue;
    const uint64_t capacity = config_.dieSpecs[d].dram.capacity.value;
    const uint64_t resident = residentBytes(d);
    WAFERSIM_REQUIRE(resident < capacity, "model ", m.name, " does not fit die ", d, " (", config_.dieSpecs[d].name,
                     "): its weights need ", resident, " B of ", capacity,
                     " B (more dies, a larger memory, or fewer layers)");
    if (const TrainingConfig& t = config_.training; t.steps > 0) {
      // Activations kept for the backward pass of one micro-batch. ASSUMPTION: 4 hidden-sized bf16
      // tensors per token per layer (the inputs of attention, of the FFN/MoE block and of the
      // projections they need again), no recomputation.
      uint64_t live = 0;
      for (uint32_t o = 0; o < config_.dies; ++o) live += dead(o) ? 0 : 1;
      const uint64_t sequences = (t.sequences / t.microBatches + live - 1) / live;  // on the busiest die
      const uint64_t activations = sequences * t.sequenceLength * m.hiddenSize * 2 * 4 * m.layers;
      WAFERSIM_REQUIRE(resident + activations <= capacity, "training: die ", d, " (", config_.dieSpecs[d].name,
                       ") cannot hold ", resident, " B of weights and ", activations,
                       " B of activations for one micro-batch in ", capacity,
                       " B (more micro-batches, shorter sequences, or more dies)");
      continue;
    }
    WAFERSIM_REQUIRE(kvCapacityTokens(d) > 0, "die ", d, ": no room left for any KV cache after ", resident,
                     " B of weights");
  }
}

ServingPlan::~ServingPlan() = default;

uint64_t ServingPlan::replicatedBytes() const {
  const MoeModelConfig& m = config_.model;
  return m.totalWeightBytes() - uint64_t{m.moeLayerCount()} * m.experts * m.expertWeightBytes();
}

uint64_t ServingPlan::residentBytes(uint32_t die) const {
  const MoeModelConfig& m = config_.model;
  const uint64_t allExperts = uint64_t{m.moeLayerCount()} * m.experts * m.expertWeightBytes();
  uint64_t mine = 0;
  for (const auto& layer : config_.expertDie)
    for (uint32_t d : layer) mine += d == die ? m.expertWeightBytes() : 0;
  return m.totalWeightBytes() - allExperts + mine;  // everything but routed experts is replicated
}

bool ServingPlan::dead(uint32_t die) const { return !config_.failed.empty() && config_.failed[die]; }

uint64_t ServingPlan::kvCapacityTokens(uint32_t die) const {
  if (dead(die)) return 0;
  const uint64_t capacity = config_.dieSpecs[die].dram.capacity.value;
  const uint64_t resident = residentBytes(die);
  if (resident >= capacity) return 0;
  const auto usable = static_cast<uint64_t>(static_cast<double>(capacity - resident) * config_.kvMemoryFraction);
  return usable / config_.model.kvCacheBytesPerToken();
}

void ServingPlan::resetIfRerun(uint64_t k, bool cached) const {
  // Valid: the next step, or (for dies) one already made. Anything else is a new run of the same
  // graph, which starts at step 1.
  if (state_ && (state_->formed + 1 == k || (cached && state_->plans.count(k)))) return;
  WAFERSIM_ASSERT(!state_ || k == 1, "serving: step ", k, " announced after step ", state_->formed);
  state_ = std::make_unique<State>();
  std::vector<uint64_t> kv(config_.dies);
  for (uint32_t d = 0; d < config_.dies; ++d) kv[d] = kvCapacityTokens(d);
  state_->scheduler = std::make_unique<BatchScheduler>(config_.scheduler, std::move(kv),
                                                       workload::makeRequestGenerator(config_.workload, config_.seed));
  state_->router = makeRouter(config_.routing, config_.model, config_.seed);
}

void ServingPlan::completeUpTo(uint64_t k, SimTime prevEnd) const {
  State& s = *state_;
  WAFERSIM_ASSERT(k >= 1 && s.formed + 1 >= k, "serving: step ", k, " announced after step ", s.formed);
  if (k >= 2 && s.completed < k - 1) {
    WAFERSIM_ASSERT(s.formed == k - 1, "serving: step ", k - 1, " was never formed");
    std::vector<RequestRecord>& done = s.finished[k - 1];
    s.scheduler->complete(prevEnd, done);
    for (const RequestRecord& r : done) s.router->requestFinished(r.id);
    s.completed = k - 1;
    while (s.finished.size() > 4) s.finished.erase(s.finished.begin());
  }
}

SimTime ServingPlan::nextWorkAt(uint64_t k, SimTime prevEnd, SimTime now) const {
  std::lock_guard lock(mutex_);
  resetIfRerun(k, false);
  if (config_.training.steps > 0) {
    state_->completed = k - 1;
    return k <= uint64_t{config_.training.steps} * config_.training.microBatches ? now : SimTime::never();
  }
  completeUpTo(k, prevEnd);
  return state_->scheduler->nextWorkAt(now);
}

std::vector<RequestRecord> ServingPlan::finishedAfter(uint64_t k) const {
  std::lock_guard lock(mutex_);
  auto it = state_->finished.find(k);
  return it == state_->finished.end() ? std::vector<RequestRecord>{} : it->second;
}

uint64_t ServingPlan::preemptions() const {
  std::lock_guard lock(mutex_);
  return state_ ? state_->scheduler->preemptions() : 0;
}

std::shared_ptr<const StepPlan> ServingPlan::step(uint64_t k, SimTime prevEnd, SimTime start) const {
  std::lock_guard lock(mutex_);
  resetIfRerun(k, true);
  State& s = *state_;
  if (auto it = s.plans.find(k); it != s.plans.end()) {
    WAFERSIM_ASSERT(it->second->start == start, "serving: step ", k, " announced with two start times");
    return it->second;
  }
  const TrainingConfig& tc = config_.training;
  if (tc.steps == 0) completeUpTo(k, prevEnd);
  WAFERSIM_ASSERT(s.formed + 1 == k, "serving: step ", k, " after step ", s.formed);
  const MoeModelConfig& m = config_.model;
  const uint32_t D = config_.dies;
  auto plan = std::make_shared<StepPlan>();
  plan->step = k;
  plan->start = start;
  if (tc.steps > 0) {
    // Micro-batch k: its sequences dealt round-robin over the working dies.
    plan->training = true;
    plan->trainingStep = (k - 1) / tc.microBatches + 1;
    plan->firstMicroBatch = (k - 1) % tc.microBatches == 0;
    plan->lastMicroBatch = k % tc.microBatches == 0;
    std::vector<uint32_t> live;
    for (uint32_t d = 0; d < D; ++d)
      if (!dead(d)) live.push_back(d);
    const uint32_t perMicroBatch = tc.sequences / tc.microBatches;
    for (uint32_t j = 0; j < perMicroBatch; ++j)
      plan->batch.push_back({(k - 1) * perMicroBatch + j, live[j % live.size()], 0, tc.sequenceLength, true, false});
  } else {
    plan->batch = s.scheduler->form(start);
  }
  s.formed = k;
  plan->dieTokens.assign(D, 0);
  plan->dieEmitting.assign(D, 0);
  s.tokens.clear();
  s.tokenDie.clear();
  for (const BatchEntry& e : plan->batch) {
    plan->dieTokens[e.die] += e.newTokens;
    plan->dieEmitting[e.die] += e.emits ? 1 : 0;
    (e.prefill ? plan->prefillTokens : plan->decodeTokens) += e.newTokens;
    for (uint32_t t = 0; t < e.newTokens; ++t) {
      s.tokens.push_back({e.request, e.contextBefore + t, e.prefill});
      s.tokenDie.push_back(e.die);
    }
  }
  const uint32_t k_ = m.topK;
  s.choices.resize(s.tokens.size() * k_);
  plan->moe.resize(m.moeLayerCount());
  std::vector<uint32_t> seen(D, 0);
  uint32_t stamp = 0;
  for (uint32_t l = 0; l < m.moeLayerCount(); ++l) {
    LayerRouting& r = plan->moe[l];
    r.pairTokens.assign(size_t{D} * D, 0);
    r.expertTokens.assign(m.experts, 0);
    if (s.tokens.empty()) continue;
    s.router->route(l, s.tokens, s.choices);
    const std::vector<uint32_t>& where = config_.expertDie[l];
    for (size_t t = 0; t < s.tokens.size(); ++t) {
      ++stamp;
      const uint32_t src = s.tokenDie[t];
      for (uint32_t j = 0; j < k_; ++j) {
        const workload::ExpertId e = s.choices[t * k_ + j];
        ++r.expertTokens[e];
        const uint32_t dst = where[e];
        if (seen[dst] != stamp) {  // a token goes to a die once, whatever number of its experts live there
          seen[dst] = stamp;
          ++r.pairTokens[size_t{src} * D + dst];
        }
      }
    }
  }
  std::shared_ptr<const StepPlan> result = plan;
  s.plans[k] = result;
  while (s.plans.size() > 2) s.plans.erase(s.plans.begin());
  return result;
}

}  // namespace wafersim::moe
