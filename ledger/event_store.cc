#include "ledger/event_store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/checked_batch_reader.h"
#include "ledger/constants.h"
#include "ledger/keys.h"
#include "ledger/rocks_options.h"

namespace shebao::ledger {
namespace {

constexpr Hash256 kZeroHash{};

bool PrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  if (s.IsCorruption()) return Status(Code::corruption, fmt::format("{}: {}", what, s.ToString()));
  return Status(Code::io_error, fmt::format("{}: {}", what, s.ToString()));
}

// What one read of key in the idempotency family (its status and value) says: *record is set
// if the key is recorded and left empty if not. Errors: io_error (the read failed), corruption
// (a malformed record, naming the key). Every idempotency lookup decodes through here.
Status IdempotencyOfRead(std::string_view key, const rocksdb::Status& read,
                         const rocksdb::PinnableSlice& value,
                         std::optional<keys::IdempotencyRecord>* record) {
  record->reset();
  if (read.IsNotFound()) return Status::OK();
  if (!read.ok()) return FromRocks(read, "idempotency lookup");
  *record = keys::DecodeIdempotency(value.ToStringView());
  if (!*record) {
    return Status(Code::corruption, fmt::format("idempotency record of key {} is malformed", key));
  }
  return Status::OK();
}

// The public view of a stored idempotency record (event_store.h does not expose the key layout).
IdempotencyInfo InfoOf(const keys::IdempotencyRecord& r) {
  return {r.first_position, r.last_position, r.content_digest};
}

Status CorruptionAt(uint64_t position, std::string_view what) {
  return Status(Code::corruption, fmt::format("position {}: {}", position, what));
}

// Up to this many items, the set checks below compare pairs rather than build hash sets: a
// command's batch names one or two streams, and three hash sets per batch were a quarter of
// ValidateBatchShape's time in the city ingest (perf, 30,000 children).
constexpr size_t kPairwiseCheckMax = 16;

// The first item whose key equals an earlier item's, or null.
template <typename T, typename KeyOf>
const T* FirstRepeated(const std::vector<T>& items, KeyOf key_of) {
  if (items.size() <= kPairwiseCheckMax) {
    for (size_t i = 1; i < items.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (key_of(items[i]) == key_of(items[j])) return &items[i];
      }
    }
    return nullptr;
  }
  std::unordered_set<std::string_view> seen;
  seen.reserve(items.size());
  for (const T& item : items) {
    if (!seen.insert(key_of(item)).second) return &item;
  }
  return nullptr;
}

// The first item of items whose key is no key of others, or null.
template <typename T, typename KeyOf, typename U, typename OtherKeyOf>
const T* FirstNotIn(const std::vector<T>& items, KeyOf key_of, const std::vector<U>& others,
                    OtherKeyOf other_key_of) {
  if (others.size() <= kPairwiseCheckMax) {
    for (const T& item : items) {
      const bool found = std::any_of(others.begin(), others.end(), [&](const U& other) {
        return other_key_of(other) == key_of(item);
      });
      if (!found) return &item;
    }
    return nullptr;
  }
  std::unordered_set<std::string_view> keys;
  keys.reserve(others.size());
  for (const U& other : others) keys.insert(other_key_of(other));
  for (const T& item : items) {
    if (!keys.contains(key_of(item))) return &item;
  }
  return nullptr;
}

// Checks what can be checked of one batch without the store's state: sizes, encodings,
// envelopes, expectations. Fills *streams with the stream id of each event.
Status ValidateBatchShape(const AppendBatch& batch, std::vector<std::string_view>* streams) {
  const std::string& key = batch.idempotency_key;
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax || !PrintableAscii(key)) {
    return Status(Code::idempotency_key_invalid,
                  fmt::format("idempotency_key must be 1..{} printable ASCII bytes",
                              kIdempotencyKeyBytesMax));
  }
  if (batch.events.empty()) return Status(Code::batch_empty, "a batch needs at least one event");
  if (batch.events.size() > kBatchEventsMax) {
    return Status(Code::batch_too_large, fmt::format("{} events, at most {}", batch.events.size(),
                                                     kBatchEventsMax));
  }
  if (batch.expectations.size() > kBatchStreamsMax) {
    return Status(Code::batch_too_large, fmt::format("{} streams, at most {}",
                                                     batch.expectations.size(), kBatchStreamsMax));
  }
  size_t total_bytes = 0;
  streams->clear();
  streams->reserve(batch.events.size());
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const std::string& bytes = batch.events[i];
    total_bytes += bytes.size();
    if (bytes.size() > kEventBytesMax) {
      return Status(Code::event_too_large,
                    fmt::format("event {}: {} bytes, at most {}", i, bytes.size(), kEventBytesMax));
    }
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    flatbuffers::Verifier verifier(data, bytes.size());
    if (bytes.size() < kEventBytesMin || !fb::VerifyEventBuffer(verifier)) {
      return Status(Code::event_undecodable,
                    fmt::format("event {}: not a valid Event FlatBuffer with identifier SHB1", i));
    }
    const fb::Event* event = fb::GetEvent(data);
    if (event->schema_version() < 1 || event->schema_version() > kSchemaVersion) {
      return Status(Code::envelope_invalid, fmt::format("event {}: field schema_version is {}, "
                                                        "must be 1..{}",
                                                        i, event->schema_version(), kSchemaVersion));
    }
    for (auto [field, name] : {std::pair{fb::Event::VT_POSITION, "position"},
                               std::pair{fb::Event::VT_STREAM_VERSION, "stream_version"},
                               std::pair{fb::Event::VT_RECORDED_US, "recorded_us"}}) {
      if (!reinterpret_cast<const flatbuffers::Table*>(event)->CheckField(field)) {
        return Status(Code::envelope_invalid,
                      fmt::format("event {}: field {} must be present (build with FinishEvent)", i,
                                  name));
      }
    }
    // A union whose type is set but whose table is absent verifies, and reads as a null payload.
    if (event->payload_type() == fb::Payload::NONE || event->payload() == nullptr) {
      return Status(Code::envelope_invalid, fmt::format("event {}: field payload is missing", i));
    }
    if (event->idempotency_key() == nullptr || event->idempotency_key()->string_view() != key) {
      return Status(Code::envelope_invalid,
                    fmt::format("event {}: field idempotency_key differs from the batch's", i));
    }
    std::string_view stream =
        event->stream_id() == nullptr ? std::string_view() : event->stream_id()->string_view();
    if (stream.empty() || stream.size() > kStreamIdBytesMax || !PrintableAscii(stream)) {
      return Status(Code::stream_id_invalid,
                    fmt::format("event {}: field stream_id must be 1..{} printable ASCII bytes", i,
                                kStreamIdBytesMax));
    }
    streams->push_back(stream);
  }
  if (total_bytes > kBatchBytesMax) {
    return Status(Code::batch_too_large,
                  fmt::format("{} bytes of events, at most {}", total_bytes, kBatchBytesMax));
  }
  if (batch.claims.size() > kBatchClaimsMax) {
    return Status(Code::batch_too_large, fmt::format("{} claims, at most {}", batch.claims.size(),
                                                     kBatchClaimsMax));
  }
  for (const auto& c : batch.claims) {
    if (c.empty() || c.size() > kClaimBytesMax || !PrintableAscii(c)) {
      return Status(Code::claim_invalid,
                    fmt::format("claim must be 1..{} printable ASCII bytes", kClaimBytesMax));
    }
  }
  const auto claim_of = [](const std::string& claim) { return std::string_view(claim); };
  if (const std::string* c = FirstRepeated(batch.claims, claim_of)) {
    return Status(Code::claim_invalid, fmt::format("claim {} is repeated", *c));
  }
  const auto stream_of = [](const StreamExpectation& e) { return std::string_view(e.stream_id); };
  if (const StreamExpectation* e = FirstRepeated(batch.expectations, stream_of)) {
    return Status(Code::invalid_argument,
                  fmt::format("stream {} has two expected versions", e->stream_id));
  }
  const auto same = [](std::string_view s) { return s; };
  if (const std::string_view* s = FirstNotIn(*streams, same, batch.expectations, stream_of)) {
    return Status(Code::expectation_missing,
                  fmt::format("stream {} is written but has no expected version", *s));
  }
  if (const StreamExpectation* e = FirstNotIn(batch.expectations, stream_of, *streams, same)) {
    return Status(Code::expectation_unused,
                  fmt::format("stream {} has an expected version but no event", e->stream_id));
  }
  return Status::OK();
}

Hash256 ContentDigest(const AppendBatch& batch) {
  Sha256 hasher;
  for (const auto& bytes : batch.events) {
    uint8_t size_le[8];
    uint64_t size = bytes.size();
    for (auto& b : size_le) {
      b = static_cast<uint8_t>(size & 0xff);
      size >>= 8;
    }
    hasher.Update(size_le, sizeof size_le);
    hasher.Update(bytes);
  }
  // Claims are content too: a retry must claim the same keys. A 0xff byte (never in printable
  // ASCII) separates them from the events.
  const uint8_t separator = 0xff;
  for (const auto& claim : batch.claims) {
    hasher.Update(&separator, 1);
    hasher.Update(claim);
  }
  return hasher.Finish();
}

