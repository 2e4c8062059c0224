// The waiting period before resident medical insurance benefits start, from coverage year 2025
// (国办发〔2024〕38号, General Office of the State Council opinions on continuous enrollment
// incentives and constraints; DOMAIN.md "Money and coverage"):
//   - enrolling outside the concentrated enrollment period (1 September - 31 December of the
//     year before the coverage year), or after a lapse, waits a fixed 3 months;
//   - each lapsed year beyond the first adds a variable month; each extra year paid back removes
//     one variable month;
//   - after a lapse of 4 years or more, fixed + variable is at least 6 months, paid back or not;
//   - no waiting period for newborns enrolled within 90 days of birth (covered from birth),
//     first enrollment through a school, or a civil-affairs low-income certificate.
// Pure functions: no clock, no data files.
#pragma once

#include <string>

#include "ledger/domain/dates.h"

namespace shebao::domain {

// Days after birth within which a newborn's payment makes the coverage start at birth.
inline constexpr int kNewbornEnrollmentDays = 90;
inline constexpr int kFixedWaitingMonths = 3;
inline constexpr int kLongLapseYears = 4;
inline constexpr int kLongLapseWaitingMonthsMin = 6;
// Bound on lapsed_years and paid_back_years (a lifetime).
inline constexpr int kLapseYearsMax = 200;

struct WaitingInput {
  Day payment_day = 0;
  int coverage_year = 0;
  Day birth_day = 0;
  // Payment in 1 September - 31 December of coverage_year - 1 (see InConcentratedPeriod).
  bool in_concentrated_period = false;
  // Consecutive uncovered years just before coverage_year after having been covered at some
  // point; 0 if never covered or continuous.
  int lapsed_years = 0;
  // Extra years paid back to repair the variable waiting period.
  int paid_back_years = 0;
  bool first_enrollment_via_school = false;
  bool low_income_certificate = false;
};

struct WaitingResult {
  int waiting_months = 0;
  // First day benefits are paid: never before 1 January of the coverage year.
  Day effective_day = 0;
  // Why, for the rights record: a stable key, ": ", and an explanation. Keys:
  // newborn, school_first_enrollment, low_income_certificate, lapse,
  // outside_concentrated_period, concentrated_period.
  std::string reason;
};

// True if payment_day is in 1 September - 31 December of coverage_year - 1.
// REQUIRES: kYearMin < coverage_year <= kYearMax.
bool InConcentratedPeriod(Day payment_day, int coverage_year);

// Applies the rules above in this order: exemptions (newborn, school, low-income), lapse,
// outside the concentrated period, else no wait. A newborn (payment_day in birth_day ..
// birth_day + 90) is covered from max(1 January of coverage_year, birth_day). Otherwise
// effective_day = max(1 January of coverage_year, AddMonths(payment_day, waiting_months)),
// AddMonths clamping to the end of a shorter month (31 March + 3 months = 30 June).
// REQUIRES: kYearMin <= coverage_year <= kYearMax;
//           0 <= lapsed_years, paid_back_years <= kLapseYearsMax.
WaitingResult ComputeWaitingPeriod(const WaitingInput& input);

}  // namespace shebao::domain
