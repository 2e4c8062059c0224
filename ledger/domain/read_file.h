// Reading the small versioned data files (holiday schedules, premium table) with a size limit.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "ledger/status.h"

namespace shebao::domain {

// Reads the whole file at path into *out. name is how errors refer to it. Errors: io_error
// (missing, unreadable, short read), invalid_argument (larger than max_bytes).
ledger::Status ReadSmallFile(const std::filesystem::path& path, const std::string& name,
                             size_t max_bytes, std::string* out);

}  // namespace shebao::domain
