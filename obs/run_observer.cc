#include "obs/run_observer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "obs/metrics.h"
#include "sim/component.h"
#include "sim/partition.h"
#include "sim/wall_timer.h"

namespace wafersim::obs {
namespace {

constexpr double kPs = 1e-12;

// The upper bound (seconds) of the bucket holding quantile q of `counts`, or null when empty.
nlohmann::json quantile(const RunObserver::Snapshot::Hist& h, const std::vector<uint64_t>& counts, double q) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0 || h.bounds.empty()) return nullptr;
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= std::max<uint64_t>(rank, 1)) return static_cast<double>(h.bounds[std::min(i, h.bounds.size() - 1)]) * kPs;
  }
  return static_cast<double>(h.bounds.back()) * kPs;
}

void addHist(RunObserver::Snapshot::Hist& into, const RunObserver::Snapshot::Hist& h) {
  if (into.counts.empty()) {
    into = h;
    return;
  }
  if (into.counts.size() != h.counts.size()) return;  // differing bounds: not summable
  for (size_t i = 0; i < h.counts.size(); ++i) into.counts[i] += h.counts[i];
  into.count += h.count;
  into.sum += h.sum;
}

const char* help(const std::string& metric) {
  static const std::map<std::string, const char*> texts = {
      {"wafersim_engine_events_committed_total", "Events committed by the partition."},
      {"wafersim_engine_simulated_seconds", "Simulated time of the partition's latest committed event."},
      {"wafersim_engine_wall_seconds", "Wall time since the partition started running."},
      {"wafersim_engine_windows_total", "Synchronization windows (rounds) of the partition."},
      {"wafersim_engine_null_messages_total", "Batches the partition sent without an event."},
      {"wafersim_engine_sync_wait_seconds_total", "Wall time the partition spent blocked on synchronization."},
      {"wafersim_engine_queue_depth", "Events in the partition's future-event set."},
      {"wafersim_engine_remote_events_sent_total", "Events the partition sent to other partitions."},
      {"wafersim_engine_remote_bytes_sent_total", "Bytes of event batches the partition sent to other nodes."},
      {"wafersim_run_progress_ratio", "How far the run is: simulated time / end, or finished / total requests."},
      {"wafersim_run_simulated_seconds", "Simulated time the run has reached (its furthest partition)."},
      {"wafersim_run_wall_seconds", "Wall time since the run started."},
      {"wafersim_run_events_per_second", "Events committed per wall second since the run started."},
      {"wafersim_model_die_busy_ratio", "Busy share of the last epoch of simulated time, by die and engine."},
      {"wafersim_model_link_utilization_ratio", "Bytes / (bandwidth x time) on a link over the last epoch."},
      {"wafersim_model_link_bytes_total", "Bytes sent on a link."},
      {"wafersim_model_energy_joules_total", "Simulated energy by category."},
      {"wafersim_model_requests_finished_total", "Serving requests finished."},
      {"wafersim_model_output_tokens_total", "Output tokens generated."},
      {"wafersim_model_prefill_tokens_total", "Prompt tokens prefilled."},
      {"wafersim_model_requests_waiting", "Requests queued, not yet in the running batch."},
      {"wafersim_model_requests_running", "Requests in the running batch."},
      {"wafersim_model_kv_cache_occupancy_ratio", "KV-cache tokens held / capacity, all dies."},
      {"wafersim_model_ttft_seconds", "Time to first token (simulated)."},
      {"wafersim_model_tpot_seconds", "Time per output token (simulated)."},
      {"wafersim_model_e2e_seconds", "End-to-end request latency (simulated)."},
      {"wafersim_model_expert_imbalance", "Busiest die's expert time / mean die's over the last epoch (1: balanced)."},
      {"wafersim_model_placement_decisions_total", "Expert placements applied (online placement)."},
      {"wafersim_model_migration_bytes_total", "Expert-weight bytes migrated."},
      {"wafersim_model_train_steps_total", "Training steps finished."},
      {"wafersim_model_trained_tokens_total", "Tokens trained."},
  };
  auto it = texts.find(metric);
  return it == texts.end() ? "" : it->second;
}

}  // namespace

