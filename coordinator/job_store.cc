// The SQLite job store (job_store.h).
//
// One connection behind a mutex. Statements are prepared once and kept for the store's life; SQL is
// built only from constant fragments, every value is bound. Every write is BEGIN IMMEDIATE ...
// COMMIT (rolled back when anything in between throws), so writers from other connections or
// processes queue on SQLite's lock (busy_timeout) instead of failing half-way.
//
// Schema (version 1):
//   meta(key, value)        schema_version = 1
//   sweeps(id, seq, ...)    one row per SweepRecord
//   runs(id, seq, ...)      one row per RunRecord; sweep_id is NULL outside a sweep (a foreign key
//                           to sweeps.id otherwise), summary NULL when the record's is null, states
//                           as their upper-case names, JSON columns as text.
// seq is max(seq)+1 assigned inside the write transaction, so it is dense and unique per table.
#include "coordinator/job_store.h"

#include <sqlite3.h>

#include <array>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>

#include "sim/error.h"

namespace wafersim {

const char* toString(RunState state) {
  switch (state) {
    case RunState::Pending: return "PENDING";
    case RunState::Running: return "RUNNING";
    case RunState::Succeeded: return "SUCCEEDED";
    case RunState::Failed: return "FAILED";
    case RunState::Cancelled: return "CANCELLED";
    case RunState::TimedOut: return "TIMED_OUT";
  }
  return "UNKNOWN";
}

std::optional<RunState> runStateFromString(std::string_view text) {
  if (text == "PENDING") return RunState::Pending;
  if (text == "RUNNING") return RunState::Running;
  if (text == "SUCCEEDED") return RunState::Succeeded;
  if (text == "FAILED") return RunState::Failed;
  if (text == "CANCELLED") return RunState::Cancelled;
  if (text == "TIMED_OUT") return RunState::TimedOut;
  return std::nullopt;
}

bool isFinal(RunState state) {
  switch (state) {
    case RunState::Pending:
    case RunState::Running: return false;
    case RunState::Succeeded:
    case RunState::Failed:
    case RunState::Cancelled:
    case RunState::TimedOut: return true;
  }
  return false;
}

namespace {

// 2: runs and sweeps have an owner (the token name that submitted them).
constexpr int64_t kSchemaVersion = 2;
constexpr int kBusyTimeoutMs = 5000;

constexpr std::array<RunState, 6> kAllStates = {RunState::Pending,   RunState::Running,   RunState::Succeeded,
                                                RunState::Failed,    RunState::Cancelled, RunState::TimedOut};

constexpr const char* kCreateSchema[] = {
    "CREATE TABLE IF NOT EXISTS sweeps ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " seq INTEGER NOT NULL UNIQUE,"
    " body_hash TEXT NOT NULL,"
    " request TEXT NOT NULL,"
    " labels TEXT NOT NULL,"
    " concurrency INTEGER NOT NULL,"
    " cancelled INTEGER NOT NULL,"
    " created_ns INTEGER NOT NULL,"
    " owner TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE IF NOT EXISTS runs ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " seq INTEGER NOT NULL UNIQUE,"
    " body_hash TEXT NOT NULL,"
    " sweep_id TEXT REFERENCES sweeps(id),"
    " sweep_index INTEGER NOT NULL,"
    " request TEXT NOT NULL,"
    " point TEXT NOT NULL,"
    " labels TEXT NOT NULL,"
    " identity TEXT NOT NULL,"
    " nodes INTEGER NOT NULL,"
    " use_cache INTEGER NOT NULL,"
    " wall_limit_seconds REAL NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN"
    "  ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT')),"
    " reason TEXT NOT NULL,"
    " message TEXT NOT NULL,"
    " cached INTEGER NOT NULL,"
    " cached_from TEXT NOT NULL,"
    " attempts INTEGER NOT NULL,"
    " created_ns INTEGER NOT NULL,"
    " started_ns INTEGER NOT NULL,"
    " finished_ns INTEGER NOT NULL,"
    " summary TEXT,"
    " digest TEXT NOT NULL,"
    " owner TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS runs_state_seq ON runs(state, seq)",
    "CREATE INDEX IF NOT EXISTS runs_sweep_index ON runs(sweep_id, sweep_index)",
    "CREATE INDEX IF NOT EXISTS runs_identity_state ON runs(identity, state)",
};

// Column lists, in the order readRun / readSweep take them.
constexpr const char* kRunColumns =
    "id, seq, body_hash, sweep_id, sweep_index, request, point, labels, identity, nodes, use_cache,"
    " wall_limit_seconds, state, reason, message, cached, cached_from, attempts, created_ns, started_ns,"
    " finished_ns, summary, digest, owner";
constexpr const char* kSweepColumns = "id, seq, body_hash, request, labels, concurrency, cancelled, created_ns, owner";

std::string selectRuns(const char* tail) { return std::string("SELECT ") + kRunColumns + " FROM runs " + tail; }
std::string selectSweeps(const char* tail) {
  return std::string("SELECT ") + kSweepColumns + " FROM sweeps " + tail;
}

// The JSON text stored for `value`; a value that cannot be written (invalid UTF-8 in a string) is
// the caller's input error.
std::string dumpJson(const nlohmann::json& value, const std::string& what) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::InvalidConfig, what, ": cannot be stored as JSON: ", e.what());
  }
}

