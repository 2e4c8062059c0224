#include "ledger/domain/records_json.h"

#include <fmt/format.h>

#include "ledger/domain/dates.h"

namespace shebao::domain {
namespace {

std::string DayOrEmpty(Day d) { return d == 0 ? "" : FormatIsoDay(d); }

}  // namespace

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string PaymentLineJson(const PaymentLine& l) {
  return fmt::format(
      "{{\"position\":{},\"kind\":\"{}\",\"date\":\"{}\",\"amount_fen\":{},\"payer\":\"{}\","
      "\"payer_id\":{},\"channel\":\"{}\",\"bank_code\":{},\"bank_ref\":{},"
      "\"period_start\":\"{}\",\"period_end\":\"{}\",\"stream\":{},\"original_position\":{},"
      "\"note\":{}}}",
      l.position, fb::EnumNamePaymentKind(l.kind), FormatIsoDay(l.day), l.amount_fen,
      fb::EnumNamePayerKind(l.payer), JsonString(l.payer_id), fb::EnumNameChannel(l.channel),
      JsonString(l.bank_code), JsonString(l.bank_ref), DayOrEmpty(l.period_start_day),
      DayOrEmpty(l.period_end_day), JsonString(l.stream_id), l.original_position,
      JsonString(l.note));
}

std::string RightsYearJson(const CaseState& c) {
  return fmt::format(
      "{{\"coverage_year\":{},\"status\":\"{}\",\"effective_date\":\"{}\",\"waiting_months\":{},"
      "\"expiry_date\":\"{}-12-31\",\"pathway\":\"{}\",\"step\":\"{}\",\"individual_paid_fen\":{},"
      "\"subsidy_fen\":{},\"refunded_fen\":{},\"responsible_agency\":{},\"certificate\":{{"
      "\"no\":{},\"due_date\":\"{}\",\"due_provisional\":{},\"issued_date\":\"{}\"}},"
      "\"case\":{}}}",
      c.coverage_year, fb::EnumNameCoverageStatus(c.coverage), DayOrEmpty(c.coverage_effective_day),
      c.waiting_months, c.coverage_year, fb::EnumNamePathway(c.pathway), StepName(c.step),
      c.premium_fen, c.subsidy_fen, c.refunded_fen, JsonString(c.agency_division_code),
      JsonString(c.certificate_no), DayOrEmpty(c.certificate_due_day),
      c.due_provisional ? "true" : "false", DayOrEmpty(c.certificate_issued_day),
      JsonString(c.stream_id));
}

std::string RecordsJson(const std::vector<PaymentLine>& payments,
                        const std::vector<CaseState>& rights) {
  std::string out = "{\"payments\":[";
  for (size_t i = 0; i < payments.size(); ++i) {
    if (i > 0) out += ',';
    out += PaymentLineJson(payments[i]);
  }
  out += "],\"rights\":[";
  for (size_t i = 0; i < rights.size(); ++i) {
    if (i > 0) out += ',';
    out += RightsYearJson(rights[i]);
  }
  out += "]}";
  return out;
}

}  // namespace shebao::domain
