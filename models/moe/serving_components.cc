#include "models/moe/serving_components.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "models/hardware/die_program.h"
#include "models/moe/expert_compute.h"
#include "models/moe/serving_plan.h"
#include "sim/checkpoint.h"
#include "sim/error.h"

namespace wafersim::moe {
namespace {

// Control messages on the "ctl" fabric.
struct StepStart {
  uint64_t kind;  // kStart
  uint64_t step;
  int64_t prevEndPs;
  int64_t startPs;
};
struct StepDone {
  uint64_t kind;  // kDone
  uint64_t step;
  uint64_t die;
  uint64_t unused;
};
constexpr uint64_t kStart = 1, kDone = 2, kTry = 3;
static_assert(sizeof(StepStart) == Payload::kCapacity && std::has_unique_object_representations_v<StepStart>);
static_assert(sizeof(StepDone) == Payload::kCapacity && std::has_unique_object_representations_v<StepDone>);

const std::vector<int64_t> kLatencyBounds = [] {
  std::vector<int64_t> b;  // 1 us .. ~1000 s, 8 buckets per decade
  for (double v = 1e6; v < 1.1e15; v *= 1.333521432) b.push_back(static_cast<int64_t>(v));
  return b;
}();

class Host final : public Component {
 public:
  explicit Host(const ComponentContext& ctx)
      : Component(ctx),
        plan_(ctx.data->get<ServingPlan>(kServingDataKey, "component " + ctx.name)),
        overhead_(ctx.params->duration("step_overhead")),
        steps_(counter("steps")),
        prefillTokens_(counter("prefill_tokens")),
        decodeTokens_(counter("decode_tokens")),
        finished_(counter("requests_finished")),
        outputTokens_(counter("output_tokens")),
        preempted_(counter("preemptions")),
        lastFinish_(counter("last_finish_ps")),
        busy_(counter("busy_ps")),
        ttft_(histogram("ttft_ps", kLatencyBounds)),
        tpot_(histogram("tpot_ps", kLatencyBounds)),
        e2e_(histogram("e2e_ps", kLatencyBounds)),
        queueing_(histogram("queueing_ps", kLatencyBounds)),
        stepTime_(histogram("step_ps", kLatencyBounds)),
        batch_(histogram("batch_tokens", {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384})),
        requests_(table("requests", {"id", "arrival_ps", "prompt_tokens", "output_tokens", "first_scheduled_ps",
                                     "first_token_ps", "finish_ps", "preemptions"})) {
    if (overhead_ > Duration::zero()) declareReactionDelay(overhead_);
    if (plan_->config().traceEnd > plan_->config().traceStart)
      trace_ = &table("trace", {"start_ps", "end_ps", "track", "kind", "amount", "detail"});
  }

  void setup() override {
    bind();
    tryStart(1, SimTime::zero());
  }

  void handle(const Event& e) override {
    const uint64_t kind = e.payload.as<uint64_t>();
    if (kind == kTry) {
      const auto t = e.payload.as<StepStart>();
      tryStart(t.step, SimTime::fromPs(t.prevEndPs));
      return;
    }
    const auto done = e.payload.as<StepDone>();
    WAFERSIM_ASSERT(kind == kDone && done.step == step(), "host ", name(), ": unexpected control message ", kind,
                    " for step ", done.step, " during step ", step());
    if (++doneCount_ < dies_) return;
    // The step is over.
    stepTime_.add((now() - stepStart_).ps());
    if (trace_ && now() > plan_->config().traceStart && stepStart_ < plan_->config().traceEnd)
      trace_->addRow({stepStart_.ps(), now().ps(), 0, 3, static_cast<int64_t>(step()), stepTokens_});
    busy_.add(static_cast<uint64_t>((now() - stepStart_).ps()));
    const uint64_t ended = step();
    if (current_ && current_->training) {
      trainedTokens_.add(current_->prefillTokens);
      if (current_->firstMicroBatch) trainStart_ = stepStart_;
      if (current_->lastMicroBatch) {
        trainSteps_.add();
        trainStep_.add((now() - trainStart_).ps());
      }
    }
    tryStart(ended + 1, now());  // completes step `ended` in the plan
    for (const RequestRecord& r : plan_->finishedAfter(ended)) {
      finished_.add();
      outputTokens_.add(r.outputTokens);
      ttft_.add(r.ttft().ps());
      if (r.outputTokens > 1) tpot_.add(r.tpot().ps());
      e2e_.add(r.e2e().ps());
      queueing_.add(r.queueing().ps());
      lastFinish_.add(static_cast<uint64_t>(r.finish.ps()) - lastFinish_.value());
      requests_.addRow({static_cast<int64_t>(r.id), r.arrival.ps(), r.promptTokens, r.outputTokens,
                        r.firstScheduled.ps(), r.firstToken.ps(), r.finish.ps(), r.preemptions});
    }
  }

  // Levels of the step in progress, for observers: read from this host's own step plan.
  void observe(ObservationSink& sink) const override {
    if (!current_) return;
    uint64_t kvHeld = 0;
    for (const BatchEntry& b : current_->batch) kvHeld += b.contextBefore + b.newTokens;
    sink.value("requests_running", static_cast<double>(current_->batch.size()));
    sink.value("requests_waiting", static_cast<double>(current_->waiting));
    sink.value("kv_tokens", static_cast<double>(kvHeld));
    sink.value("kv_capacity_tokens", static_cast<double>(kvCapacity_));
    sink.value("placements_applied", static_cast<double>(placementsApplied_));
  }

  // Checkpoints. The step announcements come first: every serving component replays them into its
  // process's plan (ServingPlan::replay), the dies from this record (ServingDie::restore).
  void save(StateWriter& out) const override {
    out.podVector(announced_);
    out.u32(doneCount_);
    out.time(stepStart_);
    out.u64(placementsApplied_);
    out.time(trainStart_);
    out.i64(stepTokens_);
    out.u64(expertLoad_.size());
    for (const auto& layer : expertLoad_) out.podVector(layer);
    out.podVector(expertRules_);
  }

