// CURVE key files (protocol/curve_keys.h): keygen's output and its refusal to overwrite, every
// parsing error named with its file and line, the refusal of a secret key others may read, and the
// wire checks of the key fields (Hello.curveKey, Assign.dataKeys, Assign.placementKey).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/codec.h"
#include "protocol/curve_keys.h"
#include "sim/error.h"

namespace wafersim::proto {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "wafersim-curve-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const fs::path& p, const std::string& text, mode_t mode = 0600) {
  std::ofstream(p) << text;
  ::chmod(p.c_str(), mode);
}

// The message of the InvalidConfig error `f` throws ("" when it throws none).
template <typename F>
std::string errorOf(F f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), wafersim::ErrorKind::InvalidConfig) << e.what();
    return e.what();
  }
  return "";
}

TEST(CurveKeys, Z85KeysAreFortyCharactersOfTheAlphabet) {
  const CurveKeyPair k = generateCurveKeyPair();
  EXPECT_TRUE(isZ85Key(k.publicKey));
  EXPECT_TRUE(isZ85Key(k.secretKey));
  EXPECT_EQ(curvePublicKeyOf(k.secretKey), k.publicKey);
  EXPECT_FALSE(isZ85Key(""));
  EXPECT_FALSE(isZ85Key(k.publicKey.substr(1)));
  EXPECT_FALSE(isZ85Key(k.publicKey + "a"));
  EXPECT_FALSE(isZ85Key(std::string(39, 'a') + " "));   // space is not in the alphabet
  EXPECT_FALSE(isZ85Key(std::string(39, 'a') + "\""));  // nor is a quote
  EXPECT_FALSE(isZ85Key(std::string(40, '#')));         // every group above 2^32
  EXPECT_TRUE(isZ85Key(std::string(40, '0')));
}

TEST(CurveKeys, KeygenWritesBothFilesSecretOnlyForTheOwner) {
  TempDir dir;
  const std::string prefix = (dir.path / "coordinator").string();
  const CurveKeyPair k = generateCurveKeyPair();
  const auto [key, pub] = writeCurveKeyFiles(prefix, k);
  EXPECT_EQ(key, prefix + ".key");
  EXPECT_EQ(pub, prefix + ".pub");
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(slurp(key), HasSubstr("public-key = \"" + k.publicKey + "\"\n"));
  EXPECT_THAT(slurp(key), HasSubstr("secret-key = \"" + k.secretKey + "\"\n"));
  EXPECT_THAT(slurp(pub), HasSubstr("public-key = \"" + k.publicKey + "\"\n"));
  EXPECT_THAT(slurp(pub), ::testing::Not(HasSubstr(k.secretKey)));
  const CurveKeyPair back = readCurveKeyFile(key);
  EXPECT_EQ(back.publicKey, k.publicKey);
  EXPECT_EQ(back.secretKey, k.secretKey);
  EXPECT_EQ(readCurvePublicKey(pub), k.publicKey);
  EXPECT_EQ(readCurvePublicKey(key), k.publicKey);
}

TEST(CurveKeys, KeygenRefusesToOverwrite) {
  TempDir dir;
  const std::string prefix = (dir.path / "node").string();
  writeCurveKeyFiles(prefix, generateCurveKeyPair());
  const std::string before = slurp(prefix + ".key");
  EXPECT_THAT(errorOf([&] { writeCurveKeyFiles(prefix, generateCurveKeyPair()); }),
              HasSubstr("node.key exists; refusing to overwrite"));
  EXPECT_EQ(slurp(prefix + ".key"), before);
  // Only the public half there: still refused, and no secret file left behind.
  const std::string other = (dir.path / "other").string();
  write(other + ".pub", "public-key = \"" + generateCurveKeyPair().publicKey + "\"\n", 0644);
  EXPECT_THAT(errorOf([&] { writeCurveKeyFiles(other, generateCurveKeyPair()); }), HasSubstr("other.pub exists"));
  EXPECT_FALSE(fs::exists(other + ".key"));
}

