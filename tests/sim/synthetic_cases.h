// The synthetic models the kernel's whole-run tests use (determinism, resume): small PHOLD, PHOLD
// of FIFO servers (state beyond the kernel's), a relay grid (init phases, histograms) and
// MessageMesh, each with an end time and the fewest events a run of it must commit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/synthetic/synthetic.h"

namespace wafersim::testing {

struct ModelCase {
  std::string name;
  SystemGraph (*build)();
  SimTime end;
  uint64_t minEvents;  // a run this short would not exercise much: guard against a silent no-op
};

inline SystemGraph smallPhold() {
  synthetic::PholdConfig c;
  c.lps = 16;
  c.initialEvents = 2;
  c.remote = 0.5;
  c.lookahead = Duration::fromPs(500);
  c.mean = Duration::fromPs(1000);
  return synthetic::buildPhold(c);
}

inline SystemGraph computePhold() {
  synthetic::PholdConfig c;
  c.lps = 12;
  c.initialEvents = 2;
  c.remote = 0.5;
  c.lookahead = Duration::fromPs(250);
  c.mean = Duration::fromPs(900);
  c.service = Duration::fromPs(1000);
  return synthetic::buildPhold(c);
}

inline SystemGraph relayGrid() { return synthetic::buildRelayGrid({6, 4, 3, Duration::fromPs(1500)}); }

inline SystemGraph messageMesh() { return synthetic::buildMessageMesh({4, 4, Duration::fromPs(1000)}); }

inline const std::vector<ModelCase>& models() {
  static const std::vector<ModelCase> cases = {
      {"Phold", smallPhold, SimTime::fromPs(100'000), 1400},
      {"PholdCompute", computePhold, SimTime::fromPs(100'000), 500},
      {"RelayGrid", relayGrid, SimTime::fromPs(100'000), 1500},
      {"MessageMesh", messageMesh, SimTime::fromPs(40'000), 64 * 39},
  };
  return cases;
}

}  // namespace wafersim::testing
