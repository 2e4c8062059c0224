#include "ledger/sha256.h"

// OpenSSL's SHA256_Init/Update/Final, not EVP: the event store and the auditor hash short
// messages millions of times (a chain hash per event read, a Merkle leaf and a node hash per
// event verified), and EVP's per-message dispatch and context wiping cost ~70 ns per hash here
// (measured: 65 bytes 185 ns through EVP, 117 ns direct; 460 bytes 441 vs 362 ns), a fifth of
// `shebao audit verify`'s CPU. Both reach the same SHA-NI code. The functions are deprecated in
// OpenSSL 3.0 in favour of EVP but still part of its API; this file is the only user.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "ledger/check.h"

namespace shebao::ledger {
namespace {

SHA256_CTX* Ctx(unsigned char* state) { return reinterpret_cast<SHA256_CTX*>(state); }

}  // namespace

Sha256::Sha256() {
  static_assert(sizeof(SHA256_CTX) <= kStateBytes && alignof(SHA256_CTX) <= 16);
  SHEBAO_ASSERT(SHA256_Init(Ctx(state_)) == 1);
}

Sha256::~Sha256() = default;  // SHA256_Final wipes the buffered input

void Sha256::Update(const void* data, size_t size) {
  SHEBAO_ASSERT(SHA256_Update(Ctx(state_), data, size) == 1);
}

Hash256 Sha256::Finish() {
  Hash256 out;
  static_assert(SHA256_DIGEST_LENGTH == kHashBytes);
  SHEBAO_ASSERT(SHA256_Final(out.data(), Ctx(state_)) == 1);
  SHEBAO_ASSERT(SHA256_Init(Ctx(state_)) == 1);
  return out;
}

Hash256 ChainHash(const Hash256& previous, std::string_view event_bytes) {
  Sha256 hasher;
  hasher.Update(previous.data(), previous.size());
  hasher.Update(event_bytes);
  return hasher.Finish();
}

std::string HexEncode(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0x0f];
  }
  return out;
}

}  // namespace shebao::ledger
