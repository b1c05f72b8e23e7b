// Tokens and roles (coordinator/access.h): where they come from, what is refused and how it is named,
// and who a presented token is.
#include "coordinator/access.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"
#include "tests/coordinator/service_support.h"

namespace wafersim::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kAlice = "alice-token-000000000001";
const std::string kBob = "bob-token-0000000000000002";
const std::string kRoot = "root-token-000000000000003";

fs::path writeFile(const fs::path& file, const std::string& text, mode_t mode = 0600) {
  std::ofstream(file) << text;
  ::chmod(file.c_str(), mode);
  return file;
}


AccessOptions fromFile(const fs::path& file) {
  AccessOptions o;
  o.tokenFile = file.string();
  o.environment = "";
  return o;
}

TEST(Access, ATokenFileGivesEachTokenItsNameAndRole) {
  TempDir dir("wafersim-access");
  const fs::path file = writeFile(dir.path / "tokens", "# who may call\n\nread alice " + kAlice + "\n  submit bob " + kBob +
                                                           "  \nadmin root " + kRoot + "\n");
  const AccessControl access(fromFile(file), dir.path);
  EXPECT_TRUE(access.enabled());
  EXPECT_EQ(access.tokens(), 3u);
  EXPECT_TRUE(access.generatedFile().empty());
  const auto alice = access.authenticate("Bearer " + kAlice);
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, Role::Read);
  EXPECT_EQ(access.authenticate("bearer " + kBob)->role, Role::Submit);  // the scheme is case-insensitive
  EXPECT_EQ(access.authenticate("Bearer   " + kRoot + " ")->name, "root");
  // Unknown, truncated, other schemes, nothing.
  EXPECT_FALSE(access.authenticate("Bearer " + kRoot.substr(0, kRoot.size() - 1)));
  EXPECT_FALSE(access.authenticate("Bearer " + kRoot + "x"));
  EXPECT_FALSE(access.authenticate("Basic " + kRoot));
  EXPECT_FALSE(access.authenticate(kRoot));
  EXPECT_FALSE(access.authenticate("Bearer"));
  EXPECT_FALSE(access.authenticate("Bearer "));
  EXPECT_FALSE(access.authenticate(""));
  // Roles are ordered: each allows what the ones below it do.
  EXPECT_LT(Role::Read, Role::Submit);
  EXPECT_LT(Role::Submit, Role::Admin);
}

TEST(Access, TheEnvironmentAddsTokensSeparatedBySemicolonsOrNewlines) {
  TempDir dir("wafersim-access");
  AccessOptions o;
  o.environment = "submit ci " + kBob + ";admin ops " + kRoot + "\nread dash " + kAlice;
  const AccessControl access(o, dir.path);
  EXPECT_EQ(access.tokens(), 3u);
  EXPECT_EQ(access.authenticate("Bearer " + kAlice)->name, "dash");
  EXPECT_TRUE(access.generatedFile().empty());
  EXPECT_FALSE(fs::exists(dir.path / "api-tokens"));
}

TEST(Access, WithNoTokenGivenOneAdminTokenIsMadeOnceInTheDataFolderReadableOnlyByItsOwner) {
  TempDir dir("wafersim-access");
  AccessOptions o;
  o.environment = "";
  const AccessControl first(o, dir.path / "data");
  ASSERT_EQ(first.generatedFile(), dir.path / "data" / "api-tokens");
  struct stat st {};
  ASSERT_EQ(::stat(first.generatedFile().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(first.generatedFile());
  std::string line, token;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') token = line.substr(line.rfind(' ') + 1);
  ASSERT_EQ(token.size(), 64u);
  EXPECT_EQ(first.authenticate("Bearer " + token)->role, Role::Admin);
  // The next start reads the same token rather than making another.
  const AccessControl second(o, dir.path / "data");
  EXPECT_TRUE(second.authenticate("Bearer " + token));
  EXPECT_NE(newToken(), newToken());
}

TEST(Access, WithAccessOffEveryoneIsAnAdminAndNoFileIsMade) {
  TempDir dir("wafersim-access");
  AccessOptions o;
  o.enabled = false;
  o.protectReads = true;
  const AccessControl access(o, dir.path);
  EXPECT_FALSE(access.enabled());
  EXPECT_FALSE(access.protectsReads());
  EXPECT_EQ(access.authenticate("")->role, Role::Admin);
  EXPECT_FALSE(fs::exists(dir.path / "api-tokens"));
}

TEST(Access, EveryBadEntryIsNamedByFileAndLine) {
  TempDir dir("wafersim-access");
  const auto refused = [&](const std::string& text) {
    return invalidConfigOf([&] { AccessControl(fromFile(writeFile(dir.path / "tokens", text)), dir.path); });
  };
  EXPECT_THAT(refused("admin root " + kRoot + "\nowner bob " + kBob + "\n"),
              HasSubstr((dir.path / "tokens").string() + ":2: role \"owner\" is not read, submit or admin"));
  EXPECT_THAT(refused("admin root\n"), HasSubstr(":1: expected \"ROLE NAME TOKEN\", got 2 word(s)"));
  EXPECT_THAT(refused("admin root short\n"), HasSubstr(":1: the token of root has 5 characters (16 to 256 needed)"));
  EXPECT_THAT(refused("admin root " + kRoot + "\nread again " + kRoot + "\n"),
              HasSubstr(":2: the token of again is also root's"));
  EXPECT_THAT(refused("admin root " + kRoot + "\xc3\xa9\n"), HasSubstr("not printable ASCII"));
  // A token file others can read gives its tokens away.
  const fs::path open = writeFile(dir.path / "open", "admin root " + kRoot + "\n", 0644);
  EXPECT_THAT(invalidConfigOf([&] { AccessControl(fromFile(open), dir.path); }),
              HasSubstr("readable by group or others (mode 644); chmod 600 it"));
  EXPECT_THAT(invalidConfigOf([&] { AccessControl(fromFile(dir.path / "absent"), dir.path); }), HasSubstr("cannot be read"));
  EXPECT_THAT(invalidConfigOf([&] { AccessControl(fromFile(dir.path), dir.path); }), HasSubstr("not a regular file"));
  AccessOptions env;
  env.environment = "admin root " + kRoot + ";submit bob";
  EXPECT_THAT(invalidConfigOf([&] { AccessControl(env, dir.path); }), HasSubstr("WAFERSIM_API_TOKENS entry 2: expected"));
  EXPECT_THAT(invalidConfigOf([] { parseRole("root", "here"); }), HasSubstr("here: role \"root\""));
}

}  // namespace
}  // namespace wafersim::testing