void requireStringLabels(const nlohmann::json& labels, const std::string& what) {
  WAFERSIM_REQUIRE(labels.is_object(), what, ".labels: expected an object of strings, got ", labels.type_name());
  for (const auto& [key, value] : labels.items())
    WAFERSIM_REQUIRE(value.is_string(), what, ".labels.", key, ": expected a string, got ", value.type_name());
}

// The connection and its cached statements. Callers hold `mutex` for every use.
struct Database {
  std::filesystem::path file;
  sqlite3* connection = nullptr;
  std::mutex mutex;                                 // guards connection, statements, errmsg
  std::map<std::string, sqlite3_stmt*> statements;  // SQL text -> prepared once

  ~Database() {
    for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
    if (connection) sqlite3_close_v2(connection);
  }

  // Throws for a failed SQLite call: Overloaded when the database stayed locked past the busy
  // timeout, else Internal; both name the file and carry SQLite's message.
  [[noreturn]] void failed(int rc, std::string_view what) const {
    const char* message = connection ? sqlite3_errmsg(connection) : sqlite3_errstr(rc);
    const int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
      fail(ErrorKind::Overloaded, "job store ", file.string(), ": ", what, ": ", message, " (still locked after ",
           kBusyTimeoutMs, " ms; try again later)");
    fail(ErrorKind::Internal, "job store ", file.string(), ": ", what, ": ", message, " (SQLite code ", rc, ")");
  }

  sqlite3_stmt* prepare(const std::string& sql) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      sqlite3_stmt* stmt = nullptr;
      const int rc = sqlite3_prepare_v3(connection, sql.c_str(), static_cast<int>(sql.size() + 1),
                                        SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) failed(rc, "prepare \"" + sql + "\"");
      it = statements.emplace(sql, stmt).first;
    }
    WAFERSIM_ASSERT(!sqlite3_stmt_busy(it->second), "statement already in use: ", sql);
    return it->second;
  }
};

// A cached statement in use: binds, steps, reads columns; reset and unbound when it goes out of
// scope so the next user starts clean.
class Statement {
 public:
  Statement(Database& db, const std::string& sql) : db_(db), stmt_(db.prepare(sql)) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& text(int index, std::string_view value) {
    check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }
  Statement& integer(int index, int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Statement& real(int index, double value) {
    check(sqlite3_bind_double(stmt_, index, value));
    return *this;
  }
  Statement& null(int index) {
    check(sqlite3_bind_null(stmt_, index));
    return *this;
  }

  // True when a row is ready to read, false when the statement is done.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.failed(rc, sqlite3_sql(stmt_));
  }
  // Runs a statement that returns no rows (or whose rows do not matter); the number of rows changed.
  int64_t run() {
    while (step()) {
    }
    return sqlite3_changes64(db_.connection);
  }

  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return data ? std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  nlohmann::json json(int col, std::string_view what) const {
    if (isNull(col)) return nullptr;
    try {
      return nlohmann::json::parse(text(col));
    } catch (const nlohmann::json::exception& e) {
      fail(ErrorKind::Internal, "job store ", db_.file.string(), ": ", what, ": column ",
           sqlite3_column_name(stmt_, col), " is not JSON: ", e.what());
    }
  }
  RunState state(int col, std::string_view what) const {
    const std::string name = text(col);
    if (auto state = runStateFromString(name)) return *state;
    fail(ErrorKind::Internal, "job store ", db_.file.string(), ": ", what, ": unknown state \"", name, "\"");
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) db_.failed(rc, std::string("bind a value for ") + sqlite3_sql(stmt_));
  }

  Database& db_;
  sqlite3_stmt* stmt_;
};

