// targets.h: checkpoint. The bytes are a checkpoint part file (sim/checkpoint.h), read twice: as
// they are, and as the body of a part file whose header and checksum are made right (so that the
// fuzzer reaches the body's parser instead of stopping at the checksum). Besides the reader's
// rejections (Error{InvalidConfig} naming the file and the defect), an accepted part must encode
// back to the same bytes, and every component's saved statistics must either be refused or
// restore to statistics that save and restore to themselves.
#include <string>
#include <string_view>

#include "fuzz/rejections.h"
#include "fuzz/targets.h"
#include "sim/checkpoint.h"
#include "sim/statistics.h"

namespace wafersim::fuzz {

namespace {
constexpr const char* kTarget = "checkpoint";

void checkStats(const std::string& bytes) {
  StatSet stats;
  const bool accepted = rejectsOnlyWithErrors(kTarget, [&] {
    StateReader in(bytes, "stats");
    stats.restore(in);
    in.expectEnd();
  });
  if (!accepted) return;
  StateWriter once;
  stats.save(once);
  StatSet again;
  StateReader in(once.data(), "stats again");
  again.restore(in);
  StateWriter twice;
  again.save(twice);
  if (twice.data() != once.data()) throw Finding(std::string(kTarget) + ": statistics do not survive a round trip");
}

void readPart(std::string_view bytes) {
  CheckpointPart part;
  if (!rejectsOnlyWithErrors(kTarget, [&] { part = decodeCheckpointPart(bytes, "fuzz.part"); })) return;
  if (encodeCheckpointPart(part) != bytes)
    throw Finding(std::string(kTarget) + ": an accepted part does not encode back to its bytes");
  for (const ComponentCheckpoint& c : part.components) checkStats(c.stats);
}
}  // namespace

void checkpointInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  readPart(bytes);
  readPart(wrapCheckpointBody(bytes));
}

}  // namespace wafersim::fuzz
