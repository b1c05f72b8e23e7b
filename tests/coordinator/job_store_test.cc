// The job store (coordinator/job_store.h): every field round-trips; inserts are idempotent and a
// sweep lands whole or not at all; filters page by matches; transitions refuse a run in the wrong
// state and change nothing then; writes survive the store's destruction and are seen by a second
// store on the same directory; concurrent writers get unique seqs; a newer schema, an unusable
// path and a lock held past the timeout give the documented error kinds.
#include "coordinator/job_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/error.h"

namespace wafersim {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

// A run with a distinct, non-default value in every field.
RunRecord makeRun(const std::string& id, int64_t n = 1) {
  RunRecord r;
  r.id = id;
  r.bodyHash = "hash-" + id;
  r.request = {{"scenario", "s.yaml"}, {"set", {"simulation.seed=" + std::to_string(n)}}, {"nodes", 2}};
  r.point = {{"simulation.seed", n}, {"ratio", 0.1}};
  r.labels = {{"team", "perf"}, {"n", std::to_string(n)}};
  r.identity = "identity-" + std::to_string(n);
  r.nodes = 3;
  r.useCache = false;
  r.wallLimitSeconds = 12.5;
  r.createdNs = 1'700'000'000'000'000'000 + n;
  return r;
}

// A run in which every field differs from the defaults, final state included.
RunRecord makeFinishedRun(const std::string& id) {
  RunRecord r = makeRun(id, 7);
  r.sweepIndex = 4;  // no sweepId: the index is kept as given
  r.state = RunState::Failed;
  r.reason = "NODE_LOST";
  r.message = "node n2 went away\nsecond line \"quoted\" 'single' \xc3\xa9";
  r.cached = true;
  r.cachedFrom = "run-0";
  r.attempts = 3;
  r.startedNs = 1'700'000'000'100'000'000;
  r.finishedNs = 1'700'000'000'200'000'000;
  r.summary = {{"tokens", 123456789012LL}, {"ratio", 0.30000000000000004}, {"ok", true}, {"list", {1, "a", nullptr}}};
  r.digest = "sha256:abcdef";
  r.seq = 999;  // ignored: the store assigns seq
  return r;
}

void expectSameRun(const RunRecord& actual, const RunRecord& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.bodyHash, expected.bodyHash);
  EXPECT_EQ(actual.sweepId, expected.sweepId);
  EXPECT_EQ(actual.sweepIndex, expected.sweepIndex);
  EXPECT_EQ(actual.request, expected.request);
  EXPECT_EQ(actual.point, expected.point);
  EXPECT_EQ(actual.labels, expected.labels);
  EXPECT_EQ(actual.identity, expected.identity);
  EXPECT_EQ(actual.nodes, expected.nodes);
  EXPECT_EQ(actual.useCache, expected.useCache);
  EXPECT_EQ(actual.wallLimitSeconds, expected.wallLimitSeconds);
  EXPECT_EQ(actual.state, expected.state);
  EXPECT_EQ(actual.reason, expected.reason);
  EXPECT_EQ(actual.message, expected.message);
  EXPECT_EQ(actual.cached, expected.cached);
  EXPECT_EQ(actual.cachedFrom, expected.cachedFrom);
  EXPECT_EQ(actual.attempts, expected.attempts);
  EXPECT_EQ(actual.createdNs, expected.createdNs);
  EXPECT_EQ(actual.startedNs, expected.startedNs);
  EXPECT_EQ(actual.finishedNs, expected.finishedNs);
  EXPECT_EQ(actual.summary, expected.summary);
  EXPECT_EQ(actual.digest, expected.digest);
  EXPECT_EQ(actual.seq, expected.seq);
}

std::vector<std::string> idsOf(const std::vector<RunRecord>& runs) {
  std::vector<std::string> ids;
  for (const auto& r : runs) ids.push_back(r.id);
  return ids;
}

