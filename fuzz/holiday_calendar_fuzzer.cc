// Harness (c1): the holiday data files, as WorkingDayCalendar::Load reads data/holiday-cn/.
//
// Input: the text of one or more year files, separated by a NUL byte (JSON text holds none).
// Each part is written to a scratch directory as <year>.json, the year taken from the part's
// first "year": <4 digits> (so that a real file keeps its name and loads), else 2026, 2027, ...
// for the first, second, ... part; a part whose year is already taken gets the next free one.
// The loader reads the directory (it has no parse-from-string entry point); a loaded calendar
// is then asked about working days around every published year.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "ledger/domain/calendar.h"
#include "ledger/domain/dates.h"

namespace {

using namespace shebao;

// Parts per input: the real data has 8 year files.
constexpr size_t kPartsMax = 8;

// The year a part names: the 4 digits after its first "year": (spaces allowed), or -1.
int NamedYear(std::string_view part) {
  const size_t key = part.find("\"year\"");
  if (key == std::string_view::npos) return -1;
  size_t at = key + 6;
  while (at < part.size() && (part[at] == ' ' || part[at] == ':')) ++at;
  if (part.size() - at < 4) return -1;
  int year = 0;
  for (size_t i = at; i < at + 4; ++i) {
    if (part[i] < '0' || part[i] > '9') return -1;
    year = year * 10 + (part[i] - '0');
  }
  return year;
}

void Query(const domain::WorkingDayCalendar& calendar) {
  for (int year : calendar.published_years()) {
    FUZZ_CHECK(year >= domain::kYearMin && year <= domain::kYearMax);
    const auto first = domain::DayFromYmd(year, 1, 1);
    const auto last = domain::DayFromYmd(year, 12, 31);
    FUZZ_CHECK(first.has_value() && last.has_value());
    FUZZ_CHECK(calendar.IsFinal(*first));
    for (domain::Day d = *first - 7; d <= *last + 7; d += 5) (void)calendar.IsWorkingDay(d);
    for (domain::Day start : {*first - 1, *first + 40, *last - 10}) {
      for (int n : {1, 20, domain::kWorkingDaysMax}) {
        const auto due = calendar.AddWorkingDays(start, n);
        FUZZ_CHECK(due.day > start);
        FUZZ_CHECK(calendar.IsWorkingDay(due.day));
      }
    }
  }
  FUZZ_CHECK(calendar.version().starts_with("holiday-cn/"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::ScratchDir scratch;  // reused by every input, removed at exit
  const std::filesystem::path dir = scratch.path() / "holiday-cn";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::set<int> taken;
  size_t start = 0;
  for (size_t index = 0; index < kPartsMax && start <= input.size(); ++index) {
    size_t end = input.find('\0', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view part = input.substr(start, end - start);
    start = end + 1;
    int year = NamedYear(part);
    if (year < domain::kYearMin || year > domain::kYearMax) year = 2026 + static_cast<int>(index);
    while (taken.contains(year)) year = year == domain::kYearMax ? domain::kYearMin : year + 1;
    taken.insert(year);
    fuzz::WriteFile(dir / (std::to_string(year) + ".json"), part);
  }

  domain::WorkingDayCalendar calendar;
  const ledger::Status status = domain::WorkingDayCalendar::Load(dir.string(), &calendar);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == ledger::Code::invalid_argument);
    FUZZ_CHECK(calendar.published_years().empty() && calendar.version().empty());
    return 0;
  }
  Query(calendar);
  return 0;
}
