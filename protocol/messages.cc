#include "protocol/messages.h"

namespace wafersim::proto {

const char* kindName(Envelope::Which kind) {
  switch (kind) {
    case Envelope::HELLO: return "hello";
    case Envelope::ASSIGN: return "assign";
    case Envelope::READY: return "ready";
    case Envelope::START: return "start";
    case Envelope::EVENT_BATCH: return "eventBatch";
    case Envelope::WINDOW_REPORT: return "windowReport";
    case Envelope::HEARTBEAT: return "heartbeat";
    case Envelope::QUIESCENCE: return "quiescence";
    case Envelope::TERMINATE: return "terminate";
    case Envelope::RESULTS: return "results";
    case Envelope::FAILURE: return "failure";
    case Envelope::ABORT: return "abort";
    case Envelope::SHUTDOWN: return "shutdown";
    case Envelope::PLACEMENT_REQUEST: return "placementRequest";
    case Envelope::PLACEMENT_REPLY: return "placementReply";
    case Envelope::RELEASE: return "release";
    case Envelope::CHECKPOINT_NOW: return "checkpointNow";
  }
  return "unknown";
}

}  // namespace wafersim::proto
