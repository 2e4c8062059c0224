// A randomized test against a simple in-memory model of the ledger (RocksDB's style): random
// appends (right and wrong expected versions, repeated and conflicting idempotency keys,
// multi-stream batches), reads and reopens; every answer of the store must equal the model's.
// The seed is printed; rerun with SHEBAO_SEED=<seed>.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <random>

#include "tests/test_util.h"

using namespace shebao;
using namespace shebao::ledger;
using shebao::testing::AmountOf;
using shebao::testing::PremiumEvent;
using shebao::testing::TempDir;

namespace {

struct ModelEvent {
  std::string stream;
  uint64_t version;
  int64_t amount_fen;
};

struct ModelBatch {
  uint64_t first;
  uint64_t last;
  std::vector<std::pair<std::string, int64_t>> events;  // the content, for conflict detection
};

struct Model {
  std::vector<ModelEvent> log;  // position p at index p - 1
  std::map<std::string, uint64_t> versions;
  std::map<std::string, std::vector<uint64_t>> stream_positions;
  std::map<std::string, ModelBatch> batches;
};

uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("SHEBAO_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

}  // namespace

TEST_CASE("randomized: the store behaves like the in-memory model") {
  const uint64_t seed = SeedFromEnv();
  MESSAGE("SHEBAO_SEED=", seed);
  std::printf("event_store_model_test: SHEBAO_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };

  TempDir dir("model");
  ManualClock clock(1'760'000'000'000'000, 7);
  StoreOptions options;
  options.clock = &clock;
  options.sync = false;  // durability is the crash test's job; this one checks logic
  // The leader's stream-version cache: off, smaller than the streams used (emptied again and
  // again), or the default.
  const size_t cache_choices[] = {0, 1, 5, kStreamVersionCacheEntriesMax};
  options.stream_version_cache_entries = cache_choices[pick(4)];
  MESSAGE("stream_version_cache_entries=", options.stream_version_cache_entries);
  std::unique_ptr<EventStore> store;
  REQUIRE(EventStore::Open(dir.path(), options, &store).ok());
  Model model;
  int appended = 0, duplicates = 0, conflicts = 0, idem_conflicts = 0, reads = 0, reopens = 0;

  constexpr int kSteps = 3000;
  constexpr int kStreams = 12;
  for (int step = 0; step < kSteps; ++step) {
    INFO("seed ", seed, " step ", step);
    const uint64_t op = pick(100);
    if (op < 60) {
      // An append: 1..3 streams, 1..4 events, expectations right or wrong, keys new or reused.
      std::string key;
      bool reuse = !model.batches.empty() && pick(8) == 0;
      if (reuse) {
        auto it = model.batches.begin();
        std::advance(it, pick(model.batches.size()));
        key = it->first;
      } else {
        key = "k" + std::to_string(step);
      }
      AppendBatch batch;
      batch.idempotency_key = key;
      std::vector<std::pair<std::string, int64_t>> content;
      if (reuse && pick(2) == 0) {
        content = model.batches[key].events;  // an exact retry
      } else {
        const uint64_t n_events = 1 + pick(4);
        for (uint64_t i = 0; i < n_events; ++i) {
          content.emplace_back("s/" + std::to_string(pick(kStreams)),
                               static_cast<int64_t>(pick(1'000'000)));
        }
      }
      std::map<std::string, ExpectedVersion> expectations;
      bool expect_conflict = false, expect_not_found = false;
      for (const auto& [stream, amount] : content) {
        if (expectations.contains(stream)) continue;
        const uint64_t current = model.versions[stream];
        ExpectedVersion e;
        switch (pick(5)) {
          case 0: e = ExpectedVersion::Any(); break;
          case 1: e = ExpectedVersion::Exactly(current); break;
          case 2:
            e = ExpectedVersion::Exactly(current + 1 + pick(2));
            expect_conflict = true;
            break;
          case 3:
            e = ExpectedVersion::NoStream();
            expect_conflict |= current != 0;
            break;
          default:
            e = ExpectedVersion::Exists();
            expect_not_found |= current == 0;
            break;
        }
        expectations[stream] = e;
      }
      for (const auto& [stream, e] : expectations) batch.expectations.push_back({stream, e});
      for (const auto& [stream, amount] : content) {
        batch.events.push_back(PremiumEvent(stream, key, amount));
      }

      AppendResult result;
      Status s = store->Append(batch, &result);
      auto seen = model.batches.find(key);
      if (seen != model.batches.end()) {
        if (seen->second.events == content) {
          REQUIRE_MESSAGE(s.ok(), s.ToString());
          CHECK(result.duplicate);
          CHECK(result.first_position == seen->second.first);
          CHECK(result.last_position == seen->second.last);
          duplicates++;
        } else {
          CHECK_MESSAGE(s.code() == Code::idempotency_conflict, s.ToString());
          idem_conflicts++;
        }
      } else if (expect_conflict || expect_not_found) {
        // The store checks streams in expectation order; either error is right if both apply.
        CHECK_MESSAGE((s.code() == Code::version_conflict || s.code() == Code::stream_not_found),
                      s.ToString());
        if (!expect_conflict) CHECK(s.code() == Code::stream_not_found);
        if (!expect_not_found) CHECK(s.code() == Code::version_conflict);
        conflicts++;
      } else {
        REQUIRE_MESSAGE(s.ok(), s.ToString());
        CHECK_FALSE(result.duplicate);
        CHECK(result.first_position == model.log.size() + 1);
        for (const auto& [stream, amount] : content) {
          const uint64_t v = ++model.versions[stream];
          model.log.push_back({stream, v, amount});
          model.stream_positions[stream].push_back(model.log.size());
        }
        CHECK(result.last_position == model.log.size());
        model.batches[key] = {result.first_position, result.last_position, content};
        appended++;
      }
      CHECK(store->head().position == model.log.size());
    } else if (op < 80) {
      // A stream read, forward or backward, from a random version with a random limit.
      const std::string stream = "s/" + std::to_string(pick(kStreams));
      const auto& positions = model.stream_positions[stream];
      const bool forward = pick(2) == 0;
      const uint64_t from = pick(positions.size() + 3);
      const size_t limit = 1 + pick(6);
      std::vector<RecordedEvent> got;
      Status s = store->ReadStream(stream, from, forward ? Direction::forward : Direction::backward,
                                   limit, &got);
      REQUIRE_MESSAGE(s.ok(), s.ToString());
      std::vector<uint64_t> want;
      const uint64_t n = positions.size();
      if (n > 0) {
        if (forward) {
          for (uint64_t v = std::max<uint64_t>(from, 1); v <= n && want.size() < limit; ++v) {
            want.push_back(positions[v - 1]);
          }
        } else {
          for (uint64_t v = (from == 0 || from > n) ? n : from; v >= 1 && want.size() < limit; --v) {
            want.push_back(positions[v - 1]);
          }
        }
      }
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].position == want[i]);
        const ModelEvent& m = model.log[want[i] - 1];
        CHECK(got[i].event()->stream_id()->str() == m.stream);
        CHECK(got[i].event()->stream_version() == m.version);
        CHECK(AmountOf(got[i]) == m.amount_fen);
      }
      reads++;
    } else if (op < 95) {
      // A read of the whole log from a random position.
      if (model.log.empty()) continue;
      const uint64_t from = 1 + pick(model.log.size());
      const size_t limit = 1 + pick(20);
      std::vector<RecordedEvent> got;
      REQUIRE(store->ReadAll(from, limit, &got).ok());
      const size_t want = std::min<size_t>(limit, model.log.size() - from + 1);
      REQUIRE(got.size() == want);
      for (size_t i = 0; i < got.size(); ++i) {
        const ModelEvent& m = model.log[from + i - 1];
        CHECK(got[i].position == from + i);
        CHECK(got[i].event()->stream_id()->str() == m.stream);
        CHECK(AmountOf(got[i]) == m.amount_fen);
      }
      reads++;
    } else {
      // Reopen: the state must survive.
      const Head before = store->head();
      store.reset();
      REQUIRE(EventStore::Open(dir.path(), options, &store).ok());
      CHECK(store->head().position == before.position);
      CHECK(store->head().hash == before.hash);
      reopens++;
    }
  }
  uint64_t checked = 0;
  Status s = store->VerifyChain(&checked);
  CHECK_MESSAGE(s.ok(), s.ToString());
  CHECK(checked == model.log.size());
  std::printf("event_store_model_test: %d appends, %d duplicates, %d version conflicts, "
              "%d idempotency conflicts, %d reads, %d reopens, %zu events\n",
              appended, duplicates, conflicts, idem_conflicts, reads, reopens, model.log.size());
  CHECK(appended > 0);
  CHECK(duplicates > 0);
  CHECK(conflicts > 0);
  CHECK(idem_conflicts > 0);
}