// BEGIN IMMEDIATE now; ROLLBACK at scope end unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) { Statement(db_, "BEGIN IMMEDIATE").run(); }
  ~Transaction() {
    // SQLite rolls some failures (SQLITE_FULL, SQLITE_IOERR, ...) back itself; roll back only an open one.
    if (!committed_ && !sqlite3_get_autocommit(db_.connection))
      sqlite3_exec(db_.connection, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() {
    Statement(db_, "COMMIT").run();
    committed_ = true;
  }

 private:
  Database& db_;
  bool committed_ = false;
};

// Reads a row selected with kRunColumns.
RunRecord readRun(const Statement& s) {
  RunRecord r;
  r.id = s.text(0);
  const std::string what = "run " + r.id;
  r.seq = s.integer(1);
  r.bodyHash = s.text(2);
  r.sweepId = s.isNull(3) ? "" : s.text(3);
  r.sweepIndex = s.integer(4);
  r.request = s.json(5, what);
  r.point = s.json(6, what);
  r.labels = s.json(7, what);
  r.identity = s.text(8);
  r.nodes = static_cast<uint32_t>(s.integer(9));
  r.useCache = s.integer(10) != 0;
  r.wallLimitSeconds = s.real(11);
  r.state = s.state(12, what);
  r.reason = s.text(13);
  r.message = s.text(14);
  r.cached = s.integer(15) != 0;
  r.cachedFrom = s.text(16);
  r.attempts = static_cast<int>(s.integer(17));
  r.createdNs = s.integer(18);
  r.startedNs = s.integer(19);
  r.finishedNs = s.integer(20);
  r.summary = s.json(21, what);
  r.digest = s.text(22);
  r.owner = s.text(23);
  return r;
}

// Reads a row selected with kSweepColumns.
SweepRecord readSweep(const Statement& s) {
  SweepRecord w;
  w.id = s.text(0);
  w.seq = s.integer(1);
  w.bodyHash = s.text(2);
  w.request = s.json(3, "sweep " + w.id);
  w.labels = s.json(4, "sweep " + w.id);
  w.concurrency = static_cast<uint32_t>(s.integer(5));
  w.cancelled = s.integer(6) != 0;
  w.createdNs = s.integer(7);
  w.owner = s.text(8);
  return w;
}

std::vector<RunRecord> readRuns(Statement& s) {
  std::vector<RunRecord> out;
  while (s.step()) out.push_back(readRun(s));
  return out;
}

std::optional<RunRecord> findRun(Database& db, const std::string& id) {
  Statement s(db, selectRuns("WHERE id = ?1"));
  s.text(1, id);
  if (!s.step()) return std::nullopt;
  return readRun(s);
}

std::optional<SweepRecord> findSweep(Database& db, const std::string& id) {
  Statement s(db, selectSweeps("WHERE id = ?1"));
  s.text(1, id);
  if (!s.step()) return std::nullopt;
  return readSweep(s);
}

int64_t nextSeq(Database& db, const char* table) {
  Statement s(db, std::string("SELECT COALESCE(MAX(seq), 0) + 1 FROM ") + table);
  WAFERSIM_ASSERT(s.step(), table);
  return s.integer(0);
}

// Inserts `run` with the next seq (the caller holds a write transaction and has checked that the
// id is free). A run naming a sweep that does not exist is refused by the foreign key.
void insertRunRow(Database& db, RunRecord& run) {
  const std::string what = "run " + run.id;
  const std::string request = dumpJson(run.request, what + ".request");
  const std::string point = dumpJson(run.point, what + ".point");
  const std::string labels = dumpJson(run.labels, what + ".labels");
  const std::string summary = run.summary.is_null() ? "" : dumpJson(run.summary, what + ".summary");
  run.seq = nextSeq(db, "runs");
  Statement s(db,
              "INSERT INTO runs (id, seq, body_hash, sweep_id, sweep_index, request, point, labels, identity, nodes,"
              " use_cache, wall_limit_seconds, state, reason, message, cached, cached_from, attempts, created_ns,"
              " started_ns, finished_ns, summary, digest, owner)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"
              " ?21, ?22, ?23, ?24)");
  s.text(1, run.id).integer(2, run.seq).text(3, run.bodyHash);
  if (run.sweepId.empty()) {
    s.null(4);
  } else {
    s.text(4, run.sweepId);
  }
  s.integer(5, run.sweepIndex).text(6, request).text(7, point).text(8, labels).text(9, run.identity);
  s.integer(10, run.nodes).integer(11, run.useCache ? 1 : 0).real(12, run.wallLimitSeconds);
  s.text(13, toString(run.state)).text(14, run.reason).text(15, run.message);
  s.integer(16, run.cached ? 1 : 0).text(17, run.cachedFrom).integer(18, run.attempts);
  s.integer(19, run.createdNs).integer(20, run.startedNs).integer(21, run.finishedNs);
  if (run.summary.is_null()) {
    s.null(22);
  } else {
    s.text(22, summary);
  }
  s.text(23, run.digest).text(24, run.owner);
  try {
    s.run();
  } catch (const Error&) {
    if (sqlite3_extended_errcode(db.connection) == SQLITE_CONSTRAINT_FOREIGNKEY)
      fail(ErrorKind::InvalidConfig, "job store ", db.file.string(), ": ", what, ": no sweep \"", run.sweepId, "\"");
    throw;
  }
}

}  // namespace

