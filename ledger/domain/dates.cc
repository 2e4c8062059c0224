#include "ledger/domain/dates.h"

#include <fmt/format.h>

namespace shebao::domain {

namespace chr = std::chrono;

std::optional<Day> DayFromYmd(int year, unsigned month, unsigned day) {
  if (year < kYearMin || year > kYearMax) return std::nullopt;
  const chr::year_month_day ymd{chr::year{year}, chr::month{month}, chr::day{day}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<Day>(chr::sys_days{ymd}.time_since_epoch().count());
}

Ymd ToYmd(Day day) {
  const chr::year_month_day ymd{chr::sys_days{chr::days{day}}};
  return Ymd{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
             static_cast<unsigned>(ymd.day())};
}

namespace {

bool Digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<Day> ParseIsoDay(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !Digits(text, 0, 4, &y) ||
      !Digits(text, 5, 2, &m) || !Digits(text, 8, 2, &d)) {
    return std::nullopt;
  }
  return DayFromYmd(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::string FormatIsoDay(Day day) {
  const Ymd ymd = ToYmd(day);
  return fmt::format("{:04}-{:02}-{:02}", ymd.year, ymd.month, ymd.day);
}

bool ParseBeijingDateTime(std::string_view text, Day* day, int32_t* second_of_day) {
  if (text.size() == 25 && text.substr(19) == "+08:00") text = text.substr(0, 19);
  int hh = 0, mm = 0, ss = 0;
  if (text.size() != 19 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      !Digits(text, 11, 2, &hh) || !Digits(text, 14, 2, &mm) || !Digits(text, 17, 2, &ss) ||
      hh > 23 || mm > 59 || ss > 59) {
    return false;
  }
  auto d = ParseIsoDay(text.substr(0, 10));
  if (!d) return false;
  *day = *d;
  *second_of_day = hh * 3600 + mm * 60 + ss;
  return true;
}

Day AddMonths(Day day, int months) {
  const chr::year_month_day ymd{chr::sys_days{chr::days{day}}};
  chr::year_month_day moved = ymd + chr::months{months};
  if (!moved.ok()) moved = moved.year() / moved.month() / chr::last;
  return static_cast<Day>(chr::sys_days{moved}.time_since_epoch().count());
}

int Weekday(Day day) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  const int w = (day + 3) % 7;
  return w < 0 ? w + 7 : w;
}

Day BeijingDayOfUtcMicros(int64_t utc_us) {
  const int64_t local_us = utc_us + int64_t{8} * 3600 * 1'000'000;
  constexpr int64_t kDayUs = int64_t{86'400} * 1'000'000;
  const int64_t d = local_us >= 0 ? local_us / kDayUs : (local_us - kDayUs + 1) / kDayUs;
  return static_cast<Day>(d);
}

}  // namespace shebao::domain
