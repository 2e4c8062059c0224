// Unit tests of the event store: each named error writes nothing; idempotency; dense positions
// and versions; the hash chain; verifying reads; the single-writer lock; group commit.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/transaction_log.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "ledger/constants.h"
#include "ledger/keys.h"
#include "ledger/rocks_options.h"
#include "tests/test_util.h"

using namespace shebao;
using namespace shebao::ledger;
using shebao::testing::AmountOf;
using shebao::testing::EditBehindTheStoresBack;
using shebao::testing::OneEventBatch;
using shebao::testing::PremiumEvent;
using shebao::testing::TamperEventValue;
using shebao::testing::TempDir;

namespace {

std::unique_ptr<EventStore> OpenStore(const std::string& path, Clock* clock = nullptr) {
  StoreOptions options;
  options.clock = clock;
  std::unique_ptr<EventStore> store;
  Status s = EventStore::Open(path, options, &store);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return store;
}

// Appends and requires success.
AppendResult MustAppend(EventStore& store, const AppendBatch& batch) {
  AppendResult result;
  Status s = store.Append(batch, &result);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return result;
}

// Checks that a rejected append left the store exactly as it was.
void CheckRejected(EventStore& store, const AppendBatch& batch, Code expected) {
  const Head before = store.head();
  AppendResult result;
  Status s = store.Append(batch, &result);
  CHECK_MESSAGE(s.code() == expected, "got ", s.ToString());
  const Head after = store.head();
  CHECK(after.position == before.position);
  CHECK(after.hash == before.hash);
  uint64_t checked = 0;
  Status v = store.VerifyChain(&checked);
  CHECK_MESSAGE(v.ok(), v.ToString());
  CHECK(checked == before.position);
}

}  // namespace

TEST_CASE("append assigns dense positions and stream versions, and chains hashes") {
  TempDir dir;
  ManualClock clock(1'760'000'000'000'000, 10);
  auto store = OpenStore(dir.path(), &clock);
  CHECK(store->head().position == 0);

  auto r1 = MustAppend(*store, OneEventBatch("case/a", "k1", ExpectedVersion::NoStream(), 100));
  CHECK(r1.first_position == 1);
  CHECK(r1.last_position == 1);
  CHECK_FALSE(r1.duplicate);

  AppendBatch two;
  two.idempotency_key = "k2";
  two.expectations = {{"case/a", ExpectedVersion::Exactly(1)}, {"case/b", ExpectedVersion::Any()}};
  two.events = {PremiumEvent("case/a", "k2", 200), PremiumEvent("case/b", "k2", 300),
                PremiumEvent("case/a", "k2", 400)};
  auto r2 = MustAppend(*store, two);
  CHECK(r2.first_position == 2);
  CHECK(r2.last_position == 4);

  std::vector<RecordedEvent> all;
  REQUIRE(store->ReadAll(1, 100, &all).ok());
  REQUIRE(all.size() == 4);
  Hash256 previous{};
  int64_t last_us = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const fb::Event* e = all[i].event();
    CHECK(e->position() == i + 1);
    CHECK(all[i].position == i + 1);
    CHECK(all[i].hash == ChainHash(previous, all[i].bytes));
    CHECK(e->recorded_us() >= last_us);
    CHECK(e->schema_version() == kSchemaVersion);
    previous = all[i].hash;
    last_us = e->recorded_us();
  }
  CHECK(store->head().hash == all.back().hash);
  CHECK(all[0].event()->stream_version() == 1);
  CHECK(all[1].event()->stream_version() == 2);  // case/a
  CHECK(all[2].event()->stream_version() == 1);  // case/b
  CHECK(all[3].event()->stream_version() == 3);  // case/a
  CHECK(AmountOf(all[3]) == 400);

  uint64_t version = 0;
  REQUIRE(store->StreamVersion("case/a", &version).ok());
  CHECK(version == 3);
  REQUIRE(store->StreamVersion("case/none", &version).ok());
  CHECK(version == 0);
}

TEST_CASE("a stream-version cache over its limit is refused at open") {
  TempDir dir;
  StoreOptions options;
  options.stream_version_cache_entries = kStreamVersionCacheEntriesMax + 1;
  std::unique_ptr<EventStore> store;
  Status s = EventStore::Open(dir.path(), options, &store);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(s.message().find("stream_version_cache_entries") != std::string::npos);
  CHECK(store == nullptr);
}

TEST_CASE("recorded time never decreases even if the clock goes back") {
  TempDir dir;
  ManualClock clock(2'000'000, 0);
  auto store = OpenStore(dir.path(), &clock);
  MustAppend(*store, OneEventBatch("s/1", "k1", ExpectedVersion::Any(), 1));
  clock.Set(1'000'000);  // the clock steps back
  MustAppend(*store, OneEventBatch("s/1", "k2", ExpectedVersion::Any(), 2));
  std::vector<RecordedEvent> all;
  REQUIRE(store->ReadAll(1, 10, &all).ok());
  REQUIRE(all.size() == 2);
  CHECK(all[0].event()->recorded_us() == 2'000'000);
  CHECK(all[1].event()->recorded_us() == 2'000'000);
}

