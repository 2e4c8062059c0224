#include "ledger/domain/calendar.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>
#include <vector>

#include "ledger/check.h"
#include "ledger/domain/read_file.h"
#include "ledger/sha256.h"

namespace shebao::domain {

namespace fs = std::filesystem;
using ledger::Code;
using ledger::Status;

namespace {

// The year of a file named "<YYYY>.json", or -1 if the name has another shape.
int YearOfFileName(const std::string& name) {
  if (name.size() != 9 || name.substr(4) != ".json") return -1;
  int year = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    year = year * 10 + (name[i] - '0');
  }
  return year;
}

Status Invalid(const std::string& file, const std::string& field, std::string_view what) {
  return Status(Code::invalid_argument, fmt::format("{}: {}: {}", file, field, what));
}

// One file's contribution, before merging.
struct YearFile {
  int year = 0;
  bool published = false;
  std::vector<std::pair<Day, bool>> days;  // (date, isOffDay) in file order
};

Status ParseYearFile(const std::string& name, int file_year, const std::string& text,
                     YearFile* out) {
  simdjson::dom::parser parser;
  const simdjson::padded_string json(text);
  simdjson::dom::element root;
  if (auto err = parser.parse(json).get(root); err) {
    return Status(Code::invalid_argument,
                  fmt::format("{}: not valid JSON: {}", name, simdjson::error_message(err)));
  }
  simdjson::dom::object top;
  if (root.get_object().get(top)) return Invalid(name, "(top)", "not an object");

  simdjson::dom::element field;
  int64_t year = 0;
  if (top.at_key("year").get(field)) return Invalid(name, "year", "missing");
  if (field.get_int64().get(year)) return Invalid(name, "year", "not an integer");
  if (year != file_year) {
    return Invalid(name, "year", fmt::format("{} does not match the file name", year));
  }

  simdjson::dom::array papers;
  if (top.at_key("papers").get(field)) return Invalid(name, "papers", "missing");
  if (field.get_array().get(papers)) return Invalid(name, "papers", "not an array");
  if (papers.size() > kHolidayPapersPerFileMax) {
    return Invalid(name, "papers", fmt::format("more than {} entries", kHolidayPapersPerFileMax));
  }
  size_t index = 0;
  for (simdjson::dom::element paper : papers) {
    std::string_view url;
    if (paper.get_string().get(url)) {
      return Invalid(name, fmt::format("papers[{}]", index), "not a string");
    }
    ++index;
  }

  simdjson::dom::array days;
  if (top.at_key("days").get(field)) return Invalid(name, "days", "missing");
  if (field.get_array().get(days)) return Invalid(name, "days", "not an array");
  if (days.size() > kHolidayDaysPerFileMax) {
    return Invalid(name, "days", fmt::format("more than {} entries", kHolidayDaysPerFileMax));
  }
  YearFile result;
  result.year = file_year;
  result.published = papers.size() > 0 || days.size() > 0;
  index = 0;
  for (simdjson::dom::element entry : days) {
    const std::string at = fmt::format("days[{}]", index);
    simdjson::dom::object day;
    if (entry.get_object().get(day)) return Invalid(name, at, "not an object");
    std::string_view text_value;
    if (day.at_key("name").get(field)) return Invalid(name, at + ".name", "missing");
    if (field.get_string().get(text_value)) return Invalid(name, at + ".name", "not a string");
    if (day.at_key("date").get(field)) return Invalid(name, at + ".date", "missing");
    if (field.get_string().get(text_value)) return Invalid(name, at + ".date", "not a string");
    const std::optional<Day> date = ParseIsoDay(text_value);
    if (!date) return Invalid(name, at + ".date", "not a date");
    const int date_year = ToYmd(*date).year;
    if (date_year < file_year - 1 || date_year > file_year + 1) {
      return Invalid(name, at + ".date",
                     fmt::format("{} is more than a year away from {}", text_value, file_year));
    }
    bool is_off_day = false;
    if (day.at_key("isOffDay").get(field)) return Invalid(name, at + ".isOffDay", "missing");
    if (field.get_bool().get(is_off_day)) {
      return Invalid(name, at + ".isOffDay", "not a boolean");
    }
    result.days.emplace_back(*date, is_off_day);
    ++index;
  }
  *out = std::move(result);
  return Status::OK();
}

std::string ComputeVersion(const std::map<Day, bool>& is_off_day,
                           const std::set<int>& published_years) {
  ledger::Sha256 hasher;
  for (const auto& [day, off] : is_off_day) {
    hasher.Update(fmt::format("{}={}\n", FormatIsoDay(day), off ? "off" : "work"));
  }
  hasher.Update("published=");
  for (int year : published_years) hasher.Update(fmt::format("{},", year));
  const std::string hex = ledger::HexEncode(hasher.Finish());
  const std::string range =
      published_years.empty()
          ? std::string("none")
          : fmt::format("{}-{}", *published_years.begin(), *published_years.rbegin());
  return fmt::format("holiday-cn/{}/sha256:{}", range, hex.substr(0, 16));
}

}  // namespace

