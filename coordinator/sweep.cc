#include "coordinator/sweep.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "sim/error.h"

namespace wafersim {
namespace {

using Json = nlohmann::json;

// Doubles up to 2^53 in magnitude hold every integer exactly; they print as integers, and an
// integer range's bounds must lie within them so that each drawn value is exact.
constexpr double kMaxExactInteger = 9007199254740992.0;

// The splitmix64 generator (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014): a 64-bit state advanced by the golden-ratio increment, then mixed.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

std::string formatNumber(double x) {
  if (!std::isfinite(x)) fail(ErrorKind::InvalidConfig, "sweep: a value must be a finite number");
  if (std::trunc(x) == x && std::fabs(x) <= kMaxExactInteger) return std::to_string(static_cast<int64_t>(x));
  char text[64];
  const auto [end, error] = std::to_chars(text, text + sizeof text, x);
  WAFERSIM_ASSERT(error == std::errc(), "to_chars failed for ", x);
  return std::string(text, end);
}

bool isKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

// `where` names the part holding the key ("sweep.grid").
void checkKey(const std::string& key, const std::string& where) {
  const bool good = !key.empty() && key.front() != '.' && key.back() != '.' &&
                    key.find("..") == std::string::npos && std::all_of(key.begin(), key.end(), isKeyChar);
  if (!good) {
    fail(ErrorKind::InvalidConfig, where, ": bad key \"", key,
         "\" (expected a dotted path of [A-Za-z0-9_.-], no empty segment)");
  }
}

void checkKnownFields(const Json& object, const std::string& where, std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : object.items()) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string list;
    for (std::string_view field : known) list += (list.empty() ? "" : ", ") + std::string(field);
    fail(ErrorKind::InvalidConfig, where, ": unknown field \"", name, "\" (known: ", list, ")");
  }
}

void checkScalar(const Json& value, const std::string& field) {
  if (!value.is_string() && !value.is_boolean() && !value.is_number()) {
    fail(ErrorKind::InvalidConfig, field, ": expected a string, number or bool, got ", value.type_name());
  }
  if (value.is_number_float() && !std::isfinite(value.get<double>())) {
    fail(ErrorKind::InvalidConfig, field, ": not a finite number");
  }
}