TEST_CASE("each named append error writes nothing") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  MustAppend(*store, OneEventBatch("case/a", "seed", ExpectedVersion::NoStream(), 1));

  SUBCASE("version_conflict: exact version") {
    CheckRejected(*store, OneEventBatch("case/a", "x", ExpectedVersion::Exactly(5), 1),
                  Code::version_conflict);
  }
  SUBCASE("version_conflict: stream expected to be new") {
    CheckRejected(*store, OneEventBatch("case/a", "x", ExpectedVersion::NoStream(), 1),
                  Code::version_conflict);
  }
  SUBCASE("stream_not_found: unknown stream expected to exist") {
    CheckRejected(*store, OneEventBatch("case/zz", "x", ExpectedVersion::Exists(), 1),
                  Code::stream_not_found);
  }
  SUBCASE("one conflicting stream rejects the whole multi-stream batch") {
    AppendBatch b;
    b.idempotency_key = "x";
    b.expectations = {{"case/new", ExpectedVersion::NoStream()},
                      {"case/a", ExpectedVersion::Exactly(9)}};
    b.events = {PremiumEvent("case/new", "x", 1), PremiumEvent("case/a", "x", 2)};
    CheckRejected(*store, b, Code::version_conflict);
    uint64_t version = 99;
    REQUIRE(store->StreamVersion("case/new", &version).ok());
    CHECK(version == 0);
  }
  SUBCASE("batch_empty") {
    AppendBatch b;
    b.idempotency_key = "x";
    CheckRejected(*store, b, Code::batch_empty);
  }
  SUBCASE("batch_too_large: too many events") {
    AppendBatch b;
    b.idempotency_key = "x";
    b.expectations = {{"s/big", ExpectedVersion::Any()}};
    std::string e = PremiumEvent("s/big", "x", 1);
    b.events.assign(kBatchEventsMax + 1, e);
    CheckRejected(*store, b, Code::batch_too_large);
  }
  SUBCASE("event_too_large") {
    AppendBatch b = OneEventBatch("s/big", "x", ExpectedVersion::Any(), 1);
    b.events[0].append(kEventBytesMax, '\0');
    CheckRejected(*store, b, Code::event_too_large);
  }
  SUBCASE("event_undecodable: garbage bytes") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    b.events[0] = std::string(64, '\x7f');
    CheckRejected(*store, b, Code::event_undecodable);
  }
  SUBCASE("event_undecodable: one byte flipped in the identifier") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    b.events[0][4] = 'Z';
    CheckRejected(*store, b, Code::event_undecodable);
  }
  SUBCASE("envelope_invalid: event carries another idempotency key") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    b.events[0] = PremiumEvent("s/x", "other-key", 1);
    CheckRejected(*store, b, Code::envelope_invalid);
  }
  SUBCASE("envelope_invalid: store-assigned fields absent") {
    flatbuffers::FlatBufferBuilder fbb;
    auto payload = fb::CreateApplicationWithdrawnDirect(fbb, "case/a", "moved away");
    auto sid = fbb.CreateString("s/x");
    auto key = fbb.CreateString("x");
    fb::EventBuilder eb(fbb);  // no ForceDefaults: position etc. are absent
    eb.add_schema_version(kSchemaVersion);
    eb.add_stream_id(sid);
    eb.add_idempotency_key(key);
    eb.add_payload_type(fb::Payload::ApplicationWithdrawn);
    eb.add_payload(payload.Union());
    fb::FinishEventBuffer(fbb, eb.Finish());
    AppendBatch b;
    b.idempotency_key = "x";
    b.expectations = {{"s/x", ExpectedVersion::Any()}};
    b.events = {std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize())};
    CheckRejected(*store, b, Code::envelope_invalid);
  }
  SUBCASE("stream_id_invalid: control character") {
    CheckRejected(*store, OneEventBatch("case\t1", "x", ExpectedVersion::Any(), 1),
                  Code::stream_id_invalid);
  }
  SUBCASE("stream_id_invalid: too long") {
    std::string id(kStreamIdBytesMax + 1, 's');
    CheckRejected(*store, OneEventBatch(id, "x", ExpectedVersion::Any(), 1),
                  Code::stream_id_invalid);
  }
  SUBCASE("idempotency_key_invalid: empty") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    b.idempotency_key.clear();
    CheckRejected(*store, b, Code::idempotency_key_invalid);
  }
  SUBCASE("expectation_missing") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    b.expectations.clear();
    CheckRejected(*store, b, Code::expectation_missing);
  }
  SUBCASE("expectation_unused") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    b.expectations.push_back({"s/other", ExpectedVersion::Any()});
    CheckRejected(*store, b, Code::expectation_unused);
  }
  SUBCASE("claim_invalid: repeated claim") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    b.claims = {"bank_ref/2026/A1", "bank_ref/2026/A1"};
    CheckRejected(*store, b, Code::claim_invalid);
  }
  SUBCASE("invalid_argument: a stream with two expected versions") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    b.expectations.push_back({"s/x", ExpectedVersion::NoStream()});
    CheckRejected(*store, b, Code::invalid_argument);
  }
  // Batches over more streams than ValidateBatchShape compares pairwise (16): the same
  // refusals from its hashed checks, the one odd stream last.
  auto many_streams = [](int n) {
    AppendBatch b;
    b.idempotency_key = "many";
    for (int i = 0; i < n; ++i) {
      const std::string stream = fmt::format("s/{}", i);
      b.expectations.push_back({stream, ExpectedVersion::Any()});
      b.events.push_back(PremiumEvent(stream, "many", i + 1));
    }
    return b;
  };
  SUBCASE("20 streams: accepted") {
    MustAppend(*store, many_streams(20));
    CHECK(store->head().position == 21);  // after the seed event
  }
  SUBCASE("20 streams: expectation_missing") {
    AppendBatch b = many_streams(20);
    b.expectations.pop_back();
    CheckRejected(*store, b, Code::expectation_missing);
  }
  SUBCASE("20 streams: expectation_unused") {
    AppendBatch b = many_streams(20);
    b.expectations.push_back({"s/other", ExpectedVersion::Any()});
    CheckRejected(*store, b, Code::expectation_unused);
  }
  SUBCASE("20 streams: invalid_argument, a stream with two expected versions") {
    AppendBatch b = many_streams(20);
    b.expectations.push_back({"s/3", ExpectedVersion::Any()});
    CheckRejected(*store, b, Code::invalid_argument);
  }
  SUBCASE("16 claims: claim_invalid, the last repeats the first") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    for (int i = 0; i < 15; ++i) b.claims.push_back(fmt::format("bank_ref/2026/A{}", i));
    b.claims.push_back("bank_ref/2026/A0");
    CheckRejected(*store, b, Code::claim_invalid);
  }
  SUBCASE("claim_invalid: space inside") {
    AppendBatch b = OneEventBatch("s/x", "x", ExpectedVersion::Any(), 1);
    b.claims = {"bank ref"};
    CheckRejected(*store, b, Code::claim_invalid);
  }
  SUBCASE("idempotency_conflict: same key, different content") {
    CheckRejected(*store, OneEventBatch("case/a", "seed", ExpectedVersion::Any(), 2),
                  Code::idempotency_conflict);
  }
}

