// targets.h: data_message. A frame on a node's data socket (nodes/zmq_transport.cc): event
// batches and window reports from peer partitions, decoded and read; every other kind is counted
// as UnexpectedKind, as the transport does.
#include "fuzz/frames.h"

namespace wafersim::fuzz {

namespace {
constexpr const char* kTarget = "data_message";
}  // namespace

void dataMessageInput(const uint8_t* data, size_t size) {
  proto::RejectCounter rejects;
  auto decoded = decodeFrame(kTarget, data, size, rejects);
  if (!decoded) return;
  switch (decoded->kind()) {
    case proto::Envelope::EVENT_BATCH: readFrame<EventBatch>(kTarget, *decoded, rejects); return;
    case proto::Envelope::WINDOW_REPORT: readFrame<proto::WindowReportMessage>(kTarget, *decoded, rejects); return;
    default: rejects.record(proto::RejectReason::UnexpectedKind); return;
  }
}

}  // namespace wafersim::fuzz