// Runs `sql` on its own connection to `file` (to play a second process or an older/newer build).
void execRaw(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// The first column of the first row of `sql`, as text ("" when no row).
std::string queryRaw(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The Error that `body` throws, or a test failure.
template <typename Body>
Error errorOf(Body body) {
  try {
    body();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no Error thrown";
  return Error(ErrorKind::Internal, "(none)");
}

// A fresh directory per test, removed afterwards.
class JobStoreTest : public ::testing::Test {
 protected:
  JobStoreTest() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("wafersim-job-store-" + std::to_string(::getpid()) + "-" + info->name() + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::remove_all(root_);
    dir_ = root_ / "data";
  }
  ~JobStoreTest() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path root_;
  fs::path dir_;  // not created: the store creates it
};

TEST(RunStateTest, NamesRoundTripAndFinalStates) {
  const std::vector<std::pair<RunState, std::string>> names = {
      {RunState::Pending, "PENDING"}, {RunState::Running, "RUNNING"},     {RunState::Succeeded, "SUCCEEDED"},
      {RunState::Failed, "FAILED"},   {RunState::Cancelled, "CANCELLED"}, {RunState::TimedOut, "TIMED_OUT"}};
  for (const auto& [state, name] : names) {
    EXPECT_EQ(toString(state), name);
    EXPECT_EQ(runStateFromString(name), state) << name;
  }
  EXPECT_FALSE(isFinal(RunState::Pending));
  EXPECT_FALSE(isFinal(RunState::Running));
  EXPECT_TRUE(isFinal(RunState::Succeeded));
  EXPECT_TRUE(isFinal(RunState::Failed));
  EXPECT_TRUE(isFinal(RunState::Cancelled));
  EXPECT_TRUE(isFinal(RunState::TimedOut));
  EXPECT_EQ(runStateFromString("pending"), std::nullopt);
  EXPECT_EQ(runStateFromString(""), std::nullopt);
  EXPECT_EQ(runStateFromString("PENDING "), std::nullopt);
  EXPECT_EQ(runStateFromString("TIMEDOUT"), std::nullopt);
}

TEST_F(JobStoreTest, CreatesTheDirectoryAndAWalDatabaseWithSchemaVersion1) {
  JobStore store(dir_);
  EXPECT_EQ(store.file(), dir_ / "jobs.sqlite");
  EXPECT_TRUE(fs::is_regular_file(store.file()));
  EXPECT_EQ(store.countRuns(), 0);
  EXPECT_THAT(store.sweeps(), IsEmpty());
  EXPECT_EQ(queryRaw(store.file(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(queryRaw(store.file(), "SELECT value FROM meta WHERE key = 'schema_version'"), "2");
  for (const char* index : {"runs_state_seq", "runs_sweep_index", "runs_identity_state"})
    EXPECT_EQ(queryRaw(store.file(), std::string("SELECT name FROM sqlite_master WHERE type = 'index' AND name = '") +
                                         index + "'"),
              index);
}

TEST_F(JobStoreTest, InsertAndGetRoundTripEveryField) {
  JobStore store(dir_);
  RunRecord expected = makeFinishedRun("run-1");
  const auto inserted = store.insertRun(expected);
  EXPECT_TRUE(inserted.inserted);
  EXPECT_EQ(inserted.run.seq, 1);
  expected.seq = 1;
  expectSameRun(inserted.run, expected);
  const auto stored = store.run("run-1");
  ASSERT_TRUE(stored.has_value());
  expectSameRun(*stored, expected);
}

TEST_F(JobStoreTest, InsertRoundTripsDefaultsIncludingNullSummary) {
  JobStore store(dir_);
  RunRecord expected;
  expected.id = "plain";
  store.insertRun(expected);
  expected.seq = 1;
  const auto stored = store.run("plain");
  ASSERT_TRUE(stored.has_value());
  expectSameRun(*stored, expected);
  EXPECT_TRUE(stored->summary.is_null());
  EXPECT_TRUE(stored->request.is_object());
  EXPECT_TRUE(stored->labels.is_object());
}

TEST_F(JobStoreTest, ValuesAreBoundNotSpliced) {
  JobStore store(dir_);
  RunRecord r = makeRun("x'); DROP TABLE runs; --");
  r.labels = {{"it's", "a \"value\"; DELETE FROM runs"}, {"a.b", "dotted"}};
  store.insertRun(r);
  const auto stored = store.run("x'); DROP TABLE runs; --");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->labels, r.labels);
  EXPECT_EQ(store.countRuns(), 1);
  RunFilter f;
  f.labelKey = "it's";
  f.labelValue = "a \"value\"; DELETE FROM runs";
  EXPECT_THAT(idsOf(store.runs(f)), ElementsAre(r.id));
  f.labelKey = "a.b";
  f.labelValue = "dotted";
  EXPECT_THAT(idsOf(store.runs(f)), ElementsAre(r.id));
}

TEST_F(JobStoreTest, InsertAssignsIncreasingSeqIgnoringTheGivenOne) {
  JobStore store(dir_);
  for (int i = 0; i < 5; ++i) {
    RunRecord r = makeRun("r" + std::to_string(i), i);
    r.seq = 100 - i;
    EXPECT_EQ(store.insertRun(r).run.seq, i + 1);
  }
  EXPECT_EQ(store.run("r3")->seq, 4);
  EXPECT_EQ(store.countRuns(), 5);
}

TEST_F(JobStoreTest, InsertOfAnExistingIdReturnsTheStoredRunAndChangesNothing) {
  JobStore store(dir_);
  const RunRecord first = store.insertRun(makeRun("dup", 1)).run;
  RunRecord second = makeRun("dup", 2);
  second.bodyHash = "other-hash";
  second.state = RunState::Succeeded;
  const auto again = store.insertRun(second);
  EXPECT_FALSE(again.inserted);
  expectSameRun(again.run, first);
  EXPECT_EQ(again.run.bodyHash, "hash-dup");  // the caller compares: different hash = conflict
  expectSameRun(*store.run("dup"), first);
  EXPECT_EQ(store.countRuns(), 1);
  // The seq counter did not move either.
  EXPECT_EQ(store.insertRun(makeRun("next")).run.seq, 2);
}

TEST_F(JobStoreTest, InsertRefusesBadInput) {
  JobStore store(dir_);
  EXPECT_EQ(errorOf([&] { store.insertRun(makeRun("")); }).kind(), ErrorKind::InvalidConfig);
  RunRecord numberLabel = makeRun("l");
  numberLabel.labels = {{"n", 5}};
  const Error e = errorOf([&] { store.insertRun(numberLabel); });
  EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(e.what(), HasSubstr("labels.n"));
  RunRecord arrayLabels = makeRun("a");
  arrayLabels.labels = nlohmann::json::array({"x"});
  EXPECT_EQ(errorOf([&] { store.insertRun(arrayLabels); }).kind(), ErrorKind::InvalidConfig);
  RunRecord badUtf8 = makeRun("u");
  badUtf8.request = {{"text", std::string("\xff\xfe")}};
  EXPECT_EQ(errorOf([&] { store.insertRun(badUtf8); }).kind(), ErrorKind::InvalidConfig);
  EXPECT_EQ(store.countRuns(), 0);
}

TEST_F(JobStoreTest, RunNamingAnUnknownSweepIsRefused) {
  JobStore store(dir_);
  RunRecord r = makeRun("orphan");
  r.sweepId = "no-such-sweep";
  const Error e = errorOf([&] { store.insertRun(r); });
  EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(e.what(), HasSubstr("no-such-sweep"));
  EXPECT_EQ(store.countRuns(), 0);
  // Into an existing sweep it is accepted.
  SweepRecord sweep;
  sweep.id = "no-such-sweep";
  store.insertSweep(sweep, {});
  EXPECT_TRUE(store.insertRun(r).inserted);
}

TEST_F(JobStoreTest, LookupsOfUnknownIdsAreEmpty) {
  JobStore store(dir_);
  EXPECT_EQ(store.run("nope"), std::nullopt);
  EXPECT_EQ(store.sweep("nope"), std::nullopt);
  EXPECT_THAT(store.sweepRuns("nope"), IsEmpty());
  EXPECT_EQ(store.succeededWithIdentity("nope"), std::nullopt);
  EXPECT_THAT(store.pending(), IsEmpty());
}

SweepRecord makeSweep(const std::string& id) {
  SweepRecord s;
  s.id = id;
  s.bodyHash = "sweep-hash-" + id;
  s.request = {{"scenario", "s.yaml"}, {"sweep", {{"grid", {{"simulation.seed", {1, 2, 3}}}}}}};
  s.labels = {{"owner", "alice"}};
  s.concurrency = 2;
  s.createdNs = 1'700'000'000'000'000'123;
  return s;
}

TEST_F(JobStoreTest, InsertSweepStoresTheSweepAndItsPoints) {
  JobStore store(dir_);
  std::vector<RunRecord> points;
  for (int i : {2, 0, 1}) {
    RunRecord p = makeRun("sw-" + std::to_string(i), i);
    p.sweepIndex = i;
    points.push_back(p);
  }
  RunRecord unindexed = makeRun("sw-x", 9);  // sweepId and sweepIndex left to the store
  points.push_back(unindexed);

  SweepRecord sweep = makeSweep("sw");
  sweep.seq = 77;
  const auto inserted = store.insertSweep(sweep, points);
  EXPECT_TRUE(inserted.inserted);
  EXPECT_EQ(inserted.sweep.seq, 1);

  const auto stored = store.sweep("sw");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->id, "sw");
  EXPECT_EQ(stored->bodyHash, sweep.bodyHash);
  EXPECT_EQ(stored->request, sweep.request);
  EXPECT_EQ(stored->labels, sweep.labels);
  EXPECT_EQ(stored->concurrency, 2u);
  EXPECT_FALSE(stored->cancelled);
  EXPECT_EQ(stored->createdNs, sweep.createdNs);
  EXPECT_EQ(stored->seq, 1);

  const auto runs = store.sweepRuns("sw");
  EXPECT_THAT(idsOf(runs), ElementsAre("sw-0", "sw-1", "sw-2", "sw-x"));  // sweepIndex order
  for (const auto& r : runs) EXPECT_EQ(r.sweepId, "sw");
  EXPECT_EQ(runs[3].sweepIndex, 3);  // its position in `points`
  // Points get seqs in the order given.
  EXPECT_EQ(store.run("sw-2")->seq, 1);
  EXPECT_EQ(store.run("sw-0")->seq, 2);
  EXPECT_EQ(store.run("sw-x")->seq, 4);
  RunRecord expected = points[1];
  expected.sweepId = "sw";
  expected.seq = 2;
  expectSameRun(*store.run("sw-0"), expected);
}

TEST_F(JobStoreTest, InsertSweepOfAnExistingIdInsertsNothing) {
  JobStore store(dir_);
  store.insertSweep(makeSweep("sw"), {makeRun("a")});
  SweepRecord other = makeSweep("sw");
  other.bodyHash = "different";
  other.concurrency = 9;
  const auto again = store.insertSweep(other, {makeRun("b"), makeRun("c")});
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(again.sweep.bodyHash, "sweep-hash-sw");
  EXPECT_EQ(again.sweep.concurrency, 2u);
  EXPECT_EQ(again.sweep.seq, 1);
  EXPECT_EQ(store.countRuns(), 1);
  EXPECT_EQ(store.run("b"), std::nullopt);
  EXPECT_EQ(store.sweeps().size(), 1u);
}

TEST_F(JobStoreTest, InsertSweepWithAFailingPointInsertsNothing) {
  JobStore store(dir_);
  store.insertRun(makeRun("taken"));

  // A point whose run id exists: the sweep and the points before it are rolled back.
  const Error e = errorOf([&] { store.insertSweep(makeSweep("sw"), {makeRun("p0"), makeRun("taken"), makeRun("p2")}); });
  EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(e.what(), HasSubstr("taken"));
  EXPECT_EQ(store.sweep("sw"), std::nullopt);
  EXPECT_EQ(store.run("p0"), std::nullopt);
  EXPECT_EQ(store.countRuns(), 1);
  EXPECT_THAT(store.sweeps(), IsEmpty());

  // Two points with one id.
  EXPECT_EQ(errorOf([&] { store.insertSweep(makeSweep("sw"), {makeRun("q"), makeRun("q")}); }).kind(),
            ErrorKind::InvalidConfig);
  EXPECT_EQ(store.sweep("sw"), std::nullopt);
  EXPECT_EQ(store.countRuns(), 1);

  // A point of another sweep.
  RunRecord foreign = makeRun("f");
  foreign.sweepId = "other";
  EXPECT_EQ(errorOf([&] { store.insertSweep(makeSweep("sw"), {foreign}); }).kind(), ErrorKind::InvalidConfig);
  EXPECT_EQ(store.sweep("sw"), std::nullopt);

  // The store is still usable and the seqs continue without gaps.
  const auto ok = store.insertSweep(makeSweep("sw"), {makeRun("p0"), makeRun("p1")});
  EXPECT_TRUE(ok.inserted);
  EXPECT_EQ(ok.sweep.seq, 1);
  EXPECT_EQ(store.run("p0")->seq, 2);
  EXPECT_EQ(store.run("p1")->seq, 3);
}

TEST_F(JobStoreTest, SweepsInSeqOrderAndCancelSweep) {
  JobStore store(dir_);
  for (const char* id : {"s-b", "s-a", "s-c"}) store.insertSweep(makeSweep(id), {});
  const auto sweeps = store.sweeps();
  ASSERT_EQ(sweeps.size(), 3u);
  EXPECT_EQ(sweeps[0].id, "s-b");
  EXPECT_EQ(sweeps[1].id, "s-a");
  EXPECT_EQ(sweeps[2].id, "s-c");
  EXPECT_EQ(sweeps[2].seq, 3);

  EXPECT_TRUE(store.cancelSweep("s-a"));
  EXPECT_TRUE(store.sweep("s-a")->cancelled);
  EXPECT_FALSE(store.sweep("s-b")->cancelled);
  EXPECT_TRUE(store.cancelSweep("s-a"));  // already cancelled: still a sweep
  EXPECT_FALSE(store.cancelSweep("nope"));
}

// 30 runs: r00..r29; state by i % 3 (PENDING, RUNNING, SUCCEEDED); label team=a when i % 4 == 0,
// team=b otherwise; r10..r19 in sweep "sw".
class JobStoreFilterTest : public JobStoreTest {
 protected:
  void SetUp() override {
    store_ = std::make_unique<JobStore>(dir_);
    store_->insertSweep(makeSweep("sw"), {});
    for (int i = 0; i < 30; ++i) {
      RunRecord r = makeRun(name(i), i);
      r.labels = {{"team", i % 4 == 0 ? "a" : "b"}};
      if (i >= 10 && i < 20) {
        r.sweepId = "sw";
        r.sweepIndex = i - 10;
      }
      store_->insertRun(r);
      if (i % 3 >= 1) {
        ASSERT_TRUE(store_->markRunning(r.id, 5));
      }
      if (i % 3 == 2) {
        RunRecord done = r;
        done.state = RunState::Succeeded;
        done.cached = i % 2 == 1;  // 11, 17 of the sweep's 11, 14, 17
        ASSERT_TRUE(store_->finish(done));
      }
    }
  }
  static std::string name(int i) { return (i < 10 ? "r0" : "r") + std::to_string(i); }
  std::vector<std::string> expected(bool (*keep)(int)) const {
    std::vector<std::string> ids;
    for (int i = 0; i < 30; ++i)
      if (keep(i)) ids.push_back(name(i));
    return ids;
  }
  // Every match, fetched `limit` at a time; each page but the last holds exactly `limit`.
  std::vector<std::string> paged(RunFilter filter, uint32_t limit) const {
    filter.limit = limit;
    std::vector<std::string> ids;
    for (;;) {
      const auto page = store_->runs(filter);
      EXPECT_LE(page.size(), limit);
      for (const auto& r : page) ids.push_back(r.id);
      if (page.size() < limit) break;
      filter.afterSeq = page.back().seq;
    }
    return ids;
  }

  std::unique_ptr<JobStore> store_;
};

TEST_F(JobStoreFilterTest, NoFilterReturnsEveryRunInSeqOrder) {
  const auto all = store_->runs(RunFilter{});
  EXPECT_EQ(all.size(), 30u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
  EXPECT_EQ(paged(RunFilter{}, 7), expected([](int) { return true; }));
}

TEST_F(JobStoreFilterTest, LimitAndAfterSeq) {
  RunFilter f;
  f.limit = 5;
  EXPECT_THAT(idsOf(store_->runs(f)), ElementsAre("r00", "r01", "r02", "r03", "r04"));
  f.afterSeq = 27;
  EXPECT_THAT(idsOf(store_->runs(f)), ElementsAre("r27", "r28", "r29"));
  f.afterSeq = 30;
  EXPECT_THAT(store_->runs(f), IsEmpty());
  f.afterSeq = 0;
  f.limit = 0;
  EXPECT_THAT(store_->runs(f), IsEmpty());
}

TEST_F(JobStoreFilterTest, ByState) {
  RunFilter f;
  f.state = RunState::Running;
  EXPECT_EQ(idsOf(store_->runs(f)), expected([](int i) { return i % 3 == 1; }));
  EXPECT_EQ(paged(f, 3), expected([](int i) { return i % 3 == 1; }));
  f.state = RunState::Failed;
  EXPECT_THAT(store_->runs(f), IsEmpty());
}

TEST_F(JobStoreFilterTest, BySweep) {
  RunFilter f;
  f.sweepId = "sw";
  EXPECT_EQ(idsOf(store_->runs(f)), expected([](int i) { return i >= 10 && i < 20; }));
  f.sweepId = "nope";
  EXPECT_THAT(store_->runs(f), IsEmpty());
}

TEST_F(JobStoreFilterTest, ByLabelPagesByMatches) {
  RunFilter f;
  f.labelKey = "team";
  f.labelValue = "a";
  const auto teamA = expected([](int i) { return i % 4 == 0; });
  EXPECT_EQ(idsOf(store_->runs(f)), teamA);
  // Matches are sparse (every 4th run), yet each page holds `limit` of them.
  f.limit = 3;
  EXPECT_THAT(idsOf(store_->runs(f)), ElementsAre("r00", "r04", "r08"));
  EXPECT_EQ(paged(f, 3), teamA);
  EXPECT_EQ(paged(f, 1), teamA);
  f.labelValue = "c";
  EXPECT_THAT(store_->runs(f), IsEmpty());
  f.labelKey = "owner";
  f.labelValue = "a";
  EXPECT_THAT(store_->runs(f), IsEmpty());
}

TEST_F(JobStoreFilterTest, CombinedFilters) {
  RunFilter f;
  f.state = RunState::Pending;
  f.sweepId = "sw";
  f.labelKey = "team";
  f.labelValue = "b";
  const auto want = expected([](int i) { return i % 3 == 0 && i >= 10 && i < 20 && i % 4 != 0; });
  EXPECT_THAT(want, ElementsAre("r15", "r18"));
  EXPECT_EQ(idsOf(store_->runs(f)), want);
  EXPECT_EQ(paged(f, 1), want);
}

TEST_F(JobStoreFilterTest, CountByStateListsAllSixStates) {
  EXPECT_THAT(store_->countByState(),
              ElementsAre(Pair(RunState::Pending, 10), Pair(RunState::Running, 10), Pair(RunState::Succeeded, 10),
                          Pair(RunState::Failed, 0), Pair(RunState::Cancelled, 0), Pair(RunState::TimedOut, 0)));
  // r10..r19: i % 3 == 0 for 12, 15, 18; == 1 for 10, 13, 16, 19; == 2 for 11, 14, 17.
  EXPECT_THAT(store_->countByState("sw"),
              ElementsAre(Pair(RunState::Pending, 3), Pair(RunState::Running, 4), Pair(RunState::Succeeded, 3),
                          Pair(RunState::Failed, 0), Pair(RunState::Cancelled, 0), Pair(RunState::TimedOut, 0)));
  EXPECT_THAT(store_->countByState("nope"),
              ElementsAre(Pair(RunState::Pending, 0), Pair(RunState::Running, 0), Pair(RunState::Succeeded, 0),
                          Pair(RunState::Failed, 0), Pair(RunState::Cancelled, 0), Pair(RunState::TimedOut, 0)));
  EXPECT_EQ(store_->countRuns(), 30);
}

TEST_F(JobStoreFilterTest, CountCachedCountsTheSweepsPointsFromTheCache) {
  EXPECT_EQ(store_->countCached("sw"), 2);
  EXPECT_EQ(store_->countCached("nope"), 0);
}

TEST_F(JobStoreFilterTest, PendingInSeqOrder) {
  EXPECT_EQ(idsOf(store_->pending()), expected([](int i) { return i % 3 == 0; }));
}

// The scheduler's view: the first runs of every queue (a sweep, or one run outside any sweep).
TEST_F(JobStoreFilterTest, PendingHeadsTakeTheFirstRunsOfEachQueue) {
  EXPECT_EQ(idsOf(store_->pendingHeads(1)),
            (std::vector<std::string>{"r00", "r03", "r06", "r09", "r12", "r21", "r24", "r27"}));
  EXPECT_EQ(idsOf(store_->pendingHeads(2)),
            (std::vector<std::string>{"r00", "r03", "r06", "r09", "r12", "r15", "r21", "r24", "r27"}));
  EXPECT_EQ(idsOf(store_->pendingHeads(100)), idsOf(store_->pending()));
}

TEST_F(JobStoreTest, CountByStateOfAnEmptyStoreIsAllZero) {
  JobStore store(dir_);
  const auto counts = store.countByState();
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [state, n] : counts) EXPECT_EQ(n, 0) << toString(state);
}

TEST_F(JobStoreTest, MarkRunningStartsOnlyAPendingRun) {
  JobStore store(dir_);
  store.insertRun(makeRun("r"));
  EXPECT_TRUE(store.markRunning("r", 111));
  auto r = store.run("r");
  EXPECT_EQ(r->state, RunState::Running);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->startedNs, 111);

  EXPECT_FALSE(store.markRunning("r", 222));  // already running: nothing changes
  r = store.run("r");
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->startedNs, 111);
  EXPECT_FALSE(store.markRunning("nope", 1));
  EXPECT_EQ(store.countRuns(), 1);
}

TEST_F(JobStoreTest, RequeueReturnsARunningRunToPending) {
  JobStore store(dir_);
  const RunRecord original = store.insertRun(makeRun("r")).run;
  EXPECT_FALSE(store.requeue("r", "NODE_LOST", "not running yet"));  // PENDING: refused
  EXPECT_EQ(store.run("r")->reason, "");

  ASSERT_TRUE(store.markRunning("r", 111));
  EXPECT_TRUE(store.requeue("r", "NODE_LOST", "node n1 went away"));
  RunRecord r = *store.run("r");
  EXPECT_EQ(r.state, RunState::Pending);
  EXPECT_EQ(r.reason, "NODE_LOST");
  EXPECT_EQ(r.message, "node n1 went away");
  EXPECT_EQ(r.startedNs, 0);
  EXPECT_EQ(r.attempts, 1);  // requeue counts nothing; the next start does
  EXPECT_EQ(r.request, original.request);
  EXPECT_EQ(r.seq, original.seq);
  EXPECT_FALSE(store.requeue("r", "AGAIN", "pending again"));
  EXPECT_EQ(store.run("r")->reason, "NODE_LOST");

  ASSERT_TRUE(store.markRunning("r", 333));
  r = *store.run("r");
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.startedNs, 333);
  EXPECT_FALSE(store.requeue("nope", "X", "y"));
}

TEST_F(JobStoreTest, FinishFromRunningRecordsTheOutcome) {
  JobStore store(dir_);
  const RunRecord original = store.insertRun(makeRun("r")).run;
  ASSERT_TRUE(store.markRunning("r", 111));

  RunRecord ended = original;
  ended.state = RunState::Succeeded;
  ended.reason = "COMPLETED";
  ended.message = "done";
  ended.finishedNs = 999;
  ended.summary = {{"tokens", 42}};
  ended.digest = "d1";
  ended.cached = true;
  ended.cachedFrom = "earlier";
  // Fields finish() does not own are ignored.
  ended.request = {{"changed", true}};
  ended.attempts = 50;
  ended.startedNs = 5;
  EXPECT_TRUE(store.finish(ended));

  const RunRecord r = *store.run("r");
  EXPECT_EQ(r.state, RunState::Succeeded);
  EXPECT_EQ(r.reason, "COMPLETED");
  EXPECT_EQ(r.message, "done");
  EXPECT_EQ(r.finishedNs, 999);
  EXPECT_EQ(r.summary, ended.summary);
  EXPECT_EQ(r.digest, "d1");
  EXPECT_TRUE(r.cached);
  EXPECT_EQ(r.cachedFrom, "earlier");
  EXPECT_EQ(r.request, original.request);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.startedNs, 111);
}

