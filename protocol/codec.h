// The codec: one Envelope per ZeroMQ frame, in Cap'n Proto's standard framing (segment table, then
// segments — what capnp::messageToFlatArray produces).
//
// Sending:   Encoder encoder;  socket.send(encoder.encode(myNodeId, batch), zmq::send_flags::none);
// Receiving: RejectCounter rejects;   // one per peer or per socket; owned by the caller
//            auto decoded = tryDecode(std::move(frame), rejects);
//            if (!decoded) { log(decoded.error().describe()); continue; }   // already counted
//            switch (decoded->kind()) {
//              case Envelope::EVENT_BATCH: if (tryRead(*decoded, batch, rejects)) deliver(batch); ...
//
// Contract of the try-API (tryDecode, tryRead): for any input bytes it returns either a value or a
// Rejection whose reason it has recorded in `rejects`; it never throws for bad input (only
// std::bad_alloc when the process itself is out of memory). tryDecode checks the framing (size,
// word multiple, segment table, trailing bytes), the limits (frame size, traversal, nesting), the
// protocol version and the kind, and walks every pointer of the message once, so a DecodedMessage
// is structurally sound. tryRead then converts the body to C++ values (convert.h) and checks the
// values themselves (enumerants, ranges, duplicates).
//
// Alignment: Cap'n Proto 0.9 reads only 8-byte-aligned words (the unaligned reader is gone). A
// frame that is aligned is read in place, with no copy; one that is not (ZeroMQ gives no alignment
// guarantee for received frames) is copied once into a word array first.
//
// Cost: no per-event work beyond copying bytes (convert.h copies event lists as one block), no
// per-event allocation. bench/protocol_codec.cc, 4,000 events (256 KB): encode ~10 us, decode+read
// ~4 us in place or ~8 us with the alignment copy.
//
// Thread ownership: an Encoder, a DecodedMessage and a RejectCounter each belong to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include <capnp/message.h>
#include <kj/array.h>
#include <tl/expected.hpp>
#include <zmq.hpp>

#include "protocol/convert.h"
#include "protocol/messages.h"
#include "protocol/reject_counter.h"
#include "protocol/wafersim.capnp.h"

namespace wafersim::proto {

inline constexpr size_t kMaxRunIdBytes = 128;

struct DecodeLimits {
  size_t maxFrameBytes = size_t{64} << 20;  // 64 MiB, about a million events; match sockopt::maxmsgsize
  // ReaderOptions::traversalLimitInWords = this x the frame's words + 1024: legitimate readers touch
  // each object about once, so this only stops messages whose pointers alias to look bigger.
  uint64_t traversalWordsPerFrameWord = 4;
  int nestingLimit = 16;  // the schema nests 6 deep (Envelope > Results > ... > bounds)
};

// Builds messages into a reused first segment: no allocation per message while a message fits
// (kDefaultScratchWords holds an 8,000-event batch), one frame allocation for the result.
class Encoder {
 public:
  static constexpr size_t kDefaultScratchWords = 64 * 1024;

  // scratchWords = 0: no reused segment, Cap'n Proto allocates per message (fine for control).
  explicit Encoder(size_t scratchWords = kDefaultScratchWords);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // Starts a message (discarding an unfinished one) with this build's protocol version, the given
  // sender (a node id, or kCoordinatorSender) and the run id set last (setRunId). The builder is
  // valid until finish*().
  Envelope::Builder begin(uint32_t sender);
  // Every message begun from now on names this run (Envelope.runId); "" names none.
  void setRunId(std::string runId) { runId_ = std::move(runId); }
  const std::string& runId() const { return runId_; }
  // Serialises the message begun last into one ZeroMQ frame (one copy, straight into the frame).
  zmq::message_t finish();
  // The same bytes as a word array, via capnp::messageToFlatArray.
  kj::Array<capnp::word> finishWords();

