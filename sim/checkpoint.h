// Checkpoints: consistent cuts of a run, saved so that it can resume on any number of partitions
// (ARCHITECTURE.md contract 11).
//
// WHEN. At the first window start at or after each multiple of checkpoint_every of simulated time
// (the windows are capped there: the same instants on every partition and for any partitioning),
// and at the next window start once checkpoint_every_wall of wall-clock time has passed on
// partition 0 or a cut was asked for (CheckpointOptions::requested): partition 0 says so in its
// window report, so every partition cuts at the same window.
//
// WHAT A CUT IS. The window strategy takes one right after a window's exchange: every partition has
// committed every event before the window start T (the same T everywhere), its outboxes are empty
// and every batch sent to it has been delivered into its queue. So the run's whole future is in
// the partitions' queues and component states, and nothing is in flight. Each partition writes its
// part of the cut (checkpointPartName) without waiting for the others; the cut is complete, and
// becomes the run's latest checkpoint, when the last part is written (commitCheckpoint).
//
// WHY ANY PARTITION COUNT. Everything in a part is keyed by global component id: each component's
// kernel state (sequence number, promise, random stream, event digest and count, statistics), its
// own state (Component::save) and the events pending for it. Event order does not depend on the
// partitioning (event.h), so a run resumed on other partitions commits the same events in the same
// order from T on, and its results digest is that of the uninterrupted run.
//
// FORMAT. A part is one file: the magic "WSCKPT\r\n", a format version (kCheckpointFormat), the
// length of the body, the body, and a 64-bit checksum of the body. A file whose magic, version,
// length or checksum is wrong, or whose body does not parse to its end, is refused with
// Error{InvalidConfig} naming the file and what is wrong; nothing of it is used. Parts are written
// to a temporary name, fsynced and renamed; the folder's `latest` file (the committed cut) is
// replaced the same way, so a crash at any point leaves the previous checkpoint whole.
// Integers are stored little-endian as in memory (the build requires a little-endian machine).
//
// Layout of a checkpoint folder (the run's folder /checkpoints):
//   latest                 "<time in ps> <parts>\n": the last complete cut
//   t<time in ps>/part-<k> one file per partition of the run that wrote it
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/error.h"
#include "sim/event.h"
#include "sim/time.h"

