// The RFC 6962 Merkle tree of the stored log (replay/merkle.h): entry i is the stored bytes of
// the event at position i + 1. Roots of aligned blocks of kMerkleBlockLeaves events are kept as
// audit records so that a proof costs O(size / kMerkleBlockLeaves) small reads plus hashing
// at most one block of events, instead of hashing the whole log.
//
// Audit records (EventStore::PutAuditRecords):
//   "merkle/count"               be64: blocks recorded; blocks 0..count-1 are all present
//   "merkle/" || be64(i)         32 bytes: root of events [i * 256 + 1, (i + 1) * 256]
#pragma once

#include <cstdint>
#include <vector>

#include "ledger/event_store.h"
#include "replay/merkle.h"

namespace shebao::replay {

// Records the roots of every complete block of the first size events not yet recorded, and
// sets *root to the tree root at size. REQUIRES: size <= head position.
// Errors: corruption (an event fails verification), io_error.
ledger::Status ExtendBlockRoots(ledger::EventStore& store, uint64_t size, Hash256* root);

// Blocks recorded so far.
ledger::Status RecordedBlocks(const ledger::EventStore& store, uint64_t* count);

// A SubtreeSource over the stored log: blocks from the audit records, smaller ranges hashed
// from the events. REQUIRES: the blocks under every range asked for are recorded
// (ExtendBlockRoots up to the tree size used); otherwise the answer is corruption naming the
// missing block. The store must outlive the source.
class LogSubtreeSource final : public SubtreeSource {
 public:
  explicit LogSubtreeSource(const ledger::EventStore& store);
  ledger::Status SubtreeHash(uint64_t begin, uint64_t end, Hash256* out) override;

 private:
  BlockSubtreeSource source_;
};

// The audit record key of block i.
std::string BlockRecordKey(uint64_t block_index);

}  // namespace shebao::replay