  void restore(StateReader& in) override {
    bind();
    announced_ = in.podVector<StepAnnouncement>();
    doneCount_ = in.u32();
    if (doneCount_ > dies_)
      in.corrupt(std::to_string(doneCount_) + " dies done with step " + std::to_string(step()) + " of " +
                 std::to_string(dies_));
    stepStart_ = in.time();
    placementsApplied_ = in.u64();
    trainStart_ = in.time();
    stepTokens_ = in.i64();
    expertLoad_.resize(in.count(8));
    for (auto& layer : expertLoad_) layer = in.podVector<uint64_t>();
    expertRules_ = in.podVector<uint32_t>();
    plan_->replay(announced_);
    if (step() > 0)
      current_ = plan_->step(step(), SimTime::fromPs(announced_.back().prevEndPs),
                             SimTime::fromPs(announced_.back().startPs));
  }

  void finish() override {
    preempted_.add(plan_->preemptions());
    writePlacementLog();
    Table& load = table("expert_load", {"moe_layer", "expert", "tokens"});
    for (size_t l = 0; l < expertLoad_.size(); ++l)
      for (size_t e = 0; e < expertLoad_[l].size(); ++e)
        load.addRow({static_cast<int64_t>(l), static_cast<int64_t>(e), static_cast<int64_t>(expertLoad_[l][e])});
  }

 private:
  uint64_t step() const { return announced_.size(); }  // the step in progress or last ended; 0: none yet

  void bind() {
    ctl_ = port("ctl");
    dies_ = fabricSize(ctl_) - 1;
    kvCapacity_ = 0;
    for (uint32_t d = 0; d < dies_; ++d) kvCapacity_ += plan_->kvCapacityTokens(d);
  }

  // The online decisions (serving_plan.h PlacementLogEntry) and the placements applied; the CLI
  // writes them as placement_log.json, which mapping.replay reads back.
  void writePlacementLog() {
    const std::vector<PlacementLogEntry> log = plan_->placementLog();
    if (log.empty()) return;
    auto ppm = [](double x) { return static_cast<int64_t>(x * 1e6 + (x >= 0 ? 0.5 : -0.5)); };
    Table& t = table("placement_log", {"epoch", "step", "decided_ps", "effective_step", "effective_ps", "policy",
                                       "outcome", "reason", "split", "predicted_gain_ppm", "optimality_gap_ppm",
                                       "migration_bytes", "moved_shards", "epoch_tokens", "load_max_over_mean_ppm"});
    Table& map = table("placement_map", {"epoch", "moe_layer", "expert", "replica", "die", "parts", "engine"});
    for (const PlacementLogEntry& e : log) {
      const bool applied = e.placement != nullptr;
      t.addRow({static_cast<int64_t>(e.epoch), static_cast<int64_t>(e.step), e.decidedAt.ps(),
                static_cast<int64_t>(e.effectiveStep), e.effectiveAt == SimTime::never() ? -1 : e.effectiveAt.ps(),
                t.text(e.policy), t.text(e.outcome), t.text(e.reason),
                t.text(applied ? placement::toString(e.placement->split) : ""), ppm(e.predictedGain),
                e.optimalityGap < 0 ? -1 : ppm(e.optimalityGap), static_cast<int64_t>(e.migrationBytes),
                static_cast<int64_t>(e.movedShards), static_cast<int64_t>(e.epochTokens), ppm(e.loadMaxOverMean)});
      if (!applied) continue;
      const placement::Placement& p = *e.placement;
      for (uint32_t l = 0; l < p.layers(); ++l)
        for (uint32_t x = 0; x < p.experts(); ++x) {
          const auto& copies = p.replicas(l, x);
          for (size_t r = 0; r < copies.size(); ++r)
            for (const placement::Shard& s : copies[r].shards)
              map.addRow({static_cast<int64_t>(e.epoch), l, x, static_cast<int64_t>(r), s.die, s.parts,
                          s.engine == placement::kDefaultEngine ? -1 : static_cast<int64_t>(s.engine)});
        }
    }
  }

  // Step k can start once step k-1 ended at prevEnd: now, at the next arrival, or never.
  void tryStart(uint64_t k, SimTime prevEnd) {
    const SimTime t = plan_->nextWorkAt(k, prevEnd, now());
    if (t == SimTime::never()) {
      promiseNoOutputBefore(SimTime::never());
      return;
    }
    if (t > now()) {
      scheduleSelf(t - now(), Payload::of(StepStart{kTry, k, prevEnd.ps(), 0}));
      promiseNoOutputBefore(t + overhead_);
      return;
    }
    const auto plan = plan_->step(k, prevEnd, now());
    if (current_ && plan->placement != current_->placement) ++placementsApplied_;
    current_ = plan;
    for (size_t l = 0; l < plan->moe.size(); ++l) {  // expert load, for the routing statistics
      if (expertLoad_.size() < plan->moe.size()) expertLoad_.resize(plan->moe.size());
      auto& load = expertLoad_[l];
      load.resize(plan->moe[l].expertTokens.size(), 0);
      for (size_t e = 0; e < load.size(); ++e) load[e] += plan->moe[l].expertTokens[e];
    }
    addExpertTime(*plan);
    for (const LayerRouting& r : plan->moe) {  // C_T: copies per token (serving_plan.h LayerRouting)
      routedTokens_.add(r.routedTokens);
      dieCopies_.add(r.dieCopies);
      groupCopies_.add(r.groupCopies);
    }
    WAFERSIM_ASSERT(announced_.size() + 1 == k, "host ", name(), ": step ", k, " after ", announced_.size());
    announced_.push_back({prevEnd.ps(), now().ps()});
    stepStart_ = now();
    doneCount_ = 0;
    steps_.add();
    prefillTokens_.add(plan->prefillTokens);
    decodeTokens_.add(plan->decodeTokens);
    batch_.add(static_cast<int64_t>(plan->prefillTokens + plan->decodeTokens));
    stepTokens_ = static_cast<int64_t>(plan->prefillTokens + plan->decodeTokens);
    for (uint32_t i = 1; i <= dies_; ++i)
      sendTo(ctl_, i, Payload::of(StepStart{kStart, k, prevEnd.ps(), now().ps()}), overhead_);
    promiseNoOutputBefore(now());
  }

