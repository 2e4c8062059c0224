// The event store: an append-only, hash-chained log of FlatBuffer events on RocksDB.
//
// Contract
// - Ownership: EventStore owns its RocksDB instance. Callers own the AppendBatch they pass in;
//   the store copies what it keeps. RecordedEvent owns its bytes.
// - Threads: every method is thread-safe. Concurrent Append() calls are merged into group
//   commits (one WriteBatch and one WAL sync for many appenders), in arrival order.
// - Errors: every method returns a Status; no exception leaves this module. A failed Append
//   writes nothing. After a failed RocksDB write the store refuses further appends
//   (store_failed) until it is reopened, because the in-memory head can no longer be trusted.
//   (A write that failed in the middle, e.g. on a full disk, may still be found whole on
//   reopen, or not at all, never in part: retry it with the same idempotency key.)
// - Durability: with StoreOptions::sync (the default) an Append returns OK only after its
//   events are in the fsynced write-ahead log.
// - Processes: one process at a time may open a ledger for writing; a second Open fails with
//   ledger_locked. Any number of processes may open it with StoreOptions::read_only meanwhile.
// - Read-only opens: the store is the ledger as it was at some moment during Open, and never
//   changes afterwards (reopen to see more). It is a prefix of the log: every batch written
//   before that moment and none after it, each batch whole, the head record and projections
//   consistent with the events (Open checks the head against the last event, like a writer's
//   open). While another process writes, that prefix may include batches written but not yet
//   synced by a writer with sync=false (RocksDB makes each batch's WAL record visible whole or
//   not at all; an incomplete last record is ignored). A writer's concurrent flush or
//   compaction is detected (the MANIFEST or the set of WAL files changed during Open) and the
//   open is retried. Projections are not caught up: projection_position() may be behind the
//   head if the last writer ran without a projector.
//
// Invariants (checked on append, verified on every read)
// - Global positions are dense from 1; each stream's versions are dense from 1.
// - recorded_us never decreases along the log.
// - chain_hash(p) = SHA-256(chain_hash(p - 1) || bytes(p)), chain_hash(0) = 32 zero bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/clock.h"
#include "ledger/constants.h"
#include "ledger/sha256.h"
#include "ledger/status.h"
#include "shebao/event_generated.h"

namespace shebao::ledger {

class Projector;

struct StoreOptions {
  // Create the ledger if the directory holds none. If false, a missing ledger is ledger_not_found.
  bool create_if_missing = true;
  // fsync the write-ahead log before acknowledging an append.
  bool sync = true;
  // Source of recorded_us. Not owned; must outlive the store. nullptr means the system clock.
  Clock* clock = nullptr;
  // RocksDB block cache shared by all column families. Scans of the log (rebuild, catch-up,
  // verification) and a fold's reads of the rows it rewrites do not fill it. 256 MiB: at 100,000 children a person's query took half the
  // CPU with 256 MiB than with 64 (BENCHMARKS.md), and SQLite's peer is given as much.
  size_t block_cache_bytes = 256 * 1024 * 1024;
  // Folds every appended event into the projections, in the same atomic write. Not owned;
  // must outlive the store. nullptr: no projections are maintained (and on a later open with
  // a projector, the store first catches the projections up with the log).
  Projector* projector = nullptr;
  // Open without the writer's lock, for reading only (see "Read-only opens" above); works while
  // another process holds the ledger for writing, and on a read-only file system. Nothing is
  // written to the directory. Append, AppendMany, RebuildProjections and every other write fail
  // with invalid_argument; create_if_missing is ignored (a missing ledger is ledger_not_found).
  bool read_only = false;
  // Stream versions the appending side remembers from earlier writes, so that the next append
  // to a recently written stream reads no head record. At most kStreamVersionCacheEntriesMax;
  // when full the cache is emptied and fills again. 0: every append reads the head records.
  size_t stream_version_cache_entries = kStreamVersionCacheEntriesMax;
  // Keep every write-ahead log file RocksDB is done with in the directory's archive/ (RocksDB
  // WAL_ttl_seconds) instead of deleting it: for measurements that replay every write of a
  // run (city_bench write-replay). The archive grows with every append and is never trimmed
  // by the store.
  bool keep_wal_files = false;
};

// What a batch expects of one stream before it writes.
struct ExpectedVersion {
  enum class Kind : uint8_t { any, no_stream, exists, exact };
  Kind kind = Kind::any;
  uint64_t version = 0;  // for Kind::exact; 0 is the same as no_stream

