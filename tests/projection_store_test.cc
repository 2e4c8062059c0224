// The store's projection machinery with a small test projector: projections land in the same
// atomic write as their events, a rebuild gives byte-identical projections, an interrupted
// rebuild resumes, readers never see a half-built generation, and a ledger appended to without
// a projector is caught up on the next open.
#include <doctest/doctest.h>

#include <map>

#include <fmt/format.h>

#include <rocksdb/db.h>

#include "ledger/constants.h"
#include "ledger/keys.h"
#include "ledger/rocks_options.h"
#include "tests/test_util.h"

using namespace shebao;
using namespace shebao::ledger;
using shebao::testing::AmountOf;
using shebao::testing::EditBehindTheStoresBack;
using shebao::testing::OneEventBatch;
using shebao::testing::ProjectionRows;
using shebao::testing::TamperEventValue;
using shebao::testing::TempDir;

namespace {

// Per stream: "count,sum of amounts", plus one row per event position (to test scans).
class SumProjector final : public Projector {
 public:
  Status Apply(const RecordedEvent& e, ProjectionWriter* w) override {
    const std::string key = "sum/" + e.event()->stream_id()->str();
    std::string value;
    bool found = false;
    Status s = w->Get(key, &value, &found);
    if (!s.ok()) return s;
    long long count = 0, sum = 0;
    if (found) std::sscanf(value.c_str(), "%lld,%lld", &count, &sum);
    count += 1;
    sum += AmountOf(e);
    w->Put(key, std::to_string(count) + "," + std::to_string(sum));
    w->Put("pos/" + std::to_string(1'000'000 + e.position), std::to_string(AmountOf(e)));
    return Status::OK();
  }
};

// The same sums under another layout: rows "total/<stream>" instead of "sum/<stream>".
class TotalProjector final : public Projector {
 public:
  Status Apply(const RecordedEvent& e, ProjectionWriter* w) override {
    const std::string key = "total/" + e.event()->stream_id()->str();
    std::string value;
    bool found = false;
    Status s = w->Get(key, &value, &found);
    if (!s.ok()) return s;
    const long long total = (found ? std::stoll(value) : 0) + AmountOf(e);
    w->Put(key, std::to_string(total));
    return Status::OK();
  }
  uint64_t layout_version() const override { return 2; }
};

std::unique_ptr<EventStore> Open(const std::string& path, Projector* projector) {
  StoreOptions options;
  options.sync = false;
  options.projector = projector;
  std::unique_ptr<EventStore> store;
  Status s = EventStore::Open(path, options, &store);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return store;
}

void AppendSome(EventStore& store, int from, int to) {
  for (int i = from; i < to; ++i) {
    AppendResult r;
    Status s = store.Append(OneEventBatch("s/" + std::to_string(i % 7), "k" + std::to_string(i),
                                          ExpectedVersion::Any(), i),
                            &r);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
}

// A new ledger at path with the events of AppendSome(0, n), closed; returns its projection rows.
std::map<std::string, std::string> LedgerOf(const std::string& path, Projector* projector,
                                            int n) {
  auto store = Open(path, projector);
  AppendSome(*store, 0, n);
  return ProjectionRows(*store);
}

}  // namespace

TEST_CASE("projections are written with their events and rebuild byte-identically") {
  TempDir dir;
  SumProjector projector;
  auto store = Open(dir.path(), &projector);
  AppendSome(*store, 0, 500);
  CHECK(store->projection_position() == 500);
  auto view = store->NewReadView();
  CHECK(view->position() == 500);
  std::string value;
  bool found = false;
  REQUIRE(view->Get("sum/s/3", &value, &found).ok());
  REQUIRE(found);
  long long sum = 0, count = 0;
  for (int i = 3; i < 500; i += 7, ++count) sum += i;
  CHECK(value == std::to_string(count) + "," + std::to_string(sum));

  const auto live = ProjectionRows(*store);
  CHECK(live.size() == 7 + 500);
  uint64_t calls = 0;
  Status s = store->RebuildProjections([&](uint64_t done, uint64_t total) {
    CHECK(done <= total);
    ++calls;
    return true;
  });
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(calls >= 1);
  CHECK(ProjectionRows(*store) == live);
  CHECK(store->projection_position() == 500);
  // Live updates continue in the new generation.
  AppendSome(*store, 500, 510);
  CHECK(ProjectionRows(*store).size() == 7 + 510);
}

TEST_CASE("a rebuild compacts the projections: the old generation is gone from the files") {
  TempDir dir;
  SumProjector projector;
  {
    auto store = Open(dir.path(), &projector);
    AppendSome(*store, 0, 300);
    REQUIRE(store->RebuildProjections(nullptr).ok());
    CHECK(ProjectionRows(*store).size() == 7 + 300);
  }
  // Read the files as RocksDB holds them, range deletions ignored: rows of the old generation
  // (byte 0) would still be there under the rebuild's DeleteRange without the compaction.
  rocksdb::DBOptions options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  LedgerRocksOptions(8 << 20, false, &options, &families);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(options, dir.path(), families, &handles, &raw).ok());
  rocksdb::ReadOptions ro;
  ro.ignore_range_deletions = true;
  std::map<int, int> rows_by_generation;
  {
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(ro, handles[6]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      rows_by_generation[static_cast<uint8_t>(it->key()[0])]++;
    }
    CHECK(it->status().ok());
  }
  std::string level0;
  CHECK(raw->GetProperty(handles[6], "rocksdb.num-files-at-level0", &level0));
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
  CHECK(rows_by_generation.size() == 1);
  CHECK(rows_by_generation[1] == 7 + 300);
  CHECK(level0 == "0");
}

