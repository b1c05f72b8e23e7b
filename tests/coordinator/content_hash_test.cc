// SHA-256 (coordinator/content_hash.h): the FIPS 180-2 / NIST example vectors, the padding
// boundaries, incremental updates equal one shot at every split, files hash like their bytes, and
// an unreadable file is Error{InvalidConfig} naming it.
#include "coordinator/content_hash.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"

namespace wafersim {
namespace {

using ::testing::HasSubstr;

TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                      "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, OneMillionA) {
  const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  EXPECT_EQ(sha256Hex(std::string(1000000, 'a')), expected);
  // The same message in uneven pieces.
  Sha256 hash;
  const std::string piece(997, 'a');
  size_t left = 1000000;
  for (; left >= piece.size(); left -= piece.size()) hash.update(piece);
  hash.update(std::string(left, 'a'));
  EXPECT_EQ(hash.finishHex(), expected);
}

// Lengths either side of where the padding needs a second block (55/56 bytes into a block).
TEST(Sha256, PaddingBoundaries) {
  EXPECT_EQ(sha256Hex(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(sha256Hex(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(sha256Hex(std::string(63, 'a')), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  EXPECT_EQ(sha256Hex(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(sha256Hex(std::string(65, 'a')), "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0");
  EXPECT_EQ(sha256Hex(std::string(119, 'a')), "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
  EXPECT_EQ(sha256Hex(std::string(120, 'a')), "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
}

// 130 bytes of every kind (zeros included): two full blocks and a tail.
std::string message130() {
  std::string message;
  for (int i = 0; i < 130; ++i) message.push_back(static_cast<char>(i * 7 % 256));
  return message;
}

TEST(Sha256, IncrementalEqualsOneShotAtEverySplit) {
  const std::string message = message130();
  const std::string oneShot = sha256Hex(message);
  EXPECT_EQ(oneShot, "e3346da76ca302cbddbd3e4f0ed5f2e3bce1630152e22ffb88bbdf720489895b");
  for (size_t split = 0; split <= message.size(); ++split) {
    Sha256 hash;
    hash.update(message.data(), split);
    hash.update(message.data() + split, message.size() - split);
    EXPECT_EQ(hash.finishHex(), oneShot) << "split at " << split;
  }
  // And byte by byte.
  Sha256 hash;
  for (char c : message) hash.update(&c, 1);
  EXPECT_EQ(hash.finishHex(), oneShot);
}

TEST(Sha256, FinishGivesTheRawDigest) {
  Sha256 hash;
  hash.update("abc");
  const std::array<uint8_t, 32> digest = hash.finish();
  EXPECT_EQ(digest[0], 0xba);
  EXPECT_EQ(digest[1], 0x78);
  EXPECT_EQ(digest[31], 0xad);
}

TEST(Sha256, SpentObjectRefusesUse) {
  Sha256 hash;
  hash.finish();
  EXPECT_THROW(hash.update("x"), Error);
  EXPECT_THROW(hash.finish(), Error);
}

class Sha256File : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& content) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("content_hash_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(Sha256File, EqualsStringHash) {
  // Sizes around the 64 KiB read chunk, and a file of several chunks.
  for (size_t size : {size_t{0}, size_t{3}, size_t{65535}, size_t{65536}, size_t{65537}, size_t{200000}}) {
    std::string content;
    for (size_t i = 0; i < size; ++i) content.push_back(static_cast<char>((i * 131 + i / 7) % 256));
    EXPECT_EQ(sha256File(write("f" + std::to_string(size), content)), sha256Hex(content)) << size << " bytes";
  }
  EXPECT_EQ(sha256File(write("abc", "abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(Sha256File, MissingFileIsInvalidConfigNamingIt) {
  const std::filesystem::path missing = dir_ / "no_such_file.yaml";
  try {
    sha256File(missing);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_THAT(e.what(), HasSubstr(missing.string()));
    EXPECT_THAT(e.what(), HasSubstr("No such file"));
  }
}

TEST_F(Sha256File, DirectoryIsInvalidConfigNamingIt) {
  try {
    sha256File(dir_);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
    EXPECT_THAT(e.what(), HasSubstr(dir_.string()));
  }
}

}  // namespace
}  // namespace wafersim