  static ExpectedVersion Any() { return {Kind::any, 0}; }
  static ExpectedVersion NoStream() { return {Kind::no_stream, 0}; }
  static ExpectedVersion Exists() { return {Kind::exists, 0}; }
  static ExpectedVersion Exactly(uint64_t v) { return {Kind::exact, v}; }
};

struct StreamExpectation {
  std::string stream_id;
  ExpectedVersion expected;
};

// One atomic append: all events are written, or none.
struct AppendBatch {
  // Printable ASCII, 1..kIdempotencyKeyBytesMax bytes. Every event's envelope must carry it.
  std::string idempotency_key;
  // Exactly one entry for each stream the events write to.
  std::vector<StreamExpectation> expectations;
  // Event FlatBuffers (identifier SHB1) built with the store-assigned fields present
  // (position, stream_version, recorded_us; see EventDraft in ledger/envelope.h). The store
  // fills those fields in. Events of one stream get consecutive versions in this order.
  std::vector<std::string> events;
  // Unique claims: keys no earlier batch may hold (a unique constraint, e.g.
  // "bank_ref/2026/ICBC-000731"). The batch fails with claim_taken if any is held. At most
  // kBatchClaimsMax, each 1..kClaimBytesMax printable ASCII bytes, no repeats. Claims are
  // part of the batch's content for idempotency.
  std::vector<std::string> claims;
  // What "the same content" means for idempotency. Unset: SHA-256 over the events and claims.
  // A caller whose events depend on state (a command) sets a digest of its own input, so that
  // a retry is recognised even when the events it would build now differ.
  std::optional<Hash256> content_digest;
};

// What the idempotency index holds for one key.
struct IdempotencyInfo {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  Hash256 content_digest{};
};

struct IdempotencyLookup {
  bool found = false;
  IdempotencyInfo info;  // if found
};

struct AppendResult {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  // True if the idempotency key was recorded before with the same content: nothing was
  // written and the positions are the original ones.
  bool duplicate = false;
};

struct Head {
  uint64_t position = 0;  // 0 for an empty ledger
  Hash256 hash{};         // chain hash of the event at position (zeros if empty)
  int64_t recorded_us = 0;
};

// An event as stored, verified when read.
struct RecordedEvent {
  uint64_t position = 0;
  Hash256 hash{};      // chain hash
  std::string bytes;   // the Event FlatBuffer (verified)

  // REQUIRES: this event came from the store (bytes verified).
  const fb::Event* event() const { return fb::GetEvent(bytes.data()); }
};

enum class Direction : uint8_t { forward, backward };

// What a Projector reads and writes: the projections column family, as it will be once the
// current atomic write lands (reads see earlier writes of the same batch).
class ProjectionWriter {
 public:
  virtual ~ProjectionWriter() = default;
  virtual Status Get(std::string_view key, std::string* value, bool* found) = 0;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
};

// Folds events into projections: apply(state, event) -> state, for live appends, rebuilds and
// catch-up alike. Apply must be deterministic (the same events give the same bytes) and must
// fail only on I/O errors of the writer; it runs inside the store's group commit, in position
// order, one thread at a time.
class Projector {
 public:
  virtual ~Projector() = default;
  virtual Status Apply(const RecordedEvent& event, ProjectionWriter* writer) = 0;

