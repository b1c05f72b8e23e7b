#include "models/workload/routing_trace.h"

#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "sim/error.h"

namespace wafersim::workload {
namespace {

constexpr uint32_t kMaxLayerKey = 1'000'000;  // keys are layer indices; bounds the O(layers) index
constexpr int kMaxSkipDepth = 16;
constexpr size_t kMaxString = 64;

bool isDigit(int c) { return c >= '0' && c <= '9'; }

}  // namespace

const char* toString(RoutingTraceFormat format) {
  return format == RoutingTraceFormat::HdMoe ? "hd-moe" : "patterns-behind-chaos";
}

// A JSON tokenizer over the trace's file and fixed read buffer, for the subset of JSON the trace
// formats use (objects, arrays, short digit strings, non-negative integers, null). Anything else is
// an Invalid token, which the parser reports as "expected X, found Y" with the byte offset.
class RoutingTrace::Scanner {
 public:
  enum class Kind { BeginObject, EndObject, BeginArray, EndArray, Comma, Colon, String, Number, Null, End, Invalid };

  Scanner(const std::string& path, std::FILE* file, std::vector<char>& buffer)
      : path_(path), file_(file), buffer_(buffer) {}

  void seek(uint64_t offset) {
    if (fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0)
      fail(ErrorKind::InvalidConfig, "routing trace ", path_, ": cannot seek to byte ", offset, " (",
           std::strerror(errno), ")");
    bufferStart_ = offset;
    position_ = length_ = 0;
    lineKnown_ = offset == 0;
    line_ = 1;
  }

  uint64_t offset() const { return bufferStart_ + position_; }

  // The next non-blank byte, not consumed; -1 at the end of the file.
  int peek() {
    skipBlanks();
    return look();
  }

  Kind next() {
    skipBlanks();
    tokenOffset_ = offset();
    tokenLine_ = line_;
    const int c = get();
    switch (c) {
      case -1: return kind_ = Kind::End;
      case '{': return kind_ = Kind::BeginObject;
      case '}': return kind_ = Kind::EndObject;
      case '[': return kind_ = Kind::BeginArray;
      case ']': return kind_ = Kind::EndArray;
      case ',': return kind_ = Kind::Comma;
      case ':': return kind_ = Kind::Colon;
      case '"': return kind_ = readString();
      case 'n': {
        const int u = get(), l1 = get(), l2 = get();
        if (u == 'u' && l1 == 'l' && l2 == 'l') return kind_ = Kind::Null;
        return invalid("a malformed literal");
      }
      case 't':
      case 'f': return invalid("a boolean");
      case '-': return invalid("a negative number");
      default:
        if (isDigit(c)) return kind_ = readNumber(c);
        if (c >= 0x20 && c < 0x7F) return invalid(std::string("character '") + static_cast<char>(c) + "'");
        return invalid(detail::concat("byte 0x", std::hex, c));
    }
  }

  void expect(Kind kind, std::string_view expected) {
    if (next() != kind) failExpected(expected);
  }

  uint64_t number() const { return number_; }
  const std::string& text() const { return text_; }
  Kind kind() const { return kind_; }

  [[noreturn]] void failExpected(std::string_view expected, const std::string& found = {}) const {
    std::string where = detail::concat("byte ", tokenOffset_);
    if (lineKnown_) where += detail::concat(" (line ", tokenLine_, ")");
    fail(ErrorKind::InvalidConfig, "routing trace ", path_, ": at ", where, ": expected ", expected, ", found ",
         found.empty() ? describe() : found);
  }

 private:
  std::string describe() const {
    switch (kind_) {
      case Kind::BeginObject: return "'{'";
      case Kind::EndObject: return "'}'";
      case Kind::BeginArray: return "'['";
      case Kind::EndArray: return "']'";
      case Kind::Comma: return "','";
      case Kind::Colon: return "':'";
      case Kind::String: return "string \"" + text_ + "\"";
      case Kind::Number: return detail::concat("number ", number_);
      case Kind::Null: return "null";
      case Kind::End: return "the end of the file (truncated?)";
      case Kind::Invalid: return text_;
    }
    return "?";
  }

