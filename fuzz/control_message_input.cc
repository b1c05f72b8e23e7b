// targets.h: control_message. A frame on the control sockets between the coordinator (or the
// service's node pool) and a node, read as the receiving side reads it: the coordinator reads
// Hello, Ready, Heartbeat, Quiescence, Results and Failure; a node reads Assign, Start,
// Terminate, Quiescence, Abort, Shutdown and Release, and parses an accepted Assign's scenario
// before it builds anything (nodes/node_runtime.cc). Kinds that have no business
// on a control socket are counted as UnexpectedKind, as both sides do.
#include "fuzz/frames.h"
#include "scenario/scenario.h"

namespace wafersim::fuzz {

namespace {
constexpr const char* kTarget = "control_message";

void checkAssignment(const proto::AssignMessage& assign) {
  rejectsOnlyWithErrors(kTarget, [&] { parseScenario(assign.scenario, "assigned scenario", assign.overrides); });
}
}  // namespace

void controlMessageInput(const uint8_t* data, size_t size) {
  proto::RejectCounter rejects;
  auto decoded = decodeFrame(kTarget, data, size, rejects);
  if (!decoded) return;
  const proto::DecodedMessage& m = *decoded;
  switch (m.kind()) {
    case proto::Envelope::HELLO: readFrame<proto::HelloMessage>(kTarget, m, rejects); return;
    case proto::Envelope::READY: readFrame<proto::ReadyMessage>(kTarget, m, rejects); return;
    case proto::Envelope::HEARTBEAT: readFrame<proto::HeartbeatMessage>(kTarget, m, rejects); return;
    case proto::Envelope::QUIESCENCE: readFrame<proto::QuiescenceMessage>(kTarget, m, rejects); return;
    case proto::Envelope::RESULTS: readFrame<proto::ResultsMessage>(kTarget, m, rejects); return;
    case proto::Envelope::FAILURE: readFrame<proto::FailureMessage>(kTarget, m, rejects); return;
    case proto::Envelope::ASSIGN:
      if (auto assign = readFrame<proto::AssignMessage>(kTarget, m, rejects)) checkAssignment(*assign);
      return;
    case proto::Envelope::START: readFrame<proto::StartMessage>(kTarget, m, rejects); return;
    case proto::Envelope::TERMINATE: readFrame<proto::TerminateMessage>(kTarget, m, rejects); return;
    case proto::Envelope::ABORT: readFrame<proto::AbortMessage>(kTarget, m, rejects); return;
    case proto::Envelope::SHUTDOWN: readFrame<proto::ShutdownMessage>(kTarget, m, rejects); return;
    case proto::Envelope::RELEASE: readFrame<proto::ReleaseMessage>(kTarget, m, rejects); return;
    case proto::Envelope::CHECKPOINT_NOW: readFrame<proto::CheckpointNowMessage>(kTarget, m, rejects); return;
    default: rejects.record(proto::RejectReason::UnexpectedKind); return;
  }
}

}  // namespace wafersim::fuzz