Status WorkingDayCalendar::Load(const std::string& dir, WorkingDayCalendar* out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) {
    return Status(Code::not_found, fmt::format("{}: no such directory", dir));
  }
  if (ec) return Status(Code::io_error, fmt::format("{}: {}", dir, ec.message()));

  std::vector<std::pair<int, fs::path>> files;  // (year, path)
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    const int year = YearOfFileName(name);
    if (year < 0) continue;
    if (year < kYearMin || year > kYearMax) {
      return Status(Code::invalid_argument,
                    fmt::format("{}: year outside {}..{}", name, kYearMin, kYearMax));
    }
    files.emplace_back(year, it->path());
  }
  if (ec) return Status(Code::io_error, fmt::format("{}: {}", dir, ec.message()));
  if (files.empty()) {
    return Status(Code::not_found, fmt::format("{}: no <year>.json holiday file", dir));
  }
  SHEBAO_ASSERT(files.size() <= kHolidayYearFilesMax);  // one file per year, years bounded
  std::sort(files.begin(), files.end());

  WorkingDayCalendar calendar;
  std::map<Day, int> source_year;  // date -> year of the file that listed it first
  for (const auto& [year, path] : files) {
    const std::string name = path.filename().string();
    std::string text;
    if (Status s = ReadSmallFile(path, name, kHolidayFileBytesMax, &text); !s.ok()) return s;
    YearFile parsed;
    if (Status s = ParseYearFile(name, year, text, &parsed); !s.ok()) return s;
    if (parsed.published) calendar.published_years_.insert(year);
    for (size_t i = 0; i < parsed.days.size(); ++i) {
      const auto [day, off] = parsed.days[i];
      const auto [entry, inserted] = calendar.is_off_day_.emplace(day, off);
      if (inserted) {
        source_year[day] = year;
        if (off) ++calendar.off_days_;
      } else if (entry->second != off) {
        return Invalid(name, fmt::format("days[{}].isOffDay", i),
                       fmt::format("{} contradicts {}.json", FormatIsoDay(day), source_year[day]));
      }
    }
  }
  calendar.version_ = ComputeVersion(calendar.is_off_day_, calendar.published_years_);
  *out = std::move(calendar);
  return Status::OK();
}

bool WorkingDayCalendar::IsWorkingDay(Day d) const {
  if (auto it = is_off_day_.find(d); it != is_off_day_.end()) return !it->second;
  return Weekday(d) < 5;
}

bool WorkingDayCalendar::IsFinal(Day d) const {
  const Ymd ymd = ToYmd(d);
  if (!published_years_.contains(ymd.year)) return false;
  return ymd.month != 12 || published_years_.contains(ymd.year + 1);
}

WorkingDayCalendar::DueDate WorkingDayCalendar::AddWorkingDays(Day start, int n) const {
  SHEBAO_ASSERT(n >= 1 && n <= kWorkingDaysMax);
  // Any 7 consecutive days hold 5 weekdays, and each holiday entry removes at most one working
  // day, so n working days are found within this many days.
  const int64_t scan_days_max =
      (static_cast<int64_t>(n) + static_cast<int64_t>(off_days_)) * 7 / 5 + 14;
  DueDate due{start, false};
  int counted = 0;
  for (int64_t scanned = 0; counted < n; ++scanned) {
    SHEBAO_ASSERT(scanned < scan_days_max);
    ++due.day;
    if (!IsFinal(due.day)) due.provisional = true;
    if (IsWorkingDay(due.day)) ++counted;
  }
  return due;
}

}  // namespace shebao::domain
