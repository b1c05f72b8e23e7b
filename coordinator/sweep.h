// A sweep: a base scenario plus the points to run it at, each point a list of `--set` overrides
// (ARCHITECTURE.md contract 7: sweeps are a scenario plus a parameter grid).
//
// The specification, as the API takes it (every part optional, at least one point results):
//   {"grid":   {"params.model.preset": ["mixtral-8x7b", "qwen3-30b-a3b"], "simulation.seed": [1, 2]},
//    "zip":    {"params.workload.count": [16, 32], "params.workload.concurrency": [4, 8]},
//    "random": {"count": 20, "seed": 7,
//               "ranges":  {"params.serving.command_latency_ns": {"low": 1, "high": 100, "log": true,
//                                                                  "integer": true}},
//               "choices": {"mapping.policy": ["ep", "tp"]}}}
// Points are the cartesian product of the grid (the last key varying fastest), times the zipped
// tuples (lists of equal length, i-th with i-th), times the random samples (the same `count`
// samples for every grid/zip combination). Within each part keys are in sorted order, not the
// order written: the spec arrives as a nlohmann::json object, which sorts its keys. A point's
// overrides are its grid keys, then zip keys, then range keys, then choice keys.
// Random samples come from a fixed generator (splitmix64 seeded with `seed`), never from a
// standard-library distribution, so a sweep expands identically on every machine and build: per
// sample, one draw u = (next() >> 11) * 2^-53 per range (low + u * (high - low), or the same in
// log space; an integer range rounds to the nearest and stores a JSON integer), then one draw
// next() % size per choice.
// Values are JSON scalars (string, number, bool); a number is written as the shortest text that
// reads back as the same double ("0.1", "1e-06", "32"); strings are used as they are.
// Errors throw Error{InvalidConfig} naming the field ("sweep.grid.simulation.seed: empty list").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace wafersim {

struct SweepAxis {
  std::string key;                   // "params.model.preset"
  std::vector<nlohmann::json> values;
};

struct SweepRange {
  std::string key;
  double low = 0, high = 0;  // low <= high; with log: 0 < low
  bool log = false;          // uniform in log space
  bool integer = false;      // round to the nearest integer (low and high must be integers)
};

struct SweepSpec {
  std::vector<SweepAxis> grid;
  std::vector<SweepAxis> zip;
  uint32_t randomCount = 0;
  uint64_t randomSeed = 1;
  std::vector<SweepRange> ranges;
  std::vector<SweepAxis> choices;
};

struct SweepPoint {
  nlohmann::json values = nlohmann::json::object();  // key -> JSON value, the point's coordinates
  std::vector<std::string> overrides;                // "key=value" in axis order
};

// Parses and checks the specification. `maxPoints` bounds the expanded size (Error naming the
// count). A key may appear in only one part; a key must be a dotted path of [A-Za-z0-9_.-].
SweepSpec parseSweepSpec(const nlohmann::json& spec, size_t maxPoints = 100000);

// Every point, in the documented order.
std::vector<SweepPoint> expandSweep(const SweepSpec& spec);

// The text a JSON scalar takes in an override ("key=" + formatOverrideValue(v)).
std::string formatOverrideValue(const nlohmann::json& value);

}  // namespace wafersim
