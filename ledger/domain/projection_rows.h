// The byte encoding of projection rows (schema/projections.fbs) and their keys. Encodings are
// deterministic: the same state always gives the same bytes, so a rebuild can be compared with
// the live projections byte for byte.
//
// Keys (inside the store's projections column family, after its generation byte):
//   R/<child id>/C/<coverage year>      CaseRow        the folded case
//   R/<person id>/P/<be64 position>     PaymentRow     one line of a payment record
//     (in R/ keys, '%' and '/' of an id are written %25 and %2F: citizen IDs have neither)
//   E/<employer uscc>/<employee id>     EmploymentRow  one employment and its months
//   Q/<agency code>/<child id>/<year>   QueueRow       an open case in an agency's queue
//   O/<org id>                          OrgRow         overrides about an organisation
// A person's rows ("R/<id>/") sit side by side: the rights and payment queries of one person
// read the same data block, and share the prefix Bloom filter's 22-byte prefix
// ("<generation>R/<18-char id>/", rocks_options.h). Layout 1 had "C/<child>/<year>" and
// "P/<person>/<position>"; DomainProjector::layout_version says which one a store holds.
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

// The family of a row from its key: 'C', 'P', 'E', 'Q' or 'O'; '\0' for a key of no family.
char RowFamily(std::string_view key);
// The person (child) id of a case or payment key; empty for any other key.
std::string RowPersonId(std::string_view key);

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