namespace wafersim {

static_assert(std::endian::native == std::endian::little, "checkpoints store integers as little-endian memory");

class SystemGraph;

inline constexpr uint32_t kCheckpointFormat = 1;

// Appends values to a byte string. Components write their state with it (Component::save).
class StateWriter {
 public:
  void u8(uint8_t v) { raw(&v, 1); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void f64(double v) { raw(&v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void time(SimTime t) { i64(t.ps()); }
  void duration(Duration d) { i64(d.ps()); }
  void text(std::string_view s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void bytes(std::string_view b) { text(b); }
  void raw(const void* data, size_t n) { out_.append(static_cast<const char*>(data), n); }
  template <typename T>
  void pod(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    raw(&value, sizeof value);
  }
  template <typename T>
  void podVector(const std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>);
    u64(values.size());
    raw(values.data(), values.size() * sizeof(T));
  }

  const std::string& data() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what a StateWriter wrote, in the same order. Every read is bounded: reading past the end,
// or a length larger than what is left, throws Error{InvalidConfig} "<what>: truncated ...".
class StateReader {
 public:
  StateReader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}

  uint8_t u8() { return pod<uint8_t>(); }
  uint32_t u32() { return pod<uint32_t>(); }
  uint64_t u64() { return pod<uint64_t>(); }
  int64_t i64() { return pod<int64_t>(); }
  double f64() { return pod<double>(); }
  bool boolean();
  SimTime time() { return SimTime::fromPs(i64()); }
  Duration duration() { return Duration::fromPs(i64()); }
  std::string text();
  std::string_view bytes();  // a view into the reader's data
  // A count of items of `itemBytes` bytes each that must fit in what is left.
  uint64_t count(size_t itemBytes);
  void raw(void* out, size_t n);
  template <typename T>
  T pod() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    raw(&value, sizeof value);
    return value;
  }
  template <typename T>
  std::vector<T> podVector() {
    std::vector<T> values(count(sizeof(T)));
    raw(values.data(), values.size() * sizeof(T));
    return values;
  }

  size_t left() const { return data_.size() - pos_; }
  // Throws unless every byte was read ("<what>: N bytes left over").
  void expectEnd() const;
  // Throws Error{InvalidConfig} "<what>: <message>".
  [[noreturn]] void corrupt(const std::string& message) const;

 private:
  std::string_view data_;
  size_t pos_ = 0;
  std::string what_;
};

// 64-bit FNV-1a over the bytes, widened by a final mix (the part file's checksum).
uint64_t checksum64(std::string_view bytes);

// Identifies the system a checkpoint belongs to: every component's name, type and parameters,
// every link and fabric with its latency, and the seed. A checkpoint resumes only the system it
// was taken of. `extra` mixes in what the caller adds (the scenario's resolved model parameters).
uint64_t systemFingerprint(const SystemGraph& graph, uint64_t seed, uint64_t extra = 0);

// One component's saved state (a part holds one per local component).
struct ComponentCheckpoint {
  ComponentId id = 0;
  std::string type;
  uint64_t nextSeq = 0;
  SimTime promise;
  uint64_t random[4] = {};
  uint64_t eventDigest = 0;
  uint64_t eventsCommitted = 0;
  std::string stats;  // StatSet::save
  std::string state;  // Component::save
};

// One partition's part of a cut.
struct CheckpointPart {
  uint64_t fingerprint = 0;
  SimTime time;            // the cut: every event before it is committed
  SimTime lastEventTime;   // the last event this partition committed
  uint32_t partition = 0;  // of `partitions` in the run that wrote it
  uint32_t partitions = 0;
  uint64_t window = 0;     // the window strategy's round at the cut (informational)
  std::vector<ComponentCheckpoint> components;
  std::vector<Event> events;  // pending, for this partition's components
};

std::string encodeCheckpointPart(const CheckpointPart& part);
// A part file around an encoded body: header (magic, format, length) and checksum trailer.
std::string wrapCheckpointBody(std::string_view body);
// Throws Error{InvalidConfig} naming `what` (the file) on any defect (see FORMAT above).
CheckpointPart decodeCheckpointPart(std::string_view bytes, const std::string& what);

// Writes bytes to path atomically: a temporary file of its own beside it, fsync, rename, fsync of
// the folder. Concurrent writers of one path (from any process) each leave a whole file.
void writeFileAtomically(const std::string& path, std::string_view bytes);

// A whole cut, loaded from a checkpoint folder: what a resuming partition restores from.
struct CheckpointImage {
  std::string folder;  // the cut's folder (…/checkpoints/t<time>)
  uint64_t fingerprint = 0;
  SimTime time;
  SimTime lastEventTime;  // the latest over the parts
  uint32_t partitions = 0;  // of the run that wrote it
  std::map<ComponentId, ComponentCheckpoint> components;
  std::vector<Event> events;  // every pending event of the cut, in event order
  uint64_t bytes = 0;         // the parts' size on disk
};

std::string checkpointPartName(SimTime time, PartitionId partition);  // "t<ps>/part-<k>"

// Loads the latest committed cut of a checkpoint folder (the run's folder /checkpoints). Throws
// Error{InvalidConfig} when there is none, or when a part is missing, corrupt, of another system
// or of another cut.
CheckpointImage loadLatestCheckpoint(const std::string& checkpointsDir);

// What a run does about checkpoints (RunOptions::checkpoint).
struct CheckpointOptions {
  std::string dir;  // the run's checkpoints folder; "": no checkpoints
  Duration every = Duration::zero();  // of simulated time; zero: none periodic
  // Of wall-clock time, measured by partition 0 from the run's start or its last cut; 0: none.
  double everyWallSeconds = 0;
  // On demand: whoever sets it asks for a cut at the next window start (partition 0 takes it;
  // the window strategy tells every partition in the window's collective). Borrowed.
  std::atomic<bool>* requested = nullptr;
  // systemFingerprint of the run; 0: runInProcess computes it from the graph and the seed.
  uint64_t fingerprint = 0;
  // Called once per part written, from the partition's thread. runInProcess (and the node
  // coordinator) set it to count parts and commit the cut when all are written.
  std::function<void(PartitionId, SimTime, uint64_t bytes, double seconds)> partWritten;
  // Called once per cut committed (the caller's report), from the thread that wrote the last part.
  std::function<void(SimTime, uint32_t parts)> committed;
  // The checkpoints folder the run resumed from, "" for none (node processes load its latest cut:
  // RunOptions::resume is the image an in-process run restores).
  std::string resumeFrom;
  bool enabled() const {
    return !dir.empty() && (every > Duration::zero() || everyWallSeconds > 0 || requested != nullptr);
  }
};

// Makes the cut at `time` of `parts` partitions the folder's latest and removes older cuts.
void commitCheckpoint(const std::string& checkpointsDir, SimTime time, uint32_t parts);
// For writers that do not share memory (node processes): commits the cut at `time` when all its
// `parts` part files are in place. Each partition calls it after writing its own part, so the last
// writer sees every part and commits (two that see them both commit the same cut, harmlessly).
bool commitIfComplete(const std::string& checkpointsDir, SimTime time, uint32_t parts);
// Before a run writes checkpoints into the folder: removes the cuts that were never committed (a
// run killed while writing one), so that a part of an older attempt never completes a new cut.
void removeUncommittedCuts(const std::string& checkpointsDir);

// The first checkpoint instant after `t`: the next multiple of `every`.
SimTime nextCheckpointAfter(SimTime t, Duration every);

}  // namespace wafersim
