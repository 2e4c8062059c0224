#include "replay/encoding.h"

#include <openssl/evp.h>

#include "ledger/check.h"

namespace shebao::replay {

int internal::HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  SHEBAO_ASSERT(n >= 0 && static_cast<size_t>(n) == out.size());
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text, size_t max_bytes) {
  if (text.size() % 4 != 0 || text.size() / 4 * 3 > max_bytes + 2) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  // EVP_DecodeBlock ignores leading/trailing whitespace and keeps padding bytes as zeros; the
  // re-encoding check below makes the accepted text canonical.
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  if (out.size() > max_bytes || Base64Encode(out) != text) return std::nullopt;
  return out;
}

}  // namespace shebao::replay
