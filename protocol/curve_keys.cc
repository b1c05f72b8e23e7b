#include "protocol/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include <zmq.h>

#include "sim/error.h"

namespace wafersim::proto {
namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

std::vector<std::string> readLines(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::InvalidConfig, what, " ", path, ": cannot read it (", std::strerror(errno), ")");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// `name = "value"` -> (name, value); nothing when the line is not of that shape.
std::optional<std::pair<std::string, std::string>> assignment(const std::string& line) {
  const auto eq = line.find('=');
  if (eq == std::string::npos) return std::nullopt;
  std::string name = trim(std::string_view(line).substr(0, eq));
  std::string value = trim(std::string_view(line).substr(eq + 1));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  if (name.empty()) return std::nullopt;
  return std::make_pair(name, value);
}

// The `public-key` and `secret-key` lines of a key file.
CurveKeyPair parseKeyFile(const std::string& path, const char* what, bool wantSecret) {
  CurveKeyPair keys;
  const std::vector<std::string> lines = readLines(path, what);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line = trim(lines[i]);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = path + ":" + std::to_string(i + 1);
    auto a = assignment(line);
    if (!a) fail(ErrorKind::InvalidConfig, what, " ", where, ": expected name = \"value\"");
    if (a->first != "public-key" && a->first != "secret-key")
      fail(ErrorKind::InvalidConfig, what, " ", where, ": unknown name \"", a->first,
           "\" (expected public-key or secret-key)");
    if (a->first == "secret-key" && !wantSecret) continue;
    if (!isZ85Key(a->second))
      fail(ErrorKind::InvalidConfig, what, " ", where, ": ", a->first, " is not a ", kZ85KeyLength,
           "-character Z85 key (", a->second.size(), " characters)");
    std::string& slot = a->first == "public-key" ? keys.publicKey : keys.secretKey;
    if (!slot.empty()) fail(ErrorKind::InvalidConfig, what, " ", where, ": ", a->first, " given twice");
    slot = a->second;
  }
  if (keys.publicKey.empty()) fail(ErrorKind::InvalidConfig, what, " ", path, ": no public-key line");
  if (wantSecret && keys.secretKey.empty()) fail(ErrorKind::InvalidConfig, what, " ", path, ": no secret-key line");
  return keys;
}

void writeFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) fail(ErrorKind::InvalidConfig, "cannot create ", path, ": ", std::strerror(errno));
  ::fchmod(fd, mode);  // whatever the umask
  const ssize_t n = ::write(fd, text.data(), text.size());
  const bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    fail(ErrorKind::InvalidConfig, "cannot write ", path, ": ", std::strerror(errno));
  }
}

}  // namespace

bool isZ85Key(std::string_view text) {
  if (text.size() != kZ85KeyLength) return false;
  for (size_t group = 0; group < kZ85KeyLength; group += 5) {
    uint64_t value = 0;
    for (size_t i = group; i < group + 5; ++i) {
      const auto digit = kZ85Alphabet.find(text[i]);
      if (digit == std::string_view::npos) return false;
      value = value * 85 + digit;
    }
    if (value > 0xFFFFFFFFull) return false;
  }
  return true;
}

CurveKeyPair generateCurveKeyPair() {
  char pub[41] = {}, sec[41] = {};
  if (!zmq_has("curve") || zmq_curve_keypair(pub, sec) != 0)
    fail(ErrorKind::Internal, "this libzmq has no CURVE support (zmq_has(\"curve\") is false)");
  return {pub, sec};
}

std::string curvePublicKeyOf(const std::string& secretKey) {
  char pub[41] = {};
  WAFERSIM_REQUIRE(isZ85Key(secretKey), "not a Z85 key");
  if (zmq_curve_public(pub, secretKey.c_str()) != 0)
    fail(ErrorKind::Internal, "this libzmq has no CURVE support (zmq_curve_public failed)");
  return pub;
}