TEST_F(JobStoreTest, FinishFromPendingAndRefusedFromAFinalState) {
  JobStore store(dir_);
  store.insertRun(makeRun("r"));
  RunRecord cancelled = *store.run("r");
  cancelled.state = RunState::Cancelled;
  cancelled.reason = "CANCELLED_BY_USER";
  cancelled.finishedNs = 10;
  EXPECT_TRUE(store.finish(cancelled));  // PENDING -> CANCELLED
  const RunRecord r = *store.run("r");
  EXPECT_EQ(r.state, RunState::Cancelled);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_TRUE(r.summary.is_null());

  // Final: every further transition is refused and changes nothing.
  RunRecord again = r;
  again.state = RunState::Succeeded;
  again.reason = "COMPLETED";
  again.finishedNs = 20;
  EXPECT_FALSE(store.finish(again));
  EXPECT_FALSE(store.markRunning("r", 30));
  EXPECT_FALSE(store.requeue("r", "X", "y"));
  expectSameRun(*store.run("r"), r);

  RunRecord unknown = again;
  unknown.id = "nope";
  EXPECT_FALSE(store.finish(unknown));
}

TEST_F(JobStoreTest, FinishEveryFinalStateAndRefuseANonFinalOne) {
  JobStore store(dir_);
  for (RunState state : {RunState::Succeeded, RunState::Failed, RunState::Cancelled, RunState::TimedOut}) {
    const std::string id = std::string("r-") + toString(state);
    store.insertRun(makeRun(id));
    ASSERT_TRUE(store.markRunning(id, 1));
    RunRecord ended = *store.run(id);
    ended.state = state;
    EXPECT_TRUE(store.finish(ended));
    EXPECT_EQ(store.run(id)->state, state);
  }
  store.insertRun(makeRun("p"));
  RunRecord notFinal = *store.run("p");
  notFinal.state = RunState::Running;
  const Error e = errorOf([&] { store.finish(notFinal); });
  EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(e.what(), HasSubstr("RUNNING"));
  EXPECT_EQ(store.run("p")->state, RunState::Pending);
}

