// Who may call the coordinator's API (ARCHITECTURE.md contract 12: nothing changes without a
// credential). Bearer tokens, each with a name and a role; a role allows what the roles below it do.
//
//   read    GET routes, when reads are protected (AccessOptions::protectReads); else anyone reads
//   submit  submit runs and sweeps; cancel the runs and sweeps it submitted
//   admin   cancel any run or sweep; manage the node pool (drain a node)
//
// Contract:
//   - Tokens come from a file (`--tokens FILE`, one "ROLE NAME TOKEN" a line, '#' comments; the file
//     must not be readable by group or others) and from the environment (WAFERSIM_API_TOKENS, the
//     same lines separated by newlines or ';'). With access on and no token from either, the service
//     makes DATA/api-tokens (mode 0600) with one admin token, or reads the one made before.
//   - A token is 16 to 256 printable ASCII characters without spaces. Only its SHA-256 is kept; a
//     presented token is hashed and compared in constant time with every known one.
//   - Every error names the file and line (or the environment variable and entry).
//   - With access off (the local `wafersim run`, `wafersim serve --no-auth`), everyone is admin.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wafersim {

enum class Role { Read = 0, Submit = 1, Admin = 2 };

std::string_view toString(Role role);
// "read", "submit", "admin"; throws Error{InvalidConfig} naming `where` otherwise.
Role parseRole(std::string_view text, std::string_view where);

struct Principal {
  std::string name;  // who submitted: kept on runs and sweeps as their owner
  Role role = Role::Read;
};

struct AccessOptions {
  bool enabled = true;        // off: no token needed, everyone is admin
  bool protectReads = false;  // reads need a read token too
  std::string tokenFile;      // "": only the environment (or the generated file)
  // Entries taken as if from WAFERSIM_API_TOKENS (tests; empty: the environment's).
  std::optional<std::string> environment;
};

class AccessControl {
 public:
  // Loads the tokens (see the contract). `dataDir` is where api-tokens is made when none is given.
  // Throws Error{InvalidConfig} naming what is wrong.
  AccessControl(const AccessOptions& options, const std::filesystem::path& dataDir);
  // Access off: everyone is admin.
  AccessControl() = default;

  bool enabled() const { return enabled_; }
  bool protectsReads() const { return protectReads_; }
  // The file the service made or read when no token was configured ("" otherwise): printed at start.
  const std::filesystem::path& generatedFile() const { return generated_; }
  size_t tokens() const { return tokens_.size(); }

  // The principal of an "Authorization: Bearer TOKEN" header value; nullopt for an empty, malformed
  // or unknown token. With access off, an admin named "local".
  std::optional<Principal> authenticate(std::string_view authorization) const;

 private:
  struct Token {
    std::array<uint8_t, 32> hash;
    Principal who;
  };
  void addLine(std::string_view line, const std::string& where);

  bool enabled_ = false;
  bool protectReads_ = false;
  std::filesystem::path generated_;
  std::vector<Token> tokens_;
};

// A new random token: 32 bytes from the system's CSPRNG (getrandom), 64 hex digits.
std::string newToken();

}  // namespace wafersim
