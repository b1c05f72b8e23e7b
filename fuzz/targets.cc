#include "fuzz/targets.h"

#include <cxxabi.h>

#include <array>
#include <cstdlib>
#include <memory>

#include "fuzz/rejections.h"

namespace wafersim::fuzz {

namespace {
constexpr std::array<Target, 9> kTargets{{
    {"scenario", &scenarioInput},
    {"control_message", &controlMessageInput},
    {"data_message", &dataMessageInput},
    {"placement_message", &placementMessageInput},
    {"http_request", &httpRequestInput},
    {"api_body", &apiBodyInput},
    {"request_trace", &requestTraceInput},
    {"routing_trace", &routingTraceInput},
    {"checkpoint", &checkpointInput},
}};
}  // namespace

std::span<const Target> targets() { return kTargets; }

const Target& target(std::string_view name) {
  std::string names;
  for (const Target& t : kTargets) {
    if (name == t.name) return t;
    names += (names.empty() ? "" : ", ") + std::string(t.name);
  }
  throw std::invalid_argument("no fuzz target \"" + std::string(name) + "\" (" + names + ")");
}

std::string typeName(const std::exception& e) {
  const char* mangled = typeid(e).name();
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && demangled ? std::string(demangled.get()) : std::string(mangled);
}

}  // namespace wafersim::fuzz
