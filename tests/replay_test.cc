// The auditor's side (replay/) on a generated city: the verifying walk, the projection replay,
// signed checkpoints and Merkle proofs against the stored log, rights statements, and tamper
// trials: each kind of tampering, at random places (the seed is printed; SHEBAO_SEED
// repeats a run), must be detected.
#include <doctest/doctest.h>

#include <rocksdb/db.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "ledger/domain/calendar.h"
#include "ledger/domain/command.h"
#include "ledger/domain/command_handler.h"
#include "ledger/domain/premium_table.h"
#include "ledger/domain/projector.h"
#include "ledger/domain/queries.h"
#include "ledger/keys.h"
#include "ledger/rocks_options.h"
#include "replay/checkpoint.h"
#include "replay/encoding.h"
#include "replay/ledger_verifier.h"
#include "replay/log_tree.h"
#include "replay/merkle.h"
#include "replay/projection_replay.h"
#include "replay/signing.h"
#include "replay/statement.h"
#include "tests/test_util.h"
#include "tools/city_generator.h"

using namespace shebao;
using ledger::Status;
using shebao::testing::TempDir;

namespace {

uint64_t TestSeed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("SHEBAO_SEED");
    const uint64_t s = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device()();
    fmt::print("replay_test seed: {} (repeat with SHEBAO_SEED={})\n", s, s);
    return s;
  }();
  return seed;
}

struct DomainData {
  domain::WorkingDayCalendar calendar;
  domain::PremiumTable premiums;
  DomainData() {
    REQUIRE(domain::WorkingDayCalendar::Load(SHEBAO_DATA_DIR "/holiday-cn", &calendar).ok());
    REQUIRE(domain::PremiumTable::Load(SHEBAO_DATA_DIR "/premiums.json", &premiums).ok());
  }
};
DomainData& Data() {
  static DomainData data;
  return data;
}

domain::DomainProjector g_projector;