  // The routed experts' FFN time of every MoE layer of the step (expert_compute.h), from the plan
  // every process shares: per layer (and pass, and micro-batch) the busiest usable die's and the
  // sum over them, so the figure does not depend on where the dies are simulated.
  void addExpertTime(const StepPlan& plan) {
    const ServingConfig& c = plan_->config();
    if (expertRules_.empty()) {
      for (uint32_t d = 0; d < c.dies; ++d) {
        expertRules_.push_back(engineRule(c.dieSpecs[d], c.expertEngine));
        if (!plan_->dead(d)) expertDies_.add();
      }
    }
    const bool decodeOnly = plan.prefillTokens == 0 && plan.decodeTokens > 0;
    auto add = [&](const LayerRouting& r, bool backward) {
      Duration busiest = Duration::zero(), sum = Duration::zero();
      for (uint32_t d = 0; d < c.dies; ++d) {
        if (plan_->dead(d)) continue;
        const Duration t = expertTime(
            c.dieSpecs[d], expertGemms(c.model, c.computeType, c.dieSpecs[d], expertRules_[d], r, d, backward));
        busiest = std::max(busiest, t);
        sum = sum + t;
      }
      expertBusiest_.add(static_cast<uint64_t>(busiest.ps()));
      expertSum_.add(static_cast<uint64_t>(sum.ps()));
      if (decodeOnly) {
        decodeExpertBusiest_.add(static_cast<uint64_t>(busiest.ps()));
        decodeExpertSum_.add(static_cast<uint64_t>(sum.ps()));
      }
    };
    for (uint32_t l = 0; l < plan.moe.size(); ++l) {
      if (plan.microMoe.empty()) add(plan.moe[l], false);
      for (const auto& micro : plan.microMoe) add(micro[l], false);
      if (plan.training) add(plan.moe[l], true);
    }
    if (decodeOnly) decodeSteps_.add();
  }

  const std::shared_ptr<const ServingPlan> plan_;
  const Duration overhead_;
  PortId ctl_ = 0;
  uint32_t dies_ = 0;
  std::vector<StepAnnouncement> announced_;  // every step's, from step 1 (ServingPlan::replay)
  uint32_t doneCount_ = 0;
  SimTime stepStart_ = SimTime::zero();
  Counter &steps_, &prefillTokens_, &decodeTokens_, &finished_, &outputTokens_, &preempted_, &lastFinish_, &busy_;
  Histogram &ttft_, &tpot_, &e2e_, &queueing_, &stepTime_, &batch_;
  Table& requests_;  // one row per finished request, in finishing order
  Table* trace_ = nullptr;  // steps in the trace window: kind 3, amount = step, detail = tokens
  std::shared_ptr<const StepPlan> current_;
  uint64_t placementsApplied_ = 0;  // steps whose placement differs from the step before (observers)
  uint64_t kvCapacity_ = 0;         // KV-cache tokens all dies hold (observers)
  SimTime trainStart_ = SimTime::zero();
  Counter& trainSteps_ = counter("train_steps");
  Counter& trainedTokens_ = counter("trained_tokens");
  Histogram& trainStep_ = histogram("train_step_ps", kLatencyBounds);
  int64_t stepTokens_ = 0;
  std::vector<std::vector<uint64_t>> expertLoad_;  // [MoE layer][expert]: tokens routed
  std::vector<uint32_t> expertRules_;  // per die: serving.expert_engine (expert_compute.h)
  Counter& routedTokens_ = counter("routed_tokens");        // tokens routed, summed over MoE layers
  Counter& dieCopies_ = counter("token_die_copies");        // ... times the distinct dies each reaches
  Counter& groupCopies_ = counter("token_group_copies");    // ... the distinct chiplet groups (0: none)
  Counter& expertDies_ = counter("expert_dies");  // usable dies
  Counter& expertBusiest_ = counter("expert_time_ps");  // sum over steps and MoE layers of the busiest die's
  Counter& expertSum_ = counter("expert_die_time_ps");  // ... of the sum over usable dies
  Counter& decodeSteps_ = counter("decode_only_steps");  // steps without prefill tokens
  Counter& decodeExpertBusiest_ = counter("decode_expert_time_ps");  // expert_time_ps of those steps
  Counter& decodeExpertSum_ = counter("decode_expert_die_time_ps");
};

// Slice `index` of `count` of a streamed exchange (training.pipeline): its share of every token count.
struct Slice {
  uint32_t index = 0, count = 1;
  uint64_t of(uint64_t tokens) const { return tokens * (index + 1) / count - tokens * index / count; }
  // An expert's tokens in whole tiles of `rows` (the array's rows) per slice, the remainder in the
  // last slice that has any: slicing pads the array no more than the unsliced GEMM does.
  uint64_t ofTiles(uint64_t tokens, uint64_t rows) const {
    const uint64_t tiles = (tokens + rows - 1) / rows, chunk = (tiles + count - 1) / count * rows;
    const uint64_t begin = std::min(tokens, index * chunk);
    return std::min(tokens, begin + chunk) - begin;
  }
};

class ServingDie final : public hw::ProgramDie {
 public:
  ServingDie(const ComponentContext& ctx, std::shared_ptr<const ServingPlan> plan)
      : ProgramDie(ctx, specOf(ctx, *plan)),
        plan_(std::move(plan)),
        m_(plan_->config().model),
        expectedByTag_(streamTag(false, 0, 0) +
                           (plan_->config().training.pipeline == TrainingPipeline::Streamed
                                ? 4 * size_t{m_.moeLayerCount()} * plan_->config().training.streamSlices
                                : 0),
                       0),
        migrating_(m_.moeLayerCount(), 0),
        tokens_(counter("tokens")),
        dispatched_(counter("dispatch_bytes")),
        combined_(counter("combine_bytes")),
        attentionEngine_(engineOf(plan_->config().attentionEngine)),
        expertEngine_(engineOf(plan_->config().expertEngine)) {
    die().memory().allocate("weights", hw::Bytes{plan_->residentBytes(index())});
    traceWindow(plan_->config().traceStart, plan_->config().traceEnd);
    if (plan_->config().vcacheBytes > 0)
      vcache_ = std::make_unique<hw::ExpertWeightCache>(plan_->config().vcacheBytes, plan_->config().vcachePolicy);
  }

  void setup() override {
    ctl_ = port("ctl");
    ProgramDie::setup();
  }

  // Checkpoints: the program machine (ProgramDie), the step it was told of (its plan comes back
  // from the host's announcements, replayed into this process's plan), its message tallies, the
  // V-Cache.
  void save(StateWriter& out) const override {
    ProgramDie::save(out);
    out.u64(step_ ? step_->step : 0);
    out.u64(running_);
    out.u64(reported_);
    out.podVector(expectedByTag_);
    out.podVector(migrating_);
    out.boolean(vcache_ != nullptr);
    if (vcache_) vcache_->save(out);
    out.time(layerBegin_);
  }

