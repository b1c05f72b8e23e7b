// Hosts for multi-host tests on one machine: one network namespace per host, each with a veth pair
// to a bridge in this process's namespace, on a /24 of its own. The bridge holds .1, so the test
// itself reaches every host; host k is .(10 + k). Made by `ip` (Debian's iproute2) with fixed
// words and generated names only; everything is removed by the destructor, whatever failed.
#pragma once

#include <unistd.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support.h"

namespace wafersim::testing {

class NetworkNamespaces {
 public:
  // Why namespaces cannot be made here (not root, no CAP_NET_ADMIN, no iproute2), or nothing.
  static std::optional<std::string> unavailable() {
    const std::string probe = "wsprobe" + std::to_string(::getpid() % 100000);
    const CommandOutput made = runCommand("ip netns add " + probe);
    if (made.code != 0) return "cannot create a network namespace (ip netns add: " + made.text + ")";
    runCommand("ip netns del " + probe);
    return std::nullopt;
  }

  explicit NetworkNamespaces(size_t hosts) {
    const int pid = ::getpid();
    tag_ = std::to_string(pid % 100000);
    subnet_ = "10.213." + std::to_string(pid % 250) + ".";
    bridge_ = "wsbr" + tag_;
    try {
      must("ip link add " + bridge_ + " type bridge");
      must("ip addr add " + subnet_ + "1/24 dev " + bridge_);
      must("ip link set " + bridge_ + " up");
      for (size_t k = 0; k < hosts; ++k) {
        const std::string ns = "ws" + tag_ + "h" + std::to_string(k);
        const std::string outer = "wv" + tag_ + "o" + std::to_string(k), inner = "wv" + tag_ + "i" + std::to_string(k);
        must("ip netns add " + ns);
        namespaces_.push_back(ns);
        must("ip link add " + outer + " type veth peer name " + inner);
        links_.push_back(outer);
        must("ip link set " + inner + " netns " + ns);
        must("ip link set " + outer + " master " + bridge_);
        must("ip link set " + outer + " up");
        must("ip netns exec " + ns + " ip addr add " + address(k) + "/24 dev " + inner);
        must("ip netns exec " + ns + " ip link set " + inner + " up");
        must("ip netns exec " + ns + " ip link set lo up");
      }
    } catch (...) {
      removeAll();
      throw;
    }
  }
  ~NetworkNamespaces() { removeAll(); }
  NetworkNamespaces(const NetworkNamespaces&) = delete;
  NetworkNamespaces& operator=(const NetworkNamespaces&) = delete;

  const std::string& name(size_t host) const { return namespaces_.at(host); }
  std::string address(size_t host) const { return subnet_ + std::to_string(10 + host); }
  // argv that runs `argv` inside host k's namespace.
  std::vector<std::string> inside(size_t host, std::vector<std::string> argv) const {
    std::vector<std::string> full = {"/usr/sbin/ip", "netns", "exec", name(host)};
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
  }

 private:
  static void must(const std::string& command) {
    const CommandOutput out = runCommand(command);
    if (out.code != 0) throw std::runtime_error(command + ": " + out.text);
  }
  void removeAll() {
    for (const auto& ns : namespaces_) runCommand("ip netns del " + ns);
    for (const auto& link : links_) runCommand("ip link del " + link);
    if (!bridge_.empty()) runCommand("ip link del " + bridge_);
    namespaces_.clear();
    links_.clear();
    bridge_.clear();
  }

  std::string tag_, subnet_, bridge_;
  std::vector<std::string> namespaces_, links_;
};

}  // namespace wafersim::testing