RunObserver::RunObserver(RunObserverOptions options) : options_(std::move(options)), createdNs_(systemClockNs()) {}

void RunObserver::attach(const SystemGraph& graph, uint32_t partitions, SimTime end, uint64_t requestsTotal,
                         uint32_t maxSeries) {
  std::lock_guard lock(mutex_);
  options_.end = end;
  options_.requestsTotal = requestsTotal;
  options_.maxSeries = maxSeries;
  layout_ = WaferLayout::of(graph);
  partitions_.resize(partitions);
  progress_.setPartitions(partitions);
}

void RunObserver::ended(const std::string& state) {
  std::lock_guard lock(mutex_);
  state_ = state;
  endedNs_ = systemClockNs();
}

void RunObserver::sample(const Partition& partition, SimTime at, bool final) {
  Snapshot s;
  s.atPs = at.ps();
  s.final = final;
  s.wallNs = systemClockNs() - createdNs_;
  ObservationSink sink;
  for (const auto& c : partition.components()) {
    const bool die = isDieType(c->type());
    for (const auto& [name, counter] : c->stats().counters()) {
      const auto v = static_cast<double>(counter->value());
      if (name.starts_with("busy_ps_")) {
        if (die) s.dieBusyPs[{c->id(), name.substr(8)}] += v;
      } else if (name.starts_with("energy_") && name.ends_with("_pj")) {
        s.energyPj[name.substr(7, name.size() - 10)] += v;
      } else if (name == "static_power_uw") {
        s.staticMicrowatts += v;
      } else if (name == "requests_finished") {
        s.requestsFinished += v;
      } else if (name == "output_tokens") {
        s.outputTokens += v;
      } else if (name == "prefill_tokens") {
        s.prefillTokens += v;
      } else if (name == "train_steps") {
        s.trainSteps += v;
      } else if (name == "trained_tokens") {
        s.trainedTokens += v;
      } else if (name == "migration_bytes") {
        s.migrationBytes += v;
      } else if (name == "expert_time_ps") {
        s.expertBusiestPs += v;
      } else if (name == "expert_die_time_ps") {
        s.expertSumPs += v;
      } else if (name == "expert_dies") {
        s.expertDies += v;
      }
    }
    for (const char* h : {"ttft_ps", "tpot_ps", "e2e_ps"}) {
      auto it = c->stats().histograms().find(h);
      if (it == c->stats().histograms().end()) continue;
      const Histogram& src = *it->second;
      addHist(s.histograms[h], Snapshot::Hist{src.bounds(), src.counts(), src.count(), src.sum()});
    }
    sink.clear();
    c->observe(sink);
    for (const auto& [name, v] : sink.values()) {
      if (name.starts_with("link_bytes_p")) {
        s.linkBytes[{c->id(), static_cast<uint32_t>(std::stoul(name.substr(12)))}] = v;
        continue;
      }
      s.hasHost = true;
      if (name == "requests_running") s.running += v;
      else if (name == "requests_waiting") s.waiting += v;
      else if (name == "kv_tokens") s.kvTokens += v;
      else if (name == "kv_capacity_tokens") s.kvCapacity += v;
      else if (name == "placements_applied") s.placements += v;
    }
  }
  s.partition = partition.self();
  std::lock_guard lock(mutex_);
  if (options_.forward) {
    if (forwarded_.size() >= kMaxForwarded) forwarded_.erase(forwarded_.begin());
    forwarded_.push_back(s);
  }
  if (s.partition >= partitions_.size()) partitions_.resize(s.partition + 1);
  addLocked(std::move(s));
}

bool RunObserver::absorb(const PartitionSample& sample) {
  std::lock_guard lock(mutex_);
  if (sample.partition >= partitions_.size()) return false;
  addLocked(sample);
  return true;
}