  void restore(StateReader& in) override {
    ctl_ = port("ctl");
    ProgramDie::restore(in);
    const std::string* host = savedStateOf(fabricMember(ctl_, 0));
    if (host == nullptr) in.corrupt("the cut holds no state of the serving host");
    StateReader hostState(*host, name() + ": the serving host's state");
    const auto announced = hostState.podVector<StepAnnouncement>();
    plan_->replay(announced);
    const uint64_t k = in.u64();
    if (k > announced.size())
      in.corrupt("step " + std::to_string(k) + ", the host announced " + std::to_string(announced.size()));
    step_ = k == 0 ? nullptr
                   : plan_->step(k, SimTime::fromPs(announced[k - 1].prevEndPs),
                                 SimTime::fromPs(announced[k - 1].startPs));
    running_ = in.u64();
    reported_ = in.u64();
    auto expected = in.podVector<uint64_t>();
    if (expected.size() != expectedByTag_.size())
      in.corrupt(std::to_string(expected.size()) + " message tags, the die has " +
                 std::to_string(expectedByTag_.size()));
    expectedByTag_ = std::move(expected);
    auto migrating = in.podVector<uint32_t>();
    if (migrating.size() != migrating_.size())
      in.corrupt(std::to_string(migrating.size()) + " MoE layers migrating, the model has " +
                 std::to_string(migrating_.size()));
    migrating_ = std::move(migrating);
    if (in.boolean() != (vcache_ != nullptr)) in.corrupt("a V-Cache saved where the die has none, or none saved");
    if (vcache_) vcache_->restore(in);
    layerBegin_ = in.time();
  }

 private:
  static const hw::DieSpec& specOf(const ComponentContext& ctx, const ServingPlan& plan) {
    const auto i = static_cast<size_t>(ctx.params->integer("index"));
    WAFERSIM_REQUIRE(i < plan.config().dieSpecs.size(), "component ", ctx.name, ": die ", i, " of ",
                     plan.config().dieSpecs.size());
    return plan.config().dieSpecs[i];
  }

  void onMark(uint32_t id) override {
    if (id % 2 == 0) {
      layerBegin_ = now();
      return;
    }
    moeLayerPs_.add(static_cast<uint64_t>((now() - layerBegin_).ps()));
    moeLayers_.add(1);
  }

  void handleControl(const Event& e) override {
    const auto start = e.payload.as<StepStart>();
    WAFERSIM_ASSERT(start.kind == kStart, "die ", name(), ": unexpected control message ", start.kind);
    step_ = plan_->step(start.step, SimTime::fromPs(start.prevEndPs), SimTime::fromPs(start.startPs));
  }

  uint32_t engineOf(const std::string& name) { return engineRule(die().spec(), name); }

  // "auto": the engine on which the op alone is fastest (Duplex's rule in effect: low Op/B work,
  // decode attention and lightly loaded experts, goes to the Logic-PIM; prefill to the xPU).
  hw::DieOp placed(hw::DieOp op, uint32_t engine) {
    if (engine != kAutoEngine) {
      op.engine = engine;
      return op;
    }
    Duration best = Duration::max();
    for (uint32_t e = 0; e < die().spec().engines.size(); ++e) {
      hw::DieOp candidate = op;
      candidate.engine = e;
      if (const Duration t = die().cost(candidate).time; t < best) {
        best = t;
        op.engine = e;
      }
    }
    return op;
  }

  hw::DieOp gemm(uint64_t m, uint64_t n, uint64_t k, uint32_t engine = 0) const {
    hw::DieOp op;
    op.gemm = hw::Gemm{m, n, k, plan_->config().computeType};
    op.engine = engine;
    return op;
  }

  void ffn(std::vector<hw::ProgramStep>& p, uint64_t tokens, uint64_t intermediate, uint32_t engine = 0) {
    if (tokens == 0 || intermediate == 0) return;
    const uint64_t h = m_.hiddenSize;
    p.push_back(hw::ProgramStep::compute(placed(gemm(tokens, (m_.gatedFfn ? 2 : 1) * intermediate, h), engine)));
    p.push_back(hw::ProgramStep::compute(placed(gemm(tokens, h, intermediate), engine)));
  }

  // The attention block of n tokens: of every request on this die, or of micro-batch mb's (>= 0).
  void attention(std::vector<hw::ProgramStep>& p, uint64_t n, int mb = -1) {
    const uint64_t h = m_.hiddenSize;
    if (m_.attention == AttentionKind::Mla) {
      const uint64_t qk = uint64_t{m_.qkNopeHeadDim} + m_.qkRopeHeadDim;
      if (m_.qLoraRank > 0) {
        p.push_back(hw::ProgramStep::compute(gemm(n, m_.qLoraRank, h)));
        p.push_back(hw::ProgramStep::compute(gemm(n, uint64_t{m_.heads} * qk, m_.qLoraRank)));
      } else {
        p.push_back(hw::ProgramStep::compute(gemm(n, uint64_t{m_.heads} * qk, h)));
      }
      p.push_back(hw::ProgramStep::compute(gemm(n, uint64_t{m_.kvLoraRank} + m_.qkRopeHeadDim, h)));
    } else {
      p.push_back(hw::ProgramStep::compute(gemm(n, (uint64_t{m_.heads} + 2ull * m_.kvHeads) * m_.headDim, h)));
    }
    // One attention op per request (attentionOf); the requests' ops are independent: one phase of
    // the adaptive array.
    const bool mla = m_.attention == AttentionKind::Mla;
    std::vector<std::vector<hw::DieOp>> requests;
    for (size_t i = 0; i < step_->batch.size(); ++i) {
      const BatchEntry& e = step_->batch[i];
      if (e.die != index() || (mb >= 0 && step_->microBatchOf[i] != mb)) continue;
      hw::DieOp op;
      op.kind = hw::DieOp::Kind::Attention;
      op.attention = attentionOf(m_, e);
      requests.push_back({placed(op, attentionEngine_)});
    }
    phase(p, requests);
    const uint64_t out = mla ? uint64_t{m_.heads} * m_.vHeadDim : uint64_t{m_.heads} * m_.headDim;
    p.push_back(hw::ProgramStep::compute(gemm(n, h, out)));
  }

  // The gradients of one forward GEMM (m, n, k): dA = dC B^T (m, k, n) and dB = A^T dC (k, n, m).
  void backward(std::vector<hw::ProgramStep>& p, uint64_t m, uint64_t n, uint64_t k, uint32_t engine = 0) {
    p.push_back(hw::ProgramStep::compute(placed(gemm(m, k, n), engine)));
    p.push_back(hw::ProgramStep::compute(placed(gemm(k, n, m), engine)));
  }

