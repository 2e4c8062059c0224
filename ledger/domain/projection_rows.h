// The byte encoding of projection rows (schema/projections.fbs) and their keys. Encodings are
// deterministic: the same state always gives the same bytes, so a rebuild can be compared with
// the live projections byte for byte.
//
// Keys (inside the store's projections column family, after its generation byte):
//   C/<child id>/<coverage year>        CaseRow        the folded case
//   P/<person id>/<be64 position>       PaymentRow     one line of a payment record
//   E/<employer uscc>/<employee id>     EmploymentRow  one employment and its months
//   Q/<agency code>/<child id>/<year>   QueueRow       an open case in an agency's queue
//   O/<org id>                          OrgRow         overrides about an organisation
#pragma once

#include <string>
#include <string_view>

#include "ledger/domain/case_state.h"
#include "ledger/domain/employer.h"
#include "shebao/projections_generated.h"

namespace shebao::domain {

std::string CaseKey(std::string_view child_id, int coverage_year);
std::string CasePrefix(std::string_view child_id);  // all years of a child
std::string PaymentKey(std::string_view person_id, uint64_t position);
std::string PaymentPrefix(std::string_view person_id);
std::string EmploymentKey(std::string_view employer_uscc, std::string_view employee_id);
std::string EmployerPrefix(std::string_view employer_uscc);
std::string QueueKey(std::string_view agency, std::string_view child_id, int coverage_year);
std::string QueuePrefix(std::string_view agency);
std::string OrgKey(std::string_view org_id);

std::string EncodeCaseState(const CaseState& state);
// Returns false if bytes are not a valid CaseRow.
bool DecodeCaseState(std::string_view bytes, CaseState* state);

std::string EncodeEmploymentState(const EmploymentState& state);
bool DecodeEmploymentState(std::string_view bytes, EmploymentState* state);

std::string EncodeOrgState(const OrgState& state);
bool DecodeOrgState(std::string_view bytes, OrgState* state);

// REQUIRES: the bytes were verified (VerifyPaymentRow / VerifyQueueRow) or written by us.
bool VerifyPaymentRow(std::string_view bytes);
bool VerifyQueueRow(std::string_view bytes);

}  // namespace shebao::domain