// Writes into one column family collected while a batch is built and added to it in key order
// at the end. The memtable's skip list starts each insert from where the last one ended: a key
// just after it is found from there, a key elsewhere from the top. Stream ids, idempotency keys
// and projection rows arrive in no order (the search was 13% of a rebuild's samples).
class KeyOrderedWrites {
 public:
  void Put(std::string key, std::string value) { entries_.emplace_back(std::move(key), std::move(value)); }
  void Delete(std::string key) { entries_.emplace_back(std::move(key), std::nullopt); }
  size_t Mark() const { return entries_.size(); }
  // Forgets the writes added since Mark returned mark.
  void Rollback(size_t mark) {
    SHEBAO_ASSERT(mark <= entries_.size());
    entries_.resize(mark);
  }
  // Adds every write to batch, in key order, and forgets them. REQUIRES: no key added twice (the
  // order of two writes of one key would be lost).
  void MoveTo(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* cf) {
    std::sort(entries_.begin(), entries_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < entries_.size(); ++i) {
      const auto& [key, value] = entries_[i];
      SHEBAO_ASSERT(i == 0 || entries_[i - 1].first != key);
      SHEBAO_ASSERT((value ? batch->Put(cf, key, *value) : batch->Delete(cf, key)).ok());
    }
    entries_.clear();
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> entries_;  // nullopt: delete
};

class RocksLogCursor;

class RocksEventStore final : public EventStore {
 public:
  RocksEventStore(const StoreOptions& options, std::unique_ptr<rocksdb::DB> db,
                  std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : options_(options),
        clock_(options.clock != nullptr ? options.clock : SystemClock::Default()),
        db_(std::move(db)),
        handles_(std::move(handles)) {
    SHEBAO_ASSERT(handles_.size() == 7);
    write_options_.sync = options.sync;
  }

  ~RocksEventStore() override {
    // A writer's clean close moves the log from the WAL into table files, so that read-only
    // opens, which replay the WAL into memory every time, start fast (an 85 MB WAL after an
    // ingest made each `shebao head` take 1.5 s). Not after a failed write: the WAL stays.
    if (!options_.read_only && !failed_) {
      db_->Flush(rocksdb::FlushOptions(), handles_).PermitUncheckedError();
    }
    for (auto* h : handles_) {
      if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
    }
    db_->Close().PermitUncheckedError();
  }

  Status LoadHead();
  // Folds the events appended while no projector was installed (REQUIRES: called from Open).
  Status CatchUpProjections();

  Status Append(const AppendBatch& batch, AppendResult* result) override;
  Status AppendMany(const std::vector<AppendBatch>& batches, std::vector<AppendResult>* results,
                    std::vector<Status>* statuses) override;
  Status SyncWal() override {
    if (options_.read_only) return Status::OK();  // nothing was appended through this store
    return FromRocks(db_->SyncWAL(), "sync the write-ahead log");
  }
  Head head() const override {
    std::lock_guard lock(mu_);
    return head_;
  }
  Status StreamVersion(std::string_view stream_id, uint64_t* version) const override;
  Status ClaimHolder(std::string_view claim, uint64_t* position) const override;
  Status LookupIdempotency(std::string_view key, bool* found,
                           IdempotencyInfo* info) const override;
  Status LookupIdempotencyMany(const std::vector<std::string_view>& keys,
                               std::vector<IdempotencyLookup>* out) const override;
  // Reads keys from the idempotency family in one MultiGet (most are new keys: the filters of
  // each table file are probed for all of them at once). For each key, (*records)[i] is set if
  // it is recorded and (*outcomes)[i] is its own error, if any (IdempotencyOfRead), so that a
  // group commit can fail one writer alone.
  void ReadIdempotencyMany(const std::vector<std::string_view>& keys,
                           std::vector<std::optional<keys::IdempotencyRecord>>* records,
                           std::vector<Status>* outcomes) const;
  Status ReadStream(std::string_view stream_id, uint64_t from_version, Direction direction,
                    size_t limit, std::vector<RecordedEvent>* out) const override;
  Status ReadAll(uint64_t from_position, size_t limit,
                 std::vector<RecordedEvent>* out) const override;
  std::unique_ptr<LogCursor> NewCursor(uint64_t from_position) const override;
  std::unique_ptr<StoredRecordReader> NewStoredRecordReader(
      uint64_t from_position, uint64_t to_position) const override;
  Status VerifyChain(uint64_t* events_checked) const override;
  std::unique_ptr<ReadView> NewReadView() const override;
  uint64_t projection_position() const override {
    std::lock_guard lock(mu_);
    return projection_.position;
  }
  Status RebuildProjections(const RebuildProgress& progress) override;
  Status InterruptedRebuild(bool* interrupted, uint64_t* position) const override;
  Status PutAuditRecords(const std::vector<std::pair<std::string, std::string>>& records) override;
  Status GetAuditRecord(std::string_view key, std::string* value, bool* found) const override;
  Status ScanAuditRecords(
      std::string_view prefix,
      const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  Status GetProjection(std::string_view key, std::string* value, bool* found) const override {
    *found = false;
    uint8_t generation = 0;
    {
      std::lock_guard lock(mu_);
      generation = projection_.generation;
    }
    std::string k(1, static_cast<char>(generation));
    k.append(key);
    auto s = db_->Get(rocksdb::ReadOptions(), projections_cf(), k, value);
    if (s.IsNotFound()) return Status::OK();
    if (!s.ok()) return FromRocks(s, "projection read");
    *found = true;
    return Status::OK();
  }

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* events_cf() const { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* streams_cf() const { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* idempotency_cf() const { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* claims_cf() const { return handles_[4]; }
  rocksdb::ColumnFamilyHandle* meta_cf() const { return handles_[5]; }
  rocksdb::ColumnFamilyHandle* projections_cf() const { return handles_[6]; }

  // Reads and verifies the event at position; previous is its predecessor's chain hash, read
  // from the store if null.
  Status ReadEvent(uint64_t position, RecordedEvent* out) const;

 private:
  struct Writer {
    bool exclusive = false;  // a rebuild: runs alone at the front of the queue
    const AppendBatch* batch = nullptr;
    Hash256 digest{};        // the batch's content digest, computed before queueing
    size_t bytes = 0;        // the batch's event bytes
    std::vector<std::string_view> streams;  // the stream of each event
    AppendResult* result = nullptr;
    Status status;
    bool done = false;
    // Where this writer is woken: its own, or one shared by the writers of an AppendMany.
    std::condition_variable own_cv;
    std::condition_variable* cv = &own_cv;
  };

  // Validates a batch and fills a writer for it (outside the lock).
  Status PrepareWriter(const AppendBatch& batch, AppendResult* result, Writer* w);
  // REQUIRES: lock held, leader at the front of the queue. Writes the group that leader heads
  // and marks every member done (the lock is released while writing).
  void LeadGroup(std::unique_lock<std::mutex>& lock, Writer* leader);
  // Builds one group's WriteBatch. Called by the group leader without mu_ held.
  // *versions receives the new version of every stream the group appends to. A non-OK Status
  // (the projector could not finish the group's rows) fails the whole group, as a failed write
  // does; each writer's own refusal is in its status.
  Status BuildGroup(const std::vector<Writer*>& group, rocksdb::WriteBatch* wb, Head* new_head,
                    std::unordered_map<std::string, uint64_t>* versions);
  // Folds the events [from, to] into projection generation, writing (generation, position
  // done) with every batch of events: a catch-up of the live generation to meta "projection",
  // logged like an append; a rebuild (rebuild = true) to the generation's progress record in
  // the projections family, without the write-ahead log (why that is crash-safe: FoldRange's
  // body).
  Status FoldRange(uint8_t generation, uint64_t from, uint64_t to, bool rebuild,
                   const RebuildProgress& progress);
  // RebuildProjections; may_resume = false starts over even if an interrupted rebuild of the
  // next generation left its progress (one of another projection layout).
  Status Rebuild(const RebuildProgress& progress, bool may_resume);
  // After a rebuild's switch: compacts the projections family, bottom level included.
  Status CompactProjections();
  // Runs fn as the only writer: appends wait until it returns.
  Status RunExclusive(const std::function<Status()>& fn);
  Status StoredStreamVersion(std::string_view stream_id, uint64_t* version) const;

  const StoreOptions options_;
  Clock* const clock_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;

  mutable std::mutex mu_;
  std::deque<Writer*> writers_;  // guarded by mu_; the front one is the group leader
  Head head_;                    // guarded by mu_; written only by the leader
  keys::GenerationPosition projection_;  // guarded by mu_; written only by the leader
  bool failed_ = false;          // guarded by mu_
  size_t last_group_size_ = 0;   // guarded by mu_: writers in the last synced group
  // Used only by the group leader (one at a time), cleared for each group: a group of
  // kGroupCommitBytesMax bytes would otherwise grow a fresh buffer by reallocation, and fault
  // its pages in, for every group.
  rocksdb::WriteBatch group_batch_;
  std::string event_scratch_;    // the leader's copy of the event being stamped
  // Leader only: the versions of streams recently appended to, as written (updated after each
  // successful group write), so that a stream's next append needs no read of its head record.
  // At most kStreamVersionCacheEntriesMax entries; when full it is emptied and starts again.
  std::unordered_map<std::string, uint64_t> stream_version_cache_;
  std::unordered_map<std::string, uint64_t> group_versions_;
  // Leader only, empty between groups: the group's stream index and idempotency puts.
  KeyOrderedWrites stream_puts_;
  KeyOrderedWrites idempotency_puts_;
};

Status RocksEventStore::StoredStreamVersion(std::string_view stream_id, uint64_t* version) const {
  rocksdb::PinnableSlice value;
  auto s = db_->Get(rocksdb::ReadOptions(), streams_cf(), keys::StreamHeadKey(stream_id), &value);
  if (s.IsNotFound()) {
    *version = 0;
    return Status::OK();
  }
  if (!s.ok()) return FromRocks(s, fmt::format("stream {}", stream_id));
  if (value.size() != 8) {
    return Status(Code::corruption, fmt::format("stream {}: head record of {} bytes", stream_id,
                                                value.size()));
  }
  *version = keys::GetBigEndian64(value.data());
  return Status::OK();
}

Status RocksEventStore::LookupIdempotency(std::string_view key, bool* found,
                                          IdempotencyInfo* info) const {
  rocksdb::PinnableSlice value;
  const rocksdb::Status read = db_->Get(rocksdb::ReadOptions(), idempotency_cf(),
                                        rocksdb::Slice(key.data(), key.size()), &value);
  std::optional<keys::IdempotencyRecord> record;
  Status s = IdempotencyOfRead(key, read, value, &record);
  *found = record.has_value();
  if (record) *info = InfoOf(*record);
  return s;
}

void RocksEventStore::ReadIdempotencyMany(
    const std::vector<std::string_view>& keys,
    std::vector<std::optional<keys::IdempotencyRecord>>* records,
    std::vector<Status>* outcomes) const {
  records->assign(keys.size(), std::nullopt);
  outcomes->assign(keys.size(), Status::OK());
  if (keys.empty()) return;
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> reads(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), idempotency_cf(), keys.size(), slices.data(),
                values.data(), reads.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    (*outcomes)[i] = IdempotencyOfRead(keys[i], reads[i], values[i], &(*records)[i]);
  }
}

Status RocksEventStore::LookupIdempotencyMany(const std::vector<std::string_view>& keys,
                                              std::vector<IdempotencyLookup>* out) const {
  out->assign(keys.size(), IdempotencyLookup());
  std::vector<std::optional<keys::IdempotencyRecord>> records;
  std::vector<Status> outcomes;
  ReadIdempotencyMany(keys, &records, &outcomes);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!outcomes[i].ok()) return outcomes[i];
    if (const auto& r = records[i]) {
      (*out)[i] = {true, InfoOf(*r)};
    }
  }
  return Status::OK();
}

Status RocksEventStore::ClaimHolder(std::string_view claim, uint64_t* position) const {
  *position = 0;
  rocksdb::PinnableSlice value;
  auto s = db_->Get(rocksdb::ReadOptions(), claims_cf(), rocksdb::Slice(claim.data(), claim.size()),
                    &value);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return FromRocks(s, fmt::format("claim {}", claim));
  if (value.size() != 8) return Status(Code::corruption, fmt::format("claim {}: malformed", claim));
  *position = keys::GetBigEndian64(value.data());
  return Status::OK();
}

Status RocksEventStore::StreamVersion(std::string_view stream_id, uint64_t* version) const {
  if (stream_id.empty() || stream_id.size() > kStreamIdBytesMax || !PrintableAscii(stream_id)) {
    return Status(Code::stream_id_invalid, "stream_id must be 1..128 printable ASCII bytes");
  }
  return StoredStreamVersion(stream_id, version);
}

Status RocksEventStore::PrepareWriter(const AppendBatch& batch, AppendResult* result,
                                      Writer* w) {
  SHEBAO_ASSERT(result != nullptr);
  Status shape = ValidateBatchShape(batch, &w->streams);
  if (!shape.ok()) return shape;
  w->batch = &batch;
  w->result = result;
  // Work that needs no shared state is done here, in parallel, not by the group leader.
  w->digest = batch.content_digest ? *batch.content_digest : ContentDigest(batch);
  for (const auto& e : batch.events) w->bytes += e.size();
  return Status::OK();
}

Status ReadOnlyRefusal() {
  return Status(Code::invalid_argument, "the ledger is open read-only (StoreOptions::read_only)");
}

Status RocksEventStore::Append(const AppendBatch& batch, AppendResult* result) {
  if (options_.read_only) return ReadOnlyRefusal();
  Writer w;
  Status s = PrepareWriter(batch, result, &w);
  if (!s.ok()) return s;
  std::unique_lock lock(mu_);
  writers_.push_back(&w);
  if (writers_.size() > 1) writers_.front()->cv->notify_one();  // a leader may wait for company
  while (!w.done && &w != writers_.front()) w.cv->wait(lock);
  if (!w.done) LeadGroup(lock, &w);
  return w.status;
}

Status RocksEventStore::AppendMany(const std::vector<AppendBatch>& batches,
                                   std::vector<AppendResult>* results,
                                   std::vector<Status>* statuses) {
  results->assign(batches.size(), AppendResult());
  statuses->assign(batches.size(), Status::OK());
  if (options_.read_only) {
    for (Status& st : *statuses) st = ReadOnlyRefusal();
    return ReadOnlyRefusal();
  }
  std::deque<Writer> writers;  // stable addresses
  std::condition_variable shared_cv;
  std::vector<size_t> index;
  for (size_t i = 0; i < batches.size(); ++i) {
    Writer& w = writers.emplace_back();
    w.cv = &shared_cv;
    (*statuses)[i] = PrepareWriter(batches[i], &(*results)[i], &w);
    if (!(*statuses)[i].ok()) {
      writers.pop_back();
    } else {
      index.push_back(i);
    }
  }
  if (writers.empty()) return Status::OK();
  std::unique_lock lock(mu_);
  for (Writer& w : writers) writers_.push_back(&w);
  // This thread leads every group that starts with one of its writers; other groups (led by
  // other threads) complete some of its writers.
  Writer* last = &writers.back();
  while (!last->done) {
    Writer* front = writers_.front();
    bool mine = false;
    for (Writer& w : writers) mine |= (&w == front);
    if (mine) {
      LeadGroup(lock, front);
    } else {
      shared_cv.wait(lock);
    }
  }
  lock.unlock();
  for (size_t k = 0; k < index.size(); ++k) (*statuses)[index[k]] = writers[k].status;
  return Status::OK();
}

void RocksEventStore::LeadGroup(std::unique_lock<std::mutex>& lock, Writer* leader) {
  SHEBAO_ASSERT(writers_.front() == leader && !leader->done);
  // A synced leader briefly waits for the writers its predecessor's sync released, so that
  // concurrent appenders share one sync instead of alternating in two half groups.
  if (write_options_.sync && last_group_size_ > 1) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::microseconds(kCommitDelayMaxUs);
    while (writers_.size() < last_group_size_ && !writers_.back()->exclusive) {
      if (leader->cv->wait_until(lock, deadline) == std::cv_status::timeout) break;
    }
  }

  // The group: the leader and the writers queued behind it, up to the limits.
  std::vector<Writer*> group;
  size_t group_bytes = 0;
  for (Writer* x : writers_) {
    if (x->exclusive) break;
    const size_t bytes = x->bytes;
    if (!group.empty() &&
        (group_bytes + bytes > kGroupCommitBytesMax || group.size() >= kGroupCommitWritersMax)) {
      break;
    }
    group.push_back(x);
    group_bytes += bytes;
  }
  const bool failed = failed_;
  last_group_size_ = group.size();
  lock.unlock();

  Head new_head;
  Status write_status;
  if (failed) {
    write_status = Status(Code::store_failed, "an earlier write failed; reopen the ledger");
  } else {
    group_batch_.Clear();
    group_versions_.clear();
    write_status = BuildGroup(group, &group_batch_, &new_head, &group_versions_);
    if (write_status.ok() && group_batch_.Count() > 0) {
      write_status = FromRocks(db_->Write(write_options_, &group_batch_), "append");
    }
    if (!write_status.ok()) {
      stream_version_cache_.clear();
    } else {
      const size_t capacity = options_.stream_version_cache_entries;
      if (stream_version_cache_.size() + group_versions_.size() > capacity) {
        stream_version_cache_.clear();
      }
      if (group_versions_.size() <= capacity) {
        // Move the group's map nodes over (no copy of the stream ids); a stream already cached
        // gets its new version.
        while (!group_versions_.empty()) {
          auto node = group_versions_.extract(group_versions_.begin());
          auto result = stream_version_cache_.insert(std::move(node));
          if (!result.inserted) result.position->second = result.node.mapped();
        }
      }
      SHEBAO_ASSERT(stream_version_cache_.size() <= capacity);
    }
  }

  lock.lock();
  if (!write_status.ok()) {
    if (!failed) failed_ = true;
    for (Writer* x : group) {
      if (x->status.ok()) x->status = write_status;
    }
  } else if (new_head.position > head_.position) {
    SHEBAO_ASSERT(new_head.recorded_us >= head_.recorded_us);
    head_ = new_head;
    if (options_.projector != nullptr) projection_.position = new_head.position;
  }
  for (Writer* x : group) {
    SHEBAO_ASSERT(writers_.front() == x);
    writers_.pop_front();
    x->done = true;
    x->cv->notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv->notify_one();
}

namespace {

// The projector's view of the projections while a batch is built (a group commit, or a
// rebuild's batch of events): rows read once from RocksDB and kept in memory, so a case's many
// events rewrite one row, then written as one put per row (Flush). Changes since a Mark can be
// undone (a writer of a group whose projection fails).
class WriteBackProjectionWriter final : public ProjectionWriter {
 public:
  // undoable: keep what each Put and Delete replaced, for Mark and Rollback (a group commit
  // drops a rejected writer's rows); a fold of the stored log never rolls back and skips it.
  // fill_cache: whether the rows read go into the block cache (a fold of the whole log reads
  // rows no query will ask for soon, and would fill the cache to its size).
  WriteBackProjectionWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, uint8_t generation,
                            bool undoable, bool fill_cache)
      : db_(db), cf_(cf), generation_(generation), undoable_(undoable) {
    read_options_.fill_cache = fill_cache;
  }

  Status Get(std::string_view key, std::string* value, bool* found) override {
    if (auto it = rows_.find(key); it != rows_.end()) {
      *found = it->second.has_value();
      if (*found) *value = *it->second;
      return Status::OK();
    }
    *found = false;
    std::string k;
    KeyInto(key, &k);
    auto s = db_->Get(read_options_, cf_, k, value);
    if (s.IsNotFound()) return Status::OK();
    if (!s.ok()) return FromRocks(s, "projection read");
    *found = true;
    return Status::OK();
  }
  void Put(std::string_view key, std::string_view value) override { Set(key, value); }
  void Delete(std::string_view key) override { Set(key, std::nullopt); }

  // REQUIRES: undoable.
  size_t Mark() const {
    SHEBAO_ASSERT(undoable_);
    return undo_.size();
  }
  void Rollback(size_t mark) {
    SHEBAO_ASSERT(undoable_);
    while (undo_.size() > mark) {
      auto& [key, previous] = undo_.back();
      if (previous.has_value()) {
        rows_.insert_or_assign(key, std::move(*previous));
      } else {
        rows_.erase(key);
      }
      undo_.pop_back();
    }
  }

  // Adds every row changed since the last flush to batch, in key order (KeyOrderedWrites), and
  // forgets them.
  void Flush(rocksdb::WriteBatch* batch) {
    for (auto& [key, value] : rows_) {
      std::string k;
      KeyInto(key, &k);
      if (value) {
        writes_.Put(std::move(k), std::move(*value));
      } else {
        writes_.Delete(std::move(k));
      }
    }
    writes_.MoveTo(batch, cf_);
    rows_.clear();
    undo_.clear();
  }

 private:
  using Row = std::optional<std::string>;  // nullopt: deleted
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view k) const { return std::hash<std::string_view>()(k); }
  };
  void Set(std::string_view key, std::optional<std::string_view> value) {
    auto it = rows_.find(key);
    if (undoable_) {
      // Remember what the map held (nullopt outside: the key was not in the map).
      undo_.emplace_back(std::string(key),
                         it == rows_.end() ? std::nullopt : std::optional<Row>(it->second));
    }
    if (it == rows_.end()) {
      it = rows_.emplace(std::string(key), std::nullopt).first;
    }
    if (value) {
      if (it->second) {
        it->second->assign(*value);  // reuses the row's buffer
      } else {
        it->second.emplace(*value);
      }
    } else {
      it->second.reset();
    }
  }
  // The stored key: the generation byte, then key.
  void KeyInto(std::string_view key, std::string* k) const {
    k->assign(1, static_cast<char>(generation_));
    k->append(key);
  }
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  const uint8_t generation_;
  const bool undoable_;
  rocksdb::ReadOptions read_options_;
  std::unordered_map<std::string, Row, KeyHash, std::equal_to<>> rows_;
  std::vector<std::pair<std::string, std::optional<Row>>> undo_;
  KeyOrderedWrites writes_;  // Flush's, empty between flushes
};

}  // namespace

