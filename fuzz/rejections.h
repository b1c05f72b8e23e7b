// How a harness tells a documented rejection from a finding (targets.h's contract), for surfaces
// whose rejections are exceptions: wafersim::Error of any kind but Internal is a rejection;
// Error{Internal} (an invariant fired on outside input), Finding, and every other exception
// (a yaml-cpp or nlohmann exception escaping a parser, std::bad_alloc from an input-sized
// allocation, ...) become a Finding naming the target and the exception's type.
#pragma once

#include <exception>
#include <string>
#include <typeinfo>

#include "fuzz/targets.h"
#include "sim/error.h"

namespace wafersim::fuzz {

// The exception's dynamic type, demangled ("YAML::BadConversion").
std::string typeName(const std::exception& e);

// Runs body(); returns true when it returned, false when it threw a rejection.
template <typename Body>
bool rejectsOnlyWithErrors(const char* target, Body&& body) {
  try {
    body();
    return true;
  } catch (const Finding&) {
    throw;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Internal) throw Finding(std::string(target) + ": Error{Internal}: " + e.what());
    return false;
  } catch (const std::exception& e) {
    throw Finding(std::string(target) + ": " + typeName(e) + " escaped: " + e.what());
  } catch (...) {
    throw Finding(std::string(target) + ": a non-standard exception escaped");
  }
}

}  // namespace wafersim::fuzz
