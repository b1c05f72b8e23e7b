// The fuzz harnesses: one function per surface where outside bytes enter wafersim (issue 19, "Bad
// input"). Each takes any bytes, drives them through the same entry points a process uses, and
// returns normally when the input was accepted or rejected the documented way. libFuzzer runs
// them (libfuzzer_main.cc, the `fuzz` preset; bench/fuzz.sh), and tests/fuzz's corpus replay
// test runs the seed corpus and every regression input through them with the normal build.
//
// Contract of every harness:
//  - A rejection is what the surface documents: wafersim::Error of a kind other than Internal for
//    parsers and loaders; a counted proto::Rejection for Cap'n Proto frames (the codec never
//    throws); a 4xx answer from the HTTP router.
//  - Anything else is a finding and throws Finding naming the target and what happened:
//    Error{Internal} (an invariant fired on user input), any other exception escaping a parser,
//    a 5xx answer from the router, an accepted message that does not survive a round trip.
//    Sanitizer reports and crashes are findings by themselves.
//  - Bounded: a harness never reads files other than the ones it writes for itself, never opens
//    a socket, and caps what an input can make it do (token counts read, sweep points, sizes).
//  - No state survives between calls that could change the next call's outcome (libFuzzer needs
//    the same input to behave the same way); the harnesses may be called from one thread only.
//
// Targets (the libFuzzer program is fuzz_NAME, the corpus tests/fuzz/corpus/NAME/):
//   scenario           scenario YAML/JSON: parseScenario, then the model's parameters resolved
//                      against the catalog (what `wafersim run`, the service and a node check)
//   control_message    Cap'n Proto frames on the control sockets (coordinator <-> node): every
//                      control kind decoded and read, an Assign's scenario parsed like a node does
//   data_message       frames on a node's data socket: event batches and window reports
//   placement_message  frames to and from the placement service: a request decoded, read and
//                      decided by its policy (runPolicy), the reply encoded and read back
//   http_request       raw HTTP/1.1 requests parsed (Beast, as obs/http_server.cc does) and
//                      dispatched on a router with the coordinator API's routes (openApi())
//   api_body           JSON bodies of POST /api/v1/runs and /api/v1/sweeps (the sweep expanded)
//   request_trace      request-trace CSV (RequestTraceReader), read to the end
//   routing_trace      expert-routing-trace JSON (RoutingTrace), indexed and read with cursors
//   checkpoint         checkpoint part files (sim/checkpoint.h), and their statistics
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wafersim::fuzz {

// A contract violation found by a harness (see above).
struct Finding : std::logic_error {
  using std::logic_error::logic_error;
};

using Harness = void (*)(const uint8_t* data, size_t size);

struct Target {
  const char* name;  // "scenario": the corpus folder and the program fuzz_NAME
  Harness run;
};

// Every target, in the order above.
std::span<const Target> targets();
// The target of that name; throws std::invalid_argument listing the names.
const Target& target(std::string_view name);

void scenarioInput(const uint8_t* data, size_t size);
void controlMessageInput(const uint8_t* data, size_t size);
void dataMessageInput(const uint8_t* data, size_t size);
void placementMessageInput(const uint8_t* data, size_t size);
void httpRequestInput(const uint8_t* data, size_t size);
void apiBodyInput(const uint8_t* data, size_t size);
void requestTraceInput(const uint8_t* data, size_t size);
void routingTraceInput(const uint8_t* data, size_t size);
void checkpointInput(const uint8_t* data, size_t size);

}  // namespace wafersim::fuzz
