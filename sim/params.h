// Component parameters: declared once as data, validated before anything runs (STYLE.md P7).
//
// A component type declares a ParamSpec for each parameter it reads (name, type, default, range,
// help). resolveParams() rejects unknown keys, unparsable values and values out of range with a
// message naming the component and the key, and fills in defaults, so a component's constructor
// reads only valid, complete parameters. The same table prints `wafersim describe` output.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/time.h"

namespace wafersim {

// Path: a file name. A relative one written in a scenario file resolves against the scenario's
// folder (Params::baseDir); one given on the command line (--set) stays relative to the working
// directory, as a shell user expects.
enum class ParamType { Integer, Real, Boolean, Duration, Text, Path };

const char* toString(ParamType type);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::Text;
  std::optional<std::string> defaultValue;  // none: the parameter is required
  std::string help;
  std::optional<double> min;  // inclusive; for Duration, in picoseconds
  std::optional<double> max;
};

class Params {
 public:
  Params() = default;
  Params(std::initializer_list<std::pair<const std::string, std::string>> values) : values_(values) {}

  void set(const std::string& key, std::string value) { values_[key] = std::move(value); }
  // Where a value came from (a scenario's line), for error messages; 0: unknown.
  void setLine(const std::string& key, int line) { lines_[key] = line; }
  int line(const std::string& key) const {
    auto it = lines_.find(key);
    return it == lines_.end() ? 0 : it->second;
  }
  // Who owns the parameters in messages ("s.yaml: params"); resolveParams keeps it with the lines.
  void setOrigin(std::string origin) { origin_ = std::move(origin); }
  const std::string& origin() const { return origin_; }
  // The folder relative Path values from the scenario file resolve against ("": the working
  // directory); resolveParams keeps it.
  void setBaseDir(std::string dir) { baseDir_ = std::move(dir); }
  const std::string& baseDir() const { return baseDir_; }
  // A value given on the command line (--set), not in the scenario file.
  void markOverridden(const std::string& key) { overridden_.insert(key); }
  bool overridden(const std::string& key) const { return overridden_.count(key) != 0; }
  // The key named for an error about its value: "s.yaml:9: params.training.micro_batches" (the
  // origin, the key's line when known, the key); just the key when there is no origin.
  std::string where(const std::string& key) const;
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, std::string>& values() const { return values_; }

  // Typed reads; a missing key or a value of the wrong form throws Error{InvalidConfig}.
  const std::string& text(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double real(const std::string& key) const;
  bool boolean(const std::string& key) const;
  Duration duration(const std::string& key) const;

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, int> lines_;
  std::string origin_;
  std::string baseDir_;
  std::set<std::string> overridden_;
};

// Prints a real so that parsing it back gives the same double.
std::string formatReal(double value);

// Checks `given` against `specs` and returns it with defaults filled in. `where` names the owner
// in messages ("component lp[3] (phold.LP)"); the result keeps it as its origin, with the given
// keys' lines, so a builder's later errors can name them too (Params::where).
Params resolveParams(const Params& given, const std::vector<ParamSpec>& specs, const std::string& where);

}  // namespace wafersim
