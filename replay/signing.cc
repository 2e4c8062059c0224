#include "replay/signing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ledger/check.h"
#include "ledger/sha256.h"

namespace shebao::replay {

using ledger::Code;
using ledger::kKeyFileBytesMax;
using ledger::Status;

void internal::PkeyFree::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

namespace {

constexpr mode_t kPrivateKeyMode = 0600;
constexpr mode_t kPublicKeyMode = 0644;

// Drains OpenSSL's thread-local error queue; returns the reason of the last error, if any.
std::string TakeOpenSslError() {
  unsigned long last = 0;
  while (unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return "no OpenSSL reason";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// A passphrase callback that refuses: an encrypted key fails to load instead of prompting.
int NoPassphrase(char*, int, int, void*) { return -1; }

bool IsEd25519(EVP_PKEY* key) { return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519; }

std::string KeyTypeName(EVP_PKEY* key) {
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "of an unknown type";
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  SHEBAO_ASSERT(size > 0 && data != nullptr);
  return std::string(data, static_cast<size_t>(size));
}

// Reads a key file of at most kKeyFileBytesMax bytes.
Status ReadKeyFile(const std::string& path, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status(Code::not_found, fmt::format("{}: key file not found", path));
    return Status(Code::io_error, fmt::format("{}: cannot open key file: {}", path,
                                              std::strerror(errno)));
  }
  std::string data;
  Status status;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Status(Code::io_error, fmt::format("{}: cannot read key file: {}", path,
                                                  std::strerror(errno)));
      break;
    }
    if (n == 0) break;
    if (data.size() + static_cast<size_t>(n) > kKeyFileBytesMax) {
      status = Status(Code::invalid_argument,
                      fmt::format("{}: larger than the key file limit of {} bytes", path,
                                  kKeyFileBytesMax));
      break;
    }
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (status.ok()) *out = std::move(data);
  OPENSSL_cleanse(buf, sizeof buf);
  return status;
}

// Creates path (never replacing a file), writes contents, syncs. mode is set exactly (fchmod),
// or left to the umask when force_mode is false. On failure the file is removed.
Status WriteNewKeyFile(const std::string& path, std::string_view contents, mode_t mode,
                       bool force_mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status(Code::invalid_argument,
                    fmt::format("{}: file exists, refusing to overwrite a key file", path));
    }
    return Status(Code::io_error, fmt::format("{}: cannot create key file: {}", path,
                                              std::strerror(errno)));
  }
  Status status;
  if (force_mode && ::fchmod(fd, mode) != 0) {
    status = Status(Code::io_error, fmt::format("{}: cannot set mode {:o}: {}", path, mode,
                                                std::strerror(errno)));
  }
  size_t done = 0;
  while (status.ok() && done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Status(Code::io_error, fmt::format("{}: cannot write key file: {}", path,
                                                  std::strerror(errno)));
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (status.ok() && ::fsync(fd) != 0) {
    status = Status(Code::io_error, fmt::format("{}: cannot sync key file: {}", path,
                                                std::strerror(errno)));
  }
  if (::close(fd) != 0 && status.ok()) {
    status = Status(Code::io_error, fmt::format("{}: cannot close key file: {}", path,
                                                std::strerror(errno)));
  }
  if (!status.ok()) ::unlink(path.c_str());
  return status;
}

// OK if nothing (not even a dangling link) is at path.
Status CheckAbsent(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    return Status(Code::invalid_argument,
                  fmt::format("{}: file exists, refusing to overwrite a key file", path));
  }
  if (errno != ENOENT) {
    return Status(Code::io_error, fmt::format("{}: cannot check for an existing file: {}", path,
                                              std::strerror(errno)));
  }
  return Status::OK();
}

}  // namespace

// ---- PublicKey ----

Status PublicKey::FromRaw(const PublicKeyBytes& raw, PublicKey* out) {
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size());
  if (key == nullptr) {
    return Status(Code::invalid_argument,
                  fmt::format("not an Ed25519 public key: {}", TakeOpenSslError()));
  }
  out->key_.reset(key);
  return Status::OK();
}

Status PublicKey::FromPem(std::string_view pem, std::string_view name, PublicKey* out) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  SHEBAO_ASSERT(bio != nullptr);
  internal::PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return Status(Code::invalid_argument,
                  fmt::format("{}: not a PEM public key (BEGIN PUBLIC KEY): {}", name,
                              TakeOpenSslError()));
  }
  if (!IsEd25519(key.get())) {
    return Status(Code::invalid_argument, fmt::format("{}: the public key is {}, not Ed25519",
                                                      name, KeyTypeName(key.get())));
  }
  out->key_ = std::move(key);
  return Status::OK();
}

Status PublicKey::Load(const std::string& path, PublicKey* out) {
  std::string pem;
  Status s = ReadKeyFile(path, &pem);
  if (!s.ok()) return s;
  return FromPem(pem, path, out);
}

