// Why a frame was refused, and how many times each reason happened (ARCHITECTURE.md contract 6:
// a malformed or hostile message is rejected and counted; the process keeps running).
//
// The codec's try-API (codec.h) never throws for bad input: it returns a Rejection and records
// its reason in a RejectCounter that the caller owns, typically one per peer, so that a process
// can log "rejected 3 messages from node 2: truncated=2 malformed=1" and carry on.
//
// Thread ownership: a RejectCounter belongs to the thread that owns the socket it counts for.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace wafersim::proto {

enum class RejectReason : uint8_t {
  EmptyFrame,       // a zero-byte frame
  Oversized,        // larger than DecodeLimits::maxFrameBytes
  NotWordMultiple,  // the size is not a multiple of 8 bytes (Cap'n Proto framing is word-based)
  Truncated,        // the segment table or a segment ends past the end of the frame
  BadSegmentTable,  // an impossible segment count
  TrailingData,     // bytes after the end of the message the segment table describes
  Malformed,        // Cap'n Proto refused the content (bad pointer, limits, missing NUL, ...)
  WrongVersion,     // Envelope.protocolVersion is not kProtocolVersion
  UnknownKind,      // a union kind this build does not know (a newer peer, or garbage)
  UnexpectedKind,   // a known kind, but not the one the caller asked to read
  InvalidContent,   // well-formed, but the values break the message's rules (enum, range, duplicates)
};

inline constexpr size_t kRejectReasonCount = static_cast<size_t>(RejectReason::InvalidContent) + 1;

// "empty-frame", "oversized", ... (stable names, fit for logs and metric labels).
const char* toString(RejectReason reason);

struct Rejection {
  RejectReason reason = RejectReason::Malformed;
  std::string detail;  // human-readable specifics, e.g. the Cap'n Proto exception text

  std::string describe() const;  // "truncated: segment 0 needs 12 words, 9 present"
};

class RejectCounter {
 public:
  void record(RejectReason reason) { ++counts_[static_cast<size_t>(reason)]; }
  uint64_t count(RejectReason reason) const { return counts_[static_cast<size_t>(reason)]; }
  uint64_t total() const;
  // "truncated=2 malformed=1" in reason order, only the non-zero ones; "none" when total() == 0.
  std::string summary() const;
  void reset() { counts_ = {}; }

 private:
  std::array<uint64_t, kRejectReasonCount> counts_{};
};

}  // namespace wafersim::proto
