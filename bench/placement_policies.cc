// The time each placement policy takes to decide for DeepSeek-V3 (58 MoE layers x 256 routed
// experts, top-8 of 8 groups, 4 groups per token) on a 64-die wafer (the Dojo wafer's dies and
// links, 8 x 8), from a profile of real serving shape: `tokens` tokens of the seeded synthetic
// router (Zipf 1.0, group-limited routing), recorded with the pair counts and the cross-token
// heatmap the policies that need them ask for.
//
// Prints, per policy: wall milliseconds (median of `repeat`), replicas placed, the cost model's
// estimate of the MoE time per step and its predicted gain over EP, and the reason line.
//
//   bench_placement_policies [tokens=4096] [repeat=3] [policy...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "models/hardware/systems.h"
#include "models/moe/model_presets.h"
#include "models/moe/placement_bridge.h"
#include "models/moe/serving_plan.h"
#include "placement/cost_model.h"
#include "placement/policy.h"

using namespace wafersim;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const uint64_t tokens = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4096;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 3;
  std::vector<std::string> only(argv + std::min(argc, 3), argv + argc);

  Params hw;
  for (const ParamSpec& s : hw::systemParams())
    if (s.defaultValue) hw.set(s.name, *s.defaultValue);
  hw.set("system", "dojo");
  hw.set("x", "8");
  hw.set("y", "8");
  const hw::HardwareSystem system = hw::describeSystem(resolveParams(hw, hw::systemParams(), "hardware"));
  const moe::MoeModelConfig model = moe::moeModelPreset("deepseek-v3");

  placement::Problem base;
  base.fabric = moe::fabricOf(system, "", hw::DataType::Fp8);
  base.model = moe::expertShapeOf(model, 2);
  const uint64_t replicated = model.totalWeightBytes() - uint64_t{model.moeLayerCount()} * model.experts * model.expertWeightBytes();
  for (uint32_t d = 0; d < base.fabric.dies; ++d)
    base.fabric.expertCapacityBytes.push_back(system.specs[0].dram.capacity.value - replicated);
  base.seed = 1;
  base.tokensPerStep = 256;
  base.attentionSeconds = 50e-6;
  base.current = placement::expertParallel(base);
  Params routing;
  for (const ParamSpec& s : moe::routingParams())
    if (s.defaultValue) routing.set(s.name, *s.defaultValue);
  routing.set("zipf", "1.0");
  auto t0 = Clock::now();
  auto router = moe::makeRouter(routing, model, 7);
  base.profile = moe::profileRouting(*router, base.fabric, tokens, 512, {true, true});
  const double profileMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const double epSeconds = placement::estimateCost(base, base.current).seconds;
  std::printf("DeepSeek-V3: %u MoE layers x %u experts (top-%u) on %u dies; profile of %llu tokens in %.0f ms\n",
              base.model.layers, base.model.experts, base.model.topK, base.fabric.dies,
              static_cast<unsigned long long>(tokens), profileMs);
  std::printf("EP estimate: %.1f us of MoE time per step of %llu tokens\n\n", epSeconds * 1e6,
              static_cast<unsigned long long>(base.tokensPerStep));
  std::printf("%-18s %10s %9s %12s %8s  %s\n", "policy", "ms", "replicas", "estimate_us", "gain", "reason");
  for (const placement::PolicyType& type : placement::policyTypes()) {
    if (!only.empty() && std::find(only.begin(), only.end(), type.name) == only.end()) continue;
    placement::Problem p = base;
    p.options = resolveParams({}, type.params, type.name);
    const auto policy = type.make();
    std::vector<double> ms;
    placement::Decision d;
    std::string error;
    for (int i = 0; i < repeat && error.empty(); ++i) {
      const auto start = Clock::now();
      try {
        d = policy->decide(p);
      } catch (const std::exception& e) {
        error = e.what();
      }
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    if (!error.empty()) {
      std::printf("%-18s %10.1f %9s %12s %8s  failed: %s\n", type.name.c_str(), ms[ms.size() / 2], "-", "-", "-",
                  error.c_str());
      continue;
    }
    const double seconds = placement::estimateCost(p, d.placement).seconds;
    std::printf("%-18s %10.1f %9llu %12.1f %+7.1f%%  %s\n", type.name.c_str(), ms[ms.size() / 2],
                static_cast<unsigned long long>(d.placement.replicaCount()), seconds * 1e6,
                100.0 * (epSeconds - seconds) / epSeconds, d.reason.c_str());
  }
  return 0;
}
