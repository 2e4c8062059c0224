// The JSON form of a person's records: one payment line, one coverage year of the rights
// record. One renderer for the CLI's --format json and for rights statements (replay/), whose
// summary must be byte-for-byte what the fold of its events renders.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ledger/domain/queries.h"

namespace shebao::domain {

// A JSON string literal: s with ", \ and control characters escaped.
// REQUIRES: s is valid UTF-8 (everything the ledger stores is).
std::string JsonString(std::string_view s);

// {"position":..,"kind":..,"date":..,"amount_fen":.., ...}: every field of the line.
std::string PaymentLineJson(const PaymentLine& line);

// {"coverage_year":..,"status":..,"effective_date":.., ...}: the year's rights.
std::string RightsYearJson(const CaseState& year);

// {"payments":[...],"rights":[...]}: a person's whole record, no whitespace.
std::string RecordsJson(const std::vector<PaymentLine>& payments,
                        const std::vector<CaseState>& rights);

}  // namespace shebao::domain
