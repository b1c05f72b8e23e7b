#include "models/workload/trace_router.h"

#include "sim/error.h"

namespace wafersim::workload {

TraceRouter::TraceRouter(std::unique_ptr<RoutingTrace> trace, const TraceRouterOptions& options)
    : trace_(std::move(trace)), phaseAware_(options.phaseAware) {
  WAFERSIM_REQUIRE(trace_ != nullptr, "trace router: no trace");
  const bool phases = phaseAware_ && trace_->hasPhases();
  const bool decode = phases && trace_->tokens(RoutingTrace::Segment::Decode) > 0;
  for (uint32_t l = 0; l < trace_->layers(); ++l) {
    main_.push_back(trace_->cursor(l, phases ? RoutingTrace::Segment::Prefill : RoutingTrace::Segment::All));
    if (decode) decode_.push_back(trace_->cursor(l, RoutingTrace::Segment::Decode));
  }
}

TraceRouter::TraceRouter(const std::string& path, const RoutingTraceOptions& traceOptions,
                         const TraceRouterOptions& options)
    : TraceRouter(std::make_unique<RoutingTrace>(path, traceOptions), options) {}

const RoutingTrace::Cursor& TraceRouter::cursor(uint32_t layer, bool decode) const {
  WAFERSIM_REQUIRE(layer < main_.size(), "trace router: layer ", layer, " out of range");
  return decode && !decode_.empty() ? decode_[layer] : main_[layer];
}

void TraceRouter::route(uint32_t layer, std::span<const TokenRef> tokens, std::span<ExpertId> out) {
  checkRouteArguments(*this, layer, tokens, out);
  const uint32_t k = topK();
  for (size_t i = 0; i < tokens.size(); ++i) {
    auto& cursor = !tokens[i].prefill && !decode_.empty() ? decode_[layer] : main_[layer];
    cursor.next(out.subspan(i * k, k));
  }
}

}  // namespace wafersim::workload