TEST(CurveKeys, KeyFileErrorsNameTheFileAndLine) {
  TempDir dir;
  const CurveKeyPair k = generateCurveKeyPair();
  const fs::path f = dir.path / "k.key";
  EXPECT_THAT(errorOf([&] { readCurveKeyFile((dir.path / "missing.key").string()); }),
              HasSubstr("missing.key: No such file"));
  write(f, "public-key = \"" + k.publicKey.substr(0, 39) + "\"\nsecret-key = \"" + k.secretKey + "\"\n");
  EXPECT_THAT(errorOf([&] { readCurveKeyFile(f.string()); }),
              HasSubstr("k.key:1: public-key is not a 40-character Z85 key (39 characters)"));
  write(f, "# mine\n\npublic-key = \"" + k.publicKey + "\"\nsecret-key = \"" + std::string(39, 'x') + " \"\n");
  EXPECT_THAT(errorOf([&] { readCurveKeyFile(f.string()); }), HasSubstr("k.key:4: secret-key is not a 40-character Z85 key"));
  write(f, "public-key = \"" + k.publicKey + "\"\nprivate-key = \"" + k.secretKey + "\"\n");
  EXPECT_THAT(errorOf([&] { readCurveKeyFile(f.string()); }), HasSubstr("k.key:2: unknown name \"private-key\""));
  // (Not the random key itself: Z85 has '=', and a key with one parses as an unknown name.)
  write(f, "public-key = \"" + k.publicKey + "\"\nsecret-key-without-a-value\n");
  EXPECT_THAT(errorOf([&] { readCurveKeyFile(f.string()); }), HasSubstr("k.key:2: expected name = \"value\""));
  write(f, "public-key = \"" + k.publicKey + "\"\n");
  EXPECT_THAT(errorOf([&] { readCurveKeyFile(f.string()); }), HasSubstr("k.key: no secret-key line"));
  const CurveKeyPair other = generateCurveKeyPair();
  write(f, "public-key = \"" + k.publicKey + "\"\nsecret-key = \"" + other.secretKey + "\"\n");
  EXPECT_THAT(errorOf([&] { readCurveKeyFile(f.string()); }),
              HasSubstr("the secret key does not belong to the public key"));
}

TEST(CurveKeys, ASecretKeyOthersMayReadIsRefused) {
  TempDir dir;
  const std::string prefix = (dir.path / "n").string();
  writeCurveKeyFiles(prefix, generateCurveKeyPair());
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ::chmod((prefix + ".key").c_str(), mode);
    const std::string e = errorOf([&] { readCurveKeyFile(prefix + ".key"); });
    EXPECT_THAT(e, HasSubstr("its mode is 0" + std::to_string(mode / 64) + std::to_string(mode / 8 % 8) +
                             std::to_string(mode % 8)));
    EXPECT_THAT(e, HasSubstr("chmod 600 " + prefix + ".key"));
  }
  ::chmod((prefix + ".key").c_str(), 0400);
  EXPECT_NO_THROW(readCurveKeyFile(prefix + ".key"));
  // The public key of a secret key file is read whatever its mode (it is not the secret).
  ::chmod((prefix + ".key").c_str(), 0644);
  EXPECT_NO_THROW(readCurvePublicKey(prefix + ".key"));
}