TEST_CASE("an interrupted rebuild leaves the old projections readable and resumes") {
  TempDir dir;
  SumProjector projector;
  auto store = Open(dir.path(), &projector);
  AppendSome(*store, 0, 40'000);
  const auto live = ProjectionRows(*store);
  // Stop after the first batch of events.
  Status s = store->RebuildProjections(
      [](uint64_t done, uint64_t) { return done < kFoldBatchEvents; });
  CHECK(s.code() == Code::interrupted);
  bool interrupted = false;
  uint64_t position = 0;
  REQUIRE(store->InterruptedRebuild(&interrupted, &position).ok());
  CHECK(interrupted);
  CHECK(position == kFoldBatchEvents);
  // Readers still see the complete old generation.
  CHECK(ProjectionRows(*store) == live);
  // Appends go on meanwhile (into the active generation).
  AppendSome(*store, 40'000, 40'005);
  const auto live2 = ProjectionRows(*store);
  // A reopen, then the next rebuild resumes and finishes.
  store.reset();
  store = Open(dir.path(), &projector);
  REQUIRE(store->InterruptedRebuild(&interrupted, &position).ok());
  CHECK(interrupted);
  CHECK(position == kFoldBatchEvents);  // a clean close flushed it
  uint64_t first_done = 0;
  s = store->RebuildProjections([&](uint64_t done, uint64_t) {
    if (first_done == 0) first_done = done;
    return true;
  });
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  // It resumed after the batch folded before the interruption instead of restarting.
  CHECK(first_done == 2 * kFoldBatchEvents);
  CHECK(ProjectionRows(*store) == live2);
  REQUIRE(store->InterruptedRebuild(&interrupted, &position).ok());
  CHECK(!interrupted);
  CHECK(position == 0);
}

TEST_CASE("events appended without a projector are folded in on the next open") {
  TempDir dir;
  SumProjector projector;
  {
    auto store = Open(dir.path(), &projector);
    AppendSome(*store, 0, 100);
  }
  {
    auto plain = Open(dir.path(), nullptr);
    AppendSome(*plain, 100, 300);
  }
  auto store = Open(dir.path(), &projector);
  CHECK(store->projection_position() == 300);
  const auto caught_up = ProjectionRows(*store);
  REQUIRE(store->RebuildProjections(nullptr).ok());
  CHECK(ProjectionRows(*store) == caught_up);
}

TEST_CASE("a read view is a snapshot: later appends do not show in it") {
  TempDir dir;
  SumProjector projector;
  auto store = Open(dir.path(), &projector);
  AppendSome(*store, 0, 10);
  auto view = store->NewReadView();
  AppendSome(*store, 10, 20);
  CHECK(view->position() == 10);
  int rows = 0;
  REQUIRE(view->Scan("pos/", [&](std::string_view, std::string_view) {
                ++rows;
                return true;
              }).ok());
  CHECK(rows == 10);
  CHECK(store->NewReadView()->position() == 20);
}

// Deletes the meta record key, as a store written before the record existed lacks it.
void DeleteMeta(const std::string& path, std::string_view key) {
  rocksdb::DBOptions options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  LedgerRocksOptions(8 << 20, false, &options, &families);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::Open(options, path, families, &handles, &raw).ok());
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  for (auto* h : handles) {
    if (h->GetName() == keys::kMetaFamily) meta = h;
  }
  REQUIRE(meta != nullptr);
  std::string value;
  CHECK(raw->Get(rocksdb::ReadOptions(), meta, key, &value).ok());  // it was there
  REQUIRE(raw->Delete(rocksdb::WriteOptions(), meta, key).ok());
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
}

