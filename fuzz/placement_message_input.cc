// targets.h: placement_message. A frame to or from the placement service: a PlacementRequest is
// decoded, read (placement_convert.h's checks) and decided by its named policy the way the service
// does (runPolicy: parameters resolved, policy run, decision checked); the reply must be one the
// asker accepts (a placement of the problem's shape when applied, placement_client.cc) and must
// survive its own round trip. A PlacementReply is read as the client reads it. Other kinds are
// counted as UnexpectedKind, as the service does.
#include "fuzz/frames.h"
#include "placement/placement_service.h"

namespace wafersim::fuzz {

namespace {
constexpr const char* kTarget = "placement_message";

void decide(const proto::PlacementRequestMessage& request) {
  proto::PlacementReplyMessage reply;
  try {
    reply = placement::runPolicy(request);
  } catch (const std::exception& e) {
    throw Finding(std::string(kTarget) + ": runPolicy threw " + typeName(e) + " for policy \"" + request.policy +
                  "\": " + e.what());
  }
  const placement::Placement& p = reply.decision.placement;
  const placement::Problem& problem = request.problem;
  if (reply.applied() &&
      (p.dies() != problem.fabric.dies || p.layers() != problem.model.layers || p.experts() != problem.model.experts))
    throw Finding(std::string(kTarget) + ": policy \"" + request.policy + "\" answered a placement of " +
                  std::to_string(p.dies()) + " dies x " + std::to_string(p.layers()) + " layers x " +
                  std::to_string(p.experts()) + " experts for a problem of " + std::to_string(problem.fabric.dies) +
                  " x " + std::to_string(problem.model.layers) + " x " + std::to_string(problem.model.experts));
  roundTrip(kTarget, proto::kPlacementServiceSender, request.runId, reply);
}
}  // namespace

void placementMessageInput(const uint8_t* data, size_t size) {
  proto::RejectCounter rejects;
  auto decoded = decodeFrame(kTarget, data, size, rejects);
  if (!decoded) return;
  switch (decoded->kind()) {
    case proto::Envelope::PLACEMENT_REQUEST:
      if (auto request = readFrame<proto::PlacementRequestMessage>(kTarget, *decoded, rejects)) decide(*request);
      return;
    case proto::Envelope::PLACEMENT_REPLY: readFrame<proto::PlacementReplyMessage>(kTarget, *decoded, rejects); return;
    default: rejects.record(proto::RejectReason::UnexpectedKind); return;
  }
}

}  // namespace wafersim::fuzz
