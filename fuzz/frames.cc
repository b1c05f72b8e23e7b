#include "fuzz/frames.h"

#include <span>

namespace wafersim::fuzz {

std::optional<proto::DecodedMessage> decodeFrame(const char* target, const uint8_t* data, size_t size,
                                                 proto::RejectCounter& rejects) {
  const uint64_t before = rejects.total();
  tl::expected<proto::DecodedMessage, proto::Rejection> decoded = tl::unexpected(proto::Rejection{});
  try {
    decoded = proto::tryDecode(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), rejects);
  } catch (const std::exception& e) {
    throw Finding(std::string(target) + ": tryDecode threw " + typeName(e) + ": " + e.what());
  }
  checkCounted(target, "frame", decoded.has_value(), before, rejects, decoded ? nullptr : &decoded.error());
  if (!decoded) return std::nullopt;
  return std::move(*decoded);
}

void checkCounted(const char* target, const char* what, bool accepted, uint64_t before, const proto::RejectCounter& rejects,
                  const proto::Rejection* rejection) {
  const uint64_t expected = accepted ? before : before + 1;
  if (rejects.total() != expected)
    throw Finding(std::string(target) + ": a " + (accepted ? "accepted " : "rejected ") + what + " changed the reject count by " +
                  std::to_string(rejects.total() - before) + " (" + (rejection ? rejection->describe() : "") + ")");
  if (rejection && rejects.count(rejection->reason) == 0)
    throw Finding(std::string(target) + ": a " + what + " rejected as " + rejection->describe() + " counted another reason");
}

}  // namespace wafersim::fuzz
