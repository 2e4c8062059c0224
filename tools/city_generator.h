// A deterministic synthetic city: JSONL commands (docs/commands.md) for `shebao demo --children
// N --seed S` and the benchmarks. Every line is one the ledger accepts when the lines are
// ingested in order, one by one, into a ledger whose next position is options.first_position
// (an empty ledger: 1). The same options always give the same lines, byte for byte.
//
// The city (DOMAIN.md): children enrolled year by year in resident medical insurance through the
// three pathways (about 80 % school, 12 % not in school, 8 % low income; a child keeps its pathway
// every year), by the schools, agencies and civil affairs offices of their household division,
// and employers paying monthly contributions for some of the guardians.
//
// Order. Coverage years first_year..last_year one after the other: every case of year Y (a
// collection reads the child's earlier years for lapses), in child order, then the employer lines
// of the calendar year Y (registrations, monthly declarations and payments, some leavers). Within
// a case the steps follow the pathway and their dates never go back (date_before_previous_step).
//
// Dates. About 92 % of the cases start in the concentrated period (1 September - 20 October of
// the year before, so the premium is collected before 31 December); the others start in
// February - March of the coverage year (outside the period: a waiting period unless exempt).
// About 4 % of the child-years are skipped (a lapse: the next year waits). Certificates are
// collected 45 calendar days after the acceptance of the certificate procedures, which is never
// before the due date of 20 working days (the longest such span in the published schedules,
// across the Spring Festival, is about 37 calendar days; tests/city_generator_test.cc checks it
// against data/holiday-cn).
//
// Incidents per case (independent draws): ~5 % returned for correction once (at the school or
// civil affairs review, or at the agency review), ~3 % a failed collection then a retry, ~0.5 %
// a reversal then a new collection under a new bank reference; and at most one ending: ~1 %
// withdrawn before collection, ~0.5 % refused at a review, ~1 % refunded after collection (the
// case stops there). The rest complete the certificate steps.
//
// Identifiers (all valid: checksums by ids.h):
//   child i     citizen ID: division kCityDivisions[i % 4]; with r = i / 4, sequence number
//               r % 1000 (3 digits; its parity is the sex) and birth date
//               2009-01-01 + ((r / 1000) * 7 + (r % 1000) * 1237) mod 5113 days (i.e. in
//               2009-01-01..2022-12-31). The map is one-to-one for i < kCityChildrenMax (4 x
//               5113 x 1000; 5113 is prime), so child IDs are unique; CityChildId(i) computes it.
//   guardian i  the only guardian of child i: same division and scheme, born
//               1975-01-01 + ((r / 1000) * 7 + (r % 1000) * 2029) mod 7305 days (1975-1994, an
//               adult; 7305 = 3 x 5 x 487 is coprime to 7); unique for the same range of i.
//               Relationship father (odd sequence) or mother (even), ~4 % other_guardian.
//   school s    USCC "12" + kCityDivisions[s % 4] + "MB" + s as 7 digits + check; about one
//               school per 500 children (at least 4, a multiple of 4); child i goes to a school
//               of its own division.
//   employer e  USCC "91" + kCityDivisions[e % 4] + "MA" + e as 7 digits + check; employs the
//               guardians (e * 20 + k) mod children, k < min(20, children).
//   agency, civil affairs office: the child's household division code (its region has a rate
//               in data/premiums.json for 2024-2026).
//   banks       kCityBanks[i % 4] collects child i's premium.
//   bank_ref    "B<year>-<child>-<n>" (n = 1, 2 after a reversal): unique per coverage year;
//               employers "E<employer>-<k>-<yyyy-mm>" (their own claim family).
//   key         "c<seed>-<child>-<year>-<n>" (n counts the case's lines) and
//               "e<seed>-<employer>-<k>-<yyyy-mm>-<r|d|p|x>" (register, declare, pay,
//               deregister): unique per line, and per seed.
//
// Positions. reverse_payment and refund_payment name the collected premium by its global
// position (original_position), which the generator computes by counting the events each line
// appends (collect_premium 3, reverse_payment and refund_payment 2, every other line 1) from
// options.first_position. The lines are therefore valid only ingested in order, every line
// accepted, into a ledger whose head is first_position - 1, with no concurrent writer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace shebao::tools {

// The household divisions of the city (one per region of data/premiums.json): Beijing
// Chaoyang, Shanghai Pudong, Shenzhen Nanshan, Chengdu Wuhou.
inline constexpr std::string_view kCityDivisions[4] = {"110105", "310115", "440305", "510107"};
// Bank codes of the collecting banks (ICBC, ABC, BOC, CCB).
inline constexpr std::string_view kCityBanks[4] = {"102100099996", "103100000026", "104100000004",
                                                   "105100000017"};
// The amounts the city pays: the individual share and the certificate fee of data/premiums.json
// (every region, 2024-2026); employers: base 8000 yuan at 2 %.
inline constexpr int64_t kCityIndividualFen = 40'000;
inline constexpr int64_t kCityCertificateFeeFen = 1'000;
inline constexpr int64_t kCityContributionBaseFen = 800'000;
inline constexpr int64_t kCityContributionRateBp = 200;
inline constexpr int64_t kCityContributionFen = 16'000;
inline constexpr int kCityEmployeesPerEmployer = 20;
// Child IDs (and guardian IDs) are unique below this many children.
inline constexpr uint64_t kCityChildrenMax = 4ull * 5113 * 1000;

struct CityOptions {
  uint64_t children = 1000;
  uint64_t seed = 1;
  int first_year = 2024;  // coverage years; REQUIRES 1901 <= first_year <= last_year <= 2099
  int last_year = 2026;
  uint64_t employers = 0;  // 0 = children / 50, at least 1 (none when there are no children)
  // The global position of the first event the lines append: the ledger's head + 1.
  uint64_t first_position = 1;
};

struct CityStats {
  uint64_t lines = 0;
  uint64_t children = 0;
  uint64_t school = 0, not_in_school = 0, low_income = 0;  // children per pathway
  uint64_t returns = 0, failures = 0, refunds = 0, reversals = 0, withdrawals = 0, refusals = 0,
           employees = 0;
  uint64_t cases = 0;          // applications opened (issue_materials lines)
  uint64_t skipped_years = 0;  // child-years with no application (lapses)
  uint64_t late_cases = 0;     // cases started outside the concentrated period
  uint64_t unpaid_months = 0;  // declared employer contributions left unpaid (arrears)
  uint64_t events = 0;         // events the lines append when all are accepted
};

// Calls emit(line) for each JSONL line (no trailing newline), in an order the ledger accepts.
// Deterministic: same options -> same lines. The line passed to emit is valid only during the
// call. No line is emitted when the year range is invalid.
CityStats GenerateCity(const CityOptions& options,
                       const std::function<void(std::string_view line)>& emit);

// The citizen ID of child i (0-based) of a city, so that a demo can print a real inquiry for it.
// Independent of the seed and the other options.
std::string CityChildId(uint64_t index);

}  // namespace shebao::tools
