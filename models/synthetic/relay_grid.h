// A test model with links of different latencies, equal-time events, init-phase exchanges and
// lookahead promises: the second model of the determinism tests.
//
// A torus of relays. Horizontal links take 1, 2 or 3 ns (by column), vertical ones 250 or 500 ps
// (by row). Every relay starts with `tokens` tokens. A relay forwards a token on a drawn port
// after an extra delay of 0 or 1 ns (so many events share an instant); every third relay is a
// FIFO server that first spends `service` on it (sending the token on arrival, delayed until it
// leaves), declares `service` as its reaction delay and promises when the next token it has not
// yet received could leave at the earliest. During init each relay tells its neighbours its id
// (two phases: ids, then sums of ids).
#pragma once

#include <cstdint>

#include "sim/component_registry.h"
#include "sim/system_graph.h"

namespace wafersim::synthetic {

struct RelayGridConfig {
  uint32_t x = 6, y = 4;
  uint32_t tokens = 3;
  Duration service = Duration::fromPs(1500);
  uint32_t maxHops = 0;  // > 0: tokens die after this many hops, so the run ends by itself
};

void registerRelayGrid(ComponentRegistry& registry);
SystemGraph buildRelayGrid(const RelayGridConfig& config);

}  // namespace wafersim::synthetic
