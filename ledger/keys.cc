#include "ledger/keys.h"

#include <cstring>

#include "ledger/check.h"
#include "ledger/constants.h"

namespace shebao::ledger::keys {

void PutBigEndian64(std::string* out, uint64_t value) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  out->append(buf, 8);
}

uint64_t GetBigEndian64(const char* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

std::string EventKey(uint64_t position) {
  SHEBAO_ASSERT(position >= 1);
  std::string key;
  key.reserve(8);
  PutBigEndian64(&key, position);
  return key;
}

std::optional<uint64_t> DecodeEventKey(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  return GetBigEndian64(key.data());
}

std::string StreamHeadKey(std::string_view stream_id) {
  SHEBAO_ASSERT(!stream_id.empty() && stream_id.size() <= kStreamIdBytesMax);
  std::string key;
  key.reserve(1 + stream_id.size() + 8);
  key.push_back(static_cast<char>(stream_id.size()));
  key.append(stream_id);
  return key;
}

std::string StreamVersionKey(std::string_view stream_id, uint64_t version) {
  SHEBAO_ASSERT(version >= 1);
  std::string key = StreamHeadKey(stream_id);
  PutBigEndian64(&key, version);
  return key;
}

std::string EncodeIdempotency(const IdempotencyRecord& record) {
  SHEBAO_ASSERT(record.first_position >= 1 && record.first_position <= record.last_position);
  std::string value;
  value.reserve(16 + kHashBytes);
  PutBigEndian64(&value, record.first_position);
  PutBigEndian64(&value, record.last_position);
  value.append(reinterpret_cast<const char*>(record.content_digest.data()), kHashBytes);
  return value;
}

std::optional<IdempotencyRecord> DecodeIdempotency(std::string_view value) {
  if (value.size() != 16 + kHashBytes) return std::nullopt;
  IdempotencyRecord record;
  record.first_position = GetBigEndian64(value.data());
  record.last_position = GetBigEndian64(value.data() + 8);
  std::memcpy(record.content_digest.data(), value.data() + 16, kHashBytes);
  if (record.first_position < 1 || record.first_position > record.last_position) return std::nullopt;
  return record;
}

std::string EncodeHead(const HeadRecord& head) {
  std::string value;
  value.reserve(8 + kHashBytes + 8);
  PutBigEndian64(&value, head.position);
  value.append(reinterpret_cast<const char*>(head.hash.data()), kHashBytes);
  PutBigEndian64(&value, static_cast<uint64_t>(head.recorded_us));
  return value;
}

std::optional<HeadRecord> DecodeHead(std::string_view value) {
  if (value.size() != 8 + kHashBytes + 8) return std::nullopt;
  HeadRecord head;
  head.position = GetBigEndian64(value.data());
  std::memcpy(head.hash.data(), value.data() + 8, kHashBytes);
  head.recorded_us = static_cast<int64_t>(GetBigEndian64(value.data() + 8 + kHashBytes));
  return head;
}

std::string RebuildProgressKey(uint8_t generation) {
  return std::string(1, static_cast<char>(generation));
}

std::string EncodeGenerationPosition(const GenerationPosition& gp) {
  std::string value(1, static_cast<char>(gp.generation));
  PutBigEndian64(&value, gp.position);
  return value;
}

std::optional<GenerationPosition> DecodeGenerationPosition(std::string_view value) {
  if (value.size() != 9) return std::nullopt;
  return GenerationPosition{static_cast<uint8_t>(value[0]), GetBigEndian64(value.data() + 1)};
}

}  // namespace shebao::ledger::keys
