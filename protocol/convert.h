// Conversions between the kernel's (and messages.h's) value types and the Cap'n Proto wire types.
//
// Round trips are exact: events bit for bit (the 32 payload bytes travel as four little-endian
// words; Event::reserved is not carried and reads back as 0), digests and counters as integers,
// SimTime::never() as INT64_MAX, doubles as their IEEE bits. On little-endian hosts an event list
// is copied as one block (WireEvent's wire layout is the kernel Event's); otherwise, or when a
// sender's elements have another size, field by field with the same result.
//
// toWire never fails. fromWire reads untrusted data: it throws kj::Exception when Cap'n Proto
// refuses the content and Error{InvalidConfig} when the values break the message's rules (an
// unknown enumerant, a partition id out of range, a duplicate counter name, a list of zero-sized
// elements). Processes should not call fromWire directly on received data but go through
// codec.h's tryRead, which turns both into a counted Rejection.
//
// Envelope-level overloads set (toWire) or read (fromWire) the union member of the value's kind
// (messages.h MessageKind); the envelope's version and sender are the Encoder's business.
#pragma once

#include "protocol/messages.h"
#include "protocol/wafersim.capnp.h"

namespace wafersim::proto {

// ---- enums ------------------------------------------------------------------------------------
proto::SyncKind toWire(wafersim::SyncKind kind);
proto::LookaheadMode toWire(wafersim::LookaheadMode mode);
proto::ErrorKind toWire(wafersim::ErrorKind kind);
wafersim::SyncKind fromWire(proto::SyncKind kind);            // throws on an unknown enumerant
wafersim::LookaheadMode fromWire(proto::LookaheadMode mode);  // throws on an unknown enumerant
wafersim::ErrorKind fromWire(proto::ErrorKind kind);          // unknown enumerant -> Internal

// ---- parts ------------------------------------------------------------------------------------
void toWire(const wafersim::Event& in, WireEvent::Builder out);
void fromWire(WireEvent::Reader in, wafersim::Event& out);
void toWire(const wafersim::PeerReport& in, proto::PeerReport::Builder out);
void fromWire(proto::PeerReport::Reader in, wafersim::PeerReport& out);
void toWire(const wafersim::RunOptions& in, proto::RunOptions::Builder out);
void fromWire(proto::RunOptions::Reader in, wafersim::RunOptions& out);
void toWire(const wafersim::ComponentRecord& in, proto::ComponentRecord::Builder out);
void fromWire(proto::ComponentRecord::Reader in, wafersim::ComponentRecord& out);

// ---- message bodies ---------------------------------------------------------------------------
void toWire(const HelloMessage& in, Hello::Builder out);
void fromWire(Hello::Reader in, HelloMessage& out);
void toWire(const AssignMessage& in, Assign::Builder out);
void fromWire(Assign::Reader in, AssignMessage& out);  // also checks ids against partitionCount
void toWire(const ReadyMessage& in, Ready::Builder out);
void fromWire(Ready::Reader in, ReadyMessage& out);
void toWire(const wafersim::EventBatch& in, proto::EventBatch::Builder out);
// Reuses out.events' capacity: no allocation once it has grown to the batch size.
void fromWire(proto::EventBatch::Reader in, wafersim::EventBatch& out);
void toWire(const WindowReportMessage& in, proto::WindowReport::Builder out);
void fromWire(proto::WindowReport::Reader in, WindowReportMessage& out);
void toWire(const HeartbeatMessage& in, Heartbeat::Builder out);
void fromWire(Heartbeat::Reader in, HeartbeatMessage& out);
void toWire(const QuiescenceMessage& in, Quiescence::Builder out);
void fromWire(Quiescence::Reader in, QuiescenceMessage& out);
void toWire(const TerminateMessage& in, Terminate::Builder out);
void fromWire(Terminate::Reader in, TerminateMessage& out);
void toWire(const ResultsMessage& in, proto::Results::Builder out);
void fromWire(proto::Results::Reader in, ResultsMessage& out);
void toWire(const FailureMessage& in, Failure::Builder out);
void fromWire(Failure::Reader in, FailureMessage& out);
void toWire(const AbortMessage& in, Abort::Builder out);
void fromWire(Abort::Reader in, AbortMessage& out);

// ---- envelope level ---------------------------------------------------------------------------
// toWire(value, envelope) initialises the union member of MessageKind<T>; fromWire(envelope, value)
// requires envelope.which() == MessageKind<T>::value (else Error{InvalidConfig}) and reads it.
void toWire(const HelloMessage& in, Envelope::Builder out);
void toWire(const AssignMessage& in, Envelope::Builder out);
void toWire(const ReadyMessage& in, Envelope::Builder out);
void toWire(const StartMessage& in, Envelope::Builder out);
void toWire(const wafersim::EventBatch& in, Envelope::Builder out);
void toWire(const WindowReportMessage& in, Envelope::Builder out);
void toWire(const HeartbeatMessage& in, Envelope::Builder out);
void toWire(const QuiescenceMessage& in, Envelope::Builder out);
void toWire(const TerminateMessage& in, Envelope::Builder out);
void toWire(const ResultsMessage& in, Envelope::Builder out);
void toWire(const FailureMessage& in, Envelope::Builder out);
void toWire(const AbortMessage& in, Envelope::Builder out);
void toWire(const ShutdownMessage& in, Envelope::Builder out);
void toWire(const ReleaseMessage& in, Envelope::Builder out);
void toWire(const CheckpointNowMessage& in, Envelope::Builder out);

void fromWire(Envelope::Reader in, HelloMessage& out);
void fromWire(Envelope::Reader in, AssignMessage& out);
void fromWire(Envelope::Reader in, ReadyMessage& out);
void fromWire(Envelope::Reader in, StartMessage& out);
void fromWire(Envelope::Reader in, wafersim::EventBatch& out);
void fromWire(Envelope::Reader in, WindowReportMessage& out);
void fromWire(Envelope::Reader in, HeartbeatMessage& out);
void fromWire(Envelope::Reader in, QuiescenceMessage& out);
void fromWire(Envelope::Reader in, TerminateMessage& out);
void fromWire(Envelope::Reader in, ResultsMessage& out);
void fromWire(Envelope::Reader in, FailureMessage& out);
void fromWire(Envelope::Reader in, AbortMessage& out);
void fromWire(Envelope::Reader in, ShutdownMessage& out);
void fromWire(Envelope::Reader in, ReleaseMessage& out);
void fromWire(Envelope::Reader in, CheckpointNowMessage& out);

}  // namespace wafersim::proto
