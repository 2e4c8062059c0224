// The RocksDB options of a ledger: one definition for the store and for the benchmarks' raw
// RocksDB baselines, which must be configured exactly like the store to be a fair comparison.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace shebao::ledger {

// The prefix length of the projections family's prefix Bloom filter.
inline constexpr size_t kProjectionPrefixBytes = 22;

// Fills the database options and the column families of a ledger, in the store's order:
// default, events, streams, idempotency, claims, meta, projections.
void LedgerRocksOptions(size_t block_cache_bytes, bool create_if_missing,
                        rocksdb::DBOptions* db_options,
                        std::vector<rocksdb::ColumnFamilyDescriptor>* families);

// RocksDB's info log for a ledger (db_options.info_log): the LOG file of the ledger directory,
// written with stdio, each write error ignored. RocksDB's own file logger must not be used: in a
// build with assertions (Debian's librocksdb 7.8) it aborts the process when it logs again after
// a failed write, i.e. on a full disk (tests/fault_test.sh). It also keeps the first message that
// names a file RocksDB dropped bytes of ("<file>: dropping N bytes; Corruption: ..."), so that a
// failed open can name the corrupted file.
class LedgerInfoLog final : public rocksdb::Logger {
 public:
  // Truncates and writes path; an empty path writes nothing (a read-only open must not touch
  // the ledger directory, which may be read-only).
  explicit LedgerInfoLog(const std::string& path);
  ~LedgerInfoLog() override;
  LedgerInfoLog(const LedgerInfoLog&) = delete;
  LedgerInfoLog& operator=(const LedgerInfoLog&) = delete;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  // The first "<file>: dropping ..." message, or "".
  std::string first_dropped() const;

 private:
  std::FILE* file_ = nullptr;
  mutable std::mutex mu_;
  std::string first_dropped_;
};

}  // namespace shebao::ledger
