// Harness (c2): the premium table, as PremiumTable::Load reads data/premiums.json.
//
// Input: the file's text. It is written to a scratch file (the loader reads a path; it has no
// parse-from-string entry point). A loaded table is asked for the rates of a few division
// codes (province, city, district level, and codes that are not division codes) in every
// year of its range; a rate found must be within the documented limits.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "ledger/domain/premium_table.h"

namespace {

using namespace shebao;

constexpr std::string_view kCodes[] = {"110105", "110100", "110000", "440305", "310115",
                                       "500000", "999999", "012345", "11010",  "1101055",
                                       "",       "11x105"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::ScratchDir scratch;  // reused by every input, removed at exit
  const std::string path = (scratch.path() / "premiums.json").string();
  fuzz::WriteFile(path, std::string_view(reinterpret_cast<const char*>(data), size));

  domain::PremiumTable table;
  const ledger::Status status = domain::PremiumTable::Load(path, &table);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == ledger::Code::invalid_argument);
    FUZZ_CHECK(table.version().empty());
    return 0;
  }
  FUZZ_CHECK(!table.version().empty() && table.version().size() <= domain::kPremiumVersionBytesMax);
  for (std::string_view code : kCodes) {
    for (int year = domain::kPremiumYearMin - 1; year <= domain::kPremiumYearMax + 1; ++year) {
      domain::PremiumTable::Rate rate;
      const domain::Rejection r = table.Lookup(code, year, &rate);
      if (!r.ok()) {
        FUZZ_CHECK(r.rule == domain::Rule::premium_rate_unknown ||
                   r.rule == domain::Rule::division_code_invalid);
        continue;
      }
      FUZZ_CHECK(year >= domain::kPremiumYearMin && year <= domain::kPremiumYearMax);
      for (int64_t amount : {rate.individual_fen, rate.subsidy_fen, rate.certificate_fee_fen}) {
        FUZZ_CHECK(amount >= 0 && amount < domain::kPremiumAmountFenLimit);
      }
      FUZZ_CHECK(rate.region.size() == 6);
    }
  }
  return 0;
}
