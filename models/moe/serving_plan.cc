#include "models/moe/serving_plan.h"

#include <algorithm>
#include <optional>

#include "models/workload/requests.h"
#include "placement/cost_model.h"
#include "placement/policy.h"
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
          {"trace_file", ParamType::Path, "", "routing trace (kind trace): HD-MoE or Patterns-behind-Chaos JSON", {}, {}},
          {"trace_layers", ParamType::Text, "exact",
           "exact: the trace has the model's MoE layers; first: a trace with more replays its first ones (a model cut "
           "short with model.layers)",
           {}, {}}};
}

std::unique_ptr<workload::ExpertRouter> makeRouter(const Params& p, const MoeModelConfig& model, uint64_t seed,
                                                   uint64_t structureSeed) {
  const std::string& kind = p.text("kind");
  if (kind == "synthetic") {
    workload::SyntheticRouterConfig c;
    c.layers = model.moeLayerCount();
    c.experts = model.experts;
    c.topK = model.topK;
    c.seed = seed;
    c.structureSeed = structureSeed;
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
    const std::string& layers = p.text("trace_layers");
    if (layers != "exact" && layers != "first")
      fail(ErrorKind::InvalidConfig, "routing.trace_layers: \"", layers, "\" is not exact or first");
    o.firstLayers = layers == "first";
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
  std::vector<uint8_t> tokenMicro;  // two-batch overlap: each token's micro-batch
  std::vector<workload::ExpertId> choices;
  // Placement: the one in force, a decided one waiting for its step, the online epochs.
  std::shared_ptr<const placement::Placement> current, pending;
  SimTime pendingAt = SimTime::zero();
  size_t pendingLog = 0;
  uint64_t epoch = 0, epochSteps = 0;
  SimTime nextEpochAt = SimTime::zero();
  placement::LoadProfile profile;
  std::unique_ptr<placement::Policy> policy;
  std::vector<PlacementLogEntry> log;
  // Routing scratch.
  std::vector<uint64_t> requestIds;
  std::vector<uint32_t> positions, replicaBase, replicaTokens, turn, seen, seenGroup;
  std::vector<uint32_t> live, blockFill, blockDie, dieExpertTokens;  // oblivious execution
  std::vector<uint64_t> dieLoad;
  std::vector<std::vector<ExpertWork>> dieWork;
  uint32_t stamp = 0;
};

ServingPlan::ServingPlan(ServingConfig config) : config_(std::move(config)) {
  const MoeModelConfig& m = config_.model;
  m.validate();
  WAFERSIM_REQUIRE(config_.dies >= 1 && config_.dieSpecs.size() == config_.dies, "serving: one die spec per die");
  const placement::Placement& placed = config_.placement;
  WAFERSIM_REQUIRE(placed.layers() == m.moeLayerCount() && placed.experts() == m.experts && placed.dies() == config_.dies,
                   "serving: a placement of ", placed.layers(), " MoE layers x ", placed.experts(), " experts on ",
                   placed.dies(), " dies; the model has ", m.moeLayerCount(), " x ", m.experts, " on ", config_.dies);
  WAFERSIM_REQUIRE(config_.failed.empty() || config_.failed.size() == config_.dies, "serving: one failed flag per die");
  WAFERSIM_REQUIRE(config_.hops.empty() || config_.hops.size() == size_t{config_.dies} * config_.dies,
                   "serving: hops of ", config_.hops.size(), " pairs for ", config_.dies, " dies");
  placed.validate("mapping", config_.failed);
  const std::vector<uint64_t> parts = placed.partsPerDie();
  config_.expertReserveBytes.resize(config_.dies, 0);
  for (uint32_t d = 0; d < config_.dies; ++d)
    config_.expertReserveBytes[d] = std::max(config_.expertReserveBytes[d], expertBytes(parts[d]));
  if (const TrainingConfig& t = config_.training; t.steps > 0)
    WAFERSIM_REQUIRE(t.microBatches >= 1 && t.sequences % t.microBatches == 0 && t.sequences >= t.microBatches &&
                         t.sequenceLength >= 1,
                     "training: ", t.sequences, " sequences do not split into ", t.microBatches,
                     " equal micro-batches (training.sequences, training.micro_batches)");
  WAFERSIM_REQUIRE(!config_.twoBatchOverlap || config_.training.steps == 0,
                   "serving.overlap: two_batch overlaps serving steps only; training (training.steps ",
                   config_.training.steps, ") runs with serving.overlap none");
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
  return replicatedBytes() + config_.expertReserveBytes[die];  // everything but routed experts is replicated
}

uint64_t ServingPlan::expertBytes(uint64_t parts) const {
  const auto bytes = static_cast<unsigned __int128>(parts) * config_.model.expertWeightBytes();
  return static_cast<uint64_t>((bytes + placement::kWhole - 1) / placement::kWhole);
}

std::vector<PlacementLogEntry> ServingPlan::placementLog() const {
  std::lock_guard lock(mutex_);
  return state_ ? state_->log : std::vector<PlacementLogEntry>{};
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
  state_->current = std::make_shared<const placement::Placement>(config_.placement);
  const OnlinePlacementConfig& o = config_.online;
  if (!o.policy.empty() || o.replaying) {
    const placement::PolicyNeeds needs =
        o.replaying ? placement::PolicyNeeds{} : placement::policyType(o.policy, "mapping.online_policy").needs;
    state_->profile = placement::LoadProfile(config_.model.moeLayerCount(), config_.model.experts, config_.dies,
                                             needs.pairs, needs.next);
    if (!o.replaying && o.service.empty()) state_->policy = placement::policyType(o.policy, "mapping.online_policy").make();
    state_->nextEpochAt = SimTime::zero() + o.epoch;
  }
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
  return stepLocked(k, prevEnd, start);
}

void ServingPlan::replay(const std::vector<StepAnnouncement>& log) const {
  std::lock_guard lock(mutex_);
  if (log.empty()) return;
  if (state_) {
    // Usable when its last step formed is on the log (the log's step, with the log's start): then
    // it is the state the log leads to, so far. Anything else, a state past the log's end
    // included, is another run of the same graph.
    const uint64_t formed = state_->formed;
    auto it = state_->plans.find(formed);
    if (formed == 0 || formed > log.size() || it == state_->plans.end() ||
        it->second->start != SimTime::fromPs(log[formed - 1].startPs))
      state_.reset();
  }
  for (uint64_t k = state_ ? state_->formed + 1 : 1; k <= log.size(); ++k)
    stepLocked(k, SimTime::fromPs(log[k - 1].prevEndPs), SimTime::fromPs(log[k - 1].startPs));
}

std::shared_ptr<const StepPlan> ServingPlan::stepLocked(uint64_t k, SimTime prevEnd, SimTime start) const {
  resetIfRerun(k, true);
  State& s = *state_;
  if (auto it = s.plans.find(k); it != s.plans.end()) {
    WAFERSIM_ASSERT(it->second->start == start, "serving: step ", k, " announced with two start times");
    return it->second;
  }
  const TrainingConfig& tc = config_.training;
  if (tc.steps == 0) completeUpTo(k, prevEnd);
  WAFERSIM_ASSERT(s.formed + 1 == k, "serving: step ", k, " after step ", s.formed);
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
    if (tc.pipeline == TrainingPipeline::Streamed) {
      // As many slices as keep an expert's mean tokens per slice at a full array (the largest tile
      // rows of the dies' expert engines): a thinner slice would pad the array and run slower.
      uint64_t rows = 1;
      for (uint32_t d : live) rows = std::max<uint64_t>(rows, config_.dieSpecs[d].engines[0].compute.tile.m);
      const uint64_t perExpert =
          uint64_t{perMicroBatch} * tc.sequenceLength * config_.model.topK / config_.model.experts;
      plan->streamSlices = static_cast<uint32_t>(std::clamp<uint64_t>(perExpert / rows, 1, tc.streamSlices));
    }
  } else {
    plan->batch = s.scheduler->form(start);
    plan->waiting = s.scheduler->waiting();
  }
  s.formed = k;
  plan->dieTokens.assign(D, 0);
  plan->dieEmitting.assign(D, 0);
  s.tokens.clear();
  s.tokenDie.clear();
  s.tokenMicro.clear();
  const bool twoBatch = config_.twoBatchOverlap && !plan->training;
  std::vector<uint32_t> entriesOnDie(twoBatch ? D : 0, 0);
  if (twoBatch) plan->microDieTokens.assign(2, std::vector<uint32_t>(D, 0));
  for (const BatchEntry& e : plan->batch) {
    if (twoBatch) {  // each die's entries alternately, so both halves have work where the die has two
      const auto mb = static_cast<uint8_t>(entriesOnDie[e.die]++ % 2);
      plan->microBatchOf.push_back(mb);
      plan->microDieTokens[mb][e.die] += e.newTokens;
      s.tokenMicro.insert(s.tokenMicro.end(), e.newTokens, mb);
    }
    plan->dieTokens[e.die] += e.newTokens;
    plan->dieEmitting[e.die] += e.emits ? 1 : 0;
    (e.prefill ? plan->prefillTokens : plan->decodeTokens) += e.newTokens;
    for (uint32_t t = 0; t < e.newTokens; ++t) {
      s.tokens.push_back({e.request, e.contextBefore + t, e.prefill});
      s.tokenDie.push_back(e.die);
    }
  }
  decideOnline(*plan);
  route(*plan);
  if (config_.obliviousBlockTokens > 0) readRemoteWeights(*plan);
  std::shared_ptr<const StepPlan> result = plan;
  s.plans[k] = result;
  while (s.plans.size() > 2) s.plans.erase(s.plans.begin());
  return result;
}

