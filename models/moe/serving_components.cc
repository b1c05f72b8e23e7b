#include "models/moe/serving_components.h"

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "models/hardware/die_program.h"
#include "models/moe/serving_plan.h"
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
    ctl_ = port("ctl");
    dies_ = fabricSize(ctl_) - 1;
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
    WAFERSIM_ASSERT(kind == kDone && done.step == step_, "host ", name(), ": unexpected control message ", kind,
                    " for step ", done.step, " during step ", step_);
    if (++doneCount_ < dies_) return;
    // The step is over.
    stepTime_.add((now() - stepStart_).ps());
    if (trace_ && now() > plan_->config().traceStart && stepStart_ < plan_->config().traceEnd)
      trace_->addRow({stepStart_.ps(), now().ps(), 0, 3, static_cast<int64_t>(step_), stepTokens_});
    busy_.add(static_cast<uint64_t>((now() - stepStart_).ps()));
    const uint64_t ended = step_;
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

  void finish() override {
    preempted_.add(plan_->preemptions());
    writePlacementLog();
    Table& load = table("expert_load", {"moe_layer", "expert", "tokens"});
    for (size_t l = 0; l < expertLoad_.size(); ++l)
      for (size_t e = 0; e < expertLoad_[l].size(); ++e)
        load.addRow({static_cast<int64_t>(l), static_cast<int64_t>(e), static_cast<int64_t>(expertLoad_[l][e])});
  }

 private:
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
    current_ = plan;
    for (size_t l = 0; l < plan->moe.size(); ++l) {  // expert load, for the routing statistics
      if (expertLoad_.size() < plan->moe.size()) expertLoad_.resize(plan->moe.size());
      auto& load = expertLoad_[l];
      load.resize(plan->moe[l].expertTokens.size(), 0);
      for (size_t e = 0; e < load.size(); ++e) load[e] += plan->moe[l].expertTokens[e];
    }
    step_ = k;
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

  const std::shared_ptr<const ServingPlan> plan_;
  const Duration overhead_;
  PortId ctl_ = 0;
  uint32_t dies_ = 0;
  uint64_t step_ = 0;
  uint32_t doneCount_ = 0;
  SimTime stepStart_ = SimTime::zero();
  Counter &steps_, &prefillTokens_, &decodeTokens_, &finished_, &outputTokens_, &preempted_, &lastFinish_, &busy_;
  Histogram &ttft_, &tpot_, &e2e_, &queueing_, &stepTime_, &batch_;
  Table& requests_;  // one row per finished request, in finishing order
  Table* trace_ = nullptr;  // steps in the trace window: kind 3, amount = step, detail = tokens
  std::shared_ptr<const StepPlan> current_;
  SimTime trainStart_ = SimTime::zero();
  Counter& trainSteps_ = counter("train_steps");
  Counter& trainedTokens_ = counter("trained_tokens");
  Histogram& trainStep_ = histogram("train_step_ps", kLatencyBounds);
  int64_t stepTokens_ = 0;
  std::vector<std::vector<uint64_t>> expertLoad_;  // [MoE layer][expert]: tokens routed
};

class ServingDie final : public hw::ProgramDie {
 public:
  ServingDie(const ComponentContext& ctx, std::shared_ptr<const ServingPlan> plan)
      : ProgramDie(ctx, specOf(ctx, *plan)),
        plan_(std::move(plan)),
        m_(plan_->config().model),
        expectedByTag_(7 * size_t{m_.moeLayerCount()} + 1, 0),
        migrating_(m_.moeLayerCount(), 0),
        tokens_(counter("tokens")),
        dispatched_(counter("dispatch_bytes")),
        combined_(counter("combine_bytes")),
        attentionEngine_(engineOf(plan_->config().attentionEngine)),
        expertEngine_(engineOf(plan_->config().expertEngine)) {
    die().memory().allocate("weights", hw::Bytes{plan_->residentBytes(index())});
    traceWindow(plan_->config().traceStart, plan_->config().traceEnd);
  }

  void setup() override {
    ctl_ = port("ctl");
    ProgramDie::setup();
  }

 private:
  static const hw::DieSpec& specOf(const ComponentContext& ctx, const ServingPlan& plan) {
    const auto i = static_cast<size_t>(ctx.params->integer("index"));
    WAFERSIM_REQUIRE(i < plan.config().dieSpecs.size(), "component ", ctx.name, ": die ", i, " of ",
                     plan.config().dieSpecs.size());
    return plan.config().dieSpecs[i];
  }

  void handleControl(const Event& e) override {
    const auto start = e.payload.as<StepStart>();
    WAFERSIM_ASSERT(start.kind == kStart, "die ", name(), ": unexpected control message ", start.kind);
    step_ = plan_->step(start.step, SimTime::fromPs(start.prevEndPs), SimTime::fromPs(start.startPs));
  }

