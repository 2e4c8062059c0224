// The RocksDB key and value layout of the event store, byte by byte. ARCHITECTURE.md
// ("RocksDB layout") documents the same layout; change both together.
//
// Column family "events":  key = be64(position)                        (8 bytes)
//                          value = event FlatBuffer bytes || chain hash (n + 32 bytes)
// Column family "streams": key = u8(len) || stream_id                  -> be64(current version)
//                          key = u8(len) || stream_id || be64(version) -> be64(position)
// Column family "idempotency": key = idempotency key bytes
//                          value = be64(first position) || be64(last position) || sha256(content)
// Column family "claims": key = claim bytes -> be64(first position of the claiming batch)
// Column family "projections": key = u8(generation) || projector's key -> projector's value
// Column family "meta":    key = "head"   value = be64(position) || chain hash || be64(recorded_us)
//                          key = "format" value = "shebao-ledger/1"
//                          key = "projection" value = u8(active generation) || be64(position)
//                          key = "rebuild" value = u8(target generation) || be64(position done)
//                          key = "audit/" || k  value = the replay module's record k (replay/)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/sha256.h"

namespace shebao::ledger::keys {

inline constexpr std::string_view kEventsFamily = "events";
inline constexpr std::string_view kStreamsFamily = "streams";
inline constexpr std::string_view kIdempotencyFamily = "idempotency";
inline constexpr std::string_view kClaimsFamily = "claims";
inline constexpr std::string_view kProjectionsFamily = "projections";
inline constexpr std::string_view kProjectionKey = "projection";
// A rebuild's progress as earlier versions kept it (in meta, logged). No longer read (an
// interrupted rebuild of an earlier version starts over); the next rebuild's switch deletes it.
// Progress is now RebuildProgressKey's record in the projections family.
inline constexpr std::string_view kRebuildKey = "rebuild";
// Big-endian 64-bit Projector::layout_version of the projections (absent: version 1).
inline constexpr std::string_view kProjectionLayoutKey = "projection-layout";
inline constexpr std::string_view kMetaFamily = "meta";
inline constexpr std::string_view kHeadKey = "head";
inline constexpr std::string_view kFormatKey = "format";
inline constexpr std::string_view kFormatValue = "shebao-ledger/1";
inline constexpr std::string_view kAuditPrefix = "audit/";

void PutBigEndian64(std::string* out, uint64_t value);
// REQUIRES: bytes has at least 8 bytes.
uint64_t GetBigEndian64(const char* bytes);

std::string EventKey(uint64_t position);
// Returns nullopt if key is not 8 bytes.
std::optional<uint64_t> DecodeEventKey(std::string_view key);

// REQUIRES: 1 <= stream_id.size() <= kStreamIdBytesMax.
std::string StreamHeadKey(std::string_view stream_id);
std::string StreamVersionKey(std::string_view stream_id, uint64_t version);

struct IdempotencyRecord {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  Hash256 content_digest{};
};
std::string EncodeIdempotency(const IdempotencyRecord& record);
std::optional<IdempotencyRecord> DecodeIdempotency(std::string_view value);

struct HeadRecord {
  uint64_t position = 0;
  Hash256 hash{};
  int64_t recorded_us = 0;
};
std::string EncodeHead(const HeadRecord& head);
std::optional<HeadRecord> DecodeHead(std::string_view value);

// The projections family's key of a rebuild's progress record for generation (the generation
// byte alone: it sorts before every row of that generation). Present only while a rebuild of
// that generation is under way.
std::string RebuildProgressKey(uint8_t generation);

// The "projection" meta record and the rebuild's progress record: a generation and a position.
struct GenerationPosition {
  uint8_t generation = 0;
  uint64_t position = 0;
};
std::string EncodeGenerationPosition(const GenerationPosition& gp);
std::optional<GenerationPosition> DecodeGenerationPosition(std::string_view value);

}  // namespace shebao::ledger::keys
