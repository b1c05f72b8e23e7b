// targets.h: request_trace. The bytes are a request-trace CSV (generic or Azure layout), read to
// the end by RequestTraceReader from a stream, twice: with the defaults, and skipping a row,
// limited to a few, time-scaled by 3/2 and not rebased. Besides the reader's rejections
// (Error{InvalidConfig} naming the line and column), what it returns must keep its contract:
// ids counting from 0, arrivals in order, token counts >= 1.
#include <memory>
#include <sstream>
#include <string>

#include "fuzz/rejections.h"
#include "fuzz/targets.h"
#include "models/workload/requests_trace.h"

namespace wafersim::fuzz {

namespace {
constexpr const char* kTarget = "request_trace";

void readAll(const std::string& text, const workload::TraceOptions& options) {
  rejectsOnlyWithErrors(kTarget, [&] {
    workload::RequestTraceReader reader(std::make_unique<std::istringstream>(text), "fuzz.csv", options);
    uint64_t count = 0;
    SimTime last = SimTime::zero();
    while (auto request = reader.next()) {
      if (request->id != count)
        throw Finding(std::string(kTarget) + ": request " + std::to_string(count) + " has id " + std::to_string(request->id));
      if (count > 0 && request->arrival < last)
        throw Finding(std::string(kTarget) + ": request " + std::to_string(count) + " arrives before the one before it");
      if (request->promptTokens < 1 || request->outputTokens < 1)
        throw Finding(std::string(kTarget) + ": request " + std::to_string(count) + " has a token count of 0");
      if (options.limit != 0 && count >= options.limit)
        throw Finding(std::string(kTarget) + ": more requests than the limit");
      last = request->arrival;
      ++count;
    }
  });
}
}  // namespace

void requestTraceInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  readAll(text, workload::TraceOptions{});
  readAll(text, workload::TraceOptions{.skipRows = 1, .limit = 5, .timeScaleNum = 3, .timeScaleDen = 2, .rebase = false});
}

}  // namespace wafersim::fuzz
