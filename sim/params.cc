#include "sim/params.h"

#include <filesystem>

#include <cerrno>
#include <cstdlib>
#include <iomanip>
#include <sstream>

#include "sim/error.h"

namespace wafersim {
namespace {

bool parseInteger(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

bool parseReal(const std::string& s, double& out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

bool parseBoolean(const std::string& s, bool& out) {
  if (s == "true" || s == "1" || s == "yes") { out = true; return true; }
  if (s == "false" || s == "0" || s == "no") { out = false; return true; }
  return false;
}

}  // namespace

std::string formatReal(double value) {
  std::ostringstream out;
  out << std::setprecision(17) << value;
  return out.str();
}

const char* toString(ParamType type) {
  switch (type) {
    case ParamType::Integer: return "integer";
    case ParamType::Real: return "real";
    case ParamType::Boolean: return "boolean";
    case ParamType::Duration: return "duration";
    case ParamType::Text: return "text";
    case ParamType::Path: return "path";
  }
  return "?";
}

const std::string& Params::text(const std::string& key) const {
  auto it = values_.find(key);
  WAFERSIM_REQUIRE(it != values_.end(), "missing parameter \"", key, "\"");
  return it->second;
}

int64_t Params::integer(const std::string& key) const {
  int64_t v = 0;
  WAFERSIM_REQUIRE(parseInteger(text(key), v), "parameter \"", key, "\": expected an integer, got \"", text(key), "\"");
  return v;
}

double Params::real(const std::string& key) const {
  double v = 0;
  WAFERSIM_REQUIRE(parseReal(text(key), v), "parameter \"", key, "\": expected a number, got \"", text(key), "\"");
  return v;
}

bool Params::boolean(const std::string& key) const {
  bool v = false;
  WAFERSIM_REQUIRE(parseBoolean(text(key), v), "parameter \"", key, "\": expected true or false, got \"", text(key),
                   "\"");
  return v;
}

Duration Params::duration(const std::string& key) const {
  try {
    return parseDuration(text(key));
  } catch (const Error& e) {
    fail(ErrorKind::InvalidConfig, "parameter \"", key, "\": ", e.what());
  }
}

namespace {

// "s.yaml: params" and a key given on line 12 -> "s.yaml:12: params": errors name the line.
std::string withLine(const std::string& where, const Params& given, const std::string& key) {
  const int line = given.line(key);
  const size_t colon = where.find(": ");
  if (line <= 0 || colon == std::string::npos) return where;
  return where.substr(0, colon) + ":" + std::to_string(line) + where.substr(colon);
}

}  // namespace

std::string Params::where(const std::string& key) const {
  if (origin_.empty()) return key;
  return withLine(origin_, *this, key) + "." + key;
}

Params resolveParams(const Params& given, const std::vector<ParamSpec>& specs, const std::string& whereAll) {
  Params out;
  for (const auto& [key, value] : given.values()) {
    bool known = false;
    for (const auto& spec : specs) known = known || spec.name == key;
    if (!known) {
      const std::string where = withLine(whereAll, given, key);
      // A key in a section ("hardware.sistem") lists the section's parameters only.
      const size_t dot = key.rfind('.');
      const std::string section = dot == std::string::npos ? "" : key.substr(0, dot + 1);
      std::string names;
      for (const auto& spec : specs)
        if (spec.name.starts_with(section)) names += (names.empty() ? "" : ", ") + spec.name;
      fail(ErrorKind::InvalidConfig, where, ": unknown parameter \"", key, "\" (known: ",
           names.empty() ? "none" : names, ")");
    }
  }
  for (const auto& spec : specs) {
    const std::string where = withLine(whereAll, given, spec.name);
    std::string value;
    if (given.has(spec.name)) value = given.text(spec.name);
    else if (spec.defaultValue) value = *spec.defaultValue;
    else fail(ErrorKind::InvalidConfig, where, ": missing required parameter \"", spec.name, "\" (", spec.help, ")");
    double numeric = 0;
    bool ok = true;
    switch (spec.type) {
      case ParamType::Integer: {
        int64_t v = 0;
        ok = parseInteger(value, v);
        numeric = static_cast<double>(v);
        break;
      }
      case ParamType::Real: ok = parseReal(value, numeric); break;
      case ParamType::Boolean: {
        bool b = false;
        ok = parseBoolean(value, b);
        break;
      }
      case ParamType::Duration:
        try {
          numeric = static_cast<double>(parseDuration(value).ps());
        } catch (const Error& e) {
          fail(ErrorKind::InvalidConfig, where, ".", spec.name, ": ", e.what());
        }
        break;
      case ParamType::Text: break;
      case ParamType::Path:
        if (!value.empty() && !given.baseDir().empty() && given.has(spec.name) && !given.overridden(spec.name) &&
            std::filesystem::path(value).is_relative())
          value = (std::filesystem::path(given.baseDir()) / value).lexically_normal().string();
        break;
    }
    if (!ok) fail(ErrorKind::InvalidConfig, where, ".", spec.name, ": expected ", toString(spec.type), ", got \"", value, "\"");
    if (spec.min && numeric < *spec.min)
      fail(ErrorKind::InvalidConfig, where, ".", spec.name, ": ", value, " is below the minimum ", *spec.min,
           spec.type == ParamType::Duration ? " ps" : "");
    if (spec.max && numeric > *spec.max)
      fail(ErrorKind::InvalidConfig, where, ".", spec.name, ": ", value, " is above the maximum ", *spec.max,
           spec.type == ParamType::Duration ? " ps" : "");
    out.set(spec.name, value);
    if (const int line = given.line(spec.name); line > 0) out.setLine(spec.name, line);
    if (given.overridden(spec.name)) out.markOverridden(spec.name);
  }
  out.setOrigin(whereAll);
  out.setBaseDir(given.baseDir());
  return out;
}

}  // namespace wafersim