PublicKeyBytes PublicKey::Raw() const {
  SHEBAO_ASSERT(valid());
  PublicKeyBytes raw;
  size_t size = raw.size();
  SHEBAO_ASSERT(EVP_PKEY_get_raw_public_key(key_.get(), raw.data(), &size) == 1);
  SHEBAO_ASSERT(size == raw.size());
  return raw;
}

std::string PublicKey::KeyId() const {
  const PublicKeyBytes raw = Raw();
  ledger::Sha256 hasher;
  hasher.Update(raw.data(), raw.size());
  const ledger::Hash256 digest = hasher.Finish();
  return ledger::HexEncode(digest.data(), ledger::kKeyIdBytes);
}

std::string PublicKey::ToPem() const {
  SHEBAO_ASSERT(valid());
  BioPtr bio(BIO_new(BIO_s_mem()));
  SHEBAO_ASSERT(bio != nullptr);
  SHEBAO_ASSERT(PEM_write_bio_PUBKEY(bio.get(), key_.get()) == 1);
  return BioContents(bio.get());
}

Status PublicKey::Write(const std::string& path) const {
  return WriteNewKeyFile(path, ToPem(), kPublicKeyMode, /*force_mode=*/false);
}

Status PublicKey::Verify(std::string_view message, const Signature& signature) const {
  SHEBAO_ASSERT(valid());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  SHEBAO_ASSERT(ctx != nullptr);
  SHEBAO_ASSERT(EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1);
  const int verified =
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (verified != 1) {
    ERR_clear_error();
    return Status(Code::corruption,
                  fmt::format("Ed25519 signature does not verify under key {}", KeyId()));
  }
  return Status::OK();
}

// ---- PrivateKey ----

Status PrivateKey::Generate(PrivateKey* out) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) {
    return Status(Code::io_error,
                  fmt::format("Ed25519 key generation failed: {}", TakeOpenSslError()));
  }
  out->key_.reset(key);
  return Status::OK();
}

Status PrivateKey::Load(const std::string& path, PrivateKey* out) {
  std::string pem;
  Status s = ReadKeyFile(path, &pem);
  if (!s.ok()) return s;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  SHEBAO_ASSERT(bio != nullptr);
  internal::PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  OPENSSL_cleanse(pem.data(), pem.size());
  if (key == nullptr) {
    return Status(Code::invalid_argument,
                  fmt::format("{}: not an unencrypted PEM private key (BEGIN PRIVATE KEY): {}",
                              path, TakeOpenSslError()));
  }
  if (!IsEd25519(key.get())) {
    return Status(Code::invalid_argument, fmt::format("{}: the private key is {}, not Ed25519",
                                                      path, KeyTypeName(key.get())));
  }
  out->key_ = std::move(key);
  return Status::OK();
}

PublicKey PrivateKey::public_key() const {
  SHEBAO_ASSERT(valid());
  PublicKeyBytes raw;
  size_t size = raw.size();
  SHEBAO_ASSERT(EVP_PKEY_get_raw_public_key(key_.get(), raw.data(), &size) == 1);
  SHEBAO_ASSERT(size == raw.size());
  PublicKey public_key;
  SHEBAO_ASSERT(PublicKey::FromRaw(raw, &public_key).ok());
  return public_key;
}

Signature PrivateKey::Sign(std::string_view message) const {
  SHEBAO_ASSERT(valid());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  SHEBAO_ASSERT(ctx != nullptr);
  SHEBAO_ASSERT(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1);
  Signature signature;
  size_t size = signature.size();
  SHEBAO_ASSERT(EVP_DigestSign(ctx.get(), signature.data(), &size,
                               reinterpret_cast<const unsigned char*>(message.data()),
                               message.size()) == 1);
  SHEBAO_ASSERT(size == signature.size());
  return signature;
}

Status PrivateKey::Write(const std::string& path) const {
  SHEBAO_ASSERT(valid());
  BioPtr bio(BIO_new(BIO_s_secmem()));
  SHEBAO_ASSERT(bio != nullptr);
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"); no cipher: unencrypted.
  SHEBAO_ASSERT(PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                         nullptr) == 1);
  std::string pem = BioContents(bio.get());
  Status s = WriteNewKeyFile(path, pem, kPrivateKeyMode, /*force_mode=*/true);
  OPENSSL_cleanse(pem.data(), pem.size());
  return s;
}

// ---- Key pairs ----

Status GenerateKeyPair(const std::string& private_path, const std::string& public_path,
                       PrivateKey* out) {
  if (private_path == public_path) {
    return Status(Code::invalid_argument,
                  fmt::format("{}: the private and public key files must differ", private_path));
  }
  Status s = CheckAbsent(private_path);
  if (!s.ok()) return s;
  s = CheckAbsent(public_path);
  if (!s.ok()) return s;
  PrivateKey key;
  s = PrivateKey::Generate(&key);
  if (!s.ok()) return s;
  s = key.Write(private_path);
  if (!s.ok()) return s;
  s = key.public_key().Write(public_path);
  if (!s.ok()) {
    ::unlink(private_path.c_str());
    return s;
  }
  if (out != nullptr) *out = std::move(key);
  return Status::OK();
}

}  // namespace shebao::replay
