#include "coordinator/access.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "coordinator/content_hash.h"
#include "sim/error.h"

namespace wafersim {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMinTokenLength = 16;
constexpr size_t kMaxTokenLength = 256;

std::array<uint8_t, 32> hashOf(std::string_view token) {
  Sha256 h;
  h.update(token);
  return h.finish();
}

bool equalInConstantTime(const std::array<uint8_t, 32>& a, const std::array<uint8_t, 32>& b) {
  uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::string readTokenFile(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) fail(ErrorKind::InvalidConfig, "token file ", file.string(), ": cannot be read");
  if (!S_ISREG(st.st_mode)) fail(ErrorKind::InvalidConfig, "token file ", file.string(), ": not a regular file");
  // Like ssh with a private key: a file others can read gives its tokens away.
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    fail(ErrorKind::InvalidConfig, "token file ", file.string(), ": readable by group or others (mode ",
         std::oct, (st.st_mode & 0777), "); chmod 600 it");
  std::ifstream in(file);
  if (!in) fail(ErrorKind::InvalidConfig, "token file ", file.string(), ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string_view toString(Role role) {
  switch (role) {
    case Role::Read: return "read";
    case Role::Submit: return "submit";
    case Role::Admin: return "admin";
  }
  return "read";
}

Role parseRole(std::string_view text, std::string_view where) {
  if (text == "read") return Role::Read;
  if (text == "submit") return Role::Submit;
  if (text == "admin") return Role::Admin;
  fail(ErrorKind::InvalidConfig, where, ": role \"", text, "\" is not read, submit or admin");
}

std::string newToken() {
  std::array<uint8_t, 32> bytes{};
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) fail(ErrorKind::Internal, "getrandom failed: cannot make a token");
    got += static_cast<size_t>(n);
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

void AccessControl::addLine(std::string_view line, const std::string& where) {
  line = trim(line);
  if (line.empty() || line.front() == '#') return;
  const auto w = words(line);
  if (w.size() != 3) fail(ErrorKind::InvalidConfig, where, ": expected \"ROLE NAME TOKEN\", got ", w.size(), " word(s)");
  Token t;
  t.who.role = parseRole(w[0], where);
  t.who.name = std::string(w[1]);
  const std::string_view token = w[2];
  if (token.size() < kMinTokenLength || token.size() > kMaxTokenLength)
    fail(ErrorKind::InvalidConfig, where, ": the token of ", t.who.name, " has ", token.size(), " characters (", kMinTokenLength,
         " to ", kMaxTokenLength, " needed)");
  for (char c : token)
    if (c < 0x21 || c > 0x7e) fail(ErrorKind::InvalidConfig, where, ": the token of ", t.who.name, " has a character that is not printable ASCII");
  t.hash = hashOf(token);
  for (const Token& other : tokens_)
    if (equalInConstantTime(other.hash, t.hash))
      fail(ErrorKind::InvalidConfig, where, ": the token of ", t.who.name, " is also ", other.who.name, "'s");
  tokens_.push_back(std::move(t));
}

AccessControl::AccessControl(const AccessOptions& options, const fs::path& dataDir)
    : enabled_(options.enabled), protectReads_(options.enabled && options.protectReads) {
  if (!enabled_) return;
  if (!options.tokenFile.empty()) {
    std::istringstream lines(readTokenFile(options.tokenFile));
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) addLine(line, options.tokenFile + ":" + std::to_string(n));
  }
  std::string env;
  if (options.environment) {
    env = *options.environment;
  } else if (const char* e = std::getenv("WAFERSIM_API_TOKENS")) {
    env = e;
  }
  {
    size_t n = 0, start = 0;
    while (start <= env.size()) {
      size_t end = env.find_first_of(";\n", start);
      if (end == std::string::npos) end = env.size();
      addLine(std::string_view(env).substr(start, end - start), "WAFERSIM_API_TOKENS entry " + std::to_string(++n));
      start = end + 1;
    }
  }
  if (!tokens_.empty()) return;
  // No token given: one admin token in the data folder, made once and kept.
  generated_ = dataDir / "api-tokens";
  std::error_code ec;
  fs::create_directories(dataDir, ec);
  if (!fs::exists(generated_)) {
    const std::string text = "# wafersim API tokens: ROLE NAME TOKEN (docs/security.md)\nadmin admin " + newToken() + "\n";
    const int fd = ::open(generated_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) fail(ErrorKind::InvalidConfig, "token file ", generated_.string(), ": cannot be created");
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) fail(ErrorKind::InvalidConfig, "token file ", generated_.string(), ": cannot be written");
  }
  std::istringstream lines(readTokenFile(generated_));
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) addLine(line, generated_.string() + ":" + std::to_string(n));
  if (tokens_.empty()) fail(ErrorKind::InvalidConfig, "token file ", generated_.string(), ": has no token");
}

std::optional<Principal> AccessControl::authenticate(std::string_view authorization) const {
  if (!enabled_) return Principal{"local", Role::Admin};
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i + 1 < kScheme.size(); ++i)  // the scheme is case-insensitive (RFC 7235)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != std::tolower(static_cast<unsigned char>(kScheme[i])))
      return std::nullopt;
  if (authorization[kScheme.size() - 1] != ' ') return std::nullopt;
  const std::string_view token = trim(authorization.substr(kScheme.size()));
  if (token.size() < kMinTokenLength || token.size() > kMaxTokenLength) return std::nullopt;
  const auto presented = hashOf(token);
  const Token* found = nullptr;
  for (const Token& t : tokens_)  // every token compared: the time does not say which matched
    if (equalInConstantTime(t.hash, presented)) found = &t;
  if (!found) return std::nullopt;
  return found->who;
}

}  // namespace wafersim
