// Ed25519 signing keys through OpenSSL libcrypto (EVP_PKEY_ED25519): the key that signs the
// ledger's checkpoints, and the public key an auditor checks them with.
//
// Contract
// - Ownership: PrivateKey and PublicKey each own one EVP_PKEY (freed when they die); they are
//   movable, not copyable. A default-constructed or moved-from key is empty (!valid()); every
//   other method REQUIRES valid().
// - Threads: const methods may be called from several threads at once.
// - Files: the private key is PEM PKCS#8 ("BEGIN PRIVATE KEY", unencrypted), created with mode
//   0600; the public key is PEM SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"). Key files are
//   never overwritten. Errors name the file:
//     not_found         the file does not exist
//     io_error          it cannot be opened, read, written or synced (with the OS reason)
//     invalid_argument  it is not a PEM Ed25519 key of the expected kind, is larger than
//                       kKeyFileBytesMax, or (when writing) already exists
// - Signatures are plain Ed25519 (RFC 8032, no pre-hash, no context) over the message bytes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/constants.h"
#include "ledger/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace shebao::replay {

using PublicKeyBytes = std::array<uint8_t, ledger::kEd25519PublicKeyBytes>;
using Signature = std::array<uint8_t, ledger::kEd25519SignatureBytes>;

namespace internal {
struct PkeyFree {
  void operator()(evp_pkey_st* key) const;
};
using PkeyPtr = std::unique_ptr<evp_pkey_st, PkeyFree>;
}  // namespace internal

class PublicKey {
 public:
  PublicKey() = default;
  PublicKey(PublicKey&&) noexcept = default;
  PublicKey& operator=(PublicKey&&) noexcept = default;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  // From the 32 raw bytes of an Ed25519 public key. Errors: invalid_argument.
  static ledger::Status FromRaw(const PublicKeyBytes& raw, PublicKey* out);
  // From PEM SubjectPublicKeyInfo text; name is how errors refer to it (e.g. a file name).
  // Errors: invalid_argument.
  static ledger::Status FromPem(std::string_view pem, std::string_view name, PublicKey* out);
  // Reads a PEM SubjectPublicKeyInfo file. Errors: see the contract above.
  static ledger::Status Load(const std::string& path, PublicKey* out);

  bool valid() const { return key_ != nullptr; }

  PublicKeyBytes Raw() const;
  // Hex of the first kKeyIdBytes bytes of SHA-256(Raw()), e.g. "3f9a0c2e71d4b850": for
  // display and for naming the key in messages, not for security decisions.
  std::string KeyId() const;
  // PEM SubjectPublicKeyInfo text.
  std::string ToPem() const;
  // Writes ToPem() to a new file at path (mode 0644 less the umask), synced. Errors: see the
  // contract above; nothing is left behind on failure.
  ledger::Status Write(const std::string& path) const;

  // OK if signature is this key's Ed25519 signature of message; otherwise corruption, naming
  // the key id.
  ledger::Status Verify(std::string_view message, const Signature& signature) const;

 private:
  internal::PkeyPtr key_;
};

class PrivateKey {
 public:
  PrivateKey() = default;
  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;

  // A new random key (OpenSSL's CSPRNG). Errors: io_error if OpenSSL cannot make one.
  static ledger::Status Generate(PrivateKey* out);
  // Reads a PEM PKCS#8 file (unencrypted). Errors: see the contract above.
  static ledger::Status Load(const std::string& path, PrivateKey* out);

  bool valid() const { return key_ != nullptr; }

  // This key's public half.
  PublicKey public_key() const;
  // The Ed25519 signature of message (deterministic: same key and message, same signature).
  Signature Sign(std::string_view message) const;
  // Writes the key as PEM PKCS#8 to a new file at path, created with mode 0600 (whatever the
  // umask), synced. Errors: see the contract above; nothing is left behind on failure.
  ledger::Status Write(const std::string& path) const;

 private:
  internal::PkeyPtr key_;
};

// Generates a key pair and writes it: the private key to private_path (mode 0600), the public
// key to public_path. Checks first that neither file exists and the paths differ
// (invalid_argument); if the second write fails the first file is removed. On OK, *out (if
// not null) holds the new private key.
ledger::Status GenerateKeyPair(const std::string& private_path, const std::string& public_path,
                               PrivateKey* out);

}  // namespace shebao::replay
