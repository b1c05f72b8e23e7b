#include "sim/error.h"

namespace wafersim {

const char* toString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidConfig: return "invalid config";
    case ErrorKind::Overloaded: return "overloaded";
    case ErrorKind::Disconnected: return "disconnected";
    case ErrorKind::Unimplemented: return "unimplemented";
    case ErrorKind::Internal: return "internal error";
  }
  return "unknown error";
}

namespace detail {
void failAssertion(const char* file, int line, const char* condition, const std::string& values) {
  throw Error(ErrorKind::Internal,
              concat(file, ":", line, ": assertion failed: ", condition, values.empty() ? "" : " (", values,
                     values.empty() ? "" : ")"));
}
}  // namespace detail

}  // namespace wafersim
