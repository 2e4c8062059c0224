// Signed checkpoints: the agency's Ed25519 signature over (tree size, Merkle root, chain hash,
// time). A checkpoint fixes the log's first `size` events: no later edit, deletion, reordering
// or re-chaining of them can match its root without the agency's private key.
//
// Signed bytes (what the signature covers), 132 bytes:
//   "shebao-checkpoint/1\n"   20 bytes
//   size                      8 bytes, be64: positions 1..size are covered
//   merkle root               32 bytes: RFC 6962 root of the stored bytes of those events
//   chain hash                32 bytes: the hash chain at position size (ARCHITECTURE.md)
//   time_us                   8 bytes, be64 (two's complement): when it was signed, UTC µs
//   public key                32 bytes: the signer's raw Ed25519 key
//
// Text form (files, statements, the audit record "checkpoint/" || be64(size)): one JSON object
//   {"format":"shebao-checkpoint/1","size":N,"root":"<hex>","chain_hash":"<hex>",
//    "time_us":T,"key":"<hex>","key_id":"<hex>","signature":"<hex>"}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/clock.h"
#include "ledger/event_store.h"
#include "replay/signing.h"

namespace shebao::replay {

struct Checkpoint {
  uint64_t size = 0;
  ledger::Hash256 root{};
  ledger::Hash256 chain_hash{};
  int64_t time_us = 0;
  PublicKeyBytes key{};
  Signature signature{};

  bool operator==(const Checkpoint&) const = default;
};

inline constexpr std::string_view kCheckpointFormat = "shebao-checkpoint/1";

// The 132 bytes the signature covers (layout above).
std::string CheckpointSignedBytes(const Checkpoint& checkpoint);

// Signs checkpoint (all fields but signature and key set) with key: sets key and signature.
void SignCheckpoint(const PrivateKey& key, Checkpoint* checkpoint);

// OK if the signature holds and the checkpoint names trusted as its key. Errors: corruption
// ("checkpoint at size N: signature does not verify" / "signed by key X, not Y").
ledger::Status VerifyCheckpointSignature(const Checkpoint& checkpoint, const PublicKey& trusted);

std::string CheckpointToJson(const Checkpoint& checkpoint);
// Parses the text form. Errors: invalid_argument naming the field that is missing or malformed.
ledger::Status CheckpointFromJson(std::string_view json, Checkpoint* out);

// ---- Checkpoints kept beside the log (audit records) ----

// Computes the Merkle root of the log as it is now, signs (size = head position, chain hash =
// head hash, time = clock), and records it with the Merkle block roots computed on the way
// (so later proofs hash at most one block of events). Returns the checkpoint in *out.
// Errors: invalid_argument (empty ledger), corruption (the log fails verification while
// being hashed), io_error.
ledger::Status CreateCheckpoint(ledger::EventStore& store, const PrivateKey& key,
                                ledger::Clock& clock, Checkpoint* out);

// Every recorded checkpoint, by increasing size. Errors: corruption (a malformed record),
// io_error.
ledger::Status LoadCheckpoints(const ledger::EventStore& store, std::vector<Checkpoint>* out);

// The recorded checkpoint with the largest size, or none (*found = false).
ledger::Status LatestCheckpoint(const ledger::EventStore& store, Checkpoint* out, bool* found);

}  // namespace shebao::replay
