// SHA-256 through OpenSSL's libcrypto (hardware SHA extensions where the CPU has them).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/constants.h"

namespace shebao::ledger {

using Hash256 = std::array<uint8_t, kHashBytes>;

// An incremental hasher. Not thread-safe; cheap to construct and to reuse after Finish() (it
// resets itself); no heap allocation.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Returns the digest and resets the hasher for the next message.
  Hash256 Finish();

 private:
  static constexpr size_t kStateBytes = 128;
  alignas(16) unsigned char state_[kStateBytes];  // OpenSSL's SHA256_CTX
};

// The chain hash of an event: SHA-256(previous event's chain hash || event bytes).
Hash256 ChainHash(const Hash256& previous, std::string_view event_bytes);

std::string HexEncode(const uint8_t* data, size_t size);
inline std::string HexEncode(const Hash256& hash) { return HexEncode(hash.data(), hash.size()); }

}  // namespace shebao::ledger
