// Collective-communication microbenchmarks on a hardware system (systems.h): every die computes,
// then exchanges data, for a number of rounds. The patterns of MoE layers without the model:
//   all_to_all  every die sends `bytes` to every other die (expert-parallel dispatch / combine);
//   ring        every die sends `bytes` to the next (ring all-reduce step, pipeline stage);
//   scatter     die 0 sends `bytes` to every other die, which answers with `bytes` (the
//               attention chiplet of Mozart's NoP-tree dispatching tokens to its experts).
// A round starts with the optional GEMM (M, N, K, on engine `engine`) and ends when the die has
// received every message of the round.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/hardware/die_program.h"

namespace wafersim::hw {

enum class CollectivePattern { AllToAll, Ring, Scatter };
CollectivePattern parseCollectivePattern(const std::string& text);  // throws listing the patterns

struct CollectiveConfig {
  CollectivePattern pattern = CollectivePattern::AllToAll;
  Bytes bytes{65536};
  uint32_t rounds = 1;
  Gemm gemm{0, 0, 0, DataType::Fp16};  // m == 0: no compute
  uint32_t engine = 0;
};

std::vector<std::vector<ProgramStep>> collectivePrograms(const CollectiveConfig& config, uint32_t dies);

}  // namespace wafersim::hw
