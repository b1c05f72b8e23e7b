// Expert routing for the MoE serving model: which experts each token visits at each MoE layer.
//
// Contract (for every ExpertRouter):
//  - Exactly one simulation component owns a router and calls it in a deterministic order: for
//    each engine step, for each MoE layer in increasing order, route(layer, tokens, out) with the
//    same token batch at every layer of that step. Routers may keep state across calls (a trace
//    cursor, the previous layer's choices, a request's previous token); the result is a pure
//    function of the construction arguments and the sequence of calls, so runs are reproducible.
//  - out.size() == tokens.size() * topK(); token i's choices are out[i*topK() .. (i+1)*topK()),
//    topK() distinct expert ids in [0, experts()). Their order carries no meaning.
//  - Not thread-safe: called from the owning component's simulation thread only.
//
// Which router to pick:
//  - SyntheticRouter (synthetic_router.h): seeded knobs for skew, co-activation, layer-to-layer
//    and token-to-token correlation, drifting hot set; cheap, any size of model.
//  - TraceRouter (trace_router.h): replays a recorded routing trace (HD-MoE Mixtral files,
//    "Patterns behind Chaos" per-request files) through a bounded-memory streaming reader.
//  - RoutingStats (routing_stats.h) measures either, so a synthetic setting can be fitted to a trace.
#pragma once

#include <cstdint>
#include <span>

namespace wafersim::workload {

using ExpertId = uint32_t;

// One token in an engine step, as the router sees it.
struct TokenRef {
  uint64_t request = 0;   // the request the token belongs to
  uint32_t position = 0;  // its position in the request's sequence (prompt and generated tokens)
  bool prefill = false;   // true for prompt tokens processed in a prefill (chunk), false for decode
};

class ExpertRouter {
 public:
  virtual ~ExpertRouter() = default;

  // Fills out with tokens.size() x topK() expert ids for MoE layer `layer` (0-based, < layers()).
  // Throws Error{InvalidConfig} on a wrong layer or a wrongly sized `out`.
  virtual void route(uint32_t layer, std::span<const TokenRef> tokens, std::span<ExpertId> out) = 0;

  // The request will route no more tokens: a router may drop per-request state. Default: no-op.
  virtual void requestFinished(uint64_t /*request*/) {}

  virtual uint32_t layers() const = 0;   // MoE layers
  virtual uint32_t experts() const = 0;  // experts per MoE layer
  virtual uint32_t topK() const = 0;     // experts chosen per token per layer
};

// Checks the arguments of a route() call against the router's shape (shared by implementations).
void checkRouteArguments(const ExpertRouter& router, uint32_t layer, std::span<const TokenRef> tokens,
                         std::span<const ExpertId> out);

}  // namespace wafersim::workload