Status RocksEventStore::BuildGroup(const std::vector<Writer*>& group, rocksdb::WriteBatch* wb,
                                   Head* new_head,
                                   std::unordered_map<std::string, uint64_t>* group_versions) {
  const bool project = options_.projector != nullptr;
  std::optional<WriteBackProjectionWriter> projection_writer;
  if (project) {
    projection_writer.emplace(db_.get(), projections_cf(), projection_.generation, /*undoable=*/true,
                              /*fill_cache=*/true);
    // The group's rows are kept decoded by the projector and encoded once, at EndBatch: the
    // commands of a group often follow one case or employment through several steps.
    options_.projector->BeginBatch(/*undoable=*/true);
  }
  std::vector<RecordedEvent> appended;  // this writer's events, for the projector
  // Only the leader runs this, so head_ is stable while we read it without mu_.
  Head head = head_;
  const int64_t now_us = std::max(clock_->NowMicros(), head.recorded_us);
  // State changed by earlier writers of this group, not yet in RocksDB.
  std::unordered_map<std::string, uint64_t>& versions = *group_versions;
  SHEBAO_ASSERT(versions.empty());
  std::unordered_map<std::string, keys::IdempotencyRecord> idempotency;
  std::unordered_map<std::string, uint64_t> claims;

  // Every writer's idempotency key in the store, in one batched read.
  std::vector<std::string_view> stored_keys;
  stored_keys.reserve(group.size());
  for (Writer* x : group) stored_keys.emplace_back(x->batch->idempotency_key);
  std::vector<std::optional<keys::IdempotencyRecord>> stored_records;
  std::vector<Status> stored_outcomes;
  ReadIdempotencyMany(stored_keys, &stored_records, &stored_outcomes);

  for (size_t g = 0; g < group.size(); ++g) {
    Writer* x = group[g];
    const AppendBatch& batch = *x->batch;
    const Hash256& digest = x->digest;

    // Idempotency first: a retry of a committed batch must not fail its version check. A key
    // of an earlier writer of this group is not in the store yet.
    // A malformed record or a failed read fails this writer alone.
    std::optional<keys::IdempotencyRecord> seen;
    if (auto it = idempotency.find(batch.idempotency_key); it != idempotency.end()) {
      seen = it->second;
    } else {
      x->status = stored_outcomes[g];
      if (!x->status.ok()) continue;
      seen = stored_records[g];
    }
    if (seen) {
      if (seen->content_digest != digest) {
        x->status = Status(Code::idempotency_conflict,
                           fmt::format("idempotency key {} was used for different content at "
                                       "positions {}..{}",
                                       batch.idempotency_key, seen->first_position,
                                       seen->last_position));
      } else {
        x->result->first_position = seen->first_position;
        x->result->last_position = seen->last_position;
        x->result->duplicate = true;
      }
      continue;
    }

    // Expected versions against the current stream heads.
    std::vector<std::pair<std::string_view, uint64_t>> current;
    current.reserve(batch.expectations.size());
    for (const auto& e : batch.expectations) {
      uint64_t version = 0;
      if (auto it = versions.find(e.stream_id); it != versions.end()) {
        version = it->second;
      } else if (auto cached = stream_version_cache_.find(e.stream_id);
                 cached != stream_version_cache_.end()) {
        version = cached->second;
      } else {
        x->status = StoredStreamVersion(e.stream_id, &version);
        if (!x->status.ok()) break;
      }
      using Kind = ExpectedVersion::Kind;
      if (e.expected.kind == Kind::exists && version == 0) {
        x->status = Status(Code::stream_not_found,
                           fmt::format("stream {} was expected to exist", e.stream_id));
      } else if (e.expected.kind == Kind::no_stream && version != 0) {
        x->status = Status(Code::version_conflict,
                           fmt::format("stream {} was expected to be new, it is at version {}",
                                       e.stream_id, version));
      } else if (e.expected.kind == Kind::exact && version != e.expected.version) {
        x->status = Status(Code::version_conflict,
                           fmt::format("stream {} was expected at version {}, it is at version {}",
                                       e.stream_id, e.expected.version, version));
      }
      if (!x->status.ok()) break;
      current.emplace_back(e.stream_id, version);
    }
    if (!x->status.ok()) continue;

    // Unique claims.
    for (const auto& claim : batch.claims) {
      uint64_t holder = 0;
      if (auto it = claims.find(claim); it != claims.end()) {
        holder = it->second;
      } else {
        x->status = ClaimHolder(claim, &holder);
        if (!x->status.ok()) break;
      }
      if (holder != 0) {
        x->status = Status(Code::claim_taken,
                           fmt::format("claim {} is held by the batch at position {}", claim,
                                       holder));
        break;
      }
    }
    if (!x->status.ok()) continue;

    // Accepted: assign positions and versions, fill in the envelope, chain the hashes. Batches
    // over many streams look their stream up in an index rather than by a linear search.
    std::unordered_map<std::string_view, size_t> current_index;
    if (current.size() > 8) {
      for (size_t k = 0; k < current.size(); ++k) current_index.emplace(current[k].first, k);
    }
    const Head head_before = head;
    size_t projection_mark = 0;
    size_t projector_mark = 0;
    const size_t stream_puts_mark = stream_puts_.Mark();
    if (project) {
      wb->SetSavePoint();
      projection_mark = projection_writer->Mark();
      projector_mark = options_.projector->Mark();
      appended.clear();
    }
    x->result->first_position = head.position + 1;
    for (size_t i = 0; i < batch.events.size(); ++i) {
      std::string_view stream = x->streams[i];
      uint64_t version = 0;
      if (current_index.empty()) {
        auto cur = std::find_if(current.begin(), current.end(),
                                [&](const auto& p) { return p.first == stream; });
        SHEBAO_ASSERT(cur != current.end());
        version = ++cur->second;
      } else {
        auto it = current_index.find(stream);
        SHEBAO_ASSERT(it != current_index.end());
        version = ++current[it->second].second;
      }
      const uint64_t position = head.position + 1;

      // One copy of the event to stamp: into the projector's record when there is a projector,
      // else into the leader's reused buffer.
      RecordedEvent* re = project ? &appended.emplace_back() : nullptr;
      std::string& value = re != nullptr ? re->bytes : event_scratch_;
      value.assign(batch.events[i]);
      auto* event = fb::GetMutableEvent(value.data());
      SHEBAO_ASSERT(event->mutate_position(position));
      SHEBAO_ASSERT(event->mutate_stream_version(version));
      SHEBAO_ASSERT(event->mutate_recorded_us(now_us));
      const Hash256 hash = ChainHash(head.hash, value);
      // Assert the data right before writing it.
      {
        flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(value.data()),
                                       value.size());
        SHEBAO_ASSERT(fb::VerifyEventBuffer(verifier));
        SHEBAO_ASSERT(fb::GetEvent(value.data())->position() == position);
      }
      // The stored record is the event bytes followed by the chain hash, put as two parts so
      // that the bytes are not copied once more.
      const std::string event_key = keys::EventKey(position);
      const rocksdb::Slice key_part(event_key);
      const rocksdb::Slice value_parts[2] = {
          rocksdb::Slice(value), rocksdb::Slice(reinterpret_cast<const char*>(hash.data()), hash.size())};
      SHEBAO_ASSERT(wb->Put(events_cf(), rocksdb::SliceParts(&key_part, 1),
                            rocksdb::SliceParts(value_parts, 2))
                        .ok());
      std::string version_value;
      keys::PutBigEndian64(&version_value, position);
      stream_puts_.Put(keys::StreamVersionKey(stream, version), std::move(version_value));
      head.position = position;
      head.hash = hash;
      head.recorded_us = now_us;
      if (re != nullptr) {
        re->position = position;
        re->hash = hash;
      }
    }
    // Fold the writer's events into the projections, atomically with them.
    if (project) {
      for (const RecordedEvent& re : appended) {
        x->status = options_.projector->Apply(re, &*projection_writer);
        if (!x->status.ok()) break;
      }
      if (!x->status.ok()) {
        SHEBAO_ASSERT(wb->RollbackToSavePoint().ok());
        projection_writer->Rollback(projection_mark);
        options_.projector->Rollback(projector_mark);
        stream_puts_.Rollback(stream_puts_mark);
        head = head_before;
        continue;
      }
      SHEBAO_ASSERT(wb->PopSavePoint().ok());
    }
    // Stream heads are written once per group, at the end (many batches of a group often write
    // the same stream).
    for (const auto& [stream, version] : current) versions[std::string(stream)] = version;
    x->result->last_position = head.position;
    x->result->duplicate = false;
    for (const auto& claim : batch.claims) {
      std::string holder;
      keys::PutBigEndian64(&holder, x->result->first_position);
      SHEBAO_ASSERT(wb->Put(claims_cf(), claim, holder).ok());
      claims[claim] = x->result->first_position;
    }
    keys::IdempotencyRecord record{x->result->first_position, x->result->last_position, digest};
    idempotency_puts_.Put(batch.idempotency_key, keys::EncodeIdempotency(record));
    idempotency[batch.idempotency_key] = record;
  }
  if (head.position > head_.position) {
    for (const auto& [stream, version] : versions) {
      std::string version_value;
      keys::PutBigEndian64(&version_value, version);
      stream_puts_.Put(keys::StreamHeadKey(stream), std::move(version_value));
    }
    stream_puts_.MoveTo(wb, streams_cf());
    idempotency_puts_.MoveTo(wb, idempotency_cf());
    SHEBAO_ASSERT(wb->Put(meta_cf(), keys::kHeadKey,
                          keys::EncodeHead({head.position, head.hash, head.recorded_us}))
                      .ok());
    if (project) {
      if (Status s = options_.projector->EndBatch(&*projection_writer); !s.ok()) {
        options_.projector->AbortBatch();
        return s;
      }
      projection_writer->Flush(wb);
      SHEBAO_ASSERT(wb->Put(meta_cf(), keys::kProjectionKey,
                            keys::EncodeGenerationPosition({projection_.generation, head.position}))
                        .ok());
    }
  }
  // A group that accepted nothing kept nothing.
  if (project && head.position == head_.position) options_.projector->AbortBatch();
  // Puts are made only for accepted events, so a group that accepted none made none.
  SHEBAO_ASSERT(stream_puts_.Mark() == 0 && idempotency_puts_.Mark() == 0);
  *new_head = head;
  return Status::OK();
}

