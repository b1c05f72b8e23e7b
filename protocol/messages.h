// Plain C++ values for every Envelope kind, so that processes build and read messages without
// touching Cap'n Proto builders or readers (convert.h maps them to and from the wire).
//
// Kernel types are used as they are where they exist: an eventBatch is a wafersim::EventBatch.
// The others are value types (copyable, compared by value) named after their kind + "Message".
// MessageKind<T>::value names the Envelope union member a type travels in.
//
// Inside wafersim::proto the generated wire types (proto::RunOptions, proto::ComponentRecord, ...)
// hide the kernel's types of the same name: kernel types are always written fully qualified here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/wafersim.capnp.h"
#include "sim/error.h"
#include "sim/results.h"
#include "sim/simulation.h"
#include "sim/transport.h"

namespace wafersim::proto {

// The version this build speaks; the codec rejects envelopes of any other version.
inline constexpr uint32_t kProtocolVersion = 2;
// Envelope.sender of messages from the coordinator (nodes send their id).
inline constexpr uint32_t kCoordinatorSender = 0xFFFFFFFF;

struct HelloMessage {
  uint32_t protocolVersion = kProtocolVersion;
  uint32_t node = 0;
  std::vector<std::string> capabilities;
  std::string dataEndpoint;  // "tcp://host:port" of the node's event PULL socket
  uint32_t pid = 0;
  std::string hostname;
  std::string name;        // unique in the pool; the node's routing id
  uint32_t cores = 0;
  uint64_t memoryBytes = 0;
  bool pool = false;       // serves the pool and re-registers (false: one-shot, exits with its coordinator)
  std::string metricsUrl;  // "http://host:port" of the node's /metrics, or ""
  std::string curveKey;    // the sender's CURVE public key (Z85), or "": no CURVE
  bool operator==(const HelloMessage&) const = default;
};

struct AssignMessage {
  std::string scenario;                 // the YAML (or JSON) document
  std::vector<std::string> overrides;   // "path=value", applied in order
  uint32_t partitionCount = 0;
  PartitionId partition = 0;            // < partitionCount
  std::vector<PartitionId> partitionMap;  // component id -> partition, each < partitionCount
  wafersim::RunOptions options;
  std::vector<std::string> dataEndpoints;  // indexed by partition; size() == partitionCount
  uint32_t heartbeatIntervalMs = 0;
  uint32_t heartbeatTimeoutMs = 0;
  std::vector<std::string> dataKeys;    // CURVE: indexed by partition (size() == partitionCount), or empty
  std::string placementKey;             // CURVE: the placement service's public key, or ""
  // The partitions this node hosts, ascending, `partition` among them (hybrid nodes); never empty
  // once read (a message without the list means `partition` alone).
  std::vector<PartitionId> hosted;
  // The run takes cuts when the coordinator asks (CheckpointNowMessage). On the coordinator's
  // side options.checkpoint.requested says so; a node has no such flag until it makes its own.
  bool checkpointOnDemand = false;
};

struct ReadyMessage {
  PartitionId partition = 0;
  uint32_t components = 0;
  bool operator==(const ReadyMessage&) const = default;
};

struct StartMessage {
  bool operator==(const StartMessage&) const = default;
};

// A window report with the sender and the round of the collective it belongs to.
struct WindowReportMessage {
  PartitionId from = 0;
  uint64_t round = 0;
  wafersim::WindowReport report;
};

struct HeartbeatMessage {
  uint64_t seq = 0;
  int64_t wallTimeNs = 0;  // system clock, ns since the Unix epoch; diagnostics only
  uint64_t events = 0;          // a node in a run: committed so far
  int64_t simulatedTimePs = 0;  // a node in a run: the latest committed event time
  std::vector<wafersim::PartitionSample> samples;  // a node in a run: model samples since the last beat
  bool operator==(const HeartbeatMessage&) const = default;
};

struct QuiescenceMessage {
  bool idle = false;
  uint64_t eventsSent = 0;
  uint64_t eventsReceived = 0;
  uint64_t epoch = 0;
  bool operator==(const QuiescenceMessage&) const = default;
};

struct TerminateMessage {
  uint64_t epoch = 0;
  bool operator==(const TerminateMessage&) const = default;
};

// One partition's results: its report, the latest committed event time and its components'
// records (feed them to Results::add on the coordinator).
struct ResultsMessage {
  wafersim::PartitionReport report;
  SimTime lastEventTime = SimTime::zero();
  std::vector<wafersim::ComponentRecord> components;
};

struct FailureMessage {
  wafersim::ErrorKind kind = wafersim::ErrorKind::Internal;
  std::string message;
  bool operator==(const FailureMessage&) const = default;
};

struct AbortMessage {
  std::string reason;
  bool operator==(const AbortMessage&) const = default;
};

struct ShutdownMessage {
  bool operator==(const ShutdownMessage&) const = default;
};

struct ReleaseMessage {
  bool operator==(const ReleaseMessage&) const = default;
};

struct CheckpointNowMessage {
  bool operator==(const CheckpointNowMessage&) const = default;
};

template <typename T>
struct MessageKind;  // MessageKind<T>::value: the Envelope kind T travels as

#define WAFERSIM_PROTO_KIND(Type, Kind) \
  template <>                           \
  struct MessageKind<Type> {            \
    static constexpr Envelope::Which value = Envelope::Kind; \
  }
WAFERSIM_PROTO_KIND(HelloMessage, HELLO);
WAFERSIM_PROTO_KIND(AssignMessage, ASSIGN);
WAFERSIM_PROTO_KIND(ReadyMessage, READY);
WAFERSIM_PROTO_KIND(StartMessage, START);
WAFERSIM_PROTO_KIND(wafersim::EventBatch, EVENT_BATCH);
WAFERSIM_PROTO_KIND(WindowReportMessage, WINDOW_REPORT);
WAFERSIM_PROTO_KIND(HeartbeatMessage, HEARTBEAT);
WAFERSIM_PROTO_KIND(QuiescenceMessage, QUIESCENCE);
WAFERSIM_PROTO_KIND(TerminateMessage, TERMINATE);
WAFERSIM_PROTO_KIND(ResultsMessage, RESULTS);
WAFERSIM_PROTO_KIND(FailureMessage, FAILURE);
WAFERSIM_PROTO_KIND(AbortMessage, ABORT);
WAFERSIM_PROTO_KIND(ShutdownMessage, SHUTDOWN);
WAFERSIM_PROTO_KIND(ReleaseMessage, RELEASE);
WAFERSIM_PROTO_KIND(CheckpointNowMessage, CHECKPOINT_NOW);
#undef WAFERSIM_PROTO_KIND

// "hello", "eventBatch", ... (the schema's member name); "unknown" for values this build lacks.
const char* kindName(Envelope::Which kind);

}  // namespace wafersim::proto
