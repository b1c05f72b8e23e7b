// The placement service's two messages as C++ values (protocol/wafersim.capnp PlacementRequest,
// PlacementReply), over the placement library's own types: a request carries a whole
// placement::Problem, a reply a placement::Decision.
//
// In a request, problem.options holds the policy's options as the asker gave them (not resolved:
// the service resolves them against the policy's ParamSpecs) and problem.seed the run's seed.
#pragma once

#include <cstdint>
#include <string>

#include "placement/policy.h"
#include "placement/problem.h"
#include "protocol/messages.h"

namespace wafersim::proto {

// Envelope.sender of the placement service's replies (nodes send their id, the coordinator
// kCoordinatorSender).
inline constexpr uint32_t kPlacementServiceSender = 0xFFFFFFFE;

struct PlacementRequestMessage {
  std::string runId;
  uint64_t epoch = 0;  // (runId, epoch) names the question; the service answers it once
  std::string policy;  // placement::policyTypes() name
  placement::Problem problem;
};

enum class DecisionOutcome {
  Applied,  // decision.placement is the new mapping
  Kept,     // the policy failed or ran out of time: the mapping in force stays (decision.reason says why)
};
const char* toString(DecisionOutcome outcome);  // "applied", "kept"

struct PlacementReplyMessage {
  std::string runId;
  uint64_t epoch = 0;
  DecisionOutcome outcome = DecisionOutcome::Kept;
  placement::Decision decision;  // placement empty (0 dies) unless applied
  uint64_t decisionMicros = 0;   // wall clock, diagnostics only: never feed it to the simulation

  bool applied() const { return outcome == DecisionOutcome::Applied; }
};

template <>
struct MessageKind<PlacementRequestMessage> {
  static constexpr Envelope::Which value = Envelope::PLACEMENT_REQUEST;
};
template <>
struct MessageKind<PlacementReplyMessage> {
  static constexpr Envelope::Which value = Envelope::PLACEMENT_REPLY;
};

}  // namespace wafersim::proto
