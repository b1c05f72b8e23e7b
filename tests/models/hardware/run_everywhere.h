// Shared by the hardware tests: run a network on 1, 2 and 4 partitions with both
// synchronization strategies, checker on, and require every results digest to be the same.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/hardware/topology.h"
#include "models/model_catalog.h"
#include "sim/simulation.h"

namespace wafersim::hw {

// Returns the first run's results; maxPartitions caps the partition counts tried.
inline Results runEverywhere(const Network& net, uint32_t maxPartitions = 4) {
  std::vector<Results> all;
  const size_t n = net.graph.components().size();
  for (uint32_t partitions : {1u, 2u, 4u})
    for (SyncKind sync : {SyncKind::Window, SyncKind::NullMessage}) {
      if (partitions > std::min<size_t>(maxPartitions, n)) continue;
      ComponentRegistry registry;
      registerBuiltinComponents(registry);
      RunOptions options;
      options.sync = sync;
      options.checker = true;
      all.push_back(runInProcess(net.graph, registry, PartitionMap::linear(n, partitions), options).results);
      EXPECT_EQ(all.back().digestHex(), all.front().digestHex())
          << partitions << " partitions, sync " << toString(sync);
    }
  return all.front();
}

inline const ComponentRecord& record(const Results& r, const std::string& name) {
  for (const auto& c : r.components())
    if (c.name == name) return c;
  throw std::runtime_error("no component " + name);
}

}  // namespace wafersim::hw
