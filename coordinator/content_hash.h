// SHA-256 (FIPS 180-4), for content addresses: the result cache's run identity, the hashes of the
// files a scenario reads, the build's identity. Written from the standard; checked against its
// published test vectors.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace wafersim {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  std::array<uint8_t, 32> finish();  // the object is spent afterwards
  std::string finishHex();           // 64 lowercase hex digits

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

std::string sha256Hex(std::string_view data);
// Throws Error{InvalidConfig} naming the file when it cannot be read.
std::string sha256File(const std::filesystem::path& file);

}  // namespace wafersim
