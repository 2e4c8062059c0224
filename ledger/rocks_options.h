// The RocksDB options of a ledger: one definition for the store and for the benchmarks' raw
// RocksDB baselines, which must be configured exactly like the store to be a fair comparison.
#pragma once

#include <rocksdb/db.h>

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

}  // namespace shebao::ledger