// A part of key -> non-empty list of scalars ("sweep.grid", "sweep.zip", "sweep.random.choices").
std::vector<SweepAxis> parseAxes(const Json& part, const std::string& where) {
  if (!part.is_object()) {
    fail(ErrorKind::InvalidConfig, where, ": expected an object of key: [values], got ", part.type_name());
  }
  std::vector<SweepAxis> axes;
  for (const auto& [key, list] : part.items()) {
    checkKey(key, where);
    const std::string field = where + "." + key;
    if (!list.is_array()) fail(ErrorKind::InvalidConfig, field, ": expected a list of values, got ", list.type_name());
    if (list.empty()) fail(ErrorKind::InvalidConfig, field, ": empty list");
    SweepAxis axis{key, {}};
    for (size_t i = 0; i < list.size(); ++i) {
      checkScalar(list[i], field + "[" + std::to_string(i) + "]");
      axis.values.push_back(list[i]);
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

// An integer field of at least `least` and at most `most`; JSON keeps non-negative integers as
// unsigned and negative ones as signed, and both are accepted.
uint64_t parseCount(const Json& value, const std::string& field, uint64_t least, uint64_t most) {
  auto bad = [&] {
    fail(ErrorKind::InvalidConfig, field, ": expected an integer from ", least, " to ", most, ", got ", value.dump());
  };
  if (!value.is_number_integer()) bad();
  if (!value.is_number_unsigned() && value.get<int64_t>() < 0) bad();
  const uint64_t n = value.get<uint64_t>();
  if (n < least || n > most) bad();
  return n;
}

SweepRange parseRange(const std::string& key, const Json& object, const std::string& field) {
  if (!object.is_object()) {
    fail(ErrorKind::InvalidConfig, field, ": expected an object with low and high, got ", object.type_name());
  }
  checkKnownFields(object, field, {"low", "high", "log", "integer"});
  auto number = [&](const char* name) {
    const auto it = object.find(name);
    if (it == object.end()) fail(ErrorKind::InvalidConfig, field, ": missing \"", name, "\"");
    if (!it->is_number()) fail(ErrorKind::InvalidConfig, field, ".", name, ": expected a number, got ", it->dump());
    const double x = it->get<double>();
    if (!std::isfinite(x)) fail(ErrorKind::InvalidConfig, field, ".", name, ": not a finite number");
    return x;
  };
  auto flag = [&](const char* name) {
    const auto it = object.find(name);
    if (it == object.end()) return false;
    if (!it->is_boolean()) {
      fail(ErrorKind::InvalidConfig, field, ".", name, ": expected true or false, got ", it->dump());
    }
    return it->get<bool>();
  };

  SweepRange range;
  range.key = key;
  range.low = number("low");
  range.high = number("high");
  range.log = flag("log");
  range.integer = flag("integer");
  if (range.low > range.high) {
    fail(ErrorKind::InvalidConfig, field, ": low (", formatNumber(range.low), ") is above high (",
         formatNumber(range.high), ")");
  }
  if (range.log && range.low <= 0) {
    fail(ErrorKind::InvalidConfig, field, ": a log range needs low > 0, got ", formatNumber(range.low));
  }
  if (range.integer) {
    for (const auto& [name, bound] : {std::pair{"low", range.low}, std::pair{"high", range.high}}) {
      if (std::trunc(bound) != bound) {
        fail(ErrorKind::InvalidConfig, field, ".", name, ": an integer range needs integer bounds, got ",
             formatNumber(bound));
      }
      if (std::fabs(bound) > kMaxExactInteger) {
        fail(ErrorKind::InvalidConfig, field, ".", name, ": an integer range's bounds must lie within +-2^53");
      }
    }
  }
  if (!std::isfinite(range.high - range.low)) {
    fail(ErrorKind::InvalidConfig, field, ": range too wide (high - low overflows a double)");
  }
  return range;
}

void parseRandom(const Json& part, SweepSpec& spec) {
  const std::string where = "sweep.random";
  if (!part.is_object()) fail(ErrorKind::InvalidConfig, where, ": expected an object, got ", part.type_name());
  checkKnownFields(part, where, {"count", "seed", "ranges", "choices"});

  const auto count = part.find("count");
  if (count == part.end()) fail(ErrorKind::InvalidConfig, where, ": missing \"count\" (the number of samples, >= 1)");
  spec.randomCount =
      static_cast<uint32_t>(parseCount(*count, where + ".count", 1, std::numeric_limits<uint32_t>::max()));
  if (const auto seed = part.find("seed"); seed != part.end()) {
    spec.randomSeed = parseCount(*seed, where + ".seed", 0, std::numeric_limits<uint64_t>::max());
  }
  if (const auto ranges = part.find("ranges"); ranges != part.end()) {
    const std::string rangesWhere = where + ".ranges";
    if (!ranges->is_object()) {
      fail(ErrorKind::InvalidConfig, rangesWhere, ": expected an object of key: {low, high}, got ",
           ranges->type_name());
    }
    for (const auto& [key, range] : ranges->items()) {
      checkKey(key, rangesWhere);
      spec.ranges.push_back(parseRange(key, range, rangesWhere + "." + key));
    }
  }
  if (const auto choices = part.find("choices"); choices != part.end()) {
    spec.choices = parseAxes(*choices, where + ".choices");
  }
  if (spec.ranges.empty() && spec.choices.empty()) {
    fail(ErrorKind::InvalidConfig, where, ": give at least one range or choice");
  }
}

// Zipped lists must be equally long; `where` names the zip part.
void checkZipLengths(const std::vector<SweepAxis>& zip, const std::string& where) {
  for (const SweepAxis& axis : zip) {
    if (axis.values.size() != zip.front().values.size()) {
      fail(ErrorKind::InvalidConfig, where, ": lists differ in length: \"", zip.front().key, "\" has ",
           zip.front().values.size(), " values, \"", axis.key, "\" has ", axis.values.size());
    }
  }
}

bool hasRandom(const SweepSpec& spec) { return !spec.ranges.empty() || !spec.choices.empty(); }

// The number of points the spec expands to, or nothing when it does not fit in a size_t.
std::optional<size_t> pointCount(const SweepSpec& spec) {
  size_t count = 1;
  auto times = [&](size_t factor) { return !__builtin_mul_overflow(count, factor, &count); };
  for (const SweepAxis& axis : spec.grid) {
    if (!times(axis.values.size())) return std::nullopt;
  }
  if (!spec.zip.empty() && !times(spec.zip.front().values.size())) return std::nullopt;
  if (hasRandom(spec) && !times(spec.randomCount)) return std::nullopt;
  return count;
}

Json drawRange(const SweepRange& range, uint64_t bits) {
  const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;  // in [0, 1)
  double x = range.log ? std::exp(std::log(range.low) + u * (std::log(range.high) - std::log(range.low)))
                       : range.low + u * (range.high - range.low);
  // Clamping keeps exp/log rounding (and the integer rounding) inside the range.
  if (range.integer) return Json(static_cast<int64_t>(std::clamp(std::round(x), range.low, range.high)));
  return Json(std::clamp(x, range.low, range.high));
}

}  // namespace

SweepSpec parseSweepSpec(const nlohmann::json& spec, size_t maxPoints) {
  if (!spec.is_object()) {
    fail(ErrorKind::InvalidConfig, "sweep: expected an object with grid, zip or random, got ", spec.type_name());
  }
  checkKnownFields(spec, "sweep", {"grid", "zip", "random"});

  SweepSpec out;
  if (const auto grid = spec.find("grid"); grid != spec.end()) out.grid = parseAxes(*grid, "sweep.grid");
  if (const auto zip = spec.find("zip"); zip != spec.end()) {
    out.zip = parseAxes(*zip, "sweep.zip");
    checkZipLengths(out.zip, "sweep.zip");
  }
  if (const auto random = spec.find("random"); random != spec.end()) parseRandom(*random, out);

  std::map<std::string, std::string> partOfKey;
  auto claim = [&](const std::string& key, const char* part) {
    const auto [it, fresh] = partOfKey.emplace(key, part);
    if (!fresh) fail(ErrorKind::InvalidConfig, "sweep: key \"", key, "\" appears in both ", it->second, " and ", part);
  };
  for (const SweepAxis& axis : out.grid) claim(axis.key, "grid");
  for (const SweepAxis& axis : out.zip) claim(axis.key, "zip");
  for (const SweepRange& range : out.ranges) claim(range.key, "random.ranges");
  for (const SweepAxis& axis : out.choices) claim(axis.key, "random.choices");

  if (out.grid.empty() && out.zip.empty() && !hasRandom(out)) {
    fail(ErrorKind::InvalidConfig, "sweep: no points (give grid, zip or random)");
  }
  const std::optional<size_t> count = pointCount(out);
  if (!count) {
    fail(ErrorKind::InvalidConfig, "sweep: more than ", std::numeric_limits<size_t>::max(),
         " points, over the limit of ", maxPoints);
  }
  if (*count > maxPoints) fail(ErrorKind::InvalidConfig, "sweep: ", *count, " points, over the limit of ", maxPoints);
  return out;
}

std::vector<SweepPoint> expandSweep(const SweepSpec& spec) {
  // A spec built by hand rather than parsed gets the checks expansion relies on.
  for (const auto* part : {&spec.grid, &spec.zip, &spec.choices}) {
    for (const SweepAxis& axis : *part) WAFERSIM_REQUIRE(!axis.values.empty(), "sweep: \"", axis.key, "\": empty list");
  }
  checkZipLengths(spec.zip, "sweep.zip");
  for (const SweepRange& range : spec.ranges) {
    WAFERSIM_REQUIRE(range.low <= range.high, "sweep: \"", range.key, "\": low is above high");
  }
  const std::optional<size_t> count = pointCount(spec);
  WAFERSIM_REQUIRE(count.has_value(), "sweep: too many points");

  // The random samples, drawn once and crossed with every grid/zip combination: per sample, one
  // draw per range, then one per choice, each in the spec's order.
  std::vector<std::vector<Json>> samples(hasRandom(spec) ? spec.randomCount : 1);
  if (hasRandom(spec)) {
    SplitMix64 random(spec.randomSeed);
    for (std::vector<Json>& sample : samples) {
      for (const SweepRange& range : spec.ranges) sample.push_back(drawRange(range, random.next()));
      for (const SweepAxis& choice : spec.choices) {
        sample.push_back(choice.values[random.next() % choice.values.size()]);
      }
    }
  }

  std::vector<SweepPoint> points;
  points.reserve(*count);
  const size_t zipLength = spec.zip.empty() ? 1 : spec.zip.front().values.size();
  std::vector<size_t> gridIndex(spec.grid.size(), 0);
  while (true) {
    for (size_t z = 0; z < zipLength; ++z) {
      for (const std::vector<Json>& sample : samples) {
        SweepPoint point;
        auto add = [&](const std::string& key, const Json& value) {
          point.values[key] = value;
          point.overrides.push_back(key + "=" + formatOverrideValue(value));
        };
        for (size_t i = 0; i < spec.grid.size(); ++i) add(spec.grid[i].key, spec.grid[i].values[gridIndex[i]]);
        for (const SweepAxis& axis : spec.zip) add(axis.key, axis.values[z]);
        size_t drawn = 0;
        for (const SweepRange& range : spec.ranges) add(range.key, sample[drawn++]);
        for (const SweepAxis& choice : spec.choices) add(choice.key, sample[drawn++]);
        points.push_back(std::move(point));
      }
    }
    // The next grid combination, the last axis fastest; done when the first axis wraps.
    size_t axis = gridIndex.size();
    while (axis > 0 && ++gridIndex[axis - 1] == spec.grid[axis - 1].values.size()) gridIndex[--axis] = 0;
    if (axis == 0) break;
  }
  return points;
}

std::string formatOverrideValue(const nlohmann::json& value) {
  switch (value.type()) {
    case Json::value_t::string: return value.get_ref<const std::string&>();
    case Json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer: return std::to_string(value.get<int64_t>());
    case Json::value_t::number_unsigned: return std::to_string(value.get<uint64_t>());
    case Json::value_t::number_float: return formatNumber(value.get<double>());
    default:
      fail(ErrorKind::InvalidConfig, "sweep: a value must be a string, number or bool, got ", value.type_name());
  }
}

}  // namespace wafersim
