// Helpers of the deployment recipes' tests (deploy/kubernetes, deploy/slurm): a temporary folder
// removed at the end, a free loopback port, the processes whose command line holds a string, and
// the tools found on the PATH.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/deploy/promtool.h"
#include "tests/support.h"

namespace wafersim::testing {

inline std::filesystem::path sourcePath(const std::string& relative) {
  return std::filesystem::path(WAFERSIM_SOURCE_DIR) / relative;
}
inline std::filesystem::path binaryPath(const std::string& relative) {
  return std::filesystem::path(WAFERSIM_BINARY_DIR) / relative;
}

inline sockaddr_in loopbackAddress(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

// A TCP port on 127.0.0.1 that nothing is bound to now, for a process the test starts later (0 if
// none is found). Drawn below the kernel's ephemeral range (net.ipv4.ip_local_port_range): a port
// the kernel hands out and the test releases can be handed again to any process that binds port 0
// or "tcp://...:*" before the intended one starts (a node's data socket once took the placement
// probe's port so); the kernel never hands out these.
inline int freePort() {
  int ephemeralLow = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeralLow;
  const int low = 10000, high = std::max(low + 1, ephemeralLow);  // [low, high)
  static std::mt19937 draw{std::random_device{}()};
  for (int tries = 0; tries < 1000; ++tries) {
    const int port = low + static_cast<int>(draw() % static_cast<unsigned>(high - low));
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    const sockaddr_in address = loopbackAddress(port);
    const bool free = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (free) return port;
  }
  return 0;
}

// `count` distinct ports as freePort() gives them (0 for each not found).
inline std::vector<uint16_t> freePorts(size_t count) {
  std::vector<uint16_t> ports;
  for (int tries = 0; ports.size() < count && tries < 1000; ++tries) {
    const auto port = static_cast<uint16_t>(freePort());
    if (port == 0 || std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
  }
  return ports;
}

// True when something accepts TCP connections on 127.0.0.1:port.
inline bool listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  const sockaddr_in address = loopbackAddress(port);
  const bool open = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return open;
}

// The pids of the processes whose command line (arguments joined by spaces) contains `text`.
inline std::vector<int> processesWith(const std::string& text) {
  std::vector<int> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (char& c : line)
      if (c == '\0') c = ' ';
    if (line.find(text) != std::string::npos && std::stoi(name) != ::getpid()) pids.push_back(std::stoi(name));
  }
  return pids;
}

// The full path of a program on the PATH, or "" when there is none.
inline std::string onPath(const std::string& program) {
  const CommandOutput out = runCommand("command -v " + program);
  if (out.code != 0) return "";
  std::string path = out.text.substr(0, out.text.find('\n'));
  return path.empty() || path[0] != '/' ? "" : path;
}

inline std::string fileText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void writeText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace wafersim::testing
