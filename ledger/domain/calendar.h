// Working days of the State Council's holiday schedules (DOMAIN.md "Working days").
//
// "N working days after X" does not count X (Civil Code Art. 201: a period counted in days
// starts on the next day). A working day is a make-up working day (调休, which may fall on a
// weekend) or a Monday-Friday that is not a public holiday. The State Council publishes each
// year's schedule around November; a date that depends on a year not yet published is
// provisional and says so.
//
// The data is the holiday-cn project's JSON (one `<year>.json` per year, MIT licence; see
// data/README.md): {"year": 2026, "papers": [notice URLs], "days": [{"name", "date":
// "YYYY-MM-DD", "isOffDay": bool}]}. A file may list dates of the neighbouring year (2023.json
// lists 2022-12-31): entries of all files are merged by date.
//
// Thread-safety: a loaded calendar is immutable; const methods may be called concurrently.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>

#include "ledger/domain/dates.h"
#include "ledger/status.h"

namespace shebao::domain {

// Limits on the input files (checked by Load).
inline constexpr size_t kHolidayFileBytesMax = 1024 * 1024;
inline constexpr size_t kHolidayDaysPerFileMax = 366;
inline constexpr size_t kHolidayPapersPerFileMax = 16;
inline constexpr size_t kHolidayYearFilesMax = kYearMax - kYearMin + 1;
// The longest span AddWorkingDays accepts.
inline constexpr int kWorkingDaysMax = 366;

class WorkingDayCalendar {
 public:
  // An empty calendar: Monday-Friday are working days, nothing is final, version() is "".
  WorkingDayCalendar() = default;

  // Loads every `<YYYY>.json` in dir (other files, e.g. LICENSE, are ignored). On failure
  // *out is unchanged and the status is:
  //   not_found        dir does not exist or holds no year file;
  //   io_error         dir or a file cannot be read;
  //   invalid_argument a file is not valid JSON or breaks the format; the message names the
  //                    file and the field, e.g. "2026.json: days[3].date: not a date". Also
  //                    refused: "year" differing from the file name, a date more than one year
  //                    away from the file's year, one date listed with both isOffDay values,
  //                    a file over kHolidayFileBytesMax or with more than
  //                    kHolidayDaysPerFileMax days.
  // A year is published if its file exists and its "papers" or "days" is non-empty.
  static ledger::Status Load(const std::string& dir, WorkingDayCalendar* out);

  // An explicit entry decides (isOffDay false: a make-up working day, even on a weekend; true:
  // a holiday); otherwise Monday-Friday are working days.
  bool IsWorkingDay(Day d) const;

  // True if the schedule that decides d is published: d's year is published and, for a date in
  // December, the next year too (its New Year or Spring Festival make-up days may reach back
  // into December, e.g. 2022-12-31 is in 2023.json).
  bool IsFinal(Day d) const;

  struct DueDate {
    Day day = 0;
    // True if any day in (start, day] is not final: the date may move when the State Council
    // publishes the missing schedule.
    bool provisional = false;
  };

  // The n-th working day after start; start itself is not counted (Civil Code Art. 201).
  // REQUIRES: 1 <= n <= kWorkingDaysMax.
  DueDate AddWorkingDays(Day start, int n) const;

  // A stable name of the data: "holiday-cn/<first>-<last published year>/sha256:<16 hex>",
  // the hash over the merged (date, isOffDay) entries in date order and the set of published
  // years. The same data always gives the same version, whatever the file order or names.
  const std::string& version() const { return version_; }

  // The published years, in order.
  const std::set<int>& published_years() const { return published_years_; }

 private:
  std::map<Day, bool> is_off_day_;  // explicit entries: date -> isOffDay
  std::set<int> published_years_;
  size_t off_days_ = 0;  // entries with isOffDay true (bounds the scan of AddWorkingDays)
  std::string version_;
};

}  // namespace shebao::domain
