#include "models/workload/requests_trace.h"

#include <cctype>
#include <fstream>
#include <limits>

#include "sim/error.h"

namespace wafersim::workload {
namespace {

constexpr size_t kMaxLineBytes = 1 << 20;
constexpr int64_t kPsPerSecond = 1'000'000'000'000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Quotes a field for a message, cut short and with unprintable bytes escaped.
std::string quoted(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > 64) out += "...";
  return out + "'";
}

std::optional<uint32_t> parseTokens(std::string_view s) {
  if (!allDigits(s) || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
  if (v == 0 || v > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// Days from 1970-01-01 to the given proleptic Gregorian date (era arithmetic: 400-year cycles).
int64_t daysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t yearOfEra = year - era * 400;
  const int64_t dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

bool leapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::optional<__int128> parseAzureTimestamp(std::string_view s) {
  // YYYY-MM-DD HH:MM:SS[.f{0,12}]
  if (s.size() < 19) return std::nullopt;
  auto number = [&](size_t at, size_t digits) -> std::optional<int64_t> {
    if (!allDigits(s.substr(at, digits))) return std::nullopt;
    int64_t v = 0;
    for (size_t i = 0; i < digits; ++i) v = v * 10 + (s[at + i] - '0');
    return v;
  };
  if (s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (*month < 1 || *month > 12 || *day < 1) return std::nullopt;
  if (*day > kDaysInMonth[*month - 1] + (*month == 2 && leapYear(*year) ? 1 : 0)) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  int64_t fractionPs = 0;
  if (s.size() > 19) {
    const std::string_view fraction = s.substr(20);
    if (s[19] != '.' || fraction.size() > 12 || !allDigits(fraction)) return std::nullopt;
    int64_t scale = 100'000'000'000;  // ps of the first fraction digit
    for (char c : fraction) {
      fractionPs += (c - '0') * scale;
      scale /= 10;
    }
  }
  const int64_t days = daysFromCivil(*year, *month, *day);
  const int64_t secondOfDay = *hour * 3600 + *minute * 60 + *second;
  return (static_cast<__int128>(days) * 86400 + secondOfDay) * kPsPerSecond + fractionPs;
}

struct RequestTraceReader::Row {
  __int128 time;  // ps; generic: as written, Azure: since 1970
  uint32_t prompt;
  uint32_t output;
};

RequestTraceReader::RequestTraceReader(const std::string& path, TraceOptions options)
    : name_(path), options_(options) {
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!file->is_open()) fail(ErrorKind::InvalidConfig, path, ": cannot open the trace file for reading");
  input_ = std::move(file);
  readHeader();
}

RequestTraceReader::RequestTraceReader(std::unique_ptr<std::istream> input, std::string name, TraceOptions options)
    : input_(std::move(input)), name_(std::move(name)), options_(options) {
  WAFERSIM_ASSERT(input_ != nullptr);
  readHeader();
}

RequestTraceReader::~RequestTraceReader() = default;

void RequestTraceReader::failAt(const std::string& message) {
  spent_ = true;
  fail(ErrorKind::InvalidConfig, name_, ":", line_, ": ", message);
}

void RequestTraceReader::failColumn(size_t column, const std::string& message) {
  failAt("column " + columnNames_[column] + ": " + message);
}

bool RequestTraceReader::readLine(std::string& line) {
  line.clear();
  std::streambuf* buffer = input_->rdbuf();
  if (buffer == nullptr) return false;
  bool any = false;
  for (;;) {
    const int c = buffer->sbumpc();
    if (c == std::char_traits<char>::eof()) break;
    any = true;
    if (c == '\n') break;
    if (line.size() >= kMaxLineBytes) {
      ++line_;
      failAt("line longer than " + std::to_string(kMaxLineBytes) + " bytes");
    }
    line += static_cast<char>(c);
  }
  if (!any) return false;
  ++line_;
  return true;
}

void RequestTraceReader::readHeader() {
  std::string line;
  for (;;) {
    if (!readLine(line))
      fail(ErrorKind::InvalidConfig, name_,
           ": empty trace, expected a header naming the columns arrival,prompt_tokens,output_tokens or "
           "TIMESTAMP,ContextTokens,GeneratedTokens");
    if (line_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    if (!trim(line).empty()) break;
  }
  for (std::string_view field : splitFields(line)) columnNames_.emplace_back(field);
  auto find = [&](std::string_view wanted) -> std::optional<size_t> {
    std::optional<size_t> found;
    for (size_t i = 0; i < columnNames_.size(); ++i) {
      if (!equalsIgnoreCase(columnNames_[i], wanted)) continue;
      if (found) failAt("column " + std::string(wanted) + " appears twice in the header");
      found = i;
    }
    return found;
  };
  const auto arrival = find("arrival"), timestamp = find("TIMESTAMP");
  if (arrival && timestamp)
    failAt("the header names both arrival (generic layout) and TIMESTAMP (Azure layout); keep one");
  if (!arrival && !timestamp)
    failAt("cannot tell the layout from the header " + quoted(line) +
           ": expected columns arrival,prompt_tokens,output_tokens or TIMESTAMP,ContextTokens,GeneratedTokens");
  layout_ = arrival ? TraceLayout::Generic : TraceLayout::Azure;
  const char* promptName = arrival ? "prompt_tokens" : "ContextTokens";
  const char* outputName = arrival ? "output_tokens" : "GeneratedTokens";
  const auto prompt = find(promptName), output = find(outputName);
  if (!prompt) failAt(std::string("the header has no column ") + promptName);
  if (!output) failAt(std::string("the header has no column ") + outputName);
  arrivalColumn_ = arrival ? *arrival : *timestamp;
  promptColumn_ = *prompt;
  outputColumn_ = *output;
  WAFERSIM_REQUIRE(options_.timeScaleNum >= 1 && options_.timeScaleDen >= 1 &&
                       options_.timeScaleNum <= 1'000'000'000'000'000'000ull &&
                       options_.timeScaleDen <= 1'000'000'000'000'000'000ull,
                   name_, ": time scale ", options_.timeScaleNum, "/", options_.timeScaleDen,
                   " out of range (numerator and denominator in [1, 10^18])");
}

std::optional<RequestTraceReader::Row> RequestTraceReader::nextRow() {
  std::string line;
  do {
    if (!readLine(line)) {
      if (input_->bad()) failAt("read error");
      return std::nullopt;
    }
  } while (trim(line).empty());
  const auto fields = splitFields(line);
  if (fields.size() != columnNames_.size())
    failAt("expected " + std::to_string(columnNames_.size()) + " columns as in the header, got " +
           std::to_string(fields.size()));
  Row row{};
  const std::string_view when = fields[arrivalColumn_];
  if (layout_ == TraceLayout::Azure) {
    const auto t = parseAzureTimestamp(when);
    if (!t) failColumn(arrivalColumn_, quoted(when) + " is not a timestamp (expected YYYY-MM-DD HH:MM:SS.fffffff)");
    row.time = *t;
  } else {
    bool plainDecimal = !when.empty();
    for (char c : when) plainDecimal = plainDecimal && ((c >= '0' && c <= '9') || c == '.');
    if (!when.empty() && (when[0] == '-')) failColumn(arrivalColumn_, quoted(when) + " is negative");
    try {
      row.time = parseDuration(plainDecimal ? std::string(when) + " s" : std::string(when)).ps();
    } catch (const Error& e) {
      failColumn(arrivalColumn_, quoted(when) + " is not an arrival time in seconds or with a unit (" + e.what() + ")");
    }
    if (row.time < 0) failColumn(arrivalColumn_, quoted(when) + " is negative");
  }
  const auto prompt = parseTokens(fields[promptColumn_]);
  if (!prompt) failColumn(promptColumn_, quoted(fields[promptColumn_]) + " is not a token count (an integer from 1 to 4294967295)");
  const auto output = parseTokens(fields[outputColumn_]);
  if (!output) failColumn(outputColumn_, quoted(fields[outputColumn_]) + " is not a token count (an integer from 1 to 4294967295)");
  row.prompt = *prompt;
  row.output = *output;
  if (haveFirstRow_ && row.time < previous_)
    failColumn(arrivalColumn_, quoted(when) + " is earlier than the row before; rows must be in arrival order");
  if (!haveFirstRow_) {
    haveFirstRow_ = true;
    firstRowTime_ = row.time;
  }
  previous_ = row.time;
  return row;
}

std::optional<RequestSpec> RequestTraceReader::next() {
  if (spent_) return std::nullopt;
  if (options_.limit != 0 && returned_ >= options_.limit) return std::nullopt;
  std::optional<Row> row;
  for (;;) {
    row = nextRow();
    if (!row) {
      spent_ = true;
      return std::nullopt;
    }
    if (rowsRead_++ >= options_.skipRows) break;
  }
  if (!haveOrigin_) {
    haveOrigin_ = true;
    origin_ = options_.rebase ? row->time : layout_ == TraceLayout::Azure ? firstRowTime_ : 0;
  }
  // relative * den / num without overflow: relative fits 80 bits and den 60, so split off the
  // quotient by num first; q * den then fits 123 bits once q itself fits 63.
  const __int128 relative = row->time - origin_;  // >= 0: rows are in order and origin is a row
  const __int128 num = options_.timeScaleNum, den = options_.timeScaleDen;
  const __int128 q = relative / num, r = relative % num;
  constexpr __int128 kLimit = std::numeric_limits<int64_t>::max();
  const __int128 scaled = q > kLimit ? kLimit : q * den + r * den / num;
  if (scaled >= kLimit)
    failColumn(arrivalColumn_, "arrival beyond the simulated time range (int64 picoseconds, about 106 days)");
  return RequestSpec{returned_++, SimTime::fromPs(static_cast<int64_t>(scaled)), row->prompt, row->output};
}

}  // namespace wafersim::workload
