// Reads a range of the log in batches on a thread of its own and runs the checks of every read
// (VerifyStoredRecord: size, chain link, FlatBuffer, payload, envelope position) on whichever
// of the reader thread and the caller's thread is free, handing the batches out in position
// order. For whole-log walks that would otherwise do all of it on one thread: the auditor's
// verify (replay/ledger_verifier.cc) and the projections' fold (a rebuild or a catch-up,
// RocksEventStore::FoldRange).
//
// A record's chain link needs only its predecessor's stored hash, so batches are checked in any
// order; a damaged record still fails at its own position, and the batches before it are handed
// out whole first.
//
// Thread safety: Next and status are called from one thread (the consumer). Memory: at most
// kVerifyBatchesInFlight batches of kVerifyBatchEvents records are read ahead.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "ledger/event_store.h"

namespace shebao::ledger {

class CheckedBatchReader {
 public:
  struct Batch {
    StoredRecordBatch records;
    // Set by the check: the records that passed (a prefix), their event bytes (aligned, in
    // records.arena), and why the next one failed (corruption naming its position).
    size_t passed = 0;
    std::vector<std::string_view> events;
    Status failure;
    // Filled by the caller's after_check, if any (e.g. Merkle leaf hashes), one per record that
    // passed.
    std::vector<Hash256> digests;

    uint64_t position(size_t i) const { return records.first_position + i; }
    // REQUIRES: i < passed.
    const fb::Event& event(size_t i) const;
    // The stored chain hash of record i. REQUIRES: i < passed.
    Hash256 chain_hash(size_t i) const;
  };

  // Reads what reader reads (owned). after_check, if set, runs on the checking thread for each
  // batch once its records are checked (it must only touch that batch).
  // REQUIRES: reader != nullptr.
  explicit CheckedBatchReader(std::unique_ptr<StoredRecordReader> reader,
                              std::function<void(Batch*)> after_check = nullptr);
  ~CheckedBatchReader();  // stops and joins the reader thread
  CheckedBatchReader(const CheckedBatchReader&) = delete;
  CheckedBatchReader& operator=(const CheckedBatchReader&) = delete;

  // The next batch in position order, checked; nullptr at the end of the range or after a read
  // error (then status() says which). Valid until the next call. A batch with passed <
  // records.size() holds the first failure: the consumer should stop there.
  const Batch* Next();
  // REQUIRES: Next returned nullptr. OK at the end; corruption or io_error otherwise.
  Status status();

 private:
  enum class State : uint8_t { read, checking, checked };
  struct Slot {
    Batch batch;
    State state = State::read;
  };
  void Run();
  Slot* ClaimLocked();
  void CheckUnlocked(Slot* slot, std::unique_lock<std::mutex>* lock);
  void Check(Batch* batch) const;

  std::unique_ptr<StoredRecordReader> reader_;  // used by the reader thread only
  const std::function<void(Batch*)> after_check_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Slot>> queue_;  // in position order; guarded by mu_
  std::vector<std::unique_ptr<Slot>> free_;  // for reuse; guarded by mu_
  std::unique_ptr<Slot> current_;            // handed out by Next; guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  bool reading_done_ = false;                // guarded by mu_
  Status read_status_;                       // guarded by mu_
  std::thread thread_;  // last: starts once everything above is constructed
};

}  // namespace shebao::ledger
