// Text encodings of binary values in audit files (checkpoints, statements): lowercase hex for
// hashes, keys and signatures; standard base64 (RFC 4648, with padding) for event bytes.
// Decoders reject anything that is not exactly the canonical form, so one value has one text.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/sha256.h"

namespace shebao::replay {

using ledger::HexEncode;

// Decodes exactly 2 * N lowercase hex digits. nullopt for any other text.
template <size_t N>
std::optional<std::array<uint8_t, N>> HexDecode(std::string_view hex);

std::string Base64Encode(std::string_view bytes);
// nullopt unless text is canonical base64 (padded, no whitespace, no trailing garbage) of at
// most max_bytes bytes.
std::optional<std::string> Base64Decode(std::string_view text, size_t max_bytes);

// ---- implementation ----
namespace internal {
int HexDigit(char c);  // 0..15, or -1 for anything but 0-9a-f
}

template <size_t N>
std::optional<std::array<uint8_t, N>> HexDecode(std::string_view hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    const int hi = internal::HexDigit(hex[2 * i]);
    const int lo = internal::HexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

}  // namespace shebao::replay
