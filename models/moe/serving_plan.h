// The serving engine's global state, replicated: every process (and every partition thread in it)
// shares one ServingPlan through the graph's model data, and every process computes the same
// plans from the same inputs, so no batch or routing ever travels between processes.
//
// Step k (k = 1, 2, ...) is announced by the host (serving_components.cc) as (k, end of step
// k-1, start of step k). From those two times the plan is a pure function of the scenario: the
// scheduler (batch_scheduler.h) completes step k-1 and forms step k's batch, the router routes
// every token of the batch through every MoE layer, and the placement turns the routing into
// per-die work: tokens each die sends to each other die, tokens per expert. Dies read it to
// build their programs; the host reads the finished requests.
//
// THREADS. Dies of one process may ask for the same step from several partition threads; the
// first computes it under a mutex, the others read it (plans are immutable once made). All
// mutation is the deterministic state machine advancing one step at a time, so the cache is
// logically const. A step-1 announcement that does not fit the state resets it (the same graph
// is run again, as tests do).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "models/hardware/die.h"
#include "models/hardware/vcache.h"
#include "models/moe/batch_scheduler.h"
#include "models/moe/model_config.h"
#include "models/workload/routing.h"
#include "placement/placement.h"
#include "placement/policy.h"
#include "placement/problem.h"
#include "sim/params.h"