void ServingPlan::route(StepPlan& plan) const {
  State& s = *state_;
  const MoeModelConfig& m = config_.model;
  const uint32_t D = config_.dies, K = m.topK, E = m.experts;
  plan.placement = s.current;
  const bool recording = s.profile.layers() > 0;
  if (recording) {
    s.requestIds.clear();
    s.positions.clear();
    for (const workload::TokenRef& t : s.tokens) {
      s.requestIds.push_back(t.request);
      s.positions.push_back(t.position);
    }
    ++s.epochSteps;
  }
  s.choices.resize(s.tokens.size() * K);
  s.seen.assign(D, 0);
  s.seenGroup.clear();  // sized by distribute; stamps restart
  s.stamp = 0;
  s.dieWork.resize(D);
  plan.moe.resize(m.moeLayerCount());
  if (!s.tokenMicro.empty()) plan.microMoe.assign(2, std::vector<LayerRouting>(m.moeLayerCount()));
  for (uint32_t l = 0; l < m.moeLayerCount(); ++l) {
    LayerRouting& r = plan.moe[l];
    for (auto& micro : plan.microMoe) {
      micro[l].pairTokens.assign(size_t{D} * D, 0);
      micro[l].expertTokens.assign(E, 0);
      micro[l].workBegin.assign(D + 1, 0);
    }
    r.pairTokens.assign(size_t{D} * D, 0);
    r.expertTokens.assign(E, 0);
    r.workBegin.assign(D + 1, 0);
    if (s.tokens.empty()) continue;
    s.router->route(l, s.tokens, s.choices);
    if (recording) s.profile.record(l, s.requestIds, s.positions, s.tokenDie, s.choices, K);
    distribute(plan, l, r, -1);
    for (int mb = 0; mb < static_cast<int>(plan.microMoe.size()); ++mb) distribute(plan, l, plan.microMoe[mb][l], mb);
  }
}

