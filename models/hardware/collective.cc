#include "models/hardware/collective.h"

#include "sim/error.h"

namespace wafersim::hw {

CollectivePattern parseCollectivePattern(const std::string& text) {
  if (text == "all_to_all") return CollectivePattern::AllToAll;
  if (text == "ring") return CollectivePattern::Ring;
  if (text == "scatter") return CollectivePattern::Scatter;
  fail(ErrorKind::InvalidConfig, "unknown pattern \"", text, "\" (all_to_all, ring, scatter)");
}

std::vector<std::vector<ProgramStep>> collectivePrograms(const CollectiveConfig& c, uint32_t n) {
  WAFERSIM_REQUIRE(n >= 2, "a collective needs at least 2 dies (the system has ", n, ")");
  std::vector<std::vector<ProgramStep>> programs(n);
  std::vector<uint64_t> expected(n, 0);  // messages received by the end of the round
  for (uint32_t r = 0; r < c.rounds; ++r) {
    for (uint32_t i = 0; i < n; ++i) {
      auto& p = programs[i];
      if (c.gemm.m > 0) {
        DieOp op;
        op.gemm = c.gemm;
        op.engine = c.engine;
        p.push_back(ProgramStep::compute(op));
      }
      switch (c.pattern) {
        case CollectivePattern::AllToAll:
          for (uint32_t j = 1; j < n; ++j) p.push_back(ProgramStep::send((i + j) % n, c.bytes));  // staggered order
          expected[i] += n - 1;
          break;
        case CollectivePattern::Ring:
          p.push_back(ProgramStep::send((i + 1) % n, c.bytes));
          expected[i] += 1;
          break;
        case CollectivePattern::Scatter:
          if (i == 0) {
            for (uint32_t j = 1; j < n; ++j) p.push_back(ProgramStep::send(j, c.bytes));
            expected[i] += n - 1;
          } else {
            p.push_back(ProgramStep::waitMessages(expected[i] + 1));
            p.push_back(ProgramStep::send(0, c.bytes));
            expected[i] += 1;
          }
          break;
      }
      p.push_back(ProgramStep::waitMessages(expected[i]));
    }
  }
  return programs;
}

}  // namespace wafersim::hw
