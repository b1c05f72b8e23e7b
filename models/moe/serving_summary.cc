#include "models/moe/serving_summary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "sim/energy_report.h"

namespace wafersim::moe {
namespace {

// The upper bound of the bucket where the q-quantile sample lies (the maximum for the last).
double quantileSeconds(const HistogramRecord& h, double q) {
  if (h.count == 0) return 0;
  const auto rank = static_cast<uint64_t>(q * static_cast<double>(h.count - 1)) + 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    seen += h.counts[i];
    if (seen >= rank) return static_cast<double>(i < h.bounds.size() ? std::min(h.bounds[i], h.max) : h.max) * 1e-12;
  }
  return static_cast<double>(h.max) * 1e-12;
}

nlohmann::json latency(const HistogramRecord& h) {
  if (h.count == 0) return {{"count", 0}};
  return {{"count", h.count},
          {"mean_s", static_cast<double>(h.sum) / static_cast<double>(h.count) * 1e-12},
          {"min_s", static_cast<double>(h.min) * 1e-12},
          {"max_s", static_cast<double>(h.max) * 1e-12},
          {"p50_s", quantileSeconds(h, 0.50)},
          {"p90_s", quantileSeconds(h, 0.90)},
          {"p99_s", quantileSeconds(h, 0.99)}};
}

// The routed experts' FFN time (the host's expert_* counters, serving_components.cc): summed over
// steps and MoE layers, of the busiest usable die (prefix_time_s) and of the mean over them
// (prefix_time_mean_s), and their ratio (1: every layer's expert work evenly spread).
void expertTime(nlohmann::json& j, const std::map<std::string, uint64_t>& n, const std::string& prefix) {
  const std::string busiest = prefix + "_time_ps", sum = prefix + "_die_time_ps";
  if (!n.count(busiest) || !n.count(sum) || !n.count("expert_dies") || n.at("expert_dies") == 0) return;
  const double max = static_cast<double>(n.at(busiest)) * 1e-12,
               mean = static_cast<double>(n.at(sum)) * 1e-12 / static_cast<double>(n.at("expert_dies"));
  j[prefix + "_time_s"] = max;
  j[prefix + "_time_mean_s"] = mean;
  j[prefix + "_time_busiest_over_mean"] = mean > 0 ? max / mean : 0.0;
}

// C_T, Mozart's copies per token (serving_plan.h LayerRouting), over every MoE layer of every
// step: distinct dies per routed token, and distinct chiplet groups where the system has them.
void copiesPerToken(nlohmann::json& j, const std::map<std::string, uint64_t>& n) {
  if (!n.count("routed_tokens") || n.at("routed_tokens") == 0) return;
  const auto tokens = static_cast<double>(n.at("routed_tokens"));
  nlohmann::json c{{"die", static_cast<double>(n.at("token_die_copies")) / tokens}};
  if (n.at("token_group_copies") > 0) c["group"] = static_cast<double>(n.at("token_group_copies")) / tokens;
  j["copies_per_token"] = std::move(c);
}

// The MoE layer's time (the dies' moe_layer_ps, serving_components.cc): on each die, from a forward
// MoE layer's gate to the arrival of its last combine, summed over the run. The die with the most
// gives time_s, per step (over the run's steps) and per layer (over the layers it timed): a die
// waits for the dispatches of every die that sends to it and the combines of every die it sent to,
// so its span holds the exchange and the slowest peer's experts. Absent when no layer was timed
// (the two-batch overlap interleaves the layers of two micro-batches and is not measured).
void moeLayerTime(nlohmann::json& j, const Results& results, uint64_t steps) {
  uint64_t busiest = 0, layers = 0;
  for (const ComponentRecord& c : results.components())
    if (c.type == "moe.Die" && c.counters.count("moe_layer_ps") && c.counters.at("moe_layer_ps") >= busiest &&
        c.counters.at("moe_layers_timed") > 0) {
      busiest = c.counters.at("moe_layer_ps");
      layers = c.counters.at("moe_layers_timed");
    }
  if (layers == 0 || steps == 0) return;
  const double seconds = static_cast<double>(busiest) * 1e-12;
  j["moe_layer"] = {{"time_s", seconds},
                    {"per_step_s", seconds / static_cast<double>(steps)},
                    {"per_layer_s", seconds / static_cast<double>(layers)}};
}

}  // namespace

