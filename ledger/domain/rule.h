// Named rejections of domain commands (TigerStyle: every user error has its own code, never
// one generic "invalid"). Each name is stable: the CLI prints it, docs/commands.md lists it,
// tests match on it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shebao::domain {

enum class Rule : uint8_t {
  ok = 0,
  // Input shape (command parsing).
  json_malformed,
  json_not_object,
  line_too_long,
  utf8_invalid,
  field_missing,
  field_unknown,
  field_type,
  field_empty,
  field_too_long,
  command_unknown,
  // Identifiers.
  citizen_id_length,
  citizen_id_charset,
  citizen_id_checksum,
  citizen_id_birth_date,
  uscc_length,
  uscc_charset,
  uscc_checksum,
  division_code_invalid,
  staff_id_invalid,
  bank_code_invalid,
  // Dates and money.
  date_invalid,
  date_out_of_range,
  amount_not_positive,
  amount_too_large,
  amount_mismatch,
  coverage_year_out_of_range,
  not_a_minor_on_coverage_date,
  premium_rate_unknown,
  month_invalid,
  // Actors and order of steps.
  wrong_actor_for_pathway,
  wrong_actor_for_step,
  wrong_organisation,
  step_out_of_order,
  case_not_found,
  case_already_active,
  case_closed,
  pathway_mismatch,
  child_mismatch,
  // Collection and payments.
  premium_not_collected,
  premium_already_collected,
  collection_account_missing,
  bank_ref_taken,
  payment_not_found,
  payment_already_reversed,
  refund_exceeds_payment,
  withdrawal_after_collection,
  // Certificates.
  certificate_not_requested,
  certificate_before_due_date,
  certificate_fee_unpaid,
  // Overrides.
  override_reason_missing,
  override_not_applicable,
  // Employers.
  employee_not_registered,
  employee_already_registered,
  contribution_not_declared,
  contribution_already_declared,
  contribution_already_paid,
  // Ledger-level refusals surfaced as rejections.
  idempotency_conflict,
  version_conflict,
  // Added after the first list (names are append-only).
  date_before_previous_step,
  reason_missing,
  payer_invalid,
  stream_mismatch,
};

// Stable snake_case name, e.g. "premium_not_collected".
std::string_view RuleName(Rule rule);

// A refused command: the rule, the input field it concerns (dotted path, may be empty) and a
// sentence for the reader.
struct Rejection {
  Rule rule = Rule::ok;
  std::string field;
  std::string message;

  bool ok() const { return rule == Rule::ok; }
  static Rejection None() { return {}; }
};

inline Rejection Reject(Rule rule, std::string field, std::string message) {
  return Rejection{rule, std::move(field), std::move(message)};
}

}  // namespace shebao::domain
