// targets.h: routing_trace. The bytes are an expert-routing trace (HD-MoE '{' or Patterns behind
// Chaos '['). RoutingTrace reads a file, so the bytes go into an anonymous in-memory file
// (memfd_create) opened by its /proc/self/fd path; nothing touches the disk. The trace is indexed
// with a 64-byte read buffer and 3-token cursors (so that every token straddles refills), at most
// 256 experts; then every layer's cursors of every segment read up to twice their tokens (wrapping
// once), at most 512 tokens each. Indexing rejects with Error{InvalidConfig}; once it has accepted
// a trace the cursors must read it without error, and every id must be < experts.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz/rejections.h"
#include "fuzz/targets.h"
#include "models/workload/routing_trace.h"

namespace wafersim::fuzz {

namespace {
constexpr const char* kTarget = "routing_trace";
constexpr uint32_t kExperts = 256;
constexpr uint64_t kMaxTokensPerCursor = 512;

// An in-memory file holding the bytes, closed on destruction.
class MemoryFile {
 public:
  MemoryFile(const uint8_t* data, size_t size) : fd_(::memfd_create("wafersim-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("memfd_create failed");
    for (size_t done = 0; done < size;) {
      const ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) throw std::runtime_error("writing the memory file failed");
      done += static_cast<size_t>(n);
    }
  }
  ~MemoryFile() { ::close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

void readCursor(workload::RoutingTrace& trace, uint32_t layer, workload::RoutingTrace::Segment segment) {
  const uint64_t tokens = std::min<uint64_t>(trace.tokens(segment) * 2, kMaxTokensPerCursor);
  if (tokens == 0) return;
  auto cursor = trace.cursor(layer, segment);
  std::vector<workload::ExpertId> ids(trace.topK());
  for (uint64_t t = 0; t < tokens; ++t) {
    cursor.next(ids);
    for (workload::ExpertId id : ids)
      if (id >= trace.experts())
        throw Finding(std::string(kTarget) + ": layer " + std::to_string(layer) + " token " + std::to_string(t) +
                      " reads expert " + std::to_string(id));
  }
}
}  // namespace

void routingTraceInput(const uint8_t* data, size_t size) {
  MemoryFile file(data, size);
  workload::RoutingTraceOptions options;
  options.experts = kExperts;
  options.readBufferBytes = 64;
  options.cursorTokens = 3;
  std::unique_ptr<workload::RoutingTrace> trace;
  if (!rejectsOnlyWithErrors(kTarget, [&] { trace = std::make_unique<workload::RoutingTrace>(file.path(), options); }))
    return;
  using Segment = workload::RoutingTrace::Segment;
  try {
    for (uint32_t layer = 0; layer < trace->layers(); ++layer) {
      readCursor(*trace, layer, Segment::All);
      if (trace->hasPhases()) {
        readCursor(*trace, layer, Segment::Prefill);
        readCursor(*trace, layer, Segment::Decode);
      }
    }
  } catch (const Finding&) {
    throw;
  } catch (const std::exception& e) {
    throw Finding(std::string(kTarget) + ": reading an indexed trace threw " + typeName(e) + ": " + e.what());
  }
}

}  // namespace wafersim::fuzz