TEST_CASE("a repeated batch returns the original positions and writes nothing") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  auto batch = OneEventBatch("case/a", "k1", ExpectedVersion::NoStream(), 100);
  auto first = MustAppend(*store, batch);
  MustAppend(*store, OneEventBatch("case/b", "k2", ExpectedVersion::NoStream(), 200));
  const Head before = store->head();
  // The retry's expected version is stale now; idempotency is checked first.
  auto again = MustAppend(*store, batch);
  CHECK(again.duplicate);
  CHECK(again.first_position == first.first_position);
  CHECK(again.last_position == first.last_position);
  CHECK(store->head().position == before.position);
  CHECK(store->head().hash == before.hash);

  // Survives a reopen.
  store.reset();
  store = OpenStore(dir.path());
  auto third = MustAppend(*store, batch);
  CHECK(third.duplicate);
  CHECK(third.first_position == 1);
  CHECK(store->head().position == 2);
}

TEST_CASE("idempotency lookups of many keys answer as one lookup per key does") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  MustAppend(*store, OneEventBatch("case/a", "k1", ExpectedVersion::NoStream(), 100));
  MustAppend(*store, OneEventBatch("case/b", "k2", ExpectedVersion::NoStream(), 200));
  MustAppend(*store, OneEventBatch("case/a", "k3", ExpectedVersion::Exactly(1), 300));
  // Keys in the memtable, then (after a reopen and a flush) in a table file; keys absent,
  // repeated, unsorted.
  for (int round = 0; round < 2; ++round) {
    const std::vector<std::string_view> keys = {"k3", "absent", "k1", "k3", "", "k2", "k0"};
    std::vector<IdempotencyLookup> many;
    REQUIRE(store->LookupIdempotencyMany(keys, &many).ok());
    REQUIRE(many.size() == keys.size());
    int found = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      INFO("key ", keys[i]);
      bool one_found = false;
      IdempotencyInfo one;
      REQUIRE(store->LookupIdempotency(keys[i], &one_found, &one).ok());
      CHECK(many[i].found == one_found);
      if (one_found) {
        ++found;
        CHECK(many[i].info.first_position == one.first_position);
        CHECK(many[i].info.last_position == one.last_position);
        CHECK(many[i].info.content_digest == one.content_digest);
      }
    }
    CHECK(found == 4);
    CHECK(many[0].info.first_position == 3);
    CHECK(many[2].info.first_position == 1);
    std::vector<IdempotencyLookup> none = {IdempotencyLookup{true, {}}};
    REQUIRE(store->LookupIdempotencyMany({}, &none).ok());
    CHECK(none.empty());
    store.reset();
    store = OpenStore(dir.path());
  }
}

