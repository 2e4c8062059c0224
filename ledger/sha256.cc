#include "ledger/sha256.h"

#include <openssl/evp.h>

#include "ledger/check.h"

namespace shebao::ledger {
namespace {

// Fetched once: EVP_MD_fetch is costly, the returned method is immutable and thread-safe.
const EVP_MD* Sha256Method() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    SHEBAO_ASSERT(fetched != nullptr);
    return fetched;
  }();
  return md;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  SHEBAO_ASSERT(ctx_ != nullptr);
  SHEBAO_ASSERT(EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), Sha256Method(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(const void* data, size_t size) {
  SHEBAO_ASSERT(EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size) == 1);
}

Hash256 Sha256::Finish() {
  Hash256 out;
  unsigned int size = 0;
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  SHEBAO_ASSERT(EVP_DigestFinal_ex(ctx, out.data(), &size) == 1);
  SHEBAO_ASSERT(size == kHashBytes);
  SHEBAO_ASSERT(EVP_DigestInit_ex(ctx, Sha256Method(), nullptr) == 1);
  return out;
}

Hash256 ChainHash(const Hash256& previous, std::string_view event_bytes) {
  thread_local Sha256 hasher;
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