void RunObserver::absorbHeartbeat(const std::vector<uint32_t>& hosted, uint64_t events, int64_t simulatedPs,
                                  const std::vector<PartitionSample>& samples) {
  PartitionProgress* slot = hosted.empty() ? nullptr : progress_.partition(hosted.front());
  if (slot) {
    slot->events.store(events, std::memory_order_relaxed);
    slot->simulatedPs.store(simulatedPs, std::memory_order_relaxed);
    slot->running.store(true, std::memory_order_release);
    uint64_t total = 0;
    int64_t furthest = 0;
    for (uint32_t k = 0; k < progress_.partitions(); ++k) {
      total += progress_.partition(k)->events.load(std::memory_order_relaxed);
      furthest = std::max(furthest, progress_.partition(k)->simulatedPs.load(std::memory_order_relaxed));
    }
    progress_.events.store(total, std::memory_order_relaxed);
    progress_.simulatedPs.store(furthest, std::memory_order_relaxed);
  }
  for (const PartitionSample& s : samples)
    if (std::find(hosted.begin(), hosted.end(), s.partition) == hosted.end() || !absorb(s))
      refused_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<PartitionSample> RunObserver::takeForwarded() {
  std::lock_guard lock(mutex_);
  return std::exchange(forwarded_, {});
}

void RunObserver::addLocked(PartitionSample s) {
  PartitionSamples& p = partitions_[s.partition];
  auto shared = std::make_shared<const Snapshot>(s);
  p.previous = std::move(p.latest);
  p.latest = std::move(s);
  p.pending.push_back(std::move(shared));
  combineLocked();
}

// The series reaches time T once every partition that samples has sampled at or after T (or made
// its final sample): then each one's state at T is its latest sample at or before T.
void RunObserver::combineLocked() {
  for (;;) {
    bool allFinal = true, anyLatest = false;
    int64_t candidate = std::numeric_limits<int64_t>::max();
    for (const PartitionSamples& p : partitions_) {
      if (!p.latest) {
        allFinal = false;
        continue;
      }
      anyLatest = true;
      allFinal = allFinal && p.latest->final;
      for (const auto& snap : p.pending)
        if (snap->atPs > lastSeriesPs_) candidate = std::min(candidate, snap->atPs);
    }
    if (!anyLatest) return;
    bool closing = false;
    if (candidate == std::numeric_limits<int64_t>::max()) {
      // Nothing new in time; the final samples may still carry totals only made at finish.
      bool pendingFinal = false;
      for (const PartitionSamples& p : partitions_)
        for (const auto& snap : p.pending) pendingFinal = pendingFinal || snap->final;
      if (!allFinal || !pendingFinal) return;
      candidate = std::max<int64_t>(lastSeriesPs_, 0);
      closing = true;
    }
    for (const PartitionSamples& p : partitions_) {
      if (!p.latest) return;  // a partition that has not sampled yet holds the series back
      if (p.latest->atPs < candidate && !p.latest->final) return;
    }
    if (allFinal) closing = true;

    Snapshot sum;
    sum.atPs = candidate;
    int64_t wallNs = 0;
    for (PartitionSamples& p : partitions_) {
      std::shared_ptr<const Snapshot> at = p.lastCombined;
      for (const auto& snap : p.pending)
        if (snap->atPs <= candidate || (closing && snap->final)) at = snap;
      std::erase_if(p.pending, [&](const auto& snap) { return snap->atPs <= candidate || (closing && snap->final); });
      p.lastCombined = at;
      if (!at) continue;
      wallNs = std::max(wallNs, at->wallNs);
      sum.requestsFinished += at->requestsFinished;
      sum.outputTokens += at->outputTokens;
      sum.running += at->running;
      sum.waiting += at->waiting;
      sum.kvTokens += at->kvTokens;
      sum.kvCapacity += at->kvCapacity;
      for (const auto& [name, h] : at->histograms) addHist(sum.histograms[name], h);
    }

    nlohmann::json point = {{"t_s", static_cast<double>(candidate) * kPs},
                            {"wall_s", static_cast<double>(wallNs) * 1e-9},
                            {"events", progress_.events.load(std::memory_order_relaxed)},
                            {"output_tokens", sum.outputTokens},
                            {"requests_finished", sum.requestsFinished},
                            {"requests_waiting", sum.waiting},
                            {"requests_running", sum.running},
                            {"kv_occupancy", sum.kvCapacity > 0 ? sum.kvTokens / sum.kvCapacity : 0.0}};
    // Rates and latencies over the stretch since the previous point.
    const nlohmann::json* prev = series_.empty() ? nullptr : &series_.back();
    const double prevT = prev ? (*prev)["t_s"].get<double>() : 0.0;
    const double dt = static_cast<double>(candidate) * kPs - prevT;
    const double prevTokens = prev ? (*prev)["output_tokens"].get<double>() : 0.0;
    point["tokens_per_s"] = dt > 0 ? (sum.outputTokens - prevTokens) / dt : 0.0;
    for (const char* name : {"ttft", "tpot"}) {
      const std::string key = std::string(name) + "_ps";
      auto it = sum.histograms.find(key);
      nlohmann::json p50 = nullptr, p99 = nullptr;
      if (it != sum.histograms.end()) {
        std::vector<uint64_t> delta = it->second.counts;
        if (prev && prev->contains("_" + key)) {
          const auto before = (*prev)["_" + key].get<std::vector<uint64_t>>();
          for (size_t i = 0; i < delta.size() && i < before.size(); ++i) delta[i] -= before[i];
        }
        p50 = quantile(it->second, delta, 0.5);
        p99 = quantile(it->second, delta, 0.99);
        point["_" + key] = it->second.counts;  // for the next point's delta; stripped in live()
      }
      point[std::string(name) + "_p50_s"] = p50;
      point[std::string(name) + "_p99_s"] = p99;
    }
    if (closing && !series_.empty() && series_.back()["t_s"].get<double>() >= static_cast<double>(candidate) * kPs)
      series_.back() = std::move(point);
    else
      series_.push_back(std::move(point));
    lastSeriesPs_ = candidate;
    if (series_.size() > kMaxSeriesPoints) {  // thin: keep every other point, and the newest
      std::vector<nlohmann::json> kept;
      for (size_t i = 0; i < series_.size(); ++i)
        if (i % 2 == 0 || i + 1 == series_.size()) kept.push_back(std::move(series_[i]));
      series_ = std::move(kept);
    }
    if (closing) return;
  }
}

double RunObserver::progressRatio() const {
  std::lock_guard lock(mutex_);
  return progressRatioLocked();
}

double RunObserver::progressRatioLocked() const {
  if (state_ == "SUCCEEDED") return 1.0;
  double finished = 0;
  for (const PartitionSamples& p : partitions_)
    if (p.latest) finished += p.latest->requestsFinished;
  if (!options_.end.isNever() && options_.end.ps() > 0)
    return std::clamp(static_cast<double>(progress_.simulatedPs.load(std::memory_order_relaxed)) /
                          static_cast<double>(options_.end.ps()),
                      0.0, 1.0);
  if (options_.requestsTotal > 0) return std::clamp(finished / static_cast<double>(options_.requestsTotal), 0.0, 1.0);
  return 0.0;
}

std::vector<prometheus::MetricFamily> RunObserver::Collect() const {
  FamilySet out;
  Labels run = {{"run", options_.runId}};
  if (!options_.sweep.empty()) run.emplace_back("sweep", options_.sweep);
  auto with = [&](Labels extra) {
    Labels l = run;
    l.insert(l.end(), extra.begin(), extra.end());
    return l;
  };
  auto gauge = [&](const std::string& name, const Labels& l, double v) { out.gauge(name, help(name), l, v); };
  auto counter = [&](const std::string& name, const Labels& l, double v) { out.counter(name, help(name), l, v); };

  // Engine: one series per partition that has started here.
  for (uint32_t id = 0; options_.exportEngine && id < progress_.partitions(); ++id) {
    const PartitionProgress& p = *progress_.partition(id);
    if (!p.running.load(std::memory_order_acquire)) continue;
    const Labels l = with({{"node", options_.node}, {"partition", std::to_string(id)}});
    counter("wafersim_engine_events_committed_total", l, static_cast<double>(p.events.load()));
    gauge("wafersim_engine_simulated_seconds", l, static_cast<double>(p.simulatedPs.load()) * kPs);
    gauge("wafersim_engine_wall_seconds", l, static_cast<double>(p.wallNs.load()) * 1e-9);
    counter("wafersim_engine_windows_total", l, static_cast<double>(p.windows.load()));
    counter("wafersim_engine_null_messages_total", l, static_cast<double>(p.nullMessages.load()));
    counter("wafersim_engine_sync_wait_seconds_total", l, static_cast<double>(p.waitNs.load()) * 1e-9);
    gauge("wafersim_engine_queue_depth", l, static_cast<double>(p.queueDepth.load()));
    counter("wafersim_engine_remote_events_sent_total", l, static_cast<double>(p.eventsSent.load()));
    if (options_.node != "local")
      counter("wafersim_engine_remote_bytes_sent_total", l, static_cast<double>(p.bytesSent.load()));
  }
  // The rest is the whole run's: exported by the process that has all of it (not a node).
  if (!options_.exportModel) return out.take();
  const double wall =
      static_cast<double>((endedNs_.load() ? endedNs_.load() : systemClockNs()) - createdNs_) * 1e-9;
  const double events = static_cast<double>(progress_.events.load(std::memory_order_relaxed));
  gauge("wafersim_run_progress_ratio", run, progressRatio());
  uint32_t maxSeries = 0;
  {
    std::lock_guard lock(mutex_);
    maxSeries = options_.maxSeries;
  }
  gauge("wafersim_run_simulated_seconds", run, static_cast<double>(progress_.simulatedPs.load()) * kPs);
  gauge("wafersim_run_wall_seconds", run, wall);
  gauge("wafersim_run_events_per_second", run, wall > 0 ? events / wall : 0.0);

  std::lock_guard lock(mutex_);
  bool any = false;
  Snapshot total;
  std::map<std::pair<ComponentId, std::string>, double> busy;   // ratio over the last epoch
  std::map<std::pair<ComponentId, uint32_t>, double> linkUse;   // ratio over the last epoch
  std::map<std::pair<ComponentId, uint32_t>, double> linkBytes; // total
  double imbalance = 0;
  bool hasImbalance = false;
  for (const PartitionSamples& p : partitions_) {
    if (!p.latest) continue;
    any = true;
    const Snapshot& s = *p.latest;
    const Snapshot* b = p.previous ? &*p.previous : nullptr;
    const double dtPs = static_cast<double>(s.atPs - (b ? b->atPs : 0));
    for (const auto& [key, v] : s.energyPj) total.energyPj[key] += v;
    total.staticMicrowatts += s.staticMicrowatts * static_cast<double>(s.atPs) * kPs;  // now in uJ
    total.requestsFinished += s.requestsFinished;
    total.outputTokens += s.outputTokens;
    total.prefillTokens += s.prefillTokens;
    total.trainSteps += s.trainSteps;
    total.trainedTokens += s.trainedTokens;
    total.migrationBytes += s.migrationBytes;
    total.placements += s.placements;
    total.hasHost = total.hasHost || s.hasHost;
    total.waiting += s.waiting;
    total.running += s.running;
    total.kvTokens += s.kvTokens;
    total.kvCapacity += s.kvCapacity;
    for (const auto& [name, h] : s.histograms) addHist(total.histograms[name], h);
    for (const auto& [key, v] : s.dieBusyPs) {
      double before = 0;
      if (b)
        if (auto it = b->dieBusyPs.find(key); it != b->dieBusyPs.end()) before = it->second;
      busy[key] = dtPs > 0 ? std::clamp((v - before) / dtPs, 0.0, 1.0) : 0.0;
    }
    for (const auto& [key, v] : s.linkBytes) {
      linkBytes[key] = v;
      const LinkSite* site = layout_.link(key.first, key.second);
      double before = 0;
      if (b)
        if (auto it = b->linkBytes.find(key); it != b->linkBytes.end()) before = it->second;
      const double capacity = site ? static_cast<double>(site->bandwidthBytesPerSecond) * dtPs * kPs : 0.0;
      linkUse[key] = capacity > 0 ? std::clamp((v - before) / capacity, 0.0, 1.0) : 0.0;
    }
    if (b && s.expertSumPs > b->expertSumPs) {
      // expert_time_ps sums the busiest die's expert time, expert_die_time_ps all usable dies'.
      const double meanDie = (s.expertSumPs - b->expertSumPs) / std::max(s.expertDies, 1.0);
      if (meanDie > 0) {
        imbalance = (s.expertBusiestPs - b->expertBusiestPs) / meanDie;
        hasImbalance = true;
      }
    }
  }
  if (!any) return out.take();

  // Dies and links one by one up to the bound, the rest aggregated (their mean ratio).
  std::map<ComponentId, size_t> dieRank;
  for (const DieSite& d : layout_.dies) dieRank.emplace(d.id, dieRank.size());
  std::map<std::string, std::pair<double, size_t>> otherBusy;  // engine -> (sum, n)
  for (const auto& [key, ratio] : busy) {
    const DieSite* d = layout_.die(key.first);
    const size_t rank = dieRank.count(key.first) ? dieRank[key.first] : dieRank.size();
    if (d && rank < maxSeries) {
      gauge("wafersim_model_die_busy_ratio", with({{"die", d->name}, {"engine", key.second}}), ratio);
    } else {
      auto& [sum, n] = otherBusy[key.second];
      sum += ratio, ++n;
    }
  }
  for (const auto& [engine, acc] : otherBusy)
    gauge("wafersim_model_die_busy_ratio", with({{"die", "other"}, {"engine", engine}}), acc.first / double(acc.second));
  size_t shown = 0;
  double otherUse = 0, otherBytes = 0;
  size_t others = 0;
  for (const auto& [key, ratio] : linkUse) {
    const LinkSite* site = layout_.link(key.first, key.second);
    if (site && shown < maxSeries) {
      ++shown;
      gauge("wafersim_model_link_utilization_ratio", with({{"link", site->label()}}), ratio);
      counter("wafersim_model_link_bytes_total", with({{"link", site->label()}}), linkBytes[key]);
    } else {
      otherUse += ratio, otherBytes += linkBytes[key], ++others;
    }
  }
  if (others > 0) {
    gauge("wafersim_model_link_utilization_ratio", with({{"link", "other"}}), otherUse / double(others));
    counter("wafersim_model_link_bytes_total", with({{"link", "other"}}), otherBytes);
  }
  for (const auto& [category, pj] : total.energyPj)
    counter("wafersim_model_energy_joules_total", with({{"category", category}}), pj * kPs);
  if (total.staticMicrowatts > 0)
    counter("wafersim_model_energy_joules_total", with({{"category", "static"}}), total.staticMicrowatts * 1e-6);
  if (total.hasHost || total.requestsFinished > 0) {
    counter("wafersim_model_requests_finished_total", run, total.requestsFinished);
    counter("wafersim_model_output_tokens_total", run, total.outputTokens);
    counter("wafersim_model_prefill_tokens_total", run, total.prefillTokens);
    counter("wafersim_model_placement_decisions_total", run, total.placements);
    counter("wafersim_model_migration_bytes_total", run, total.migrationBytes);
    counter("wafersim_model_train_steps_total", run, total.trainSteps);
    counter("wafersim_model_trained_tokens_total", run, total.trainedTokens);
  }
  if (total.hasHost) {
    gauge("wafersim_model_requests_waiting", run, total.waiting);
    gauge("wafersim_model_requests_running", run, total.running);
    gauge("wafersim_model_kv_cache_occupancy_ratio", run, total.kvCapacity > 0 ? total.kvTokens / total.kvCapacity : 0.0);
  }
  if (hasImbalance) gauge("wafersim_model_expert_imbalance", run, imbalance);
  for (const auto& [key, metric] : std::vector<std::pair<std::string, std::string>>{
           {"ttft_ps", "wafersim_model_ttft_seconds"},
           {"tpot_ps", "wafersim_model_tpot_seconds"},
           {"e2e_ps", "wafersim_model_e2e_seconds"}}) {
    auto it = total.histograms.find(key);
    if (it == total.histograms.end()) continue;
    const Snapshot::Hist& h = it->second;
    // Bucket i holds [bounds[i-1], bounds[i]): its cumulative count is "le bounds[i]".
    std::vector<double> upper;
    std::vector<uint64_t> cumulative;
    uint64_t running = 0;
    for (size_t i = 0; i < h.bounds.size() && i < h.counts.size(); ++i) {
      running += h.counts[i];
      upper.push_back(static_cast<double>(h.bounds[i]) * kPs);
      cumulative.push_back(running);
    }
    out.histogram(metric, help(metric), run, upper, cumulative, h.count, static_cast<double>(h.sum) * kPs);
  }
  return out.take();
}

nlohmann::json RunObserver::live() const {
  std::lock_guard lock(mutex_);
  const double ratio = progressRatioLocked();
  const double wall = static_cast<double>((endedNs_.load() ? endedNs_.load() : systemClockNs()) - createdNs_) * 1e-9;
  const auto events = progress_.events.load(std::memory_order_relaxed);
  nlohmann::json progress = {{"ratio", ratio},
                             {"events", events},
                             {"simulated_s", static_cast<double>(progress_.simulatedPs.load()) * kPs},
                             {"end_s", options_.end.isNever() ? nlohmann::json(nullptr)
                                                              : nlohmann::json(static_cast<double>(options_.end.ps()) * kPs)},
                             {"requests_total", options_.requestsTotal ? nlohmann::json(options_.requestsTotal)
                                                                       : nlohmann::json(nullptr)},
                             {"wall_s", wall},
                             {"events_per_s", wall > 0 ? static_cast<double>(events) / wall : 0.0}};
  double finished = 0;
  for (const PartitionSamples& p : partitions_)
    if (p.latest) finished += p.latest->requestsFinished;
  progress["requests_done"] = finished;
  nlohmann::json series = nlohmann::json::array();
  for (const nlohmann::json& point : series_) {
    nlohmann::json p = point;
    p.erase("_ttft_ps");
    p.erase("_tpot_ps");
    series.push_back(std::move(p));
  }
  // The wafer: each die's busiest engine, each link's utilization, over the last epoch.
  std::map<ComponentId, double> busy;
  std::map<std::pair<ComponentId, uint32_t>, double> use;
  for (const PartitionSamples& p : partitions_) {
    if (!p.latest) continue;
    const Snapshot& s = *p.latest;
    const Snapshot* b = p.previous ? &*p.previous : nullptr;
    const double dtPs = static_cast<double>(s.atPs - (b ? b->atPs : 0));
    if (dtPs <= 0) continue;
    for (const auto& [key, v] : s.dieBusyPs) {
      double before = 0;
      if (b)
        if (auto it = b->dieBusyPs.find(key); it != b->dieBusyPs.end()) before = it->second;
      busy[key.first] = std::max(busy[key.first], std::clamp((v - before) / dtPs, 0.0, 1.0));
    }
    for (const auto& [key, v] : s.linkBytes) {
      const LinkSite* site = layout_.link(key.first, key.second);
      double before = 0;
      if (b)
        if (auto it = b->linkBytes.find(key); it != b->linkBytes.end()) before = it->second;
      const double capacity = site ? static_cast<double>(site->bandwidthBytesPerSecond) * dtPs * kPs : 0.0;
      use[key] = capacity > 0 ? std::clamp((v - before) / capacity, 0.0, 1.0) : 0.0;
    }
  }
  nlohmann::json dies = nlohmann::json::array(), links = nlohmann::json::array();
  for (const DieSite& d : layout_.dies)
    dies.push_back({{"name", d.name}, {"row", d.row}, {"col", d.col},
                    {"busy", busy.count(d.id) ? nlohmann::json(busy[d.id]) : nlohmann::json(nullptr)}});
  for (const LinkSite& l : layout_.links) {
    auto it = use.find({l.router, l.port});
    links.push_back({{"from", l.from}, {"to", l.to},
                     {"utilization", it == use.end() ? nlohmann::json(nullptr) : nlohmann::json(it->second)}});
  }
  return {{"progress", std::move(progress)},
          {"series", std::move(series)},
          {"wafer", {{"rows", layout_.rows}, {"cols", layout_.cols}, {"dies", std::move(dies)}, {"links", std::move(links)}}}};
}

}  // namespace wafersim::obs