TEST_CASE("stream reads go forward and backward from a version with a limit") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  for (int i = 1; i <= 10; ++i) {
    MustAppend(*store, OneEventBatch("case/a", "a" + std::to_string(i),
                                     ExpectedVersion::Exactly(static_cast<uint64_t>(i - 1)), i));
    MustAppend(*store, OneEventBatch("case/b", "b" + std::to_string(i), ExpectedVersion::Any(),
                                     100 + i));
  }
  std::vector<RecordedEvent> v;
  REQUIRE(store->ReadStream("case/a", 3, Direction::forward, 4, &v).ok());
  REQUIRE(v.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(v[i].event()->stream_version() == 3 + i);
    CHECK(AmountOf(v[i]) == static_cast<int64_t>(3 + i));
  }
  v.clear();
  REQUIRE(store->ReadStream("case/a", 0, Direction::backward, 3, &v).ok());
  REQUIRE(v.size() == 3);
  CHECK(v[0].event()->stream_version() == 10);
  CHECK(v[2].event()->stream_version() == 8);
  v.clear();
  REQUIRE(store->ReadStream("case/a", 2, Direction::backward, 100, &v).ok());
  REQUIRE(v.size() == 2);
  CHECK(v[1].event()->stream_version() == 1);
  v.clear();
  REQUIRE(store->ReadStream("case/a", 11, Direction::forward, 5, &v).ok());
  CHECK(v.empty());
  REQUIRE(store->ReadStream("case/none", 1, Direction::forward, 5, &v).ok());
  CHECK(v.empty());
  CHECK(store->ReadStream("case/a", 1, Direction::forward, 0, &v).code() == Code::limit_invalid);

  v.clear();
  REQUIRE(store->ReadAll(7, 5, &v).ok());
  REQUIRE(v.size() == 5);
  CHECK(v.front().position == 7);
  CHECK(v.back().position == 11);
  v.clear();
  REQUIRE(store->ReadAll(19, 100, &v).ok());
  CHECK(v.size() == 2);

  auto cursor = store->NewCursor(15);
  uint64_t expected = 15;
  for (; cursor->Valid(); cursor->Next()) CHECK(cursor->event().position == expected++);
  CHECK(cursor->status().ok());
  CHECK(expected == 21);
}

TEST_CASE("a malformed idempotency record is corruption naming its key, for that batch alone") {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    MustAppend(*store, OneEventBatch("case/a", "k1", ExpectedVersion::NoStream(), 100));
  }
  EditBehindTheStoresBack(dir.path(), keys::kIdempotencyFamily,
                          [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* idempotency) {
    REQUIRE(db->Put(rocksdb::WriteOptions(), idempotency, "k1", "short").ok());
  });
  auto store = OpenStore(dir.path());
  const auto names_k1 = [](const Status& s) {
    return s.code() == Code::corruption && s.message().find("key k1") != std::string::npos;
  };
  bool found = true;
  IdempotencyInfo info;
  Status s = store->LookupIdempotency("k1", &found, &info);
  CHECK_MESSAGE(names_k1(s), s.ToString());
  CHECK(!found);
  std::vector<IdempotencyLookup> many;
  s = store->LookupIdempotencyMany({"k0", "k1"}, &many);
  CHECK_MESSAGE(names_k1(s), s.ToString());
  // In one group: the retry of k1 fails, the new k2 is appended.
  std::vector<AppendBatch> batches = {
      OneEventBatch("case/a", "k1", ExpectedVersion::NoStream(), 100),
      OneEventBatch("case/b", "k2", ExpectedVersion::NoStream(), 200)};
  std::vector<AppendResult> results;
  std::vector<Status> statuses;
  REQUIRE(store->AppendMany(batches, &results, &statuses).ok());
  CHECK_MESSAGE(names_k1(statuses[0]), statuses[0].ToString());
  CHECK(statuses[1].ok());
  CHECK(results[1].first_position == 2);
  CHECK(store->head().position == 2);
}