TEST(CurveKeys, AllowFilesTakeBareKeysPubLinesAndComments) {
  TempDir dir;
  const CurveKeyPair a = generateCurveKeyPair(), b = generateCurveKeyPair(), c = generateCurveKeyPair();
  const fs::path f = dir.path / "allowed";
  write(f,
        "# the cluster's nodes\n\n  " + a.publicKey + "   # node-0\n" + "public-key = \"" + b.publicKey + "\"\n" +
            c.publicKey + "\n# " + std::string(60, '=') + "\n",
        0644);
  EXPECT_EQ(readCurveAllowFile(f.string()), (std::set<std::string>{a.publicKey, b.publicKey, c.publicKey}));
  write(f, a.publicKey + "\n" + a.publicKey.substr(0, 38) + "\n", 0644);
  EXPECT_THAT(errorOf([&] { readCurveAllowFile(f.string()); }),
              HasSubstr("allowed:2: not a 40-character Z85 key (38 characters)"));
  write(f, a.publicKey + " node-0\n", 0644);
  EXPECT_THAT(errorOf([&] { readCurveAllowFile(f.string()); }), HasSubstr("allowed:1: text after the key"));
  write(f, "secret-key = \"" + a.secretKey + "\"\n", 0644);
  EXPECT_THAT(errorOf([&] { readCurveAllowFile(f.string()); }), HasSubstr("allowed:1: a secret key"));
  EXPECT_THAT(errorOf([&] { readCurveAllowFile((dir.path / "none").string()); }), HasSubstr("CURVE allow file"));
}

TEST(CurveKeys, LoadedSecurityAllowsItsOwnKeyAndDefaultsTheServerKeyToIt) {
  TempDir dir;
  const std::string me = (dir.path / "me").string(), coordinator = (dir.path / "coordinator").string();
  writeCurveKeyFiles(me, generateCurveKeyPair());
  writeCurveKeyFiles(coordinator, generateCurveKeyPair());
  EXPECT_EQ(loadCurveSecurity({}), nullptr);
  auto own = loadCurveSecurity({me + ".key", "", ""});
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(own->allowed, std::set<std::string>{own->own.publicKey});
  EXPECT_EQ(own->coordinatorKey, own->own.publicKey);
  write(dir.path / "allowed", readCurvePublicKey(coordinator + ".pub") + "\n", 0644);
  auto two = loadCurveSecurity({me + ".key", (dir.path / "allowed").string(), coordinator + ".pub"});
  EXPECT_EQ(two->allowed.size(), 2u);
  EXPECT_EQ(two->coordinatorKey, readCurvePublicKey(coordinator + ".pub"));
  EXPECT_THAT(errorOf([&] { loadCurveSecurity({"", (dir.path / "allowed").string(), ""}); }),
              HasSubstr("without a key file"));
}

// The wire: a key field holds a key or nothing.
TEST(CurveKeys, WireKeyFieldsAreChecked) {
  const CurveKeyPair k = generateCurveKeyPair();
  RejectCounter rejects;
  HelloMessage hello;
  hello.name = "n";
  hello.curveKey = k.publicKey;
  auto decoded = tryDecode(encode(0, hello), rejects);
  ASSERT_TRUE(decoded);
  auto back = tryRead<HelloMessage>(*decoded, rejects);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->curveKey, k.publicKey);
  hello.curveKey = "not a key";
  decoded = tryDecode(encode(0, hello), rejects);
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(tryRead<HelloMessage>(*decoded, rejects));

  AssignMessage assign;
  assign.partitionCount = 2;
  assign.partition = 1;
  assign.dataEndpoints = {"tcp://a:1", "tcp://b:2"};
  assign.dataKeys = {k.publicKey, generateCurveKeyPair().publicKey};
  assign.placementKey = k.publicKey;
  decoded = tryDecode(encode(0, assign), rejects);
  auto a = tryRead<AssignMessage>(*decoded, rejects);
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a->dataKeys, assign.dataKeys);
  EXPECT_EQ(a->placementKey, k.publicKey);
  for (auto bad : {std::vector<std::string>{k.publicKey}, std::vector<std::string>{k.publicKey, "x"}}) {
    assign.dataKeys = bad;
    decoded = tryDecode(encode(0, assign), rejects);
    EXPECT_FALSE(tryRead<AssignMessage>(*decoded, rejects));
  }
  assign.dataKeys = {};
  assign.placementKey = k.publicKey.substr(1);
  decoded = tryDecode(encode(0, assign), rejects);
  EXPECT_FALSE(tryRead<AssignMessage>(*decoded, rejects));
}

}  // namespace
}  // namespace wafersim::proto