std::pair<std::string, std::string> writeCurveKeyFiles(const std::string& prefix, const CurveKeyPair& keys) {
  WAFERSIM_REQUIRE(!prefix.empty(), "keygen: no output prefix");
  const std::string keyPath = prefix + ".key", pubPath = prefix + ".pub";
  for (const auto& path : {keyPath, pubPath}) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0)
      fail(ErrorKind::InvalidConfig, "keygen: ", path, " exists; refusing to overwrite it (remove it first)");
  }
  const std::string header = "# wafersim CURVE key (ZeroMQ Z85), written by wafersim keygen\n";
  writeFile(keyPath,
            header + "# SECRET: keep this file to its owner (mode 0600); hand out " + pubPath + " instead\n" +
                "public-key = \"" + keys.publicKey + "\"\nsecret-key = \"" + keys.secretKey + "\"\n",
            0600);
  try {
    writeFile(pubPath, header + "public-key = \"" + keys.publicKey + "\"\n", 0644);
  } catch (...) {
    ::unlink(keyPath.c_str());
    throw;
  }
  return {keyPath, pubPath};
}

CurveKeyPair readCurveKeyFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    fail(ErrorKind::InvalidConfig, "CURVE key file ", path, ": ", std::strerror(errno));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    fail(ErrorKind::InvalidConfig, "CURVE key file ", path, " holds a secret key but its mode is ", mode,
         " (others may read it): chmod 600 ", path);
  }
  CurveKeyPair keys = parseKeyFile(path, "CURVE key file", true);
  if (curvePublicKeyOf(keys.secretKey) != keys.publicKey)
    fail(ErrorKind::InvalidConfig, "CURVE key file ", path, ": the secret key does not belong to the public key");
  return keys;
}

std::string readCurvePublicKey(const std::string& path) {
  return parseKeyFile(path, "CURVE public key file", false).publicKey;
}

std::set<std::string> readCurveAllowFile(const std::string& path) {
  std::set<std::string> keys;
  const std::vector<std::string> lines = readLines(path, "CURVE allow file");
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line = trim(lines[i]);
    if (line.empty()) continue;
    const std::string first = line.substr(0, line.find_first_of(" \t"));
    if (isZ85Key(first)) {
      const std::string rest = trim(std::string_view(line).substr(first.size()));
      if (!rest.empty() && rest[0] != '#')
        fail(ErrorKind::InvalidConfig, "CURVE allow file ", path, ":", i + 1, ": text after the key (a comment starts with #)");
      keys.insert(first);
      continue;
    }
    if (line[0] == '#') continue;
    if (auto a = assignment(line); a && a->first == "public-key") {
      if (!isZ85Key(a->second))
        fail(ErrorKind::InvalidConfig, "CURVE allow file ", path, ":", i + 1, ": public-key is not a ",
             kZ85KeyLength, "-character Z85 key");
      keys.insert(a->second);
      continue;
    }
    if (auto a = assignment(line); a && a->first == "secret-key")
      fail(ErrorKind::InvalidConfig, "CURVE allow file ", path, ":", i + 1,
           ": a secret key (an allow file lists public keys only)");
    fail(ErrorKind::InvalidConfig, "CURVE allow file ", path, ":", i + 1, ": not a ", kZ85KeyLength,
         "-character Z85 key (", first.size(), " characters)");
  }
  return keys;
}

std::shared_ptr<const CurveSecurity> loadCurveSecurity(const CurveFiles& files) {
  if (!files.enabled()) {
    WAFERSIM_REQUIRE(files.allowFile.empty() && files.serverKeyFile.empty(),
                     "a CURVE allow file or server key was given without a key file (--curve-key)");
    return nullptr;
  }
  auto security = std::make_shared<CurveSecurity>();
  security->own = readCurveKeyFile(files.keyFile);
  if (!files.allowFile.empty()) security->allowed = readCurveAllowFile(files.allowFile);
  security->allowed.insert(security->own.publicKey);
  security->coordinatorKey =
      files.serverKeyFile.empty() ? security->own.publicKey : readCurvePublicKey(files.serverKeyFile);
  return security;
}

}  // namespace wafersim::proto