TEST_CASE("reads verify the FlatBuffer and the hash link and name the corrupt position") {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    for (int i = 1; i <= 6; ++i) {
      MustAppend(*store, OneEventBatch("case/a", "k" + std::to_string(i), ExpectedVersion::Any(),
                                       i));
    }
  }
  SUBCASE("a flipped byte in an event's bytes") {
    TamperEventValue(dir.path(), 4,
                     [](std::string* v, const Hash256&) { (*v)[v->size() / 2] ^= 0x01; });
  }
  SUBCASE("an amount re-encoded with its own hash recomputed (breaks the next link)") {
    TamperEventValue(dir.path(), 3, [](std::string* v, const Hash256& previous) {
      std::string bytes = v->substr(0, v->size() - kHashBytes);
      auto* e = fb::GetMutableEvent(bytes.data());
      auto* p = static_cast<fb::PremiumCollected*>(e->mutable_payload());
      REQUIRE(p->mutate_amount_fen(999'999));
      const Hash256 h = ChainHash(previous, bytes);
      *v = bytes + std::string(reinterpret_cast<const char*>(h.data()), h.size());
    });
  }
  auto store = OpenStore(dir.path());
  std::vector<RecordedEvent> v;
  Status s = store->ReadAll(1, 100, &v);
  CHECK(s.code() == Code::corruption);
  CHECK_MESSAGE(s.message().find("position ") != std::string::npos, s.ToString());
  uint64_t checked = 0;
  s = store->VerifyChain(&checked);
  CHECK(s.code() == Code::corruption);
  CHECK(checked < 6);
  v.clear();
  CHECK(store->ReadStream("case/a", 1, Direction::forward, 10, &v).code() == Code::corruption);
}

TEST_CASE("a deleted event is corruption, not a shorter log") {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    for (int i = 1; i <= 5; ++i) {
      MustAppend(*store, OneEventBatch("case/a", "k" + std::to_string(i), ExpectedVersion::Any(),
                                       i));
    }
  }
  SUBCASE("in the middle") {
    TamperEventValue(dir.path(), 3, [](std::string* v, const Hash256&) { v->clear(); });
    auto store = OpenStore(dir.path());
    uint64_t checked = 0;
    Status s = store->VerifyChain(&checked);
    CHECK(s.code() == Code::corruption);
    CHECK_MESSAGE(s.message().find("position 3") != std::string::npos, s.ToString());
  }
  SUBCASE("the last one: the head no longer matches, open refuses") {
    TamperEventValue(dir.path(), 5, [](std::string* v, const Hash256&) { v->clear(); });
    std::unique_ptr<EventStore> store;
    Status s = EventStore::Open(dir.path(), StoreOptions(), &store);
    CHECK(s.code() == Code::corruption);
  }
}

TEST_CASE("stored record batches: the same records as the cursor, aligned, each verifiable") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  for (int i = 1; i <= 23; ++i) {
    // Event sizes vary so that records land at unaligned arena offsets unless padded.
    AppendBatch b = OneEventBatch(i % 2 ? "case/a" : "case/bb-" + std::string(i, 'x'),
                                  "k" + std::to_string(i), ExpectedVersion::Any(), i);
    MustAppend(*store, b);
  }
  for (uint64_t from : {1, 2, 9, 23, 24}) {
    CAPTURE(from);
    std::vector<RecordedEvent> expected;
    if (from <= 23) REQUIRE(store->ReadAll(from, 100, &expected).ok());
    auto reader = store->NewStoredRecordReader(from, UINT64_MAX);
    REQUIRE(reader != nullptr);
    StoredRecordBatch batch;
    size_t n = 0;
    while (reader->ReadBatch(5, &batch)) {
      REQUIRE(batch.size() >= 1);
      REQUIRE(batch.size() <= 5);
      CHECK(batch.first_position == from + n);
      for (size_t i = 0; i < batch.size(); ++i, ++n) {
        REQUIRE(n < expected.size());
        const std::string_view record = batch.record(i);
        CHECK(reinterpret_cast<uintptr_t>(record.data()) % StoredRecordBatch::kRecordAlignment == 0);
        const Hash256 previous = batch.PreviousHash(i);
        if (n == 0) {
          // The first record chains from the stored hash of the one before the reader's start.
          const Hash256 before = from == 1 ? Hash256{} : [&] {
            std::vector<RecordedEvent> one;
            REQUIRE(store->ReadAll(from - 1, 1, &one).ok());
            return one.front().hash;
          }();
          CHECK(previous == before);
        }
        std::string_view bytes;
        Hash256 hash{};
        Status s = VerifyStoredRecord(batch.first_position + i, previous, record, &bytes, &hash);
        REQUIRE_MESSAGE(s.ok(), s.ToString());
        CHECK(bytes == expected[n].bytes);
        CHECK(hash == expected[n].hash);
      }
    }
    CHECK(reader->status().ok());
    CHECK(n == expected.size());
  }
  {
    // Bounded: positions 5..9 only, as a walk pinned to an earlier head reads.
    auto bounded = store->NewStoredRecordReader(5, 9);
    StoredRecordBatch batch;
    uint64_t next = 5;
    while (bounded->ReadBatch(2, &batch)) {
      CHECK(batch.first_position == next);
      next += batch.size();
    }
    CHECK(bounded->status().ok());
    CHECK(next == 10);
  }
  // A record checked at the wrong position or after the wrong predecessor fails.
  auto reader = store->NewStoredRecordReader(1, UINT64_MAX);
  StoredRecordBatch batch;
  REQUIRE(reader->ReadBatch(3, &batch));
  std::string_view bytes;
  Hash256 hash{};
  CHECK(VerifyStoredRecord(2, batch.PreviousHash(1), batch.record(1), &bytes, &hash).ok());
  Status wrong_previous = VerifyStoredRecord(2, batch.PreviousHash(0), batch.record(1), &bytes, &hash);
  CHECK(wrong_previous.code() == Code::corruption);
  CHECK(wrong_previous.message().find("chain hash") != std::string::npos);
  CHECK(VerifyStoredRecord(2, batch.PreviousHash(0), batch.record(0).substr(0, 40), &bytes, &hash)
            .message().find("too short") != std::string::npos);
  // Longer than any event Append admits: corrupt, whatever its hash says.
  const std::string oversized(kEventBytesMax + kHashBytes + 1, 'x');
  CHECK(VerifyStoredRecord(2, batch.PreviousHash(0), oversized, &bytes, &hash)
            .message().find("too long") != std::string::npos);
}

