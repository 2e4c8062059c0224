// Helpers shared by the tests: temporary ledger directories and small realistic events.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <string_view>

#include <rocksdb/db.h>

#include "ledger/constants.h"
#include "ledger/envelope.h"
#include "ledger/event_store.h"
#include "ledger/keys.h"

namespace shebao::testing {

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(std::string_view tag = "ledger") {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("shebao-" + std::string(tag) + "-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_.string(); }
  std::string sub(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A PremiumCollected event of realistic size (~300 bytes) on stream, tagged by amount_fen.
inline std::string PremiumEvent(std::string_view stream, std::string_view idempotency_key,
                                int64_t amount_fen, std::string_view bank_ref = "ICBC-2026-000001") {
  flatbuffers::FlatBufferBuilder fbb(512);
  auto payload = fb::CreatePremiumCollectedDirect(
      fbb, "case/2026/110105201503010010", "110105201503010010", 2026, fb::PayerKind::guardian,
      amount_fen, "102100099996", std::string(bank_ref).c_str(), 1, "11010519491231002X");
  ledger::EnvelopeFields env;
  env.stream_id = stream;
  env.effective_day = 20'440;  // 2025-12-18
  env.effective_second = 10 * 3600;
  env.role = fb::Role::bank;
  env.org_id = "102100099996";
  env.person_id = "teller-0042";
  env.channel = fb::Channel::bank;
  env.idempotency_key = idempotency_key;
  env.correlation_id = "case/2026/110105201503010010";
  env.causation_id = "cmd:collect-premium";
  return ledger::FinishEvent(fbb, env, fb::Payload::PremiumCollected, payload.Union());
}

// A one-event batch.
inline ledger::AppendBatch OneEventBatch(std::string_view stream, std::string_view key,
                                         ledger::ExpectedVersion expected, int64_t amount_fen) {
  ledger::AppendBatch batch;
  batch.idempotency_key = std::string(key);
  batch.expectations.push_back({std::string(stream), expected});
  batch.events.push_back(PremiumEvent(stream, key, amount_fen));
  return batch;
}

inline int64_t AmountOf(const ledger::RecordedEvent& e) {
  return e.event()->payload_as_PremiumCollected()->amount_fen();
}

// Every projection row the store's queries see (its active generation), in key order.
inline std::map<std::string, std::string> ProjectionRows(const ledger::EventStore& store) {
  std::map<std::string, std::string> rows;
  auto view = store.NewReadView();
  REQUIRE(view->Scan("", [&](std::string_view k, std::string_view v) {
                rows.emplace(std::string(k), std::string(v));
                return true;
              }).ok());
  return rows;
}

// Opens the ledger's RocksDB directly (as an attacker with database access would) and runs
// edit on one column family; the caller opens the store again to read.
using RawEdit = std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>;
inline void EditBehindTheStoresBack(const std::string& path, std::string_view family,
                                    const RawEdit& edit) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &db).ok());
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == family) handle = handles[i];
  }
  REQUIRE(handle != nullptr);
  edit(db, handle);
  for (auto* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  delete db;
}

// Edits the stored record of one event behind the store's back (an empty result deletes it);
// edit gets the record and its predecessor's stored chain hash.
inline void TamperEventValue(
    const std::string& path, uint64_t position,
    const std::function<void(std::string*, const ledger::Hash256&)>& edit) {
  namespace keys = ledger::keys;
  EditBehindTheStoresBack(path, keys::kEventsFamily,
                          [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events) {
    ledger::Hash256 previous{};
    std::string value;
    if (position > 1) {
      REQUIRE(db->Get(rocksdb::ReadOptions(), events, keys::EventKey(position - 1), &value).ok());
      std::memcpy(previous.data(), value.data() + value.size() - ledger::kHashBytes,
                  ledger::kHashBytes);
    }
    REQUIRE(db->Get(rocksdb::ReadOptions(), events, keys::EventKey(position), &value).ok());
    edit(&value, previous);
    if (value.empty()) {
      REQUIRE(db->Delete(rocksdb::WriteOptions(), events, keys::EventKey(position)).ok());
    } else {
      REQUIRE(db->Put(rocksdb::WriteOptions(), events, keys::EventKey(position), value).ok());
    }
  });
}

}  // namespace shebao::testing
