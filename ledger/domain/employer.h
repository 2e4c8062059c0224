// An employer's record of one employee (Social Insurance Law Art. 4: employers and individuals
// may inquire about payment records; individuals may supervise what their employer pays), folded
// from the stream "employer/<employer USCC>/<employee citizen id>", and the rules of its events.
// Also the organisation stream "org/<USCC>", which holds overrides about an organisation.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ledger/domain/case_rules.h"
#include "ledger/domain/rule.h"
#include "shebao/event_generated.h"

namespace shebao::domain {

struct MonthContribution {
  bool operator==(const MonthContribution&) const = default;
  int64_t base_fen = 0;
  int32_t rate_bp = 0;
  int64_t declared_fen = 0;
  int64_t paid_fen = 0;
  uint64_t declared_position = 0;
  uint64_t paid_position = 0;
};

struct EmploymentState {
  std::string stream_id;
  uint64_t version = 0;
  bool registered = false;
  std::string employer_uscc;
  std::string employee_id;
  std::string employee_name;
  int start_month = 0;  // yyyymm
  int end_month = 0;    // yyyymm, 0 while employed
  std::map<int, MonthContribution> months;  // yyyymm -> contribution

  bool operator==(const EmploymentState&) const = default;
};

// REQUIRES: event->stream_version() == state->version + 1.
void ApplyEmploymentEvent(EmploymentState* state, const fb::Event& event, uint64_t position);
Rejection CheckEmploymentEvent(const EmploymentState& state, const fb::Event& event,
                               const RuleContext& ctx);

// "employer/<uscc>/<employee id>".
std::string EmploymentStreamId(std::string_view employer_uscc, std::string_view employee_id);

// Months in arrears on day `on`: declared, not fully paid, and the month has ended.
int64_t ArrearsFen(const EmploymentState& state, Day on, int* months_in_arrears);

// yyyymm -> valid? (year kYearMin..kYearMax, month 1..12)
bool ValidMonth(int yyyymm);

struct OrgState {
  bool operator==(const OrgState&) const = default;
  uint64_t version = 0;
  bool pilot_uscc_accepted = false;
  uint64_t pilot_override_position = 0;
};

// "org/<uscc or division code>".
std::string OrgStreamId(std::string_view org_id);
void ApplyOrgEvent(OrgState* state, const fb::Event& event, uint64_t position);
Rejection CheckOrgEvent(const OrgState& state, const fb::Event& event);

}  // namespace shebao::domain
