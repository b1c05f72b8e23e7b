#include "scenario/scenario.h"

#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "sim/error.h"

namespace wafersim {

PartitionerKind parsePartitionerKind(std::string_view text) {
  if (text == "metis") return PartitionerKind::Metis;
  if (text == "linear") return PartitionerKind::Linear;
  if (text == "round-robin") return PartitionerKind::RoundRobin;
  if (text == "pinned") return PartitionerKind::Pinned;
  fail(ErrorKind::InvalidConfig, "unknown partitioner \"", text, "\" (expected metis, linear, round-robin or pinned)");
}

const char* toString(PartitionerKind kind) {
  switch (kind) {
    case PartitionerKind::Metis: return "metis";
    case PartitionerKind::Linear: return "linear";
    case PartitionerKind::RoundRobin: return "round-robin";
    case PartitionerKind::Pinned: return "pinned";
  }
  return "?";
}

namespace {

[[noreturn]] void bad(const std::string& source, const YAML::Node& node, const std::string& path,
                      const std::string& message) {
  const int line = node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
  fail(ErrorKind::InvalidConfig, source, line ? ":" + std::to_string(line) : "", ": ", path, ": ", message);
}

std::string scalar(const std::string& source, const YAML::Node& node, const std::string& path) {
  // YAML reads a bare `null` or `~` as a null node; where a word is expected it means the word
  // ("sync: null" is the null-message strategy).
  if (node.IsNull()) return "null";
  if (!node.IsScalar()) bad(source, node, path, "expected a single value");
  return node.Scalar();
}

void checkKeys(const std::string& source, const YAML::Node& map, const std::string& path,
               const std::set<std::string>& known) {
  if (!map.IsMap()) bad(source, map, path.empty() ? "(document)" : path, "expected a mapping");
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      bad(source, kv.first, path.empty() ? key : path + "." + key, "unknown key (known: " + list + ")");
    }
  }
}