  void ffnBackward(std::vector<hw::ProgramStep>& p, uint64_t tokens, uint64_t intermediate, uint32_t engine = 0) {
    if (tokens == 0 || intermediate == 0) return;
    const uint64_t h = m_.hiddenSize;
    backward(p, tokens, h, intermediate, engine);
    backward(p, tokens, (m_.gatedFfn ? 2 : 1) * intermediate, h, engine);
  }

  // An MoE layer's exchange: tokens (forward) or their output gradients (backward) go to the dies
  // of their experts, the experts compute, the results (or input gradients) come back.
  // A training step's streamed exchange (training.pipeline streamed) runs in step_->streamSlices
  // slices: the dispatch of every slice is handed to the NIC at once, slice by slice; each slice's
  // experts compute once it has arrived and send its results back at once; the die then awaits
  // every slice's results.
  void moeExchange(std::vector<hw::ProgramStep>& p, uint32_t ml, bool isBackward) {
    const LayerRouting& r = step_->moe[ml];
    const uint64_t n = step_->dieTokens[index()];
    const uint32_t slices = step_->training ? step_->streamSlices : 1;
    if (slices <= 1) {
      const uint32_t out = (isBackward ? 2 * m_.moeLayerCount() : 0) + 2 * ml, back = out + 1;
      const uint64_t destinations = dispatch(p, r, n, out, isBackward);
      experts(p, r, ml, out, back, isBackward, true);
      awaitCombine(p, back, destinations);
      return;
    }
    std::vector<uint64_t> destinations(slices);
    for (uint32_t s = 0; s < slices; ++s)
      destinations[s] = dispatch(p, r, n, streamTag(isBackward, ml, s), isBackward, {s, slices});
    for (uint32_t s = 0; s < slices; ++s)
      experts(p, r, ml, streamTag(isBackward, ml, s), streamTag(isBackward, ml, s) + 1, isBackward, s == 0, nullptr,
              {s, slices});
    for (uint32_t s = 0; s < slices; ++s) awaitCombine(p, streamTag(isBackward, ml, s) + 1, destinations[s]);
  }

  // The dispatch (out) and combine (out + 1) tags of a streamed exchange's slice, after the other
  // tags (see microTag); streamTag(false, 0, 0) is their count.
  uint32_t streamTag(bool isBackward, uint32_t ml, uint32_t slice) const {
    const uint32_t L = m_.moeLayerCount();
    return 7 * L + 1 + 2 * (((isBackward ? L : 0) + ml) * plan_->config().training.streamSlices + slice);
  }

  // This die's n tokens (their slice) go to the dies of their experts (tag out); its shared experts
  // run after the last slice's dispatch; returns the dies dispatched to, each of which answers with
  // one combine message.
  uint64_t dispatch(std::vector<hw::ProgramStep>& p, const LayerRouting& r, uint64_t n, uint32_t out, bool isBackward,
                    Slice slice = {}) {
    const uint32_t d = index(), D = plan_->config().dies;
    const uint64_t bytesPerToken = m_.hiddenSize * plan_->config().activationBytes;
    uint64_t destinations = 0;
    for (uint32_t o = 0; o < D; ++o) {
      if (o == d) continue;
      if (const uint64_t c = slice.of(r.pairTokens[size_t{d} * D + o]); c > 0) {
        p.push_back(hw::ProgramStep::send(o, hw::Bytes{c * bytesPerToken}, out));
        dispatched_.add(c * bytesPerToken);
        ++destinations;
      }
    }
    if (slice.index + 1 < slice.count) return destinations;
    const uint64_t shared = uint64_t{m_.sharedExperts} * m_.sharedIntermediate;
    if (isBackward) ffnBackward(p, n, shared);
    else ffn(p, n, shared);  // overlaps the dispatch
    return destinations;
  }

  // The experts on this die: wait for the tokens dispatched to it (and, with `migrations`, for
  // this layer's newly placed weights), compute, send the results back (tag back).
  // `beside` (adaptive array with two-batch overlap): the other micro-batch's attention, run in
  // the same phase as these experts.
  // `slice` (a streamed exchange): its share of the tokens, with the die's expert shares' tokens
  // split over the slices in whole tiles (Slice::ofTiles).
  void experts(std::vector<hw::ProgramStep>& p, const LayerRouting& whole, uint32_t ml, uint32_t out, uint32_t back,
               bool isBackward, bool migrations, const std::vector<hw::DieOp>* beside = nullptr, Slice slice = {}) {
    const uint32_t d = index(), D = plan_->config().dies;
    const uint64_t bytesPerToken = m_.hiddenSize * plan_->config().activationBytes;
    LayerRouting sliced;
    if (slice.count > 1) sliced = slicedWork(whole, slice);
    const LayerRouting& r = slice.count > 1 ? sliced : whole;
    uint64_t sources = 0;
    for (uint32_t o = 0; o < D; ++o) sources += o != d && slice.of(whole.pairTokens[size_t{o} * D + d]) > 0;
    expectedByTag_[out] += sources;
    p.push_back(hw::ProgramStep::waitMessages(expectedByTag_[out], out));
    if (migrations && !isBackward && migrating_[ml] > 0) {  // this layer's new experts must have arrived
      const uint32_t tag = migrationTag(ml);
      expectedByTag_[tag] += migrating_[ml];
      p.push_back(hw::ProgramStep::waitMessages(expectedByTag_[tag], tag));
    }
    // One unit per expert share (its GEMMs in order): independent, one phase of the adaptive array.
    const std::vector<ExpertGemm> gemms =
        expertGemms(m_, plan_->config().computeType, die().spec(), expertEngine_, r, d, isBackward);
    const uint32_t works = r.workBegin[d + 1] - r.workBegin[d], perWork = isBackward ? 4 : 2;
    WAFERSIM_ASSERT(gemms.size() == size_t{works} * perWork, "die ", name(), ": ", gemms.size(), " expert GEMMs for ",
                    works, " expert shares");
    std::vector<std::vector<hw::DieOp>> units(works);
    for (size_t i = 0; i < gemms.size(); ++i) {
      hw::DieOp op;
      op.gemm = gemms[i].gemm;
      op.engine = gemms[i].engine;
      units[i / perWork].push_back(op);
    }
    if (vcache_ && !isBackward)
      for (uint32_t i = 0; i < works; ++i) fromVCache(units[i], ml, r.work[r.workBegin[d] + i]);
    else if (step_->training)
      trainingWeights(units, r, slice);
    if (beside && !beside->empty()) units.push_back(*beside);
    phase(p, units);
    for (uint32_t o = 0; o < D; ++o)
      if (const uint64_t c = slice.of(whole.pairTokens[size_t{o} * D + d]); o != d && c > 0) {
        p.push_back(hw::ProgramStep::send(o, hw::Bytes{c * bytesPerToken}, back));
        combined_.add(c * bytesPerToken);
      }
  }