struct JobStore::Impl {
  Database db;
};

JobStore::JobStore(const std::filesystem::path& dataDir) : impl_(std::make_unique<Impl>()) {
  impl_->db.file = dataDir / "jobs.sqlite";
  const std::string file = impl_->db.file.string();
  std::error_code ec;
  std::filesystem::create_directories(dataDir, ec);
  if (ec)
    fail(ErrorKind::InvalidConfig, "job store ", file, ": cannot create the data directory ", dataDir.string(), ": ",
         ec.message());

  const int rc = sqlite3_open_v2(file.c_str(), &impl_->db.connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                                               SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE,
                                 nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = impl_->db.connection ? sqlite3_errmsg(impl_->db.connection) : sqlite3_errstr(rc);
    fail(ErrorKind::InvalidConfig, "job store ", file, ": cannot open: ", message);
  }

  // Setting up reads the file for the first time: a failure here (not a database, unreadable,
  // read-only) is a bad data directory, InvalidConfig; a lock held past the timeout stays Overloaded.
  std::lock_guard lock(impl_->db.mutex);
  try {
    sqlite3_extended_result_codes(impl_->db.connection, 1);
    sqlite3_busy_timeout(impl_->db.connection, kBusyTimeoutMs);
    {
      Statement s(impl_->db, "PRAGMA journal_mode = WAL");
      const std::string mode = s.step() ? s.text(0) : "";
      if (mode != "wal") fail(ErrorKind::InvalidConfig, "job store ", file, ": cannot use WAL mode (got \"", mode, "\")");
    }
    Statement(impl_->db, "PRAGMA synchronous = FULL").run();
    Statement(impl_->db, "PRAGMA foreign_keys = ON").run();

    Transaction tx(impl_->db);
    Statement(impl_->db, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value NOT NULL)").run();
    std::optional<int64_t> version;
    {
      Statement s(impl_->db, "SELECT value FROM meta WHERE key = 'schema_version'");
      if (s.step()) version = s.integer(0);
    }
    if (version && *version > kSchemaVersion)
      fail(ErrorKind::InvalidConfig, "job store ", file, ": schema_version ", *version,
           " is newer than this build's ", kSchemaVersion, " (written by a newer wafersim; use that or another data directory)");
    if (version && *version < 1)
      fail(ErrorKind::InvalidConfig, "job store ", file, ": schema_version ", *version, " is not one this build knows (",
           kSchemaVersion, ")");
    for (const char* sql : kCreateSchema) Statement(impl_->db, sql).run();
    if (!version) {
      Statement(impl_->db, "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)").integer(1, kSchemaVersion).run();
    } else if (*version == 1) {  // version 1 had no owners: its runs and sweeps belong to nobody (admin only)
      Statement(impl_->db, "ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT ''").run();
      Statement(impl_->db, "ALTER TABLE sweeps ADD COLUMN owner TEXT NOT NULL DEFAULT ''").run();
      Statement(impl_->db, "UPDATE meta SET value = ?1 WHERE key = 'schema_version'").integer(1, kSchemaVersion).run();
    }
    tx.commit();
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Internal) throw Error(ErrorKind::InvalidConfig, e.what());
    throw;
  }
}