TEST_CASE("stored record batches: a missing record ends the read with corruption at its position") {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    for (int i = 1; i <= 12; ++i) {
      MustAppend(*store, OneEventBatch("case/a", "k" + std::to_string(i), ExpectedVersion::Any(), i));
    }
  }
  TamperEventValue(dir.path(), 8, [](std::string* v, const Hash256&) { v->clear(); });
  auto store = OpenStore(dir.path());
  auto reader = store->NewStoredRecordReader(1, UINT64_MAX);
  StoredRecordBatch batch;
  uint64_t records = 0;
  while (reader->ReadBatch(5, &batch)) records += batch.size();
  CHECK(records == 7);  // positions 1..7, all before the gap
  CHECK(reader->status().code() == Code::corruption);
  CHECK_MESSAGE(reader->status().message().find("position 8") != std::string::npos,
                reader->status().ToString());
}

TEST_CASE("a second process cannot open a ledger held for writing") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  MustAppend(*store, OneEventBatch("case/a", "k1", ExpectedVersion::Any(), 1));
  // fork+_exit only: the child calls Open (no threads of ours run in it before that).
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::unique_ptr<EventStore> other;
    Status s = EventStore::Open(dir.path(), StoreOptions(), &other);
    _exit(s.code() == Code::ledger_locked ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // In this process too.
  std::unique_ptr<EventStore> again;
  CHECK(EventStore::Open(dir.path(), StoreOptions(), &again).code() == Code::ledger_locked);
}

TEST_CASE("opening a missing ledger without create_if_missing is ledger_not_found") {
  TempDir dir;
  StoreOptions options;
  options.create_if_missing = false;
  std::unique_ptr<EventStore> store;
  CHECK(EventStore::Open(dir.sub("nothing-here"), options, &store).code() ==
        Code::ledger_not_found);
}

TEST_CASE("concurrent appenders: every event lands once, streams stay dense") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string stream = "s/" + std::to_string(t);
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        AppendResult r;
        Status s = store->Append(
            OneEventBatch(stream, key, ExpectedVersion::Exactly(static_cast<uint64_t>(i)), i), &r);
        if (!s.ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(store->head().position == kThreads * kPerThread);
  uint64_t checked = 0;
  Status s = store->VerifyChain(&checked);
  CHECK_MESSAGE(s.ok(), s.ToString());
  CHECK(checked == kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    std::vector<RecordedEvent> v;
    REQUIRE(store->ReadStream("s/" + std::to_string(t), 1, Direction::forward, 1000, &v).ok());
    REQUIRE(v.size() == kPerThread);
    for (int i = 0; i < kPerThread; ++i) CHECK(AmountOf(v[i]) == i);
  }
}

TEST_CASE("status codes have stable names") {
  CHECK(CodeName(Code::version_conflict) == "version_conflict");
  CHECK(CodeName(Code::idempotency_conflict) == "idempotency_conflict");
  CHECK(Status(Code::corruption, "position 3: x").ToString() == "corruption: position 3: x");
  CHECK(Status::OK().ToString() == "ok");
}