std::unique_ptr<ledger::EventStore> Open(const std::string& path, Status* status = nullptr,
                                         bool projector = true) {
  static ledger::ManualClock clock(1'790'000'000'000'000, 1000);
  ledger::StoreOptions options;
  options.sync = false;
  options.clock = &clock;
  options.projector = projector ? &g_projector : nullptr;
  std::unique_ptr<ledger::EventStore> store;
  Status s = ledger::EventStore::Open(path, options, &store);
  if (status != nullptr) {
    *status = s;
  } else {
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  return store;
}

// Records a city's commands; every one must be accepted. A second city on the same ledger
// skips its employer lines: its employers are the first's, already registered.
void Record(ledger::EventStore* store, const tools::CityOptions& city, bool skip_employers = false) {
  domain::CommandHandler handler(store, &Data().premiums, &Data().calendar, true);
  tools::GenerateCity(city, [&](std::string_view line) {
    if (skip_employers && line.find("\"role\":\"employer\"") != std::string_view::npos) return;
    domain::Command command;
    REQUIRE(domain::ParseCommand(line, &command).ok());
    domain::CommandOutcome out;
    REQUIRE(handler.Execute(command, &out).ok());
    REQUIRE_MESSAGE(out.rejection.ok(), domain::RuleName(out.rejection.rule), " in ", line);
  });
}

replay::PrivateKey& AgencyKey() {
  static replay::PrivateKey key = [] {
    replay::PrivateKey k;
    REQUIRE(replay::PrivateKey::Generate(&k).ok());
    return k;
  }();
  return key;
}

// A city of 60 children recorded once, with a checkpoint at its end; trials work on copies.
struct City {
  TempDir dir{"replay-city"};
  std::string path = dir.sub("ledger");
  uint64_t events = 0;
  replay::Checkpoint checkpoint;
  City() {
    auto store = Open(path);
    tools::CityOptions options;
    options.children = 60;
    options.seed = 11;
    options.employers = 2;
    Record(store.get(), options);
    events = store->head().position;
    ledger::ManualClock clock(1'800'000'000'000'000);
    REQUIRE(replay::CreateCheckpoint(*store, AgencyKey(), clock, &checkpoint).ok());
  }
};
City& TheCity() {
  static City city;
  return city;
}

std::string CopyOf(const std::string& from, const TempDir& dir, int n) {
  const std::string to = dir.sub(fmt::format("copy-{}", n));
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  return to;
}

// Raw RocksDB access to a ledger directory, for tampering with it behind the store's back.
class RawLedger {
 public:
  explicit RawLedger(const std::string& path) {
    rocksdb::DBOptions options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    ledger::LedgerRocksOptions(8 << 20, false, &options, &families);
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(options, path, families, &handles_, &db).ok());
    db_.reset(db);
  }
  ~RawLedger() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    REQUIRE(db_->Close().ok());
  }
  rocksdb::ColumnFamilyHandle* events() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* meta() { return handles_[5]; }
  rocksdb::ColumnFamilyHandle* projections() { return handles_[6]; }

  std::string Get(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string value;
    REQUIRE(db_->Get(rocksdb::ReadOptions(), cf, key, &value).ok());
    return value;
  }
  void Put(rocksdb::ColumnFamilyHandle* cf, const std::string& key, const std::string& value) {
    REQUIRE(db_->Put(rocksdb::WriteOptions(), cf, key, value).ok());
  }
  void Delete(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    REQUIRE(db_->Delete(rocksdb::WriteOptions(), cf, key).ok());
  }
  // The event bytes at position (without the chain hash).
  std::string Event(uint64_t position) {
    std::string v = Get(events(), ledger::keys::EventKey(position));
    return v.substr(0, v.size() - ledger::kHashBytes);
  }
  ledger::Hash256 Chain(uint64_t position) {
    if (position == 0) return ledger::Hash256{};
    std::string v = Get(events(), ledger::keys::EventKey(position));
    ledger::Hash256 h;
    std::memcpy(h.data(), v.data() + v.size() - h.size(), h.size());
    return h;
  }
  // Writes events (bytes, positions already right) from position on, re-chained, and moves the
  // head to the last: what an attacker with the database but not the agency's key can do.
  void Rewrite(uint64_t position, const std::vector<std::string>& events_bytes) {
    ledger::Hash256 chain = Chain(position - 1);
    uint64_t p = position;
    int64_t recorded_us = 0;
    for (const auto& bytes : events_bytes) {
      chain = ledger::ChainHash(chain, bytes);
      std::string value = bytes;
      value.append(reinterpret_cast<const char*>(chain.data()), chain.size());
      Put(events(), ledger::keys::EventKey(p), value);
      recorded_us = fb::GetEvent(bytes.data())->recorded_us();
      ++p;
    }
    Put(meta(), std::string(ledger::keys::kHeadKey),
        ledger::keys::EncodeHead({p - 1, chain, recorded_us}));
  }
  // Removes the Merkle block records (unsigned), as an attacker covering their tracks would.
  void DropMerkleBlocks() {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta()));
    std::vector<std::string> keys;
    for (it->Seek("audit/merkle/"); it->Valid() && it->key().starts_with("audit/merkle/"); it->Next()) {
      keys.push_back(it->key().ToString());
    }
    for (const auto& k : keys) Delete(meta(), k);
  }
  rocksdb::DB* db() { return db_.get(); }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// What `shebao audit verify --key` concludes: the check that failed ("open: ..." when the
// store refuses to open), or "" if the ledger verifies.
std::string Verdict(const std::string& path, bool check_rules = true) {
  Status s;
  auto store = Open(path, &s, /*projector=*/false);
  if (!s.ok()) {
    REQUIRE(s.code() == ledger::Code::corruption);
    return "open: " + s.message();
  }
  replay::PublicKey key = AgencyKey().public_key();
  replay::VerifyOptions options;
  options.premiums = &Data().premiums;
  options.calendar = &Data().calendar;
  options.trusted_key = &key;
  options.check_rules = check_rules;
  replay::VerifyReport report;
  s = replay::VerifyLedger(*store, options, &report);
  if (!s.ok()) return "status: " + s.ToString();
  return report.failure ? report.failure->check + ": " + report.failure->what : "";
}