// Layer l's routing of the tokens of micro-batch mb (-1: all of them) from the router's choices
// in s.choices: tokens per die pair and per expert, each die's expert work.
void ServingPlan::distribute(const StepPlan& plan, uint32_t l, LayerRouting& r, int mb) const {
  if (config_.obliviousBlockTokens > 0) return distributeOblivious(r, mb);
  State& s = *state_;
  const uint32_t D = config_.dies, K = config_.model.topK, E = config_.model.experts;
  const placement::Placement& placed = *plan.placement;
  uint32_t& stamp = s.stamp;
  // Replica token counts, per expert from replicaBase[e].
  s.replicaBase.resize(E + 1);
  s.replicaBase[0] = 0;
  for (uint32_t e = 0; e < E; ++e)
    s.replicaBase[e + 1] = s.replicaBase[e] + static_cast<uint32_t>(placed.replicas(l, e).size());
  s.replicaTokens.assign(s.replicaBase[E], 0);
  s.turn.assign(E, 0);
  s.dieLoad.assign(D, 0);
  const std::vector<uint32_t>& groupOf = config_.groupOf;
  if (!groupOf.empty()) s.seenGroup.resize(*std::max_element(groupOf.begin(), groupOf.end()) + 1, 0);
  for (size_t t = 0; t < s.tokens.size(); ++t) {
    if (mb >= 0 && s.tokenMicro[t] != mb) continue;
    ++stamp;
    ++r.routedTokens;
    const uint32_t src = s.tokenDie[t];
    for (uint32_t j = 0; j < K; ++j) {
      const workload::ExpertId e = s.choices[t * K + j];
      ++r.expertTokens[e];
      const std::vector<placement::Replica>& copies = placed.replicas(l, e);
      uint32_t pick = 0;
      if (copies.size() > 1) pick = pickReplica(copies, src, s.turn[e]++, s.dieLoad, placed.split);
      ++s.replicaTokens[s.replicaBase[e] + pick];
      for (const placement::Shard& shard : copies[pick].shards) {
        s.dieLoad[shard.die] += shard.parts;
        if (s.seen[shard.die] != stamp) {  // a token goes to a die once, whatever number of its experts live there
          s.seen[shard.die] = stamp;
          ++r.pairTokens[size_t{src} * D + shard.die];
          ++r.dieCopies;
        }
        if (!groupOf.empty() && s.seenGroup[groupOf[shard.die]] != stamp) {
          s.seenGroup[groupOf[shard.die]] = stamp;
          ++r.groupCopies;
        }
      }
    }
  }
  for (auto& w : s.dieWork) w.clear();
  for (uint32_t e = 0; e < E; ++e) {
    const std::vector<placement::Replica>& copies = placed.replicas(l, e);
    for (size_t i = 0; i < copies.size(); ++i)
      if (const uint32_t n = s.replicaTokens[s.replicaBase[e] + i]; n > 0)
        for (const placement::Shard& shard : copies[i].shards)
          s.dieWork[shard.die].push_back({e, n, shard.parts, shard.engine});
  }
  r.work.clear();
  for (uint32_t d = 0; d < D; ++d) {
    r.workBegin[d] = static_cast<uint32_t>(r.work.size());
    r.work.insert(r.work.end(), s.dieWork[d].begin(), s.dieWork[d].end());
  }
  r.workBegin[D] = static_cast<uint32_t>(r.work.size());
}

