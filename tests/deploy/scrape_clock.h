// A scrape target of the test's own, so that the test waits on Prometheus's scrapes instead of
// sleeping: it listens on a free loopback port, Prometheus scrapes it with the other targets, and
// waitForScrape() returns when the next scrape arrives (answered with an empty 200), or false at
// the deadline. New data reaches Prometheus only at scrapes, so re-checking after each one is as
// often as a check can learn something.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace wafersim::testing {

class ScrapeClock {
 public:
  ScrapeClock() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~ScrapeClock() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScrapeClock(const ScrapeClock&) = delete;
  ScrapeClock& operator=(const ScrapeClock&) = delete;

  uint16_t port() const { return port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

  // Answers the next scrape; false when none arrived before `deadline`.
  bool waitForScrape(std::chrono::steady_clock::time_point deadline) {
    using namespace std::chrono;
    for (;;) {
      const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) != 1) continue;
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      const bool answered = answer(conn);
      ::close(conn);
      if (answered) return true;
    }
  }

 private:
  // Reads the request's head (bounded by a second) and answers 200 with no samples.
  static bool answer(int conn) {
    std::string head;
    char buffer[2048];
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (head.find("\r\n\r\n") == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
      pollfd p{conn, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) return false;
      const ssize_t n = ::recv(conn, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      head.append(buffer, static_cast<size_t>(n));
    }
    static const std::string reply =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    return ::send(conn, reply.data(), reply.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(reply.size());
  }

  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace wafersim::testing
