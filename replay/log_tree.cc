#include "replay/log_tree.h"

#include <fmt/format.h>

#include <cstring>

#include "ledger/check.h"
#include "ledger/keys.h"

namespace shebao::replay {
namespace {

using ledger::Code;
using ledger::Status;

constexpr std::string_view kCountKey = "merkle/count";
// Block roots written per audit write while extending.
constexpr size_t kBlocksPerWrite = 1024;

Status LeafHashes(const ledger::EventStore& store, uint64_t begin, uint64_t end,
                  std::vector<Hash256>* out) {
  SHEBAO_ASSERT(begin < end);
  out->clear();
  out->reserve(end - begin);
  auto cursor = store.NewCursor(begin + 1);
  for (; cursor->Valid() && out->size() < end - begin; cursor->Next()) {
    out->push_back(LeafHash(cursor->event().bytes));
  }
  if (!cursor->status().ok()) return cursor->status();
  if (out->size() != end - begin) {
    return Status(Code::corruption, fmt::format("log ends before position {}", end));
  }
  return Status::OK();
}

Status LookupBlock(const ledger::EventStore& store, uint64_t index, Hash256* out) {
  std::string value;
  bool found = false;
  Status s = store.GetAuditRecord(BlockRecordKey(index), &value, &found);
  if (!s.ok()) return s;
  if (!found || value.size() != out->size()) {
    return Status(Code::corruption,
                  fmt::format("Merkle block {} is {} (run 'shebao audit checkpoint')", index,
                              found ? "malformed" : "not recorded"));
  }
  std::memcpy(out->data(), value.data(), out->size());
  return Status::OK();
}

}  // namespace

std::string BlockRecordKey(uint64_t block_index) {
  std::string key = "merkle/";
  ledger::keys::PutBigEndian64(&key, block_index);
  return key;
}

Status RecordedBlocks(const ledger::EventStore& store, uint64_t* count) {
  *count = 0;
  std::string value;
  bool found = false;
  Status s = store.GetAuditRecord(kCountKey, &value, &found);
  if (!s.ok() || !found) return s;
  if (value.size() != 8) return Status(Code::corruption, "audit record merkle/count is malformed");
  *count = ledger::keys::GetBigEndian64(value.data());
  return Status::OK();
}

Status ExtendBlockRoots(ledger::EventStore& store, uint64_t size, Hash256* root) {
  SHEBAO_ASSERT(size <= store.head().position);
  uint64_t count = 0;
  Status s = RecordedBlocks(store, &count);
  if (!s.ok()) return s;
  const uint64_t complete = size / ledger::kMerkleBlockLeaves;
  std::vector<std::pair<std::string, std::string>> records;
  auto flush = [&](uint64_t blocks_done) {
    std::string value;
    ledger::keys::PutBigEndian64(&value, blocks_done);
    records.emplace_back(std::string(kCountKey), std::move(value));
    Status w = store.PutAuditRecords(records);
    records.clear();
    return w;
  };
  if (count < complete) {
    // One pass over the events of the missing blocks, cut into blocks by the range builder.
    uint64_t next_block = count;
    std::vector<Hash256> leaves;
    leaves.reserve(ledger::kMerkleBlockLeaves);
    auto cursor = store.NewCursor(count * ledger::kMerkleBlockLeaves + 1);
    for (; cursor->Valid() && next_block < complete; cursor->Next()) {
      leaves.push_back(LeafHash(cursor->event().bytes));
      if (leaves.size() < ledger::kMerkleBlockLeaves) continue;
      const Hash256 block_root = RootOfLeaves(leaves);
      records.emplace_back(BlockRecordKey(next_block),
                           std::string(reinterpret_cast<const char*>(block_root.data()),
                                       block_root.size()));
      leaves.clear();
      ++next_block;
      if (records.size() >= kBlocksPerWrite) {
        if (Status w = flush(next_block); !w.ok()) return w;
      }
    }
    if (!cursor->status().ok()) return cursor->status();
    if (next_block != complete) {
      return Status(Code::corruption, fmt::format("log ends inside block {}", next_block));
    }
    if (Status w = flush(next_block); !w.ok()) return w;
  }
  LogSubtreeSource source(store);
  return TreeRoot(size, source, root);
}

LogSubtreeSource::LogSubtreeSource(const ledger::EventStore& store)
    : source_(
          ledger::kMerkleBlockLevel,
          [&store](uint64_t index, Hash256* out) { return LookupBlock(store, index, out); },
          [&store](uint64_t begin, uint64_t end, std::vector<Hash256>* out) {
            return LeafHashes(store, begin, end, out);
          }) {}

Status LogSubtreeSource::SubtreeHash(uint64_t begin, uint64_t end, Hash256* out) {
  return source_.SubtreeHash(begin, end, out);
}

}  // namespace shebao::replay
