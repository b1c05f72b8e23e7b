// The request workload of an LLM serving run: when requests arrive and how long they are.
//
// A RequestGenerator hands the serving engine one RequestSpec at a time, in arrival order, and is
// pulled lazily, so unlimited workloads cost nothing until used. Two modes:
//   OpenLoop   (poisson, gamma, trace): arrivals do not depend on the system. The engine calls
//              next() until it returns nullopt; onFinished() is a no-op returning nullopt.
//   ClosedLoop (closed): C users each keep one request in flight. next() yields the first
//              min(C, count) requests, all arriving at 0, then nullopt. Each time a request
//              finishes, the engine calls onFinished(t) and gets the replacement arriving at t
//              (no think time), or nullopt once count requests have been issued.
// Ids count from 0 in issue order. Every token count is >= 1. Draws come from RandomStreams
// derived from (run seed, componentId, stream): arrivals, prompt lengths and output lengths each
// use their own stream, so changing the length distribution never moves an arrival.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/workload/arrivals.h"
#include "models/workload/requests_lengths.h"
#include "sim/params.h"
#include "sim/time.h"

namespace wafersim::workload {

struct RequestSpec {
  uint64_t id = 0;
  SimTime arrival;
  uint32_t promptTokens = 1;
  uint32_t outputTokens = 1;

  bool operator==(const RequestSpec&) const = default;
};

class RequestGenerator {
 public:
  enum class Mode { OpenLoop, ClosedLoop };

  virtual ~RequestGenerator() = default;

  virtual Mode mode() const = 0;

  // The next request in arrival order (arrivals never decrease), or nullopt: open loop, the
  // workload is exhausted; closed loop, the initial requests are all issued. Trace generators
  // throw Error{InvalidConfig} for a malformed row ("trace.csv:17: column ...").
  virtual std::optional<RequestSpec> next() = 0;

  // A request finished at finishedAt. Closed loop: returns its replacement, arriving at
  // finishedAt, or nullopt when count requests have been issued. Calling it with no request in
  // flight, or with finishedAt before the latest arrival, is an engine bug: Error{Internal}.
  // Open loop: returns nullopt.
  virtual std::optional<RequestSpec> onFinished(SimTime finishedAt) = 0;
};

// count == 0: unlimited (the generator ends only when arrivals pass SimTime::never()).
std::unique_ptr<RequestGenerator> makeOpenLoopRequests(RenewalArrivals arrivals, TokenLengths prompt,
                                                       TokenLengths output, uint64_t count);
// concurrency >= 1 (Error{InvalidConfig} otherwise); count == 0: unlimited.
std::unique_ptr<RequestGenerator> makeClosedLoopRequests(uint64_t concurrency, TokenLengths prompt,
                                                         TokenLengths output, uint64_t count);

class RequestTraceReader;
std::unique_ptr<RequestGenerator> makeTraceRequests(std::unique_ptr<RequestTraceReader> reader);

// The workload's parameter table (STYLE.md P7):
//   kind          poisson | gamma | closed | trace
//   rate, cv      requests per second and coefficient of variation of the gaps (poisson: cv = 1)
//   concurrency   closed loop: requests in flight
//   count         requests in all (0: unlimited; trace: every row after the skipped ones)
//   prompt_distribution / output_distribution   fixed | uniform | lognormal, with
//   prompt_tokens (fixed), prompt_min / prompt_max (uniform range, lognormal clamp),
//   prompt_mean / prompt_median (lognormal), and the same for output_*
//   trace_file, trace_skip, trace_time_scale (> 1 compresses time: 2 doubles the rate),
//   trace_rebase (the first kept row arrives at 0)
std::vector<ParamSpec> requestWorkloadParams();

// Builds the generator from parameters already checked by resolveParams(given,
// requestWorkloadParams(), where). Cross-parameter errors (prompt_min above prompt_max, kind
// trace with no trace_file, an unknown kind, ...) throw Error{InvalidConfig} naming
// "<where>.<parameter>". A trace file is opened here and its header checked; a relative path is
// relative to the working directory. The seed is the run's.
std::unique_ptr<RequestGenerator> makeRequestGenerator(const Params& resolved, uint64_t seed,
                                                       std::string_view where = "workload",
                                                       uint64_t componentId = 0);

}  // namespace wafersim::workload
