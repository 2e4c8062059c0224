#include "ledger/rocks_options.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "ledger/constants.h"
#include "ledger/keys.h"

namespace shebao::ledger {

LedgerInfoLog::LedgerInfoLog(const std::string& path) {
  if (!path.empty()) file_ = std::fopen(path.c_str(), "w");
}

LedgerInfoLog::~LedgerInfoLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void LedgerInfoLog::Logv(const char* format, va_list ap) {
  char text[2048];
  va_list copy;
  va_copy(copy, ap);
  const int n = std::vsnprintf(text, sizeof text, format, copy);
  va_end(copy);
  if (n < 0) return;
  const std::string_view line(text, std::min(static_cast<size_t>(n), sizeof text - 1));
  std::lock_guard lock(mu_);
  if (first_dropped_.empty() && line.find(": dropping ") != std::string_view::npos) {
    // "[WARN] [db/db_impl/db_impl_open.cc:982] /path/000004.log: dropping 32768 bytes;
    // Corruption: checksum mismatch": keep the file and what was wrong with it.
    std::string_view message = line;
    while (message.starts_with("[") && message.find("] ") != std::string_view::npos) {
      message.remove_prefix(message.find("] ") + 2);
    }
    first_dropped_ = std::string(message);
  }
  if (file_ == nullptr) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y/%m/%d-%H:%M:%S", &utc);
  // Errors (a full disk) are ignored: the info log is for people, never for the ledger's state.
  std::fprintf(file_, "%s %.*s\n", stamp, static_cast<int>(line.size()), line.data());
  std::fflush(file_);
}

std::string LedgerInfoLog::first_dropped() const {
  std::lock_guard lock(mu_);
  return first_dropped_;
}

void LedgerRocksOptions(size_t block_cache_bytes, bool create_if_missing,
                        rocksdb::DBOptions* db_options,
                        std::vector<rocksdb::ColumnFamilyDescriptor>* families) {
  *db_options = rocksdb::DBOptions();
  db_options->create_if_missing = create_if_missing;
  db_options->create_missing_column_families = create_if_missing;
  db_options->max_background_jobs = 2;
  db_options->bytes_per_sync = 1 << 20;
  db_options->max_open_files = 512;
  // A write-ahead log that fails its checksum must stop the open, not shorten the log: RocksDB's
  // default (kPointInTimeRecovery) silently drops every record after a corrupted one, acknowledged
  // and synced appends included (a flipped byte in the middle of a clean ledger's WAL reopened it
  // 10,330 events shorter, with an intact chain and a consistent head; tests/fault_test.sh). An
  // incomplete record at the very end (a writer killed or out of space in the middle of a write,
  // or a reader looking at a log being written) is tolerated: it was never acknowledged.
  db_options->wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  // Partitioned index and filters: a large ledger's SST files have index blocks of megabytes,
  // too big for a block-cache shard, which were re-read and decompressed on every iterator
  // (a person's query took 0.8 ms at 20,000 children). Partitions of 4 KiB stay cached; the
  // top level is pinned.
  table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;

  rocksdb::ColumnFamilyOptions events_options;
  events_options.write_buffer_size = kEventsMemtableBytes;
  events_options.compression = rocksdb::kLZ4Compression;
  events_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::ColumnFamilyOptions index_options = events_options;
  index_options.write_buffer_size = kIndexMemtableBytes;
  // Most idempotency and claim lookups are for keys never seen: a Bloom filter on the memtable
  // answers them without searching its skiplist.
  index_options.memtable_whole_key_filtering = true;
  index_options.memtable_prefix_bloom_size_ratio = 0.05;
  index_options.level0_file_num_compaction_trigger = kL0FilesCompactionTrigger;
  index_options.level0_slowdown_writes_trigger = kL0FilesSlowdownWrites;
  index_options.level0_stop_writes_trigger = kL0FilesStopWrites;
  // Projection rows are read by person: "<generation>R/<18-char id>/" is 22 bytes.
  // A prefix Bloom filter lets a person's scan skip every file without that person.
  rocksdb::ColumnFamilyOptions projection_options = index_options;
  projection_options.prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(kProjectionPrefixBytes));
  projection_options.write_buffer_size = kProjectionsMemtableBytes;

  *families = {
      {rocksdb::kDefaultColumnFamilyName, index_options},
      {std::string(keys::kEventsFamily), events_options},
      {std::string(keys::kStreamsFamily), index_options},
      {std::string(keys::kIdempotencyFamily), index_options},
      {std::string(keys::kClaimsFamily), index_options},
      {std::string(keys::kMetaFamily), index_options},
      {std::string(keys::kProjectionsFamily), projection_options},
  };
}

}  // namespace shebao::ledger
