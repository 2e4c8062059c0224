// Calendar dates as days since 1970-01-01 (proleptic Gregorian), the unit of every `_day`
// field in the schema. Beijing time (UTC+8) has no daylight saving, so a Beijing calendar
// date is a plain day count.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shebao::domain {

using Day = int32_t;

struct Ymd {
  int year = 1970;
  unsigned month = 1;
  unsigned day = 1;
};

// The earliest and latest dates any command may carry (far past and far future are errors).
inline constexpr int kYearMin = 1900;
inline constexpr int kYearMax = 2100;

// Returns nullopt unless y-m-d is a real date in kYearMin..kYearMax.
std::optional<Day> DayFromYmd(int year, unsigned month, unsigned day);
Ymd ToYmd(Day day);
// Parses exactly "YYYY-MM-DD"; nullopt if malformed or not a real date.
std::optional<Day> ParseIsoDay(std::string_view text);
std::string FormatIsoDay(Day day);
// Parses "YYYY-MM-DDTHH:MM:SS" (Beijing local time, optional "+08:00"); sets *day and
// *second_of_day. Returns false if malformed or not a real date/time.
bool ParseBeijingDateTime(std::string_view text, Day* day, int32_t* second_of_day);
// Adds calendar months, clamping to the last day of a shorter month (Jan 31 + 1 = Feb 28/29).
Day AddMonths(Day day, int months);
// 0 = Monday ... 6 = Sunday.
int Weekday(Day day);
// Beijing calendar date of a UTC microsecond instant.
Day BeijingDayOfUtcMicros(int64_t utc_us);

}  // namespace shebao::domain