// The stored chain hash at the end of a record (zeros if the record is too short to hold one:
// such a record fails CheckRecordSize).
Hash256 StoredHashOf(std::string_view record) {
  Hash256 h = kZeroHash;
  if (record.size() >= kHashBytes) {
    std::memcpy(h.data(), record.data() + record.size() - kHashBytes, kHashBytes);
  }
  return h;
}

// A stored record (event bytes || chain hash) holds an event of kEventBytesMin..kEventBytesMax
// bytes, as Append admits.
Status CheckRecordSize(uint64_t position, size_t record_bytes) {
  if (record_bytes < kEventBytesMin + kHashBytes) {
    return CorruptionAt(position, fmt::format("record of {} bytes is too short", record_bytes));
  }
  if (record_bytes > kEventBytesMax + kHashBytes) {
    return CorruptionAt(position, fmt::format("record of {} bytes is too long", record_bytes));
  }
  return Status::OK();
}

// The checks of every read, on an event's bytes (aligned) and its stored chain hash.
Status CheckStoredEvent(uint64_t position, const Hash256& previous, std::string_view bytes,
                        const Hash256& stored_hash) {
  SHEBAO_ASSERT(reinterpret_cast<uintptr_t>(bytes.data()) % StoredRecordBatch::kRecordAlignment == 0);
  if (ChainHash(previous, bytes) != stored_hash) {
    return CorruptionAt(position, "chain hash mismatch (event bytes or predecessor changed)");
  }
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!fb::VerifyEventBuffer(verifier)) {
    return CorruptionAt(position, "event bytes are not a valid Event FlatBuffer");
  }
  const fb::Event* event = fb::GetEvent(bytes.data());
  // Append refuses such an event (a set union type whose table is absent still verifies).
  if (event->payload_type() == fb::Payload::NONE || event->payload() == nullptr) {
    return CorruptionAt(position, "the event has no payload");
  }
  if (event->position() != position) {
    return CorruptionAt(position, fmt::format("envelope says position {}", event->position()));
  }
  return Status::OK();
}