  // begin + toWire(value, envelope) + finish, for every messages.h type and wafersim::EventBatch.
  template <typename T>
  zmq::message_t encode(uint32_t sender, const T& value) {
    toWire(value, begin(sender));
    return finish();
  }
  // encode() for one message of run `runId`, leaving the encoder's own run id as it was.
  template <typename T>
  zmq::message_t encodeFor(uint32_t sender, const std::string& runId, const T& value) {
    std::string saved = std::exchange(runId_, runId);
    try {
      toWire(value, begin(sender));  // begin() has copied the run id into the message
    } catch (...) {
      runId_ = std::move(saved);
      throw;
    }
    runId_ = std::move(saved);
    return finish();
  }
  template <typename T>
  kj::Array<capnp::word> encodeWords(uint32_t sender, const T& value) {
    toWire(value, begin(sender));
    return finishWords();
  }

 private:
  std::string runId_;
  kj::Array<capnp::word> scratch_;  // zeroed; MallocMessageBuilder re-zeroes what it used
  std::optional<capnp::MallocMessageBuilder> builder_;
};

// One-off encoding for control messages (allocates its builder).
template <typename T>
zmq::message_t encode(uint32_t sender, const T& value) {
  Encoder encoder(0);
  return encoder.encode(sender, value);
}

// A received Envelope that passed tryDecode. Owns the frame (or its aligned copy); movable.
class DecodedMessage {
 public:
  DecodedMessage(DecodedMessage&&) noexcept;
  DecodedMessage& operator=(DecodedMessage&&) noexcept;
  ~DecodedMessage();

  Envelope::Which kind() const { return root_.which(); }
  uint32_t sender() const { return root_.getSender(); }
  // Envelope.runId ("" when none); bytes as sent, at most kMaxRunIdBytes (longer: "" and the
  // message belongs to no run).
  std::string runId() const;
  // Structurally sound (see the contract above), but read bodies with tryRead: Text getters and
  // enum values are still untrusted.
  Envelope::Reader envelope() const { return root_; }
  size_t frameBytes() const;
  bool copied() const;  // true when the frame was not 8-byte aligned and had to be copied

  struct Storage;  // opaque, defined in codec.cc: only tryDecode makes DecodedMessages
  DecodedMessage(std::unique_ptr<Storage> storage, Envelope::Reader root);

 private:
  std::unique_ptr<Storage> storage_;
  Envelope::Reader root_;
};

// Takes the frame: read in place when aligned, else copied once.
tl::expected<DecodedMessage, Rejection> tryDecode(zmq::message_t&& frame, RejectCounter& rejects,
                                                  const DecodeLimits& limits = {});
// Takes an aligned word array (e.g. Encoder::finishWords()).
tl::expected<DecodedMessage, Rejection> tryDecode(kj::Array<capnp::word>&& words, RejectCounter& rejects,
                                                  const DecodeLimits& limits = {});
// Borrows nothing: always copies the bytes (any alignment) into a word array first.
tl::expected<DecodedMessage, Rejection> tryDecode(std::span<const std::byte> bytes, RejectCounter& rejects,
                                                  const DecodeLimits& limits = {});

namespace detail {
using ReadFn = void (*)(Envelope::Reader, void*);
// Runs read(message.envelope(), out) after checking the kind; turns every exception into a
// Rejection (UnexpectedKind, Malformed for kj::Exception, InvalidContent for the rest).
std::optional<Rejection> readChecked(const DecodedMessage& message, Envelope::Which expected, ReadFn read, void* out);
}  // namespace detail

// Reads the body of a decoded message into `out` (T: a messages.h type or wafersim::EventBatch,
// whose events vector keeps its capacity). On rejection `out` may be partly written.
template <typename T>
tl::expected<void, Rejection> tryRead(const DecodedMessage& message, T& out, RejectCounter& rejects) {
  auto rejection = detail::readChecked(
      message, MessageKind<T>::value, [](Envelope::Reader in, void* o) { fromWire(in, *static_cast<T*>(o)); }, &out);
  if (rejection) {
    rejects.record(rejection->reason);
    return tl::unexpected(std::move(*rejection));
  }
  return {};
}

template <typename T>
tl::expected<T, Rejection> tryRead(const DecodedMessage& message, RejectCounter& rejects) {
  T value{};
  auto ok = tryRead(message, value, rejects);
  if (!ok) return tl::unexpected(std::move(ok.error()));
  return value;
}

}  // namespace wafersim::proto
