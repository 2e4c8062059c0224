// The SQLite peer of the comparison benchmark (issue 6; bench/compare.sh, BENCHMARKS.md): the
// job of the ledger done the way a careful team would do it on SQLite, on the same synthetic
// city, one phase per process (so that each phase's peak RSS is its own):
//
//   sqlite_peer ingest     --db FILE --children N --seed S   the city's commands through the
//                          project's own CommandHandler (parse, load the case's state from the
//                          cases table, build and check the events with the same domain rules),
//                          on an EventStore implemented with SQL: an append-only events table
//                          (payload = the event as JSON, ledger/event_json.h), idempotency and
//                          claims tables, and normalized projection tables updated in the same
//                          transaction; WAL mode, one transaction per 1,000 commands, prepared
//                          statements reused. Generation time is measured apart and subtracted.
//   sqlite_peer recompute  --db FILE [--check]              every projection table emptied and
//                          recomputed from the events table in pure SQL (INSERT ... SELECT with
//                          json_extract and window functions). --check first copies the live
//                          tables (not timed) and compares them with the recomputed ones.
//   sqlite_peer query      --db FILE --children N          payment record + rights record of
//                          the same 20,000 random children as city_bench, by prepared SQL
//   sqlite_peer ledger-query --ledger DIR --children N  the ledger's own query (city_bench
//                          query) timed the same way; both query phases also report the CPU
//                          time of the querying thread per query (cpu_p50_us, cpu_p99_us).
//                          --block-cache-mb M sets StoreOptions::block_cache_bytes (default: the
//                          ledger's, 256); --compact-first compacts every column family first
//                          (RocksDB CompactRange with the ledger's options), an experiment.
//   sqlite_peer crosscheck --db FILE --ledger DIR --children N   (not timed) compares the
//                          SQLite answers with the shebao ledger's (QueryPayments, QueryRights,
//                          QueryQueue) for random children, guardians and every agency.
//
// Durability is matched to city_bench's shebao ingest, which acknowledges without fsync and
// syncs the WAL every 10,000 lines and at the end: synchronous=NORMAL, except the transactions
// that end at a multiple of 10,000 lines and the last one, committed with synchronous=FULL
// (a WAL fsync at commit). Settings (options below): 8 KiB pages, a checkpoint every 256 MiB of
// WAL, a 256 MiB page cache, locking_mode=EXCLUSIVE. Each phase prints one JSON object on stdout.
#include <sqlite3.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <flatbuffers/flatbuffers.h>
#include <rocksdb/db.h>

#include "ledger/domain/command_handler.h"
#include "ledger/domain/projection_rows.h"
#include "ledger/domain/projector.h"
#include "ledger/domain/queries.h"
#include "ledger/event_json.h"
#include "ledger/keys.h"
#include "ledger/rocks_options.h"
#include "tools/allocator.h"
#include "tools/city_generator.h"
#include "tools/command_batch.h"

using namespace shebao;
using Clock = std::chrono::steady_clock;
using ledger::Code;
using ledger::Status;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

long PeakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sqlite_peer: %s\n", what.c_str());
  std::exit(1);
}

struct Args {
  std::string phase;
  std::string db = "/tmp/shebao-sqlite-peer.db";
  std::string ledger;
  uint64_t children = 10'000;
  uint64_t seed = 1;
  uint64_t samples = 20'000;
  uint64_t txn_commands = 1'000;
  uint64_t sync_every = 10'000;
  int64_t cache_mb = 256;         // SQLite page cache
  int64_t block_cache_mb =        // ledger-query: StoreOptions::block_cache_bytes (its default)
      static_cast<int64_t>(ledger::StoreOptions().block_cache_bytes >> 20);
  int64_t mmap_mb = 0;
  // 8 KiB pages and a checkpoint every 256 MiB of WAL (SQLite's defaults: 4 KiB, 1,000 pages):
  // measured at 2,000 children, this cut the ingest's CPU time by about 40 %.
  int64_t page_size = 8192;
  int64_t wal_autocheckpoint = 32768;
  bool check = false;
  bool exclusive = true;
  bool compact_first = false;  // ledger-query: compact every column family first (an experiment)  // locking_mode=EXCLUSIVE: one process owns the database, as a ledger
  std::string data = SHEBAO_DATA_DIR;
};

Args Parse(int argc, char** argv) {
  Args a;
  if (argc > 1) a.phase = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--check" || k == "--compact-first") {
      (k == "--check" ? a.check : a.compact_first) = true;
      continue;
    }
    if (i + 1 >= argc) Die("missing value for " + k);
    const std::string v = argv[++i];
    if (k == "--db") a.db = v;
    else if (k == "--ledger") a.ledger = v;
    else if (k == "--children") a.children = std::stoull(v);
    else if (k == "--seed") a.seed = std::stoull(v);
    else if (k == "--samples") a.samples = std::stoull(v);
    else if (k == "--txn-commands") a.txn_commands = std::stoull(v);
    else if (k == "--sync-every") a.sync_every = std::stoull(v);
    else if (k == "--cache-mb") a.cache_mb = std::stoll(v);
    else if (k == "--block-cache-mb") a.block_cache_mb = std::stoll(v);
    else if (k == "--mmap-mb") a.mmap_mb = std::stoll(v);
    else if (k == "--page-size") a.page_size = std::stoll(v);
    else if (k == "--exclusive") a.exclusive = v != "0";
    else if (k == "--wal-autocheckpoint") a.wal_autocheckpoint = std::stoll(v);
    else if (k == "--data") a.data = v;
    else Die("unknown option " + k);
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// A thin layer over the SQLite C API: prepared statements, reused.

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      Die(fmt::format("open {}: {}", path, sqlite3_errmsg(db_)));
    }
  }
  ~Db() {
    if (sqlite3_close(db_) != SQLITE_OK) std::fprintf(stderr, "sqlite_peer: close: %s\n", sqlite3_errmsg(db_));
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* get() const { return db_; }
  void Exec(const std::string& sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err != nullptr ? err : "?";
      sqlite3_free(err);
      Die(fmt::format("{}\n  in: {}", msg, sql.substr(0, 400)));
    }
  }
  int64_t Int(const std::string& sql) const;

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(const Db& db, std::string_view sql) : db_(db.get()) {
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
      Die(fmt::format("prepare: {}\n  in: {}", sqlite3_errmsg(db_), sql.substr(0, 400)));
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binds in order, from parameter 1. Text is bound SQLITE_STATIC: it must outlive the Step.
  Stmt& Reset() {
    sqlite3_reset(stmt_);
    next_ = 1;
    return *this;
  }
  Stmt& Int(int64_t v) {
    Check(sqlite3_bind_int64(stmt_, next_++, v));
    return *this;
  }
  Stmt& Text(std::string_view s) {
    Check(sqlite3_bind_text(stmt_, next_++, s.data(), static_cast<int>(s.size()), SQLITE_STATIC));
    return *this;
  }
  Stmt& Blob(const void* p, size_t n) {
    Check(sqlite3_bind_blob(stmt_, next_++, p, static_cast<int>(n), SQLITE_STATIC));
    return *this;
  }
  // True for a row, false when done. Errors die, except a constraint violation when allowed.
  bool Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Die(fmt::format("step: {} ({})", sqlite3_errmsg(db_), sqlite3_sql(stmt_)));
  }
  void Run() {
    while (Step()) {
    }
  }
  int64_t ColInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::string ColText(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
  }
  std::string_view ColBlob(int i) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, i));
    return p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
  }
  bool ColNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

 private:
  void Check(int rc) const {
    if (rc != SQLITE_OK) Die(fmt::format("bind: {}", sqlite3_errmsg(db_)));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int next_ = 1;
};

int64_t Db::Int(const std::string& sql) const {
  Stmt s(*this, sql);
  return s.Step() ? s.ColInt(0) : 0;
}

void Configure(const Db& db, const Args& a) {
  db.Exec(fmt::format("PRAGMA page_size={}", a.page_size));  // only before the first table
  // Like the ledger (one process at a time): no shared-memory WAL index, locks held.
  if (a.exclusive) db.Exec("PRAGMA locking_mode=EXCLUSIVE");
  db.Exec("PRAGMA journal_mode=WAL");
  db.Exec(fmt::format("PRAGMA wal_autocheckpoint={}", a.wal_autocheckpoint));
  db.Exec("PRAGMA synchronous=NORMAL");
  db.Exec(fmt::format("PRAGMA cache_size=-{}", a.cache_mb * 1024));
  db.Exec(fmt::format("PRAGMA mmap_size={}", a.mmap_mb * 1024 * 1024));
  db.Exec("PRAGMA temp_store=MEMORY");
  db.Exec("PRAGMA threads=2");  // sorter helper threads (the machine has 2 cores)
}

// ---------------------------------------------------------------------------------------------
// Schema. Enums are stored as their integer values (as in the ledger's rows); the pure-SQL
// recompute maps the names that the JSON payloads carry back to these integers.

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  position INTEGER PRIMARY KEY,
  stream_id TEXT NOT NULL,
  stream_version INTEGER NOT NULL,
  recorded_us INTEGER NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  UNIQUE(stream_id, stream_version));