  // A batch (a fold of the log: rebuild, catch-up; or one group commit) is BeginBatch, Apply
  // for each event, then EndBatch with the same writer before the writer's rows are written.
  // Between the two, Apply may keep rows it changed in its own (decoded) form instead of
  // putting them at every event; EndBatch puts them. After EndBatch the writer must hold exactly
  // the rows that Apply alone would have put. AbortBatch drops what was kept (the fold failed).
  // undoable (a group commit): Rollback(mark) undoes what Apply kept since Mark() returned mark
  // (a writer of the group whose projection failed; the writer's own rows are undone by the
  // ProjectionWriter). A fold never rolls back and pays nothing for it.
  // The defaults keep nothing.
  virtual void BeginBatch(bool undoable) { (void)undoable; }
  virtual Status EndBatch(ProjectionWriter* writer) {
    (void)writer;
    return Status::OK();
  }
  virtual void AbortBatch() {}
  // REQUIRES: in a batch begun undoable.
  virtual size_t Mark() const { return 0; }
  // REQUIRES: in a batch begun undoable; mark from Mark(), no later than the marks since.
  virtual void Rollback(size_t mark) { (void)mark; }

  // The version of the rows' keys and encodings this projector writes. The store keeps the
  // version its projections were built with (meta "projection-layout"; a store from before the
  // key existed holds version 1) and never lets a projector of another version read or extend
  // them: a writer's open rebuilds them first, a read-only open fails (projections_outdated).
  virtual uint64_t layout_version() const { return 1; }
};

// A consistent, read-only view of the projections: a RocksDB snapshot in which the
// projections reflect exactly the log up to position() (never behind or ahead of it).
class ReadView {
 public:
  virtual ~ReadView() = default;
  // The last log position folded into the projections of this view.
  virtual uint64_t position() const = 0;
  virtual Status Get(std::string_view key, std::string* value, bool* found) const = 0;
  // Visits keys starting with prefix in order until visit returns false. The value passed to
  // visit is aligned as FlatBuffers need (rows may be read in place) and valid during the call.
  virtual Status Scan(std::string_view prefix,
                      const std::function<bool(std::string_view key, std::string_view value)>&
                          visit) const = 0;
};

// Progress of a rebuild: events folded so far and the total to fold. Returning false stops
// the rebuild cleanly (interrupted); the next rebuild resumes from there.
using RebuildProgress = std::function<bool(uint64_t done, uint64_t total)>;

class LogCursor;
class StoredRecordReader;

class EventStore {
 public:
  // Opens (or creates) the ledger in directory path. On success *out owns the store.
  // Errors: ledger_locked, ledger_not_found, corruption (the stored head does not match the
  // log, or a RocksDB file fails its checksum; the message names the file when RocksDB does),
  // io_error (also: path is not a directory, or cannot be read), projections_outdated (a
  // read-only open whose projector's layout_version differs from the stored projections'; a
  // writer's open rebuilds them instead, which takes as long as RebuildProjections).
  static Status Open(const std::string& path, const StoreOptions& options,
                     std::unique_ptr<EventStore>* out);

  virtual ~EventStore() = default;

  // Appends a batch atomically. On OK, *result holds the positions (the original ones if
  // result->duplicate). Errors, each writing nothing: batch_empty, batch_too_large,
  // event_too_large, event_undecodable, envelope_invalid, stream_id_invalid,
  // idempotency_key_invalid, expectation_missing, expectation_unused, version_conflict,
  // stream_not_found, idempotency_conflict, claim_invalid, claim_taken, io_error, store_failed.
  virtual Status Append(const AppendBatch& batch, AppendResult* result) = 0;

  // Makes every append acknowledged so far durable (fsyncs the write-ahead log). For stores
  // opened with sync=false that acknowledge in bulk, e.g. a file ingest that reports success
  // only after its final SyncWal. Errors: io_error.
  virtual Status SyncWal() = 0;

  // Appends several batches in order, as one group commit where they fit (one WriteBatch, one
  // WAL write): for a single writer with many small batches, e.g. a file ingest. Each batch is
  // checked and succeeds or fails on its own, exactly as if appended one after the other;
  // (*statuses)[i] and (*results)[i] answer batches[i]. Returns non-OK only for errors of the
  // call itself (none today).
  virtual Status AppendMany(const std::vector<AppendBatch>& batches,
                            std::vector<AppendResult>* results, std::vector<Status>* statuses) = 0;

  // The last acknowledged event.
  virtual Head head() const = 0;