// Oblivious execution: the layer's tokens of micro-batch mb (-1: all), as routed in s.choices, go
// to the die of their expert's open block; a block of obliviousBlockTokens opens on the next
// usable die in turn.
void ServingPlan::distributeOblivious(LayerRouting& r, int mb) const {
  State& s = *state_;
  const uint32_t D = config_.dies, K = config_.model.topK, E = config_.model.experts;
  const uint32_t block = config_.obliviousBlockTokens;
  const std::vector<uint32_t>& groupOf = config_.groupOf;
  if (!groupOf.empty()) s.seenGroup.resize(*std::max_element(groupOf.begin(), groupOf.end()) + 1, 0);
  if (s.live.empty())
    for (uint32_t d = 0; d < D; ++d)
      if (!dead(d)) s.live.push_back(d);
  s.blockFill.assign(E, 0);
  s.blockDie.assign(E, 0);
  s.dieExpertTokens.assign(size_t{D} * E, 0);
  uint64_t turn = 0;
  uint32_t& stamp = s.stamp;
  for (size_t t = 0; t < s.tokens.size(); ++t) {
    if (mb >= 0 && s.tokenMicro[t] != mb) continue;
    ++stamp;
    const uint32_t src = s.tokenDie[t];
    ++r.routedTokens;
    for (uint32_t j = 0; j < K; ++j) {
      const workload::ExpertId e = s.choices[t * K + j];
      ++r.expertTokens[e];
      if (s.blockFill[e]++ % block == 0) s.blockDie[e] = s.live[turn++ % s.live.size()];
      const uint32_t die = s.blockDie[e];
      ++s.dieExpertTokens[size_t{die} * E + e];
      if (s.seen[die] != stamp) {  // a token goes to a die once
        s.seen[die] = stamp;
        ++r.pairTokens[size_t{src} * D + die];
        ++r.dieCopies;
      }
      if (!groupOf.empty() && s.seenGroup[groupOf[die]] != stamp) {
        s.seenGroup[groupOf[die]] = stamp;
        ++r.groupCopies;
      }
    }
  }
  r.work.clear();
  for (uint32_t d = 0; d < D; ++d) {
    r.workBegin[d] = static_cast<uint32_t>(r.work.size());
    for (uint32_t e = 0; e < E; ++e)
      if (const uint32_t n = s.dieExpertTokens[size_t{d} * E + e]; n > 0) r.work.push_back({e, n});
  }
  r.workBegin[D] = static_cast<uint32_t>(r.work.size());
}

