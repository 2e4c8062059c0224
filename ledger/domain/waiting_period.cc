#include "ledger/domain/waiting_period.h"

#include <fmt/format.h>

#include <algorithm>

#include "ledger/check.h"

namespace shebao::domain {

namespace {

Day Jan1(int year) {
  const std::optional<Day> day = DayFromYmd(year, 1, 1);
  SHEBAO_ASSERT(day.has_value());
  return *day;
}

}  // namespace

bool InConcentratedPeriod(Day payment_day, int coverage_year) {
  SHEBAO_ASSERT(coverage_year > kYearMin && coverage_year <= kYearMax);
  const std::optional<Day> first = DayFromYmd(coverage_year - 1, 9, 1);
  SHEBAO_ASSERT(first.has_value());
  return payment_day >= *first && payment_day < Jan1(coverage_year);
}

WaitingResult ComputeWaitingPeriod(const WaitingInput& input) {
  SHEBAO_ASSERT(input.coverage_year >= kYearMin && input.coverage_year <= kYearMax);
  SHEBAO_ASSERT(input.lapsed_years >= 0 && input.lapsed_years <= kLapseYearsMax);
  SHEBAO_ASSERT(input.paid_back_years >= 0 && input.paid_back_years <= kLapseYearsMax);
  const Day year_start = Jan1(input.coverage_year);

  WaitingResult result;
  // Exemptions (国办发〔2024〕38号).
  if (input.payment_day >= input.birth_day &&
      input.payment_day - input.birth_day <= kNewbornEnrollmentDays) {
    result.effective_day = std::max(year_start, input.birth_day);
    result.reason = fmt::format("newborn: paid within {} days of birth, covered from birth",
                                kNewbornEnrollmentDays);
    return result;
  }
  if (input.first_enrollment_via_school) {
    result.effective_day = std::max(year_start, input.payment_day);
    result.reason =
        "school_first_enrollment: first enrollment through a school, no waiting period";
    return result;
  }
  if (input.low_income_certificate) {
    result.effective_day = std::max(year_start, input.payment_day);
    result.reason =
        "low_income_certificate: civil-affairs low-income certificate, no waiting period";
    return result;
  }

  if (input.lapsed_years >= 1) {
    const int variable = std::max(0, input.lapsed_years - 1 - input.paid_back_years);
    int total = kFixedWaitingMonths + variable;
    if (input.lapsed_years >= kLongLapseYears) total = std::max(total, kLongLapseWaitingMonthsMin);
    result.waiting_months = total;
    result.reason = fmt::format(
        "lapse: {} uncovered year(s), {} paid back: {} fixed + {} variable month(s){}",
        input.lapsed_years, input.paid_back_years, kFixedWaitingMonths, variable,
        total > kFixedWaitingMonths + variable
            ? fmt::format(", raised to the minimum of {} after a lapse of {}+ years",
                          kLongLapseWaitingMonthsMin, kLongLapseYears)
            : std::string());
  } else if (!input.in_concentrated_period) {
    result.waiting_months = kFixedWaitingMonths;
    result.reason =
        fmt::format("outside_concentrated_period: {} fixed months", kFixedWaitingMonths);
  } else {
    result.reason = "concentrated_period: paid in the concentrated enrollment period, no waiting";
  }
  result.effective_day =
      std::max(year_start, AddMonths(input.payment_day, result.waiting_months));
  return result;
}

}  // namespace shebao::domain