  // Sets *found and, if found, *info for an idempotency key.
  virtual Status LookupIdempotency(std::string_view key, bool* found,
                                   IdempotencyInfo* info) const = 0;

  // The same for several keys (one batched read in the RocksDB store, cheaper than a call per
  // key): out is resized to keys.size() and (*out)[i] answers keys[i]. On an error, out is
  // unspecified. Errors: io_error, corruption (a malformed record).
  virtual Status LookupIdempotencyMany(const std::vector<std::string_view>& keys,
                                       std::vector<IdempotencyLookup>* out) const;

  // The position of the batch holding a unique claim; 0 if nobody holds it.
  virtual Status ClaimHolder(std::string_view claim, uint64_t* position) const = 0;

  // Current version of a stream (0 if it has no events).
  virtual Status StreamVersion(std::string_view stream_id, uint64_t* version) const = 0;

  // Reads up to limit events of a stream starting at from_version (inclusive), forward
  // (increasing versions) or backward. Backward with from_version 0 starts at the last event.
  // Appends to *out. Errors: stream_id_invalid, limit_invalid, corruption, io_error.
  virtual Status ReadStream(std::string_view stream_id, uint64_t from_version, Direction direction,
                            size_t limit, std::vector<RecordedEvent>* out) const = 0;

  // Reads up to limit events of the whole log from from_position (inclusive, >= 1).
  virtual Status ReadAll(uint64_t from_position, size_t limit,
                         std::vector<RecordedEvent>* out) const = 0;

  // A cursor over the log from from_position up to the head as of this call. The cursor
  // must not outlive the store.
  virtual std::unique_ptr<LogCursor> NewCursor(uint64_t from_position) const = 0;
  // Reads the stored records from from_position (>= 1) to to_position or the head as of this
  // call, whichever is lower, in batches and WITHOUT verifying them: for a verifier that checks
  // many records on several threads (ledger/checked_batch_reader.h), each with
  // VerifyStoredRecord. Never null.
  virtual std::unique_ptr<StoredRecordReader> NewStoredRecordReader(
      uint64_t from_position, uint64_t to_position) const = 0;

  // A consistent view of the projections (see ReadView). The view must not outlive the store.
  virtual std::unique_ptr<ReadView> NewReadView() const = 0;

  // Reads one projection row as of the latest write (no snapshot). For writers deciding what
  // to append: optimistic concurrency (expected versions) covers what changes after the read.
  virtual Status GetProjection(std::string_view key, std::string* value, bool* found) const = 0;

  // The last log position folded into the projections.
  virtual uint64_t projection_position() const = 0;

  // Drops and recomputes every projection from the log with the store's projector, into a new
  // generation that replaces the old one in one atomic write at the end: readers see the old
  // projections until then, never a half-built one. Safe to interrupt: the next call resumes
  // where the last one stopped. Appends wait while it runs. REQUIRES: a projector.
  // After the switch, and with appends running again, the projections family is compacted
  // (RocksDB CompactRange): the new generation sorted into one level and the old one's range
  // deletion applied, so that queries read few files (p99 1.3-2.5x lower). An error of that
  // compaction is returned as io_error, but the new projections are already in use then.
  // Errors: invalid_argument (no projector), interrupted (progress returned false),
  // corruption, io_error.
  virtual Status RebuildProjections(const RebuildProgress& progress) = 0;

  // Whether a rebuild was interrupted (killed, stopped, failed) before its switch, and if so the
  // last position its durable rows reach: the next RebuildProjections resumes after it. The rows
  // a rebuild wrote since its last flush die with a crash, and with them the progress record
  // that named them, so *position may be below what the interrupted rebuild had reported.
  // Sets *interrupted false (and *position 0) when there is nothing to resume: the next
  // RebuildProjections starts over. RebuildProjections decides by this call (and starts over
  // when it reports a malformed record). Errors: corruption (a malformed progress record),
  // io_error.
  virtual Status InterruptedRebuild(bool* interrupted, uint64_t* position) const = 0;