namespace wafersim::moe {

inline constexpr const char* kServingDataKey = "serving";

// Post-training (Mozart): steps of `sequences` sequences of `sequenceLength` tokens, split into
// micro-batches; each micro-batch runs forward and backward through every layer; after the last
// one the replicated weights' gradients are all-reduced over a ring of the dies and the optimizer
// streams every resident weight with its states (optimizerBytesPerParam per bf16 parameter).
//
// How an MoE layer's exchange runs (training.pipeline; Mozart's baseline vs its schedule, seeds.md 5.3):
//  LoadThenCompute: every token of the micro-batch is dispatched before any expert computes, and
//    each expert share's weights are loaded from DRAM into the SRAM before its GEMMs run from there
//    (no overlap of weight load and compute; where a share does not fit the SRAM its GEMMs read the
//    DRAM as they go); the results go back once every expert ran.
//  Streamed: the tokens go in StepPlan::streamSlices slices; a die computes slice s's experts as
//    soon as slice s has arrived and sends slice s's results back at once, so the dispatch of later
//    slices and the combine of earlier ones overlap the experts' compute; weights stream from DRAM
//    under the GEMMs (roofline overlap) and stay in the SRAM for the later slices where the die's
//    shares of the layer fit it.
enum class TrainingPipeline : uint8_t { LoadThenCompute, Streamed };

struct TrainingConfig {
  uint32_t steps = 0;  // 0: a serving run
  uint32_t sequences = 32;
  uint32_t sequenceLength = 512;
  uint32_t microBatches = 4;
  uint32_t optimizerBytesPerParam = 16;
  TrainingPipeline pipeline = TrainingPipeline::LoadThenCompute;
  // Streamed: slices per exchange at most; fewer where a slice would give an expert fewer tokens,
  // on average, than the expert engine's array has rows (a slice must fill the array).
  uint32_t streamSlices = 4;
};

// Online re-placement (issue: placement service): every `epoch` of simulated time (checked at step
// starts) the policy sees the epoch's routing statistics and decides; an applied decision takes
// effect at the first step starting at least `decisionDelay` later, whose program migrates the
// moved weights over the network before each layer's experts run at their new homes.
struct OnlinePlacementConfig {
  std::string policy;           // empty: no online placement
  Params options;               // the policy's parameters, resolved
  Duration epoch = Duration::zero();
  Duration decisionDelay = Duration::zero();
  double smoothing = 0;         // weight of the previous epochs' loads in the moving average (EPLB)
  std::string service;          // a wafersim-placement endpoint; empty: decide in process
  uint32_t serviceTimeoutMs = 10000;
  std::string runId;            // names the run to the service (its memo key, with the epoch)
  placement::RemoteDecider decider;  // the run's own client of the service (BuildContext::placement)
  placement::Fabric fabric;     // the system as the policy sees it
  placement::ExpertShape shape;
  double attentionSeconds = 0;  // one layer's attention budget (DynamicPlacement); 0: the step's, estimated
  // Replay: decisions recorded by an earlier run (placement log), applied at their epochs instead
  // of asking a policy.
  struct Recorded {
    uint64_t epoch = 0;
    std::string policy, outcome, reason;
    double predictedGain = 0, optimalityGap = -1;
    std::optional<placement::Placement> placement;  // applied
  };
  std::vector<Recorded> replay;  // by epoch; the log's words are kept, so the log itself replays too
  bool replaying = false;
};

// One online decision, for the results' placement log.
struct PlacementLogEntry {
  uint64_t epoch = 0, step = 0;
  SimTime decidedAt, effectiveAt = SimTime::never();  // never: not applied
  uint64_t effectiveStep = 0;
  std::string policy, outcome, reason;  // outcome: applied, unchanged, kept
  double predictedGain = 0, optimalityGap = -1;
  uint64_t migrationBytes = 0, movedShards = 0;
  uint64_t epochTokens = 0;
  double loadMaxOverMean = 0;  // expert-token load over the usable dies in the epoch, under the old placement
  std::shared_ptr<const placement::Placement> placement;  // applied: the new placement
};

struct ServingConfig {
  MoeModelConfig model;
  uint32_t dies = 0;
  std::vector<hw::DieSpec> dieSpecs;  // per die
  std::vector<bool> failed;           // per die (empty: none): masked out, no requests, no experts
  SchedulerConfig scheduler;
  Params workload;        // resolved against workload::requestWorkloadParams()
  Params routing;         // resolved against routingParams() (serving_model.h)
  uint64_t seed = 1;
  // Where the routed experts live at the start (placement/placement.h), and the memory each die
  // keeps for routed experts' weights (at least what the placement puts there; more leaves room
  // for the replicas an online policy may add). Empty: exactly what the placement needs.
  placement::Placement placement;
  std::vector<uint64_t> expertReserveBytes;
  std::vector<uint32_t> hops;  // dies x dies router hops (the nearest-replica split and migrations)
  // Per die, its chiplet group where the system has them (dies sharing a router: the NoP-tree's
  // leaf groups; placement::Fabric::groupOf); empty: none. Copies per token are counted per group.
  std::vector<uint32_t> groupOf;
  // mapping.execution oblivious (Patterns behind Chaos' Base: one GPU programming model over the
  // wafer, work placed without regard to where the weights are): each MoE layer's tokens of an
  // expert are cut, in token order, into blocks of this many, and each block as it opens goes to the
  // next usable die in turn, whatever the placement; a die computing an expert it does not hold
  // first reads the whole expert from the nearest die holding it, every step (StepPlan::migrations,
  // nothing kept). The placement then says only where the weights live. 0: placed execution (the
  // dies holding an expert compute its tokens).
  uint32_t obliviousBlockTokens = 0;
  OnlinePlacementConfig online;
  double kvMemoryFraction = 0.9;  // of the DRAM left after the weights
  hw::DataType computeType = hw::DataType::Bf16;
  uint32_t activationBytes = 2;   // per hidden element on the wire
  SimTime traceStart = SimTime::zero(), traceEnd = SimTime::zero();  // Perfetto window (empty: off)
  // Engines of a multi-engine die (Duplex: "xpu", "pim") for the attention over the KV cache and
  // for the routed experts' FFNs; empty: the die's first engine. Everything else runs there too.
  std::string attentionEngine, expertEngine;
  TrainingConfig training;
  // serving.overlap two_batch: every step's batch is split into two micro-batches (each die's batch
  // entries alternately) whose layers interleave on the dies, so one micro-batch's attention and
  // gate compute while the other's dispatch, experts and combine are on the network (DeepSeek's
  // two-batch overlap, A3D-MoE's fusion). Serving only.
  bool twoBatchOverlap = false;
  // A3D-MoE (seeds.md 1), serving.array_split adaptive: every die's array is split per phase
  // between GEMV and GEMM work in steps of arraySplitRows rows (hw/array_split.h; 0: the static
  // array). With two-batch overlap it also fuses one micro-batch's attention with the other's
  // experts in one phase. serving.vcache: vcacheBytes of each die's SRAM tier hold routed experts'
  // weights across steps under vcachePolicy (hw/vcache.h; 0: none).
  uint32_t arraySplitRows = 0;
  uint64_t vcacheBytes = 0;
  hw::VCachePolicy vcachePolicy = hw::VCachePolicy::Lfu;
};

// A die's share of one expert at one layer: the tokens of the replica it holds a shard of, the
// shard's parts of the FFN (placement::kWhole = all of it), the engine (kDefaultEngine: the
// scenario's expert engine).
struct ExpertWork {
  uint32_t expert = 0, tokens = 0, parts = placement::kWhole, engine = placement::kDefaultEngine;
};

struct LayerRouting {
  // C_T, Mozart's copies per token (placement/copies_per_token.h), from the routed tokens and the
  // placement in force: the tokens routed, and the sum over them of the distinct dies (and chiplet
  // groups, ServingConfig::groupOf) their top-k experts' shards lie on, the token's own die included.
  uint64_t routedTokens = 0, dieCopies = 0, groupCopies = 0;
  std::vector<uint32_t> pairTokens;    // dies x dies: tokens of die s visiting a shard on die d
  std::vector<uint32_t> expertTokens;  // experts: tokens routed to each
  std::vector<uint32_t> workBegin;     // dies + 1 offsets into work
  std::vector<ExpertWork> work;        // per die, by expert
};

struct StepPlan {
  uint64_t step = 0;
  SimTime start;
  std::vector<BatchEntry> batch;
  std::vector<uint32_t> dieTokens;    // tokens computed on each die
  std::vector<uint32_t> dieEmitting;  // tokens emitted by each die (LM head rows)
  std::vector<LayerRouting> moe;      // per MoE layer, the whole batch
  // Two-batch overlap only (else empty): each batch entry's micro-batch (0 or 1), the tokens each
  // die computes per micro-batch, and the routing per micro-batch: microMoe[microBatch][layer],
  // the whole batch's router choices split by micro-batch.
  std::vector<uint8_t> microBatchOf;
  std::vector<std::vector<uint32_t>> microDieTokens;  // [microBatch][die]
  std::vector<std::vector<LayerRouting>> microMoe;
  uint64_t prefillTokens = 0, decodeTokens = 0;
  uint64_t waiting = 0;         // requests queued, not in the batch, when it was formed (observers)
  bool training = false;        // a training micro-batch: forward and backward
  uint64_t trainingStep = 0;    // 1-based
  bool firstMicroBatch = false, lastMicroBatch = false;
  uint32_t streamSlices = 1;    // training.pipeline streamed: the slices of every MoE exchange
  // The placement in force for this step, and the weights moving to it at its start (non-empty on
  // the first step of a new online placement, and on every step of oblivious execution: the weights
  // each die reads from the dies holding them, ServingConfig::obliviousBlockTokens).
  std::shared_ptr<const placement::Placement> placement;
  std::vector<placement::Migration> migrations;
};

// One request's attention op in a step: its new tokens attending to its whole context (MLA runs
// absorbed, as one KV head of kv_lora_rank + rope).
hw::Attention attentionOf(const MoeModelConfig& model, const BatchEntry& entry);

// The routing section of a scenario: kind synthetic (SyntheticRouter's knobs) or trace (a
// routing trace file, HD-MoE or Patterns-behind-Chaos format).
std::vector<ParamSpec> routingParams();
// `structureSeed` (nonzero): a synthetic router's hot experts and groups come from it, its tokens
// from `seed` (the offline profiling pass: other tokens of the run's model).
std::unique_ptr<workload::ExpertRouter> makeRouter(const Params& resolved, const MoeModelConfig& model, uint64_t seed,
                                                   uint64_t structureSeed = 0);

// How the host announced step k (serving_components.cc): when step k-1 ended, and when step k
// starts. The plan's state after step k is a pure function of the announcements of steps 1..k.
struct StepAnnouncement {
  int64_t prevEndPs = 0;
  int64_t startPs = 0;
};

class ServingPlan {
 public:
  explicit ServingPlan(ServingConfig config);
  ~ServingPlan();