  static constexpr uint32_t kAuto = UINT32_MAX, kCoprocess = UINT32_MAX - 1;
  uint32_t engineOf(const std::string& name) {
    if (name == "auto") return kAuto;
    if (name == "coprocess") return die().spec().engines.size() >= 2 ? kCoprocess : 0;
    return name.empty() ? 0 : die().spec().engineIndex(name);
  }

  // "auto": the engine on which the op alone is fastest (Duplex's rule in effect: low Op/B work,
  // decode attention and lightly loaded experts, goes to the Logic-PIM; prefill to the xPU).
  hw::DieOp placed(hw::DieOp op, uint32_t engine) {
    if (engine != kAuto) {
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
    // One attention op per request: MLA runs absorbed, as one KV head of kv_lora_rank + rope.
    const bool mla = m_.attention == AttentionKind::Mla;
    for (size_t i = 0; i < step_->batch.size(); ++i) {
      const BatchEntry& e = step_->batch[i];
      if (e.die != index() || (mb >= 0 && step_->microBatchOf[i] != mb)) continue;
      hw::DieOp op;
      op.kind = hw::DieOp::Kind::Attention;
      op.attention.batch = 1;
      op.attention.heads = m_.heads;
      op.attention.kvHeads = mla ? 1 : m_.kvHeads;
      op.attention.headDim = mla ? uint64_t{m_.kvLoraRank} + m_.qkRopeHeadDim : m_.headDim;
      op.attention.contextLength = uint64_t{e.contextBefore} + e.newTokens;
      op.attention.queryLength = e.newTokens;
      op.attention.dtype = m_.kvCacheType;
      p.push_back(hw::ProgramStep::compute(placed(op, attentionEngine_)));
    }
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
  void moeExchange(std::vector<hw::ProgramStep>& p, uint32_t ml, bool isBackward) {
    const LayerRouting& r = step_->moe[ml];
    const uint32_t out = (isBackward ? 2 * m_.moeLayerCount() : 0) + 2 * ml, back = out + 1;
    const uint64_t destinations = dispatch(p, r, step_->dieTokens[index()], out, isBackward);
    experts(p, r, ml, out, back, isBackward, true);
    awaitCombine(p, back, destinations);
  }

  // This die's n tokens go to the dies of their experts (tag out) while its shared experts run;
  // returns the dies dispatched to, each of which answers with one combine message.
  uint64_t dispatch(std::vector<hw::ProgramStep>& p, const LayerRouting& r, uint64_t n, uint32_t out, bool isBackward) {
    const uint32_t d = index(), D = plan_->config().dies;
    const uint64_t bytesPerToken = m_.hiddenSize * plan_->config().activationBytes;
    uint64_t destinations = 0;
    for (uint32_t o = 0; o < D; ++o) {
      if (o == d) continue;
      if (const uint64_t c = r.pairTokens[size_t{d} * D + o]; c > 0) {
        p.push_back(hw::ProgramStep::send(o, hw::Bytes{c * bytesPerToken}, out));
        dispatched_.add(c * bytesPerToken);
        ++destinations;
      }
    }
    const uint64_t shared = uint64_t{m_.sharedExperts} * m_.sharedIntermediate;
    if (isBackward) ffnBackward(p, n, shared);
    else ffn(p, n, shared);  // overlaps the dispatch
    return destinations;
  }

  // The experts on this die: wait for the tokens dispatched to it (and, with `migrations`, for
  // this layer's newly placed weights), compute, send the results back (tag back).
  void experts(std::vector<hw::ProgramStep>& p, const LayerRouting& r, uint32_t ml, uint32_t out, uint32_t back,
               bool isBackward, bool migrations) {
    const uint32_t d = index(), D = plan_->config().dies;
    const uint64_t bytesPerToken = m_.hiddenSize * plan_->config().activationBytes;
    uint64_t sources = 0;
    for (uint32_t o = 0; o < D; ++o) sources += o != d && r.pairTokens[size_t{o} * D + d] > 0;
    expectedByTag_[out] += sources;
    p.push_back(hw::ProgramStep::waitMessages(expectedByTag_[out], out));
    if (migrations && !isBackward && migrating_[ml] > 0) {  // this layer's new experts must have arrived
      const uint32_t tag = migrationTag(ml);
      expectedByTag_[tag] += migrating_[ml];
      p.push_back(hw::ProgramStep::waitMessages(expectedByTag_[tag], tag));
    }
    if (expertEngine_ == kCoprocess) coprocess(r);
    for (uint32_t i = r.workBegin[d]; i < r.workBegin[d + 1]; ++i) {
      const ExpertWork& w = r.work[i];
      // A tensor-parallel shard computes its parts of the intermediate columns.
      const uint64_t columns = (uint64_t{m_.expertIntermediate} * w.parts + placement::kWhole - 1) / placement::kWhole;
      const uint32_t engine = w.engine != placement::kDefaultEngine ? w.engine
                              : expertEngine_ == kCoprocess     ? coprocessed_[i - r.workBegin[d]]
                                                                : expertEngine_;
      if (isBackward) ffnBackward(p, w.tokens, columns, engine);
      else ffn(p, w.tokens, columns, engine);
    }
    for (uint32_t o = 0; o < D; ++o)
      if (const uint64_t c = r.pairTokens[size_t{o} * D + d]; o != d && c > 0) {
        p.push_back(hw::ProgramStep::send(o, hw::Bytes{c * bytesPerToken}, back));
        combined_.add(c * bytesPerToken);
      }
  }

  uint64_t columnsOf(const ExpertWork& w) const {
    return (uint64_t{m_.expertIntermediate} * w.parts + placement::kWhole - 1) / placement::kWhole;
  }

  Duration ffnTime(const ExpertWork& w, uint32_t engine) {
    const uint64_t h = m_.hiddenSize, c = columnsOf(w);
    return die().cost(gemm(w.tokens, (m_.gatedFfn ? 2 : 1) * c, h, engine)).time + die().cost(gemm(w.tokens, h, c, engine)).time;
  }

  // Duplex's expert co-processing (seeds.md 4.3, getIdxHighOptimal) with this die's own costs: this
  // layer's experts start on the bandwidth engine (the Logic-PIM); the hottest move to the compute
  // engine (the xPU) while the later of the two engines' finishing times keeps falling. Both
  // engines then run their experts at once. coprocessed_[i]: the engine of the die's i-th work.
  void coprocess(const LayerRouting& r) {
    const uint32_t d = index();
    const auto& engines = die().spec().engines;
    uint32_t compute = 0;
    for (uint32_t e = 1; e < engines.size(); ++e)
      if (engines[e].compute.peakFp16 > engines[compute].compute.peakFp16) compute = e;
    uint32_t memory = compute == 0 ? 1 : 0;
    for (uint32_t e = 0; e < engines.size(); ++e)
      if (e != compute && engines[e].dramBandwidth > engines[memory].dramBandwidth) memory = e;
    const uint32_t n = r.workBegin[d + 1] - r.workBegin[d];
    coprocessed_.assign(n, memory);
    std::vector<uint32_t> order(n);
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return r.work[r.workBegin[d] + a].tokens > r.work[r.workBegin[d] + b].tokens;
    });
    Duration onCompute = Duration::zero(), onMemory = Duration::zero();
    std::vector<Duration> xpu(n), pim(n);
    for (uint32_t i = 0; i < n; ++i) {
      xpu[i] = ffnTime(r.work[r.workBegin[d] + i], compute);
      pim[i] = ffnTime(r.work[r.workBegin[d] + i], memory);
      onMemory = onMemory + pim[i];
    }
    for (uint32_t i : order) {
      const Duration x = onCompute + xpu[i], m = onMemory - pim[i];
      if (std::max(x, m) >= std::max(onCompute, onMemory)) break;
      onCompute = x;
      onMemory = m;
      coprocessed_[i] = compute;
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
        if (n > 0) p.push_back(hw::ProgramStep::compute(gemm(n, m_.experts, m_.hiddenSize)));  // gate
        moeExchange(p, ml++, false);
      }
    }
    // LM head: the emitted tokens when serving, every token when training.
    const uint64_t logits = step_->training ? n : step_->dieEmitting[d];
    if (logits > 0) p.push_back(hw::ProgramStep::compute(gemm(logits, m_.vocabSize, m_.hiddenSize)));
    if (step_->training) buildBackward(p, n);
    p.push_back(hw::ProgramStep::waitEngines());
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
  std::vector<uint32_t> coprocessed_;  // expert_engine coprocess: the engine of each of this layer's works
};

}  // namespace

void registerServingComponents(ComponentRegistry& registry) {
  ComponentType host;
  host.name = "moe.Host";
  host.help = "Serving host / global command processor: starts every engine step, records request latencies.";
  host.params = {{"step_overhead", ParamType::Duration, "0 ps", "scheduling time added to every step's start", 0, {}}};
  host.ports = {{"ctl", "control fabric to the dies (member 0)"}};
  host.factory = [](const ComponentContext& ctx) { return std::make_unique<Host>(ctx); };
  registry.add(std::move(host));

  ComponentType die;
  die.name = "moe.Die";
  die.help = "A die running the MoE serving dataflow of every step (models/moe/serving_components.h).";
  die.params = hw::ProgramDie::dieParams();
  die.ports = {{"net", "link to the router"}, {"ctl", "control fabric (member index + 1)"}};
  die.factory = [](const ComponentContext& ctx) {
    return std::make_unique<ServingDie>(ctx, ctx.data->get<ServingPlan>(kServingDataKey, "component " + ctx.name));
  };
  registry.add(std::move(die));
}

}  // namespace wafersim::moe
