// The coordinator's job store: runs and sweeps in SQLite (WAL mode, synchronous=FULL) under the
// service's data directory; the source of truth (ARCHITECTURE.md contract 9). Every write is one
// transaction (BEGIN IMMEDIATE) that is on disk when the call returns, so an accepted submission
// survives a SIGKILL of the coordinator the moment after the API answered.
//
// Thread safety: every method may be called from any thread (one connection behind a mutex;
// SQLite's own locking guards against a second process on the same file).
//
// Schema versioning: a `meta` table holds schema_version; opening a newer version is refused with
// Error{InvalidConfig} naming the file and both versions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace wafersim {

enum class RunState { Pending, Running, Succeeded, Failed, Cancelled, TimedOut };

const char* toString(RunState state);                                // "PENDING", ...
std::optional<RunState> runStateFromString(std::string_view text);  // exact upper-case names
bool isFinal(RunState state);                                        // Succeeded .. TimedOut

struct RunRecord {
  std::string id;                 // unique; the results folder's name
  std::string bodyHash;           // hash of the submission as given, for idempotent resubmission
  std::string sweepId;            // "" outside a sweep
  int64_t sweepIndex = -1;        // the point's index in its sweep
  nlohmann::json request = nlohmann::json::object();  // what to run (scenario, set, nodes, ...)
  nlohmann::json point = nlohmann::json::object();    // a sweep point's coordinates
  nlohmann::json labels = nlohmann::json::object();   // string -> string
  std::string identity;           // the result cache's key (content_hash of scenario, files, build)
  uint32_t nodes = 1;
  bool useCache = true;
  double wallLimitSeconds = 0;    // 0: none
  RunState state = RunState::Pending;
  std::string reason;             // a short code: "", "COMPLETED", "CANCELLED_BY_USER", "NODE_LOST", ...
  std::string message;            // for people
  bool cached = false;            // answered from an earlier run's results
  std::string cachedFrom;         // that run's id
  int attempts = 0;               // times it was started
  int64_t createdNs = 0;          // system clock, ns since the Unix epoch
  int64_t startedNs = 0;          // 0: not yet
  int64_t finishedNs = 0;         // 0: not yet
  nlohmann::json summary;         // summary.json of a SUCCEEDED run, else null
  std::string digest;             // results digest of a SUCCEEDED run
  int64_t seq = 0;                // insertion order (assigned by the store)
  std::string owner;              // the name of the token that submitted it ("": none, or access off)
};

struct SweepRecord {
  std::string id;
  std::string bodyHash;
  nlohmann::json request = nlohmann::json::object();  // the submission as given
  nlohmann::json labels = nlohmann::json::object();
  uint32_t concurrency = 0;       // most points running at once; 0: no cap
  bool cancelled = false;
  int64_t createdNs = 0;
  int64_t seq = 0;
  std::string owner;              // the name of the token that submitted it
};

struct RunFilter {
  std::optional<RunState> state;
  std::string sweepId;            // "": any
  std::string labelKey, labelValue;  // labelKey "": any
  int64_t afterSeq = 0;           // paging: runs with seq > afterSeq
  uint32_t limit = 100;           // at most this many, in seq order
};

class JobStore {
 public:
  // Opens (creating if needed) DIR/jobs.sqlite. Throws Error{InvalidConfig} naming the file.
  explicit JobStore(const std::filesystem::path& dataDir);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  const std::filesystem::path& file() const;

  // Inserts `run` (its seq is assigned). When a run with that id exists, inserts nothing and
  // returns the stored one with `inserted` false (the caller compares bodyHash: equal is an
  // idempotent resubmission, different is a conflict).
  struct Inserted {
    RunRecord run;
    bool inserted = false;
  };
  Inserted insertRun(RunRecord run);

  // Inserts the sweep and all its points in one transaction; same rule on an existing sweep id
  // (nothing inserted, the stored sweep returned).
  struct InsertedSweep {
    SweepRecord sweep;
    bool inserted = false;
  };
  InsertedSweep insertSweep(SweepRecord sweep, std::vector<RunRecord> points);

  std::optional<RunRecord> run(const std::string& id) const;
  std::optional<SweepRecord> sweep(const std::string& id) const;
  std::vector<RunRecord> runs(const RunFilter& filter) const;
  std::vector<RunRecord> sweepRuns(const std::string& sweepId) const;  // in sweepIndex order
  std::vector<SweepRecord> sweeps() const;                             // in seq order
  // Runs per state ("PENDING" -> 3, ...), of one sweep or ("" ) of all; absent states are 0.
  std::vector<std::pair<RunState, int64_t>> countByState(const std::string& sweepId = "") const;
  // The sweep's points answered from the result cache (counted in the database: a sweep's status
  // is asked for often, and reading its every run for it cost memory in proportion to the sweep).
  int64_t countCached(const std::string& sweepId) const;

  // The oldest SUCCEEDED, non-cached run with this identity.
  std::optional<RunRecord> succeededWithIdentity(const std::string& identity) const;

  // Every run in state PENDING, in seq order (the scheduler's queue after a restart).
  std::vector<RunRecord> pending() const;
  // The first `perQueue` PENDING runs of each queue (a sweep, or a run outside any sweep), in seq
  // order: what a scheduling pass can start, without reading a long queue whole.
  std::vector<RunRecord> pendingHeads(uint32_t perQueue) const;

  // Transitions. Each checks the current state and returns false (changing nothing) when the run
  // is not in the state the transition starts from.
  bool markRunning(const std::string& id, int64_t startedNs);               // PENDING -> RUNNING, attempts+1
  bool requeue(const std::string& id, const std::string& reason,             // RUNNING -> PENDING
               const std::string& message);
  bool finish(const RunRecord& ended);  // PENDING|RUNNING -> ended.state (final), with reason, message,
                                        // finishedNs, summary, digest, cached, cachedFrom
  // Every RUNNING run back to PENDING with this reason (a coordinator restart); returns their ids.
  std::vector<std::string> requeueAllRunning(const std::string& reason, const std::string& message);

  bool cancelSweep(const std::string& sweepId);  // sets cancelled; false if no such sweep
  int64_t countRuns() const;
  // Sweeps with a point not ended (active), and the others (done).
  std::pair<int64_t, int64_t> countSweeps() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wafersim