  const ServingConfig& config() const { return config_; }
  // Resident weights of die d (replicated attention/dense/shared/embeddings + its experts).
  uint64_t residentBytes(uint32_t die) const;
  uint64_t kvCapacityTokens(uint32_t die) const;  // 0 for a failed die
  uint64_t replicatedBytes() const;                // weights every die holds (all but routed experts)
  bool dead(uint32_t die) const;

  // Completes step k-1 at prevEnd (if not done yet) and returns when step k can start: `now`
  // when there is work, else the next arrival, else SimTime::never().
  SimTime nextWorkAt(uint64_t k, SimTime prevEnd, SimTime now) const;
  // Step k's plan (computing it, after completing step k-1 at prevEnd, if it is new).
  std::shared_ptr<const StepPlan> step(uint64_t k, SimTime prevEnd, SimTime start) const;
  // CHECKPOINTS. Brings this process's plan to its state once step log.size() was formed, `log`
  // holding every step's announcement from step 1 on: a resumed run's serving components replay
  // the host's saved log (one record for every process, whatever partition wrote it), so the
  // scheduler, the request generator, the router's streams and the online placement state are
  // rebuilt instead of saved, at the cost of recomputing the steps' plans. Steps already formed
  // are kept when the state is on the log and not past its end (another partition of this
  // process replayed it); otherwise it is dropped first (a state of another run of the graph).
  void replay(const std::vector<StepAnnouncement>& log) const;
  // The requests that finished at the end of step k (known once step k+1 or nextWorkAt(k+1) ran).
  std::vector<RequestRecord> finishedAfter(uint64_t k) const;
  uint64_t preemptions() const;
  // The online decisions so far (a copy).
  std::vector<PlacementLogEntry> placementLog() const;
  uint64_t expertBytes(uint64_t parts) const;  // parts of one routed expert, rounded up

 private:
  struct State;
  void resetIfRerun(uint64_t k, bool cached) const;
  void completeUpTo(uint64_t k, SimTime prevEnd) const;  // state after step k-1
  std::shared_ptr<const StepPlan> stepLocked(uint64_t k, SimTime prevEnd, SimTime start) const;
  void route(StepPlan& plan) const;
  void distribute(const StepPlan& plan, uint32_t layer, LayerRouting& r, int microBatch) const;
  void distributeOblivious(LayerRouting& r, int microBatch) const;
  void readRemoteWeights(StepPlan& plan) const;
  void decideOnline(StepPlan& plan) const;
  double attentionLayerSeconds(const StepPlan& plan) const;
  uint32_t pickReplica(const std::vector<placement::Replica>& copies, uint32_t source, uint32_t turn,
                       const std::vector<uint64_t>& dieLoad, placement::Split split) const;

  ServingConfig config_;  // fixed once constructed (the constructor completes the expert reserves)
  mutable std::mutex mutex_;
  mutable std::unique_ptr<State> state_;
};

}  // namespace wafersim::moe