JobStore::~JobStore() = default;

const std::filesystem::path& JobStore::file() const { return impl_->db.file; }

JobStore::Inserted JobStore::insertRun(RunRecord run) {
  WAFERSIM_REQUIRE(!run.id.empty(), "job store: a run needs an id");
  requireStringLabels(run.labels, "run " + run.id);
  std::lock_guard lock(impl_->db.mutex);
  Transaction tx(impl_->db);
  if (auto stored = findRun(impl_->db, run.id)) {
    tx.commit();
    return {std::move(*stored), false};
  }
  insertRunRow(impl_->db, run);
  tx.commit();
  return {std::move(run), true};
}

JobStore::InsertedSweep JobStore::insertSweep(SweepRecord sweep, std::vector<RunRecord> points) {
  WAFERSIM_REQUIRE(!sweep.id.empty(), "job store: a sweep needs an id");
  requireStringLabels(sweep.labels, "sweep " + sweep.id);
  for (size_t i = 0; i < points.size(); ++i) {
    RunRecord& point = points[i];
    WAFERSIM_REQUIRE(!point.id.empty(), "job store: sweep ", sweep.id, " point ", i, " needs an id");
    WAFERSIM_REQUIRE(point.sweepId.empty() || point.sweepId == sweep.id, "job store: sweep ", sweep.id, " point ", i,
                     " (run ", point.id, ") names sweep \"", point.sweepId, "\"");
    requireStringLabels(point.labels, "run " + point.id);
    point.sweepId = sweep.id;
    if (point.sweepIndex < 0) point.sweepIndex = static_cast<int64_t>(i);
  }
  const std::string what = "sweep " + sweep.id;
  const std::string request = dumpJson(sweep.request, what + ".request");
  const std::string labels = dumpJson(sweep.labels, what + ".labels");

  std::lock_guard lock(impl_->db.mutex);
  Transaction tx(impl_->db);
  if (auto stored = findSweep(impl_->db, sweep.id)) {
    tx.commit();
    return {std::move(*stored), false};
  }
  sweep.seq = nextSeq(impl_->db, "sweeps");
  Statement(impl_->db,
            "INSERT INTO sweeps (id, seq, body_hash, request, labels, concurrency, cancelled, created_ns, owner)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
      .text(1, sweep.id)
      .integer(2, sweep.seq)
      .text(3, sweep.bodyHash)
      .text(4, request)
      .text(5, labels)
      .integer(6, sweep.concurrency)
      .integer(7, sweep.cancelled ? 1 : 0)
      .integer(8, sweep.createdNs)
      .text(9, sweep.owner)
      .run();
  for (size_t i = 0; i < points.size(); ++i) {
    if (findRun(impl_->db, points[i].id))
      fail(ErrorKind::InvalidConfig, "job store ", impl_->db.file.string(), ": sweep ", sweep.id, " point ", i, ": run id \"",
           points[i].id, "\" already exists");
    insertRunRow(impl_->db, points[i]);
  }
  tx.commit();
  return {std::move(sweep), true};
}

std::optional<RunRecord> JobStore::run(const std::string& id) const {
  std::lock_guard lock(impl_->db.mutex);
  return findRun(impl_->db, id);
}

std::optional<SweepRecord> JobStore::sweep(const std::string& id) const {
  std::lock_guard lock(impl_->db.mutex);
  return findSweep(impl_->db, id);
}

std::vector<RunRecord> JobStore::runs(const RunFilter& filter) const {
  // Every filter is in the WHERE clause, so LIMIT counts matches only and a page holds up to
  // `limit` of them. The SQL varies only by which filters are present; values are always bound.
  std::string tail = "WHERE seq > ?";
  if (filter.state) tail += " AND state = ?";
  if (!filter.sweepId.empty()) tail += " AND sweep_id = ?";
  if (!filter.labelKey.empty())
    tail += " AND EXISTS (SELECT 1 FROM json_each(runs.labels) AS l"
            " WHERE l.key = ? AND l.type = 'text' AND l.value = ?)";
  tail += " ORDER BY seq LIMIT ?";

  std::lock_guard lock(impl_->db.mutex);
  Statement s(impl_->db, selectRuns(tail.c_str()));
  int index = 1;
  s.integer(index++, filter.afterSeq);
  if (filter.state) s.text(index++, toString(*filter.state));
  if (!filter.sweepId.empty()) s.text(index++, filter.sweepId);
  if (!filter.labelKey.empty()) {
    s.text(index++, filter.labelKey);
    s.text(index++, filter.labelValue);
  }
  s.integer(index, filter.limit);
  return readRuns(s);
}

std::vector<RunRecord> JobStore::sweepRuns(const std::string& sweepId) const {
  std::lock_guard lock(impl_->db.mutex);
  Statement s(impl_->db, selectRuns("WHERE sweep_id = ?1 ORDER BY sweep_index, seq"));
  s.text(1, sweepId);
  return readRuns(s);
}

std::vector<SweepRecord> JobStore::sweeps() const {
  std::lock_guard lock(impl_->db.mutex);
  Statement s(impl_->db, selectSweeps("ORDER BY seq"));
  std::vector<SweepRecord> out;
  while (s.step()) out.push_back(readSweep(s));
  return out;
}

std::vector<std::pair<RunState, int64_t>> JobStore::countByState(const std::string& sweepId) const {
  std::vector<std::pair<RunState, int64_t>> out;
  for (RunState state : kAllStates) out.emplace_back(state, 0);
  std::lock_guard lock(impl_->db.mutex);
  Statement s(impl_->db, sweepId.empty() ? "SELECT state, COUNT(*) FROM runs GROUP BY state"
                                      : "SELECT state, COUNT(*) FROM runs WHERE sweep_id = ?1 GROUP BY state");
  if (!sweepId.empty()) s.text(1, sweepId);
  while (s.step()) {
    const RunState state = s.state(0, "countByState");
    out[static_cast<size_t>(state)].second = s.integer(1);
  }
  return out;
}

int64_t JobStore::countCached(const std::string& sweepId) const {
  std::lock_guard lock(impl_->db.mutex);
  Statement s(impl_->db, "SELECT COUNT(*) FROM runs WHERE sweep_id = ?1 AND cached = 1");
  s.text(1, sweepId);
  return s.step() ? s.integer(0) : 0;
}

std::optional<RunRecord> JobStore::succeededWithIdentity(const std::string& identity) const {
  std::lock_guard lock(impl_->db.mutex);
  Statement s(impl_->db, selectRuns("WHERE identity = ?1 AND state = 'SUCCEEDED' AND cached = 0 ORDER BY seq LIMIT 1"));
  s.text(1, identity);
  if (!s.step()) return std::nullopt;
  return readRun(s);
}

std::vector<RunRecord> JobStore::pending() const {
  std::lock_guard lock(impl_->db.mutex);
  Statement s(impl_->db, selectRuns("WHERE state = 'PENDING' ORDER BY seq"));
  return readRuns(s);
}

std::vector<RunRecord> JobStore::pendingHeads(uint32_t perQueue) const {
  std::lock_guard lock(impl_->db.mutex);
  // A queue is a sweep, or a run outside any sweep; ROW_NUMBER ranks each queue's runs by seq.
  Statement s(impl_->db, std::string("SELECT ") + kRunColumns +
                             " FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY COALESCE(sweep_id, id) ORDER BY seq) AS"
                             " queue_rank FROM runs WHERE state = 'PENDING') WHERE queue_rank <= ?1 ORDER BY seq");
  s.integer(1, perQueue);
  return readRuns(s);
}

bool JobStore::markRunning(const std::string& id, int64_t startedNs) {
  std::lock_guard lock(impl_->db.mutex);
  Transaction tx(impl_->db);
  const int64_t changed = Statement(impl_->db,
                                    "UPDATE runs SET state = 'RUNNING', attempts = attempts + 1, started_ns = ?2"
                                    " WHERE id = ?1 AND state = 'PENDING'")
                              .text(1, id)
                              .integer(2, startedNs)
                              .run();
  tx.commit();
  return changed == 1;
}

bool JobStore::requeue(const std::string& id, const std::string& reason, const std::string& message) {
  std::lock_guard lock(impl_->db.mutex);
  Transaction tx(impl_->db);
  const int64_t changed = Statement(impl_->db,
                                    "UPDATE runs SET state = 'PENDING', reason = ?2, message = ?3, started_ns = 0"
                                    " WHERE id = ?1 AND state = 'RUNNING'")
                              .text(1, id)
                              .text(2, reason)
                              .text(3, message)
                              .run();
  tx.commit();
  return changed == 1;
}

bool JobStore::finish(const RunRecord& ended) {
  WAFERSIM_REQUIRE(isFinal(ended.state), "job store: finish run ", ended.id, " in state ", toString(ended.state),
                   ", which is not final");
  const std::string what = "run " + ended.id;
  const std::string summary = ended.summary.is_null() ? "" : dumpJson(ended.summary, what + ".summary");
  std::lock_guard lock(impl_->db.mutex);
  Transaction tx(impl_->db);
  Statement s(impl_->db,
              "UPDATE runs SET state = ?2, reason = ?3, message = ?4, finished_ns = ?5, summary = ?6, digest = ?7,"
              " cached = ?8, cached_from = ?9 WHERE id = ?1 AND state IN ('PENDING', 'RUNNING')");
  s.text(1, ended.id).text(2, toString(ended.state)).text(3, ended.reason).text(4, ended.message);
  s.integer(5, ended.finishedNs);
  if (ended.summary.is_null()) {
    s.null(6);
  } else {
    s.text(6, summary);
  }
  s.text(7, ended.digest).integer(8, ended.cached ? 1 : 0).text(9, ended.cachedFrom);
  const int64_t changed = s.run();
  tx.commit();
  return changed == 1;
}

std::vector<std::string> JobStore::requeueAllRunning(const std::string& reason, const std::string& message) {
  std::lock_guard lock(impl_->db.mutex);
  Transaction tx(impl_->db);
  std::vector<std::string> ids;
  {
    Statement s(impl_->db, "SELECT id FROM runs WHERE state = 'RUNNING' ORDER BY seq");
    while (s.step()) ids.push_back(s.text(0));
  }
  Statement(impl_->db,
            "UPDATE runs SET state = 'PENDING', reason = ?1, message = ?2, started_ns = 0 WHERE state = 'RUNNING'")
      .text(1, reason)
      .text(2, message)
      .run();
  tx.commit();
  return ids;
}

bool JobStore::cancelSweep(const std::string& sweepId) {
  std::lock_guard lock(impl_->db.mutex);
  Transaction tx(impl_->db);
  const int64_t changed = Statement(impl_->db, "UPDATE sweeps SET cancelled = 1 WHERE id = ?1").text(1, sweepId).run();
  tx.commit();
  return changed == 1;
}

std::pair<int64_t, int64_t> JobStore::countSweeps() const {
  std::lock_guard lock(impl_->db.mutex);
  Statement s(impl_->db,
              "SELECT COUNT(*), COALESCE(SUM(EXISTS (SELECT 1 FROM runs WHERE runs.sweep_id = sweeps.id"
              " AND runs.state IN ('PENDING', 'RUNNING'))), 0) FROM sweeps");
  WAFERSIM_ASSERT(s.step());
  const int64_t total = s.integer(0), active = s.integer(1);
  return {active, total - active};
}

int64_t JobStore::countRuns() const {
  std::lock_guard lock(impl_->db.mutex);
  Statement s(impl_->db, "SELECT COUNT(*) FROM runs");
  WAFERSIM_ASSERT(s.step());
  return s.integer(0);
}

}  // namespace wafersim
