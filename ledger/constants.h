// Every limit of the ledger in one place (TigerStyle: put a limit on everything).
// Each is checked where data enters the system, and asserted where it is written.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shebao::ledger {

// Version of schema/event.fbs that this build writes. Readers accept 1..kSchemaVersion.
inline constexpr uint16_t kSchemaVersion = 1;

// One event's FlatBuffer bytes, envelope included. Realistic events are 200-600 bytes.
inline constexpr size_t kEventBytesMax = 16 * 1024;
// Smallest possible valid Event buffer (root offset + identifier + a vtable and table).
inline constexpr size_t kEventBytesMin = 16;
// Events in one append batch (one command, or one bulk load step).
inline constexpr size_t kBatchEventsMax = 4096;
// Sum of event bytes in one append batch.
inline constexpr size_t kBatchBytesMax = 4 * 1024 * 1024;
// Streams touched by one batch.
inline constexpr size_t kBatchStreamsMax = 4096;
// Stream ids are printable ASCII (0x21..0x7e), e.g. "case/2026/110105201503010010".
inline constexpr size_t kStreamIdBytesMax = 128;
// Unique claims per batch (e.g. a bank reference within a coverage year), each printable
// ASCII of at most kClaimBytesMax bytes.
inline constexpr size_t kBatchClaimsMax = 16;
inline constexpr size_t kClaimBytesMax = 160;
// Idempotency keys are printable ASCII (0x21..0x7e).
inline constexpr size_t kIdempotencyKeyBytesMax = 128;
// Bytes of appends merged into one group commit (one WriteBatch, one WAL sync).
inline constexpr size_t kGroupCommitBytesMax = 8 * 1024 * 1024;
// Appenders merged into one group commit.
inline constexpr size_t kGroupCommitWritersMax = 1024;
// Stream versions the group leader remembers from earlier groups, so that appends to a stream
// written recently read no head record (~100 bytes each: ~25 MiB at most).
inline constexpr size_t kStreamVersionCacheEntriesMax = 256 * 1024;
// How long a new group leader of synced appends waits for the writers of the previous group to
// queue again (they were released by its sync). Without it, 8 writers alternate in two groups
// of about 4 per WAL sync.
inline constexpr int64_t kCommitDelayMaxUs = 200;
// Events folded into the projections per write during a rebuild or catch-up (the rows they
// touch are kept in memory meanwhile; an interrupted rebuild resumes at a multiple of this).
inline constexpr uint64_t kFoldBatchEvents = 16384;
// RocksDB memtable (write_buffer_size) of each column family; a family holds at most two, one
// filling and one being flushed. The projections family's rows are rewritten by most events
// (a case's row at each of its steps): the larger its memtable, the more of those versions
// are dropped before they reach a file (100,000 children: compaction CPU 25 s -> 10 s, the
// ingest 4% faster; BENCHMARKS.md).
inline constexpr size_t kEventsMemtableBytes = 64 << 20;
inline constexpr size_t kProjectionsMemtableBytes = 128 << 20;
inline constexpr size_t kIndexMemtableBytes = 32 << 20;  // every other family
// The projections family's memtable while a rebuild folds the log: the rebuild writes nothing
// else, and its peak RSS must stay within 512 MB at any ledger size (issue 4; 447 MB at
// 1,000,000 children with this size).
inline constexpr size_t kRebuildMemtableBytes = 32 << 20;
// Every family but the events' compacts its level 0 into level 1 once it holds this many files
// (RocksDB's default: 4), and slows or stops writes at these counts (defaults 20 and 36). Their
// keys (idempotency keys, stream ids, person ids) are spread over the whole key range, so each
// level-0 compaction rewrites most of level 1: fewer, larger ones write less (100,000 children:
// ingest 59-61 s -> 56-57 s). The events family's keys are positions, in files that do not
// overlap, and keep the default.
inline constexpr int kL0FilesCompactionTrigger = 8;
inline constexpr int kL0FilesSlowdownWrites = 40;
inline constexpr int kL0FilesStopWrites = 60;
// While a rebuild folds, the projections family's level 0 is compacted once it holds this many
// files (instead of kL0FilesCompactionTrigger), and its write slowdown and stop thresholds are
// raised by as much. Each rebuild file spans the whole key range, so each level-0 compaction
// rewrites all of level 1: fewer, larger ones write less.
inline constexpr int kRebuildL0FilesCompactionTrigger = 16;
// StoreOptions::keep_wal_files: how long RocksDB keeps an archived write-ahead log file.
inline constexpr uint64_t kKeptWalFilesTtlSeconds = 10ull * 365 * 24 * 3600;
// Threads of the one compaction that ends a rebuild (the machines here have 2 cores).
inline constexpr uint32_t kCompactionThreadsMax = 2;
// Events returned by one stream or log read call.
inline constexpr size_t kReadLimitMax = 100000;
// Audit records (signed checkpoints, Merkle block roots; replay/) kept beside the log.
inline constexpr size_t kAuditKeyBytesMax = 64;
inline constexpr size_t kAuditValueBytesMax = 4096;
// Projection differences the auditor's replay lists one by one (all are counted).
inline constexpr size_t kReplayDifferencesMax = 1000;
// The auditor's walk reads the log in batches on one thread; both threads check batches (chain,
// FlatBuffer, leaf hash) and the walking thread folds them in order: records per batch, and
// batches read but not yet folded (memory: at most their product of records, ~4 MiB).
inline constexpr size_t kVerifyBatchEvents = 1024;
inline constexpr size_t kVerifyBatchesInFlight = 8;
// A rights statement (replay/statement.h): its text and the events it encloses.
inline constexpr size_t kStatementBytesMax = 16 * 1024 * 1024;
inline constexpr size_t kStatementEventsMax = 10000;

// SHA-256 digest size; also the chain hash stored after each event's bytes.
inline constexpr size_t kHashBytes = 32;

// Merkle tree over the log (replay/merkle.h). Tree sizes are uint64_t, so a tree has at most
// 64 levels above its leaves; an inclusion proof holds at most ceil(log2(size)) hashes, a
// consistency proof at most ceil(log2(size)) + 1.
inline constexpr unsigned kMerkleHeightMax = 64;
inline constexpr size_t kMerkleProofHashesMax = kMerkleHeightMax + 1;
// Roots of aligned perfect subtrees of 2^kMerkleBlockLevel leaves ("blocks") are kept, so that
// a proof reads block roots and the leaves of at most two blocks, not the whole log.
inline constexpr unsigned kMerkleBlockLevel = 8;
inline constexpr uint64_t kMerkleBlockLeaves = uint64_t{1} << kMerkleBlockLevel;
// Ed25519 signing keys (replay/signing.h): raw public key, signature, key id shown to people
// (the first bytes of SHA-256 of the raw public key), and the largest PEM key file read.
inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;
inline constexpr size_t kKeyIdBytes = 8;
inline constexpr size_t kKeyFileBytesMax = 16 * 1024;

static_assert(kEventBytesMax * kBatchEventsMax >= kBatchBytesMax,
              "a batch must be able to reach its byte limit");
static_assert(kGroupCommitBytesMax >= kBatchBytesMax, "a maximal batch must fit one group commit");
static_assert(kStreamIdBytesMax <= 255, "stream ids are length-prefixed with one byte in keys");
static_assert(kMerkleBlockLevel < kMerkleHeightMax, "a block is a subtree of the tallest tree");

}  // namespace shebao::ledger