void applyOverride(YAML::Node root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  WAFERSIM_REQUIRE(eq != std::string::npos && eq > 0, "override \"", assignment, "\": expected key.path=value");
  std::string path = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  std::vector<std::string> keys;
  std::stringstream ss(path);
  for (std::string k; std::getline(ss, k, '.');) {
    WAFERSIM_REQUIRE(!k.empty(), "override \"", assignment, "\": empty key in the path");
    keys.push_back(k);
  }
  // yaml-cpp nodes are handles: walk with fresh handles rather than reassigning one.
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    YAML::Node next = chain.back()[keys[i]];
    if (!next.IsDefined() || next.IsNull()) {
      chain.back()[keys[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[keys[i]];
    }
    WAFERSIM_REQUIRE(next.IsMap(), "override \"", assignment, "\": ", keys[i], " is not a mapping");
    chain.push_back(next);
  }
  chain.back()[keys.back()] = value;
}

Scenario parseDocument(const std::string& text, const std::string& source, const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(ErrorKind::InvalidConfig, source, ":", e.mark.line + 1, ": not valid YAML: ", e.msg);
  }
  if (root.IsNull()) fail(ErrorKind::InvalidConfig, source, ": empty scenario");
  if (!root.IsMap()) bad(source, root, "(document)", "expected a mapping");  // before overrides walk it
  for (const auto& o : overrides) applyOverride(root, o);
  checkKeys(source, root, "", {"model", "params", "simulation"});

  Scenario s;
  s.source = source;
  if (source.find('/') != std::string::npos)
    s.modelParams.setBaseDir(std::filesystem::path(source).parent_path().string());
  if (!root["model"]) fail(ErrorKind::InvalidConfig, source, ": model: missing (which system to simulate)");
  s.model = scalar(source, root["model"], "model");
  if (YAML::Node params = root["params"]; params && !params.IsNull()) {
    if (!params.IsMap()) bad(source, params, "params", "expected a mapping of parameter names to values");
    // Nested mappings are sections: {hardware: {system: dojo}} is the parameter "hardware.system".
    std::function<void(const YAML::Node&, const std::string&)> flatten = [&](const YAML::Node& map,
                                                                              const std::string& prefix) {
      for (const auto& kv : map) {
        const std::string key = prefix + kv.first.as<std::string>();
        if (kv.second.IsMap()) {
          flatten(kv.second, key + ".");
        } else {
          s.modelParams.set(key, scalar(source, kv.second, "params." + key));
          if (kv.first.Mark().line >= 0) s.modelParams.setLine(key, kv.first.Mark().line + 1);
        }
      }
    };
    flatten(params, "");
    for (const auto& o : overrides)
      if (o.rfind("params.", 0) == 0 && o.find('=') != std::string::npos)
        s.modelParams.markOverridden(o.substr(7, o.find('=') - 7));
  }
  if (YAML::Node sim = root["simulation"]; sim && !sim.IsNull()) {
    checkKeys(source, sim, "simulation",
              {"partitions", "partitioner", "partition_map", "partition_profile", "sync", "lookahead", "end", "seed", "checker", "digest",
               "metrics_epoch", "metrics_max_series", "checkpoint_every",
               "checkpoint_every_wall"});
    auto field = [&](const char* key, auto&& apply) {
      YAML::Node n = sim[key];
      if (!n) return;
      const std::string path = std::string("simulation.") + key;
      const std::string value = scalar(source, n, path);
      try {
        apply(value);
      } catch (const Error& e) {
        bad(source, n, path, e.what());
      }
    };
    Params p;
    field("partitions", [&](const std::string& v) {
      p.set("partitions", v);
      const int64_t n = p.integer("partitions");
      WAFERSIM_REQUIRE(n >= 1 && n <= 4096, "must be between 1 and 4096, got ", v);
      s.partitions = static_cast<uint32_t>(n);
    });
    field("partitioner", [&](const std::string& v) { s.partitioner = toString(parsePartitionerKind(v)); });
    field("partition_map", [&](const std::string& v) {
      std::filesystem::path p(v);
      if (p.is_relative() && source.find('/') != std::string::npos)
        p = std::filesystem::path(source).parent_path() / p;
      s.partitionMapFile = p.string();
    });
    field("partition_profile", [&](const std::string& v) {
      std::filesystem::path p(v);
      if (p.is_relative() && source.find('/') != std::string::npos)
        p = std::filesystem::path(source).parent_path() / p;
      s.partitionProfile = p.string();
    });
    field("sync", [&](const std::string& v) { s.run.sync = parseSyncKind(v); });
    field("lookahead", [&](const std::string& v) { s.run.lookahead = parseLookaheadMode(v); });
    field("end", [&](const std::string& v) {
      if (v == "never") {
        s.run.end = SimTime::never();
        return;
      }
      const Duration d = parseDuration(v);
      WAFERSIM_REQUIRE(d > Duration::zero(), "must be positive, got ", v);
      s.run.end = SimTime::zero() + d;
    });
    field("seed", [&](const std::string& v) {
      p.set("seed", v);
      const int64_t seed = p.integer("seed");
      WAFERSIM_REQUIRE(seed >= 0, "must be a non-negative integer, got ", v);
      s.run.seed = static_cast<uint64_t>(seed);
    });
    field("checker", [&](const std::string& v) {
      p.set("checker", v);
      s.run.checker = p.boolean("checker");
    });
    field("digest", [&](const std::string& v) {
      p.set("digest", v);
      s.run.digest = p.boolean("digest");
    });
    field("metrics_epoch", [&](const std::string& v) {
      const Duration d = parseDuration(v);
      WAFERSIM_REQUIRE(d > Duration::zero(), "must be positive, got ", v);
      s.run.observeEvery = d;
    });
    field("checkpoint_every", [&](const std::string& v) {
      const Duration d = v == "0" ? Duration::zero() : parseDuration(v);
      WAFERSIM_REQUIRE(d >= Duration::zero(), "must be a duration of simulated time (0: no checkpoints), got ", v);
      s.run.checkpoint.every = d;
    });
    field("checkpoint_every_wall", [&](const std::string& v) {
      const Duration d = v == "0" ? Duration::zero() : parseDuration(v);
      WAFERSIM_REQUIRE(d >= Duration::zero(), "must be a duration of wall-clock time (0: none), got ", v);
      s.run.checkpoint.everyWallSeconds = static_cast<double>(d.ps()) * 1e-12;
    });
    field("metrics_max_series", [&](const std::string& v) {
      p.set("metrics_max_series", v);
      const int64_t n = p.integer("metrics_max_series");
      WAFERSIM_REQUIRE(n >= 1 && n <= 4096, "must be between 1 and 4096, got ", v);
      s.metricsMaxSeries = static_cast<uint32_t>(n);
    });
  }
  if (s.partitioner == "pinned" && s.partitionMapFile.empty())
    fail(ErrorKind::InvalidConfig, source, ": simulation.partition_map: required with partitioner: pinned");
  return s;
}

}  // namespace

Scenario parseScenario(const std::string& text, const std::string& source, const std::vector<std::string>& overrides) {
  // yaml-cpp throws from conversions and subscripts too (a mapping used as a key, an override
  // path through a scalar); whatever slips past the checks above is still the input's fault.
  // Found by fuzz_scenario (tests/fuzz/regressions/scenario/).
  try {
    return parseDocument(text, source, overrides);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) fail(ErrorKind::InvalidConfig, source, ": ", e.msg);
    fail(ErrorKind::InvalidConfig, source, ":", e.mark.line + 1, ": ", e.msg);
  }
}

std::string readScenarioFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::InvalidConfig, path, ": cannot open the scenario file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Scenario loadScenario(const std::string& path, const std::vector<std::string>& overrides) {
  return parseScenario(readScenarioFile(path), path, overrides);
}

}  // namespace wafersim