Status VerifyRecord(uint64_t position, const Hash256& previous, std::string_view value,
                    RecordedEvent* out) {
  if (Status s = CheckRecordSize(position, value.size()); !s.ok()) return s;
  out->position = position;
  out->bytes.assign(value.data(), value.size() - kHashBytes);  // a heap copy: aligned
  out->hash = StoredHashOf(value);
  return CheckStoredEvent(position, previous, out->bytes, out->hash);
}

Status RocksEventStore::ReadEvent(uint64_t position, RecordedEvent* out) const {
  SHEBAO_ASSERT(position >= 1);
  Hash256 previous = kZeroHash;
  rocksdb::PinnableSlice value;
  if (position > 1) {
    auto s = db_->Get(rocksdb::ReadOptions(), events_cf(), keys::EventKey(position - 1), &value);
    if (s.IsNotFound()) return CorruptionAt(position - 1, "event missing");
    if (!s.ok()) return FromRocks(s, fmt::format("position {}", position - 1));
    if (value.size() < kHashBytes) return CorruptionAt(position - 1, "record too short");
    std::memcpy(previous.data(), value.data() + value.size() - kHashBytes, kHashBytes);
    value.Reset();
  }
  auto s = db_->Get(rocksdb::ReadOptions(), events_cf(), keys::EventKey(position), &value);
  if (s.IsNotFound()) return CorruptionAt(position, "event missing");
  if (!s.ok()) return FromRocks(s, fmt::format("position {}", position));
  return VerifyRecord(position, previous, value.ToStringView(), out);
}

Status RocksEventStore::ReadStream(std::string_view stream_id, uint64_t from_version,
                                   Direction direction, size_t limit,
                                   std::vector<RecordedEvent>* out) const {
  if (limit == 0 || limit > kReadLimitMax) {
    return Status(Code::limit_invalid, fmt::format("limit must be 1..{}", kReadLimitMax));
  }
  uint64_t version = 0;
  Status st = StreamVersion(stream_id, &version);
  if (!st.ok()) return st;
  if (version == 0) return Status::OK();
  uint64_t v = from_version;
  if (direction == Direction::forward) {
    v = std::max<uint64_t>(v, 1);
  } else if (v == 0 || v > version) {
    v = version;
  }
  for (size_t n = 0; n < limit && v >= 1 && v <= version; ++n) {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), streams_cf(), keys::StreamVersionKey(stream_id, v),
                      &value);
    if (s.IsNotFound() || (s.ok() && value.size() != 8)) {
      return Status(Code::corruption,
                    fmt::format("stream {} version {}: index entry missing or malformed",
                                stream_id, v));
    }
    if (!s.ok()) return FromRocks(s, "stream index");
    const uint64_t position = keys::GetBigEndian64(value.data());
    RecordedEvent event;
    st = ReadEvent(position, &event);
    if (!st.ok()) return st;
    const fb::Event* e = event.event();
    if (e->stream_id() == nullptr || e->stream_id()->string_view() != stream_id ||
        e->stream_version() != v) {
      return CorruptionAt(position, fmt::format("index says stream {} version {}, event differs",
                                                stream_id, v));
    }
    out->push_back(std::move(event));
    v = direction == Direction::forward ? v + 1 : v - 1;
  }
  return Status::OK();
}

// The events family read in position order from `from` to `last`: the predecessor's stored
// chain hash, an iterator bounded at last, and each key checked to be the next position. What
// RocksLogCursor and RocksStoredRecordReader share; neither checks the records themselves.
class DenseLogIterator {
 public:
  DenseLogIterator(const RocksEventStore* store, uint64_t from_position, uint64_t last_position)
      : next_(std::max<uint64_t>(from_position, 1)), last_(last_position) {
    if (next_ > last_) return;
    // The predecessor's hash anchors the chain check of the first record.
    if (next_ > 1) {
      std::string value;
      auto s = store->db()->Get(rocksdb::ReadOptions(), store->events_cf(),
                                keys::EventKey(next_ - 1), &value);
      if (s.IsNotFound()) {
        status_ = CorruptionAt(next_ - 1, "event missing");
        return;
      }
      if (!s.ok()) {
        status_ = FromRocks(s, "log read");
        return;
      }
      if (status_ = CheckRecordSize(next_ - 1, value.size()); !status_.ok()) return;
      previous_ = StoredHashOf(value);
    }
    upper_bound_key_ = keys::EventKey(last_ + 1);
    upper_bound_ = rocksdb::Slice(upper_bound_key_);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_bound_;
    ro.readahead_size = 2 * 1024 * 1024;
    ro.fill_cache = false;
    it_.reset(store->db()->NewIterator(ro, store->events_cf()));
    it_->Seek(keys::EventKey(next_));
  }

  // The next position to read.
  uint64_t next() const { return next_; }
  // The stored chain hash the next record must follow.
  const Hash256& previous() const { return previous_; }
  // OK until a read error or a missing or misplaced key.
  const Status& status() const { return status_; }

  // Sets *record to the stored record at next() (valid until Advance); false at the end of the
  // range or on an error (status()).
  bool Record(std::string_view* record) {
    if (!status_.ok() || next_ > last_ || it_ == nullptr) return false;
    if (!it_->Valid()) {
      status_ = it_->status().ok() ? CorruptionAt(next_, "event missing (log ends early)")
                                   : FromRocks(it_->status(), fmt::format("position {}", next_));
      return false;
    }
    auto key = keys::DecodeEventKey(it_->key().ToStringView());
    if (!key || *key != next_) {
      status_ = CorruptionAt(next_, key ? fmt::format("event missing, next key is {}", *key)
                                        : std::string("malformed key"));
      return false;
    }
    *record = it_->value().ToStringView();
    return true;
  }
  // Moves past the record Record returned, whose stored chain hash is hash.
  void Advance(const Hash256& hash) {
    previous_ = hash;
    ++next_;
    it_->Next();
  }
  // Stops the read with an error about the record at next().
  void Fail(Status status) { status_ = std::move(status); }

 private:
  uint64_t next_;
  const uint64_t last_;
  Hash256 previous_{};
  std::string upper_bound_key_;
  rocksdb::Slice upper_bound_;
  std::unique_ptr<rocksdb::Iterator> it_;
  Status status_;
};

class RocksLogCursor final : public LogCursor {
 public:
  RocksLogCursor(const RocksEventStore* store, uint64_t from_position, uint64_t last_position)
      : log_(store, from_position, last_position) {
    Load();
  }

  bool Valid() const override { return valid_; }
  void Next() override {
    SHEBAO_ASSERT(valid_);
    log_.Advance(event_.hash);
    Load();
  }
  const RecordedEvent& event() const override {
    SHEBAO_ASSERT(valid_);
    return event_;
  }
  Status status() const override { return log_.status(); }

 private:
  void Load() {
    valid_ = false;
    std::string_view record;
    if (!log_.Record(&record)) return;
    Status s = VerifyRecord(log_.next(), log_.previous(), record, &event_);
    if (!s.ok()) {
      log_.Fail(std::move(s));
      return;
    }
    valid_ = true;
  }

  DenseLogIterator log_;
  RecordedEvent event_;
  bool valid_ = false;
};

std::unique_ptr<LogCursor> RocksEventStore::NewCursor(uint64_t from_position) const {
  return std::make_unique<RocksLogCursor>(this, from_position, head().position);
}

// RocksLogCursor's read without its checks: the records go to the caller's threads.
class RocksStoredRecordReader final : public StoredRecordReader {
 public:
  RocksStoredRecordReader(const RocksEventStore* store, uint64_t from_position,
                          uint64_t last_position)
      : log_(store, from_position, last_position) {}

  bool ReadBatch(size_t max_records, StoredRecordBatch* batch) override {
    SHEBAO_ASSERT(max_records >= 1);
    batch->Clear();
    batch->first_position = log_.next();
    batch->previous_hash = log_.previous();
    std::string_view record;
    while (batch->size() < max_records && log_.Record(&record)) {
      // Checked here as well as in VerifyStoredRecord: the batch's memory stays bounded.
      if (Status s = CheckRecordSize(log_.next(), record.size()); !s.ok()) {
        log_.Fail(std::move(s));
        break;
      }
      batch->Add(record);
      log_.Advance(StoredHashOf(record));
    }
    return batch->size() > 0;
  }
  Status status() const override { return log_.status(); }

