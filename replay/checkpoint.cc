#include "replay/checkpoint.h"

#include <simdjson.h>
#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/keys.h"
#include "replay/encoding.h"
#include "replay/log_tree.h"

namespace shebao::replay {
namespace {

using ledger::Code;
using ledger::Status;

constexpr std::string_view kRecordPrefix = "checkpoint/";
constexpr size_t kSignedBytes = 20 + 8 + 32 + 32 + 8 + 32;

std::string RecordKey(uint64_t size) {
  std::string key(kRecordPrefix);
  ledger::keys::PutBigEndian64(&key, size);
  return key;
}

Status Bad(std::string_view field, std::string_view why) {
  return Status(Code::invalid_argument, fmt::format("checkpoint field '{}': {}", field, why));
}

template <size_t N>
Status HexField(simdjson::dom::object& o, std::string_view field, std::array<uint8_t, N>* out) {
  std::string_view text;
  if (o[field].get(text) != simdjson::SUCCESS) return Bad(field, "missing or not a string");
  auto v = HexDecode<N>(text);
  if (!v) return Bad(field, fmt::format("not {} lowercase hex digits", 2 * N));
  *out = *v;
  return Status::OK();
}

}  // namespace

std::string CheckpointSignedBytes(const Checkpoint& c) {
  std::string out(kCheckpointFormat);
  out += '\n';
  ledger::keys::PutBigEndian64(&out, c.size);
  out.append(reinterpret_cast<const char*>(c.root.data()), c.root.size());
  out.append(reinterpret_cast<const char*>(c.chain_hash.data()), c.chain_hash.size());
  ledger::keys::PutBigEndian64(&out, static_cast<uint64_t>(c.time_us));
  out.append(reinterpret_cast<const char*>(c.key.data()), c.key.size());
  SHEBAO_ASSERT(out.size() == kSignedBytes);
  return out;
}

void SignCheckpoint(const PrivateKey& key, Checkpoint* c) {
  SHEBAO_ASSERT(key.valid());
  c->key = key.public_key().Raw();
  c->signature = key.Sign(CheckpointSignedBytes(*c));
}

Status VerifyCheckpointSignature(const Checkpoint& c, const PublicKey& trusted) {
  SHEBAO_ASSERT(trusted.valid());
  if (c.key != trusted.Raw()) {
    PublicKey named;
    const std::string id = PublicKey::FromRaw(c.key, &named).ok() ? named.KeyId() : "(invalid)";
    return Status(Code::corruption, fmt::format("checkpoint at size {}: signed by key {}, not {}",
                                                c.size, id, trusted.KeyId()));
  }
  Status s = trusted.Verify(CheckpointSignedBytes(c), c.signature);
  if (!s.ok()) {
    return Status(Code::corruption,
                  fmt::format("checkpoint at size {}: signature does not verify", c.size));
  }
  return Status::OK();
}

std::string CheckpointToJson(const Checkpoint& c) {
  PublicKey key;
  const std::string id = PublicKey::FromRaw(c.key, &key).ok() ? key.KeyId() : "";
  return fmt::format(
      "{{\"format\":\"{}\",\"size\":{},\"root\":\"{}\",\"chain_hash\":\"{}\",\"time_us\":{},"
      "\"key\":\"{}\",\"key_id\":\"{}\",\"signature\":\"{}\"}}",
      kCheckpointFormat, c.size, HexEncode(c.root), HexEncode(c.chain_hash), c.time_us,
      HexEncode(c.key.data(), c.key.size()), id, HexEncode(c.signature.data(), c.signature.size()));
}

Status CheckpointFromJson(std::string_view json, Checkpoint* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return Status(Code::invalid_argument, "checkpoint is not valid JSON");
  }
  simdjson::dom::object o;
  if (doc.get(o) != simdjson::SUCCESS) return Bad("(root)", "not a JSON object");
  std::string_view format;
  if (o["format"].get(format) != simdjson::SUCCESS || format != kCheckpointFormat) {
    return Bad("format", fmt::format("must be \"{}\"", kCheckpointFormat));
  }
  Checkpoint c;
  if (o["size"].get(c.size) != simdjson::SUCCESS || c.size == 0) {
    return Bad("size", "missing or not a positive integer");
  }
  if (o["time_us"].get(c.time_us) != simdjson::SUCCESS) {
    return Bad("time_us", "missing or not an integer");
  }
  if (Status s = HexField(o, "root", &c.root); !s.ok()) return s;
  if (Status s = HexField(o, "chain_hash", &c.chain_hash); !s.ok()) return s;
  if (Status s = HexField(o, "key", &c.key); !s.ok()) return s;
  if (Status s = HexField(o, "signature", &c.signature); !s.ok()) return s;
  *out = c;
  return Status::OK();
}

Status CreateCheckpoint(ledger::EventStore& store, const PrivateKey& key, ledger::Clock& clock,
                        Checkpoint* out) {
  const ledger::Head head = store.head();
  if (head.position == 0) return Status(Code::invalid_argument, "the ledger is empty");
  Checkpoint c;
  c.size = head.position;
  c.chain_hash = head.hash;
  Status s = ExtendBlockRoots(store, c.size, &c.root);
  if (!s.ok()) return s;
  c.time_us = clock.NowMicros();
  SignCheckpoint(key, &c);
  // Assert the record right before writing it: it verifies and reads back the same.
  SHEBAO_ASSERT(VerifyCheckpointSignature(c, key.public_key()).ok());
  const std::string json = CheckpointToJson(c);
  Checkpoint back;
  SHEBAO_ASSERT(CheckpointFromJson(json, &back).ok() && back == c);
  s = store.PutAuditRecords({{RecordKey(c.size), json}});
  if (!s.ok()) return s;
  *out = c;
  return Status::OK();
}

Status LoadCheckpoints(const ledger::EventStore& store, std::vector<Checkpoint>* out) {
  out->clear();
  Status bad;
  Status s = store.ScanAuditRecords(kRecordPrefix, [&](std::string_view key, std::string_view v) {
    Checkpoint c;
    Status p = CheckpointFromJson(v, &c);
    const std::string expected_key = RecordKey(c.size);
    if (!p.ok() || key != expected_key) {
      bad = Status(Code::corruption, fmt::format("checkpoint record is malformed: {}",
                                                 p.ok() ? "key and size differ" : p.message()));
      return false;
    }
    out->push_back(c);
    return true;
  });
  return s.ok() ? bad : s;
}

Status LatestCheckpoint(const ledger::EventStore& store, Checkpoint* out, bool* found) {
  std::vector<Checkpoint> all;
  *found = false;
  Status s = LoadCheckpoints(store, &all);
  if (!s.ok() || all.empty()) return s;
  *out = all.back();
  *found = true;
  return Status::OK();
}

}  // namespace shebao::replay
