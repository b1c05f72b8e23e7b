// Continuous batching in the style of vLLM: the serving engine's scheduler, as a deterministic
// state machine over simulated time (no components; models/moe/serving_plan.h drives it).
//
// Each engine step: form(start) admits the requests that arrived by `start` and picks the batch;
// complete(end) applies it. Sequences live on one die (data-parallel attention: their KV cache
// is there). A step holds, within a token budget and a limit of running sequences:
//   1. every running sequence in decode, one token each (oldest first); a sequence whose die has
//      no KV room for its next token preempts the most recently admitted sequence on that die
//      (recompute: its KV is freed, it goes back to the front of the queue and later prefills
//      its prompt plus what it had generated, without emitting those tokens again);
//   2. prefill chunks (chunked prefill): running sequences still prefilling, then waiting ones
//      in arrival order, each on the die with the most free KV that holds the chunk. With
//      mix_prefill_decode off, a step is prefill-only whenever a prefill can be scheduled
//      (vLLM's default before chunked prefill), decode-only otherwise.
// A token is emitted when a sequence's prefill completes (the first token) and by every decode.
// Times per request: arrival, first scheduled, first token, finish, preemptions.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "models/workload/requests.h"
#include "sim/time.h"

namespace wafersim::moe {

struct SchedulerConfig {
  uint32_t maxRunning = 256;     // vLLM max_num_seqs
  uint32_t tokenBudget = 8192;   // vLLM max_num_batched_tokens
  uint32_t prefillChunk = 0;     // largest prefill chunk of one sequence (0: the token budget)
  bool mixPrefillDecode = true;  // chunked prefill mixes prefill chunks into decode steps
};

struct BatchEntry {
  uint64_t request = 0;
  uint32_t die = 0;
  uint32_t contextBefore = 0;  // tokens already in its KV cache
  uint32_t newTokens = 0;      // tokens computed this step
  bool prefill = false;
  bool emits = false;          // produces an output token at the end of the step
};

struct RequestRecord {
  uint64_t id = 0;
  SimTime arrival, firstScheduled, firstToken, finish;
  uint32_t promptTokens = 0, outputTokens = 0, preemptions = 0;
  Duration ttft() const { return firstToken - arrival; }
  Duration e2e() const { return finish - arrival; }
  Duration queueing() const { return firstScheduled - arrival; }
  // Mean time between output tokens after the first (zero for one-token outputs), ps rounded down.
  Duration tpot() const;
};

class BatchScheduler {
 public:
  // kvCapacityTokens[d]: KV-cache tokens die d can hold.
  BatchScheduler(SchedulerConfig config, std::vector<uint64_t> kvCapacityTokens,
                 std::unique_ptr<workload::RequestGenerator> requests);

  // The earliest time >= now at which a step has work: now when any sequence is running or has
  // arrived, else the next arrival, else SimTime::never() (the workload is over).
  SimTime nextWorkAt(SimTime now);
  // The batch of the step starting at `start` (which must be >= every earlier step's end).
  const std::vector<BatchEntry>& form(SimTime start);
  // Applies the last formed batch at the step's end; appends the requests that finished.
  void complete(SimTime end, std::vector<RequestRecord>& finished);

  uint64_t running() const { return running_.size(); }
  uint64_t waiting() const { return waiting_.size(); }
  uint64_t kvUsed(uint32_t die) const { return kvUsed_.at(die); }
  uint64_t preemptions() const { return preemptions_; }
  const SchedulerConfig& config() const { return config_; }

 private:
  struct Sequence {
    workload::RequestSpec spec;
    RequestRecord record;
    uint32_t die = 0;
    uint32_t computed = 0;   // tokens in the KV cache
    uint32_t generated = 0;  // output tokens emitted
    uint32_t prefillTarget = 0;  // tokens to prefill: prompt, plus generated ones after a preemption
    uint64_t admitted = 0;   // admission order, for preemption
    bool scheduledOnce = false;
  };
  void pullArrivals(SimTime now);
  bool preemptFor(uint32_t die, uint64_t protectedId);
  int64_t pickDie(uint32_t tokens) const;

  SchedulerConfig config_;
  std::vector<uint64_t> capacity_;
  std::vector<uint64_t> kvUsed_;
  std::unique_ptr<workload::RequestGenerator> requests_;
  std::optional<workload::RequestSpec> pending_;  // next arrival not yet admitted to the queue
  bool exhausted_ = false;
  std::deque<Sequence> waiting_;
  std::vector<Sequence> running_;  // in admission order
  std::vector<uint32_t> runningOnDie_;  // per die: sequences of running_ there (pickDie's count)
  std::vector<size_t> finishedAt_;       // complete()'s scratch: indices into running_
  std::vector<BatchEntry> batch_;
  uint64_t nextAdmission_ = 0;
  uint64_t preemptions_ = 0;
  SimTime lastEnd_ = SimTime::zero();
};

}  // namespace wafersim::moe