  // Walks the whole log: dense positions, hash links, decodable envelopes whose position
  // matches their key, non-decreasing recorded time, the stream index, and that the stored head
  // is the last event. Sets *events_checked. Errors: corruption (first failure), io_error.
  virtual Status VerifyChain(uint64_t* events_checked) const = 0;

  // Audit records: what the replay module keeps about the log without being part of it (signed
  // checkpoints, Merkle block roots). They live in the meta family under "audit/" + key, so
  // they are outside the hash chain and never move the head. PutAuditRecords writes all of
  // records in one atomic, synced write. Keys are 1..kAuditKeyBytesMax bytes, values at most
  // kAuditValueBytesMax. Errors: invalid_argument (a key or value out of bounds), io_error.
  virtual Status PutAuditRecords(
      const std::vector<std::pair<std::string, std::string>>& records) = 0;
  // Sets *found and, if found, *value. Errors: io_error.
  virtual Status GetAuditRecord(std::string_view key, std::string* value, bool* found) const = 0;
  // Visits the audit records whose key starts with prefix, in key order (the key passed to
  // visit is without "audit/"), until visit returns false. Errors: io_error.
  virtual Status ScanAuditRecords(
      std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const = 0;
};

// Records as stored in the events family (event bytes || chain hash), a batch of consecutive
// positions, unverified. Each record starts at a multiple of kRecordAlignment in arena, so that
// its FlatBuffer can be verified and read in place.
struct StoredRecordBatch {
  static constexpr size_t kRecordAlignment = 8;
  uint64_t first_position = 0;
  Hash256 previous_hash{};  // stored chain hash of position first_position - 1 (zeros for 0)
  std::string arena;
  std::vector<std::pair<uint32_t, uint32_t>> records;  // (offset, size) in arena

  size_t size() const { return records.size(); }
  // REQUIRES: i < size().
  std::string_view record(size_t i) const {
    return std::string_view(arena).substr(records[i].first, records[i].second);
  }
  // The stored chain hash at the end of record i (zeros if it is too short to hold one).
  // REQUIRES: i < size().
  Hash256 StoredHash(size_t i) const;
  // StoredHash(i - 1), or previous_hash for i == 0: what record i must chain from.
  // REQUIRES: i < size().
  Hash256 PreviousHash(size_t i) const;
  void Clear() {
    arena.clear();
    records.clear();
  }
  void Add(std::string_view record);
};

// Reads stored records in batches. Not thread-safe; one reader per thread.
class StoredRecordReader {
 public:
  virtual ~StoredRecordReader() = default;
  // Replaces *batch with the next records, at most max_records (>= 1); false at the end or
  // after an error (then status() says which). Records are dense in position: a key that is
  // missing or out of place ends the read with corruption naming the position. Reuses batch's
  // memory.
  virtual bool ReadBatch(size_t max_records, StoredRecordBatch* batch) = 0;
  // OK at the end of the log; corruption or io_error naming the position otherwise.
  virtual Status status() const = 0;
};

// Verifies one stored record (event bytes || chain hash) at position, given the chain hash it
// must follow: its size, the chain hash, the Event FlatBuffer, a payload present, the envelope's
// position. Every read of the store runs these checks. On OK, *event_bytes views the event in
// record and *hash is its chain hash. Errors: corruption, whose message says which check
// ("chain hash", "FlatBuffer", "position", "too short", "too long", "payload").
// REQUIRES: record.data() is aligned to StoredRecordBatch::kRecordAlignment.
Status VerifyStoredRecord(uint64_t position, const Hash256& previous, std::string_view record,
                          std::string_view* event_bytes, Hash256* hash);

// Iterates the log in position order, verifying each event (FlatBuffer and hash link).
// Not thread-safe; one cursor per thread.
class LogCursor {
 public:
  virtual ~LogCursor() = default;
  // False at the end or after an error; check status().
  virtual bool Valid() const = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  // REQUIRES: Valid(). The reference is valid until the next call to Next().
  virtual const RecordedEvent& event() const = 0;
  // OK at the end of the log; corruption or io_error naming the position otherwise.
  virtual Status status() const = 0;
};


}  // namespace shebao::ledger
