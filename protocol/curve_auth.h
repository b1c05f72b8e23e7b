// CURVE on wafersim's ZeroMQ sockets (ARCHITECTURE.md contract 12): encryption of every frame
// between the coordinator, the nodes and the placement service, and authentication of clients by
// their public key (protocol/curve_keys.h has the keys and their files).
//
// Roles (the binding side is the CURVE server):
//   server socket                      its clients                   the server key reaches them by
//   coordinator control ROUTER         nodes, placement services     a file (--coordinator-key)
//   node data PULL                     peer nodes' PUSH sockets      Hello.curveKey -> Assign.dataKeys
//   placement service ROUTER           nodes' REQ sockets            Hello.curveKey -> Assign.placementKey
//
// Contract:
//   - Without keys nothing changes: sockets stay NULL-mechanism (plaintext), as before.
//   - A server socket refuses every client whose public key is not in the process's allowed set:
//     the ZAP handler (ZeroMQ RFC 27, one per context on inproc://zeromq.zap.01) answers 400, the
//     connection is dropped before any message of it is delivered, and the refusal is counted by
//     socket (the server's ZAP domain: "control", "data", "placement") in
//     wafersim_zmq_auth_refused_total{socket} (docs/metrics.md). A client that does not speak CURVE
//     at all, or expects another server key, fails the handshake before ZAP: libzmq drops it and
//     no counter moves.
//   - A refused client never gets a message through. libzmq (4.3) does not reconnect a connection
//     that ZAP refused: one refusal is counted per connection attempt, and the client stays out
//     (a pool node waits, silent, until it is restarted with an allowed key).
//
// Thread ownership: the authenticator's thread owns its ZAP socket; counts may be read from any
// thread. Destroy the authenticator before its context (a member declared after the context).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <prometheus/collectable.h>
#include <zmq.hpp>

#include "protocol/curve_keys.h"

namespace wafersim::proto {

class ZapAuthenticator {
 public:
  // Binds the context's ZAP endpoint and starts answering. Throws Error{Internal} when another
  // handler holds it (one per context).
  ZapAuthenticator(zmq::context_t& context, std::set<std::string> allowed);
  ~ZapAuthenticator();  // stops the handler (within 50 ms)
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  uint64_t refused(const std::string& socket) const;   // by ZAP domain
  uint64_t accepted(const std::string& socket) const;
  // wafersim_zmq_auth_refused_total{socket} and wafersim_zmq_auth_accepted_total{socket}, for a
  // process's MetricsRegistry (every socket this handler has served, and `sockets` at 0 before).
  std::shared_ptr<prometheus::Collectable> metrics(std::set<std::string> sockets) const;

 private:
  void serve(zmq::socket_t& socket);

  struct Counts {
    std::mutex mutex;
    std::map<std::string, std::pair<uint64_t, uint64_t>> bySocket;  // (accepted, refused)
  };
  std::set<std::string> allowed_;
  std::shared_ptr<Counts> counts_ = std::make_shared<Counts>();  // shared with metrics(): outlives a scrape
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Makes `socket` a CURVE server with this process's secret key, authenticated by ZAP in domain
// `name` (the metric's socket label). Call before bind.
void makeCurveServer(zmq::socket_t& socket, const CurveSecurity& security, const std::string& name);
// Makes `socket` a CURVE client of the server whose public key is `serverKey`. Call before connect.
void makeCurveClient(zmq::socket_t& socket, const CurveSecurity& security, const std::string& serverKey);

// The security of a socket connecting to a server: plaintext when `security` is null.
struct CurveClient {
  std::shared_ptr<const CurveSecurity> security;
  std::string serverKey;
  void apply(zmq::socket_t& socket) const {
    if (security) makeCurveClient(socket, *security, serverKey);
  }
};

}  // namespace wafersim::proto