  // This die's expert shares with their slice of the tokens (shares left without any dropped).
  LayerRouting slicedWork(const LayerRouting& r, Slice slice) {
    const uint32_t d = index(), D = plan_->config().dies;
    LayerRouting out;
    out.workBegin.assign(D + 1, 0);
    const uint64_t rows = std::max<uint64_t>(1, die().spec().engines[0].compute.tile.m);
    for (uint32_t i = r.workBegin[d]; i < r.workBegin[d + 1]; ++i)
      if (const uint64_t t = slice.ofTiles(r.work[i].tokens, rows); t > 0) {
        out.work.push_back(r.work[i]);
        out.work.back().tokens = static_cast<uint32_t>(t);
      }
    for (uint32_t o = d + 1; o <= D; ++o) out.workBegin[o] = static_cast<uint32_t>(out.work.size());
    return out;
  }

  // The routed experts' weights in a training step (training.pipeline, serving_plan.h): loaded
  // into the SRAM before the share's GEMMs run from there (load_then_compute, where the share fits
  // the SRAM), or streamed from the DRAM under the GEMMs and, where all of the die's shares of the
  // layer fit the SRAM, written there on the way to serve the later slices (streamed).
  void trainingWeights(std::vector<std::vector<hw::DieOp>>& units, const LayerRouting& r, Slice slice) {
    const uint32_t d = index();
    const bool streamed = plan_->config().training.pipeline == TrainingPipeline::Streamed;
    uint64_t all = 0;
    for (uint32_t i = r.workBegin[d]; i < r.workBegin[d + 1]; ++i) all += plan_->expertBytes(r.work[i].parts);
    for (uint32_t i = 0; i < units.size(); ++i) {
      std::vector<hw::DieOp>& ops = units[i];
      if (ops.empty()) continue;
      const hw::ComputeDieSpec& array = die().spec().engines[ops.front().engine].compute;
      const uint64_t bytes = plan_->expertBytes(r.work[r.workBegin[d] + i].parts);
      const bool sram = array.sramBandwidth.bytesPerSecond > 0;
      if (!streamed && sram && bytes <= array.sramCapacity.value) {
        hw::DieOp load;
        load.kind = hw::DieOp::Kind::Stream;
        load.bytes = hw::Bytes{bytes};
        load.engine = ops.front().engine;
        load.sramFill = hw::Bytes{bytes};
        for (hw::DieOp& op : ops) op.source = hw::OperandSource::Sram;
        ops.insert(ops.begin(), load);
      } else if (streamed && slice.count > 1 && sram && all <= array.sramCapacity.value) {
        if (slice.index == 0) ops.front().sramFill = hw::Bytes{bytes};
        else
          for (hw::DieOp& op : ops) op.source = hw::OperandSource::Sram;
      }
    }
  }

  // The V-Cache (hw/vcache.h): an expert resident in the SRAM tier streams its weights from there;
  // a miss reads the DRAM and, when admitted, writes them into the SRAM on the way.
  void fromVCache(std::vector<hw::DieOp>& ops, uint32_t ml, const ExpertWork& w) {
    const hw::ExpertWeightCache::Access a =
        vcache_->access(ml, w.expert, w.parts, plan_->expertBytes(w.parts), w.tokens);
    (a.hit ? vcacheHits_ : vcacheMisses_).add();
    if (a.hit)
      for (hw::DieOp& op : ops) op.source = hw::OperandSource::Sram;
    else
      ops.front().sramFill = hw::Bytes{a.filledBytes};
  }

  // A phase of independent units (each a list of ops run in order). On the static array they run
  // one after another; on the adaptive array (hw/array_split.h) the phase's split puts each unit on
  // the GEMM or the GEMV partition, both run at once, and the phase ends when both are idle.
  // True when the units use two engines or more and each unit keeps to one (its ops depend on each
  // other: one engine's FIFO keeps them in order, two engines would not).
  static bool onSeveralEngines(const std::vector<std::vector<hw::DieOp>>& units) {
    std::optional<uint32_t> first;
    bool several = false;
    for (const auto& unit : units)
      for (const hw::DieOp& op : unit) {
        if (op.engine != unit.front().engine) return false;
        if (!first) first = op.engine;
        several |= op.engine != *first;
      }
    return several;
  }

  void phase(std::vector<hw::ProgramStep>& p, const std::vector<std::vector<hw::DieOp>>& units) {
    if (plan_->config().arraySplitRows == 0 || units.size() < 2) {
      if (onSeveralEngines(units)) {
        // Units on different engines run at once (Duplex co-processing: hot experts on the xPU
        // while the Logic-PIM runs the rest). Each unit keeps to one engine, whose FIFO orders its
        // ops; the phase ends when every engine is done.
        for (const auto& unit : units)
          for (const hw::DieOp& op : unit) p.push_back(hw::ProgramStep::compute(op, /*wait=*/false));
        p.push_back(hw::ProgramStep::waitEngines());
        return;
      }
      for (const auto& unit : units)
        for (const hw::DieOp& op : unit) p.push_back(hw::ProgramStep::compute(op));
      return;
    }
    const hw::EngineSpec& array = die().spec().engines[0];
    std::vector<hw::SplitUnit> shapes;
    for (const auto& unit : units) {
      hw::SplitUnit u;
      for (const hw::DieOp& op : unit) {
        const bool sram = op.source == hw::OperandSource::Sram;
        u.push_back({op.kind == hw::DieOp::Kind::Attention, op.gemm, op.attention,
                     sram ? array.compute.sramBandwidth : array.dramBandwidth, !sram});
      }
      shapes.push_back(std::move(u));
    }
    const auto rows = static_cast<uint32_t>(array.compute.tile.m);
    const hw::SplitPlan split =
        hw::chooseSplit(array.compute, array.dramBandwidth, shapes, plan_->config().arraySplitRows);
    if (split.gemvRows == 0) {  // the static array won: one after another, as there
      for (const auto& unit : units)
        for (const hw::DieOp& op : unit) p.push_back(hw::ProgramStep::compute(op));
      return;
    }
    for (uint32_t i : split.order)
      for (hw::DieOp op : units[i]) {
        const bool vector = split.onGemv[i] != 0;
        op.engine = vector ? kGemvEngine : 0;
        op.partition = {vector ? split.gemvRows : rows - split.gemvRows, vector};
        p.push_back(hw::ProgramStep::compute(op, /*wait=*/false));
      }
    p.push_back(hw::ProgramStep::waitEngines());
  }

