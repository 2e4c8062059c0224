#include "ledger/domain/rule.h"

namespace shebao::domain {

std::string_view RuleName(Rule rule) {
  switch (rule) {
    case Rule::ok: return "ok";
    case Rule::json_malformed: return "json_malformed";
    case Rule::json_not_object: return "json_not_object";
    case Rule::line_too_long: return "line_too_long";
    case Rule::utf8_invalid: return "utf8_invalid";
    case Rule::field_missing: return "field_missing";
    case Rule::field_unknown: return "field_unknown";
    case Rule::field_type: return "field_type";
    case Rule::field_empty: return "field_empty";
    case Rule::field_too_long: return "field_too_long";
    case Rule::command_unknown: return "command_unknown";
    case Rule::citizen_id_length: return "citizen_id_length";
    case Rule::citizen_id_charset: return "citizen_id_charset";
    case Rule::citizen_id_checksum: return "citizen_id_checksum";
    case Rule::citizen_id_birth_date: return "citizen_id_birth_date";
    case Rule::uscc_length: return "uscc_length";
    case Rule::uscc_charset: return "uscc_charset";
    case Rule::uscc_checksum: return "uscc_checksum";
    case Rule::division_code_invalid: return "division_code_invalid";
    case Rule::staff_id_invalid: return "staff_id_invalid";
    case Rule::bank_code_invalid: return "bank_code_invalid";
    case Rule::date_invalid: return "date_invalid";
    case Rule::date_out_of_range: return "date_out_of_range";
    case Rule::amount_not_positive: return "amount_not_positive";
    case Rule::amount_too_large: return "amount_too_large";
    case Rule::amount_mismatch: return "amount_mismatch";
    case Rule::coverage_year_out_of_range: return "coverage_year_out_of_range";
    case Rule::not_a_minor_on_coverage_date: return "not_a_minor_on_coverage_date";
    case Rule::premium_rate_unknown: return "premium_rate_unknown";
    case Rule::month_invalid: return "month_invalid";
    case Rule::wrong_actor_for_pathway: return "wrong_actor_for_pathway";
    case Rule::wrong_actor_for_step: return "wrong_actor_for_step";
    case Rule::wrong_organisation: return "wrong_organisation";
    case Rule::step_out_of_order: return "step_out_of_order";
    case Rule::case_not_found: return "case_not_found";
    case Rule::case_already_active: return "case_already_active";
    case Rule::case_closed: return "case_closed";
    case Rule::pathway_mismatch: return "pathway_mismatch";
    case Rule::child_mismatch: return "child_mismatch";
    case Rule::premium_not_collected: return "premium_not_collected";
    case Rule::premium_already_collected: return "premium_already_collected";
    case Rule::collection_account_missing: return "collection_account_missing";
    case Rule::bank_ref_taken: return "bank_ref_taken";
    case Rule::payment_not_found: return "payment_not_found";
    case Rule::payment_already_reversed: return "payment_already_reversed";
    case Rule::refund_exceeds_payment: return "refund_exceeds_payment";
    case Rule::withdrawal_after_collection: return "withdrawal_after_collection";
    case Rule::certificate_not_requested: return "certificate_not_requested";
    case Rule::certificate_before_due_date: return "certificate_before_due_date";
    case Rule::certificate_fee_unpaid: return "certificate_fee_unpaid";
    case Rule::override_reason_missing: return "override_reason_missing";
    case Rule::override_not_applicable: return "override_not_applicable";
    case Rule::employee_not_registered: return "employee_not_registered";
    case Rule::employee_already_registered: return "employee_already_registered";
    case Rule::contribution_not_declared: return "contribution_not_declared";
    case Rule::contribution_already_declared: return "contribution_already_declared";
    case Rule::contribution_already_paid: return "contribution_already_paid";
    case Rule::idempotency_conflict: return "idempotency_conflict";
    case Rule::version_conflict: return "version_conflict";
    case Rule::date_before_previous_step: return "date_before_previous_step";
    case Rule::reason_missing: return "reason_missing";
    case Rule::payer_invalid: return "payer_invalid";
    case Rule::stream_mismatch: return "stream_mismatch";
  }
  return "unknown_rule";
}

}  // namespace shebao::domain
