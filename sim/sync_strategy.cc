#include "sim/sync_strategy.h"

#include "sim/error.h"

namespace wafersim {

std::unique_ptr<SyncStrategy> makeWindowSync();
std::unique_ptr<SyncStrategy> makeNullMessageSync();

SyncKind parseSyncKind(std::string_view text) {
  if (text == "window") return SyncKind::Window;
  if (text == "null" || text == "null-message") return SyncKind::NullMessage;
  fail(ErrorKind::InvalidConfig, "unknown synchronization strategy \"", text, "\" (known: window, null)");
}

void SyncStats::publish(PartitionProgress* live) const {
  if (!live) return;
  live->windows.store(rounds, std::memory_order_relaxed);
  live->nullMessages.store(nullMessages, std::memory_order_relaxed);
  live->eventsSent.store(eventsSent, std::memory_order_relaxed);
  live->waitNs.store(static_cast<uint64_t>(waitSeconds * 1e9), std::memory_order_relaxed);
}

const char* toString(SyncKind kind) { return kind == SyncKind::Window ? "window" : "null"; }

std::unique_ptr<SyncStrategy> makeSyncStrategy(SyncKind kind) {
  return kind == SyncKind::Window ? makeWindowSync() : makeNullMessageSync();
}

}  // namespace wafersim
