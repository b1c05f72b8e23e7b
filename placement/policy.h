// Placement policies: one per file under placement/, each citing its source, all behind this
// interface and named in a scenario (mapping.policy offline, mapping.online_policy online).
//
// A policy is a pure function of its Problem: the same Problem gives the same Decision in every
// process, so an online decision made by every node process itself, by the in-process service or
// by the wafersim-placement process is the same decision. Effort limits are therefore counted in
// work (iterations, evaluations, simplex pivots), never in wall time; the service process adds a
// wall-clock deadline of its own and answers every node with the one outcome it recorded.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "placement/placement.h"
#include "placement/problem.h"
#include "sim/params.h"

namespace wafersim::placement {

struct Decision {
  Placement placement;
  std::string reason;          // one line: what the policy did and why
  double predictedGain = 0;    // estimated MoE time saved, as a share of the current placement's
  double optimalityGap = -1;   // MILP policies: the relative gap at the end (-1: not a MILP)
};

class Policy {
 public:
  virtual ~Policy() = default;
  // Throws Error{InvalidConfig} when the problem cannot be placed (memory, shape), naming why.
  virtual Decision decide(const Problem& problem) const = 0;
};

// What a policy needs from the profile (pair counts and the cross-token heatmap cost memory).
struct PolicyNeeds {
  bool pairs = false;
  bool next = false;
  bool profile = true;  // false: a fixed layout that never reads the routing statistics
};

struct PolicyType {
  std::string name;
  std::string help;     // one line, with the source
  std::string source;   // paper / system and section
  std::vector<ParamSpec> params;  // its own options, resolved into Problem::options
  PolicyNeeds needs;
  std::function<std::unique_ptr<Policy>()> make;
};

// Every policy wafersim knows, in a fixed order.
const std::vector<PolicyType>& policyTypes();
// Throws Error{InvalidConfig} naming `field` and listing the known policies.
const PolicyType& policyType(const std::string& name, const std::string& field);

// Helpers shared by the policies.
// A whole-expert (EP) placement: expert e of layer l on usable die order[(e + l*shift) % n].
Placement expertParallel(const Problem& problem, uint32_t layerShift = 0);
// Fills a Decision's gain from the cost model: (current - chosen) / current.
void predictGain(const Problem& problem, Decision& decision);
// Throws when a die's expert weights exceed its expertCapacityBytes.
void checkCapacity(const Problem& problem, const Placement& placement, const std::string& policy);

}  // namespace wafersim::placement

namespace wafersim::placement {

// The answer of a placement service (placement_client.h): applied (with the decision) or kept
// (the previous mapping stays; the reason says why: the policy failed, timed out, or the service
// did not answer).
struct RemoteAnswer {
  bool applied = false;
  Decision decision;
  std::string reason;
};
using RemoteDecider = std::function<RemoteAnswer(const std::string& endpoint, uint32_t timeoutMs,
                                                 const std::string& runId, uint64_t epoch, const std::string& policy,
                                                 const Params& options, const Problem& problem)>;
// Each run gets its own (placement_client.h makeRemoteDecider) through models' BuildContext; the
// serving model asks it when a scenario names a service.

}  // namespace wafersim::placement