std::optional<nlohmann::json> servingSummary(const Results& results) {
  const ComponentRecord* host = nullptr;
  uint64_t dispatch = 0, combine = 0, byteHops = 0, dies = 0;
  uint64_t dramBytes = 0, sramBytes = 0, vcacheHits = 0, vcacheMisses = 0;  // memory traffic, V-Cache
  for (const ComponentRecord& c : results.components()) {
    if (c.type == "moe.Host") host = &c;
    if (c.type == "moe.Die") {
      ++dies;
      auto count = [&c](const char* key) { return c.counters.count(key) ? c.counters.at(key) : uint64_t{0}; };
      dramBytes += count("dram_bytes");
      sramBytes += count("sram_bytes");
      vcacheHits += count("vcache_hits");
      vcacheMisses += count("vcache_misses");
      dispatch += c.counters.at("dispatch_bytes");
      combine += c.counters.at("combine_bytes");
      byteHops += c.counters.at("bytes_sent");
    }
    if (c.type == "hw.Router") byteHops += c.counters.at("bytes_forwarded");
  }
  if (!host) return std::nullopt;
  const auto& n = host->counters;
  if (n.count("train_steps") && n.at("train_steps") > 0) {
    const HistogramRecord& steps = host->histograms.at("train_step_ps");
    const double mean = static_cast<double>(steps.sum) / static_cast<double>(steps.count) * 1e-12;
    const double seconds = static_cast<double>(results.simulatedTime().ps()) * 1e-12;
    const EnergyReport energy = energyReport(results);
    nlohmann::json j{{"mode", "training"},
                          {"dies", dies},
                          {"train_steps", n.at("train_steps")},
                          {"trained_tokens", n.at("trained_tokens")},
                          {"step_time", latency(steps)},
                          {"mean_step_s", mean},
                          {"tokens_per_s", seconds > 0 ? static_cast<double>(n.at("trained_tokens")) / seconds : 0.0},
                          {"energy_j", static_cast<double>(energy.totalPj) * 1e-12},
                          {"dispatch_bytes", dispatch},
                          {"combine_bytes", combine},
                          {"network_byte_hops", byteHops}};
    expertTime(j, n, "expert");
    moeLayerTime(j, results, n.at("train_steps"));
    copiesPerToken(j, n);
    return j;
  }
  const double seconds = static_cast<double>(n.at("last_finish_ps")) * 1e-12;
  const uint64_t output = n.at("output_tokens");
  nlohmann::json j;
  j["dies"] = dies;
  j["requests_finished"] = n.at("requests_finished");
  j["output_tokens"] = output;
  j["prefill_tokens"] = n.at("prefill_tokens");
  j["decode_tokens"] = n.at("decode_tokens");
  j["steps"] = n.at("steps");
  j["preemptions"] = n.at("preemptions");
  j["makespan_s"] = seconds;
  j["output_tokens_per_s"] = seconds > 0 ? static_cast<double>(output) / seconds : 0.0;
  j["requests_per_s"] = seconds > 0 ? static_cast<double>(n.at("requests_finished")) / seconds : 0.0;
  j["ttft"] = latency(host->histograms.at("ttft_ps"));
  j["tpot"] = latency(host->histograms.at("tpot_ps"));
  j["e2e"] = latency(host->histograms.at("e2e_ps"));
  j["queueing"] = latency(host->histograms.at("queueing_ps"));
  j["step"] = latency(host->histograms.at("step_ps"));
  const EnergyReport energy = energyReport(results);
  j["energy_j"] = static_cast<double>(energy.totalPj) * 1e-12;
  j["energy_per_output_token_j"] = output ? static_cast<double>(energy.totalPj) * 1e-12 / static_cast<double>(output) : 0.0;
  nlohmann::json categories = nlohmann::json::object();
  for (const auto& [category, pj] : energy.byCategoryPj) categories[category] = static_cast<double>(pj) * 1e-12;
  j["energy_by_category_j"] = std::move(categories);
  // Routing statistics per MoE layer from the expert load: max/mean (1: balanced) and the
  // coefficient of variation, averaged over layers and at the worst layer.
  if (auto it = host->tables.find("expert_load"); it != host->tables.end() && it->second.rows() > 0) {
    const TableRecord& t = it->second;
    std::map<int64_t, std::vector<double>> layers;
    for (size_t r = 0; r < t.rows(); ++r) layers[t.values[r * 3]].push_back(static_cast<double>(t.values[r * 3 + 2]));
    double sumRatio = 0, worstRatio = 0, sumCv = 0;
    for (const auto& [l, load] : layers) {
      double mean = 0, max = 0, var = 0;
      for (double x : load) mean += x, max = std::max(max, x);
      mean /= static_cast<double>(load.size());
      for (double x : load) var += (x - mean) * (x - mean);
      const double ratio = mean > 0 ? max / mean : 0, cv = mean > 0 ? std::sqrt(var / static_cast<double>(load.size())) / mean : 0;
      sumRatio += ratio;
      sumCv += cv;
      worstRatio = std::max(worstRatio, ratio);
    }
    const auto n = static_cast<double>(layers.size());
    j["routing"] = {{"moe_layers", layers.size()},
                    {"expert_load_max_over_mean", sumRatio / n},
                    {"expert_load_max_over_mean_worst_layer", worstRatio},
                    {"expert_load_cv", sumCv / n}};
  }
  expertTime(j, n, "expert");
  moeLayerTime(j, results, n.at("steps"));
  if (n.count("decode_only_steps")) {
    j["decode_only_steps"] = n.at("decode_only_steps");
    expertTime(j, n, "decode_expert");
  }
  copiesPerToken(j, n);
  j["dispatch_bytes"] = dispatch;
  j["combine_bytes"] = combine;
  j["network_byte_hops"] = byteHops;
  // Bytes the dies' ops streamed from DRAM and through the on-die SRAM (V-Cache hits and fills).
  j["dram_bytes"] = dramBytes;
  j["sram_bytes"] = sramBytes;
  j["dram_bytes_per_output_token"] = output ? static_cast<double>(dramBytes) / static_cast<double>(output) : 0.0;
  if (vcacheHits + vcacheMisses > 0)
    j["vcache"] = {{"hits", vcacheHits},
                   {"misses", vcacheMisses},
                   {"hit_ratio", static_cast<double>(vcacheHits) / static_cast<double>(vcacheHits + vcacheMisses)}};
  return j;
}

}  // namespace wafersim::moe
