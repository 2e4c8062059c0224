#include "ledger/domain/read_file.h"

#include <fstream>
#include <system_error>

#include <fmt/format.h>

namespace shebao::domain {

using ledger::Code;
using ledger::Status;

Status ReadSmallFile(const std::filesystem::path& path, const std::string& name, size_t max_bytes,
                     std::string* out) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status(Code::io_error, fmt::format("{}: {}", name, ec.message()));
  if (size > max_bytes) {
    return Status(Code::invalid_argument,
                  fmt::format("{}: {} bytes, more than the limit of {}", name, size, max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::io_error, fmt::format("{}: cannot open", name));
  std::string data(static_cast<size_t>(size), '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<uintmax_t>(in.gcount()) != size) {
    return Status(Code::io_error, fmt::format("{}: short read", name));
  }
  *out = std::move(data);
  return Status::OK();
}

}  // namespace shebao::domain