TEST_F(JobStoreTest, RequeueAllRunningReturnsTheirIdsInSeqOrder) {
  JobStore store(dir_);
  for (const char* id : {"a", "b", "c", "d", "e"}) store.insertRun(makeRun(id));
  ASSERT_TRUE(store.markRunning("d", 1));
  ASSERT_TRUE(store.markRunning("b", 2));
  ASSERT_TRUE(store.markRunning("e", 3));
  RunRecord done = *store.run("e");
  done.state = RunState::Failed;
  ASSERT_TRUE(store.finish(done));

  EXPECT_THAT(store.requeueAllRunning("COORDINATOR_RESTART", "the coordinator restarted"), ElementsAre("b", "d"));
  for (const char* id : {"b", "d"}) {
    const RunRecord r = *store.run(id);
    EXPECT_EQ(r.state, RunState::Pending);
    EXPECT_EQ(r.reason, "COORDINATOR_RESTART");
    EXPECT_EQ(r.message, "the coordinator restarted");
    EXPECT_EQ(r.startedNs, 0);
    EXPECT_EQ(r.attempts, 1);
  }
  EXPECT_EQ(store.run("e")->state, RunState::Failed);
  EXPECT_EQ(store.run("a")->reason, "");
  EXPECT_THAT(idsOf(store.pending()), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(store.requeueAllRunning("X", "y"), IsEmpty());
}

TEST_F(JobStoreTest, SucceededWithIdentityIsTheOldestNonCachedSuccess) {
  JobStore store(dir_);
  const auto add = [&](const std::string& id, const std::string& identity, RunState state, bool cached) {
    RunRecord r = makeRun(id);
    r.identity = identity;
    store.insertRun(r);
    if (state == RunState::Pending) return;
    ASSERT_TRUE(store.markRunning(id, 1));
    if (state == RunState::Running) return;
    r.state = state;
    r.cached = cached;
    r.cachedFrom = cached ? "somewhere" : "";
    ASSERT_TRUE(store.finish(r));
  };
  add("pending", "X", RunState::Pending, false);
  add("running", "X", RunState::Running, false);
  add("failed", "X", RunState::Failed, false);
  add("cached", "X", RunState::Succeeded, true);
  add("other", "Y", RunState::Succeeded, false);
  EXPECT_EQ(store.succeededWithIdentity("X"), std::nullopt);

  add("first", "X", RunState::Succeeded, false);
  add("second", "X", RunState::Succeeded, false);
  const auto found = store.succeededWithIdentity("X");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, "first");
  EXPECT_EQ(store.succeededWithIdentity("Y")->id, "other");
  EXPECT_EQ(store.succeededWithIdentity("Z"), std::nullopt);
}

