// Replays a recorded routing trace (routing_trace.h) as an ExpertRouter.
//
// Semantics: each MoE layer has its own cursor into the trace, advancing one trace token per routed
// token, in the order route() is called, wrapping around at the end of the trace. Because the
// caller routes the same token batch at every layer of a step, the cursors stay in lockstep: the
// i-th routed token sees one trace token's choices at every layer, so layer-to-layer correlation
// is replayed exactly. Trace tokens are handed out in call order regardless of the request, so
// token-to-token correlation is replayed within a request's prefill chunk but not across the
// interleaved decode tokens of a batch. Phase-aware (default, Chaos files only): prefill tokens
// consume the trace's prefill tokens and decode tokens its decode steps, each with its own cursor
// (decode tokens fall back to the prefill cursor when the trace has no decode steps).
//
// Memory: that of the trace (bounded; see routing_trace.h), cursors included.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/workload/routing.h"
#include "models/workload/routing_trace.h"

namespace wafersim::workload {

struct TraceRouterOptions {
  bool phaseAware = true;  // only meaningful when the trace has phases
};

class TraceRouter final : public ExpertRouter {
 public:
  explicit TraceRouter(std::unique_ptr<RoutingTrace> trace, const TraceRouterOptions& options = {});
  TraceRouter(const std::string& path, const RoutingTraceOptions& traceOptions, const TraceRouterOptions& options = {});

  void route(uint32_t layer, std::span<const TokenRef> tokens, std::span<ExpertId> out) override;

  uint32_t layers() const override { return trace_->layers(); }
  uint32_t experts() const override { return trace_->experts(); }
  uint32_t topK() const override { return trace_->topK(); }

  const RoutingTrace& trace() const { return *trace_; }
  // The cursor prefill (or all) tokens of `layer` use; the one decode tokens use.
  const RoutingTrace::Cursor& cursor(uint32_t layer, bool decode = false) const;

 private:
  std::unique_ptr<RoutingTrace> trace_;
  bool phaseAware_;
  std::vector<RoutingTrace::Cursor> main_;    // per layer: Prefill (phase-aware) or All
  std::vector<RoutingTrace::Cursor> decode_;  // per layer, phase-aware with decode steps only
};

}  // namespace wafersim::workload
