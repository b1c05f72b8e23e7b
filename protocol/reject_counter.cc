#include "protocol/reject_counter.h"

namespace wafersim::proto {

const char* toString(RejectReason reason) {
  switch (reason) {
    case RejectReason::EmptyFrame: return "empty-frame";
    case RejectReason::Oversized: return "oversized";
    case RejectReason::NotWordMultiple: return "not-word-multiple";
    case RejectReason::Truncated: return "truncated";
    case RejectReason::BadSegmentTable: return "bad-segment-table";
    case RejectReason::TrailingData: return "trailing-data";
    case RejectReason::Malformed: return "malformed";
    case RejectReason::WrongVersion: return "wrong-version";
    case RejectReason::UnknownKind: return "unknown-kind";
    case RejectReason::UnexpectedKind: return "unexpected-kind";
    case RejectReason::InvalidContent: return "invalid-content";
  }
  return "unknown-reason";
}

std::string Rejection::describe() const {
  std::string text = toString(reason);
  if (!detail.empty()) {
    text += ": ";
    text += detail;
  }
  return text;
}

uint64_t RejectCounter::total() const {
  uint64_t n = 0;
  for (uint64_t c : counts_) n += c;
  return n;
}

std::string RejectCounter::summary() const {
  std::string text;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    if (!text.empty()) text += ' ';
    text += toString(static_cast<RejectReason>(i));
    text += '=';
    text += std::to_string(counts_[i]);
  }
  return text.empty() ? "none" : text;
}

}  // namespace wafersim::proto
