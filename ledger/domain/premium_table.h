// The annual contribution due per region and coverage year (DOMAIN.md "Money and coverage";
// Social Insurance Law Art. 25: resident medical insurance = individual contribution +
// government subsidy). The amounts come from a versioned data file (data/premiums.json), never
// from code:
//
//   {"version": "premiums/2026-1", "source": "...",
//    "rates": [{"region": "110000", "coverage_year": 2025, "individual_fen": 40000,
//               "subsidy_fen": 70000, "certificate_fee_fen": 1000, "source": "..."}]}
//
// Amounts are integer fen. The certificate-making fee is a fee, not a premium: it never counts
// toward coverage.
//
// Region matching: a rate's region ending in "0000" (a province) matches every household
// division code with the same first 2 digits; one ending in "00" (a prefecture-level city) the
// same first 4; any other matches exactly. The most specific matching rate wins.
//
// Thread-safety: a loaded table is immutable; const methods may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "ledger/domain/rule.h"
#include "ledger/status.h"

namespace shebao::domain {

// Limits on the data file (checked by Load).
inline constexpr size_t kPremiumFileBytesMax = 1024 * 1024;
inline constexpr size_t kPremiumRatesMax = 10000;
inline constexpr size_t kPremiumVersionBytesMax = 64;
// Every amount is in 0 .. kPremiumAmountFenLimit - 1 (10 million yuan).
inline constexpr int64_t kPremiumAmountFenLimit = 1'000'000'000;
inline constexpr int kPremiumYearMin = 2000;
inline constexpr int kPremiumYearMax = 2100;

class PremiumTable {
 public:
  struct Rate {
    int64_t individual_fen = 0;       // the insured person's share
    int64_t subsidy_fen = 0;          // the government subsidy
    int64_t certificate_fee_fen = 0;  // certificate-making fee (not a premium)
    std::string region;               // the rate's region code that matched
    std::string source;               // the entry's "source" note (empty if it has none)
  };

  // An empty table: every Lookup fails, version() is "".
  PremiumTable() = default;

  // Loads the file at path. On failure *out is unchanged and the status is:
  //   io_error         the file cannot be read;
  //   invalid_argument not valid JSON, or breaks the format; the message names the entry
  //                    index and field, e.g. "premiums.json: rates[3].subsidy_fen: not an
  //                    integer". Checked: "version" a non-empty string of at most
  //                    kPremiumVersionBytesMax bytes, "source" a string, "rates" an array of
  //                    at most kPremiumRatesMax objects; in each rate "region" passes
  //                    CheckDivisionCode, "coverage_year" an integer in
  //                    kPremiumYearMin..kPremiumYearMax, the three amounts integers in
  //                    0 .. kPremiumAmountFenLimit - 1, "source" (optional) a string, no other
  //                    field, and no two rates with the same (region, coverage_year).
  static ledger::Status Load(const std::string& path, PremiumTable* out);

  // Finds the most specific rate for a household division code and coverage year and sets
  // *out. Returns:
  //   division_code_invalid (field "household_division_code") if the code fails
  //                         CheckDivisionCode;
  //   premium_rate_unknown  (field "household_division_code") if no rate matches;
  //   None()                otherwise.
  // *out is set only on success.
  Rejection Lookup(std::string_view division_code, int coverage_year, Rate* out) const;

  // The file's "version" field, e.g. "premiums/2026-1"; "" before Load.
  const std::string& version() const { return version_; }

 private:
  std::map<std::pair<int, std::string>, Rate> rates_;  // (coverage_year, region) -> rate
  std::string version_;
};

}  // namespace shebao::domain
