#include "protocol/codec.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <kj/io.h>

#include "sim/error.h"

namespace wafersim::proto {

// ---- Encoder ----------------------------------------------------------------------------------

Encoder::Encoder(size_t scratchWords) {
  if (scratchWords > 0) scratch_ = kj::heapArray<capnp::word>(scratchWords);
  if (scratch_.size() > 0) std::memset(scratch_.begin(), 0, scratch_.size() * sizeof(capnp::word));
}

Encoder::~Encoder() = default;

Envelope::Builder Encoder::begin(uint32_t sender) {
  builder_.reset();  // re-zeroes the part of scratch_ the last message used
  if (scratch_.size() > 0) {
    builder_.emplace(scratch_.asPtr());
  } else {
    builder_.emplace();
  }
  auto root = builder_->initRoot<Envelope>();
  root.setProtocolVersion(kProtocolVersion);
  root.setSender(sender);
  if (!runId_.empty()) root.setRunId(capnp::Text::Reader(runId_.data(), runId_.size()));
  return root;
}

zmq::message_t Encoder::finish() {
  WAFERSIM_ASSERT(builder_.has_value(), "Encoder::finish without begin");
  auto segments = builder_->getSegmentsForOutput();
  size_t words = capnp::computeSerializedSizeInWords(segments);
  zmq::message_t frame(words * sizeof(capnp::word));
  kj::ArrayOutputStream out(kj::arrayPtr(static_cast<kj::byte*>(frame.data()), frame.size()));
  capnp::writeMessage(out, segments);
  WAFERSIM_ASSERT(out.getArray().size() == frame.size(), out.getArray().size(), frame.size());
  builder_.reset();
  return frame;
}

kj::Array<capnp::word> Encoder::finishWords() {
  WAFERSIM_ASSERT(builder_.has_value(), "Encoder::finishWords without begin");
  auto words = capnp::messageToFlatArray(*builder_);
  builder_.reset();
  return words;
}

// ---- DecodedMessage ---------------------------------------------------------------------------

struct DecodedMessage::Storage {
  zmq::message_t frame;                       // the frame read in place, when aligned
  kj::Array<capnp::word> words;               // the aligned copy (or the caller's word array)
  std::optional<capnp::FlatArrayMessageReader> reader;
  size_t frameBytes = 0;
  bool copied = false;
};

std::string DecodedMessage::runId() const {
  if (!root_.hasRunId()) return {};
  auto text = root_.getRunId();
  if (text.size() > kMaxRunIdBytes) return {};
  return std::string(text.begin(), text.size());
}

DecodedMessage::DecodedMessage(std::unique_ptr<Storage> storage, Envelope::Reader root)
    : storage_(std::move(storage)), root_(root) {}
DecodedMessage::DecodedMessage(DecodedMessage&&) noexcept = default;
DecodedMessage& DecodedMessage::operator=(DecodedMessage&&) noexcept = default;
DecodedMessage::~DecodedMessage() = default;

size_t DecodedMessage::frameBytes() const { return storage_->frameBytes; }
bool DecodedMessage::copied() const { return storage_->copied; }

// ---- decoding ---------------------------------------------------------------------------------

namespace {

constexpr uint32_t kMaxSegments = 512;  // Cap'n Proto's own limit

tl::unexpected<Rejection> reject(RejectCounter& rejects, RejectReason reason, std::string detail) {
  rejects.record(reason);
  return tl::unexpected(Rejection{reason, std::move(detail)});
}

// The checks that need no copy: size limits and the word multiple.
std::optional<Rejection> checkSize(size_t bytes, const DecodeLimits& limits) {
  if (bytes == 0) return Rejection{RejectReason::EmptyFrame, "0 bytes"};
  if (bytes > limits.maxFrameBytes)
    return Rejection{RejectReason::Oversized,
                     std::to_string(bytes) + " bytes, limit " + std::to_string(limits.maxFrameBytes)};
  if (bytes % sizeof(capnp::word) != 0)
    return Rejection{RejectReason::NotWordMultiple, std::to_string(bytes) + " bytes"};
  return std::nullopt;
}

inline uint32_t loadLe32(const capnp::word* words, size_t index) {
  uint32_t v;
  std::memcpy(&v, reinterpret_cast<const unsigned char*>(words) + 4 * index, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

// The segment table must describe exactly the frame: no more (truncated), no less (trailing).
std::optional<Rejection> checkSegmentTable(kj::ArrayPtr<const capnp::word> words) {
  uint32_t countMinusOne = loadLe32(words.begin(), 0);
  if (countMinusOne >= kMaxSegments)
    return Rejection{RejectReason::BadSegmentTable, std::to_string(uint64_t{countMinusOne} + 1) + " segments"};
  uint64_t segments = uint64_t{countMinusOne} + 1;
  uint64_t tableWords = (segments + 2) / 2;  // 4 bytes of count + 4 per segment, padded to a word
  if (tableWords > words.size())
    return Rejection{RejectReason::Truncated, "segment table of " + std::to_string(segments) + " segments needs " +
                                                  std::to_string(tableWords) + " words, frame has " +
                                                  std::to_string(words.size())};
  uint64_t total = tableWords;
  for (uint64_t i = 0; i < segments; ++i) total += loadLe32(words.begin(), 1 + i);
  if (total > words.size())
    return Rejection{RejectReason::Truncated,
                     "message needs " + std::to_string(total) + " words, frame has " + std::to_string(words.size())};
  if (total < words.size())
    return Rejection{RejectReason::TrailingData,
                     std::to_string(words.size() - total) + " words after a " + std::to_string(total) + "-word message"};
  return std::nullopt;
}

uint16_t knownKindCount() {
  static const uint16_t count = static_cast<uint16_t>(capnp::Schema::from<Envelope>().getUnionFields().size());
  return count;
}

tl::expected<DecodedMessage, Rejection> decodeWords(std::unique_ptr<DecodedMessage::Storage> storage,
                                                    kj::ArrayPtr<const capnp::word> words, RejectCounter& rejects,
                                                    const DecodeLimits& limits) {
  if (auto bad = checkSegmentTable(words)) return reject(rejects, bad->reason, std::move(bad->detail));
  capnp::ReaderOptions options;
  uint64_t traversal = words.size() * limits.traversalWordsPerFrameWord + 1024;
  options.traversalLimitInWords = traversal;
  options.nestingLimit = limits.nestingLimit;
  try {
    auto& reader = storage->reader.emplace(words, options);
    Envelope::Reader root = reader.getRoot<Envelope>();
    uint32_t version = root.getProtocolVersion();
    if (version != kProtocolVersion)
      return reject(rejects, RejectReason::WrongVersion,
                    "version " + std::to_string(version) + " from sender " + std::to_string(root.getSender()) +
                        ", expected " + std::to_string(kProtocolVersion));
    auto kind = static_cast<uint16_t>(root.which());
    if (kind >= knownKindCount())
      return reject(rejects, RejectReason::UnknownKind,
                    "kind " + std::to_string(kind) + " from sender " + std::to_string(root.getSender()));
    // Walks every pointer once: out-of-bounds pointers, bad far pointers and the nesting limit
    // throw here rather than in the caller's code. Pointers that alias each other make the
    // message read bigger than it is; refuse what the traversal limit would stop later anyway.
    uint64_t readWords = root.totalSize().wordCount;
    if (readWords > traversal)
      return reject(rejects, RejectReason::Malformed,
                    "message reads as " + std::to_string(readWords) + " words from a " +
                        std::to_string(words.size()) + "-word frame (aliased pointers)");
    // Every receive loop reads the run id (DecodedMessage::runId) before anything else, outside
    // tryRead: a runId pointer that is not text (a struct, a list of words, no NUL) must be
    // refused here, or its getter throws kj::Exception in the caller (found by fuzz_control_message).
    if (root.hasRunId()) root.getRunId();
    return DecodedMessage(std::move(storage), root);
  } catch (const kj::Exception& e) {
    return reject(rejects, RejectReason::Malformed, e.getDescription().cStr());
  }
}

bool isWordAligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % alignof(capnp::word) == 0; }

}  // namespace

tl::expected<DecodedMessage, Rejection> tryDecode(zmq::message_t&& frame, RejectCounter& rejects,
                                                  const DecodeLimits& limits) {
  if (auto bad = checkSize(frame.size(), limits)) return reject(rejects, bad->reason, std::move(bad->detail));
  auto storage = std::make_unique<DecodedMessage::Storage>();
  storage->frameBytes = frame.size();
  size_t wordCount = frame.size() / sizeof(capnp::word);
  kj::ArrayPtr<const capnp::word> words;
  // Move first, then look: a very small frame keeps its bytes inside the message object, so its
  // address is only final once it sits in the (heap-allocated, never moved) storage.
  storage->frame = std::move(frame);
  if (isWordAligned(storage->frame.data())) {
    words = kj::arrayPtr(static_cast<const capnp::word*>(storage->frame.data()), wordCount);
  } else {
    storage->words = kj::heapArray<capnp::word>(wordCount);
    std::memcpy(storage->words.begin(), storage->frame.data(), storage->frame.size());
    storage->frame.rebuild();  // the copy is all that is needed from here on
    storage->copied = true;
    words = storage->words.asPtr();
  }
  return decodeWords(std::move(storage), words, rejects, limits);
}

tl::expected<DecodedMessage, Rejection> tryDecode(kj::Array<capnp::word>&& words, RejectCounter& rejects,
                                                  const DecodeLimits& limits) {
  if (auto bad = checkSize(words.size() * sizeof(capnp::word), limits))
    return reject(rejects, bad->reason, std::move(bad->detail));
  auto storage = std::make_unique<DecodedMessage::Storage>();
  storage->frameBytes = words.size() * sizeof(capnp::word);
  storage->words = std::move(words);
  kj::ArrayPtr<const capnp::word> view = storage->words.asPtr();
  return decodeWords(std::move(storage), view, rejects, limits);
}

tl::expected<DecodedMessage, Rejection> tryDecode(std::span<const std::byte> bytes, RejectCounter& rejects,
                                                  const DecodeLimits& limits) {
  if (auto bad = checkSize(bytes.size(), limits)) return reject(rejects, bad->reason, std::move(bad->detail));
  auto storage = std::make_unique<DecodedMessage::Storage>();
  storage->frameBytes = bytes.size();
  storage->words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(storage->words.begin(), bytes.data(), bytes.size());
  storage->copied = !isWordAligned(bytes.data());
  kj::ArrayPtr<const capnp::word> view = storage->words.asPtr();
  return decodeWords(std::move(storage), view, rejects, limits);
}

namespace detail {

std::optional<Rejection> readChecked(const DecodedMessage& message, Envelope::Which expected, ReadFn read,
                                     void* out) {
  if (message.kind() != expected)
    return Rejection{RejectReason::UnexpectedKind, std::string("expected ") + kindName(expected) + ", got " +
                                                       kindName(message.kind()) + " from sender " +
                                                       std::to_string(message.sender())};
  try {
    read(message.envelope(), out);
    return std::nullopt;
  } catch (const kj::Exception& e) {
    return Rejection{RejectReason::Malformed, e.getDescription().cStr()};
  } catch (const std::bad_alloc&) {
    throw;  // the process, not the message, is in trouble
  } catch (const std::exception& e) {
    return Rejection{RejectReason::InvalidContent, e.what()};
  }
}

}  // namespace detail

}  // namespace wafersim::proto