// Oblivious execution: every expert a die computes this step without holding it, at every MoE
// layer, is read whole from the nearest die holding a shard of it (the weights' home).
void ServingPlan::readRemoteWeights(StepPlan& plan) const {
  const placement::Placement& home = *plan.placement;
  const uint32_t D = config_.dies;
  for (uint32_t l = 0; l < plan.moe.size(); ++l) {
    const LayerRouting& r = plan.moe[l];
    for (uint32_t d = 0; d < D; ++d)
      for (uint32_t i = r.workBegin[d]; i < r.workBegin[d + 1]; ++i) {
        const ExpertWork& w = r.work[i];
        uint32_t from = UINT32_MAX, fromHops = UINT32_MAX;
        for (const placement::Replica& copy : home.replicas(l, w.expert))
          for (const placement::Shard& shard : copy.shards) {
            const uint32_t h = config_.hops.empty() ? (shard.die != d) : config_.hops[size_t{shard.die} * D + d];
            if (h < fromHops) from = shard.die, fromHops = h;
          }
        if (from != d) plan.migrations.push_back({l, w.expert, from, d, w.parts});
      }
  }
}

uint32_t ServingPlan::pickReplica(const std::vector<placement::Replica>& copies, uint32_t source, uint32_t turn,
                                  const std::vector<uint64_t>& dieLoad, placement::Split split) const {
  if (split == placement::Split::Even) return turn % static_cast<uint32_t>(copies.size());
  const uint32_t D = config_.dies;
  uint32_t best = 0;
  uint64_t bestHops = UINT64_MAX, bestLoad = UINT64_MAX;
  for (uint32_t i = 0; i < copies.size(); ++i) {
    uint64_t hops = 0, load = 0;
    for (const placement::Shard& shard : copies[i].shards) {
      if (split == placement::Split::Nearest)
        hops += config_.hops.empty() ? (shard.die != source) : config_.hops[size_t{source} * D + shard.die];
      load = std::max(load, dieLoad[shard.die]);
    }
    if (hops < bestHops || (hops == bestHops && load < bestLoad)) {
      best = i;
      bestHops = hops;
      bestLoad = load;
    }
  }
  return best;
}

hw::Attention attentionOf(const MoeModelConfig& m, const BatchEntry& e) {
  const bool mla = m.attention == AttentionKind::Mla;
  hw::Attention a;
  a.batch = 1;
  a.heads = m.heads;
  a.kvHeads = mla ? 1 : m.kvHeads;
  a.headDim = mla ? uint64_t{m.kvLoraRank} + m.qkRopeHeadDim : m.headDim;
  a.contextLength = uint64_t{e.contextBefore} + e.newTokens;
  a.queryLength = e.newTokens;
  a.dtype = m.kvCacheType;
  return a;
}