TEST_CASE("projections of another layout are rebuilt by a writer and refused to a reader") {
  TempDir dir;
  SumProjector sums;    // layout 1
  TotalProjector totals;  // layout 2
  {
    auto store = Open(dir.path(), &sums);
    AppendSome(*store, 0, 100);
  }
  // A store from before the layout record holds layout 1: opened by a layout-1 projector, its
  // projections are kept and the record written.
  DeleteMeta(dir.path(), keys::kProjectionLayoutKey);
  {
    auto store = Open(dir.path(), &sums);
    CHECK(ProjectionRows(*store).size() == 7 + 100);
  }
  // A reader of layout 2 gets a named error, and the store is left as it was.
  {
    StoreOptions options;
    options.read_only = true;
    options.projector = &totals;
    std::unique_ptr<EventStore> store;
    Status s = EventStore::Open(dir.path(), options, &store);
    CHECK(s.code() == Code::projections_outdated);
    CHECK(s.ToString().find("layout 1") != std::string::npos);
  }
  {
    auto store = Open(dir.path(), &sums);
    CHECK(ProjectionRows(*store).size() == 7 + 100);
  }
  // A writer of layout 2 rebuilds them: only its rows, at the head, the same as a rebuild.
  std::map<std::string, std::string> rebuilt;
  {
    auto store = Open(dir.path(), &totals);
    rebuilt = ProjectionRows(*store);
    CHECK(store->projection_position() == 100);
    CHECK(rebuilt.size() == 7);
    for (const auto& [key, value] : rebuilt) CHECK(key.starts_with("total/"));
    long long sum = 0;
    for (int i = 3; i < 100; i += 7) sum += i;
    CHECK(rebuilt.at("total/s/3") == std::to_string(sum));
    AppendSome(*store, 100, 110);
  }
  // And from then on it is layout 2: a reader of layout 2 opens, one of layout 1 is refused.
  {
    StoreOptions options;
    options.read_only = true;
    options.projector = &totals;
    std::unique_ptr<EventStore> store;
    REQUIRE(EventStore::Open(dir.path(), options, &store).ok());
    CHECK(store->projection_position() == 110);
    options.projector = &sums;
    CHECK(EventStore::Open(dir.path(), options, &store).code() == Code::projections_outdated);
  }
}

TEST_CASE("a ledger whose projections were never built takes the layout of its first projector") {
  TempDir dir;
  SumProjector sums;    // layout 1
  TotalProjector totals;  // layout 2
  { auto store = Open(dir.path(), &sums); }  // records layout 1, builds nothing
  {
    auto store = Open(dir.path(), &totals);
    AppendSome(*store, 0, 20);
  }
  StoreOptions options;
  options.read_only = true;
  options.projector = &totals;
  std::unique_ptr<EventStore> store;
  Status s = EventStore::Open(dir.path(), options, &store);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(ProjectionRows(*store).size() == 7);
}

TEST_CASE("a rebuild over a damaged event stops with corruption at its position, and queries keep "
          "the projections in use") {
  TempDir dir;
  SumProjector projector;
  // Several of the log reader's batches (kVerifyBatchEvents), the damage in a later one.
  const auto live = LedgerOf(dir.path(), &projector, static_cast<int>(3 * kVerifyBatchEvents));
  const uint64_t damaged = 2 * kVerifyBatchEvents + 100;
  TamperEventValue(dir.path(), damaged,
                   [](std::string* v, const Hash256&) { (*v)[v->size() / 2] ^= 0x01; });
  auto store = Open(dir.path(), &projector);
  Status s = store->RebuildProjections(nullptr);
  CHECK(s.code() == Code::corruption);
  CHECK_MESSAGE(s.message().find(fmt::format("position {}", damaged)) != std::string::npos,
                s.ToString());
  CHECK(store->projection_position() == 3 * kVerifyBatchEvents);
  CHECK(ProjectionRows(*store) == live);
}

TEST_CASE("a malformed rebuild progress record: named in words, and the next rebuild starts "
          "over") {
  TempDir dir;
  SumProjector projector;
  const auto live = LedgerOf(dir.path(), &projector, 10);
  // The active generation is 0 here (no rebuild yet): the next one's record is keyed "\x01".
  EditBehindTheStoresBack(dir.path(), keys::kProjectionsFamily,
                          [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* projections) {
    REQUIRE(db->Put(rocksdb::WriteOptions(), projections, keys::RebuildProgressKey(1), "x").ok());
  });
  auto store = Open(dir.path(), &projector);
  bool interrupted = true;
  uint64_t position = 1;
  Status s = store->InterruptedRebuild(&interrupted, &position);
  CHECK(s.code() == Code::corruption);
  CHECK_MESSAGE(s.message() == "the rebuild progress (generation 1) record is malformed",
                s.ToString());
  CHECK(!interrupted);
  // The rebuild repairs derived data; a damaged record of its own must not block it.
  s = store->RebuildProjections(nullptr);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(ProjectionRows(*store) == live);
  REQUIRE(store->InterruptedRebuild(&interrupted, &position).ok());
  CHECK(!interrupted);
}