TEST_CASE("unique claims: a held claim refuses the batch, a retry is still idempotent") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  AppendBatch first = OneEventBatch("case/a", "k1", ExpectedVersion::Any(), 40'000);
  first.claims = {"bank_ref/2026/ICBC-000731"};
  auto r1 = MustAppend(*store, first);
  uint64_t holder = 0;
  REQUIRE(store->ClaimHolder("bank_ref/2026/ICBC-000731", &holder).ok());
  CHECK(holder == r1.first_position);
  REQUIRE(store->ClaimHolder("bank_ref/2026/other", &holder).ok());
  CHECK(holder == 0);

  AppendBatch second = OneEventBatch("case/b", "k2", ExpectedVersion::Any(), 40'000);
  second.claims = {"bank_ref/2025/ICBC-000731", "bank_ref/2026/ICBC-000731"};
  CheckRejected(*store, second, Code::claim_taken);
  // The claim of the rejected batch that was free is still free.
  REQUIRE(store->ClaimHolder("bank_ref/2025/ICBC-000731", &holder).ok());
  CHECK(holder == 0);

  // Retrying the claiming batch is a duplicate, not claim_taken.
  auto again = MustAppend(*store, first);
  CHECK(again.duplicate);
  // The same key with other claims is different content.
  AppendBatch changed = first;
  changed.claims = {"bank_ref/2026/ICBC-999999"};
  CheckRejected(*store, changed, Code::idempotency_conflict);
}

TEST_CASE("unique claims: of concurrent batches claiming one key exactly one wins") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  constexpr int kThreads = 8;
  std::atomic<int> won{0}, taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      AppendBatch b = OneEventBatch("case/" + std::to_string(t), "k" + std::to_string(t),
                                    ExpectedVersion::Any(), t);
      b.claims = {"bank_ref/2026/SAME"};
      AppendResult r;
      Status s = store->Append(b, &r);
      if (s.ok()) won++;
      if (s.code() == Code::claim_taken) taken++;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(won == 1);
  CHECK(taken == kThreads - 1);
  CHECK(store->head().position == 1);
}

TEST_CASE("AppendMany: each batch succeeds or fails on its own, in order, as one group") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<AppendBatch> batches;
  batches.push_back(OneEventBatch("s/a", "m1", ExpectedVersion::NoStream(), 1));
  batches.push_back(OneEventBatch("s/a", "m2", ExpectedVersion::Exactly(1), 2));   // sees m1
  batches.push_back(OneEventBatch("s/a", "m3", ExpectedVersion::Exactly(1), 3));   // conflict
  AppendBatch bad = OneEventBatch("s/b", "m4", ExpectedVersion::Any(), 4);
  bad.expectations.clear();                                                          // shape
  batches.push_back(bad);
  batches.push_back(OneEventBatch("s/b", "m1", ExpectedVersion::Any(), 5));        // key reused
  AppendBatch claim1 = OneEventBatch("s/c", "m5", ExpectedVersion::Any(), 6);
  claim1.claims = {"bank_ref/2026/X"};
  batches.push_back(claim1);
  AppendBatch claim2 = OneEventBatch("s/d", "m6", ExpectedVersion::Any(), 7);
  claim2.claims = {"bank_ref/2026/X"};
  batches.push_back(claim2);
  batches.push_back(OneEventBatch("s/a", "m1", ExpectedVersion::NoStream(), 1));   // retry of m1

  std::vector<AppendResult> results;
  std::vector<Status> statuses;
  REQUIRE(store->AppendMany(batches, &results, &statuses).ok());
  REQUIRE(statuses.size() == batches.size());
  CHECK(statuses[0].ok());
  CHECK(results[0].first_position == 1);
  CHECK(statuses[1].ok());
  CHECK(results[1].first_position == 2);
  CHECK(statuses[2].code() == Code::version_conflict);
  CHECK(statuses[3].code() == Code::expectation_missing);
  CHECK(statuses[4].code() == Code::idempotency_conflict);
  CHECK(statuses[5].ok());
  CHECK(results[5].first_position == 3);
  CHECK(statuses[6].code() == Code::claim_taken);
  CHECK(statuses[7].ok());
  CHECK(results[7].duplicate);
  CHECK(results[7].first_position == 1);
  CHECK(store->head().position == 3);
  uint64_t checked = 0;
  CHECK(store->VerifyChain(&checked).ok());
  CHECK(checked == 3);
}

TEST_CASE("AppendMany interleaves safely with concurrent Append calls") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::atomic<int> failures{0};
  std::thread other([&] {
    for (int i = 0; i < 200; ++i) {
      AppendResult r;
      if (!store->Append(OneEventBatch("s/other", "o" + std::to_string(i), ExpectedVersion::Any(), i), &r).ok()) {
        failures++;
      }
    }
  });
  for (int round = 0; round < 20; ++round) {
    std::vector<AppendBatch> batches;
    for (int i = 0; i < 10; ++i) {
      batches.push_back(OneEventBatch("s/many", fmt::format("r{}-{}", round, i), ExpectedVersion::Any(), i));
    }
    std::vector<AppendResult> results;
    std::vector<Status> statuses;
    REQUIRE(store->AppendMany(batches, &results, &statuses).ok());
    for (const auto& s : statuses) {
      if (!s.ok()) failures++;
    }
    for (size_t i = 1; i < results.size(); ++i) CHECK(results[i].first_position > results[i - 1].first_position);
  }
  other.join();
  CHECK(failures == 0);
  CHECK(store->head().position == 400);
  uint64_t checked = 0;
  CHECK(store->VerifyChain(&checked).ok());
}