 private:
  DenseLogIterator log_;
};

std::unique_ptr<StoredRecordReader> RocksEventStore::NewStoredRecordReader(
    uint64_t from_position, uint64_t to_position) const {
  return std::make_unique<RocksStoredRecordReader>(this, from_position,
                                                   std::min(to_position, head().position));
}

Status RocksEventStore::ReadAll(uint64_t from_position, size_t limit,
                                std::vector<RecordedEvent>* out) const {
  if (limit == 0 || limit > kReadLimitMax) {
    return Status(Code::limit_invalid, fmt::format("limit must be 1..{}", kReadLimitMax));
  }
  if (from_position == 0) return Status(Code::invalid_argument, "from_position starts at 1");
  const uint64_t last = std::min(head().position, from_position + limit - 1);
  RocksLogCursor cursor(this, from_position, last);
  for (; cursor.Valid(); cursor.Next()) out->push_back(cursor.event());
  return cursor.status();
}

Status RocksEventStore::VerifyChain(uint64_t* events_checked) const {
  *events_checked = 0;
  const Head expected_head = head();
  RocksLogCursor cursor(this, 1, expected_head.position);
  int64_t last_recorded_us = 0;
  for (; cursor.Valid(); cursor.Next()) {
    const RecordedEvent& re = cursor.event();
    const fb::Event* e = re.event();
    if (e->recorded_us() < last_recorded_us) {
      return CorruptionAt(re.position, "recorded_us decreases");
    }
    last_recorded_us = e->recorded_us();
    if (e->stream_id() == nullptr || e->stream_version() < 1) {
      return CorruptionAt(re.position, "envelope lacks stream id or version");
    }
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), streams_cf(),
                      keys::StreamVersionKey(e->stream_id()->string_view(), e->stream_version()),
                      &value);
    if (!s.ok() || value.size() != 8 || keys::GetBigEndian64(value.data()) != re.position) {
      return CorruptionAt(re.position, fmt::format("stream index of {} version {} does not point "
                                                   "here",
                                                   e->stream_id()->string_view(),
                                                   e->stream_version()));
    }
    ++*events_checked;
  }
  if (!cursor.status().ok()) return cursor.status();
  if (*events_checked != expected_head.position) {
    return CorruptionAt(*events_checked + 1, "log shorter than its head");
  }
  // Nothing may follow the head.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf()));
  it->SeekToLast();
  if (it->Valid()) {
    auto last = keys::DecodeEventKey(it->key().ToStringView());
    if (!last || *last != expected_head.position) {
      return CorruptionAt(expected_head.position + 1, "events stored beyond the head");
    }
  }
  return FromRocks(it->status(), "verify");
}

Status RocksEventStore::LoadHead() {
  rocksdb::PinnableSlice value;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_cf(), keys::kFormatKey, &value);
  if (s.IsNotFound()) {
    // A new ledger (read-only: one its writer has not written to yet).
    if (!options_.read_only) {
      auto w = db_->Put(write_options_, meta_cf(), keys::kFormatKey, keys::kFormatValue);
      if (!w.ok()) return FromRocks(w, "write format marker");
    }
  } else if (!s.ok()) {
    return FromRocks(s, "read format marker");
  } else if (value.ToStringView() != keys::kFormatValue) {
    return Status(Code::corruption, fmt::format("format marker is '{}', expected '{}'",
                                                value.ToStringView(), keys::kFormatValue));
  }
  value.Reset();

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf()));
  it->SeekToLast();
  if (!it->status().ok()) return FromRocks(it->status(), "find last event");
  std::optional<uint64_t> last;
  if (it->Valid()) {
    last = keys::DecodeEventKey(it->key().ToStringView());
    if (!last) return Status(Code::corruption, "events column family holds a malformed key");
  }
  it.reset();

  s = db_->Get(rocksdb::ReadOptions(), meta_cf(), keys::kHeadKey, &value);
  if (s.IsNotFound()) {
    if (last) return CorruptionAt(*last, "events stored but no head record");
    head_ = Head{};
    return Status::OK();
  }
  if (!s.ok()) return FromRocks(s, "read head");
  auto record = keys::DecodeHead(value.ToStringView());
  if (!record) return Status(Code::corruption, "head record is malformed");
  if (!last || *last != record->position) {
    return CorruptionAt(record->position,
                        fmt::format("head record says position {}, last stored event is {}",
                                    record->position, last ? *last : 0));
  }
  RecordedEvent event;
  Status st = ReadEvent(record->position, &event);
  if (!st.ok()) return st;
  if (event.hash != record->hash) return CorruptionAt(record->position, "head hash mismatch");
  head_ = Head{record->position, record->hash, record->recorded_us};
  return Status::OK();
}

namespace {

// Reads a (generation, position) record of family (meta's projection position, or a rebuild's
// progress record in projections); absent reads as (0, 0). what names it in errors.
Status ReadGenerationPosition(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                              const rocksdb::ReadOptions& ro, std::string_view key, bool* found,
                              keys::GenerationPosition* out, std::string_view what) {
  *found = false;
  *out = keys::GenerationPosition{};
  std::string value;
  auto s = db->Get(ro, family, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return FromRocks(s, fmt::format("read the {}", what));
  auto gp = keys::DecodeGenerationPosition(value);
  if (!gp) return Status(Code::corruption, fmt::format("the {} record is malformed", what));
  *found = true;
  *out = *gp;
  return Status::OK();
}


class SnapshotReadView final : public ReadView {
 public:
  SnapshotReadView(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* projections,
                   rocksdb::ColumnFamilyHandle* meta)
      : db_(db), projections_(projections), snapshot_(db->GetSnapshot()) {
    ro_.snapshot = snapshot_;
    bool found = false;
    status_ = ReadGenerationPosition(db_, meta, ro_, keys::kProjectionKey, &found, &gp_,
                                     "projection position");
  }
  ~SnapshotReadView() override { db_->ReleaseSnapshot(snapshot_); }

  const Status& status() const { return status_; }
  uint64_t position() const override { return gp_.position; }

  Status Get(std::string_view key, std::string* value, bool* found) const override {
    *found = false;
    auto s = db_->Get(ro_, projections_, Key(key), value);
    if (s.IsNotFound()) return Status::OK();
    if (!s.ok()) return FromRocks(s, "projection read");
    *found = true;
    return Status::OK();
  }

  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& visit) const override {
    const std::string start = Key(prefix);
    // An upper bound lets RocksDB use the prefix Bloom filter when the prefix is long enough
    // (auto_prefix_mode) and read in total order otherwise.
    std::string limit = start;
    while (!limit.empty() && static_cast<uint8_t>(limit.back()) == 0xff) limit.pop_back();
    if (!limit.empty()) limit.back() = static_cast<char>(static_cast<uint8_t>(limit.back()) + 1);
    const rocksdb::Slice upper(limit);
    rocksdb::ReadOptions ro = ro_;
    ro.auto_prefix_mode = true;
    if (!limit.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, projections_));
    // Rows are FlatBuffers read in place, which needs an aligned buffer; a RocksDB value may
    // sit at any address inside its block, so visit gets an aligned copy.
    std::string value;
    for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
      value.assign(it->value().data(), it->value().size());
      if (!visit(it->key().ToStringView().substr(1), value)) break;
    }
    return FromRocks(it->status(), "projection scan");
  }

 private:
  std::string Key(std::string_view key) const {
    std::string k(1, static_cast<char>(gp_.generation));
    k.append(key);
    return k;
  }
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* projections_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions ro_;
  keys::GenerationPosition gp_;
  Status status_;
};

}  // namespace

Status RocksEventStore::PutAuditRecords(
    const std::vector<std::pair<std::string, std::string>>& records) {
  if (options_.read_only) return ReadOnlyRefusal();
  rocksdb::WriteBatch wb;
  for (const auto& [key, value] : records) {
    if (key.empty() || key.size() > kAuditKeyBytesMax) {
      return Status(Code::invalid_argument,
                    fmt::format("audit key of {} bytes (1..{})", key.size(), kAuditKeyBytesMax));
    }
    if (value.size() > kAuditValueBytesMax) {
      return Status(Code::invalid_argument, fmt::format("audit record {} of {} bytes (max {})",
                                                        key, value.size(), kAuditValueBytesMax));
    }
    std::string k(keys::kAuditPrefix);
    k.append(key);
    SHEBAO_ASSERT(wb.Put(meta_cf(), k, value).ok());
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &wb), "write audit records");
}

Status RocksEventStore::GetAuditRecord(std::string_view key, std::string* value,
                                       bool* found) const {
  *found = false;
  std::string k(keys::kAuditPrefix);
  k.append(key);
  auto s = db_->Get(rocksdb::ReadOptions(), meta_cf(), k, value);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return FromRocks(s, fmt::format("read audit record {}", key));
  *found = true;
  return Status::OK();
}

Status RocksEventStore::ScanAuditRecords(
    std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  std::string start(keys::kAuditPrefix);
  start.append(prefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf()));
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (!visit(it->key().ToStringView().substr(keys::kAuditPrefix.size()),
               it->value().ToStringView())) {
      break;
    }
  }
  return FromRocks(it->status(), "scan audit records");
}

std::unique_ptr<ReadView> RocksEventStore::NewReadView() const {
  auto view = std::make_unique<SnapshotReadView>(db_.get(), projections_cf(), meta_cf());
  SHEBAO_ASSERT(view->status().ok());
  return view;
}

