#include "models/workload/routing.h"

#include "sim/error.h"

namespace wafersim::workload {

void checkRouteArguments(const ExpertRouter& router, uint32_t layer, std::span<const TokenRef> tokens,
                         std::span<const ExpertId> out) {
  WAFERSIM_REQUIRE(layer < router.layers(), "route: layer ", layer, " out of range (router has ",
                   router.layers(), " MoE layers)");
  WAFERSIM_REQUIRE(out.size() == tokens.size() * router.topK(), "route: output holds ", out.size(),
                   " ids, expected ", tokens.size(), " tokens x top-", router.topK());
}

}  // namespace wafersim::workload