namespace {

// An Event as FinishEvent builds it, but with payload_type set and no payload table: the
// FlatBuffers verifier accepts it (a union's table may be absent), and every reader that then
// takes payload_as_<T>() gets a null pointer. Found by fuzz/event_decode_fuzzer.
std::string EventWithoutPayload(std::string_view stream, std::string_view key, uint64_t position,
                                uint64_t stream_version) {
  flatbuffers::FlatBufferBuilder fbb;
  auto stream_id = fbb.CreateString(stream);
  auto idempotency_key = fbb.CreateString(key);
  fbb.ForceDefaults(true);
  fb::EventBuilder event(fbb);
  event.add_schema_version(kSchemaVersion);
  event.add_position(position);
  event.add_stream_id(stream_id);
  event.add_stream_version(stream_version);
  event.add_recorded_us(0);
  event.add_idempotency_key(idempotency_key);
  event.add_payload_type(fb::Payload::ReviewDecided);
  fb::FinishEventBuffer(fbb, event.Finish());
  std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  flatbuffers::Verifier verifier(fbb.GetBufferPointer(), fbb.GetSize());
  REQUIRE(fb::VerifyEventBuffer(verifier));  // what makes it dangerous
  REQUIRE(fb::GetEvent(bytes.data())->payload() == nullptr);
  return bytes;
}

}  // namespace

TEST_CASE("an event with a payload type but no payload table: refused by Append, corrupt to readers") {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    MustAppend(*store, OneEventBatch("case/a", "k1", ExpectedVersion::Any(), 1));
    AppendBatch batch;
    batch.idempotency_key = "k2";
    batch.expectations = {{"case/a", ExpectedVersion::Any()}};
    batch.events = {EventWithoutPayload("case/a", "k2", 0, 0)};
    CheckRejected(*store, batch, Code::envelope_invalid);
    MustAppend(*store, OneEventBatch("case/a", "k3", ExpectedVersion::Any(), 3));
  }
  // Stored behind the store's back with its own hash recomputed (the last event, so that no
  // later link breaks): the store must report it when it reads it (here, on open, where it
  // reads the head event), not hand it out as a verified event.
  TamperEventValue(dir.path(), 2, [](std::string* v, const Hash256& previous) {
    const std::string bytes = EventWithoutPayload("case/a", "k3", 2, 2);
    const Hash256 h = ChainHash(previous, bytes);
    *v = bytes + std::string(reinterpret_cast<const char*>(h.data()), h.size());
  });
  std::unique_ptr<EventStore> store;
  const Status s = EventStore::Open(dir.path(), StoreOptions(), &store);
  CHECK(s.code() == Code::corruption);
  CHECK_MESSAGE(s.message().find("position 2: the event has no payload") != std::string::npos,
                s.ToString());
}

TEST_CASE("keep_wal_files: the write-ahead log of every append stays in archive/") {
  // city_bench write-replay replays the archive: every acknowledged append must be there.
  auto archived_logs = [](const std::string& path) {
    size_t n = 0;
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(path + "/archive", ec)) {
      n += f.path().extension() == ".log";
    }
    return n;
  };
  for (const bool keep : {false, true}) {
    CAPTURE(keep);
    TempDir dir;
    StoreOptions options;
    options.keep_wal_files = keep;
    {
      std::unique_ptr<EventStore> store;
      REQUIRE(EventStore::Open(dir.path(), options, &store).ok());
      MustAppend(*store, OneEventBatch("case/a", "k1", ExpectedVersion::Any(), 1));
      MustAppend(*store, OneEventBatch("case/a", "k2", ExpectedVersion::Any(), 2));
    }  // the close flushes: the log file is obsolete
    {
      std::unique_ptr<EventStore> store;
      REQUIRE(EventStore::Open(dir.path(), options, &store).ok());
      CHECK(store->head().position == 2);
    }
    CHECK((archived_logs(dir.path()) > 0) == keep);
    if (!keep) continue;
    // The events are in the archived logs: 2 events-family puts, read back batch by batch.
    rocksdb::DBOptions db_options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    LedgerRocksOptions(8 << 20, false, &db_options, &families);
    db_options.WAL_ttl_seconds = kKeptWalFilesTtlSeconds;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(db_options, dir.path(), families, &handles, &raw).ok());
    uint32_t events_id = 0;
    for (size_t i = 0; i < families.size(); ++i) {
      if (families[i].name == keys::kEventsFamily) events_id = handles[i]->GetID();
    }
    struct Count : rocksdb::WriteBatch::Handler {
      uint32_t id = 0;
      uint64_t events = 0;
      rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice&, const rocksdb::Slice&) override {
        events += cf == id;
        return rocksdb::Status::OK();
      }
    } count;
    count.id = events_id;
    std::unique_ptr<rocksdb::TransactionLogIterator> log;
    REQUIRE(raw->GetUpdatesSince(1, &log).ok());
    for (; log->Valid(); log->Next()) REQUIRE(log->GetBatch().writeBatchPtr->Iterate(&count).ok());
    CHECK(log->status().ok());
    CHECK(count.events == 2);
    log.reset();
    for (auto* h : handles) REQUIRE(raw->DestroyColumnFamilyHandle(h).ok());
    delete raw;
  }
}