  // Adaptive array: an op that runs alone takes the whole array in the mode where it is faster
  // (GEMV mode for low-intensity work: decode projections, lightly loaded experts).
  void adaptAlone(std::vector<hw::ProgramStep>& p, size_t from) {
    const auto rows = static_cast<uint32_t>(die().spec().engines[0].compute.tile.m);
    for (size_t i = from; i < p.size(); ++i) {
      hw::ProgramStep& s = p[i];
      if (s.kind != hw::ProgramStep::Kind::Compute || s.op.kind == hw::DieOp::Kind::Stream || s.op.engine != 0 ||
          s.op.partition.rows != 0)
        continue;
      hw::DieOp vector = s.op;
      vector.partition = {rows, true};
      if (die().cost(vector).time < die().cost(s.op).time) s.op = vector;
    }
  }

  void awaitCombine(std::vector<hw::ProgramStep>& p, uint32_t back, uint64_t destinations) {
    expectedByTag_[back] += destinations;
    p.push_back(hw::ProgramStep::waitMessages(expectedByTag_[back], back));
  }

  // Tags: 2 ml (+1) forward dispatch (combine), 2 L + 2 ml (+1) backward, 4 L the all-reduce,
  // 4 L + 1 + ml migrations, 5 L + 1 + 2 ml (+1) the second micro-batch's dispatch (combine).
  uint32_t microTag(uint32_t mb, uint32_t ml) const { return mb == 0 ? 2 * ml : 5 * m_.moeLayerCount() + 1 + 2 * ml; }

  // Two-batch overlap (serving.overlap two_batch): per MoE layer, attention, gate and dispatch of
  // micro-batch A, then of B, then A's experts and combine, then B's; a micro-batch's combine is
  // awaited only before its next layer's attention, so it travels while the other computes.
  void buildTwoBatchStep(std::vector<hw::ProgramStep>& p) {
    const uint32_t d = index();
    const uint64_t n[2] = {step_->microDieTokens[0][d], step_->microDieTokens[1][d]};
    bool pending[2] = {false, false};
    uint32_t backTag[2] = {0, 0};
    uint64_t awaited[2] = {0, 0};
    auto settle = [&](uint32_t mb) {
      if (!pending[mb]) return;
      awaitCombine(p, backTag[mb], awaited[mb]);
      pending[mb] = false;
    };
    uint32_t ml = 0;
    for (uint32_t l = 0; l < m_.layers; ++l) {
      if (!m_.isMoeLayer(l)) {
        for (uint32_t mb = 0; mb < 2; ++mb) {
          settle(mb);
          if (n[mb] > 0) attention(p, n[mb], static_cast<int>(mb));
          ffn(p, n[mb], m_.denseIntermediate);
        }
        continue;
      }
      if (plan_->config().arraySplitRows > 0) {
        // A3D-MoE's fusion on the adaptive array: B's attention and gate, as one unit, run in the
        // phase of A's experts. (B's attention waits for A's dispatched tokens to arrive.)
        settle(0);
        if (n[0] > 0) {
          attention(p, n[0], 0);
          p.push_back(hw::ProgramStep::compute(gemm(n[0], m_.experts, m_.hiddenSize)));  // gate
        }
        awaited[0] = dispatch(p, step_->microMoe[0][ml], n[0], microTag(0, ml), false);
        settle(1);
        std::vector<hw::DieOp> attentionB;
        if (n[1] > 0) {
          std::vector<hw::ProgramStep> steps;
          attention(steps, n[1], 1);
          steps.push_back(hw::ProgramStep::compute(gemm(n[1], m_.experts, m_.hiddenSize)));  // gate
          for (const hw::ProgramStep& s : steps)
            if (s.kind == hw::ProgramStep::Kind::Compute) {  // one unit: the split of its own phase undone
              hw::DieOp op = s.op;
              op.engine = 0;
              op.partition = {};
              attentionB.push_back(op);
            }
        }
        backTag[0] = microTag(0, ml) + 1;
        experts(p, step_->microMoe[0][ml], ml, microTag(0, ml), backTag[0], false, true, &attentionB);
        pending[0] = true;
        awaited[1] = dispatch(p, step_->microMoe[1][ml], n[1], microTag(1, ml), false);
        backTag[1] = microTag(1, ml) + 1;
        experts(p, step_->microMoe[1][ml], ml, microTag(1, ml), backTag[1], false, false);
        pending[1] = true;
        ++ml;
        continue;
      }
      for (uint32_t mb = 0; mb < 2; ++mb) {
        settle(mb);
        if (n[mb] > 0) {
          attention(p, n[mb], static_cast<int>(mb));
          p.push_back(hw::ProgramStep::compute(gemm(n[mb], m_.experts, m_.hiddenSize)));  // gate
        }
        awaited[mb] = dispatch(p, step_->microMoe[mb][ml], n[mb], microTag(mb, ml), false);
      }
      for (uint32_t mb = 0; mb < 2; ++mb) {
        backTag[mb] = microTag(mb, ml) + 1;
        experts(p, step_->microMoe[mb][ml], ml, microTag(mb, ml), backTag[mb], false, mb == 0);
        pending[mb] = true;
      }
      ++ml;
    }
    settle(0);
    settle(1);
  }

  uint32_t migrationTag(uint32_t ml) const { return 4 * m_.moeLayerCount() + 1 + ml; }

  // A new placement's weights: every die sends what it gives at the step's start (they compete
  // with the step's own traffic) and counts, per layer, the pieces it waits for.
  void migrate(std::vector<hw::ProgramStep>& p) {
    std::fill(migrating_.begin(), migrating_.end(), 0);
    for (const placement::Migration& mv : step_->migrations) {
      if (mv.from == index()) {
        const uint64_t bytes = plan_->expertBytes(mv.parts);
        p.push_back(hw::ProgramStep::send(mv.to, hw::Bytes{bytes}, migrationTag(mv.layer)));
        migrated_.add(bytes);
      }
      if (mv.to == index()) ++migrating_[mv.layer];
    }
  }

