// Helpers shared by the libFuzzer harnesses (fuzz/README.md): a scratch directory that lives as
// long as the process, the versioned data files, and a check that stays on in every build.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "ledger/domain/calendar.h"
#include "ledger/domain/premium_table.h"

// A harness-level invariant: a violation is a finding, reported like a crash.
#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace shebao::fuzz {

// A directory under $TMPDIR (or /tmp), removed with the object (a harness keeps one in a
// static, destroyed when the fuzzer exits; after a crash it stays).
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/shebao-fuzz-XXXXXX";
    FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Replaces the file at path with bytes.
inline void WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  FUZZ_CHECK(out.good());
}

// The project's real data (data/premiums.json, data/holiday-cn/), loaded once: the rules need
// them, and a harness must not depend on the fuzzer for them.
inline const domain::PremiumTable& RealPremiums() {
  static const domain::PremiumTable* table = [] {
    auto* t = new domain::PremiumTable();
    FUZZ_CHECK(domain::PremiumTable::Load(SHEBAO_DATA_DIR "/premiums.json", t).ok());
    return t;
  }();
  return *table;
}

inline const domain::WorkingDayCalendar& RealCalendar() {
  static const domain::WorkingDayCalendar* calendar = [] {
    auto* c = new domain::WorkingDayCalendar();
    FUZZ_CHECK(domain::WorkingDayCalendar::Load(SHEBAO_DATA_DIR "/holiday-cn", c).ok());
    return c;
  }();
  return *calendar;
}

}  // namespace shebao::fuzz
