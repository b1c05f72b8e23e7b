// CURVE key material for the ZeroMQ sockets between the coordinator, the nodes and the placement
// service (ARCHITECTURE.md contract 12): key pairs, the files they live in, and the set of client
// keys a process lets in. The sockets themselves are set up by protocol/curve_auth.h.
//
// Contract:
//   - Keys are Z85 text (ZeroMQ's zmq_z85_encode of 32 bytes: exactly 40 characters of the Z85
//     alphabet, every 5-character group below 2^32). Nothing else is accepted anywhere: files, wire
//     fields (Hello.curveKey, Assign.dataKeys, Assign.placementKey) are checked with isZ85Key.
//   - Keys come from files, never from the command line or the environment (a path may). The
//     formats, written by `wafersim keygen PREFIX` and read here:
//       PREFIX.key (mode 0600)               PREFIX.pub
//         # ... comment lines                  # ... comment lines
//         public-key = "<40 Z85 chars>"        public-key = "<40 Z85 chars>"
//         secret-key = "<40 Z85 chars>"
//     One `name = "value"` per line (quotes optional, spaces around '=' optional), '#' starts a
//     comment line, blank lines are ignored; any other line or name is an error naming the file and
//     line. A secret key file that its group or others may read or write is refused (like ssh): the
//     error says to chmod 600 it. A secret key must match its public key.
//   - An allow file lists the client keys a process accepts: one per line, either the bare key or a
//     `public-key = "..."` line (so `cat *.pub > allowed` works), optionally followed by whitespace
//     and a '#' comment; a line whose first word is not a key and that starts with '#' is a
//     comment. A process always accepts its own public key too: a cluster that shares one key pair
//     needs no allow file.
//   - Every error is Error{InvalidConfig} naming the file (and line) and what is wrong.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace wafersim::proto {

inline constexpr size_t kZ85KeyLength = 40;

// 40 characters of the Z85 alphabet whose 5-character groups each encode a value below 2^32.
bool isZ85Key(std::string_view text);

struct CurveKeyPair {
  std::string publicKey;  // Z85
  std::string secretKey;  // Z85; "" when only the public half is known
};

// A fresh key pair (zmq_curve_keypair). Throws Error{Internal} when libzmq has no CURVE.
CurveKeyPair generateCurveKeyPair();
// The public key of a secret key (zmq_curve_public).
std::string curvePublicKeyOf(const std::string& secretKey);

// Writes PREFIX.key (both keys, created with mode 0600) and PREFIX.pub (the public key); returns
// their paths. Refuses (InvalidConfig) when either exists; writes neither then.
std::pair<std::string, std::string> writeCurveKeyFiles(const std::string& prefix, const CurveKeyPair& keys);

// A PREFIX.key file: both keys, checked as the contract says.
CurveKeyPair readCurveKeyFile(const std::string& path);
// The public key of a .pub or a .key file (a .key file's secret line is not read: its mode does
// not matter here).
std::string readCurvePublicKey(const std::string& path);
// An allow file's keys.
std::set<std::string> readCurveAllowFile(const std::string& path);

// Where one process's CURVE configuration is: file paths only (ServiceOptions, NodeOptions, the
// placement service's options, and the command lines launchers build from them).
struct CurveFiles {
  std::string keyFile;         // this process's key pair (PREFIX.key); "": no CURVE at all
  std::string allowFile;       // the client keys it accepts besides its own; "": its own only
  std::string serverKeyFile;   // nodes and a registering placement service: the coordinator's
                               // public key (.pub, or a .key whose public line is read); "": the
                               // process's own public key (one key pair for the whole cluster)
  bool enabled() const { return !keyFile.empty(); }
};

// The loaded configuration, shared read-only by a process's sockets.
struct CurveSecurity {
  CurveKeyPair own;
  std::set<std::string> allowed;  // client keys accepted (own.publicKey included)
  std::string coordinatorKey;     // the coordinator's public key
};

// Reads the files; nullptr when `files` is not enabled. Throws Error{InvalidConfig} naming the file.
std::shared_ptr<const CurveSecurity> loadCurveSecurity(const CurveFiles& files);

}  // namespace wafersim::proto
