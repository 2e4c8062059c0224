// Errors are values, never exceptions across module boundaries (LevelDB's Status).
// Each distinct failure has its own named code; its snake_case name is stable and is what the
// CLI prints and what tests match on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shebao::ledger {

enum class Code : uint8_t {
  ok = 0,
  not_found,
  invalid_argument,
  // Append: batch shape.
  batch_empty,
  batch_too_large,          // more than kBatchEventsMax events or kBatchBytesMax bytes
  event_too_large,          // one event over kEventBytesMax
  event_undecodable,        // the bytes are not a valid Event FlatBuffer with identifier SHB1
  envelope_invalid,         // a required envelope field is missing or wrong (names the field)
  stream_id_invalid,        // empty, too long, or not printable ASCII
  idempotency_key_invalid,  // empty, too long, or not printable ASCII
  expectation_missing,      // a stream written by the batch has no expected version
  expectation_unused,       // an expected version names a stream the batch does not write
  // Append: optimistic concurrency and idempotency.
  version_conflict,         // the stream is not at the expected version
  stream_not_found,         // the batch expected the stream to exist
  idempotency_conflict,     // the key was recorded before with different content
  claim_invalid,            // a unique claim is empty, too long, repeated or not printable ASCII
  claim_taken,              // a unique claim is already held by an earlier batch
  // Reads.
  limit_invalid,
  // Storage and integrity.
  corruption,               // stored data fails verification; the message names the position
  io_error,
  ledger_locked,            // another process holds the ledger for writing
  ledger_not_found,
  store_failed,             // an earlier write failed; the store refuses writes until reopened
  interrupted,              // a long operation was stopped by its caller; it can be resumed
  projections_outdated,     // the projections were built by a projector of another layout
};

// Stable snake_case name of a code, e.g. "version_conflict".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "code_name: message", or "ok".
  std::string ToString() const;

 private:
  Code code_ = Code::ok;
  std::string message_;
};

}  // namespace shebao::ledger