TEST_F(JobStoreTest, WritesSurviveTheStoreAndAreReadBackAfterReopening) {
  RunRecord finished = makeFinishedRun("finished");
  {
    JobStore store(dir_);
    store.insertSweep(makeSweep("sw"), {makeRun("p0"), makeRun("p1")});
    store.insertRun(finished);
    store.insertRun(makeRun("running"));
    ASSERT_TRUE(store.markRunning("running", 42));
    ASSERT_TRUE(store.cancelSweep("sw"));
  }
  JobStore store(dir_);
  EXPECT_EQ(store.countRuns(), 4);
  finished.seq = 3;
  expectSameRun(*store.run("finished"), finished);
  EXPECT_EQ(store.run("running")->state, RunState::Running);
  EXPECT_EQ(store.run("running")->startedNs, 42);
  EXPECT_TRUE(store.sweep("sw")->cancelled);
  EXPECT_THAT(idsOf(store.sweepRuns("sw")), ElementsAre("p0", "p1"));
  // Seqs continue after the stored ones.
  EXPECT_EQ(store.insertRun(makeRun("after")).run.seq, 5);
  EXPECT_EQ(store.insertSweep(makeSweep("sw2"), {}).sweep.seq, 2);
  EXPECT_THAT(store.requeueAllRunning("COORDINATOR_RESTART", ""), ElementsAre("running"));
}

