// Request traces from CSV files, read one line at a time (a multi-gigabyte trace is fine).
//
// Two layouts, told apart by the header (column names match case-insensitively, in any order;
// other columns are ignored):
//   Generic: arrival,prompt_tokens,output_tokens. arrival is seconds as a plain decimal ("1.25")
//            or a duration with a unit ("1250 ms"), exact to the picosecond; arrival times are
//            as written.
//   Azure:   TIMESTAMP,ContextTokens,GeneratedTokens, the public Azure LLM inference trace.
//            TIMESTAMP is "2023-11-16 18:15:46.6805900" (a 'T' separator and 0 to 12 fraction
//            digits are accepted); the arrival is the time since the first data row, computed
//            exactly with integer arithmetic.
// Rows must be in arrival order; token counts are integers >= 1 that fit 32 bits. Fields may be
// padded with spaces or wrapped in one pair of double quotes (no commas inside fields); blank
// lines are skipped; CRLF line ends and a UTF-8 byte order mark are accepted.
// Every error is Error{InvalidConfig} naming the file, line and column:
//   "trace.csv:17: column ContextTokens: 'abc' is not a token count".
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/workload/requests.h"

namespace wafersim::workload {

enum class TraceLayout { Generic, Azure };

struct TraceOptions {
  uint64_t skipRows = 0;  // data rows dropped first (still checked: a bad row stops the read)
  uint64_t limit = 0;     // most requests returned; 0: every row
  // Arrival times are divided by timeScaleNum / timeScaleDen (2/1 doubles the rate), exactly,
  // rounding down. Both in [1, 10^18].
  uint64_t timeScaleNum = 1;
  uint64_t timeScaleDen = 1;
  // Subtract the first kept row's time so that the replay starts at 0 (after skipRows this moves
  // the window to the start; without skipping it changes only generic traces that start late).
  bool rebase = true;
};

class RequestTraceReader {
 public:
  // Opens the file and reads the header; Error{InvalidConfig} if it cannot be opened or the
  // header names neither layout.
  explicit RequestTraceReader(const std::string& path, TraceOptions options = {});
  // Reads from a stream, naming it `name` in messages (tests, fuzzing, stdin).
  RequestTraceReader(std::unique_ptr<std::istream> input, std::string name, TraceOptions options = {});
  ~RequestTraceReader();
  RequestTraceReader(const RequestTraceReader&) = delete;
  RequestTraceReader& operator=(const RequestTraceReader&) = delete;

  TraceLayout layout() const { return layout_; }
  const std::string& name() const { return name_; }

  // The next kept row as a request (ids count kept rows from 0), or nullopt at the end of the
  // file or the limit. After an error the reader is spent: later calls return nullopt.
  std::optional<RequestSpec> next();

 private:
  struct Row;
  void readHeader();
  bool readLine(std::string& line);
  std::optional<Row> nextRow();
  [[noreturn]] void failAt(const std::string& message);
  [[noreturn]] void failColumn(size_t column, const std::string& message);

  std::unique_ptr<std::istream> input_;
  std::string name_;
  TraceOptions options_;
  TraceLayout layout_ = TraceLayout::Generic;
  std::vector<std::string> columnNames_;
  size_t arrivalColumn_ = 0, promptColumn_ = 0, outputColumn_ = 0;
  uint64_t line_ = 0;
  uint64_t rowsRead_ = 0;
  uint64_t returned_ = 0;
  bool haveFirstRow_ = false, haveOrigin_ = false, spent_ = false;
  __int128 firstRowTime_ = 0;  // Azure: ps since 1970 of the first data row
  __int128 origin_ = 0;        // subtracted from every row's time
  __int128 previous_ = 0;      // the last row's time, for the order check
};

// Parses the Azure TIMESTAMP form to picoseconds since 1970-01-01 00:00:00, exactly; nullopt
// when the text is not such a timestamp. Exposed for tests.
std::optional<__int128> parseAzureTimestamp(std::string_view text);

}  // namespace wafersim::workload
