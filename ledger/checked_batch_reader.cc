#include "ledger/checked_batch_reader.h"

#include "ledger/check.h"
#include "ledger/constants.h"

namespace shebao::ledger {

const fb::Event& CheckedBatchReader::Batch::event(size_t i) const {
  SHEBAO_ASSERT(i < passed);
  return *fb::GetEvent(events[i].data());
}

Hash256 CheckedBatchReader::Batch::chain_hash(size_t i) const {
  SHEBAO_ASSERT(i < passed);
  return records.StoredHash(i);
}

CheckedBatchReader::CheckedBatchReader(std::unique_ptr<StoredRecordReader> reader,
                                       std::function<void(Batch*)> after_check)
    : reader_(std::move(reader)), after_check_(std::move(after_check)), thread_([this] { Run(); }) {
  SHEBAO_ASSERT(reader_ != nullptr);
}

CheckedBatchReader::~CheckedBatchReader() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

const CheckedBatchReader::Batch* CheckedBatchReader::Next() {
  std::unique_lock lock(mu_);
  if (current_ != nullptr) free_.push_back(std::move(current_));
  for (;;) {
    if (!queue_.empty()) {
      if (queue_.front()->state == State::checked) {
        current_ = std::move(queue_.front());
        queue_.pop_front();
        changed_.notify_all();  // room for the reader
        return &current_->batch;
      }
      // The front batch is not checked yet: check it here, or, while the reader thread checks
      // it, a later one.
      if (Slot* mine = ClaimLocked(); mine != nullptr) {
        CheckUnlocked(mine, &lock);
        continue;
      }
    } else if (reading_done_) {
      return nullptr;
    }
    changed_.wait(lock);
  }
}

Status CheckedBatchReader::status() {
  std::lock_guard lock(mu_);
  SHEBAO_ASSERT(reading_done_ && queue_.empty());
  return read_status_;
}

// Reads while there is room, and checks batches while there is not.
void CheckedBatchReader::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stop_) return;
    if (!reading_done_ && queue_.size() < kVerifyBatchesInFlight) {
      std::unique_ptr<Slot> slot;
      if (!free_.empty()) {
        slot = std::move(free_.back());
        free_.pop_back();
      } else {
        slot = std::make_unique<Slot>();
      }
      lock.unlock();
      const bool more = reader_->ReadBatch(kVerifyBatchEvents, &slot->batch.records);
      lock.lock();
      if (more) {
        slot->state = State::read;
        queue_.push_back(std::move(slot));
      } else {
        reading_done_ = true;
        read_status_ = reader_->status();
      }
      changed_.notify_all();
      continue;
    }
    if (Slot* mine = ClaimLocked(); mine != nullptr) {
      CheckUnlocked(mine, &lock);
      continue;
    }
    if (reading_done_) return;
    changed_.wait(lock);
  }
}

// The oldest batch nobody checks yet, now claimed by the caller; nullptr if none.
// REQUIRES: mu_ held.
CheckedBatchReader::Slot* CheckedBatchReader::ClaimLocked() {
  for (auto& slot : queue_) {
    if (slot->state == State::read) {
      slot->state = State::checking;
      return slot.get();
    }
  }
  return nullptr;
}

// REQUIRES: *lock holds mu_ and the caller claimed slot. Holds mu_ again on return.
void CheckedBatchReader::CheckUnlocked(Slot* slot, std::unique_lock<std::mutex>* lock) {
  lock->unlock();
  Check(&slot->batch);
  if (after_check_) after_check_(&slot->batch);
  lock->lock();
  slot->state = State::checked;
  changed_.notify_all();
}

void CheckedBatchReader::Check(Batch* batch) const {
  const size_t n = batch->records.size();
  batch->events.resize(n);
  batch->passed = 0;
  batch->failure = Status::OK();
  for (size_t i = 0; i < n; ++i) {
    Hash256 chain;
    batch->failure = VerifyStoredRecord(batch->position(i), batch->records.PreviousHash(i),
                                        batch->records.record(i), &batch->events[i], &chain);
    if (!batch->failure.ok()) return;
    ++batch->passed;
  }
}

}  // namespace shebao::ledger