// One layer's attention on the busiest die for this step's batch (projections and one attention op
// per request, by the roofline of the die's attention engine): DynamicPlacement's broadcast budget,
// the time the next layer's weights have to travel while attention runs.
double ServingPlan::attentionLayerSeconds(const StepPlan& plan) const {
  const MoeModelConfig& m = config_.model;
  const bool mla = m.attention == AttentionKind::Mla;
  const uint64_t h = m.hiddenSize;
  const uint64_t qkv = mla ? uint64_t{m.heads} * (uint64_t{m.qkNopeHeadDim} + m.qkRopeHeadDim) + m.kvLoraRank +
                                 m.qkRopeHeadDim
                           : (uint64_t{m.heads} + 2ull * m.kvHeads) * m.headDim;
  const uint64_t out = uint64_t{m.heads} * (mla ? m.vHeadDim : m.headDim);
  std::vector<uint64_t> tokens(config_.dies, 0);
  std::vector<std::vector<const BatchEntry*>> entries(config_.dies);
  for (const BatchEntry& e : plan.batch) {
    tokens[e.die] += e.newTokens;
    entries[e.die].push_back(&e);
  }
  double worst = 0;
  for (uint32_t d = 0; d < config_.dies; ++d) {
    if (tokens[d] == 0 || dead(d)) continue;
    const hw::DieSpec& die = config_.dieSpecs[d];
    double best = 0;
    for (uint32_t g = 0; g < die.engines.size(); ++g) {
      const hw::EngineSpec& engine = die.engines[g];
      const std::string& chosen = config_.attentionEngine;
      if (!chosen.empty() && chosen != "auto" && engine.name != chosen) continue;
      if (chosen.empty() && g > 0) break;
      Duration t = hw::gemmTime(engine.compute, {tokens[d], qkv, h, config_.computeType}, engine.dramBandwidth) +
                   hw::gemmTime(engine.compute, {tokens[d], h, out, config_.computeType}, engine.dramBandwidth);
      for (const BatchEntry* e : entries[d])
        t = t + hw::attentionTime(engine.compute, attentionOf(m, *e), engine.dramBandwidth);
      const double seconds = static_cast<double>(t.ps()) * 1e-12;
      if (best == 0 || seconds < best) best = seconds;
    }
    worst = std::max(worst, best);
  }
  return worst;
}

