#include "models/moe/batch_scheduler.h"

#include <algorithm>

#include "sim/error.h"

namespace wafersim::moe {

Duration RequestRecord::tpot() const {
  if (outputTokens <= 1) return Duration::zero();
  return Duration::fromPs((finish - firstToken).ps() / (outputTokens - 1));
}

BatchScheduler::BatchScheduler(SchedulerConfig config, std::vector<uint64_t> kvCapacityTokens,
                               std::unique_ptr<workload::RequestGenerator> requests)
    : config_(config), capacity_(std::move(kvCapacityTokens)), requests_(std::move(requests)) {
  WAFERSIM_REQUIRE(!capacity_.empty(), "scheduler: no dies");
  WAFERSIM_REQUIRE(config_.maxRunning > 0, "scheduler.max_running: must be at least 1");
  WAFERSIM_REQUIRE(config_.tokenBudget > 0, "scheduler.token_budget: must be at least 1");
  WAFERSIM_REQUIRE(requests_ != nullptr, "scheduler: no request workload");
  kvUsed_.assign(capacity_.size(), 0);
  runningOnDie_.assign(capacity_.size(), 0);
}

void BatchScheduler::pullArrivals(SimTime now) {
  for (;;) {
    if (!pending_ && !exhausted_) {
      pending_ = requests_->next();
      exhausted_ = !pending_;
    }
    if (!pending_ || pending_->arrival > now) return;
    Sequence s;
    s.spec = *pending_;
    s.record.id = s.spec.id;
    s.record.arrival = s.spec.arrival;
    s.record.promptTokens = s.spec.promptTokens;
    s.record.outputTokens = s.spec.outputTokens;
    s.prefillTarget = s.spec.promptTokens;
    const uint64_t largest = *std::max_element(capacity_.begin(), capacity_.end());
    WAFERSIM_REQUIRE(uint64_t{s.spec.promptTokens} + s.spec.outputTokens <= largest, "request ", s.spec.id, " needs ",
                     uint64_t{s.spec.promptTokens} + s.spec.outputTokens,
                     " tokens of KV cache; the largest die holds ", largest,
                     " (smaller prompts/outputs, or more memory per die)");
    waiting_.push_back(std::move(s));
    pending_.reset();
  }
}

SimTime BatchScheduler::nextWorkAt(SimTime now) {
  pullArrivals(now);
  if (!running_.empty() || !waiting_.empty()) return now;
  return pending_ ? pending_->arrival : SimTime::never();
}

int64_t BatchScheduler::pickDie(uint32_t tokens) const {
  // Data-parallel attention: the die running the fewest sequences that has room (ties: the most
  // free KV cache, then the lowest index). Choosing by free KV alone would pile every request onto
  // the dies holding the fewest experts when a placement leaves the dies unequal room.
  const std::vector<uint32_t>& running = runningOnDie_;  // kept up to date: a count here is O(running)
  int64_t best = -1;
  for (size_t d = 0; d < capacity_.size(); ++d) {
    const uint64_t free = capacity_[d] - kvUsed_[d];
    if (free < tokens || capacity_[d] == 0) continue;
    if (best < 0 || running[d] < running[best] ||
        (running[d] == running[best] && free > capacity_[best] - kvUsed_[best]))
      best = static_cast<int64_t>(d);
  }
  return best;
}

bool BatchScheduler::preemptFor(uint32_t die, uint64_t) {
  int64_t victim = -1;
  for (size_t i = 0; i < running_.size(); ++i)
    if (running_[i].die == die && (victim < 0 || running_[i].admitted > running_[victim].admitted))
      victim = static_cast<int64_t>(i);
  if (victim < 0) return false;
  Sequence s = std::move(running_[victim]);
  running_.erase(running_.begin() + victim);
  --runningOnDie_[die];
  kvUsed_[die] -= s.computed;
  s.computed = 0;
  s.prefillTarget = s.spec.promptTokens + s.generated;
  ++s.record.preemptions;
  ++preemptions_;
  waiting_.push_front(std::move(s));
  return true;
}

const std::vector<BatchEntry>& BatchScheduler::form(SimTime start) {
  WAFERSIM_ASSERT(start >= lastEnd_, "scheduler: a step starts before the previous one ended");
  pullArrivals(start);
  batch_.clear();
  uint64_t budget = config_.tokenBudget;
  const uint64_t chunkLimit = config_.prefillChunk ? config_.prefillChunk : config_.tokenBudget;
  auto chunkFor = [&](const Sequence& s) {
    return static_cast<uint32_t>(std::min<uint64_t>({uint64_t{s.prefillTarget} - s.computed, budget, chunkLimit}));
  };

  bool prefillOnly = false;
  if (!config_.mixPrefillDecode) {
    for (const Sequence& s : running_)
      prefillOnly = prefillOnly || s.computed < s.prefillTarget;
    if (!prefillOnly && !waiting_.empty() && running_.size() < config_.maxRunning)
      prefillOnly = pickDie(chunkFor(waiting_.front())) >= 0;
  }

  // 1. Decodes, oldest first.
  if (!prefillOnly)
    for (size_t i = 0; i < running_.size() && budget > 0;) {
      Sequence& s = running_[i];
      if (s.computed < s.prefillTarget) {
        ++i;
        continue;
      }
      const uint32_t die = s.die;
      if (kvUsed_[die] + 1 > capacity_[die]) {
        const uint64_t id = s.spec.id;
        preemptFor(die, id);
        if (i < running_.size() && running_[i].spec.id == id) continue;  // room was made, try again
        continue;  // it was the victim itself: running_[i] is the next sequence
      }
      batch_.push_back({s.spec.id, die, s.computed, 1, false, true});
      kvUsed_[die] += 1;
      budget -= 1;
      ++i;
    }

  // 2. Prefill chunks: running sequences still prefilling, then waiting ones.
  const bool decodesScheduled = !batch_.empty();
  if (config_.mixPrefillDecode || !decodesScheduled) {
    for (Sequence& s : running_) {
      if (budget == 0) break;
      if (s.computed >= s.prefillTarget) continue;
      const uint32_t chunk =
          static_cast<uint32_t>(std::min<uint64_t>(chunkFor(s), capacity_[s.die] - kvUsed_[s.die]));
      if (chunk == 0) continue;
      batch_.push_back({s.spec.id, s.die, s.computed, chunk, true, s.computed + chunk == s.prefillTarget});
      kvUsed_[s.die] += chunk;
      budget -= chunk;
    }
    while (!waiting_.empty() && running_.size() < config_.maxRunning && budget > 0) {
      Sequence& s = waiting_.front();
      const uint32_t chunk = chunkFor(s);
      const int64_t die = pickDie(chunk);
      if (die < 0) break;  // first come, first served: nobody overtakes the head of the queue
      s.die = static_cast<uint32_t>(die);
      s.admitted = nextAdmission_++;
      if (!s.scheduledOnce) {
        s.scheduledOnce = true;
        s.record.firstScheduled = start;
      }
      batch_.push_back({s.spec.id, s.die, 0, chunk, true, chunk == s.prefillTarget});
      kvUsed_[s.die] += chunk;
      budget -= chunk;
      ++runningOnDie_[s.die];
      running_.push_back(std::move(s));
      waiting_.pop_front();
    }
  }
  // Running sequences stuck in prefill with no KV room anywhere and nothing else to do: make room.
  if (batch_.empty() && !running_.empty()) {
    const uint32_t die = running_.front().die;
    preemptFor(die, running_.front().spec.id);
    return form(start);
  }
  return batch_;
}

void BatchScheduler::complete(SimTime end, std::vector<RequestRecord>& finished) {
  WAFERSIM_ASSERT(end >= lastEnd_, "scheduler: a step ends before the previous one");
  lastEnd_ = end;
  // The batch lists running sequences in the order of running_ (decodes, then prefills, each in
  // admission order; admissions were appended in batch order), so one forward scan finds each
  // entry's sequence, wrapping round once between the decodes and the prefills. The finished
  // leave running_ in one pass at the end, in order: a linear step, not one search and one
  // erase per entry (quadratic with thousands of sequences).
  finishedAt_.clear();
  size_t at = 0;
  for (const BatchEntry& e : batch_) {
    size_t scanned = 0;
    while (scanned < running_.size() && running_[at].spec.id != e.request) {
      at = at + 1 == running_.size() ? 0 : at + 1;
      ++scanned;
    }
    WAFERSIM_ASSERT(scanned < running_.size(), "scheduler: request ", e.request, " of the batch is not running");
    Sequence& s = running_[at];
    s.computed += e.newTokens;
    if (!e.emits) continue;
    if (s.generated == 0) s.record.firstToken = end;
    ++s.generated;
    if (s.generated < s.spec.outputTokens) continue;
    s.record.finish = end;
    kvUsed_[s.die] -= s.computed;
    --runningOnDie_[s.die];
    finished.push_back(s.record);
    finishedAt_.push_back(at);
    if (auto next = requests_->onFinished(end)) {
      Sequence r;
      r.spec = *next;
      r.record.id = next->id;
      r.record.arrival = next->arrival;
      r.record.promptTokens = next->promptTokens;
      r.record.outputTokens = next->outputTokens;
      r.prefillTarget = next->promptTokens;
      waiting_.push_back(std::move(r));
    }
  }
  if (!finishedAt_.empty()) {
    std::sort(finishedAt_.begin(), finishedAt_.end());
    size_t out = finishedAt_.front(), next = 0;
    for (size_t i = out; i < running_.size(); ++i) {
      if (next < finishedAt_.size() && finishedAt_[next] == i) {
        ++next;
        continue;
      }
      running_[out++] = std::move(running_[i]);
    }
    running_.resize(out);
  }
  batch_.clear();
}

}  // namespace wafersim::moe
