// A recorded expert-routing trace on disk, read as a stream with bounded memory.
//
// Formats (detected from the first non-blank byte):
//  - HD-MoE ('{'): one JSON object, keys are MoE layer indices as strings "0".."L-1", each value a
//    list with one entry per token (the same token order in every layer), each entry the list of
//    the k expert ids the router chose: {"0": [[5, 1], [3, 6], ...], "1": [...], ...}
//    (angerybob/HD-MoE expert_trace/, e.g. ../shared/data/hdmoe-mixtral-mtbench/). Its tokens
//    carry no phase: tokens(Segment::All) only.
//  - Patterns behind Chaos ('['): the per-request files of the Hugging Face dataset
//    core12345/MoE_expert_selection_trace. A JSON array of steps; step 0 is the prefill, an object
//    keyed by layer index string whose value is null (a dense layer) or a list with one entry (k
//    ids) per prompt token; steps 1..N are decode steps with the same keys, each MoE layer holding
//    the one generated token's entry (we accept [[ids]] or a bare [ids]). MoE layers are numbered
//    0.. in increasing layer index, skipping the dense (null) ones. Our reading of the layout comes
//    from research/seeds.md 3.5 (verified there on mirrored Llama4 files); we could not see the
//    dataset itself. Prefill tokens are Segment::Prefill, decode tokens Segment::Decode.
//
// Construction makes one indexing pass over the whole file that validates all of it (nesting,
// ids < experts, the same k everywhere, distinct ids within a token, every layer present with the
// same token count, nothing after the closing bracket) and records, per MoE layer and segment,
// the byte offset where its tokens start and how many there are. A malformed file throws
// Error{InvalidConfig} naming the file, the byte offset (and line during the indexing pass) and
// what was expected; no input crashes the reader.
//
// Memory: one read buffer of readBufferBytes, O(layers) offsets, and per Cursor at most
// cursorTokens x k decoded ids: never O(file). Time: the index pass is linear in the file; a
// cursor re-reads its own stretch of the file once per pass (a Decode cursor of a Chaos file skips
// over the other layers' entries of each decode step).
//
// Not thread-safe: cursors share the trace's file handle and read buffer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/workload/routing.h"

namespace wafersim::workload {

enum class RoutingTraceFormat { HdMoe, PatternsBehindChaos };
const char* toString(RoutingTraceFormat format);

struct RoutingTraceOptions {
  uint32_t experts = 0;                // required: every id must be < experts
  uint32_t topK = 0;                   // 0: learn k from the first token; else every token must have k ids
  uint32_t layers = 0;                 // 0: any; else the trace must have exactly this many MoE layers
  bool firstLayers = false;            // with layers: a trace with more MoE layers keeps its first `layers`
  uint32_t readBufferBytes = 16 * 1024;  // the one read buffer (>= 64)
  uint32_t cursorTokens = 1024;          // tokens a cursor decodes per refill (>= 1)
};

class RoutingTrace {
 public:
  enum class Segment { All, Prefill, Decode };

  // Opens and indexes `path`; throws Error{InvalidConfig} if it cannot be read or is malformed.
  RoutingTrace(std::string path, const RoutingTraceOptions& options);
  ~RoutingTrace();
  RoutingTrace(const RoutingTrace&) = delete;
  RoutingTrace& operator=(const RoutingTrace&) = delete;

  const std::string& path() const { return path_; }
  RoutingTraceFormat format() const { return format_; }
  uint32_t layers() const { return static_cast<uint32_t>(layers_.size()); }
  uint32_t experts() const { return options_.experts; }
  uint32_t topK() const { return topK_; }
  bool hasPhases() const { return format_ == RoutingTraceFormat::PatternsBehindChaos; }
  // Tokens per MoE layer in a segment (every layer has the same). All = Prefill + Decode.
  uint64_t tokens(Segment segment = Segment::All) const;
  // The layer index in the file of MoE layer `layer` (differs from `layer` when dense layers are skipped).
  uint32_t fileLayer(uint32_t layer) const;
  // Bytes of the read buffer: fixed at construction, never grows.
  size_t readBufferBytes() const { return buffer_.size(); }

  // Reads one layer's tokens in file order, one token per next(), wrapping to the segment's first
  // token after its last. Borrows the trace, which must outlive it. Segment::All on a Chaos file is
  // the prefill tokens followed by the decode tokens.
  class Cursor {
   public:
    // Writes the next token's topK() ids into out (out.size() == topK()).
    void next(std::span<ExpertId> out);
    uint64_t consumed() const { return consumed_; }   // tokens returned so far
    uint64_t wraps() const;                           // completed passes over the segment
    size_t bufferedTokens() const { return ids_.size() / trace_->topK_; }  // decoded ahead, <= cursorTokens
    size_t bufferCapacityTokens() const { return ids_.capacity() / trace_->topK_; }

   private:
    friend class RoutingTrace;
    Cursor(RoutingTrace* trace, uint32_t layer, Segment segment);
    void refill();

    RoutingTrace* trace_;
    uint32_t layer_;
    Segment segment_;
    int part_ = 0;              // which stretch: 0 = prefill/contiguous, 1 = decode steps
    uint64_t offset_ = 0;       // byte offset of the next undecoded token
    uint64_t index_ = 0;        // tokens of the current stretch decoded so far
    std::vector<ExpertId> ids_; // decoded, not yet returned, k per token
    size_t position_ = 0;       // into ids_
    uint64_t consumed_ = 0;
  };

  Cursor cursor(uint32_t layer, Segment segment = Segment::All);

  class Scanner;  // the JSON tokenizer, internal to routing_trace.cc

 private:
  struct LayerIndex {
    uint32_t fileLayer = 0;
    uint64_t listStart = 0;  // byte offset just after the '[' of its (prefill) token list
  };

  void indexHdMoe(Scanner& s);
  void indexChaos(Scanner& s);
  uint64_t validateList(Scanner& s, bool allowBare);
  uint32_t readLayerKey(Scanner& s);
  void readEntry(Scanner& s, ExpertId* out, bool openConsumed);
  void readDecodeStep(Scanner& s, uint32_t fileLayer, ExpertId* out);
  void skipValue(Scanner& s);

  std::string path_;
  RoutingTraceOptions options_;
  RoutingTraceFormat format_ = RoutingTraceFormat::HdMoe;
  uint32_t topK_ = 0;
  std::vector<LayerIndex> layers_;
  uint64_t prefillTokens_ = 0;  // HD-MoE: all tokens
  uint64_t decodeTokens_ = 0;   // Chaos: steps after the first
  uint64_t decodeStart_ = 0;    // Chaos: byte offset of step 1's '{'
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::vector<char> buffer_;
  std::vector<ExpertId> scratch_;  // one entry's ids during validation (<= experts)
  std::vector<uint32_t> seen_;     // per expert: the entry stamp that last saw it (distinctness check)
  uint32_t stamp_ = 0;
  std::unique_ptr<Scanner> scanner_;
};

}  // namespace wafersim::workload
