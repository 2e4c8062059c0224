#include "ledger/domain/employer.h"
#include "ledger/domain/fb_strings.h"

#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/domain/command.h"
#include "ledger/domain/ids.h"

namespace shebao::domain {
namespace {


Rejection NeedEmployer(const EmploymentState& s, const fb::Event& e) {
  const fb::Role role = e.actor() != nullptr ? e.actor()->role() : fb::Role::unknown;
  if (role != fb::Role::employer) {
    return Reject(Rule::wrong_actor_for_step, "actor.role", "done by the employer");
  }
  if (s.registered && View(e.actor()->org_id()) != s.employer_uscc) {
    return Reject(Rule::wrong_organisation, "actor.org", "another employer's employee");
  }
  return Rejection::None();
}

int MonthIndex(int yyyymm) { return (yyyymm / 100) * 12 + (yyyymm % 100) - 1; }

// a + b and a - b, held at the end of the int64 range instead of overflowing: the fold adds
// amounts of stored events, which the rules bound but the store does not.
int64_t AddFen(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}
int64_t SubtractFen(int64_t a, int64_t b) {
  int64_t difference = 0;
  if (!__builtin_sub_overflow(a, b, &difference)) return difference;
  return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

}  // namespace

bool ValidMonth(int yyyymm) {
  const int year = yyyymm / 100, month = yyyymm % 100;
  return year >= kYearMin && year <= kYearMax && month >= 1 && month <= 12;
}

std::string EmploymentStreamId(std::string_view employer_uscc, std::string_view employee_id) {
  return fmt::format("employer/{}/{}", employer_uscc, employee_id);
}

std::string OrgStreamId(std::string_view org_id) { return fmt::format("org/{}", org_id); }

void ApplyEmploymentEvent(EmploymentState* s, const fb::Event& e, uint64_t position) {
  SHEBAO_ASSERT(e.stream_version() == s->version + 1);
  s->version = e.stream_version();
  if (s->stream_id.empty() && e.stream_id() != nullptr) s->stream_id = e.stream_id()->str();
  switch (e.payload_type()) {
    case fb::Payload::EmployeeRegistered: {
      const auto* p = e.payload_as_EmployeeRegistered();
      s->registered = true;
      s->employer_uscc = View(p->employer_uscc());
      s->employee_id = View(p->employee_id());
      s->employee_name = View(p->employee_name());
      s->start_month = p->start_month();
      s->end_month = 0;
      break;
    }
    case fb::Payload::EmployeeDeregistered:
      s->end_month = e.payload_as_EmployeeDeregistered()->end_month();
      break;
    case fb::Payload::ContributionDeclared: {
      const auto* p = e.payload_as_ContributionDeclared();
      auto& m = s->months[p->contribution_month()];
      m.base_fen = p->base_fen();
      m.rate_bp = p->rate_bp();
      m.declared_fen = p->amount_fen();
      m.declared_position = position;
      break;
    }
    case fb::Payload::ContributionPaid: {
      const auto* p = e.payload_as_ContributionPaid();
      auto& m = s->months[p->contribution_month()];
      m.paid_fen = AddFen(m.paid_fen, p->amount_fen());
      m.paid_position = position;
      break;
    }
    default:
      break;
  }
}

Rejection CheckEmploymentEvent(const EmploymentState& s, const fb::Event& e,
                               const RuleContext& ctx) {
  if (auto r = NeedEmployer(s, e); !r.ok()) return r;
  switch (e.payload_type()) {
    case fb::Payload::EmployeeRegistered: {
      const auto* p = e.payload_as_EmployeeRegistered();
      if (s.registered && s.end_month == 0) {
        return Reject(Rule::employee_already_registered, "employee_id",
                      fmt::format("registered since {}", s.start_month));
      }
      if (auto r = CheckOrgUscc(View(p->employer_uscc()), "actor.org", ctx); !r.ok()) return r;
      if (View(p->employer_uscc()) != View(e.actor()->org_id())) {
        return Reject(Rule::wrong_organisation, "actor.org", "an employer registers its own employees");
      }
      if (Rule r = CheckCitizenId(View(p->employee_id())); r != Rule::ok) {
        return Reject(r, "employee_id", "the employee's citizen ID is not valid");
      }
      if (View(p->employee_name()).empty()) {
        return Reject(Rule::field_empty, "employee_name", "required");
      }
      if (!ValidMonth(p->start_month())) {
        return Reject(Rule::month_invalid, "start_month", "a month is yyyymm");
      }
      if (s.registered && p->start_month() <= s.end_month) {
        return Reject(Rule::month_invalid, "start_month", "a new employment starts after the last");
      }
      return Rejection::None();
    }
    case fb::Payload::EmployeeDeregistered: {
      const auto* p = e.payload_as_EmployeeDeregistered();
      if (!s.registered || s.end_month != 0) {
        return Reject(Rule::employee_not_registered, "employee_id", "not currently registered");
      }
      if (!ValidMonth(p->end_month()) || p->end_month() < s.start_month) {
        return Reject(Rule::month_invalid, "end_month", "yyyymm, not before the start month");
      }
      return Rejection::None();
    }
    case fb::Payload::ContributionDeclared: {
      const auto* p = e.payload_as_ContributionDeclared();
      if (!s.registered) {
        return Reject(Rule::employee_not_registered, "employee_id", "register the employee first");
      }
      const int month = p->contribution_month();
      if (!ValidMonth(month) || month < s.start_month || (s.end_month != 0 && month > s.end_month)) {
        return Reject(Rule::month_invalid, "month",
                      fmt::format("{} is outside the employment ({}..{})", month, s.start_month,
                                  s.end_month == 0 ? std::string("now") : std::to_string(s.end_month)));
      }
      if (s.months.contains(month) && s.months.at(month).declared_fen > 0) {
        return Reject(Rule::contribution_already_declared, "month",
                      fmt::format("{} was declared at position {}", month,
                                  s.months.at(month).declared_position));
      }
      if (p->base_fen() <= 0) return Reject(Rule::amount_not_positive, "base_fen", "must be positive");
      // The command's limit; a stored event may hold any int64, and base * rate must not overflow.
      if (p->base_fen() > kAmountFenMax) {
        return Reject(Rule::amount_too_large, "base_fen",
                      fmt::format("at most {} in magnitude", kAmountFenMax));
      }
      if (p->rate_bp() <= 0 || p->rate_bp() > 10'000) {
        return Reject(Rule::field_type, "rate_bp", "a rate in basis points, 1..10000");
      }
      // Rounded half up to the fen.
      const int64_t due = (p->base_fen() * p->rate_bp() + 5'000) / 10'000;
      if (p->amount_fen() != due) {
        return Reject(Rule::amount_mismatch, "amount_fen",
                      fmt::format("base {} fen at {} bp is {} fen", p->base_fen(), p->rate_bp(), due));
      }
      return Rejection::None();
    }
    case fb::Payload::ContributionPaid: {
      const auto* p = e.payload_as_ContributionPaid();
      auto it = s.months.find(p->contribution_month());
      if (it == s.months.end() || it->second.declared_fen == 0) {
        return Reject(Rule::contribution_not_declared, "month", "declare the month first");
      }
      if (it->second.paid_fen >= it->second.declared_fen) {
        return Reject(Rule::contribution_already_paid, "month",
                      fmt::format("paid at position {}", it->second.paid_position));
      }
      if (p->amount_fen() <= 0) return Reject(Rule::amount_not_positive, "amount_fen", "must be positive");
      if (p->amount_fen() != it->second.declared_fen - it->second.paid_fen) {
        return Reject(Rule::amount_mismatch, "amount_fen",
                      fmt::format("{} fen is due", it->second.declared_fen - it->second.paid_fen));
      }
      if (View(p->bank_ref()).empty()) return Reject(Rule::field_empty, "bank_ref", "required");
      return Rejection::None();
    }
    default:
      return Reject(Rule::command_unknown, "command",
                    fmt::format("{} is not an employer event", fb::EnumNamePayload(e.payload_type())));
  }
}

int64_t ArrearsFen(const EmploymentState& s, Day on, int* months_in_arrears) {
  const Ymd today = ToYmd(on);
  const int current = MonthIndex(today.year * 100 + static_cast<int>(today.month));
  int64_t total = 0;
  int count = 0;
  for (const auto& [month, c] : s.months) {
    if (MonthIndex(month) < current && c.paid_fen < c.declared_fen) {
      total = AddFen(total, SubtractFen(c.declared_fen, c.paid_fen));
      ++count;
    }
  }
  if (months_in_arrears != nullptr) *months_in_arrears = count;
  return total;
}

void ApplyOrgEvent(OrgState* s, const fb::Event& e, uint64_t position) {
  SHEBAO_ASSERT(e.stream_version() == s->version + 1);
  s->version = e.stream_version();
  if (e.payload_type() == fb::Payload::OverrideRecorded &&
      e.payload_as_OverrideRecorded()->kind() == fb::OverrideKind::pilot_uscc_checksum) {
    s->pilot_uscc_accepted = true;
    s->pilot_override_position = position;
  }
}

Rejection CheckOrgEvent(const OrgState& s, const fb::Event& e) {
  if (e.payload_type() != fb::Payload::OverrideRecorded) {
    return Reject(Rule::command_unknown, "command", "an organisation stream holds overrides only");
  }
  const auto* p = e.payload_as_OverrideRecorded();
  if (e.actor() == nullptr || e.actor()->role() != fb::Role::agency) {
    return Reject(Rule::wrong_actor_for_step, "actor.role", "overrides are recorded by the agency");
  }
  if (View(p->reason_text()).empty() || View(p->legal_basis()).empty()) {
    return Reject(Rule::override_reason_missing, View(p->reason_text()).empty() ? "reason" : "legal_basis",
                  "an override states its reason and its legal basis");
  }
  if (p->kind() != fb::OverrideKind::pilot_uscc_checksum) {
    return Reject(Rule::override_not_applicable, "kind", "an organisation takes pilot_uscc_checksum");
  }
  const Rule r = CheckUscc(View(p->value()));
  if (r != Rule::uscc_checksum) {
    return Reject(Rule::override_not_applicable, "uscc",
                  r == Rule::ok ? "the USCC passes its checksum: no override is needed"
                                : "only a well-formed code whose checksum fails can be accepted");
  }
  if (s.pilot_uscc_accepted) {
    return Reject(Rule::override_not_applicable, "uscc",
                  fmt::format("already accepted at position {}", s.pilot_override_position));
  }
  return Rejection::None();
}

}  // namespace shebao::domain
