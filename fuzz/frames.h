// What the Cap'n Proto harnesses (control_message, data_message, placement_message) share: a
// frame decoded and its body read the way a receive loop does, with codec.h's contract checked:
//  - tryDecode and tryRead never throw; a rejection is returned and counted exactly once, an
//    acceptance counts nothing;
//  - a body that was accepted survives a round trip: encoded again (same sender, same run id) it
//    decodes and reads back. A value the receiver accepts but could not send itself is a finding.
// Any breach throws Finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "fuzz/rejections.h"
#include "fuzz/targets.h"
#include "protocol/codec.h"
#include "protocol/placement_convert.h"

namespace wafersim::fuzz {

// tryDecode of a copy of the bytes (any alignment, as a ZeroMQ frame may have).
std::optional<proto::DecodedMessage> decodeFrame(const char* target, const uint8_t* data, size_t size,
                                                 proto::RejectCounter& rejects);

// Checks the count after a tryRead that gave `accepted`; `what` names the kind in findings.
void checkCounted(const char* target, const char* what, bool accepted, uint64_t before, const proto::RejectCounter& rejects,
                  const proto::Rejection* rejection);

// Encodes `value` as one frame from `sender` of run `runId`, decodes it and reads it back as T.
template <typename T>
void roundTrip(const char* target, uint32_t sender, const std::string& runId, const T& value) {
  proto::RejectCounter rejects;
  std::optional<proto::DecodedMessage> again;
  try {
    proto::Encoder encoder(0);
    encoder.setRunId(runId);
    auto decoded = proto::tryDecode(encoder.encodeWords(sender, value), rejects);
    if (!decoded)
      throw Finding(std::string(target) + ": an accepted " + proto::kindName(proto::MessageKind<T>::value) +
                    " does not decode once encoded again: " + decoded.error().describe());
    again.emplace(std::move(*decoded));
  } catch (const Finding&) {
    throw;
  } catch (const std::exception& e) {
    throw Finding(std::string(target) + ": encoding an accepted " + proto::kindName(proto::MessageKind<T>::value) +
                  " threw " + typeName(e) + ": " + e.what());
  }
  T back{};
  if (auto read = proto::tryRead(*again, back, rejects); !read)
    throw Finding(std::string(target) + ": an accepted " + proto::kindName(proto::MessageKind<T>::value) +
                  " is refused once encoded again: " + read.error().describe());
}

// tryRead<T> with the checks above; the value when accepted.
template <typename T>
std::optional<T> readFrame(const char* target, const proto::DecodedMessage& message, proto::RejectCounter& rejects) {
  const uint64_t before = rejects.total();
  T value{};
  tl::expected<void, proto::Rejection> read;
  try {
    read = proto::tryRead(message, value, rejects);
  } catch (const std::exception& e) {
    throw Finding(std::string(target) + ": tryRead<" + proto::kindName(proto::MessageKind<T>::value) + "> threw " +
                  typeName(e) + ": " + e.what());
  }
  checkCounted(target, proto::kindName(proto::MessageKind<T>::value), read.has_value(), before, rejects,
               read ? nullptr : &read.error());
  if (!read) return std::nullopt;
  roundTrip(target, message.sender(), message.runId(), value);
  return value;
}

}  // namespace wafersim::fuzz