// Sets the amount of a payment event, in place. False if the event has no amount.
bool SetAmount(std::string* bytes, int64_t delta) {
  auto* e = fb::GetMutableEvent(bytes->data());
  switch (e->payload_type()) {
    case fb::Payload::PremiumCollected: {
      auto* p = const_cast<fb::PremiumCollected*>(e->payload_as_PremiumCollected());
      return p->mutate_amount_fen(p->amount_fen() + delta);
    }
    case fb::Payload::SubsidyRecorded: {
      auto* p = const_cast<fb::SubsidyRecorded*>(e->payload_as_SubsidyRecorded());
      return p->mutate_amount_fen(p->amount_fen() + delta);
    }
    case fb::Payload::CertificateFeePaid: {
      auto* p = const_cast<fb::CertificateFeePaid*>(e->payload_as_CertificateFeePaid());
      return p->mutate_amount_fen(p->amount_fen() + delta);
    }
    case fb::Payload::ContributionPaid: {
      auto* p = const_cast<fb::ContributionPaid*>(e->payload_as_ContributionPaid());
      return p->mutate_amount_fen(p->amount_fen() + delta);
    }
    default:
      return false;
  }
}

constexpr int kTrials = 20;

}  // namespace

TEST_CASE("audit verify: a recorded city passes every check, with its checkpoint signed") {
  City& city = TheCity();
  REQUIRE(city.events > 3000);
  CHECK(Verdict(city.path) == "");

  auto store = Open(city.path);
  replay::PublicKey key = AgencyKey().public_key();
  replay::VerifyOptions options;
  options.premiums = &Data().premiums;
  options.calendar = &Data().calendar;
  options.trusted_key = &key;
  replay::VerifyReport report;
  REQUIRE(replay::VerifyLedger(*store, options, &report).ok());
  CHECK_FALSE(report.failure.has_value());
  CHECK(report.events == city.events);
  CHECK(report.checkpoints == 1);
  CHECK(report.signatures == 1);
  CHECK(report.merkle_blocks == city.events / ledger::kMerkleBlockLeaves);
  CHECK(report.root == city.checkpoint.root);
  CHECK(report.streams > 60);

  // Another key's signature on the same root is refused.
  replay::PrivateKey other;
  REQUIRE(replay::PrivateKey::Generate(&other).ok());
  replay::PublicKey other_public = other.public_key();
  options.trusted_key = &other_public;
  REQUIRE(replay::VerifyLedger(*store, options, &report).ok());
  REQUIRE(report.failure.has_value());
  CHECK(report.failure->check == "checkpoint");
}