  void buildStep(std::vector<hw::ProgramStep>& p) {
    const size_t from = p.size();
    const uint32_t d = index();
    const uint64_t n = step_->dieTokens[d];
    tokens_.add(n);
    migrate(p);
    if (!step_->microMoe.empty()) {
      buildTwoBatchStep(p);
    } else {
      uint32_t ml = 0;
      for (uint32_t l = 0; l < m_.layers; ++l) {
        if (n > 0) attention(p, n);
        if (!m_.isMoeLayer(l)) {
          ffn(p, n, m_.denseIntermediate);
          continue;
        }
        // The MoE layer on this die: from its gate to the last combine back (onMark).
        p.push_back(hw::ProgramStep::mark(2 * ml));
        if (n > 0) p.push_back(hw::ProgramStep::compute(gemm(n, m_.experts, m_.hiddenSize)));  // gate
        moeExchange(p, ml, false);
        p.push_back(hw::ProgramStep::mark(2 * ml + 1));
        ++ml;
      }
    }
    // LM head: the emitted tokens when serving, every token when training.
    const uint64_t logits = step_->training ? n : step_->dieEmitting[d];
    if (logits > 0) p.push_back(hw::ProgramStep::compute(gemm(logits, m_.vocabSize, m_.hiddenSize)));
    if (step_->training) buildBackward(p, n);
    p.push_back(hw::ProgramStep::waitEngines());
    if (plan_->config().arraySplitRows > 0) adaptAlone(p, from);
  }

  // Backward through the layers in reverse, then, after the step's last micro-batch, the ring
  // all-reduce of the replicated weights' gradients and the optimizer. Attention's backward is
  // taken as twice its forward (projections' dgrad and wgrad, the attention's two GEMMs).
  void buildBackward(std::vector<hw::ProgramStep>& p, uint64_t n) {
    if (n > 0) backward(p, n, m_.vocabSize, m_.hiddenSize);
    uint32_t ml = m_.moeLayerCount();
    for (uint32_t l = m_.layers; l-- > 0;) {
      if (m_.isMoeLayer(l)) moeExchange(p, --ml, true);
      else ffnBackward(p, n, m_.denseIntermediate);
      if (n > 0) {
        attention(p, n);
        attention(p, n);
      }
    }
    if (!step_->lastMicroBatch || plan_->dead(index())) return;
    std::vector<uint32_t> live;
    for (uint32_t o = 0; o < plan_->config().dies; ++o)
      if (!plan_->dead(o)) live.push_back(o);
    const auto L = static_cast<uint64_t>(live.size());
    if (L > 1) {
      const size_t i = std::find(live.begin(), live.end(), index()) - live.begin();
      const uint64_t chunk = (plan_->replicatedBytes() + L - 1) / L;  // bf16 gradients of bf16 weights
      const uint32_t tag = 4 * m_.moeLayerCount();
      for (uint64_t round = 0; round < 2 * (L - 1); ++round) {  // reduce-scatter, then all-gather
        p.push_back(hw::ProgramStep::send(live[(i + 1) % L], hw::Bytes{chunk}, tag));
        p.push_back(hw::ProgramStep::waitMessages(++expectedByTag_[tag], tag));
      }
    }
    hw::DieOp optimizer;
    optimizer.kind = hw::DieOp::Kind::Stream;
    optimizer.bytes = hw::Bytes{plan_->residentBytes(index()) / 2 * plan_->config().training.optimizerBytesPerParam};
    p.push_back(hw::ProgramStep::compute(optimizer));
  }

  bool refill(std::vector<hw::ProgramStep>& program) override {
    if (step_ && step_->step != running_) {
      running_ = step_->step;
      buildStep(program);
      return true;
    }
    if (running_ != reported_) {
      reported_ = running_;
      // Folded into the send's delay: the die may not answer faster than its declared reaction.
      sendTo(ctl_, 0, Payload::of(StepDone{kDone, running_, index(), 0}), reactionDelay());
    }
    return false;
  }

  const std::shared_ptr<const ServingPlan> plan_;
  const MoeModelConfig& m_;
  std::shared_ptr<const StepPlan> step_;
  uint64_t running_ = 0, reported_ = 0;
  std::vector<uint64_t> expectedByTag_;
  std::vector<uint32_t> migrating_;  // per MoE layer: weight pieces arriving in this step
  PortId ctl_ = 0;
  Counter &tokens_, &dispatched_, &combined_;
  Counter& migrated_ = counter("migration_bytes");
  const uint32_t attentionEngine_, expertEngine_;
  static constexpr uint32_t kGemvEngine = 1;  // serving.array_split adaptive: the array's GEMV partition
  std::unique_ptr<hw::ExpertWeightCache> vcache_;  // serving.vcache
  Counter& vcacheHits_ = counter("vcache_hits");
  Counter& vcacheMisses_ = counter("vcache_misses");
  // The forward MoE layers' time on this die (Mark 2 ml at the gate, 2 ml + 1 once the last combine
  // is back; the two-batch overlap interleaves layers and is not measured): summed, and counted.
  SimTime layerBegin_ = SimTime::zero();
  Counter& moeLayerPs_ = counter("moe_layer_ps");
  Counter& moeLayers_ = counter("moe_layers_timed");
};

}  // namespace

void registerServingComponents(ComponentRegistry& registry) {
  ComponentType host;
  host.name = "moe.Host";
  host.help = "Serving host / global command processor: starts every engine step, records request latencies.";
  host.params = {{"step_overhead", ParamType::Duration, "0 ps", "scheduling time added to every step's start", 0, {}}};
  host.ports = {{"ctl", "control fabric to the dies (member 0)"}};
  host.factory = [](const ComponentContext& ctx) { return std::make_unique<Host>(ctx); };
  host.checkpoint = true;
  registry.add(std::move(host));

  ComponentType die;
  die.name = "moe.Die";
  die.help = "A die running the MoE serving dataflow of every step (models/moe/serving_components.h).";
  die.params = hw::ProgramDie::dieParams();
  die.ports = {{"net", "link to the router"}, {"ctl", "control fabric (member index + 1)"}};
  die.factory = [](const ComponentContext& ctx) {
    return std::make_unique<ServingDie>(ctx, ctx.data->get<ServingPlan>(kServingDataKey, "component " + ctx.name));
  };
  die.checkpoint = true;
  registry.add(std::move(die));
}

}  // namespace wafersim::moe