Status RocksEventStore::FoldRange(uint8_t generation, uint64_t from, uint64_t to, bool rebuild,
                                  const RebuildProgress& progress) {
  SHEBAO_ASSERT(options_.projector != nullptr);
  if (from > to) return Status::OK();
  // The log is read and checked (chain link, FlatBuffer) on a thread of its own, and on this
  // one only when it would otherwise wait, while this one folds: reading and checking were 38%
  // of a one-thread rebuild (100,000 children: 21.0 s -> 18.3 s; BENCHMARKS.md).
  CheckedBatchReader reader(std::make_unique<RocksStoredRecordReader>(this, from, to));
  const CheckedBatchReader::Batch* checked = reader.Next();
  size_t index = 0;      // the next record of *checked
  RecordedEvent event;   // what Apply reads; its buffer is reused
  uint64_t done = 0;
  const uint64_t total = to - from + 1;
  WriteBackProjectionWriter writer(db_.get(), projections_cf(), generation, /*undoable=*/false,
                                   /*fill_cache=*/false);
  Projector& projector = *options_.projector;
  // One batch for the whole fold, cleared after each write: a fresh one regrew its buffer
  // (several MB, copied at each doubling) for every kFoldBatchEvents events.
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions wo;  // progress is re-derivable: no sync needed until the end
  // A rebuild's writes skip the write-ahead log (at 100,000 children it took 10-16% longer
  // with it). They go to the projections family alone, rows and progress record in the same
  // batch, and a family's flushed files always hold a prefix of its writes: a crash loses at
  // most the batches since the last flush together with the progress record that named them,
  // and the next rebuild resumes from the record that survived. Nothing else writes to the
  // family meanwhile (RunExclusive), and Rebuild flushes it before the switch.
  wo.disableWAL = rebuild;
  const std::string progress_key =
      rebuild ? keys::RebuildProgressKey(generation) : std::string(keys::kProjectionKey);
  rocksdb::ColumnFamilyHandle* const progress_cf = rebuild ? projections_cf() : meta_cf();
  while (checked != nullptr) {
    batch.Clear();
    uint64_t last = 0;
    projector.BeginBatch(/*undoable=*/false);
    for (uint64_t n = 0; n < kFoldBatchEvents && checked != nullptr; ++n) {
      if (index == checked->passed) {  // the check failed at this record
        SHEBAO_ASSERT(!checked->failure.ok());
        projector.AbortBatch();
        return checked->failure;
      }
      event.position = checked->position(index);
      event.hash = checked->chain_hash(index);
      event.bytes.assign(checked->events[index]);
      SHEBAO_ASSERT(event.position == from + done);
      Status s = projector.Apply(event, &writer);
      if (!s.ok()) {
        projector.AbortBatch();
        return s;
      }
      last = event.position;
      ++done;
      if (++index == checked->records.size()) {
        checked = reader.Next();
        index = 0;
      }
    }
    if (Status s = projector.EndBatch(&writer); !s.ok()) {
      projector.AbortBatch();
      return s;
    }
    writer.Flush(&batch);
    SHEBAO_ASSERT(batch.Put(progress_cf, progress_key,
                            keys::EncodeGenerationPosition({generation, last}))
                      .ok());
    Status s = FromRocks(db_->Write(wo, &batch), "fold projections");
    if (!s.ok()) return s;
    if (progress && !progress(done, total)) {
      return Status(Code::interrupted, fmt::format("stopped after position {}", last));
    }
  }
  if (Status s = reader.status(); !s.ok()) return s;
  if (done != total) return CorruptionAt(from + done, "log ends before its head");
  return Status::OK();
}

Status RocksEventStore::CatchUpProjections() {
  if (options_.projector == nullptr) return Status::OK();
  bool found = false;
  Status s = ReadGenerationPosition(db_.get(), meta_cf(), rocksdb::ReadOptions(),
                                    keys::kProjectionKey, &found, &projection_,
                                    "projection position");
  if (!s.ok()) return s;
  if (projection_.position > head_.position) {
    return Status(Code::corruption, fmt::format("projections at position {} are ahead of the "
                                                "log at {}",
                                                projection_.position, head_.position));
  }
  // Projections of another layout are neither read nor extended: rebuilt by a writer.
  const uint64_t wanted = options_.projector->layout_version();
  uint64_t stored = 1;  // stores from before the layout key
  bool layout_found = false;
  {
    std::string value;
    auto r = db_->Get(rocksdb::ReadOptions(), meta_cf(), keys::kProjectionLayoutKey, &value);
    if (!r.ok() && !r.IsNotFound()) return FromRocks(r, "read the projection layout");
    if (r.ok()) {
      if (value.size() != 8) return Status(Code::corruption, "projection layout record is malformed");
      stored = keys::GetBigEndian64(value.data());
      layout_found = true;
    }
  }
  const bool outdated = found && stored != wanted;
  if (options_.read_only) {  // the next writer catches them up
    if (!outdated) return Status::OK();
    return Status(Code::projections_outdated,
                  fmt::format("the projections were built with layout {} and this program reads "
                              "layout {}: open the ledger for writing once (shebao rebuild)",
                              stored, wanted));
  }
  if (outdated) {
    // An interrupted rebuild may be of either layout: start clean. The rebuild writes the
    // layout in the same write that switches to the new generation.
    return Rebuild(nullptr, /*may_resume=*/false);
  }
  if (!layout_found || stored != wanted) {  // (the latter: no projections were built yet)
    std::string value;
    keys::PutBigEndian64(&value, wanted);
    rocksdb::WriteOptions synced;
    synced.sync = true;
    s = FromRocks(db_->Put(synced, meta_cf(), keys::kProjectionLayoutKey, value),
                  "write the projection layout");
    if (!s.ok()) return s;
  }
  s = FoldRange(projection_.generation, projection_.position + 1, head_.position,
                /*rebuild=*/false, nullptr);
  if (!s.ok()) return s;
  projection_.position = head_.position;
  return FromRocks(db_->SyncWAL(), "sync projections");
}

Status RocksEventStore::RunExclusive(const std::function<Status()>& fn) {
  Writer w;
  w.exclusive = true;
  std::unique_lock lock(mu_);
  writers_.push_back(&w);
  if (writers_.size() > 1) writers_.front()->cv->notify_one();  // a leader waiting for company
  while (&w != writers_.front()) w.cv->wait(lock);
  const bool failed = failed_;
  lock.unlock();
  Status s = failed ? Status(Code::store_failed, "an earlier write failed; reopen the ledger")
                    : fn();
  lock.lock();
  SHEBAO_ASSERT(writers_.front() == &w);
  writers_.pop_front();
  if (!writers_.empty()) writers_.front()->cv->notify_one();
  return s;
}

Status RocksEventStore::InterruptedRebuild(bool* interrupted, uint64_t* position) const {
  *interrupted = false;
  *position = 0;
  uint8_t target = 0;
  uint64_t head = 0;
  {
    std::lock_guard lock(mu_);
    target = static_cast<uint8_t>(projection_.generation + 1);
    head = head_.position;
  }
  bool found = false;
  keys::GenerationPosition state;
  Status s = ReadGenerationPosition(db_.get(), projections_cf(), rocksdb::ReadOptions(),
                                    keys::RebuildProgressKey(target), &found, &state,
                                    fmt::format("rebuild progress (generation {})", target));
  if (!s.ok()) return s;
  // A record naming another generation, or a position past the head, cannot be resumed from:
  // the next rebuild starts over (and clears it).
  if (!found || state.generation != target || state.position > head) return Status::OK();
  *interrupted = true;
  *position = state.position;
  return Status::OK();
}

Status RocksEventStore::RebuildProjections(const RebuildProgress& progress) {
  return Rebuild(progress, /*may_resume=*/true);
}

Status RocksEventStore::Rebuild(const RebuildProgress& progress, bool may_resume) {
  if (options_.projector == nullptr) {
    return Status(Code::invalid_argument, "rebuilding needs a projector");
  }
  if (options_.read_only) return ReadOnlyRefusal();
  // While the rebuild folds, the projections family gets its own settings, and appends get
  // theirs back afterwards, whatever the outcome: a small memtable (kRebuildMemtableBytes) for
  // the rebuild's peak RSS, and fewer, larger compactions of level 0. Every flushed file of a
  // rebuild spans the whole key range, so each level-0 compaction rewrote all of level 1: 1.5 GB
  // of compaction output for 330 MB flushed at 100,000 children, on the core the log's checks
  // now use.
  const rocksdb::ColumnFamilyOptions appending = db_->GetOptions(projections_cf());
  auto set_options = [this](size_t memtable_bytes, int l0_files_trigger, int l0_files_slowdown,
                            int l0_files_stop) {
    return FromRocks(
        db_->SetOptions(projections_cf(),
                        {{"write_buffer_size", std::to_string(memtable_bytes)},
                         {"level0_file_num_compaction_trigger", std::to_string(l0_files_trigger)},
                         {"level0_slowdown_writes_trigger", std::to_string(l0_files_slowdown)},
                         {"level0_stop_writes_trigger", std::to_string(l0_files_stop)}}),
        "set the projections family's options");
  };
  const int l0_files = kRebuildL0FilesCompactionTrigger;
  if (Status s = set_options(kRebuildMemtableBytes, l0_files,
                             l0_files + appending.level0_slowdown_writes_trigger,
                             l0_files + appending.level0_stop_writes_trigger);
      !s.ok()) {
    return s;
  }
  Status status = RunExclusive([&]() -> Status {
    // Appends wait: head_ and projection_ are stable while we hold the front of the queue.
    const uint64_t head = head_.position;
    const uint8_t active = projection_.generation;
    const uint8_t target = static_cast<uint8_t>(active + 1);
    bool resuming = false;
    uint64_t resume_after = 0;
    Status s = InterruptedRebuild(&resuming, &resume_after);
    // A malformed progress record is derived data like the rows it names: start over (the
    // clean start below deletes it), rather than let it block the one command that repairs it.
    if (s.code() == Code::corruption) {
      resuming = false;
      s = Status::OK();
    }
    if (!s.ok()) return s;
    uint64_t from = 1;
    if (may_resume && resuming) {
      from = resume_after + 1;  // an interrupted rebuild: carry on where it stopped
    } else {
      // Start clean: nothing of the target generation may survive from an older attempt.
      const std::string begin(1, static_cast<char>(target));
      const std::string end(1, static_cast<char>(target + 1));
      s = FromRocks(db_->DeleteRange(rocksdb::WriteOptions(), projections_cf(), begin,
                                     target == 0xff ? std::string("\xff\xff", 2) : end),
                    "clear the rebuild generation");
      if (!s.ok()) return s;
    }
    s = FoldRange(target, from, head, /*rebuild=*/true,
                  [&](uint64_t done, uint64_t) {
                    return !progress || progress(from - 1 + done, head);
                  });
    if (!s.ok()) return s;
    // The fold wrote no log: its rows reach the disk before the switch names them.
    s = FromRocks(db_->Flush(rocksdb::FlushOptions(), projections_cf()),
                  "flush the rebuilt projections");
    if (!s.ok()) return s;
    // Switch generations in one atomic write, then drop the old one.
    rocksdb::WriteBatch batch;
    SHEBAO_ASSERT(batch.Put(meta_cf(), keys::kProjectionKey,
                            keys::EncodeGenerationPosition({target, head}))
                      .ok());
    SHEBAO_ASSERT(batch.Delete(projections_cf(), keys::RebuildProgressKey(target)).ok());
    SHEBAO_ASSERT(batch.Delete(meta_cf(), keys::kRebuildKey).ok());  // an earlier version's
    std::string layout;
    keys::PutBigEndian64(&layout, options_.projector->layout_version());
    SHEBAO_ASSERT(batch.Put(meta_cf(), keys::kProjectionLayoutKey, layout).ok());
    rocksdb::WriteOptions synced;
    synced.sync = true;
    s = FromRocks(db_->Write(synced, &batch), "switch projection generation");
    if (!s.ok()) return s;
    {
      std::lock_guard lock(mu_);
      projection_ = {target, head};
    }
    const std::string old_begin(1, static_cast<char>(active));
    const std::string old_end = active == 0xff ? std::string("\xff\xff", 2)
                                               : std::string(1, static_cast<char>(active + 1));
    return FromRocks(db_->DeleteRange(rocksdb::WriteOptions(), projections_cf(), old_begin, old_end),
                     "drop the old projection generation");
  });
  if (status.ok()) status = CompactProjections();
  Status restored = set_options(appending.write_buffer_size,
                                appending.level0_file_num_compaction_trigger,
                                appending.level0_slowdown_writes_trigger,
                                appending.level0_stop_writes_trigger);
  return status.ok() ? restored : status;
}

