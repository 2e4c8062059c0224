// Identifiers of the actors (docs: /work/shared/DOMAIN.md "Actors and their identifiers"):
// citizen ID numbers (GB 11643-1999; also the social security number, Social Insurance Law
// Art. 58), Unified Social Credit Codes (GB 32100-2015) and administrative division codes
// (GB/T 2260). Every check is a pure function of its input; a failed check returns the named
// Rule of the first problem found, in the order the functions document.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/domain/dates.h"
#include "ledger/domain/rule.h"

namespace shebao::domain {

inline constexpr size_t kCitizenIdLength = 18;
inline constexpr size_t kUsccLength = 18;
inline constexpr size_t kDivisionCodeLength = 6;
// The 31 characters a USCC may contain (GB 32100-2015: digits and upper-case letters without
// I, O, S, V, Z); a character's value is its index.
inline constexpr std::string_view kUsccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";

// Checks a citizen ID number (GB 11643-1999). Returns, in this order:
//   citizen_id_length     unless exactly 18 characters;
//   citizen_id_charset    unless 17 digits followed by a digit or an upper-case 'X'
//                         (a lower-case 'x' is refused: the canonical form is upper case);
//   citizen_id_checksum   unless the ISO 7064 MOD 11-2 check character matches;
//   citizen_id_birth_date unless characters 7-14 are a real date YYYYMMDD in
//                         kYearMin..kYearMax;
//   ok                    otherwise.
// The address code (characters 1-6) is not checked against a list: codes get abolished, and
// 810000/820000/830000 (residence permits of Hong Kong, Macau, Taiwan residents) are valid.
Rule CheckCitizenId(std::string_view id);

// The birth date encoded in a citizen ID; nullopt unless CheckCitizenId(id) is ok.
std::optional<Day> CitizenIdBirthDay(std::string_view id);

// True if a person born on birth_day is under 18 on on_day (DOMAIN.md: "a minor is under 18 on
// the coverage date"). The 18th birthday itself is the first day of adulthood. A person born on
// 29 February becomes an adult on 1 March of the 18th year (a year 18 years after a leap year
// is never a leap year), i.e. is still a minor on 28 February. Days before birth_day count as
// "under 18" too: whether the person exists yet is the caller's check.
bool IsMinorOn(Day birth_day, Day on_day);

// Checks a Unified Social Credit Code (GB 32100-2015). Returns, in this order:
//   uscc_length   unless exactly 18 characters;
//   uscc_charset  unless every character is in kUsccCharset (upper case only);
//   uscc_checksum unless the check character (position 18) matches: weights
//                 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28 over positions 1-17,
//                 r = 31 - (sum mod 31), r = 0 when 31, check = kUsccCharset[r];
//   ok            otherwise.
// Some early pilot codes fail the checksum but are legal (e.g. 91350100M0001TGQXM); accepting
// one is the caller's business (an explicit, recorded override).
Rule CheckUscc(std::string_view code);

// Checks a 6-digit administrative division code. Returns division_code_invalid unless exactly 6
// ASCII digits, the first not '0'; ok otherwise.
Rule CheckDivisionCode(std::string_view code);

// The citizen ID as outputs show it to readers who may not see it: the first 6 and last 4
// characters with 8 '*' between (110105********0010). Anything that is not 18 characters long
// becomes all '*' of the same length (nothing of a malformed ID leaks).
std::string MaskCitizenId(std::string_view id);

// The 18-character USCC whose first 17 characters are first17, with its check character.
// REQUIRES: first17 is 17 characters, each in kUsccCharset.
std::string MakeUscc(std::string_view first17);

// The 18-character citizen ID whose first 17 characters are first17, with its check character.
// REQUIRES: first17 is 17 ASCII digits. (The birth date is not checked: tests use this to build
// IDs with a right checksum and a wrong date.)
std::string MakeCitizenId(std::string_view first17);

}  // namespace shebao::domain