  Kind invalid(std::string what) {
    text_ = std::move(what);
    return kind_ = Kind::Invalid;
  }

  Kind readString() {
    text_.clear();
    for (;;) {
      const int c = get();
      if (c == -1) return invalid("an unterminated string");
      if (c == '"') return Kind::String;
      if (c == '\\' || c < 0x20) return invalid("a string with an escape or control character");
      if (text_.size() >= kMaxString) return invalid("a string longer than 64 bytes");
      text_.push_back(static_cast<char>(c));
    }
  }

  Kind readNumber(int first) {
    uint64_t value = static_cast<uint64_t>(first - '0');
    bool tooLarge = false;
    while (isDigit(look())) {
      const int c = get();
      if (value > (1ull << 40)) tooLarge = true;
      else value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    const int after = look();
    if (after == '.' || after == 'e' || after == 'E') return invalid("a non-integer number");
    if (tooLarge) return invalid("a number too large for an expert id");
    number_ = value;
    return Kind::Number;
  }

  void skipBlanks() {
    for (;;) {
      const int c = look();
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
      get();
    }
  }

  int look() {
    if (position_ == length_ && !fill()) return -1;
    return static_cast<unsigned char>(buffer_[position_]);
  }

  int get() {
    if (position_ == length_ && !fill()) return -1;
    const int c = static_cast<unsigned char>(buffer_[position_++]);
    if (c == '\n') ++line_;
    return c;
  }

  bool fill() {
    bufferStart_ += length_;
    position_ = 0;
    length_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
    if (length_ == 0 && std::ferror(file_))
      fail(ErrorKind::InvalidConfig, "routing trace ", path_, ": read error at byte ", bufferStart_);
    return length_ > 0;
  }

  const std::string& path_;
  std::FILE* file_;
  std::vector<char>& buffer_;
  uint64_t bufferStart_ = 0;  // file offset of buffer_[0]
  size_t position_ = 0;
  size_t length_ = 0;
  bool lineKnown_ = true;
  uint64_t line_ = 1;
  uint64_t tokenOffset_ = 0;
  uint64_t tokenLine_ = 1;
  Kind kind_ = Kind::End;
  uint64_t number_ = 0;
  std::string text_;
};

using Kind = RoutingTrace::Scanner::Kind;

RoutingTrace::RoutingTrace(std::string path, const RoutingTraceOptions& options)
    : path_(std::move(path)), options_(options), topK_(options.topK) {
  WAFERSIM_REQUIRE(options.experts >= 1 && options.experts <= (1u << 20), "routing trace ", path_, ": experts = ",
                   options.experts, ", expected 1..2^20");
  WAFERSIM_REQUIRE(options.topK <= options.experts, "routing trace ", path_, ": topK = ", options.topK,
                   " exceeds experts = ", options.experts);
  WAFERSIM_REQUIRE(options.readBufferBytes >= 64 && options.readBufferBytes <= (64u << 20), "routing trace ", path_,
                   ": readBufferBytes = ", options.readBufferBytes, ", expected 64 B..64 MiB");
  WAFERSIM_REQUIRE(options.cursorTokens >= 1 && options.cursorTokens <= (1u << 20), "routing trace ", path_,
                   ": cursorTokens = ", options.cursorTokens, ", expected 1..2^20");
  file_.reset(std::fopen(path_.c_str(), "rb"));
  if (!file_) fail(ErrorKind::InvalidConfig, "routing trace ", path_, ": cannot open (", std::strerror(errno), ")");
  buffer_.resize(options.readBufferBytes);
  scratch_.resize(options.experts);
  seen_.assign(options.experts, 0);
  scanner_ = std::make_unique<Scanner>(path_, file_.get(), buffer_);

  Scanner& s = *scanner_;
  s.seek(0);
  const int first = s.peek();
  if (first == '{') {
    format_ = RoutingTraceFormat::HdMoe;
    indexHdMoe(s);
  } else if (first == '[') {
    format_ = RoutingTraceFormat::PatternsBehindChaos;
    indexChaos(s);
  } else {
    s.next();
    s.failExpected("'{' (an HD-MoE trace) or '[' (a Patterns-behind-Chaos trace)");
  }
  if (options.firstLayers && options.layers > 0 && layers() > options.layers) layers_.resize(options.layers);
  WAFERSIM_REQUIRE(options.layers == 0 || layers() == options.layers, "routing trace ", path_, ": has ", layers(),
                   " MoE layers, expected ", options.layers,
                   options.firstLayers ? " or more" : " (routing.trace_layers: first replays the first ones)");
}

RoutingTrace::~RoutingTrace() = default;

uint64_t RoutingTrace::tokens(Segment segment) const {
  switch (segment) {
    case Segment::All: return prefillTokens_ + decodeTokens_;
    case Segment::Prefill: return prefillTokens_;
    case Segment::Decode: return decodeTokens_;
  }
  return 0;
}

uint32_t RoutingTrace::fileLayer(uint32_t layer) const {
  WAFERSIM_REQUIRE(layer < layers(), "routing trace ", path_, ": MoE layer ", layer, " out of range");
  return layers_[layer].fileLayer;
}

uint32_t RoutingTrace::readLayerKey(Scanner& s) {
  constexpr std::string_view kExpected = "a layer index string such as \"0\"";
  if (s.next() != Kind::String) s.failExpected(kExpected);
  const std::string& text = s.text();
  if (text.empty() || text.size() > 7 || !std::all_of(text.begin(), text.end(), [](char c) { return isDigit(c); }))
    s.failExpected(kExpected);
  const uint32_t key = static_cast<uint32_t>(std::stoul(text));
  if (key >= kMaxLayerKey) s.failExpected("a layer index below 1000000");
  return key;
}

// One token's entry: '[' id, id, ... ']' (the '[' already read when openConsumed). Checks the
// ids against experts, k and each other; writes at most topK() ids (experts while learning k).
void RoutingTrace::readEntry(Scanner& s, ExpertId* out, bool openConsumed) {
  if (!openConsumed) s.expect(Kind::BeginArray, "'[' opening a token's expert ids");
  const uint32_t limit = topK_ != 0 ? topK_ : options_.experts;
  if (++stamp_ == 0) {
    std::fill(seen_.begin(), seen_.end(), 0);
    stamp_ = 1;
  }
  uint32_t n = 0;
  for (;;) {
    if (s.next() != Kind::Number) {
      if (n == 0 && s.kind() == Kind::EndArray) s.failExpected("a token's expert ids", "an empty list");
      s.failExpected("an expert id (a non-negative integer)");
    }
    const uint64_t id = s.number();
    if (id >= options_.experts) s.failExpected(detail::concat("an expert id below ", options_.experts));
    if (n >= limit) s.failExpected(detail::concat("']' after ", topK_, " expert ids (top-", topK_, ")"));
    if (seen_[id] == stamp_) s.failExpected("distinct expert ids within a token", detail::concat("id ", id, " twice"));
    seen_[id] = stamp_;
    out[n++] = static_cast<ExpertId>(id);
    const Kind after = s.next();
    if (after == Kind::EndArray) break;
    if (after != Kind::Comma) s.failExpected("',' or ']' in a token's expert ids");
  }
  if (topK_ == 0) topK_ = n;
  if (n != topK_)
    s.failExpected(detail::concat(topK_, " expert ids per token (top-", topK_, ")"),
                   detail::concat("a token with ", n));
}

// After a token list's '[': validates its entries up to the closing ']' and counts them. A bare
// list of ids (allowBare) is one token.
uint64_t RoutingTrace::validateList(Scanner& s, bool allowBare) {
  const int c = s.peek();
  if (c == ']') {
    s.next();
    return 0;
  }
  if (allowBare && isDigit(c)) {
    readEntry(s, scratch_.data(), /*openConsumed=*/true);
    return 1;
  }
  uint64_t count = 0;
  for (;;) {
    readEntry(s, scratch_.data(), /*openConsumed=*/false);
    ++count;
    const Kind after = s.next();
    if (after == Kind::EndArray) return count;
    if (after != Kind::Comma) s.failExpected("',' or ']' after a token's expert ids");
  }
}

void RoutingTrace::indexHdMoe(Scanner& s) {
  s.expect(Kind::BeginObject, "'{' opening the trace");
  std::vector<uint64_t> start, count;
  std::vector<uint8_t> present;
  if (s.peek() == '}') {
    s.next();
    s.failExpected("a layer index key", "an empty object (no layers)");
  }
  for (;;) {
    const uint32_t key = readLayerKey(s);
    if (key >= present.size()) {
      present.resize(key + 1, 0);
      start.resize(key + 1, 0);
      count.resize(key + 1, 0);
    }
    if (present[key]) s.failExpected("each layer once", detail::concat("layer ", key, " again"));
    present[key] = 1;
    s.expect(Kind::Colon, "':' after a layer key");
    s.expect(Kind::BeginArray, detail::concat("'[' opening layer ", key, "'s token list"));
    start[key] = s.offset();
    count[key] = validateList(s, /*allowBare=*/false);
    const Kind after = s.next();
    if (after == Kind::EndObject) break;
    if (after != Kind::Comma) s.failExpected("',' or '}' after a layer's token list");
  }
  s.expect(Kind::End, "the end of the file after the closing '}'");
  for (uint32_t l = 0; l < present.size(); ++l) {
    WAFERSIM_REQUIRE(present[l], "routing trace ", path_, ": layer ", l, " missing (layer keys must be 0..",
                     present.size() - 1, ")");
    WAFERSIM_REQUIRE(count[l] == count[0], "routing trace ", path_, ": layer ", l, " has ", count[l],
                     " tokens, layer 0 has ", count[0], " (every layer lists the same tokens)");
    layers_.push_back({l, start[l]});
  }
  WAFERSIM_REQUIRE(count[0] > 0, "routing trace ", path_, ": no tokens");
  prefillTokens_ = count[0];
}

void RoutingTrace::indexChaos(Scanner& s) {
  s.expect(Kind::BeginArray, "'[' opening the array of steps");
  if (s.peek() == ']') {
    s.next();
    s.failExpected("at least one step (the prefill)", "an empty array");
  }
  enum : uint8_t { kAbsent = 0, kDense = 1, kMoe = 2 };
  std::vector<uint8_t> kind;        // per file layer, from step 0
  std::vector<uint64_t> start;      // per file layer: its prefill list
  std::vector<uint64_t> stepSeen;   // per file layer: last step + 1 that had it
  uint64_t keysInStep0 = 0;
  uint64_t step = 0;
  for (;;) {
    s.expect(Kind::BeginObject, detail::concat("'{' opening step ", step));
    if (step == 1) decodeStart_ = s.offset() - 1;
    if (s.peek() == '}') {
      s.next();
      s.failExpected("layer keys in a step", "an empty step");
    }
    uint64_t keys = 0;
    for (;;) {
      const uint32_t key = readLayerKey(s);
      if (step == 0 && key >= kind.size()) {
        kind.resize(key + 1, kAbsent);
        start.resize(key + 1, 0);
        stepSeen.resize(key + 1, 0);
      }
      if (step > 0 && (key >= kind.size() || kind[key] == kAbsent))
        s.failExpected(detail::concat("a layer key present in step 0 (step ", step, ")"));
      if (stepSeen[key] == step + 1)
        s.failExpected("each layer once per step", detail::concat("layer ", key, " again in step ", step));
      stepSeen[key] = step + 1;
      ++keys;
      s.expect(Kind::Colon, "':' after a layer key");
      if (step == 0) {
        const Kind value = s.next();
        if (value == Kind::Null) {
          kind[key] = kDense;
        } else if (value == Kind::BeginArray) {
          kind[key] = kMoe;
          start[key] = s.offset();
          const uint64_t n = validateList(s, /*allowBare=*/false);
          if (n == 0) s.failExpected("at least one prompt token in the prefill step", "an empty list");
          if (prefillTokens_ == 0) prefillTokens_ = n;
          if (n != prefillTokens_)
            s.failExpected(detail::concat(prefillTokens_, " prefill tokens (as in the first MoE layer)"),
                           detail::concat(n, " for layer ", key));
        } else {
          s.failExpected("null (a dense layer) or '[' (an MoE layer's tokens)");
        }
      } else if (kind[key] == kDense) {
        s.expect(Kind::Null, detail::concat("null (layer ", key, " is dense in step 0)"));
      } else {
        s.expect(Kind::BeginArray, detail::concat("'[' (layer ", key, " is an MoE layer in step 0)"));
        const uint64_t n = validateList(s, /*allowBare=*/true);
        if (n != 1) s.failExpected("one token per MoE layer in a decode step", detail::concat(n, " tokens"));
      }
      const Kind after = s.next();
      if (after == Kind::EndObject) break;
      if (after != Kind::Comma) s.failExpected("',' or '}' in a step");
    }
    if (step == 0) keysInStep0 = keys;
    if (keys != keysInStep0) {
      uint32_t missing = 0;
      while (missing < kind.size() && (kind[missing] == kAbsent || stepSeen[missing] == step + 1)) ++missing;
      fail(ErrorKind::InvalidConfig, "routing trace ", path_, ": step ", step, " (ending at byte ", s.offset(),
           "): layer ", missing, " missing");
    }
    ++step;
    const Kind after = s.next();
    if (after == Kind::EndArray) break;
    if (after != Kind::Comma) s.failExpected("',' or ']' between steps");
  }
  s.expect(Kind::End, "the end of the file after the closing ']'");
  for (uint32_t l = 0; l < kind.size(); ++l)
    if (kind[l] == kMoe) layers_.push_back({l, start[l]});
  WAFERSIM_REQUIRE(!layers_.empty(), "routing trace ", path_, ": no MoE layers (every layer is null)");
  decodeTokens_ = step - 1;
}

void RoutingTrace::skipValue(Scanner& s) {
  int depth = 0;
  do {
    switch (s.next()) {
      case Kind::BeginArray:
        if (++depth > kMaxSkipDepth) s.failExpected("a shallower value");
        break;
      case Kind::EndArray:
        if (--depth < 0) s.failExpected("a value");
        break;
      case Kind::Number:
      case Kind::Null: break;
      case Kind::Comma:
        if (depth == 0) s.failExpected("a value");
        break;
      default: s.failExpected("a value (null or a list of expert ids)");
    }
  } while (depth > 0);
}

// One decode step object: finds `fileLayer` and reads its single token, skipping the other layers.
void RoutingTrace::readDecodeStep(Scanner& s, uint32_t fileLayer, ExpertId* out) {
  s.expect(Kind::BeginObject, "'{' opening a decode step");
  bool found = false;
  for (;;) {
    const uint32_t key = readLayerKey(s);
    s.expect(Kind::Colon, "':' after a layer key");
    if (key == fileLayer && !found) {
      s.expect(Kind::BeginArray, "'[' opening the decode token's list");
      if (isDigit(s.peek())) {
        readEntry(s, out, /*openConsumed=*/true);
      } else {
        readEntry(s, out, /*openConsumed=*/false);
        s.expect(Kind::EndArray, "']' after the decode step's one token");
      }
      found = true;
    } else {
      skipValue(s);
    }
    const Kind after = s.next();
    if (after == Kind::EndObject) break;
    if (after != Kind::Comma) s.failExpected("',' or '}' in a step");
  }
  if (!found) s.failExpected(detail::concat("layer ", fileLayer, " in every decode step"), "a step without it");
}

RoutingTrace::Cursor RoutingTrace::cursor(uint32_t layer, Segment segment) {
  return Cursor(this, layer, segment);
}

RoutingTrace::Cursor::Cursor(RoutingTrace* trace, uint32_t layer, Segment segment)
    : trace_(trace), layer_(layer), segment_(segment) {
  WAFERSIM_REQUIRE(layer < trace->layers(), "routing trace ", trace->path_, ": MoE layer ", layer,
                   " out of range (", trace->layers(), " layers)");
  WAFERSIM_REQUIRE(segment == Segment::All || trace->hasPhases(), "routing trace ", trace->path_,
                   ": a ", toString(trace->format_), " trace has no prefill/decode segments");
  WAFERSIM_REQUIRE(trace->tokens(segment) > 0, "routing trace ", trace->path_, ": the ",
                   segment == Segment::Decode ? "decode" : "prefill", " segment has no tokens");
  part_ = segment == Segment::Decode ? 1 : 0;
  offset_ = part_ == 0 ? trace->layers_[layer].listStart : trace->decodeStart_;
  ids_.reserve(static_cast<size_t>(trace->options_.cursorTokens) * trace->topK_);
}

uint64_t RoutingTrace::Cursor::wraps() const { return consumed_ / trace_->tokens(segment_); }

void RoutingTrace::Cursor::next(std::span<ExpertId> out) {
  const uint32_t k = trace_->topK_;
  WAFERSIM_REQUIRE(out.size() == k, "routing trace cursor: output holds ", out.size(), " ids, expected ", k);
  if (position_ == ids_.size()) refill();
  std::copy(ids_.begin() + static_cast<std::ptrdiff_t>(position_),
            ids_.begin() + static_cast<std::ptrdiff_t>(position_ + k), out.begin());
  position_ += k;
  ++consumed_;
}

void RoutingTrace::Cursor::refill() {
  RoutingTrace& t = *trace_;
  Scanner& s = *t.scanner_;
  const uint32_t k = t.topK_;
  const uint64_t partTokens = part_ == 0 ? t.prefillTokens_ : t.decodeTokens_;
  const uint64_t n = std::min<uint64_t>(t.options_.cursorTokens, partTokens - index_);
  ids_.clear();
  ids_.resize(static_cast<size_t>(n) * k);
  position_ = 0;
  s.seek(offset_);
  for (uint64_t i = 0; i < n; ++i) {
    if (part_ == 0) {
      t.readEntry(s, ids_.data() + i * k, /*openConsumed=*/false);
    } else {
      t.readDecodeStep(s, t.layers_[layer_].fileLayer, ids_.data() + i * k);
    }
    const bool last = index_ + i + 1 == partTokens;
    s.expect(last ? Kind::EndArray : Kind::Comma, last ? "']' after the last token" : "',' between tokens");
  }
  offset_ = s.offset();
  index_ += n;
  if (index_ < partTokens) return;
  index_ = 0;  // the stretch is done: go on to the decode steps (All on a Chaos file) or wrap around
  if (segment_ == Segment::All && part_ == 0 && t.decodeTokens_ > 0) {
    part_ = 1;
  } else if (segment_ == Segment::All) {
    part_ = 0;
  }
  offset_ = part_ == 0 ? t.layers_[layer_].listStart : t.decodeStart_;
}

}  // namespace wafersim::workload
