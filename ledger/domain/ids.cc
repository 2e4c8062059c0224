#include "ledger/domain/ids.h"

#include <array>
#include <chrono>

#include "ledger/check.h"

namespace shebao::domain {

namespace {

// GB 11643-1999 / ISO 7064 MOD 11-2: weights 2^(17-i) mod 11 over the first 17 digits.
constexpr std::array<int, 17> kCitizenIdWeights = {7, 9, 10, 5, 8, 4, 2, 1, 6,
                                                   3, 7, 9, 10, 5, 8, 4, 2};
constexpr std::string_view kCitizenIdCheckChars = "10X98765432";

// GB 32100-2015: weights 3^(i-1) mod 31.
constexpr std::array<int, 17> kUsccWeights = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                              29, 25, 13, 8,  24, 10, 30, 28};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// REQUIRES: first17 holds at least 17 digits.
char CitizenIdCheckChar(std::string_view first17) {
  int sum = 0;
  for (size_t i = 0; i < kCitizenIdWeights.size(); ++i) {
    SHEBAO_ASSERT(IsDigit(first17[i]));
    sum += (first17[i] - '0') * kCitizenIdWeights[i];
  }
  return kCitizenIdCheckChars[static_cast<size_t>(sum % 11)];
}

// Index of c in kUsccCharset, or -1.
int UsccValue(char c) {
  const size_t at = kUsccCharset.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

// REQUIRES: first17 holds at least 17 characters of kUsccCharset.
char UsccCheckChar(std::string_view first17) {
  int sum = 0;
  for (size_t i = 0; i < kUsccWeights.size(); ++i) {
    const int value = UsccValue(first17[i]);
    SHEBAO_ASSERT(value >= 0);
    sum += value * kUsccWeights[i];
  }
  int r = 31 - sum % 31;
  if (r == 31) r = 0;
  return kUsccCharset[static_cast<size_t>(r)];
}

int DigitsValue(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

Rule CheckCitizenId(std::string_view id) {
  if (id.size() != kCitizenIdLength) return Rule::citizen_id_length;
  for (size_t i = 0; i + 1 < kCitizenIdLength; ++i) {
    if (!IsDigit(id[i])) return Rule::citizen_id_charset;
  }
  const char check = id[kCitizenIdLength - 1];
  if (!IsDigit(check) && check != 'X') return Rule::citizen_id_charset;
  if (CitizenIdCheckChar(id) != check) return Rule::citizen_id_checksum;
  const int year = DigitsValue(id.substr(6, 4));
  const int month = DigitsValue(id.substr(10, 2));
  const int day = DigitsValue(id.substr(12, 2));
  if (!DayFromYmd(year, static_cast<unsigned>(month), static_cast<unsigned>(day))) {
    return Rule::citizen_id_birth_date;
  }
  return Rule::ok;
}

std::optional<Day> CitizenIdBirthDay(std::string_view id) {
  if (CheckCitizenId(id) != Rule::ok) return std::nullopt;
  return DayFromYmd(DigitsValue(id.substr(6, 4)),
                    static_cast<unsigned>(DigitsValue(id.substr(10, 2))),
                    static_cast<unsigned>(DigitsValue(id.substr(12, 2))));
}

bool IsMinorOn(Day birth_day, Day on_day) {
  namespace chr = std::chrono;
  const chr::year_month_day birth{chr::sys_days{chr::days{birth_day}}};
  chr::year_month_day adult = (birth.year() + chr::years{18}) / birth.month() / birth.day();
  // Only 29 February can fail here; the 18th year is then never a leap year.
  if (!adult.ok()) adult = adult.year() / chr::March / chr::day{1};
  const auto adult_day = chr::sys_days{adult}.time_since_epoch().count();
  return on_day < adult_day;
}

Rule CheckUscc(std::string_view code) {
  if (code.size() != kUsccLength) return Rule::uscc_length;
  for (char c : code) {
    if (UsccValue(c) < 0) return Rule::uscc_charset;
  }
  if (UsccCheckChar(code) != code[kUsccLength - 1]) return Rule::uscc_checksum;
  return Rule::ok;
}

Rule CheckDivisionCode(std::string_view code) {
  if (code.size() != kDivisionCodeLength || code[0] == '0') return Rule::division_code_invalid;
  for (char c : code) {
    if (!IsDigit(c)) return Rule::division_code_invalid;
  }
  return Rule::ok;
}

std::string MaskCitizenId(std::string_view id) {
  if (id.size() != kCitizenIdLength) return std::string(id.size(), '*');
  std::string masked(id.substr(0, 6));
  masked.append(8, '*');
  masked.append(id.substr(14, 4));
  return masked;
}

std::string MakeUscc(std::string_view first17) {
  SHEBAO_ASSERT(first17.size() == kUsccLength - 1);
  std::string code(first17);
  code.push_back(UsccCheckChar(first17));
  return code;
}

std::string MakeCitizenId(std::string_view first17) {
  SHEBAO_ASSERT(first17.size() == kCitizenIdLength - 1);
  std::string id(first17);
  id.push_back(CitizenIdCheckChar(first17));
  return id;
}

}  // namespace shebao::domain