TEST_F(JobStoreTest, ASecondStoreOnTheDirectorySeesCommittedWrites) {
  JobStore first(dir_);
  JobStore second(dir_);
  first.insertRun(makeRun("a"));
  ASSERT_TRUE(second.run("a").has_value());
  EXPECT_TRUE(second.markRunning("a", 5));
  EXPECT_EQ(first.run("a")->state, RunState::Running);
  EXPECT_FALSE(first.markRunning("a", 6));  // the other store's transition counts
  EXPECT_EQ(second.insertRun(makeRun("b")).run.seq, 2);
  EXPECT_FALSE(first.insertRun(makeRun("b")).inserted);
  first.insertSweep(makeSweep("sw"), {makeRun("p")});
  EXPECT_EQ(second.sweepRuns("sw").size(), 1u);
  EXPECT_EQ(second.countRuns(), 3);
}

TEST_F(JobStoreTest, ConcurrentInsertsFromEightThreadsAllLandWithUniqueSeqs) {
  JobStore store(dir_);
  constexpr int kThreads = 8, kPerThread = 100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        try {
          if (!store.insertRun(makeRun("t" + std::to_string(t) + "-" + std::to_string(i), i)).inserted) ++failures;
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store.countRuns(), kThreads * kPerThread);
  RunFilter all;
  all.limit = 10000;
  const auto runs = store.runs(all);
  ASSERT_EQ(runs.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<int64_t> seqs;
  for (const auto& r : runs) seqs.insert(r.seq);
  EXPECT_EQ(seqs.size(), runs.size());
  EXPECT_EQ(*seqs.begin(), 1);
  EXPECT_EQ(*seqs.rbegin(), kThreads * kPerThread);
}

TEST_F(JobStoreTest, ConcurrentWritersOnTwoStoresGetUniqueSeqs) {
  JobStore first(dir_);
  JobStore second(dir_);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      JobStore& store = t % 2 ? second : first;
      for (int i = 0; i < 25; ++i) {
        try {
          store.insertRun(makeRun("t" + std::to_string(t) + "-" + std::to_string(i), i));
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  RunFilter all;
  all.limit = 1000;
  std::set<int64_t> seqs;
  for (const auto& r : first.runs(all)) seqs.insert(r.seq);
  EXPECT_EQ(seqs.size(), 100u);
  EXPECT_EQ(*seqs.rbegin(), 100);
}

TEST_F(JobStoreTest, ConcurrentStartsOfOneRunSucceedOnce) {
  JobStore store(dir_);
  store.insertRun(makeRun("r"));
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      if (store.markRunning("r", t + 1)) ++started;
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(started.load(), 1);
  EXPECT_EQ(store.run("r")->attempts, 1);
}

TEST_F(JobStoreTest, ANewerSchemaVersionIsRefused) {
  fs::path file;
  {
    JobStore store(dir_);
    store.insertRun(makeRun("a"));
    file = store.file();
  }
  execRaw(file, "UPDATE meta SET value = 3 WHERE key = 'schema_version'");
  const Error e = errorOf([&] { JobStore again(dir_); });
  EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(e.what(), HasSubstr(file.string()));
  EXPECT_THAT(e.what(), HasSubstr("schema_version 3"));
  EXPECT_THAT(e.what(), HasSubstr("this build's 2"));
  // Refusing changed nothing.
  EXPECT_EQ(queryRaw(file, "SELECT value FROM meta WHERE key = 'schema_version'"), "3");
  EXPECT_EQ(queryRaw(file, "SELECT COUNT(*) FROM runs"), "1");
}

// A version-1 store (no owners) is upgraded in place: its runs and sweeps keep everything and
// belong to nobody; new ones keep their owner.
TEST_F(JobStoreTest, AVersionOneStoreGainsOwnersAndKeepsItsRuns) {
  fs::path file;
  {
    JobStore store(dir_);
    store.insertRun(makeRun("old"));
    file = store.file();
  }
  // Back to version 1's tables: no owner columns.
  execRaw(file, "ALTER TABLE runs DROP COLUMN owner");
  execRaw(file, "ALTER TABLE sweeps DROP COLUMN owner");
  execRaw(file, "UPDATE meta SET value = 1 WHERE key = 'schema_version'");
  JobStore store(dir_);
  EXPECT_EQ(queryRaw(file, "SELECT value FROM meta WHERE key = 'schema_version'"), "2");
  ASSERT_TRUE(store.run("old"));
  EXPECT_EQ(store.run("old")->owner, "");
  RunRecord mine = makeRun("new");
  mine.owner = "alice";
  store.insertRun(mine);
  EXPECT_EQ(store.run("new")->owner, "alice");
}

TEST_F(JobStoreTest, APathUnderARegularFileIsInvalidConfigNamingThePath) {
  fs::create_directories(root_);
  const fs::path blocker = root_ / "a-file";
  std::ofstream(blocker) << "not a directory";
  const fs::path bad = blocker / "data";
  const Error e = errorOf([&] { JobStore store(bad); });
  EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(e.what(), HasSubstr(bad.string()));
}

TEST_F(JobStoreTest, ADataDirectoryThatIsAFileIsInvalidConfig) {
  fs::create_directories(root_);
  const fs::path file = root_ / "a-file";
  std::ofstream(file) << "not a directory";
  const Error e = errorOf([&] { JobStore store(file); });
  EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(e.what(), HasSubstr(file.string()));
}

TEST_F(JobStoreTest, AFileThatIsNotADatabaseIsInvalidConfigNamingTheFile) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "jobs.sqlite") << std::string(4096, 'x');
  const Error e = errorOf([&] { JobStore store(dir_); });
  EXPECT_EQ(e.kind(), ErrorKind::InvalidConfig);
  EXPECT_THAT(e.what(), HasSubstr((dir_ / "jobs.sqlite").string()));
}

TEST_F(JobStoreTest, AWriteLockHeldPastTheTimeoutIsOverloaded) {
  JobStore store(dir_);
  store.insertRun(makeRun("a"));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(store.file().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  // Readers are not blocked by a writer (WAL).
  EXPECT_TRUE(store.run("a").has_value());
  const auto start = std::chrono::steady_clock::now();
  const Error e = errorOf([&] { store.insertRun(makeRun("b")); });
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(e.kind(), ErrorKind::Overloaded) << e.what();
  EXPECT_THAT(e.what(), HasSubstr(store.file().string()));
  EXPECT_GE(waited, std::chrono::seconds(4));  // busy_timeout is 5 s

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  // Nothing half-done: the store works again and the refused writes left no trace.
  EXPECT_EQ(store.run("b"), std::nullopt);
  EXPECT_EQ(store.run("a")->state, RunState::Pending);
  EXPECT_TRUE(store.insertRun(makeRun("b")).inserted);
  EXPECT_TRUE(store.markRunning("a", 1));
}

}  // namespace
}  // namespace wafersim