TEST_CASE("audit: Merkle proofs against the stored log verify against signed roots") {
  TempDir dir("replay-proofs");
  const std::string path = dir.sub("ledger");
  auto store = Open(path);
  tools::CityOptions first;
  first.children = 25;
  first.seed = 5;
  first.first_year = first.last_year = 2025;
  Record(store.get(), first);
  ledger::ManualClock clock(1'800'000'000'000'000);
  replay::Checkpoint c1, c2;
  REQUIRE(replay::CreateCheckpoint(*store, AgencyKey(), clock, &c1).ok());
  tools::CityOptions second = first;
  second.seed = 6;
  second.first_year = second.last_year = 2026;
  second.first_position = store->head().position + 1;
  Record(store.get(), second, /*skip_employers=*/true);
  REQUIRE(replay::CreateCheckpoint(*store, AgencyKey(), clock, &c2).ok());
  REQUIRE(c2.size > c1.size);

  std::vector<replay::Checkpoint> all;
  REQUIRE(replay::LoadCheckpoints(*store, &all).ok());
  REQUIRE(all.size() == 2);
  CHECK(all[0] == c1);
  CHECK(all[1] == c2);

  // The root a checkpoint signs is the RFC 6962 root of the event bytes, computed from scratch.
  std::vector<replay::Hash256> leaves;
  for (auto cursor = store->NewCursor(1); cursor->Valid(); cursor->Next()) {
    leaves.push_back(replay::LeafHash(cursor->event().bytes));
  }
  CHECK(replay::RootOfLeaves(std::span(leaves).first(c1.size)) == c1.root);
  CHECK(replay::RootOfLeaves(leaves) == c2.root);

  std::mt19937_64 rng(TestSeed());
  replay::LogSubtreeSource source(*store);
  for (int i = 0; i < 200; ++i) {
    const replay::Checkpoint& c = (i % 2) ? c1 : c2;
    const uint64_t index = rng() % c.size;
    std::vector<replay::Hash256> proof;
    REQUIRE(replay::InclusionProof(index, c.size, source, &proof).ok());
    CHECK(replay::VerifyInclusion(leaves[index], index, c.size, proof, c.root).ok());
    // The same proof does not place another event there.
    CHECK_FALSE(
        replay::VerifyInclusion(leaves[(index + 1) % c.size], index, c.size, proof, c.root).ok());
  }
  std::vector<replay::Hash256> consistency;
  REQUIRE(replay::ConsistencyProof(c1.size, c2.size, source, &consistency).ok());
  CHECK(replay::VerifyConsistency(c1.size, c2.size, c1.root, c2.root, consistency).ok());
  replay::Hash256 wrong = c1.root;
  wrong[0] ^= 1;
  CHECK_FALSE(replay::VerifyConsistency(c1.size, c2.size, wrong, c2.root, consistency).ok());
}

TEST_CASE("tamper: one byte flipped in any stored event is detected") {
  City& city = TheCity();
  TempDir dir("tamper-flip");
  std::mt19937_64 rng(TestSeed() + 1);
  for (int t = 0; t < kTrials; ++t) {
    const std::string path = CopyOf(city.path, dir, t);
    const uint64_t position = 1 + rng() % city.events;
    size_t offset = 0;
    {
      RawLedger raw(path);
      std::string value = raw.Get(raw.events(), ledger::keys::EventKey(position));
      offset = rng() % value.size();
      value[offset] = static_cast<char>(value[offset] ^ (1 + rng() % 255));
      raw.Put(raw.events(), ledger::keys::EventKey(position), value);
    }
    const std::string verdict = Verdict(path);
    CHECK_MESSAGE(!verdict.empty(), "flip at position ", position, " byte ", offset, " undetected");
  }
}

// The walk checks batches of kVerifyBatchEvents on two threads in any order; what it reports
// must still be the first failure in position order, at its position.
TEST_CASE("tamper: of two damaged events in different batches, the earlier is reported, at its position") {
  City& city = TheCity();
  REQUIRE(city.events > 2 * ledger::kVerifyBatchEvents);  // several batches
  TempDir dir("tamper-first");
  std::mt19937_64 rng(TestSeed() + 6);
  // Both flips stay before the head: the open itself reads the head event and refuses a
  // ledger whose head is damaged (a case of its own, not the walk's order under test here).
  const uint64_t below_head = city.events - 1;
  for (int t = 0; t < kTrials; ++t) {
    const std::string path = CopyOf(city.path, dir, t);
    const uint64_t first = 1 + rng() % (below_head - ledger::kVerifyBatchEvents);
    const uint64_t second = first + ledger::kVerifyBatchEvents +
                            rng() % (below_head - first - ledger::kVerifyBatchEvents + 1);
    REQUIRE(second < city.events);
    {
      RawLedger raw(path);
      for (uint64_t position : {second, first}) {
        std::string value = raw.Get(raw.events(), ledger::keys::EventKey(position));
        const size_t offset = rng() % (value.size() - ledger::kHashBytes);  // in the event bytes
        value[offset] = static_cast<char>(value[offset] ^ (1 + rng() % 255));
        raw.Put(raw.events(), ledger::keys::EventKey(position), value);
      }
    }
    auto store = Open(path, nullptr, /*projector=*/false);
    replay::VerifyOptions options;
    options.premiums = &Data().premiums;
    options.calendar = &Data().calendar;
    replay::VerifyReport report;
    REQUIRE(replay::VerifyLedger(*store, options, &report).ok());
    REQUIRE_MESSAGE(report.failure.has_value(), "flips at ", first, " and ", second, " undetected");
    CHECK_MESSAGE(report.failure->position == first, "reported ", report.failure->position,
                  " for flips at ", first, " and ", second);
    CHECK(report.failure->check == "chain");
    CHECK(report.events == first - 1);
  }
}

TEST_CASE("tamper: a deleted event is detected") {
  City& city = TheCity();
  TempDir dir("tamper-delete");
  std::mt19937_64 rng(TestSeed() + 2);
  for (int t = 0; t < kTrials; ++t) {
    const std::string path = CopyOf(city.path, dir, t);
    const uint64_t position = 1 + rng() % city.events;
    {
      RawLedger raw(path);
      raw.Delete(raw.events(), ledger::keys::EventKey(position));
    }
    CHECK_MESSAGE(!Verdict(path).empty(), "deletion of position ", position, " undetected");
  }
}

TEST_CASE("tamper: two swapped events are detected") {
  City& city = TheCity();
  TempDir dir("tamper-swap");
  std::mt19937_64 rng(TestSeed() + 3);
  for (int t = 0; t < kTrials; ++t) {
    const std::string path = CopyOf(city.path, dir, t);
    const uint64_t a = 1 + rng() % city.events;
    uint64_t b = 1 + rng() % city.events;
    if (b == a) b = a == 1 ? 2 : a - 1;
    {
      RawLedger raw(path);
      const std::string va = raw.Get(raw.events(), ledger::keys::EventKey(a));
      const std::string vb = raw.Get(raw.events(), ledger::keys::EventKey(b));
      raw.Put(raw.events(), ledger::keys::EventKey(a), vb);
      raw.Put(raw.events(), ledger::keys::EventKey(b), va);
    }
    CHECK_MESSAGE(!Verdict(path).empty(), "swap of ", a, " and ", b, " undetected");
  }
}

TEST_CASE("tamper: the log truncated and re-extended with other events, re-chained, is detected") {
  City& city = TheCity();
  TempDir dir("tamper-truncate");
  std::mt19937_64 rng(TestSeed() + 4);
  for (int t = 0; t < kTrials; ++t) {
    const std::string path = CopyOf(city.path, dir, t);
    const uint64_t keep = city.events / 2 + rng() % (city.events / 2 - 1);
    {
      RawLedger raw(path);
      // The events after `keep`, shuffled, at their new positions, plus one more: a history
      // of the same shape but another order, hash chain and head recomputed.
      std::vector<std::string> tail;
      for (uint64_t p = keep + 1; p <= city.events; ++p) tail.push_back(raw.Event(p));
      tail.push_back(tail.front());
      std::shuffle(tail.begin(), tail.end(), rng);
      for (size_t i = 0; i < tail.size(); ++i) {
        REQUIRE(fb::GetMutableEvent(tail[i].data())->mutate_position(keep + 1 + i));
      }
      raw.Rewrite(keep + 1, tail);
    }
    const std::string verdict = Verdict(path);
    CHECK_MESSAGE(!verdict.empty(), "re-extension after ", keep, " undetected");
    // Even without the rules (which see the disorder), the signed checkpoint catches it.
    const std::string without_rules = Verdict(path, /*check_rules=*/false);
    CHECK_MESSAGE(!without_rules.empty(), "re-extension after ", keep, " undetected without rules");
  }
}

TEST_CASE("tamper: an amount re-encoded and every later hash recomputed is caught by the checkpoint") {
  City& city = TheCity();
  TempDir dir("tamper-amount");
  std::mt19937_64 rng(TestSeed() + 5);
  int tried = 0;
  for (int t = 0; tried < kTrials && t < 50 * kTrials; ++t) {
    const uint64_t position = 1 + rng() % city.events;
    const std::string path = CopyOf(city.path, dir, t);
    {
      RawLedger raw(path);
      std::string bytes = raw.Event(position);
      if (!SetAmount(&bytes, 1 + static_cast<int64_t>(rng() % 10'000))) {
        std::filesystem::remove_all(path);
        continue;
      }
      ++tried;
      std::vector<std::string> rest{bytes};
      for (uint64_t p = position + 1; p <= city.events; ++p) rest.push_back(raw.Event(p));
      raw.Rewrite(position, rest);
      raw.DropMerkleBlocks();
    }
    const std::string verdict = Verdict(path);
    CHECK_MESSAGE(!verdict.empty(), "amount change at ", position, " undetected");
    // The chain is intact again, positions and versions are dense: without the rules, only
    // the signed checkpoint stands between the edit and the auditor.
    const std::string signed_only = Verdict(path, /*check_rules=*/false);
    CHECK_MESSAGE(signed_only.starts_with("checkpoint:"), "at ", position, ": ", signed_only);
  }
  CHECK(tried == kTrials);
}

TEST_CASE("audit replay: the stored projections equal the fold of the log, an edited row is caught") {
  City& city = TheCity();
  {
    auto store = Open(city.path);
    replay::ReplayReport report;
    REQUIRE(replay::ReplayProjections(*store, nullptr, &report).ok());
    CHECK(report.difference_count == 0);
    CHECK(report.events == city.events);
    CHECK(report.rows_expected == report.rows_found);
    CHECK(report.rows_expected > 100);
  }
  TempDir dir("tamper-projection");
  std::mt19937_64 rng(TestSeed() + 6);
  for (int t = 0; t < kTrials; ++t) {
    const std::string path = CopyOf(city.path, dir, t);
    std::string edited_key;
    const bool remove = t % 4 == 3;
    {
      RawLedger raw(path);
      std::vector<std::pair<std::string, std::string>> rows;
      std::unique_ptr<rocksdb::Iterator> it(raw.db()->NewIterator(rocksdb::ReadOptions(), raw.projections()));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        rows.emplace_back(it->key().ToString(), it->value().ToString());
      }
      REQUIRE(!rows.empty());
      auto [key, value] = rows[rng() % rows.size()];
      edited_key = key.substr(1);  // without the generation byte
      if (remove) {
        raw.Delete(raw.projections(), key);
      } else {
        const size_t offset = rng() % value.size();
        value[offset] = static_cast<char>(value[offset] ^ (1 + rng() % 255));
        raw.Put(raw.projections(), key, value);
      }
    }
    auto store = Open(path);
    replay::ReplayReport report;
    REQUIRE(replay::ReplayProjections(*store, nullptr, &report).ok());
    REQUIRE_MESSAGE(report.difference_count == 1, "edit of ", edited_key, " undetected");
    CHECK(report.differences[0].key == edited_key);
    CHECK_FALSE(report.differences[0].expected.empty());
    CHECK(report.differences[0].found.empty() == remove);
  }
}

TEST_CASE("statement: built from the ledger, checked offline, altered, it fails") {
  City& city = TheCity();
  auto store = Open(city.path);
  // A child with payments.
  std::string person;
  for (uint64_t i = 0; i < 60 && person.empty(); ++i) {
    const std::string id = tools::CityChildId(i);
    std::vector<ledger::RecordedEvent> events;
    REQUIRE(domain::PersonEventsAsOf(*store, id, city.events, &events).ok());
    if (events.size() > 10) person = id;
  }
  REQUIRE(!person.empty());
  ledger::ManualClock clock(1'800'000'100'000'000);
  replay::Statement st;
  REQUIRE(replay::BuildStatement(*store, person, AgencyKey(), clock, &st).ok());
  REQUIRE(st.events.size() > 10);
  REQUIRE(st.summary_json.find("\"amount_fen\":") != std::string::npos);
  const replay::PublicKey key = AgencyKey().public_key();
  const std::string json = replay::StatementToJson(st);

  replay::Statement parsed;
  REQUIRE(replay::StatementFromJson(json, &parsed).ok());
  CHECK(replay::CheckStatement(parsed, json, key).ok());
  CHECK(replay::StatementToText(parsed).find("Payments") != std::string::npos);

  auto check_text = [&](const std::string& text) {
    replay::Statement s;
    Status p = replay::StatementFromJson(text, &s);
    if (!p.ok()) return p;
    return replay::CheckStatement(s, text, key);
  };
  SUBCASE("one amount of the summary altered") {
    std::string text = json;
    const size_t at = text.find("\"amount_fen\":") + 13;
    text.insert(at, "1");
    const Status s = check_text(text);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("summary") != std::string::npos);
  }
  SUBCASE("one amount of an enclosed event altered") {
    replay::Statement s = parsed;
    bool altered = false;
    for (auto& e : s.events) {
      if (SetAmount(&e.bytes, 100)) {
        altered = true;
        break;
      }
    }
    REQUIRE(altered);
    const Status r = check_text(replay::StatementToJson(s));
    REQUIRE_FALSE(r.ok());
    CHECK(r.message().find("not in the signed log") != std::string::npos);
  }
  SUBCASE("one event dropped, the summary recomputed to match") {
    replay::Statement s = parsed;
    const size_t drop = TestSeed() % s.events.size();
    s.events.erase(s.events.begin() + static_cast<long>(drop));
    // The summary recomputed where the fold allows it (dropping a stream's last event).
    std::string summary;
    if (replay::SummaryOf(s.events, s.person, s.checkpoint.size, &summary).ok()) {
      s.summary_json = summary;
    }
    const Status r = check_text(replay::StatementToJson(s));
    REQUIRE_FALSE(r.ok());
    // A gap in a stream's versions shows at once; the last event of a stream dropped is
    // caught by the agency's signature.
    CHECK((r.message().find("signature") != std::string::npos ||
           r.message().find("incomplete") != std::string::npos));
  }
  SUBCASE("checked with a wrong key") {
    replay::PrivateKey other;
    REQUIRE(replay::PrivateKey::Generate(&other).ok());
    const Status r = replay::CheckStatement(parsed, json, other.public_key());
    REQUIRE_FALSE(r.ok());
    CHECK(r.message().find("signed by key") != std::string::npos);
  }
  SUBCASE("the readable rendering of an event altered") {
    std::string text = json;
    size_t at = text.find("\"events\":");
    size_t digit = 0;
    do {
      at = text.find("\"amount_fen\":", at + 1);
      REQUIRE(at != std::string::npos);
      digit = text.find_first_not_of(' ', at + 13);
    } while (text[digit] < '1' || text[digit] > '9');
    text.insert(digit, "9");
    const Status r = check_text(text);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.message().find("readable") != std::string::npos, r.message());
  }
}

TEST_CASE("statement: an enclosed event whose strings are not UTF-8 still renders as valid JSON") {
  // Found by fuzz/rights_statement_fuzzer: the readable "event" of such an event was written
  // raw, so the statement's own JSON did not parse back.
  std::ifstream in(SHEBAO_SOURCE_DIR "/tests/data/statement_fuzz_invalid_utf8.json", std::ios::binary);
  REQUIRE(in.good());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  replay::Statement st;
  REQUIRE(replay::StatementFromJson(text, &st).ok());
  replay::Statement again;
  CHECK(replay::StatementFromJson(replay::StatementToJson(st), &again).ok());
  CHECK(again.events.size() == st.events.size());
}