Status RocksEventStore::CompactProjections() {
  // The rebuild leaves the new generation in many L0 and level files beside the old one's range
  // deletion; every query would read them all until RocksDB's own compactions catch up.
  rocksdb::CompactRangeOptions compact;
  compact.exclusive_manual_compaction = false;  // appends' flushes and compactions go on
  // Rewrite the bottom level too: that is where the old generation's rows lie, and leaving
  // them under a range deletion kept the query p99 as high as no compaction at all (20,000
  // children: 164 us; forced: 81 us; none: 147 us). Optimized: the files the same call has
  // just written into the bottom level (already free of the old rows) are not rewritten again,
  // which kForce did, a second pass over the whole new generation.
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  // On every core: the rebuild waits for this compaction (kCompactionThreadsMax).
  compact.max_subcompactions = kCompactionThreadsMax;
  return FromRocks(db_->CompactRange(compact, projections_cf(), nullptr, nullptr),
                   "compact the projections");
}

}  // namespace


namespace {

// Whether directory path holds a ledger (its RocksDB CURRENT file). Errors: io_error when path
// exists but is not a directory or cannot be examined (permissions), naming it: "no ledger"
// would hide the cause.
Status ProbeLedgerDirectory(const std::string& path, bool* has_ledger) {
  namespace fs = std::filesystem;
  *has_ledger = false;
  std::error_code ec;
  const fs::file_status dir = fs::status(path, ec);
  if (dir.type() == fs::file_type::not_found) return Status::OK();
  if (ec) return Status(Code::io_error, fmt::format("cannot examine {}: {}", path, ec.message()));
  if (!fs::is_directory(dir)) {
    return Status(Code::io_error, fmt::format("{} is not a directory", path));
  }
  const fs::file_status current = fs::status(fs::path(path) / "CURRENT", ec);
  if (ec && current.type() != fs::file_type::not_found) {
    return Status(Code::io_error, fmt::format("cannot read {}: {}", path, ec.message()));
  }
  if (current.type() != fs::file_type::not_found) {
    *has_ledger = true;
    return Status::OK();
  }
  // No CURRENT: a new ledger, unless the files of one are there (CURRENT deleted or lost), over
  // which RocksDB would silently create an empty ledger.
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("MANIFEST-") || name.ends_with(".sst") || name.ends_with(".log")) {
      return Status(Code::corruption,
                    fmt::format("{} holds ledger files ({}) but no CURRENT file; not opening or "
                                "creating a ledger over them",
                                path, name));
    }
  }
  if (ec) return Status(Code::io_error, fmt::format("cannot read {}: {}", path, ec.message()));
  return Status::OK();
}

// What a read-only open depends on: every MANIFEST file with its size, and the set of WAL files.
// A writer's flush or compaction changes it (and may delete a WAL or table file the open is
// about to read, or whose data it already skipped); appends to the live WAL do not. nullopt if
// the directory cannot be listed.
std::optional<std::string> OpenFingerprint(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> parts;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("MANIFEST-")) {
      std::error_code size_ec;
      const auto size = fs::file_size(it->path(), size_ec);
      parts.push_back(fmt::format("{}:{}", name, size_ec ? 0 : size));
    } else if (name.ends_with(".log")) {
      parts.push_back(name);
    }
  }
  if (ec) return std::nullopt;
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& part : parts) out += part + "\n";
  return out;
}

// A read-only open that sees a writer's flush or compaction is retried this many times.
constexpr int kReadOnlyOpenAttemptsMax = 50;

// One RocksDB open (read-only or for writing), then the head check and the projections.
Status OpenOnce(const std::string& path, const StoreOptions& options,
                std::unique_ptr<EventStore>* out) {
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  LedgerRocksOptions(options.block_cache_bytes, options.create_if_missing && !options.read_only,
                     &db_options, &families);
  std::shared_ptr<LedgerInfoLog> info_log;
  if (options.read_only) {
    // Every table file is opened now, so that a writer's compaction deleting one later cannot
    // fail a read; nothing is written (no info log).
    db_options.max_open_files = -1;
    info_log = std::make_shared<LedgerInfoLog>("");
  } else {
    std::error_code ec;
    std::filesystem::create_directory(path, ec);  // for the LOG; RocksDB reports a failure
    info_log = std::make_shared<LedgerInfoLog>((std::filesystem::path(path) / "LOG").string());
  }
  db_options.info_log = info_log;
  if (options.keep_wal_files) db_options.WAL_ttl_seconds = kKeptWalFilesTtlSeconds;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = options.read_only
               ? rocksdb::DB::OpenForReadOnly(db_options, path, families, &handles, &raw,
                                              /*error_if_wal_file_exists=*/false)
               : rocksdb::DB::Open(db_options, path, families, &handles, &raw);
  if (!s.ok()) {
    std::string text = s.ToString();
    // Another process's lock (EAGAIN from fcntl), or this process's own.
    if (s.IsIOError() && text.find("LOCK") != std::string::npos &&
        (text.find("Resource temporarily unavailable") != std::string::npos ||
         text.find("lock hold by current process") != std::string::npos)) {
      return Status(Code::ledger_locked,
                    fmt::format("{} is open for writing by another process ({})", path, text));
    }
    if (s.IsInvalidArgument() && text.find("does not exist") != std::string::npos) {
      return Status(Code::ledger_not_found, fmt::format("no ledger at {}: {}", path, text));
    }
    // RocksDB does not name the WAL file whose record failed its checksum; its info log does.
    if (s.IsCorruption() && !info_log->first_dropped().empty()) {
      text += fmt::format(" ({})", info_log->first_dropped());
    }
    return Status(s.IsCorruption() ? Code::corruption : Code::io_error,
                  fmt::format("open {}: {}", path, text));
  }
  auto store = std::make_unique<RocksEventStore>(options, std::unique_ptr<rocksdb::DB>(raw),
                                                 std::move(handles));
  Status st = store->LoadHead();
  if (!st.ok()) return st;
  st = store->CatchUpProjections();
  if (!st.ok()) return st;
  *out = std::move(store);
  return Status::OK();
}

}  // namespace

Status EventStore::LookupIdempotencyMany(const std::vector<std::string_view>& keys,
                                         std::vector<IdempotencyLookup>* out) const {
  out->assign(keys.size(), IdempotencyLookup());
  for (size_t i = 0; i < keys.size(); ++i) {
    Status s = LookupIdempotency(keys[i], &(*out)[i].found, &(*out)[i].info);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status EventStore::Open(const std::string& path, const StoreOptions& options,
                        std::unique_ptr<EventStore>* out) {
  SHEBAO_ASSERT(out != nullptr);
  bool exists = false;
  Status st = ProbeLedgerDirectory(path, &exists);
  if (!st.ok()) return st;
  if (!exists && (options.read_only || !options.create_if_missing)) {
    return Status(Code::ledger_not_found, fmt::format("no ledger at {}", path));
  }
  if (options.stream_version_cache_entries > kStreamVersionCacheEntriesMax) {
    return Status(Code::invalid_argument,
                  fmt::format("stream_version_cache_entries {} is over the limit of {}",
                              options.stream_version_cache_entries, kStreamVersionCacheEntriesMax));
  }
  if (!options.read_only) return OpenOnce(path, options, out);
  // Read-only: no lock keeps a writer from flushing or compacting meanwhile. An open during
  // which the MANIFEST or the set of WAL files did not change saw one consistent state of the
  // directory, and its answer (a store, or an error) stands; otherwise it is retried.
  for (int attempt = 1;; ++attempt) {
    const std::optional<std::string> before = OpenFingerprint(path);
    std::unique_ptr<EventStore> store;
    st = OpenOnce(path, options, &store);
    if (OpenFingerprint(path) == before) {
      if (st.ok()) *out = std::move(store);
      return st;
    }
    if (attempt == kReadOnlyOpenAttemptsMax) {
      return Status(Code::io_error,
                    fmt::format("{} kept changing under a writer during {} read-only opens; "
                                "last: {}",
                                path, attempt, st.ok() ? std::string("ok") : st.ToString()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(attempt, 20)));
  }
}

Hash256 StoredRecordBatch::StoredHash(size_t i) const {
  SHEBAO_ASSERT(i < records.size());
  return StoredHashOf(record(i));
}

Hash256 StoredRecordBatch::PreviousHash(size_t i) const {
  SHEBAO_ASSERT(i < records.size());
  return i == 0 ? previous_hash : StoredHash(i - 1);
}

void StoredRecordBatch::Add(std::string_view record) {
  const size_t offset = (arena.size() + kRecordAlignment - 1) / kRecordAlignment * kRecordAlignment;
  SHEBAO_ASSERT(offset + record.size() <= UINT32_MAX);
  arena.resize(offset);
  arena.append(record);
  records.emplace_back(static_cast<uint32_t>(offset), static_cast<uint32_t>(record.size()));
}

Status VerifyStoredRecord(uint64_t position, const Hash256& previous, std::string_view record,
                          std::string_view* event_bytes, Hash256* hash) {
  if (Status s = CheckRecordSize(position, record.size()); !s.ok()) return s;
  *hash = StoredHashOf(record);
  *event_bytes = record.substr(0, record.size() - kHashBytes);
  return CheckStoredEvent(position, previous, *event_bytes, *hash);
}

}  // namespace shebao::ledger