CREATE TABLE IF NOT EXISTS idempotency(
  key TEXT PRIMARY KEY, first_position INTEGER NOT NULL, last_position INTEGER NOT NULL,
  digest BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims(claim TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cases(
  child_id TEXT NOT NULL, coverage_year INTEGER NOT NULL, stream_id TEXT NOT NULL,
  version INTEGER NOT NULL, last_position INTEGER NOT NULL, step INTEGER NOT NULL,
  attempt INTEGER NOT NULL, pathway INTEGER NOT NULL, birth_day INTEGER NOT NULL,
  issuing_org TEXT NOT NULL, school_uscc TEXT NOT NULL, guardian_id TEXT NOT NULL,
  household_division_code TEXT NOT NULL, agency_division_code TEXT NOT NULL,
  low_income_certificate_no TEXT NOT NULL, returned_for_correction INTEGER NOT NULL,
  returned_from INTEGER NOT NULL, account_no TEXT NOT NULL, failed_collections INTEGER NOT NULL,
  premium_position INTEGER NOT NULL, premium_fen INTEGER NOT NULL, subsidy_fen INTEGER NOT NULL,
  bank_ref TEXT NOT NULL, bank_code TEXT NOT NULL, paid_day INTEGER NOT NULL,
  refunded_fen INTEGER NOT NULL, reversals INTEGER NOT NULL, coverage INTEGER NOT NULL,
  coverage_effective_day INTEGER NOT NULL, waiting_months INTEGER NOT NULL,
  certificate_holder INTEGER NOT NULL, certificate_fee_fen INTEGER NOT NULL,
  procedures_accepted_day INTEGER NOT NULL, certificate_due_day INTEGER NOT NULL,
  due_provisional INTEGER NOT NULL, calendar_version TEXT NOT NULL, certificate_no TEXT NOT NULL,
  early_issue_override_position INTEGER NOT NULL, certificate_issued_day INTEGER NOT NULL,
  last_effective_day INTEGER NOT NULL, opened_position INTEGER NOT NULL, child_name TEXT NOT NULL,
  PRIMARY KEY(child_id, coverage_year)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS payments(
  person_id TEXT NOT NULL, position INTEGER NOT NULL, kind INTEGER NOT NULL,
  effective_day INTEGER NOT NULL, recorded_us INTEGER NOT NULL, amount_fen INTEGER NOT NULL,
  payer INTEGER NOT NULL, payer_id TEXT NOT NULL, channel INTEGER NOT NULL, bank_code TEXT NOT NULL,
  bank_ref TEXT NOT NULL, period_start_day INTEGER NOT NULL, period_end_day INTEGER NOT NULL,
  stream_id TEXT NOT NULL, original_position INTEGER NOT NULL, note TEXT NOT NULL,
  PRIMARY KEY(person_id, position)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue(
  agency TEXT NOT NULL, child_id TEXT NOT NULL, coverage_year INTEGER NOT NULL,
  stream_id TEXT NOT NULL, step INTEGER NOT NULL, next_step INTEGER NOT NULL, owner INTEGER NOT NULL,
  since_day INTEGER NOT NULL, certificate_due_day INTEGER NOT NULL, due_provisional INTEGER NOT NULL,
  PRIMARY KEY(agency, child_id, coverage_year)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS employments(
  employer_uscc TEXT NOT NULL, employee_id TEXT NOT NULL, stream_id TEXT NOT NULL,
  version INTEGER NOT NULL, registered INTEGER NOT NULL, employee_name TEXT NOT NULL,
  start_month INTEGER NOT NULL, end_month INTEGER NOT NULL,
  PRIMARY KEY(employer_uscc, employee_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS employment_months(
  employer_uscc TEXT NOT NULL, employee_id TEXT NOT NULL, month INTEGER NOT NULL,
  base_fen INTEGER NOT NULL, rate_bp INTEGER NOT NULL, declared_fen INTEGER NOT NULL,
  paid_fen INTEGER NOT NULL, declared_position INTEGER NOT NULL, paid_position INTEGER NOT NULL,
  PRIMARY KEY(employer_uscc, employee_id, month)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orgs(
  org_id TEXT PRIMARY KEY, version INTEGER NOT NULL, pilot_uscc_accepted INTEGER NOT NULL,
  pilot_override_position INTEGER NOT NULL) WITHOUT ROWID;
)sql";

const char* kProjectionTables[] = {"cases", "payments", "queue", "employments", "employment_months", "orgs"};

constexpr const char* kCaseColumns =
    "child_id, coverage_year, stream_id, version, last_position, step, attempt, pathway, "
    "birth_day, issuing_org, school_uscc, guardian_id, household_division_code, "
    "agency_division_code, low_income_certificate_no, returned_for_correction, returned_from, "
    "account_no, failed_collections, premium_position, premium_fen, subsidy_fen, bank_ref, "
    "bank_code, paid_day, refunded_fen, reversals, coverage, coverage_effective_day, "
    "waiting_months, certificate_holder, certificate_fee_fen, procedures_accepted_day, "
    "certificate_due_day, due_provisional, calendar_version, certificate_no, "
    "early_issue_override_position, certificate_issued_day, last_effective_day, opened_position, "
    "child_name";
constexpr int kCaseColumnCount = 42;

constexpr const char* kPaymentColumns =
    "person_id, position, kind, effective_day, recorded_us, amount_fen, payer, payer_id, channel, "
    "bank_code, bank_ref, period_start_day, period_end_day, stream_id, original_position, note";

std::string Placeholders(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += i == 0 ? "?" : ",?";
  return s;
}

void BindCase(Stmt& st, const domain::CaseState& s, std::string_view child, int year) {
  st.Text(child).Int(year).Text(s.stream_id).Int(static_cast<int64_t>(s.version))
      .Int(static_cast<int64_t>(s.last_position)).Int(static_cast<int>(s.step)).Int(s.attempt)
      .Int(static_cast<int>(s.pathway)).Int(s.birth_day).Text(s.issuing_org).Text(s.school_uscc)
      .Text(s.guardian_id).Text(s.household_division_code).Text(s.agency_division_code)
      .Text(s.low_income_certificate_no).Int(s.returned_for_correction ? 1 : 0)
      .Int(static_cast<int>(s.returned_from)).Text(s.account_no).Int(s.failed_collections)
      .Int(static_cast<int64_t>(s.premium_position)).Int(s.premium_fen).Int(s.subsidy_fen)
      .Text(s.bank_ref).Text(s.bank_code).Int(s.paid_day).Int(s.refunded_fen).Int(s.reversals)
      .Int(static_cast<int>(s.coverage)).Int(s.coverage_effective_day).Int(s.waiting_months)
      .Int(static_cast<int>(s.certificate_holder)).Int(s.certificate_fee_fen)
      .Int(s.procedures_accepted_day).Int(s.certificate_due_day).Int(s.due_provisional ? 1 : 0)
      .Text(s.calendar_version).Text(s.certificate_no)
      .Int(static_cast<int64_t>(s.early_issue_override_position)).Int(s.certificate_issued_day)
      .Int(s.last_effective_day).Int(static_cast<int64_t>(s.opened_position)).Text(s.child_name);
}

// Reads the columns of kCaseColumns, from column `at`.
domain::CaseState ReadCase(const Stmt& st, int at = 0) {
  domain::CaseState s;
  int i = at + 2;  // child_id and coverage_year come again below
  s.child_id = st.ColText(at);
  s.coverage_year = static_cast<int>(st.ColInt(at + 1));
  s.stream_id = st.ColText(i++);
  s.version = static_cast<uint64_t>(st.ColInt(i++));
  s.last_position = static_cast<uint64_t>(st.ColInt(i++));
  s.step = static_cast<domain::Step>(st.ColInt(i++));
  s.attempt = static_cast<int>(st.ColInt(i++));
  s.pathway = static_cast<fb::Pathway>(st.ColInt(i++));
  s.birth_day = static_cast<domain::Day>(st.ColInt(i++));
  s.issuing_org = st.ColText(i++);
  s.school_uscc = st.ColText(i++);
  s.guardian_id = st.ColText(i++);
  s.household_division_code = st.ColText(i++);
  s.agency_division_code = st.ColText(i++);
  s.low_income_certificate_no = st.ColText(i++);
  s.returned_for_correction = st.ColInt(i++) != 0;
  s.returned_from = static_cast<domain::Step>(st.ColInt(i++));
  s.account_no = st.ColText(i++);
  s.failed_collections = static_cast<int>(st.ColInt(i++));
  s.premium_position = static_cast<uint64_t>(st.ColInt(i++));
  s.premium_fen = st.ColInt(i++);
  s.subsidy_fen = st.ColInt(i++);
  s.bank_ref = st.ColText(i++);
  s.bank_code = st.ColText(i++);
  s.paid_day = static_cast<domain::Day>(st.ColInt(i++));
  s.refunded_fen = st.ColInt(i++);
  s.reversals = static_cast<int>(st.ColInt(i++));
  s.coverage = static_cast<fb::CoverageStatus>(st.ColInt(i++));
  s.coverage_effective_day = static_cast<domain::Day>(st.ColInt(i++));
  s.waiting_months = static_cast<int>(st.ColInt(i++));
  s.certificate_holder = static_cast<fb::CertificateHolder>(st.ColInt(i++));
  s.certificate_fee_fen = st.ColInt(i++);
  s.procedures_accepted_day = static_cast<domain::Day>(st.ColInt(i++));
  s.certificate_due_day = static_cast<domain::Day>(st.ColInt(i++));
  s.due_provisional = st.ColInt(i++) != 0;
  s.calendar_version = st.ColText(i++);
  s.certificate_no = st.ColText(i++);
  s.early_issue_override_position = static_cast<uint64_t>(st.ColInt(i++));
  s.certificate_issued_day = static_cast<domain::Day>(st.ColInt(i++));
  s.last_effective_day = static_cast<domain::Day>(st.ColInt(i++));
  s.opened_position = static_cast<uint64_t>(st.ColInt(i++));
  s.child_name = st.ColText(i++);
  return s;
}

domain::PaymentLine ReadPayment(const Stmt& st) {
  domain::PaymentLine p;
  p.position = static_cast<uint64_t>(st.ColInt(0));
  p.kind = static_cast<fb::PaymentKind>(st.ColInt(1));
  p.day = static_cast<domain::Day>(st.ColInt(2));
  p.recorded_us = st.ColInt(3);
  p.amount_fen = st.ColInt(4);
  p.payer = static_cast<fb::PayerKind>(st.ColInt(5));
  p.payer_id = st.ColText(6);
  p.channel = static_cast<fb::Channel>(st.ColInt(7));
  p.bank_code = st.ColText(8);
  p.bank_ref = st.ColText(9);
  p.period_start_day = static_cast<domain::Day>(st.ColInt(10));
  p.period_end_day = static_cast<domain::Day>(st.ColInt(11));
  p.stream_id = st.ColText(12);
  p.original_position = static_cast<uint64_t>(st.ColInt(13));
  p.note = st.ColText(14);
  return p;
}

// Key parsing (projection_rows.h): R/<child>/C/<yyyy>, R/<person>/P/<be64>, E/<uscc>/<employee>,
// Q/<agency>/<child>/<yyyy>, O/<org>.
struct CaseKeyParts {
  std::string child;
  int year;
};
CaseKeyParts SplitCaseKey(std::string_view key) {  // "R/<child>/C/<yyyy>"
  return {domain::RowPersonId(key), std::atoi(std::string(key.substr(key.size() - 4)).c_str())};
}
std::pair<std::string_view, std::string_view> SplitTwo(std::string_view rest) {
  const size_t slash = rest.find('/');
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

// ---------------------------------------------------------------------------------------------
// ledger::EventStore on SQLite, so that the project's CommandHandler runs on it unchanged.
// Unlike EventStore's promise, not thread-safe: one connection, prepared statements shared by
// all calls; one thread at a time (CommandHandler with pipelined = false).

class SqliteStore final : public ledger::EventStore {
 public:
  explicit SqliteStore(const Db& db)
      : db_(db),
        get_idem_(db, "SELECT first_position, last_position, digest FROM idempotency WHERE key = ?"),
        put_idem_(db, "INSERT INTO idempotency(key, first_position, last_position, digest) VALUES(?,?,?,?) "
                      "ON CONFLICT(key) DO NOTHING"),
        del_idem_(db, "DELETE FROM idempotency WHERE key = ?"),
        get_claim_(db, "SELECT position FROM claims WHERE claim = ?"),
        put_claim_(db, "INSERT INTO claims(claim, position) VALUES(?,?)"),
        stream_version_(db, "SELECT max(stream_version) FROM events WHERE stream_id = ?"),
        put_event_(db, "INSERT INTO events(position, stream_id, stream_version, recorded_us, kind, payload) "
                       "VALUES(?,?,?,?,?,?)"),
        get_case_(db, fmt::format("SELECT {} FROM cases WHERE child_id = ? AND coverage_year = ?", kCaseColumns)),
        put_case_(db, fmt::format("INSERT OR REPLACE INTO cases({}) VALUES({})", kCaseColumns,
                                  Placeholders(kCaseColumnCount))),
        put_payment_(db, fmt::format("INSERT INTO payments({}) VALUES({})", kPaymentColumns, Placeholders(16))),
        put_queue_(db, "INSERT OR REPLACE INTO queue(agency, child_id, coverage_year, stream_id, step, "
                       "next_step, owner, since_day, certificate_due_day, due_provisional) "
                       "VALUES(?,?,?,?,?,?,?,?,?,?)"),
        del_queue_(db, "DELETE FROM queue WHERE agency = ? AND child_id = ? AND coverage_year = ?"),
        get_employment_(db, "SELECT stream_id, version, registered, employee_name, start_month, end_month "
                            "FROM employments WHERE employer_uscc = ? AND employee_id = ?"),
        get_months_(db, "SELECT month, base_fen, rate_bp, declared_fen, paid_fen, declared_position, "
                        "paid_position FROM employment_months WHERE employer_uscc = ? AND employee_id = ? "
                        "ORDER BY month"),
        put_employment_(db, "INSERT OR REPLACE INTO employments(employer_uscc, employee_id, stream_id, "
                            "version, registered, employee_name, start_month, end_month) "
                            "VALUES(?,?,?,?,?,?,?,?)"),
        put_month_(db, "INSERT OR REPLACE INTO employment_months(employer_uscc, employee_id, month, "
                       "base_fen, rate_bp, declared_fen, paid_fen, declared_position, paid_position) "
                       "VALUES(?,?,?,?,?,?,?,?,?)"),
        get_org_(db, "SELECT version, pilot_uscc_accepted, pilot_override_position FROM orgs WHERE org_id = ?"),
        put_org_(db, "INSERT OR REPLACE INTO orgs(org_id, version, pilot_uscc_accepted, "
                     "pilot_override_position) VALUES(?,?,?,?)"),
        writer_(this) {
    head_.position = static_cast<uint64_t>(db.Int("SELECT coalesce(max(position), 0) FROM events"));
  }

  // Transactions: the bench loop calls Begin, executes up to --txn-commands commands, Commit.
  // With sync, the transaction commits with synchronous=FULL (the WAL is fsynced at its commit);
  // SQLite changes the level only between transactions.
  void Begin(bool sync) {
    if (sync != full_) db_.Exec(sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    full_ = sync;
    db_.Exec("BEGIN IMMEDIATE");
  }
  void Commit() {
    db_.Exec("COMMIT");
    cache_.clear();  // rows read or written in the transaction (what the code holds in memory)
  }

  Status Append(const ledger::AppendBatch& batch, ledger::AppendResult* result) override {
    std::vector<ledger::AppendResult> results;
    std::vector<Status> statuses;
    Status s = AppendMany({batch}, &results, &statuses);
    if (!s.ok()) return s;
    *result = results[0];
    return statuses[0];
  }

  Status SyncWal() override { return Status::OK(); }  // see Commit

  Status AppendMany(const std::vector<ledger::AppendBatch>& batches,
                    std::vector<ledger::AppendResult>* results, std::vector<Status>* statuses) override {
    results->assign(batches.size(), ledger::AppendResult());
    statuses->assign(batches.size(), Status::OK());
    const int64_t recorded_us = std::max<int64_t>(head_.recorded_us, ledger::SystemClock::Default()->NowMicros());
    for (size_t b = 0; b < batches.size(); ++b) {
      (*statuses)[b] = AppendOne(batches[b], recorded_us, &(*results)[b]);
    }
    head_.recorded_us = recorded_us;
    return Status::OK();
  }

  ledger::Head head() const override { return head_; }

  Status LookupIdempotency(std::string_view key, bool* found, ledger::IdempotencyInfo* info) const override {
    get_idem_.Reset().Text(key);
    *found = get_idem_.Step();
    if (*found) {
      info->first_position = static_cast<uint64_t>(get_idem_.ColInt(0));
      info->last_position = static_cast<uint64_t>(get_idem_.ColInt(1));
      const std::string_view d = get_idem_.ColBlob(2);
      if (d.size() != info->content_digest.size()) return Status(Code::corruption, "digest size");
      std::memcpy(info->content_digest.data(), d.data(), d.size());
    }
    get_idem_.Reset();
    return Status::OK();
  }

  Status ClaimHolder(std::string_view claim, uint64_t* position) const override {
    get_claim_.Reset().Text(claim);
    *position = get_claim_.Step() ? static_cast<uint64_t>(get_claim_.ColInt(0)) : 0;
    get_claim_.Reset();
    return Status::OK();
  }

  Status StreamVersion(std::string_view stream_id, uint64_t* version) const override {
    stream_version_.Reset().Text(stream_id);
    *version = stream_version_.Step() ? static_cast<uint64_t>(stream_version_.ColInt(0)) : 0;
    stream_version_.Reset();
    return Status::OK();
  }

  Status ReadStream(std::string_view, uint64_t, ledger::Direction, size_t,
                    std::vector<ledger::RecordedEvent>*) const override {
    return Unsupported("ReadStream");
  }
  Status ReadAll(uint64_t, size_t, std::vector<ledger::RecordedEvent>*) const override {
    return Unsupported("ReadAll");
  }
  std::unique_ptr<ledger::LogCursor> NewCursor(uint64_t) const override { return nullptr; }
  std::unique_ptr<ledger::StoredRecordReader> NewStoredRecordReader(uint64_t,
                                                                    uint64_t) const override {
    return nullptr;
  }
  std::unique_ptr<ledger::ReadView> NewReadView() const override { return nullptr; }

  Status GetProjection(std::string_view key, std::string* value, bool* found) const override {
    return writer_.Get(key, value, found);
  }
  uint64_t projection_position() const override { return head_.position; }
  Status RebuildProjections(const ledger::RebuildProgress&) override { return Unsupported("rebuild"); }
  Status InterruptedRebuild(bool* interrupted, uint64_t* position) const override {
    *interrupted = false;
    *position = 0;
    return Unsupported("rebuild");
  }
  Status VerifyChain(uint64_t*) const override { return Unsupported("verify"); }
  // The audit records of the replay module (being added to EventStore concurrently): declared
  // without `override` so that this file builds against the interface with or without them.
  Status PutAuditRecords(const std::vector<std::pair<std::string, std::string>>&) {  // NOLINT
    return Unsupported("audit records");
  }
  Status GetAuditRecord(std::string_view, std::string*, bool*) const { return Unsupported("audit records"); }
  Status ScanAuditRecords(std::string_view,
                          const std::function<bool(std::string_view, std::string_view)>&) const {
    return Unsupported("audit records");
  }

 private:
  static Status Unsupported(std::string_view what) {
    return Status(Code::invalid_argument, fmt::format("{} is not part of the SQLite peer", what));
  }

  Status AppendOne(const ledger::AppendBatch& batch, int64_t recorded_us, ledger::AppendResult* result) {
    if (batch.events.empty()) return Status(Code::batch_empty, "no events");
    ledger::Hash256 digest{};
    if (batch.content_digest.has_value()) {
      digest = *batch.content_digest;
    } else {
      ledger::Sha256 h;
      for (const auto& e : batch.events) {
        uint8_t len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(e.size()) >> (8 * i));
        h.Update(len, 8);
        h.Update(e);
      }
      for (const auto& c : batch.claims) h.Update(c);
      digest = h.Finish();
    }
    const uint64_t first = head_.position + 1;
    const uint64_t last = head_.position + batch.events.size();
    // 1. Idempotency: the insert is the check (the key is the primary key).
    put_idem_.Reset().Text(batch.idempotency_key).Int(static_cast<int64_t>(first))
        .Int(static_cast<int64_t>(last)).Blob(digest.data(), digest.size()).Run();
    if (sqlite3_changes(db_.get()) == 0) {
      bool found = false;
      ledger::IdempotencyInfo seen;
      Status s = LookupIdempotency(batch.idempotency_key, &found, &seen);
      if (!s.ok()) return s;
      if (seen.content_digest != digest) {
        return Status(Code::idempotency_conflict, fmt::format("key {} recorded with other content", batch.idempotency_key));
      }
      result->duplicate = true;
      result->first_position = seen.first_position;
      result->last_position = seen.last_position;
      return Status::OK();
    }
    auto undo = [&](Status s) {
      del_idem_.Reset().Text(batch.idempotency_key).Run();
      return s;
    };
    // 2. Expected versions (the unique index on (stream_id, stream_version)).
    std::unordered_map<std::string_view, uint64_t> versions;
    for (const auto& x : batch.expectations) {
      uint64_t v = 0;
      Status s = StreamVersion(x.stream_id, &v);
      if (!s.ok()) return undo(s);
      using K = ledger::ExpectedVersion::Kind;
      const bool ok = x.expected.kind == K::any || (x.expected.kind == K::no_stream && v == 0) ||
                      (x.expected.kind == K::exists && v > 0) ||
                      (x.expected.kind == K::exact && v == x.expected.version);
      if (!ok) {
        return undo(Status(x.expected.kind == K::exists ? Code::stream_not_found : Code::version_conflict,
                           fmt::format("stream {} is at version {}", x.stream_id, v)));
      }
      versions[x.stream_id] = v;
    }
    // 3. Claims.
    for (const auto& c : batch.claims) {
      uint64_t holder = 0;
      Status s = ClaimHolder(c, &holder);
      if (!s.ok()) return undo(s);
      if (holder != 0) return undo(Status(Code::claim_taken, fmt::format("claim {} held by {}", c, holder)));
    }
    for (const auto& c : batch.claims) put_claim_.Reset().Text(c).Int(static_cast<int64_t>(first)).Run();
    // 4. The events, as JSON, and the projections in the same transaction.
    ledger::RecordedEvent re;
    std::string json;
    uint64_t position = first;
    for (const auto& bytes : batch.events) {
      re.position = position;
      re.bytes = bytes;
      fb::Event* e = fb::GetMutableEvent(re.bytes.data());
      const std::string_view stream = e->stream_id()->string_view();
      auto it = versions.find(stream);
      if (it == versions.end()) return undo(Status(Code::expectation_missing, std::string(stream)));
      const uint64_t version = ++it->second;
      if (!e->mutate_position(position) || !e->mutate_stream_version(version) ||
          !e->mutate_recorded_us(recorded_us)) {
        return undo(Status(Code::envelope_invalid, "store-assigned fields absent"));
      }
      if (Status s = ledger::EventToJson(re.bytes, &json); !s.ok()) return undo(s);
      put_event_.Reset().Int(static_cast<int64_t>(position)).Text(stream).Int(static_cast<int64_t>(version))
          .Int(recorded_us).Text(fb::EnumNamePayload(e->payload_type())).Text(json).Run();
      if (Status s = projector_.Apply(re, &writer_); !s.ok()) return s;
      ++position;
    }
    writer_.Flush();  // the projection rows the command changed, each written once
    head_.position = last;
    result->first_position = first;
    result->last_position = last;
    return Status::OK();
  }

  // The projector's writer: rows as SQL rows. Reads go to the rows the transaction already
  // holds in memory (cache_), then to SQL; writes are collected per command (last value per
  // row) and written at its end, one statement per changed row.
  class Writer final : public ledger::ProjectionWriter {
   public:
    explicit Writer(SqliteStore* store) : s_(store) {}

    Status Get(std::string_view key, std::string* value, bool* found) override {
      if (auto it = pending_.find(key); it != pending_.end()) {
        *found = it->second.has_value();
        if (*found) *value = *it->second;
        return Status::OK();
      }
      if (auto it = s_->cache_.find(std::string(key)); it != s_->cache_.end()) {
        *found = it->second.has_value();
        if (*found) *value = *it->second;
        return Status::OK();
      }
      Status st = Load(key, value, found);
      if (!st.ok()) return st;
      s_->cache_.emplace(std::string(key), *found ? std::optional<std::string>(*value) : std::nullopt);
      return Status::OK();
    }
    void Put(std::string_view key, std::string_view value) override {
      pending_[std::string(key)] = std::string(value);
    }
    void Delete(std::string_view key) override { pending_[std::string(key)] = std::nullopt; }

    void Flush() {
      for (auto& [key, value] : pending_) {
        Write(key, value);
        s_->cache_[key] = std::move(value);
      }
      pending_.clear();
    }

   private:
    Status Load(std::string_view key, std::string* value, bool* found) const {
      *found = false;
      switch (domain::RowFamily(key)) {
        case 'C': {
          const auto [child, year] = SplitCaseKey(key);
          Stmt& st = s_->get_case_;
          st.Reset().Text(child).Int(year);
          if (st.Step()) {
            *value = domain::EncodeCaseState(ReadCase(st));
            *found = true;
          }
          st.Reset();
          return Status::OK();
        }
        case 'E': {
          const auto [uscc, employee] = SplitTwo(key.substr(2));
          Stmt& st = s_->get_employment_;
          st.Reset().Text(uscc).Text(employee);
          domain::EmploymentState e;
          if (st.Step()) {
            *found = true;
            e.stream_id = st.ColText(0);
            e.version = static_cast<uint64_t>(st.ColInt(1));
            e.registered = st.ColInt(2) != 0;
            if (e.registered) {
              e.employer_uscc = std::string(uscc);
              e.employee_id = std::string(employee);
            }
            e.employee_name = st.ColText(3);
            e.start_month = static_cast<int>(st.ColInt(4));
            e.end_month = static_cast<int>(st.ColInt(5));
          }
          st.Reset();
          if (*found) {
            Stmt& m = s_->get_months_;
            m.Reset().Text(uscc).Text(employee);
            while (m.Step()) {
              auto& x = e.months[static_cast<int>(m.ColInt(0))];
              x.base_fen = m.ColInt(1);
              x.rate_bp = static_cast<int32_t>(m.ColInt(2));
              x.declared_fen = m.ColInt(3);
              x.paid_fen = m.ColInt(4);
              x.declared_position = static_cast<uint64_t>(m.ColInt(5));
              x.paid_position = static_cast<uint64_t>(m.ColInt(6));
            }
            m.Reset();
            *value = domain::EncodeEmploymentState(e);
          }
          return Status::OK();
        }
        case 'O': {
          Stmt& st = s_->get_org_;
          st.Reset().Text(key.substr(2));
          if (st.Step()) {
            domain::OrgState o;
            o.version = static_cast<uint64_t>(st.ColInt(0));
            o.pilot_uscc_accepted = st.ColInt(1) != 0;
            o.pilot_override_position = static_cast<uint64_t>(st.ColInt(2));
            *value = domain::EncodeOrgState(o);
            *found = true;
          }
          st.Reset();
          return Status::OK();
        }
        default:
          return Status(Code::invalid_argument, fmt::format("no SQL row for key {}", key));
      }
    }

    void Write(const std::string& key, const std::optional<std::string>& value) {
      switch (domain::RowFamily(key)) {
        case 'C': {
          domain::CaseState c;
          if (!value || !domain::DecodeCaseState(*value, &c)) Die("case row: " + key);
          const auto [child, year] = SplitCaseKey(key);
          BindCase(s_->put_case_.Reset(), c, child, year);
          s_->put_case_.Run();
          return;
        }
        case 'P': {
          if (!value) Die("payment rows are never deleted");
          const auto* r = flatbuffers::GetRoot<fb::PaymentRow>(value->data());
          const std::string person = domain::RowPersonId(key);
          auto str = [](const flatbuffers::String* x) { return x == nullptr ? std::string_view() : x->string_view(); };
          s_->put_payment_.Reset().Text(person).Int(static_cast<int64_t>(r->position()))
              .Int(static_cast<int>(r->kind())).Int(r->effective_day()).Int(r->recorded_us())
              .Int(r->amount_fen()).Int(static_cast<int>(r->payer())).Text(str(r->payer_id()))
              .Int(static_cast<int>(r->channel())).Text(str(r->bank_code())).Text(str(r->bank_ref()))
              .Int(r->period_start_day()).Int(r->period_end_day()).Text(str(r->stream_id()))
              .Int(static_cast<int64_t>(r->original_position())).Text(str(r->note())).Run();
          return;
        }
        case 'Q': {  // Q/<agency>/<child>/<yyyy>
          const std::string_view rest = std::string_view(key).substr(2);
          const auto [agency, child_year] = SplitTwo(rest);
          const std::string_view child = child_year.substr(0, child_year.size() - 5);
          const int year = std::atoi(std::string(child_year.substr(child_year.size() - 4)).c_str());
          if (!value) {
            s_->del_queue_.Reset().Text(agency).Text(child).Int(year).Run();
            return;
          }
          const auto* r = flatbuffers::GetRoot<fb::QueueRow>(value->data());
          s_->put_queue_.Reset().Text(agency).Text(child).Int(year).Text(r->stream_id()->string_view())
              .Int(r->step()).Int(r->next_step()).Int(static_cast<int>(r->owner())).Int(r->since_day())
              .Int(r->certificate_due_day()).Int(r->due_provisional() ? 1 : 0).Run();
          return;
        }
        case 'E': {
          domain::EmploymentState e, before;
          if (!value || !domain::DecodeEmploymentState(*value, &e)) Die("employment row: " + key);
          if (auto it = s_->cache_.find(key); it != s_->cache_.end() && it->second) {
            if (!domain::DecodeEmploymentState(*it->second, &before)) Die("employment row: " + key);
          }
          const auto [uscc, employee] = SplitTwo(std::string_view(key).substr(2));
          s_->put_employment_.Reset().Text(uscc).Text(employee).Text(e.stream_id)
              .Int(static_cast<int64_t>(e.version)).Int(e.registered ? 1 : 0).Text(e.employee_name)
              .Int(e.start_month).Int(e.end_month).Run();
          for (const auto& [month, m] : e.months) {  // only the months that changed
            auto old = before.months.find(month);
            if (old != before.months.end() && old->second == m) continue;
            s_->put_month_.Reset().Text(uscc).Text(employee).Int(month).Int(m.base_fen).Int(m.rate_bp)
                .Int(m.declared_fen).Int(m.paid_fen).Int(static_cast<int64_t>(m.declared_position))
                .Int(static_cast<int64_t>(m.paid_position)).Run();
          }
          return;
        }
        case 'O': {
          domain::OrgState o;
          if (!value || !domain::DecodeOrgState(*value, &o)) Die("org row: " + key);
          s_->put_org_.Reset().Text(std::string_view(key).substr(2)).Int(static_cast<int64_t>(o.version))
              .Int(o.pilot_uscc_accepted ? 1 : 0).Int(static_cast<int64_t>(o.pilot_override_position)).Run();
          return;
        }
        default:
          Die("no SQL table for key " + key);
      }
    }

    SqliteStore* s_;
    std::map<std::string, std::optional<std::string>, std::less<>> pending_;
  };

  const Db& db_;
  mutable Stmt get_idem_, put_idem_, del_idem_, get_claim_, put_claim_, stream_version_, put_event_;
  mutable Stmt get_case_, put_case_, put_payment_, put_queue_, del_queue_, get_employment_, get_months_,
      put_employment_, put_month_, get_org_, put_org_;
  std::unordered_map<std::string, std::optional<std::string>> cache_;
  mutable Writer writer_;
  domain::DomainProjector projector_;
  ledger::Head head_;
  bool full_ = false;
};

// ---------------------------------------------------------------------------------------------

uint64_t DbBytes(const std::string& path) {
  uint64_t n = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path + suffix, ec);
    if (!ec) n += size;
  }
  return n;
}

void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix);
}

int Ingest(const Args& a) {
  RemoveDb(a.db);
  domain::WorkingDayCalendar calendar;
  domain::PremiumTable premiums;
  if (auto s = domain::WorkingDayCalendar::Load(a.data + "/holiday-cn", &calendar); !s.ok()) Die(s.ToString());
  if (auto s = domain::PremiumTable::Load(a.data + "/premiums.json", &premiums); !s.ok()) Die(s.ToString());
  tools::CityOptions city;
  city.children = a.children;
  city.seed = a.seed;

  uint64_t gen_bytes = 0;
  const auto g0 = Clock::now();
  const uint64_t total_lines =
      tools::GenerateCity(city, [&](std::string_view line) { gen_bytes += line.size(); }).lines;
  const double gen_s = Seconds(g0, Clock::now());

  uint64_t lines = 0, rejected = 0, events = 0, syncs = 0;
  double ingest_s = 0;
  Clock::time_point t_close;
  {
    Db db(a.db);
    Configure(db, a);
    db.Exec(kSchema);
    SqliteStore store(db);
    // Unpipelined: SqliteStore is one connection with shared prepared statements, so its reads
    // may not run while its AppendMany does (the ledger's ExecuteMany overlaps them).
    domain::CommandHandler handler(&store, &premiums, &calendar, true, /*pipelined=*/false);
    std::string first_rejection;
    tools::CommandBatch batch(
        &handler, a.txn_commands,
        [&](uint64_t n, const domain::Rejection& r, const domain::CommandOutcome& out) {
          if (!r.ok()) {
            if (rejected++ == 0) first_rejection = fmt::format("line {}: {} {}", n, domain::RuleName(r.rule), r.message);
            return;
          }
          if (!out.duplicate) events += out.last_position - out.first_position + 1;
        });
    // A transaction ending at a multiple of --sync-every lines, or at the last line, is synced.
    auto begin = [&](uint64_t done) {
      const uint64_t end = std::min(done + a.txn_commands, total_lines);
      const bool sync = end == total_lines || (a.sync_every > 0 && end % a.sync_every == 0);
      syncs += sync ? 1 : 0;
      store.Begin(sync);
    };
    const auto t0 = Clock::now();
    begin(0);
    tools::GenerateCity(city, [&](std::string_view line) {
      if (auto s = batch.Add(++lines, line); !s.ok()) Die(s.ToString());
      if (lines % a.txn_commands == 0) {  // the batch has just executed these commands
        store.Commit();
        if (lines < total_lines) begin(lines);
      }
    });
    if (auto s = batch.Flush(); !s.ok()) Die(s.ToString());
    if (lines % a.txn_commands != 0) store.Commit();
    ingest_s = std::max(Seconds(t0, Clock::now()) - gen_s, 1e-9);
    t_close = Clock::now();
    if (rejected > 0) std::fprintf(stderr, "sqlite_peer: %llu rejected, first: %s\n",
                                   static_cast<unsigned long long>(rejected), first_rejection.c_str());
  }
  // Closing the last connection checkpoints the WAL into the database file and removes it: not
  // part of ingest_s (the commands were durable before), reported as close_s.
  const double close_s = Seconds(t_close, Clock::now());
  std::printf("%s\n", fmt::format("{{\"bench\":\"sqlite_ingest\",\"children\":{},\"lines\":{},\"events\":{},"
                                  "\"rejected\":{},\"generate_s\":{:.3f},\"ingest_s\":{:.3f},"
                                  "\"ingest_events_per_s\":{:.0f},\"ingest_commands_per_s\":{:.0f},"
                                  "\"wal_syncs\":{},\"txn_commands\":{},\"cache_mb\":{},\"page_size\":{},"
                                  "\"wal_autocheckpoint\":{},\"close_s\":{:.3f},\"db_bytes\":{},\"bytes_per_event\":{:.1f},\"peak_rss_mb\":{},\"allocator\":\"{}\"}}",
                                  a.children, lines, events, rejected, gen_s, ingest_s,
                                  static_cast<double>(events) / ingest_s,
                                  static_cast<double>(lines) / ingest_s, syncs, a.txn_commands, a.cache_mb, a.page_size, a.wal_autocheckpoint, close_s,
                                  DbBytes(a.db), static_cast<double>(DbBytes(a.db)) / static_cast<double>(std::max<uint64_t>(events, 1)),
                                  PeakRssMb(), tools::AllocatorName()).c_str());
  return rejected == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// The recompute, in SQL only. Enum names (as the JSON payloads carry them) map to the integers
// the tables hold through CASE expressions built from the schema's own name tables.

template <typename E>
std::string EnumCase(const std::string& expr, const char* const* names, E max) {
  std::string s = fmt::format("CASE {}", expr);
  for (int i = 0; i <= static_cast<int>(max); ++i) {
    if (names[i] != nullptr && names[i][0] != '\0') s += fmt::format(" WHEN '{}' THEN {}", names[i], i);
  }
  return s + " ELSE 0 END";
}

// Replaces {Name} by the integer of payload type Name and [name] by the integer of Step name.
std::string Sql(std::string sql) {
  for (int i = 0; i <= static_cast<int>(fb::Payload::MAX); ++i) {
    const std::string name = fmt::format("{{{}}}", fb::EnumNamesPayload()[i]);
    for (size_t at; (at = sql.find(name)) != std::string::npos;) sql.replace(at, name.size(), std::to_string(i));
  }
  for (int i = 0; i <= static_cast<int>(domain::Step::refunded); ++i) {
    const std::string name = fmt::format("[{}]", domain::StepName(static_cast<domain::Step>(i)));
    for (size_t at; (at = sql.find(name)) != std::string::npos;) sql.replace(at, name.size(), std::to_string(i));
  }
  return sql;
}

std::vector<std::string> RecomputeStatements() {
  const std::string kind_code = EnumCase("kind", fb::EnumNamesPayload(), fb::Payload::MAX);
  const std::string pathway = EnumCase("mi.payload->>'$.payload.pathway'", fb::EnumNamesPathway(), fb::Pathway::MAX);
  const std::string coverage = EnumCase("cov.payload->>'$.payload.status'", fb::EnumNamesCoverageStatus(), fb::CoverageStatus::MAX);
  const std::string payer = EnumCase("payload->>'$.payload.payer'", fb::EnumNamesPayerKind(), fb::PayerKind::MAX);
  const std::string channel = EnumCase("payload->>'$.channel'", fb::EnumNamesChannel(), fb::Channel::MAX);
  std::vector<std::string> v;
  for (const char* t : kProjectionTables) v.push_back(fmt::format("DELETE FROM {}", t));

  // 1. One pass over the log: the few values the folds need, in stream order.
  v.push_back("DROP TABLE IF EXISTS temp.te");
  v.push_back("CREATE TEMP TABLE te(sid TEXT NOT NULL, pos INTEGER NOT NULL, k INTEGER NOT NULL, "
              "day INTEGER NOT NULL, x, amt INTEGER, m INTEGER, PRIMARY KEY(sid, pos)) WITHOUT ROWID");
  v.push_back(Sql(fmt::format(R"sql(
INSERT INTO te
SELECT stream_id, position, {kind_code}, payload->>'$.effective_day',
  CASE kind
    WHEN 'MaterialsIssued' THEN payload->>'$.payload.pathway'
    WHEN 'DeclarationSubmitted' THEN payload->>'$.payload.school_uscc'
    WHEN 'ReviewDecided' THEN json_extract(payload, '$.payload.stage') || '/' || json_extract(payload, '$.payload.outcome')
    WHEN 'SubsidyRecorded' THEN payload->>'$.payload.payer'
    WHEN 'OverrideRecorded' THEN payload->>'$.payload.kind'
  END,
  CASE WHEN kind IN ('PremiumCollected', 'SubsidyRecorded', 'PaymentRefunded', 'CertificateFeePaid',
                     'ContributionDeclared', 'ContributionPaid')
       THEN payload->>'$.payload.amount_fen' END,
  CASE WHEN kind IN ('ContributionDeclared', 'ContributionPaid') THEN payload->>'$.payload.contribution_month'
       WHEN kind = 'EmployeeDeregistered' THEN payload->>'$.payload.end_month' END
FROM events ORDER BY stream_id, position)sql", fmt::arg("kind_code", kind_code))));

  // 2. Cases: per stream, then the current application (from its last MaterialsIssued), the step
  // after each event, and the values of the last event of each kind (ApplyCaseEvent).
  v.push_back("DROP TABLE IF EXISTS temp.cs");
  v.push_back(Sql(R"sql(
CREATE TEMP TABLE cs AS
SELECT sid, count(*) AS version, max(pos) AS last_position, max(day) AS last_day,
       sum(k = {MaterialsIssued}) AS attempt, max(CASE WHEN k = {MaterialsIssued} THEN pos END) AS opened
FROM te WHERE sid >= 'case/' AND sid < 'case0' GROUP BY sid)sql"));
  v.push_back("DROP TABLE IF EXISTS temp.ca");
  v.push_back(Sql(R"sql(
CREATE TEMP TABLE ca AS
WITH cur AS (
  SELECT e.sid, e.pos, e.k, e.x, e.amt,
    CASE e.k
      WHEN {MaterialsIssued} THEN [materials_issued]
      WHEN {LowIncomeListConfirmed} THEN [list_confirmed]
      WHEN {DeclarationSubmitted} THEN [declared]
      WHEN {MaterialsSubmitted} THEN [materials_submitted]
      WHEN {ReviewDecided} THEN CASE
        WHEN e.x LIKE '%/accepted' THEN CASE WHEN e.x LIKE 'agency/%' THEN [agency_reviewed] ELSE [org_reviewed] END
        WHEN e.x LIKE '%/returned_for_correction' THEN
          CASE WHEN e.x LIKE 'agency/%' AND mi.x <> 'not_in_school' THEN [org_reviewed] ELSE [declared] END
        WHEN e.x LIKE '%/refused' THEN [refused] END
      WHEN {ForwardedToAgency} THEN [forwarded]
      WHEN {AgencyReceived} THEN [agency_received]
      WHEN {InsuranceInfoEntered} THEN [info_entered]
      WHEN {CollectionAccountEstablished} THEN [account_established]
      WHEN {PremiumCollected} THEN [premium_collected]
      WHEN {SubsidyRecorded} THEN CASE WHEN e.x = 'civil_affairs' THEN [premium_collected] END
      WHEN {PaymentReversed} THEN [account_established]
      WHEN {PaymentRefunded} THEN [refunded]
      WHEN {ApplicationWithdrawn} THEN [withdrawn]
      WHEN {CertificateRequested} THEN [certificate_requested]
      WHEN {CertificateListPrinted} THEN [list_printed]
      WHEN {CertificateFeePaid} THEN [fee_paid]
      WHEN {CertificateProceduresAccepted} THEN [procedures_accepted]
      WHEN {CertificateReady} THEN [certificate_ready]
      WHEN {CertificateCollected} THEN [certificate_collected]
      WHEN {CertificateIssued} THEN [certificate_issued]
    END AS step_to,
    (e.k = {ReviewDecided} AND e.x LIKE '%/returned_for_correction') AS is_return
  FROM cs JOIN te AS mi ON mi.sid = cs.sid AND mi.pos = cs.opened
          JOIN te AS e ON e.sid = cs.sid AND e.pos >= cs.opened),
w AS (
  SELECT *,
    max(CASE WHEN step_to IS NOT NULL THEN pos * 32 + step_to END)
      OVER (PARTITION BY sid ORDER BY pos ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) % 32 AS prev_step,
    max(CASE WHEN k = {PaymentReversed} THEN pos END) OVER (PARTITION BY sid) AS last_reversal
  FROM cur)
SELECT sid,
  max(CASE WHEN step_to IS NOT NULL THEN pos * 32 + step_to END) % 32 AS step,
  coalesce(max(CASE WHEN k IN ({MaterialsSubmitted}, {ForwardedToAgency}, {AgencyReceived})
                      OR (k = {ReviewDecided} AND (x LIKE '%/accepted' OR is_return))
                    THEN pos * 2 + is_return END) % 2, 0) AS returned_for_correction,
  coalesce(max(CASE WHEN is_return THEN pos * 32 + prev_step END) % 32, 0) AS returned_from,
  max(CASE WHEN k = {LowIncomeListConfirmed} THEN pos END) AS lic_pos,
  max(CASE WHEN k = {DeclarationSubmitted} THEN pos END) AS decl_pos,
  max(CASE WHEN k = {DeclarationSubmitted} AND x <> '' THEN pos END) AS school_pos,
  max(CASE WHEN k IN ({ForwardedToAgency}, {AgencyReceived}) THEN pos END) AS agency_pos,
  max(CASE WHEN k = {CollectionAccountEstablished} THEN pos END) AS account_pos,
  sum(k = {CollectionFailed}) AS failed_collections,
  max(CASE WHEN (k = {PremiumCollected} OR (k = {SubsidyRecorded} AND x = 'civil_affairs'))
            AND pos > coalesce(last_reversal, 0) THEN pos END) AS pay_pos,
  coalesce(sum(CASE WHEN k = {SubsidyRecorded} AND x <> 'civil_affairs' AND pos > coalesce(last_reversal, 0)
                    THEN amt END), 0) AS subsidy_fen,
  coalesce(sum(CASE WHEN k = {PaymentRefunded} THEN amt END), 0) AS refunded_fen,
  sum(k = {PaymentReversed}) AS reversals,
  max(CASE WHEN k = {CoverageStatusChanged} THEN pos END) AS coverage_pos,
  coalesce(sum(CASE WHEN k = {CertificateFeePaid} THEN amt END), 0) AS fee_fen,
  max(CASE WHEN k = {CertificateProceduresAccepted} THEN pos END) AS procedures_pos,
  max(CASE WHEN k = {CertificateReady} THEN pos END) AS ready_pos,
  max(CASE WHEN k = {CertificateIssued} THEN pos END) AS issued_pos,
  coalesce(max(CASE WHEN k = {OverrideRecorded} AND x = 'early_certificate_issue' THEN pos END), 0) AS early_pos
FROM w GROUP BY sid)sql"));
  v.push_back(fmt::format(R"sql(
INSERT INTO cases({cols})
SELECT substr(cs.sid, 11), CAST(substr(cs.sid, 6, 4) AS INTEGER), cs.sid, cs.version, cs.last_position,
  ca.step, cs.attempt, {pathway}, coalesce(d.payload->>'$.payload.birth_day', 0),
  mi.payload->>'$.payload.issuing_org',
  coalesce(sch.payload->>'$.payload.school_uscc',
           CASE WHEN mi.payload->>'$.payload.pathway' = 'school' THEN mi.payload->>'$.payload.issuing_org' ELSE '' END),
  coalesce(d.payload->>'$.payload.guardian_id', ''),
  coalesce(d.payload->>'$.payload.household_division_code', ''),
  coalesce(ag.payload->>'$.payload.agency_division_code', ''),
  coalesce(lic.payload->>'$.payload.low_income_certificate_no', ''),
  ca.returned_for_correction, ca.returned_from,
  coalesce(acc.payload->>'$.payload.account_no', ''), ca.failed_collections,
  coalesce(ca.pay_pos, 0), coalesce(pay.payload->>'$.payload.amount_fen', 0), ca.subsidy_fen,
  coalesce(CASE pay.kind WHEN 'PremiumCollected' THEN pay.payload->>'$.payload.bank_ref'
                         ELSE pay.payload->>'$.payload.reference' END, ''),
  coalesce(pay.payload->>'$.actor.org_id', ''), coalesce(pay.payload->>'$.effective_day', 0),
  ca.refunded_fen, ca.reversals, coalesce({coverage}, 0),
  coalesce(cov.payload->>'$.payload.effective_day', 0), coalesce(cov.payload->>'$.payload.waiting_period_months', 0),
  CASE mi.payload->>'$.payload.pathway' WHEN 'school' THEN 1 WHEN 'low_income' THEN 2 WHEN 'not_in_school' THEN 3 ELSE 0 END,
  ca.fee_fen, coalesce(pr.payload->>'$.payload.accepted_day', 0), coalesce(pr.payload->>'$.payload.due_day', 0),
  coalesce(pr.payload->>'$.payload.provisional', 0), coalesce(pr.payload->>'$.payload.calendar_version', ''),
  coalesce(rd.payload->>'$.payload.certificate_no', ''), ca.early_pos, coalesce(iss.day, 0),
  cs.last_day, cs.opened, coalesce(d.payload->>'$.payload.child_name', '')
FROM cs JOIN ca ON ca.sid = cs.sid
  JOIN events AS mi ON mi.position = cs.opened
  LEFT JOIN events AS d ON d.position = ca.decl_pos
  LEFT JOIN events AS sch ON sch.position = ca.school_pos
  LEFT JOIN events AS ag ON ag.position = ca.agency_pos
  LEFT JOIN events AS lic ON lic.position = ca.lic_pos
  LEFT JOIN events AS acc ON acc.position = ca.account_pos
  LEFT JOIN events AS pay ON pay.position = ca.pay_pos
  LEFT JOIN events AS cov ON cov.position = ca.coverage_pos
  LEFT JOIN events AS pr ON pr.position = ca.procedures_pos
  LEFT JOIN events AS rd ON rd.position = ca.ready_pos
  LEFT JOIN te AS iss ON iss.sid = cs.sid AND iss.pos = ca.issued_pos
ORDER BY 1, 2)sql", fmt::arg("cols", kCaseColumns), fmt::arg("pathway", pathway), fmt::arg("coverage", coverage)));

  // 3. The agency queue: the open cases, from the cases table (NextStepOf, QueueAgencyOf).
  v.push_back(Sql(R"sql(
INSERT INTO queue(agency, child_id, coverage_year, stream_id, step, next_step, owner, since_day,
                  certificate_due_day, due_provisional)
SELECT agency, child_id, coverage_year, stream_id, step, next_step, owner, last_effective_day,
       certificate_due_day, due_provisional
FROM (
  SELECT c.*,
    CASE WHEN agency_division_code <> '' THEN agency_division_code
         WHEN pathway = 2 AND issuing_org <> '' THEN issuing_org
         WHEN household_division_code <> '' THEN household_division_code
         WHEN length(issuing_org) = 18 THEN substr(issuing_org, 3, 6)
         ELSE issuing_org END AS agency,
    CASE step
      WHEN [materials_issued] THEN CASE WHEN pathway = 3 THEN [list_confirmed] ELSE [declared] END
      WHEN [list_confirmed] THEN [declared]
      WHEN [declared] THEN [materials_submitted]
      WHEN [materials_submitted] THEN CASE WHEN pathway IN (1, 3) THEN [org_reviewed] ELSE [agency_received] END
      WHEN [org_reviewed] THEN [forwarded]
      WHEN [forwarded] THEN [agency_received]
      WHEN [agency_received] THEN [agency_reviewed]
      WHEN [agency_reviewed] THEN [info_entered]
      WHEN [info_entered] THEN [account_established]
      WHEN [account_established] THEN [premium_collected]
      WHEN [premium_collected] THEN [certificate_requested]
      WHEN [certificate_requested] THEN [list_printed]
      WHEN [list_printed] THEN [fee_paid]
      WHEN [fee_paid] THEN [procedures_accepted]
      WHEN [procedures_accepted] THEN [certificate_ready]
      WHEN [certificate_ready] THEN [certificate_collected]
      WHEN [certificate_collected] THEN [certificate_issued]
      ELSE [none] END AS next_step,
    CASE step
      WHEN [materials_issued] THEN 1 WHEN [list_confirmed] THEN 1 WHEN [declared] THEN 1
      WHEN [materials_submitted] THEN CASE pathway WHEN 1 THEN 2 WHEN 3 THEN 3 ELSE 4 END
      WHEN [org_reviewed] THEN CASE WHEN pathway = 1 THEN 2 ELSE 3 END
      WHEN [account_established] THEN 5
      WHEN [premium_collected] THEN {holder} WHEN [certificate_requested] THEN {holder}
      WHEN [list_printed] THEN {holder} WHEN [certificate_ready] THEN {holder}
      WHEN [certificate_collected] THEN {holder}
      ELSE 4 END AS owner
  FROM cases AS c)
WHERE next_step <> [none]
ORDER BY 1, 2, 3)sql"));
  // {holder}: RoleForHolder(certificate_holder): school 1 -> role 2, civil_affairs 2 -> 3, guardian 3 -> 1.
  {
    std::string& q = v.back();
    const std::string holder = "CASE certificate_holder WHEN 1 THEN 2 WHEN 2 THEN 3 WHEN 3 THEN 1 ELSE 0 END";
    for (size_t at; (at = q.find("{holder}")) != std::string::npos;) q.replace(at, 8, holder);
  }

  // 4. Payment records: one line per payment event (case streams: the child; employment
  // streams: the employee), as PutPayment writes them.
  v.push_back(fmt::format(R"sql(
INSERT INTO payments({cols})
SELECT CASE WHEN stream_id LIKE 'case/%' THEN substr(stream_id, 11)
            ELSE substr(stream_id, 10 + instr(substr(stream_id, 10), '/')) END,
  position,
  CASE kind WHEN 'PremiumCollected' THEN 1 WHEN 'SubsidyRecorded' THEN 2 WHEN 'CertificateFeePaid' THEN 3
            WHEN 'CollectionFailed' THEN 4 WHEN 'PaymentReversed' THEN 5 WHEN 'PaymentRefunded' THEN 6
            WHEN 'ContributionDeclared' THEN 7 ELSE 8 END,
  payload->>'$.effective_day', recorded_us,
  CASE WHEN kind IN ('PaymentReversed', 'PaymentRefunded') THEN -(payload->>'$.payload.amount_fen')
       ELSE payload->>'$.payload.amount_fen' END,
  CASE WHEN kind IN ('PremiumCollected', 'SubsidyRecorded', 'CollectionFailed') THEN {payer}
       WHEN kind IN ('ContributionDeclared', 'ContributionPaid') THEN 4 ELSE 0 END,
  CASE kind WHEN 'PremiumCollected' THEN payload->>'$.payload.payer_id'
            WHEN 'SubsidyRecorded' THEN payload->>'$.payload.payer_org'
            WHEN 'CertificateFeePaid' THEN payload->>'$.actor.org_id'
            WHEN 'ContributionDeclared' THEN payload->>'$.payload.employer_uscc'
            WHEN 'ContributionPaid' THEN payload->>'$.payload.employer_uscc' ELSE '' END,
  {channel},
  CASE WHEN kind IN ('PremiumCollected', 'CollectionFailed', 'PaymentReversed', 'PaymentRefunded', 'ContributionPaid')
       THEN payload->>'$.payload.bank_code' ELSE '' END,
  CASE kind WHEN 'PremiumCollected' THEN payload->>'$.payload.bank_ref'
            WHEN 'SubsidyRecorded' THEN payload->>'$.payload.reference'
            WHEN 'CertificateFeePaid' THEN payload->>'$.payload.receipt_no'
            WHEN 'CollectionFailed' THEN payload->>'$.payload.bank_ref'
            WHEN 'PaymentReversed' THEN payload->>'$.payload.original_bank_ref'
            WHEN 'PaymentRefunded' THEN payload->>'$.payload.refund_ref'
            WHEN 'ContributionPaid' THEN payload->>'$.payload.bank_ref' ELSE '' END,
  CASE WHEN stream_id LIKE 'case/%'
       THEN CAST(julianday(substr(stream_id, 6, 4) || '-01-01') - 2440587.5 AS INTEGER)
       ELSE CAST(julianday(printf('%04d-%02d-01', (payload->>'$.payload.contribution_month') / 100,
                                  (payload->>'$.payload.contribution_month') % 100)) - 2440587.5 AS INTEGER) END,
  CASE WHEN stream_id LIKE 'case/%'
       THEN CAST(julianday(substr(stream_id, 6, 4) || '-12-31') - 2440587.5 AS INTEGER)
       ELSE CAST(julianday(printf('%04d-%02d-01', (payload->>'$.payload.contribution_month') / 100,
                                  (payload->>'$.payload.contribution_month') % 100), '+1 month') - 2440587.5 AS INTEGER) - 1 END,
  stream_id,
  CASE WHEN kind IN ('PaymentReversed', 'PaymentRefunded') THEN payload->>'$.payload.original_position' ELSE 0 END,
  CASE kind WHEN 'PremiumCollected' THEN 'individual share'
            WHEN 'SubsidyRecorded' THEN payload->>'$.payload.program'
            WHEN 'CertificateFeePaid' THEN 'certificate-making fee (not a premium)'
            WHEN 'ContributionDeclared' THEN 'declared' WHEN 'ContributionPaid' THEN 'paid'
            ELSE payload->>'$.payload.reason_text' END
FROM events
WHERE kind IN ('PremiumCollected', 'SubsidyRecorded', 'CertificateFeePaid', 'CollectionFailed', 'PaymentReversed',
               'PaymentRefunded', 'ContributionDeclared', 'ContributionPaid')
  AND (stream_id LIKE 'case/%' OR stream_id LIKE 'employer/%')
ORDER BY 1, 2)sql", fmt::arg("cols", kPaymentColumns), fmt::arg("payer", payer), fmt::arg("channel", channel)));

  // 5. Employments (ApplyEmploymentEvent) and their months.
  v.push_back(Sql(R"sql(
INSERT INTO employments(employer_uscc, employee_id, stream_id, version, registered, employee_name,
                        start_month, end_month)
SELECT substr(g.sid, 10, instr(substr(g.sid, 10), '/') - 1), substr(g.sid, 10 + instr(substr(g.sid, 10), '/')),
  g.sid, g.version, g.reg_pos IS NOT NULL, coalesce(r.payload->>'$.payload.employee_name', ''),
  coalesce(r.payload->>'$.payload.start_month', 0), coalesce(g.end_code % 1000000, 0)
FROM (
  SELECT sid, count(*) AS version, max(CASE WHEN k = {EmployeeRegistered} THEN pos END) AS reg_pos,
    max(CASE WHEN k = {EmployeeRegistered} THEN pos * 1000000
             WHEN k = {EmployeeDeregistered} THEN pos * 1000000 + m END) AS end_code
  FROM te WHERE sid >= 'employer/' AND sid < 'employer0' GROUP BY sid) AS g
LEFT JOIN events AS r ON r.position = g.reg_pos
ORDER BY 1, 2)sql"));
  v.push_back(Sql(R"sql(
INSERT INTO employment_months(employer_uscc, employee_id, month, base_fen, rate_bp, declared_fen,
                              paid_fen, declared_position, paid_position)
SELECT substr(g.sid, 10, instr(substr(g.sid, 10), '/') - 1), substr(g.sid, 10 + instr(substr(g.sid, 10), '/')),
  g.m, coalesce(d.payload->>'$.payload.base_fen', 0), coalesce(d.payload->>'$.payload.rate_bp', 0),
  coalesce(d.payload->>'$.payload.amount_fen', 0), g.paid_fen, coalesce(g.declared_pos, 0), coalesce(g.paid_pos, 0)
FROM (
  SELECT sid, m, max(CASE WHEN k = {ContributionDeclared} THEN pos END) AS declared_pos,
    coalesce(sum(CASE WHEN k = {ContributionPaid} THEN amt END), 0) AS paid_fen,
    max(CASE WHEN k = {ContributionPaid} THEN pos END) AS paid_pos
  FROM te WHERE sid >= 'employer/' AND sid < 'employer0' AND k IN ({ContributionDeclared}, {ContributionPaid})
  GROUP BY sid, m) AS g
LEFT JOIN events AS d ON d.position = g.declared_pos
ORDER BY 1, 2, 3)sql"));

  // 6. Organisations (ApplyOrgEvent).
  v.push_back(Sql(R"sql(
INSERT INTO orgs(org_id, version, pilot_uscc_accepted, pilot_override_position)
SELECT substr(sid, 5), count(*),
  max(k = {OverrideRecorded} AND x = 'pilot_uscc_checksum'),
  coalesce(max(CASE WHEN k = {OverrideRecorded} AND x = 'pilot_uscc_checksum' THEN pos END), 0)
FROM te WHERE sid >= 'org/' AND sid < 'org0' GROUP BY sid ORDER BY 1)sql"));
  v.push_back("DROP TABLE temp.te");
  v.push_back("DROP TABLE temp.cs");
  v.push_back("DROP TABLE temp.ca");
  return v;
}

int Recompute(const Args& a) {
  Db db(a.db);
  Configure(db, a);
  const int64_t events = db.Int("SELECT count(*) FROM events");
  if (a.check) {  // not timed: keep the live tables to compare with
    for (const char* t : kProjectionTables) {
      db.Exec(fmt::format("DROP TABLE IF EXISTS live_{0}; CREATE TABLE live_{0} AS SELECT * FROM {0}", t));
    }
  }
  std::vector<std::pair<std::string, double>> steps;
  db.Exec("PRAGMA synchronous=FULL");  // the recompute is durable when it returns
  const auto t0 = Clock::now();
  db.Exec("BEGIN IMMEDIATE");
  for (const std::string& sql : RecomputeStatements()) {
    const auto t = Clock::now();
    db.Exec(sql);
    const double s = Seconds(t, Clock::now());
    if (s > 0.05) {
      std::string what = sql.substr(sql.find_first_not_of('\n'), 60);
      std::replace(what.begin(), what.end(), '\n', ' ');
      std::replace(what.begin(), what.end(), '"', '\'');
      steps.emplace_back(what, s);
    }
  }
  db.Exec("COMMIT");
  const double secs = Seconds(t0, Clock::now());
  std::string check = "null";
  if (a.check) {
    check = "{";
    for (const char* t : kProjectionTables) {
      const int64_t live = db.Int(fmt::format("SELECT count(*) FROM live_{}", t));
      const int64_t missing = db.Int(fmt::format("SELECT count(*) FROM (SELECT * FROM live_{0} EXCEPT SELECT * FROM {0})", t));
      const int64_t extra = db.Int(fmt::format("SELECT count(*) FROM (SELECT * FROM {0} EXCEPT SELECT * FROM live_{0})", t));
      check += fmt::format("{}\"{}\":{{\"rows\":{},\"differ\":{},\"extra\":{}}}", check.size() > 1 ? "," : "", t, live, missing, extra);
      if (missing != 0 || extra != 0) std::fprintf(stderr, "sqlite_peer: recompute of %s differs from the live table\n", t);
      db.Exec(fmt::format("DROP TABLE live_{}", t));
    }
    check += "}";
  }
  std::string step_json;
  for (const auto& [what, s] : steps) step_json += fmt::format("{}{{\"sql\":\"{}\",\"s\":{:.3f}}}", step_json.empty() ? "" : ",", what, s);
  std::printf("%s\n", fmt::format("{{\"bench\":\"sqlite_recompute\",\"events\":{},\"recompute_s\":{:.3f},"
                                  "\"recompute_events_per_s\":{:.0f},\"peak_rss_mb\":{},\"check\":{},\"steps\":[{}]}}",
                                  events, secs, static_cast<double>(events) / secs, PeakRssMb(), check, step_json).c_str());
  return 0;
}

// ---------------------------------------------------------------------------------------------

struct PersonQueries {
  explicit PersonQueries(const Db& db)
      : begin(db, "BEGIN"), commit(db, "COMMIT"),
        payments(db, "SELECT position, kind, effective_day, recorded_us, amount_fen, payer, payer_id, channel, "
                     "bank_code, bank_ref, period_start_day, period_end_day, stream_id, original_position, note "
                     "FROM payments WHERE person_id = ? ORDER BY position"),
        rights(db, fmt::format("SELECT {} FROM cases WHERE child_id = ? ORDER BY coverage_year", kCaseColumns)) {}

  // One consistent read (a read transaction: one WAL snapshot for both queries).
  void Run(const std::string& person, std::vector<domain::PaymentLine>* lines, std::vector<domain::CaseState>* years) {
    lines->clear();
    years->clear();
    begin.Reset().Run();
    payments.Reset().Text(person);
    while (payments.Step()) lines->push_back(ReadPayment(payments));
    payments.Reset();
    rights.Reset().Text(person);
    while (rights.Step()) years->push_back(ReadCase(rights));
    rights.Reset();
    commit.Reset().Run();
  }
  Stmt begin, commit, payments, rights;
};

double ThreadCpuUs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

// The query loop of city_bench (a warm pass, then each person timed), timing each query by the
// wall clock and by the CPU time of the querying thread: on a shared machine the wall-clock tail
// is mostly the scheduler (a query preempted for a time slice of the other processes), the CPU
// time is the query's own cost.
struct Timings {
  std::vector<double> wall_us, cpu_us;
  uint64_t with_payments = 0;
  static double Pct(const std::vector<double>& v, double x) {
    return v[std::min(v.size() - 1, static_cast<size_t>(x * static_cast<double>(v.size())))];
  }
  std::string Json() {
    std::sort(wall_us.begin(), wall_us.end());
    std::sort(cpu_us.begin(), cpu_us.end());
    return fmt::format("\"samples\":{},\"with_payments\":{},\"p50_us\":{:.1f},\"p99_us\":{:.1f},\"max_us\":{:.1f},"
                       "\"cpu_p50_us\":{:.1f},\"cpu_p99_us\":{:.1f},\"cpu_max_us\":{:.1f}",
                       wall_us.size(), with_payments, Pct(wall_us, 0.5), Pct(wall_us, 0.99), wall_us.back(),
                       Pct(cpu_us, 0.5), Pct(cpu_us, 0.99), cpu_us.back());
  }
};

template <typename One>
Timings TimeQueries(const Args& a, One one) {
  std::mt19937_64 rng(a.seed);  // the same children as city_bench query
  std::vector<std::string> people;
  for (uint64_t i = 0; i < a.samples; ++i) people.push_back(tools::CityChildId(rng() % a.children));
  for (const auto& p : people) one(p);  // warm
  Timings t;
  t.wall_us.reserve(people.size());
  t.cpu_us.reserve(people.size());
  for (const auto& p : people) {
    const double c0 = ThreadCpuUs();
    const auto t0 = Clock::now();
    const bool found = one(p);
    const auto t1 = Clock::now();
    const double c1 = ThreadCpuUs();
    t.wall_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    t.cpu_us.push_back(c1 - c0);
    t.with_payments += found ? 1 : 0;
  }
  return t;
}

int Query(const Args& a) {
  Db db(a.db);
  Configure(db, a);
  PersonQueries q(db);
  std::vector<domain::PaymentLine> lines;
  std::vector<domain::CaseState> years;
  Timings t = TimeQueries(a, [&](const std::string& p) {
    q.Run(p, &lines, &years);
    return !lines.empty();
  });
  std::printf("%s\n", fmt::format("{{\"bench\":\"sqlite_query\",\"children\":{},{},\"cache_mb\":{},\"mmap_mb\":{},"
                                  "\"peak_rss_mb\":{}}}",
                                  a.children, t.Json(), a.cache_mb, a.mmap_mb, PeakRssMb()).c_str());
  return 0;
}

// The ledger's query (city_bench query: a read view, QueryPayments, QueryRights) timed the same
// way, so that both systems' per-query CPU time can be compared.
int LedgerQuery(const Args& a) {
  if (a.ledger.empty()) Die("ledger-query needs --ledger DIR");
  double compact_s = 0;
  if (a.compact_first) {  // a full manual compaction, with the ledger's own options
    rocksdb::DBOptions o;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    ledger::LedgerRocksOptions(64 << 20, false, &o, &families);
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    if (auto s = rocksdb::DB::Open(o, a.ledger, families, &handles, &raw); !s.ok()) Die(s.ToString());
    const auto t0 = Clock::now();
    for (auto* h : handles) {
      rocksdb::CompactRangeOptions co;
      co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      if (auto s = raw->CompactRange(co, h, nullptr, nullptr); !s.ok()) Die(s.ToString());
    }
    compact_s = Seconds(t0, Clock::now());
    for (auto* h : handles) (void)raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  domain::DomainProjector projector;
  ledger::StoreOptions o;
  o.create_if_missing = false;
  o.projector = &projector;
  o.block_cache_bytes = static_cast<size_t>(a.block_cache_mb) << 20;
  std::unique_ptr<ledger::EventStore> store;
  if (auto s = ledger::EventStore::Open(a.ledger, o, &store); !s.ok()) Die(s.ToString());
  std::vector<domain::PaymentLine> lines;
  std::vector<domain::CaseState> years;
  Timings t = TimeQueries(a, [&](const std::string& p) {
    auto view = store->NewReadView();
    if (!domain::QueryPayments(*view, p, &lines).ok()) Die("payments");
    if (!domain::QueryRights(*view, p, &years).ok()) Die("rights");
    return !lines.empty();
  });
  std::printf("%s\n", fmt::format("{{\"bench\":\"ledger_query\",\"children\":{},{},\"block_cache_mb\":{},"
                                  "\"compacted_first\":{},\"compact_s\":{:.1f},\"peak_rss_mb\":{}}}",
                                  a.children, t.Json(), a.block_cache_mb, a.compact_first, compact_s,
                                  PeakRssMb()).c_str());
  return 0;
}

// ---------------------------------------------------------------------------------------------

bool SamePayment(const domain::PaymentLine& x, const domain::PaymentLine& y) {
  // recorded_us differs by construction: each system stamps its own append time.
  return x.position == y.position && x.kind == y.kind && x.day == y.day && x.amount_fen == y.amount_fen &&
         x.payer == y.payer && x.payer_id == y.payer_id && x.channel == y.channel && x.bank_code == y.bank_code &&
         x.bank_ref == y.bank_ref && x.period_start_day == y.period_start_day &&
         x.period_end_day == y.period_end_day && x.stream_id == y.stream_id &&
         x.original_position == y.original_position && x.note == y.note;
}

int Crosscheck(const Args& a) {
  if (a.ledger.empty()) Die("crosscheck needs --ledger DIR");
  Db db(a.db);
  Configure(db, a);
  PersonQueries q(db);
  domain::DomainProjector projector;
  ledger::StoreOptions o;
  o.create_if_missing = false;
  o.projector = &projector;
  std::unique_ptr<ledger::EventStore> store;
  if (auto s = ledger::EventStore::Open(a.ledger, o, &store); !s.ok()) Die(s.ToString());
  auto view = store->NewReadView();

  std::vector<std::string> people;
  std::mt19937_64 rng(a.seed + 1);
  for (uint64_t i = 0; i < a.samples; ++i) people.push_back(tools::CityChildId(rng() % a.children));
  {  // guardians paid for by employers
    Stmt g(db, fmt::format("SELECT DISTINCT person_id FROM payments WHERE kind >= 7 LIMIT {}", a.samples / 4));
    while (g.Step()) people.push_back(g.ColText(0));
  }
  uint64_t lines_compared = 0, cases_compared = 0, mismatches = 0;
  std::vector<domain::PaymentLine> sl, ll;
  std::vector<domain::CaseState> sy, ly;
  for (const auto& p : people) {
    q.Run(p, &sl, &sy);
    if (!domain::QueryPayments(*view, p, &ll).ok() || !domain::QueryRights(*view, p, &ly).ok()) Die("ledger query");
    bool same = sl.size() == ll.size() && sy.size() == ly.size();
    for (size_t i = 0; same && i < sl.size(); ++i) same = SamePayment(sl[i], ll[i]);
    for (size_t i = 0; same && i < sy.size(); ++i) same = sy[i] == ly[i];
    lines_compared += ll.size();
    cases_compared += ly.size();
    if (!same && mismatches++ < 3) {
      std::fprintf(stderr, "sqlite_peer: %s differs: %zu/%zu payment lines, %zu/%zu cases\n", p.c_str(), sl.size(),
                   ll.size(), sy.size(), ly.size());
    }
  }
  // The agency queues, whole.
  uint64_t queue_rows = 0, queue_mismatch = 0;
  Stmt qs(db, "SELECT stream_id, step, next_step, owner, since_day, certificate_due_day, due_provisional "
              "FROM queue WHERE agency = ? ORDER BY child_id, coverage_year");
  for (std::string_view agency : tools::kCityDivisions) {
    std::vector<domain::QueueItem> items;
    if (!domain::QueryQueue(*view, agency, &items).ok()) Die("ledger queue");
    qs.Reset().Text(agency);
    size_t i = 0;
    while (qs.Step()) {
      const bool ok = i < items.size() && items[i].stream_id == qs.ColText(0) &&
                      static_cast<int>(items[i].step) == qs.ColInt(1) &&
                      static_cast<int>(items[i].next_step) == qs.ColInt(2) &&
                      static_cast<int>(items[i].owner) == qs.ColInt(3) && items[i].since_day == qs.ColInt(4) &&
                      items[i].certificate_due_day == qs.ColInt(5) && items[i].due_provisional == (qs.ColInt(6) != 0);
      queue_mismatch += ok ? 0 : 1;
      ++i;
    }
    qs.Reset();
    queue_mismatch += i == items.size() ? 0 : 1;
    queue_rows += items.size();
  }
  const int64_t sql_events = db.Int("SELECT count(*) FROM events");
  std::printf("%s\n", fmt::format("{{\"bench\":\"sqlite_crosscheck\",\"people\":{},\"payment_lines\":{},\"cases\":{},"
                                  "\"people_differing\":{},\"queue_rows\":{},\"queue_differing\":{},"
                                  "\"events_ledger\":{},\"events_sqlite\":{}}}",
                                  people.size(), lines_compared, cases_compared, mismatches, queue_rows,
                                  queue_mismatch, store->head().position, sql_events).c_str());
  return mismatches == 0 && queue_mismatch == 0 && static_cast<int64_t>(store->head().position) == sql_events ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = Parse(argc, argv);
  if (a.phase == "ingest") return Ingest(a);
  if (a.phase == "recompute") return Recompute(a);
  if (a.phase == "query") return Query(a);
  if (a.phase == "crosscheck") return Crosscheck(a);
  if (a.phase == "ledger-query") return LedgerQuery(a);
  std::fprintf(stderr,
               "usage: sqlite_peer ingest|recompute|query|crosscheck|ledger-query --db FILE [--children N] [--seed S]\n"
               "       [--samples K] [--txn-commands 1000] [--sync-every 10000] [--cache-mb 256]\n"
               "       [--mmap-mb 0] [--page-size 8192] [--wal-autocheckpoint 32768] [--exclusive 1]\n"
               "       [--check] [--ledger DIR] [--compact-first] [--block-cache-mb 64]\n");
  return 2;
}