void ServingPlan::decideOnline(StepPlan& plan) const {
  State& s = *state_;
  const OnlinePlacementConfig& o = config_.online;
  if (o.policy.empty() && !o.replaying) return;
  // A decided placement takes effect at the first step starting at or after its time.
  if (s.pending && plan.start >= s.pendingAt) {
    plan.migrations = placement::migrations(*s.current, *s.pending, config_.hops);
    s.current = s.pending;
    s.pending.reset();
    s.log[s.pendingLog].effectiveAt = plan.start;
    s.log[s.pendingLog].effectiveStep = plan.step;
  }
  if (plan.start < s.nextEpochAt) return;
  // An epoch ended: decide from its statistics.
  ++s.epoch;
  while (s.nextEpochAt <= plan.start) s.nextEpochAt = s.nextEpochAt + o.epoch;
  PlacementLogEntry entry;
  entry.epoch = s.epoch;
  entry.step = plan.step;
  entry.decidedAt = plan.start;
  entry.policy = o.policy;
  entry.epochTokens = s.profile.totalTokens();
  placement::Problem problem;
  problem.fabric = o.fabric;
  problem.model = o.shape;
  problem.profile = s.profile;
  problem.current = *s.current;
  problem.options = o.options;
  problem.seed = config_.seed ^ (s.epoch * 0x9E3779B97F4A7C15ull);
  problem.attentionSeconds = o.attentionSeconds > 0 ? o.attentionSeconds : attentionLayerSeconds(plan);
  problem.tokensPerStep = s.epochSteps > 0 && config_.model.moeLayerCount() > 0
                              ? s.profile.totalTokens() / config_.model.moeLayerCount() / s.epochSteps
                              : 0;
  entry.loadMaxOverMean = placement::estimateCost(problem, *s.current).maxOverMeanCompute;
  std::optional<placement::Decision> decision;
  if (s.pending) {
    entry.outcome = "kept";
    entry.reason = "the previous decision has not taken effect yet";
  } else if (o.replaying) {
    const OnlinePlacementConfig::Recorded* recorded = nullptr;
    for (const auto& r : o.replay)
      if (r.epoch == s.epoch) recorded = &r;
    if (!recorded) {
      entry.policy = "replay";
      entry.outcome = "unchanged";
      entry.reason = "the placement log has no decision for this epoch";
    } else {
      entry.policy = recorded->policy;
      entry.outcome = recorded->outcome;
      entry.reason = recorded->reason;
      entry.predictedGain = recorded->predictedGain;
      entry.optimalityGap = recorded->optimalityGap;
      if (recorded->placement) {
        decision.emplace();
        decision->placement = *recorded->placement;
        decision->reason = recorded->reason;
        decision->predictedGain = recorded->predictedGain;
        decision->optimalityGap = recorded->optimalityGap;
      }
    }
  } else if (!o.service.empty()) {
    const placement::RemoteDecider& ask = o.decider;
    WAFERSIM_REQUIRE(ask, "mapping.service: this run was built without a placement client (", o.service, ")");
    placement::RemoteAnswer answer = ask(o.service, o.serviceTimeoutMs, o.runId, s.epoch, o.policy, o.options, problem);
    if (answer.applied) decision = std::move(answer.decision);
    else {
      entry.outcome = "kept";
      entry.reason = answer.reason;
    }
  } else {
    try {
      decision = s.policy->decide(problem);
    } catch (const Error& e) {
      entry.outcome = "kept";
      entry.reason = std::string("policy ") + o.policy + " failed: " + e.what();
    }
  }
  if (decision) {
    entry.reason = decision->reason;
    entry.predictedGain = decision->predictedGain;
    entry.optimalityGap = decision->optimalityGap;
    std::string refused;
    try {
      decision->placement.validate("online placement", config_.failed);
      WAFERSIM_REQUIRE(decision->placement.dies() == config_.dies &&
                           decision->placement.layers() == config_.model.moeLayerCount() &&
                           decision->placement.experts() == config_.model.experts,
                       "online placement: of another shape than the model's");
      const std::vector<uint64_t> parts = decision->placement.partsPerDie();
      for (uint32_t d = 0; d < config_.dies; ++d)
        WAFERSIM_REQUIRE(expertBytes(parts[d]) <= config_.expertReserveBytes[d], "online placement: die ", d,
                         " would hold ", expertBytes(parts[d]), " B of experts in its reserve of ",
                         config_.expertReserveBytes[d], " B (mapping.spare_experts)");
    } catch (const Error& e) {
      refused = e.what();
    }
    if (!refused.empty()) {
      entry.outcome = "kept";
      entry.reason = "refused: " + refused;
    } else if (decision->placement == *s.current) {
      entry.outcome = "unchanged";
    } else {
      const auto moves = placement::migrations(*s.current, decision->placement, config_.hops);
      for (const placement::Migration& mv : moves) entry.migrationBytes += expertBytes(mv.parts);
      entry.movedShards = moves.size();
      entry.outcome = "applied";
      s.pending = std::make_shared<const placement::Placement>(std::move(decision->placement));
      entry.placement = s.pending;
      // The earliest it can act is the next step.
      s.pendingAt = std::max(plan.start + o.decisionDelay, plan.start + Duration::fromPs(1));
      s.pendingLog = s.log.size();
    }
  }
  s.log.push_back(std::move(entry));
  s.profile.decay(o.smoothing);
  s.epochSteps = 0;
}

}  // namespace wafersim::moe
