// Errors are exceptions for logistics, classified by what the caller should do (STYLE.md P9).
//
// InvalidConfig: the user's input is wrong; fail fast, never retry (HTTP 400).
// Overloaded:    try again later (503).       Disconnected: a peer went away (502).
// Unimplemented: asked for something not built (501).  Internal: a bug in wafersim (500).
// Library code throws; only main() turns errors into exit codes.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace wafersim {

enum class ErrorKind { InvalidConfig, Overloaded, Disconnected, Unimplemented, Internal };

const char* toString(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
[[noreturn]] void failAssertion(const char* file, int line, const char* condition, const std::string& values);
}  // namespace detail

// Throws Error{kind} with the message built from the arguments: invalidConfig("link ", name, ": ...").
template <typename... Args>
[[noreturn]] void fail(ErrorKind kind, const Args&... args) {
  throw Error(kind, detail::concat(args...));
}

}  // namespace wafersim

// An internal invariant; on failure throws Error{Internal} with the operand values printed.
// Always on (also in release builds): the kernel's checks are cheap and a silent wrong answer
// is worse than a stopped run.
#define WAFERSIM_ASSERT(cond, ...)                                                                \
  do {                                                                                            \
    if (__builtin_expect(!(cond), 0))                                                             \
      ::wafersim::detail::failAssertion(__FILE__, __LINE__, #cond,                                \
                                        ::wafersim::detail::concat("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (false)

// A precondition on caller-supplied input; on failure throws Error{InvalidConfig} with the message.
#define WAFERSIM_REQUIRE(cond, ...)                                                      \
  do {                                                                                   \
    if (__builtin_expect(!(cond), 0))                                                    \
      ::wafersim::fail(::wafersim::ErrorKind::InvalidConfig __VA_OPT__(, ) __VA_ARGS__); \
  } while (false)
